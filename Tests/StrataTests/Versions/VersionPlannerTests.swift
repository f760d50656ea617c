import Foundation
import StrataCatalog
import StrataCore
import StrataStore
import XCTest
@testable import Strata

/// The version planner on plain values: no project folder, no catalog.
final class VersionPlannerTests: XCTestCase {
    static func sample(_ id: String, source: String = "chat", modality: String = "text", kind: String = "record",
                       metadata: String = "{}", line: Int? = nil) -> SampleRow {
        SampleRow(id: id, shortId: String(id.prefix(4)), kind: kind, modality: modality, format: "jsonl", size: 10, source: source,
                  collected: "2026-01-01", rawPath: "data/raw/\(source)/rows.jsonl", rawLine: line,
                  originPath: "incoming/rows.jsonl", originLine: line, externalId: nil, metadata: metadata,
                  ingestId: "i1", createdAt: "2026-01-01T00:00:00Z")
    }

    func testCandidatesAreEverySampleWhenNothingWasCleanedAndTheCleanedSetOtherwise() {
        let samples = [Self.sample("c"), Self.sample("a"), Self.sample("b")]
        let raw = VersionPlanner.candidates(samples: samples, cleaned: [])
        XCTAssertEqual(raw.map(\.sample.id), ["a", "b", "c"])
        XCTAssertEqual(raw.map(\.content), ["a", "b", "c"])
        XCTAssertEqual(raw.map(\.transforms), ["[]", "[]", "[]"])
        XCTAssertEqual(raw.map(\.cleanedPath), [nil, nil, nil])

        let cleaned = [
            CleanedSampleRow(sampleId: "c", contentSha: "c2", path: "data/cleaned/x.jsonl", line: 2, transforms: "[\"trim\"]", score: nil, runId: "r1"),
            CleanedSampleRow(sampleId: "gone", contentSha: "g", path: "data/cleaned/x.jsonl", line: 3, transforms: "[]", score: nil, runId: "r1"),
            CleanedSampleRow(sampleId: "a", contentSha: "a2", path: "data/cleaned/x.jsonl", line: 1, transforms: "[]", score: nil, runId: "r1"),
        ]
        let fromCleaned = VersionPlanner.candidates(samples: samples, cleaned: cleaned)
        XCTAssertEqual(fromCleaned.map(\.sample.id), ["a", "c"], "b was cleaned away; `gone` is not a sample")
        XCTAssertEqual(fromCleaned.map(\.content), ["a2", "c2"])
        XCTAssertEqual(fromCleaned.map(\.cleanedLine), [1, 2])
        XCTAssertEqual(fromCleaned[1].transforms, "[\"trim\"]")
    }

    func testNamesAreCheckedAndTheNextFreeNumberIsChosen() throws {
        XCTAssertEqual(try VersionPlanner.name(nil, existing: []), "v1")
        XCTAssertEqual(try VersionPlanner.name(nil, existing: ["v1", "v3", "v2"]), "v4")
        XCTAssertEqual(try VersionPlanner.name(nil, existing: ["base", "v2"]), "v3")
        XCTAssertEqual(try VersionPlanner.name("2026-11_base.1", existing: ["v1"]), "2026-11_base.1")
        for bad in ["", "-x", "a b", "x/y", String(repeating: "a", count: 65)] {
            XCTAssertThrowsError(try VersionPlanner.name(bad, existing: [])) { error in
                XCTAssertEqual("\(error)", "invalid version name `\(bad)`\n  fix: use letters, digits, `-`, `_` and `.`, starting with a letter or digit (e.g. v3, 2026-11-baseline)")
            }
        }
    }

    func testSplitsStickToThePreviousVersionAndKeepGroupsAndDuplicatesTogether() {
        var spec = SplitSpec(ratios: [("train", 0.5), ("test", 0.5)], groupBy: "fields.session")
        let samples = (0..<40).map { i in
            Self.sample(String(format: "s%02d", i), metadata: "{\"fields\":{\"session\":\"g\(i / 4)\"}}")
        }
        let labels = Dictionary(uniqueKeysWithValues: samples.map { ($0.id, "l") })
        // s00 and s39 are in different sessions, but duplicates: `group` joins their units.
        let duplicates: [VersionPlanner.Pair] = [("s00", "s39", "near-duplicate"), ("s01", "absent", "duplicate")]
        let (plan, pairs) = VersionPlanner.assignSplits(samples: samples, labels: labels, spec: spec, duplicates: duplicates, previous: [:])
        XCTAssertEqual(pairs.count, 1, "a pair with a non-member is not the version's")
        XCTAssertEqual(plan.split.count, 40)
        for g in 0..<10 {
            let splits = Set((0..<4).map { plan.split[String(format: "s%02d", g * 4 + $0)]! })
            XCTAssertEqual(splits.count, 1, "session g\(g) spans splits")
        }
        XCTAssertEqual(plan.split["s00"], plan.split["s39"])
        XCTAssertEqual(Set(plan.split.values), ["train", "test"])

        // Sticky: the previous version's assignment wins for every sample it had.
        let previous = Dictionary(uniqueKeysWithValues: samples.prefix(20).map { ($0.id, plan.split[$0.id] == "train" ? "test" : "train") })
        spec.groupBy = nil
        spec.leakage = .report
        let again = VersionPlanner.assignSplits(samples: samples, labels: labels, spec: spec, duplicates: duplicates, previous: previous).plan
        for (id, split) in previous { XCTAssertEqual(again.split[id], split) }
        XCTAssertEqual(again.moved, [])
    }

    func testLeakagePoliciesDropTheLaterSplitOrReport() {
        let spec = SplitSpec(ratios: [("train", 0.8), ("validation", 0.1), ("test", 0.1)], leakage: .drop)
        let split = ["a": "test", "b": "train", "c": "validation", "d": "test", "e": "train", "f": "train"]
        let pairs: [VersionPlanner.Pair] = [("b", "a", "duplicate"), ("c", "d", "near-duplicate"), ("e", "f", "duplicate"),
                                            ("a", "c", "near-duplicate")]
        let dropped = VersionPlanner.leakage(pairs: pairs, split: split, spec: spec)
        XCTAssertEqual(dropped.pairs, [
            // Sorted by (a, b); ("a", "c") is skipped once `a` is gone.
            LeakagePair(a: "a", b: "c", kind: "near-duplicate", splits: ["test", "validation"], resolution: "dropped:a"),
            LeakagePair(a: "c", b: "d", kind: "near-duplicate", splits: ["validation", "test"], resolution: "dropped:d"),
        ])
        XCTAssertEqual(dropped.dropped, ["a", "d"])

        var report = spec
        report.leakage = .report
        let reported = VersionPlanner.leakage(pairs: pairs, split: split, spec: report)
        XCTAssertEqual(reported.dropped, [])
        XCTAssertEqual(reported.pairs.map(\.resolution), ["reported", "reported", "reported"])
        XCTAssertEqual(reported.pairs.map { "\($0.a)-\($0.b)" }, ["a-c", "b-a", "c-d"])
    }

    func planner(exclusion: VersionPlanner.Exclusion = .init()) -> VersionPlanner {
        VersionPlanner(spec: SplitSpec(ratios: [("train", 0.5), ("test", 0.5)], leakage: .drop), projectName: "demo",
                       parentId: "p1", specs: ["strata.yaml": "d1"], runs: ["r1"], exclusion: exclusion)
    }

    func testThePlanIsTheManifestItsIdAndTheMembers() throws {
        let candidates = [
            VersionPlanner.Candidate(sample: Self.sample("a", line: 1), content: "ca", transforms: "[\"trim\"]", cleanedPath: nil, cleanedLine: nil),
            VersionPlanner.Candidate(sample: Self.sample("b", line: 2), content: "cb", transforms: "[]", cleanedPath: nil, cleanedLine: nil),
            VersionPlanner.Candidate(sample: Self.sample("c", source: "mail", line: 3), content: "cc", transforms: "[]", cleanedPath: nil, cleanedLine: nil),
        ]
        let labels = VersionPlanner.Labels(human: ["a": "x"], unresolved: ["c"], pending: ["a"], pseudo: ["b": "y"], pseudoExcludedFromTest: [])
        let plan = planner().plan(candidates: candidates, split: ["a": "train", "b": "test", "c": "train"], moved: 0,
                                  pairs: [], labels: labels, splitsFrom: "v1")
        let labelSet = FileIO.sha256(Array(#"{"labels":[["a","x"],["b","y","pseudo"],["c",null]],"method":"\#(VersionLabels.method)"}"#.utf8))
        let expected = #"{"format":"strata.version/1","labels":{"id":"\#(labelSet)","method":"\#(VersionLabels.method)"},"parent":"p1","project":"demo","runs":["r1"],"#
            + #""samples":[{"content":"ca","id":"a","label":"x","origin":"incoming/rows.jsonl:1","raw":"data/raw/chat/rows.jsonl:1","split":"train","transforms":["trim"]},"#
            + #"{"content":"cb","id":"b","label":"y","label_source":"pseudo","origin":"incoming/rows.jsonl:2","raw":"data/raw/chat/rows.jsonl:2","split":"test","transforms":[]},"#
            + #"{"content":"cc","id":"c","label":null,"origin":"incoming/rows.jsonl:3","raw":"data/raw/mail/rows.jsonl:3","split":"train","transforms":[]}],"#
            + #""specs":{"strata.yaml":"d1"},"splits":{"leakage":"drop","ratios":[{"name":"train","share":0.5},{"name":"test","share":0.5}],"seed":"strata","stratify":true}}"#
        XCTAssertEqual(String(decoding: plan.manifest, as: UTF8.self), expected)
        XCTAssertEqual(plan.id, FileIO.sha256(plan.manifest))
        XCTAssertEqual(plan.labelSetId, labelSet)
        XCTAssertEqual(plan.members, [
            VersionMemberRow(versionId: plan.id, sampleId: "a", contentSha: "ca", label: "x", split: "train", transforms: "[\"trim\"]"),
            VersionMemberRow(versionId: plan.id, sampleId: "b", contentSha: "cb", label: "y", split: "test", transforms: "[]"),
            VersionMemberRow(versionId: plan.id, sampleId: "c", contentSha: "cc", label: nil, split: "train", transforms: "[]"),
        ])
        let s = plan.summary
        XCTAssertEqual(s.splits, ["train": 2, "test": 1])
        XCTAssertEqual(s.labels, ["x": 1, "y": 1, "(none)": 1])
        XCTAssertEqual(s.splitLabels, ["train": ["x": 1, "(none)": 1], "test": ["y": 1]])
        XCTAssertEqual(s.sources, ["chat": 2, "mail": 1])
        XCTAssertEqual(s.unresolvedLabels, 1)
        XCTAssertEqual(s.pendingLabels, 1)
        XCTAssertEqual(s.pseudoLabels, 1)
        XCTAssertNil(s.pseudoExcludedFromTest)
        XCTAssertEqual(s.splitsFrom, "v1")
        XCTAssertNil(s.excludedFindings)
    }

    func testLeakageDropsAMemberAndBecomesAFinding() {
        let candidates = ["a", "b", "c"].map {
            VersionPlanner.Candidate(sample: Self.sample($0), content: $0, transforms: "[]", cleanedPath: nil, cleanedLine: nil)
        }
        let plan = planner().plan(candidates: candidates, split: ["a": "train", "b": "test", "c": "test"], moved: 2,
                                  pairs: [("a", "b", "near-duplicate")], labels: .init(), splitsFrom: nil)
        XCTAssertEqual(plan.members.map(\.sampleId), ["a", "c"])
        XCTAssertEqual(plan.summary.leakage, [LeakagePair(a: "a", b: "b", kind: "near-duplicate", splits: ["train", "test"], resolution: "dropped:b")])
        XCTAssertEqual(plan.summary.movedForGroups, 2)
        let findings = VersionPlanner.leakageFindings(plan, versionName: "v2", now: "2026-12-01T00:00:00Z")
        XCTAssertEqual(findings, [
            FindingRow(key: Workspace.shortHash("leakage", plan.id, "a", "b"), kind: "leakage", stage: "version", sampleId: "a", origin: nil,
                       line: nil, relatedSampleId: "b", reason: "near-duplicate across splits train/test in version v2: dropped:b",
                       runId: nil, createdAt: "2026-12-01T00:00:00Z"),
        ])
    }

    func testExclusionsAreInTheManifestOnlyWhenAskedFor() {
        let candidates = ["a", "b"].map {
            VersionPlanner.Candidate(sample: Self.sample($0), content: $0, transforms: "[]", cleanedPath: nil, cleanedLine: nil)
        }
        let split = ["a": "train", "b": "test"]
        let plain = planner().plan(candidates: candidates, split: split, moved: 0, pairs: [], labels: .init(), splitsFrom: nil)
        XCTAssertFalse(String(decoding: plain.manifest, as: UTF8.self).contains("excluded"))
        let exclusion = VersionPlanner.Exclusion(ids: ["z", "q"], byKind: ["label-issue": ["z", "q"]],
                                                 summary: [ExcludedFindings(kind: "label-issue", samples: 2, reason: "user request")])
        let excluded = planner(exclusion: exclusion).plan(candidates: candidates, split: split, moved: 0, pairs: [], labels: .init(), splitsFrom: nil)
        XCTAssertTrue(String(decoding: excluded.manifest, as: UTF8.self)
            .hasPrefix(#"{"excluded":[{"kind":"label-issue","reason":"user request","samples":["q","z"]}],"format":"strata.version/1""#))
        XCTAssertNotEqual(plain.id, excluded.id)
        XCTAssertEqual(excluded.summary.excludedFindings, exclusion.summary)
        XCTAssertEqual(excluded.members.map(\.sampleId), ["a", "b"], "the executor removes excluded candidates before planning")
    }

    func testThePlanIsDeterministic() {
        let candidates = (0..<50).map {
            VersionPlanner.Candidate(sample: Self.sample(String(format: "s%02d", $0)), content: "c\($0)", transforms: "[]", cleanedPath: nil, cleanedLine: nil)
        }
        let split = Dictionary(uniqueKeysWithValues: candidates.map { ($0.sample.id, $0.content.count % 2 == 0 ? "train" : "test") })
        let a = planner().plan(candidates: candidates, split: split, moved: 0, pairs: [], labels: .init(), splitsFrom: nil)
        let b = planner().plan(candidates: candidates, split: split, moved: 0, pairs: [], labels: .init(), splitsFrom: nil)
        XCTAssertEqual(a.manifest, b.manifest)
        XCTAssertEqual(a.id, b.id)
    }

    func testDiffNamesChangesAndCountsBothSides() {
        func m(_ id: String, _ label: String?, _ split: String, content: String? = nil) -> VersionMemberRow {
            VersionMemberRow(versionId: "x", sampleId: id, contentSha: content ?? id, label: label, split: split, transforms: "[]")
        }
        let a = [m("s1", "x", "train"), m("s2", "y", "train"), m("s3", nil, "test"), m("gone", "x", "test")]
        let b = [m("s1", "y", "train"), m("s2", "y", "test", content: "s2-cleaned"), m("s3", nil, "test"), m("new", "x", "train")]
        let samples = Dictionary(uniqueKeysWithValues: ["s1", "s2", "s3", "new"].map { ($0, Self.sample($0, source: $0 == "new" ? "mail" : "chat")) })
        let d = VersionDiff(from: "v1", members: a, to: "v2", members: b, samples: samples,
                            findingKinds: [("s3", "empty"), ("gone", "duplicate"), ("new", "duplicate")])
        XCTAssertEqual(d.from, "v1")
        XCTAssertEqual(d.to, "v2")
        XCTAssertEqual(d.added, ["new"])
        XCTAssertEqual(d.removed, ["gone"], "a sample no longer in the catalog shows its id's first 12 characters")
        XCTAssertEqual(d.relabeled.map { "\($0.sample):\($0.from ?? "-")>\($0.to ?? "-")" }, ["s1:x>y"])
        XCTAssertEqual(d.contentChanged, ["s2"])
        XCTAssertEqual(d.splitChanged, ["s2"])
        XCTAssertEqual(d.labels, ["x": [2, 1], "y": [1, 2], "(none)": [1, 1]])
        XCTAssertEqual(d.splits, ["train": [2, 2], "test": [2, 2]])
        XCTAssertEqual(d.sources, ["chat": [3, 3], "mail": [0, 1]], "`gone` has no sample row: not counted by source")
        XCTAssertEqual(d.findings, ["empty": [1, 1], "duplicate": [1, 1]])
    }
}
