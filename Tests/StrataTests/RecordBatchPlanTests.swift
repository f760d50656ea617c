import StrataCatalog
import StrataCore
import StrataStore
import XCTest
@testable import Strata

/// The planning half of record ingest, without a disk or a catalog: rows parsed by `IngestContext.prepare` are
/// decided against facts handed in as plain values.
final class RecordBatchPlanTests: XCTestCase {
    private let facts = RecordFileFacts(origin: "in/rows.jsonl", containerRaw: "data/raw/s/rows.jsonl", format: .jsonl,
                                        textField: "text", labelField: "label", idField: "id", source: "s",
                                        collected: "2026-12-08", ingestId: "ing-1", now: "2026-12-08T00:00:00Z", tags: nil)

    private func prepared(_ lines: [String]) -> [PreparedRecord] {
        lines.enumerated().map { i, l in IngestContext.prepare(.jsonl(line: i + 1, bytes: Array(l.utf8)), facts) }
    }

    private func planner(known: [String: RecordOrigin] = [:], seen: [String: RecordOrigin] = [:],
                         ids: [String: RecordOrigin] = [:]) -> RecordBatchPlanner {
        RecordBatchPlanner(known: known, seenBefore: { seen[$0] }, externalIdBefore: { ids[$0] })
    }

    private func sha(_ s: String) -> String { FileIO.sha256(Array(s.utf8)) }

    func testNewRowsAreAcceptedAndRepeatsInTheBatchAreDuplicatesOfTheFirst() {
        let steps = planner().plan(prepared([#"{"text": "a"}"#, "", #"{"text": "b"}"#, #"{"text": "a"}"#]), origin: facts.origin)
        let summary = steps.map { step -> String in
            switch step {
            case .blank: "blank"
            case .accept(let row, let text): "accept \(row.originLine ?? 0) \(String(decoding: text, as: UTF8.self)) \(row.id == sha(String(decoding: text, as: UTF8.self)))"
            case .duplicate(let id, let line, let canonical, _): "duplicate \(line) of \(canonical.origin):\(canonical.line ?? 0) \(id == sha("a"))"
            case .missingLabel(_, let line, let field): "missing-label \(line) \(field)"
            default: "other \(step)"
            }
        }
        XCTAssertEqual(summary, ["accept 1 a true", "missing-label 1 label", "blank", "accept 3 b true", "missing-label 3 label",
                                 "duplicate 4 of in/rows.jsonl:1 true", "missing-label 4 label"])
    }

    func testCatalogAndEarlierRunFactsMakeDuplicatesAndDuplicateIds() {
        let p = planner(known: [sha("old"): RecordOrigin(origin: "before.jsonl", line: 7)],
                        seen: [sha("run"): RecordOrigin(origin: "other.jsonl", line: 2)],
                        ids: ["x1": RecordOrigin(origin: "other.jsonl", line: 3)])
        let steps = p.plan(prepared([#"{"text": "old", "label": "cat"}"#, #"{"text": "run", "id": "x1", "label": "dog"}"#,
                                     #"{"text": "new", "id": "x2", "label": "cat"}"#, #"{"text": "newer", "id": "x2", "label": 3}"#]),
                           origin: facts.origin)
        XCTAssertEqual(steps.count, 11)
        XCTAssertEqual(steps[0], .duplicate(sampleId: sha("old"), line: 1, canonical: RecordOrigin(origin: "before.jsonl", line: 7), externalId: nil))
        XCTAssertEqual(steps[1], .label(sampleId: sha("old"), value: "cat", line: 1))
        XCTAssertEqual(steps[2], .duplicateId(sampleId: sha("run"), line: 2, externalId: "x1", first: RecordOrigin(origin: "other.jsonl", line: 3)))
        XCTAssertEqual(steps[3], .duplicate(sampleId: sha("run"), line: 2, canonical: RecordOrigin(origin: "other.jsonl", line: 2), externalId: "x1"))
        XCTAssertEqual(steps[4], .label(sampleId: sha("run"), value: "dog", line: 2))
        XCTAssertEqual(steps[5], .firstExternalId("x2", line: 3))
        guard case .accept(let row, _) = steps[6] else { return XCTFail("expected an accept, got \(steps[6])") }
        XCTAssertEqual(row.externalId, "x2")
        XCTAssertEqual(row.shortId, "")  // allocated when the plan is applied
        XCTAssertEqual(steps[7], .label(sampleId: sha("new"), value: "cat", line: 3))
        XCTAssertEqual(steps[8], .duplicateId(sampleId: sha("newer"), line: 4, externalId: "x2", first: RecordOrigin(origin: facts.origin, line: 3)))
        guard case .accept = steps[9] else { return XCTFail("expected an accept, got \(steps[9])") }
        XCTAssertEqual(steps[10], .wrongLabelType(sampleId: sha("newer"), line: 4, value: .int(3), field: "label"))
    }

    func testBadRowsAreRejectedWithTheirKindAndLine() {
        let steps = planner().plan(prepared([#"{"text": 5}"#, #"{"body": "x"}"#, #"{"text": "  "}"#, "{not json"]), origin: facts.origin)
        let kinds = steps.compactMap { step -> String? in
            if case .reject(let line, let kind, _, _, _) = step { return "\(line) \(kind)" }
            return nil
        }
        XCTAssertEqual(kinds, ["1 malformed-row", "2 missing-field", "3 empty", "4 malformed-row"])
    }

    func testRowWithALabelFieldButNoLabelOptionIsCounted() {
        let noLabels = RecordFileFacts(origin: "r.jsonl", containerRaw: "data/raw/s/r.jsonl", format: .jsonl, textField: "text",
                                       labelField: nil, idField: nil, source: "s", collected: "2026-12-08", ingestId: "i",
                                       now: "t", tags: nil)
        let rows = [IngestContext.prepare(.jsonl(line: 1, bytes: Array(#"{"text": "a", "label": "cat"}"#.utf8)), noLabels)]
        let steps = planner().plan(rows, origin: "r.jsonl")
        XCTAssertEqual(steps.count, 2)
        XCTAssertEqual(steps[0], .unusedLabelField)
    }
}
