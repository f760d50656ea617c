import Foundation
import StrataCatalog
import StrataCore
import XCTest
@testable import Strata

/// A text project with a two-label rulebook (with a decision path) and `n` record samples ingested without labels.
final class LabelProject {
    let p: TempProject
    let ws: Workspace
    /// Full ids of the samples, in the order of their texts.
    let ids: [String]

    static let rulebook = """
        version: 1
        labels:
          - name: billing
            definition: The message is about a charge, an invoice or a refund.
            signs: [mentions money, mentions an invoice]
          - name: other
            definition: Anything that is not about billing.
        decision_path:
          question: Is the message about money the customer paid or owes?
          answers:
            - answer: "yes"
              label: billing
            - answer: "no"
              next:
                question: Is it readable?
                answers:
                  - answer: "yes"
                    label: other
                  - answer: "no"
                    escalate: unreadable
        annotators_per_sample: 3
        agreement_threshold: 0.6

        """

    init(samples n: Int = 6, rulebook: String = LabelProject.rulebook) throws {
        p = try TempProject(modalities: "text")
        try rulebook.write(toFile: p.root + "/rulebook.yaml", atomically: true, encoding: .utf8)
        let texts = (0..<n).map { "customer message number \($0) about something" }
        p.write("r/rows.jsonl", texts.enumerated().map { "{\"id\": \"m\($0.offset)\", \"text\": \"\($0.element)\"}" }.joined(separator: "\n") + "\n")
        ws = try p.open()
        let s = try ws.ingest(IngestOptions(paths: [p.incoming + "/r"], source: "chat", records: RecordOptions(textField: "text", idField: "id")))
        XCTAssertEqual(s.accepted, n)
        ids = texts.map { FileIO.sha256(Array($0.utf8)) }
    }

    func setRulebook(_ text: String) throws {
        try text.write(toFile: p.root + "/rulebook.yaml", atomically: true, encoding: .utf8)
    }
}

import StrataStore

final class LabelStoreTests: XCTestCase {
    func testAppendStoresDurablyAndReadsBackPerSampleAndAnnotator() throws {
        let lp = try LabelProject()
        let store = try lp.ws.labelStore()
        XCTAssertEqual(store.version.number, 1)
        let short = try XCTUnwrap(try lp.ws.catalog.shortIds(for: [lp.ids[0]])[lp.ids[0]])

        // One event by short id, with decision-path answers.
        let e = try store.append(LabelSubmission(sample: short, value: "billing", annotator: "ana", answers: ["yes"]))
        XCTAssertEqual(e.sample, lp.ids[0])
        XCTAssertEqual(e.shortId, short)
        XCTAssertEqual(e.status, .label)
        XCTAssertEqual(e.answers, ["yes"])
        XCTAssertEqual(e.rulebookVersion, store.version.id)
        XCTAssertEqual(e.source, .human)

        // A batch in one transaction.
        let r = try store.append([
            LabelSubmission(sample: lp.ids[0], value: "other", annotator: "ben"),
            LabelSubmission(sample: lp.ids[1], status: .unclear, reason: "cut off", annotator: "ana", answers: ["no", "no"]),
            LabelSubmission(sample: lp.ids[1], status: .skip, reason: "personal data", annotator: "ben"),
        ])
        XCTAssertEqual(r.stored.count, 3)
        XCTAssertEqual(r.duplicates, 0)

        XCTAssertEqual(try store.events(sample: lp.ids[0]).map(\.annotator), ["ana", "ben"])
        XCTAssertEqual(try store.events(annotator: "ana").map(\.sample), [lp.ids[0], lp.ids[1]])
        XCTAssertEqual(try store.events(afterId: e.id).count, 3)
        XCTAssertEqual(try store.samplesLabeled(by: "ben"), [lp.ids[0], lp.ids[1]])
        XCTAssertEqual(try store.annotatorCounts()[lp.ids[0]], 2)

        // Durable mode: the connection that appended runs with synchronous=FULL (2).
        let sync = try lp.ws.catalog.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        XCTAssertEqual(sync, 2)

        // A second process sees the events (they are committed, not cached).
        let other = try Workspace.open(at: lp.p.root)
        XCTAssertEqual(try other.labelEvents().count, 4)
    }

    func testInvalidBatchStoresNothingAndNamesEveryProblem() throws {
        let lp = try LabelProject()
        let store = try lp.ws.labelStore()
        XCTAssertThrowsError(try store.append([
            LabelSubmission(sample: lp.ids[0], value: "billing", annotator: "ana"),
            LabelSubmission(sample: "nosuchsample", value: "billing", annotator: "ana"),
            LabelSubmission(sample: lp.ids[1], value: "biling", annotator: "ana"),
            LabelSubmission(sample: lp.ids[2], status: .skip, annotator: "ana"),
            LabelSubmission(sample: lp.ids[3], value: "billing", annotator: "ana", answers: ["no", "yes"]),
            LabelSubmission(sample: lp.ids[4], value: "billing", annotator: "ana", confidence: 1.5),
        ])) { error in
            let e = try! XCTUnwrap(error as? LabelInputError)
            XCTAssertEqual(e.problems.map(\.index), [1, 2, 3, 4, 5])
            XCTAssertEqual(e.problems.map(\.code), [.unknownSample, .unknownLabel, .invalid, .invalid, .invalid])
            XCTAssertEqual(e.problems.map(\.field), ["sample", "value", "reason", "answers", "confidence"])
            XCTAssertTrue(e.problems[3].message.contains("lead to the label `other`"), e.problems[3].message)
            XCTAssertTrue(e.description.contains("nothing was stored"))
        }
        XCTAssertEqual(try lp.ws.catalog.labelEventCount(), 0)
    }

    func testAppendEachStoresTheValidOnesAndReportsEachInvalidOne() throws {
        let lp = try LabelProject()
        let store = try lp.ws.labelStore()
        let results = try store.append(each: [
            LabelSubmission(sample: lp.ids[0], value: "billing", annotator: "ana"),
            LabelSubmission(sample: "nosuch", value: "billing", annotator: "ben"),
            LabelSubmission(sample: lp.ids[1], value: "other", annotator: "ben"),
            LabelSubmission(sample: lp.ids[2], status: .skip, annotator: "cy"),
        ])
        XCTAssertEqual(results.count, 4)
        guard case .success(let first) = results[0], case .success(let third) = results[2] else { return XCTFail("\(results)") }
        XCTAssertEqual(first.sample, lp.ids[0])
        XCTAssertEqual(third.value, "other")
        guard case .failure(let e1) = results[1], case .failure(let e3) = results[3] else { return XCTFail("\(results)") }
        XCTAssertEqual(e1.problems.map(\.code), [.unknownSample])
        XCTAssertEqual(e3.problems.map(\.field), ["reason"])
        XCTAssertEqual(e3.problems.first?.index, 0)
        XCTAssertEqual(try store.events().map(\.annotator), ["ana", "ben"])
    }

    func testEventsAreAppendOnlyAndImportKeysDeduplicate() throws {
        let lp = try LabelProject()
        let store = try lp.ws.labelStore()
        let sub = LabelSubmission(sample: lp.ids[0], value: "billing", annotator: "file", role: .importer, source: .import, importKey: "k1")
        XCTAssertEqual(try store.append([sub, LabelSubmission(sample: lp.ids[1], value: "other", annotator: "x")]).stored.count, 2)
        let again = try store.append([sub])
        XCTAssertEqual(again.stored.count, 0)
        XCTAssertEqual(again.duplicates, 1)
        XCTAssertThrowsError(try lp.ws.catalog.write { db in try db.execute(sql: "UPDATE labelEvent SET value = 'other'") })
        XCTAssertEqual(try lp.ws.catalog.labelEventCount(), 2)
    }

    func testChangedDefinitionFlagsOldLabelsForReview() throws {
        let lp = try LabelProject()
        let store = try lp.ws.labelStore()
        _ = try store.append([
            LabelSubmission(sample: lp.ids[0], value: "billing", annotator: "ana"),
            LabelSubmission(sample: lp.ids[1], value: "other", annotator: "ana"),
        ])
        // As `strata ingest` imports manifest labels: no rulebook version on the event.
        try lp.ws.catalog.appendLabelEvents([LabelEventRow(sampleId: lp.ids[2], status: "label", value: "billing", annotator: "import:m.csv",
                                                           role: "importer", source: "import", importKey: nil, createdAt: Workspace.now())])
        // An added example changes the version but not the meaning: nothing is flagged.
        try lp.setRulebook(LabelProject.rulebook.replacingOccurrences(
            of: "signs: [mentions money, mentions an invoice]",
            with: "signs: [mentions money, mentions an invoice]\n    fits:\n      - text: \"refund my order\"\n        why: a refund"))
        let v2 = try lp.ws.labelStore().version
        XCTAssertEqual(v2.number, 2)
        XCTAssertEqual(v2.labelHashes, store.version.labelHashes)
        XCTAssertEqual(try lp.ws.findings(kind: "label-definition-changed").count, 0)

        // Now the definition of billing changes: the billing event is flagged, the other one is not.
        try lp.setRulebook(LabelProject.rulebook.replacingOccurrences(of: "a charge, an invoice or a refund", with: "a charge or an invoice"))
        let s3 = try lp.ws.labelStore()
        XCTAssertEqual(s3.version.number, 3)
        XCTAssertNotEqual(s3.version.labelHashes["billing"], store.version.labelHashes["billing"])
        XCTAssertEqual(s3.version.labelHashes["other"], store.version.labelHashes["other"])
        let flagged = try lp.ws.findings(kind: "label-definition-changed")
        XCTAssertEqual(flagged.count, 2)
        XCTAssertEqual(Set(flagged.compactMap(\.sample)).count, 2)
        XCTAssertEqual(flagged.first?.stage, "rulebook")
        XCTAssertTrue(flagged.first?.reason.contains("definition of `billing` changed in r3") ?? false, flagged.first?.reason ?? "")

        // Opening again records nothing new; the versions are listed in order.
        _ = try lp.ws.labelStore()
        XCTAssertEqual(try lp.ws.rulebookVersions().map(\.number), [1, 2, 3])
        XCTAssertEqual(try lp.ws.findings(kind: "label-definition-changed").count, 2)

        // Removing a label flags its labels too.
        try lp.setRulebook(LabelProject.rulebook.replacingOccurrences(of: "a charge, an invoice or a refund", with: "a charge or an invoice")
            .replacingOccurrences(of: "  - name: other\n    definition: Anything that is not about billing.\n", with: "")
            .replacingOccurrences(of: "label: other", with: "skip: not billing"))
        XCTAssertEqual(try lp.ws.labelStore().version.number, 4)
        XCTAssertEqual(try lp.ws.findings(kind: "label-removed").count, 1)
    }

    func testTimesAreCheckedAsISO8601() {
        for ok in ["2026-01-31T12:00:00Z", "2026-01-31T12:00:00.123456Z", "2026-01-31T12:00:00+02:00", "2026-01-31t23:59:60.5-11:30"] {
            XCTAssertTrue(Workspace.isISO8601(ok), ok)
        }
        for bad in ["", "2026-01-31", "2026-01-31T12:00:00", "2026-13-01T00:00:00Z", "2026-01-31T12:00:00.Z", "2026-01-31T12:00:00Zx",
                    "2026-01-31T12:00:00+0200", "yesterday"] {
            XCTAssertFalse(Workspace.isISO8601(bad), bad)
        }
    }

    func testGoldAnswersAreValidated() throws {
        let lp = try LabelProject()
        let store = try lp.ws.labelStore()
        try store.setGold([GoldSubmission(sample: lp.ids[0], value: "billing")])
        XCTAssertEqual(try store.goldLabels(), [lp.ids[0]: "billing"])
        XCTAssertThrowsError(try store.setGold([GoldSubmission(sample: lp.ids[1], value: "nope")]))
        XCTAssertEqual(try store.goldLabels().count, 1)
    }
}
