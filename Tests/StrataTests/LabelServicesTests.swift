import Foundation
@testable import StrataCatalog
import StrataCore
import XCTest
@testable import Strata

/// The labeling context's pure parts, without a disk: the queue's rules, submission rules, consensus votes,
/// rulebook review findings, import planning, and the desk's clock, gate and item memory.
final class LabelServicesTests: XCTestCase {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func rulebook() throws -> RulebookSpec { try RulebookSpec.decode(yaml: LabelProject.rulebook, file: "rulebook.yaml") }

    static func event(_ id: Int64, _ sample: String, _ annotator: String, _ status: String, _ value: String?, role: String = "tasker",
                      source: String = "human", version: String? = nil, at: String = "2026-03-01T00:00:00Z") -> LabelEventRow {
        var e = LabelEventRow(sampleId: sample, status: status, value: value, reason: status == "label" ? nil : "why", annotator: annotator,
                              role: role, source: source, rulebookVersion: version, importKey: nil, createdAt: at)
        e.id = id
        return e
    }

    // MARK: queue

    static func snapshot(_ ids: [String], gold: [String] = [], assignments: [QueueAssignmentRow] = []) -> QueueSnapshot {
        QueueSnapshot(samples: ids.enumerated().map { QueueSnapshot.Sample(id: $1, seq: Int64($0), taken: 0, priority: nil) },
                      assignments: assignments, gold: gold)
    }

    func testQueueGivesEachSampleToKAnnotatorsInOrderAndNeverTwiceToOne() {
        var q = QueueState(snapshot: Self.snapshot(["s0", "s1", "s2"]), k: 2, goldRate: 0, claimTimeout: nil)
        XCTAssertEqual(q.claim(annotator: "ana", now: Self.t0), .new(QueueClaim(sampleId: "s0", annotator: "ana", gold: false)))
        XCTAssertEqual(q.claim(annotator: "ana", now: Self.t0), .existing("s0"), "an unanswered claim is handed out again")
        q.answered(sampleId: "s0", annotator: "ana")
        XCTAssertEqual(q.claim(annotator: "ana", now: Self.t0), .new(QueueClaim(sampleId: "s1", annotator: "ana", gold: false)))
        XCTAssertEqual(q.claim(annotator: "bob", now: Self.t0), .new(QueueClaim(sampleId: "s0", annotator: "bob", gold: false)))
        XCTAssertEqual(q.claim(annotator: "cy", now: Self.t0), .new(QueueClaim(sampleId: "s1", annotator: "cy", gold: false)),
                       "s0 is full (k = 2): cy gets s1")
        XCTAssertEqual(q.counts(annotator: "ana").done, 1)
        XCTAssertEqual(q.counts(annotator: "ana").remaining, 1, "only s2 still waits for an annotator")
        XCTAssertTrue(q.holds(annotator: "bob", sampleId: "s0"))
        XCTAssertFalse(q.holds(annotator: "bob", sampleId: "s1"))
        // A claim whose write failed is forgotten: the slot is free again.
        q.forget(QueueClaim(sampleId: "s1", annotator: "cy", gold: false))
        XCTAssertEqual(q.counts(annotator: "cy").remaining, 2)
        XCTAssertEqual(q.claim(annotator: "cy", now: Self.t0), .new(QueueClaim(sampleId: "s1", annotator: "cy", gold: false)))
    }

    func testQueueMixesInGoldAtTheGoldRate() {
        var q = QueueState(snapshot: Self.snapshot(["s0", "s1", "s2"], gold: ["g0"]), k: 1, goldRate: 0.5, claimTimeout: nil)
        var handed: [String] = []
        while case .new(let c)? = q.claim(annotator: "ana", now: Self.t0) {
            handed.append(c.gold ? "gold:" + c.sampleId : c.sampleId)
            q.answered(sampleId: c.sampleId, annotator: "ana")
        }
        XCTAssertEqual(handed, ["s0", "gold:g0", "s1", "s2"], "every second assignment is gold while a gold sample is left")
    }

    func testExpiredClaimsGoBackToTheQueueAfterTheTimeout() {
        var q = QueueState(snapshot: Self.snapshot(["s0", "s1"]), k: 1, goldRate: 0, claimTimeout: 10)
        XCTAssertEqual(q.claim(annotator: "ana", now: Self.t0), .new(QueueClaim(sampleId: "s0", annotator: "ana", gold: false)))
        XCTAssertEqual(q.takeExpired(now: Self.t0.addingTimeInterval(9)), [])
        let expired = q.takeExpired(now: Self.t0.addingTimeInterval(10))
        XCTAssertEqual(expired, [QueueClaim(sampleId: "s0", annotator: "ana", gold: false)])
        XCTAssertEqual(q.takeExpired(now: Self.t0.addingTimeInterval(10.5)), [], "at most one sweep per interval")
        q.released(expired, [true])
        XCTAssertEqual(q.claim(annotator: "bob", now: Self.t0.addingTimeInterval(11)), .new(QueueClaim(sampleId: "s0", annotator: "bob", gold: false)))
        XCTAssertEqual(q.claim(annotator: "ana", now: Self.t0.addingTimeInterval(11)), .new(QueueClaim(sampleId: "s1", annotator: "ana", gold: false)),
                       "ana's released claim went to bob; ana gets the next sample")
    }

    func testReorderKeepsWhatIsTakenAndChangesTheOrderOfTheRest() {
        var q = QueueState(snapshot: Self.snapshot(["s0", "s1", "s2", "s3"]), k: 1, goldRate: 0, claimTimeout: nil)
        _ = q.claim(annotator: "ana", now: Self.t0)
        q.answered(sampleId: "s0", annotator: "ana")
        q.reorder(Self.snapshot(["s3", "s0", "s2"]))
        var handed: [String] = []
        while case .new(let c)? = q.claim(annotator: "bob", now: Self.t0) {
            handed.append(c.sampleId)
            q.answered(sampleId: c.sampleId, annotator: "bob")
        }
        XCTAssertEqual(handed, ["s3", "s2", "s1"], "s0 stays taken; s1, missing from the new order, comes last")
    }

    // MARK: submission rules

    func testSubmissionRulesNameEveryProblemAndBuildRowsForTheRest() throws {
        let spec = try Self.rulebook()
        let rules = LabelSubmissionRules(rulebook: spec, labelNames: Set(spec.labels.map(\.name)), currentVersion: "v1",
                                         resolved: ["abc": "abc-full", "def": "def-full"], knownVersions: ["v1"], now: "2026-03-01T00:00:00.000Z")
        let (valid, problems) = rules.check([
            LabelSubmission(sample: "abc", value: "billing", annotator: "  ana  ", answers: ["yes"]),
            LabelSubmission(sample: "zzz", status: .skip, annotator: "bob"),
            LabelSubmission(sample: "abc", value: "refund", annotator: "bob", answers: ["no", "yes"]),
            LabelSubmission(sample: "def", value: "other", annotator: "cy", confidence: 2, rulebookVersion: "v0", createdAt: "yesterday"),
        ])
        XCTAssertEqual(valid.keys.sorted(), [0])
        let row = try XCTUnwrap(valid[0])
        XCTAssertEqual([row.sampleId, row.annotator, row.status, row.value, row.rulebookVersion, row.answers, row.createdAt],
                       ["abc-full", "ana", "label", "billing", "v1", "[\"yes\"]", "2026-03-01T00:00:00.000Z"])
        XCTAssertEqual(problems.map { "\($0.index) \($0.field) \($0.code.rawValue): \($0.message)" }, [
            "1 sample unknown-sample: no sample has the id or short id `zzz`",
            "1 reason invalid: a skip event needs a `reason`",
            "2 value unknown-label: `refund` is not a label of rulebook.yaml (labels: billing, other)",
            "2 answers invalid: the answers lead to the label `other`, not to this label",
            "3 confidence invalid: confidence must be between 0 and 1, got 2.0",
            "3 rulebookVersion invalid: `v0` is not a recorded rulebook version",
            "3 createdAt invalid: `yesterday` is not an ISO 8601 time such as 2026-01-31T12:00:00Z",
        ])
    }

    // MARK: consensus

    func testEffectiveVotesTakeEachAnnotatorsLatestEventAndLeaveOutPseudoLabels() throws {
        let events = [
            Self.event(1, "s1", "ana", "label", "billing"), Self.event(2, "s1", "bob", "label", "billing"),
            Self.event(3, "s1", "cy", "label", "other"),
            Self.event(4, "s2", "ana", "label", "billing"), Self.event(5, "s2", "ana", "label", "other"),
            Self.event(6, "s2", "bob", "label", "other"), Self.event(7, "s2", "model", "label", "billing", source: "pseudo"),
            Self.event(8, "s3", "ana", "label", "billing"), Self.event(9, "s3", "bob", "label", "other"),
            Self.event(10, "s3", "cy", "unclear", nil), Self.event(11, "s3", "rev", "label", "other", role: "reviewer"),
        ]
        let (votes, adjudicated) = LabelConsensusService.effectiveVotes(events)
        XCTAssertEqual(votes.map { "\($0.item) \($0.annotator) \($0.vote)" }, [
            "s1 ana label(\"billing\")", "s1 bob label(\"billing\")", "s1 cy label(\"other\")",
            "s2 ana label(\"other\")", "s2 bob label(\"other\")",
            "s3 ana label(\"billing\")", "s3 bob label(\"other\")", "s3 cy unclear",
        ])
        XCTAssertEqual(adjudicated, ["s3": .label("other")])
        let report = LabelConsensusService.consensus(votes: votes, adjudicated: adjudicated, method: .majority, rulebook: try Self.rulebook(),
                                                     shortIds: ["s1": "S1"], gold: ["s2": "other"])
        XCTAssertEqual(report.samples.map { "\($0.shortId) \($0.state.rawValue) \($0.label ?? "-") \($0.gold ?? "-")" },
                       ["S1 decided billing -", "s2 pending other other", "s3 adjudicated other -"])
        XCTAssertEqual(report.counts, ["decided": 1, "pending": 1, "adjudicated": 1])
        XCTAssertEqual(report.adjudication, [])
    }

    func testProgressCountsEachAnnotatorsLatestAnswersAndLeavesOutAdjudications() throws {
        let spec = try Self.rulebook()
        let events = [
            Self.event(1, "s1", "ana", "label", "billing"), Self.event(2, "s1", "ana", "skip", nil),
            Self.event(3, "s2", "ana", "unclear", nil), Self.event(4, "s1", "bob", "label", "other"),
            Self.event(5, "s2", "rev", "label", "other", role: "reviewer"),
        ]
        let (votes, adjudicated) = LabelConsensusService.effectiveVotes(events)
        let agreement = LabelConsensusService.agreement(votes: votes, rulebook: spec, rulebookNumber: 1, gold: [:])
        let consensus = LabelConsensusService.consensus(votes: votes, adjudicated: adjudicated, method: .majority, rulebook: spec,
                                                        shortIds: [:], gold: [:])
        let taskers = ["ana", "bob", "rev"].map { Tasker(name: $0, role: $0 == "rev" ? .reviewer : .tasker, createdAt: "t") }
        let p = LabelDesk.Progress.make(queue: (samples: 5, full: 1, open: 2, done: 3), agreement: agreement, consensus: consensus,
                                        events: events, taskers: taskers, rulebook: spec)
        XCTAssertEqual([p.samples, p.samplesWithAllAnswers, p.openAssignments, p.answers, p.annotatorsPerSample], [5, 1, 2, 4, 3],
                       "four answers: the reviewer's decision is not one")
        XCTAssertEqual(p.annotators.map { "\($0.name) \($0.answers) \($0.skipped) \($0.unclear)" }, ["ana 2 1 1", "bob 1 0 0", "rev 0 0 0"])
    }

    // MARK: rulebook versions

    func testNewRulebookVersionFlagsLabelsWhoseDefinitionChangedOrWasRemoved() {
        let v1 = RulebookVersion(id: "v1", number: 1, labelHashes: ["billing": "h1", "other": "o1"], createdAt: "2026-01-01T00:00:00.000Z")
        let v2 = RulebookVersion(id: "v2", number: 2, labelHashes: ["billing": "h2", "other": "o1"], createdAt: "2026-02-01T00:00:00Z")
        let events = [
            Self.event(1, "s1", "ana", "label", "billing", version: "v2"),
            Self.event(2, "s2", "bob", "label", "other", at: "2026-01-15T00:00:00Z"),
            Self.event(3, "s3", "bob", "skip", nil, version: "v1"),
            Self.event(4, "s4", "cy", "label", "billing", at: "2025-12-01T00:00:00Z"),
            Self.event(5, "s5", "cy", "label", "billing", version: "v1"),
        ]
        let new = ["billing": "h3"]
        XCTAssertEqual(RulebookVersioning.reviewFindings(events: events, versions: [], newId: "v3", newHashes: new, now: "t"), [],
                       "the first version flags nothing")
        let findings = RulebookVersioning.reviewFindings(events: events, versions: [v1, v2], newId: "v3", newHashes: new, now: "t")
        XCTAssertEqual(findings.map { "\($0.kind) \($0.stage) \($0.sampleId ?? "-"): \($0.reason)" }, [
            "label-definition-changed rulebook s1: labeled `billing` by ana under rulebook r2; the definition of `billing` changed in r3: review the label",
            "label-removed rulebook s2: labeled `other` by bob under rulebook r1; `other` is no longer a label in r3: relabel the sample",
            "label-definition-changed rulebook s4: labeled `billing` by cy under rulebook r1; the definition of `billing` changed in r3: review the label",
            "label-definition-changed rulebook s5: labeled `billing` by cy under rulebook r1; the definition of `billing` changed in r3: review the label",
        ])
        XCTAssertEqual(findings.first?.detail,
                       #"{"annotator":"ana","current":"v3","event":1,"label":"billing","madeUnder":"v2"}"#)
    }

    // MARK: import planning

    func testImportMapsExternalIdsAndNamesAmbiguousAndUnknownOnes() {
        var records = ["m1", "m2", "m9"].enumerated().map {
            LabelRecord(submission: LabelSubmission(sample: $1, value: "billing", annotator: "ana"), location: "line \($0 + 2)")
        }
        let problems = LabelImporter.mapExternalIds(&records, field: "ticket", keys: [("id1", "m1"), ("id2", "m2"), ("id3", "m2"), ("id4", nil)])
        XCTAssertEqual(records.map(\.submission.sample), ["id1", "m2", "m9"])
        XCTAssertEqual(problems.map { "\($0.location): \($0.message)" }, [
            "line 3: ticket: `m2` is the id of several samples (from different sources); use the `sample` column with Strata's id",
            "line 4: ticket: no sample was ingested with the id `m9` (ingest's --id-field)",
        ])
    }

    func testImportSkipsEventsAlreadyStoredAndKeysTheRest() {
        let stored = LabelSubmission(sample: "a", value: "billing", annotator: "ana", createdAt: "2026-01-01T00:00:00Z")
        let undated = LabelSubmission(sample: "a", value: "billing", annotator: "ana")
        let other = LabelSubmission(sample: "a", value: "other", annotator: "ana", createdAt: "2026-01-01T00:00:00Z")
        let records = [stored, undated, other].map { LabelRecord(submission: $0, location: "line") }
        let existing: Set = [LabelImporter.fingerprint("a-full", "ana", "label", "billing", nil, "2026-01-01T00:00:00Z"),
                             LabelImporter.fingerprint("a-full", "ana", "label", "billing", nil, "")]
        let (fresh, duplicates) = LabelImporter.fresh(records, resolved: ["a": "a-full"], existing: existing)
        XCTAssertEqual(duplicates, 1, "only the dated copy of a stored event is a duplicate")
        XCTAssertEqual(fresh.map(\.submission.value), ["billing", "other"])
        XCTAssertEqual(fresh.map { $0.submission.importKey?.count }, [16, 16])
        XCTAssertNotEqual(fresh[0].submission.importKey, fresh[1].submission.importKey)
    }

    // MARK: desk helpers

    func testRefreshGateAndManualClock() {
        let clock = ManualLabelClock(Self.t0)
        let gate = RefreshGate()
        XCTAssertTrue(gate.pass(every: 2, now: clock.now()))
        clock.advance(by: 1.9)
        XCTAssertEqual(clock.now(), Self.t0.addingTimeInterval(1.9))
        XCTAssertFalse(gate.pass(every: 2, now: clock.now()))
        clock.advance(by: 0.1)
        XCTAssertTrue(gate.pass(every: 2, now: clock.now()))
        XCTAssertFalse(gate.pass(every: 2, now: clock.now()), "one caller per interval")
    }

    func testRecentItemsAreBoundedInCountAndBytes() {
        func item(_ id: String) -> LabelDesk.QueueItem {
            LabelDesk.QueueItem(sampleId: id, shortId: id, modality: "text", format: "jsonl", text: id, contentURL: "/c", mediaType: "text/plain",
                                done: 0, remaining: 0)
        }
        let recent = RecentItems(capacity: 2, maxBytes: 100)
        recent.put(item("a"), bytes: 10)
        recent.put(item("b"), bytes: 10)
        recent.put(item("c"), bytes: 10)
        XCTAssertNil(recent.get("a"), "the oldest item leaves past the capacity")
        XCTAssertEqual(recent.get("b")?.sampleId, "b")
        XCTAssertEqual(recent.get("c")?.sampleId, "c")
        recent.put(item("big"), bytes: 26)
        XCTAssertNil(recent.get("big"), "a text over a quarter of the budget is not kept")
        recent.put(item("d"), bytes: 25)
        recent.put(item("e"), bytes: 25)
        XCTAssertNil(recent.get("c"))
        XCTAssertEqual(recent.get("e")?.sampleId, "e")
    }
}
