import Foundation
import StrataCatalog
import StrataCore
import StrataStore
import XCTest
@testable import Strata

/// Record ingest (`--records`): the defects of issue 18 (bugs 3, 7, 8, 11 and the label/progress frictions).
final class RecordIngestTests: XCTestCase {
    private func labelledProject() throws -> TempProject {
        let p = try TempProject(modalities: "text")
        try "version: 1\nlabels:\n  - name: cat\n    definition: a cat\n  - name: dog\n    definition: a dog\n"
            .write(toFile: p.root + "/rulebook.yaml", atomically: true, encoding: .utf8)
        return p
    }

    private func rows(_ n: Int, labels: Bool = true) -> String {
        (0..<n).map { i in labels ? #"{"id": "r\#(i)", "text": "row number \#(i)", "label": "\#(i % 3 == 0 ? "dog" : "cat")"}"#
                                  : #"{"id": "r\#(i)", "text": "row number \#(i)"}"# }.joined(separator: "\n") + "\n"
    }

    /// Issue 18 bug 3: every label looked up earlier imports, the sample's labels (a scan of the whole label table)
    /// and the sample, one row at a time. Now the lookups are per batch: 10x the rows cost the same catalog reads.
    func testLabelsAtIngestReadTheCatalogPerBatchNotPerRow() throws {
        func reads(rows n: Int) throws -> Int {
            let p = try labelledProject()
            p.write("r/rows.jsonl", rows(n))
            let ws = try p.open()
            let before = ws.catalog.readCount
            let s = try ws.ingest(IngestOptions(paths: [p.incoming + "/r"], source: "s", records: RecordOptions(labelField: "label", idField: "id")))
            XCTAssertEqual(s.accepted, n)
            XCTAssertEqual(s.labelsImported, n)
            return ws.catalog.readCount - before
        }
        let small = try reads(rows: 40), large = try reads(rows: 400)
        XCTAssertEqual(large, small, "catalog reads of an ingest of 400 labelled rows vs 40")
    }

    /// Conflicts with labels already in the catalog are still found with the per-batch lookup.
    func testLabelConflictWithAnEarlierIngestIsReported() throws {
        let p = try labelledProject()
        p.write("a/a.jsonl", #"{"text": "shared text", "label": "cat"}"# + "\n")
        p.write("b/b.jsonl", #"{"text": "shared text", "label": "dog"}"# + "\n")
        let ws = try p.open()
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/a"], source: "s", records: RecordOptions(labelField: "label")))
        let s = try ws.ingest(IngestOptions(paths: [p.incoming + "/b"], source: "s", records: RecordOptions(labelField: "label")))
        XCTAssertEqual(s.labelsImported, 1)
        let conflicts = try ws.findings(kind: "conflicting-label")
        XCTAssertEqual(conflicts.map(\.reason), ["labeled `dog` here but `cat` at \(p.incoming)/a/a.jsonl:1"])
    }

    /// Issue 18 bug 11: a record file over limits.max_file_bytes was quarantined whole as `too-large`.
    func testRecordFileLargerThanMaxFileBytesIsIngestedRowByRow() throws {
        let p = try TempProject(modalities: "text")
        var yaml = try String(contentsOfFile: p.root + "/strata.yaml", encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "max_file_bytes: 1073741824", with: "max_file_bytes: 100")
        try yaml.write(toFile: p.root + "/strata.yaml", atomically: true, encoding: .utf8)
        p.write("r/rows.jsonl", rows(20, labels: false))
        let ws = try p.open()
        XCTAssertEqual(ws.project.limits.maxFileBytes, 100)
        let s = try ws.ingest(IngestOptions(paths: [p.incoming + "/r"], source: "s", records: RecordOptions()))
        XCTAssertEqual(s.accepted, 20)
        XCTAssertEqual(s.quarantined, 0)
        XCTAssertFalse(s.acceptedNothing)
    }

    /// Issue 18 bug 7: CSV record files passed ingest although `formats` did not allow csv.
    func testCSVRecordsAreQuarantinedWhenFormatsForbidCSV() throws {
        let p = try TempProject(modalities: "text")
        let csv = p.write("c/rows.csv", "id,text\n1,hello there\n2,second row\n")
        let ws = try p.open()
        XCTAssertFalse(ws.project.allows(.csv))
        let s = try ws.ingest(IngestOptions(paths: [p.incoming + "/c"], source: "s", records: RecordOptions()))
        XCTAssertEqual(s.accepted, 0)
        XCTAssertTrue(s.acceptedNothing)
        let q = try ws.quarantineList()
        XCTAssertEqual(q.map(\.kind), ["format-not-allowed"])
        XCTAssertEqual(q.map(\.origin), [csv])
        XCTAssertEqual(q.map(\.reason), ["csv records are not an allowed text format (strata.yaml allows jsonl, txt); convert the file (e.g. to JSONL), or add csv to `formats: text:` in strata.yaml"])
        XCTAssertEqual(try ws.catalog.sampleCount(), 0)
    }

    /// Issue 18 bug 8: `predictions import` said "unknown id" for the external id of a row ingested as an exact
    /// duplicate; it names the sample the row repeats.
    func testPredictionsImportResolvesIdsOfDuplicateRows() throws {
        let p = try labelledProject()
        p.write("r/rows.jsonl", """
            {"id": "a", "text": "first text"}
            {"id": "b", "text": "second text"}
            {"id": "c", "text": "first text"}

            """)
        let ws = try p.open()
        let s = try ws.ingest(IngestOptions(paths: [p.incoming + "/r"], source: "s", records: RecordOptions(idField: "id")))
        XCTAssertEqual(s.accepted, 2)
        XCTAssertEqual(s.duplicates, 1)
        p.write("preds.jsonl", """
            {"id": "a", "probs": {"cat": 0.9, "dog": 0.1}}
            {"id": "b", "probs": {"cat": 0.2, "dog": 0.8}}
            {"id": "c", "probs": {"cat": 0.9, "dog": 0.1}}

            """)
        let summary = try ws.importPredictions(file: p.incoming + "/preds.jsonl", model: "m")
        XCTAssertEqual(summary.predictions, 2)
        // A file with only the duplicate row's id: it resolves to the first row's sample.
        p.write("only-c.jsonl", #"{"id": "c", "label": "dog"}"# + "\n")
        XCTAssertEqual(try ws.importPredictions(file: p.incoming + "/only-c.jsonl", model: "m2").predictions, 1)
        let first = FileIO.sha256(Array("first text".utf8))
        let stored = try ws.catalog.read { db in try String.fetchAll(db, sql: "SELECT sampleId FROM prediction WHERE model = 'm2'") }
        XCTAssertEqual(stored, [first])
    }

    /// Friction: rows with a `label` field ingested without --label-field are counted (the CLI warns), and a second
    /// ingest with --label-field reads the unchanged file again and imports the labels.
    func testLabelFieldGivenOnASecondIngestImportsTheLabels() throws {
        let p = try labelledProject()
        p.write("r/rows.jsonl", rows(6))
        let ws = try p.open()
        let first = try ws.ingest(IngestOptions(paths: [p.incoming + "/r"], source: "s", records: RecordOptions(idField: "id")))
        XCTAssertEqual(first.accepted, 6)
        XCTAssertEqual(first.unimportedLabelRows, 6)
        XCTAssertEqual(first.labelsImported, 0)
        let second = try ws.ingest(IngestOptions(paths: [p.incoming + "/r"], source: "s", records: RecordOptions(labelField: "label", idField: "id")))
        XCTAssertEqual(second.accepted, 0)
        XCTAssertEqual(second.alreadyIngested, 6)
        XCTAssertEqual(second.labelsImported, 6)
        XCTAssertEqual(second.unimportedLabelRows, 0)
        // The same options again: unchanged, nothing read, nothing added.
        let third = try ws.ingest(IngestOptions(paths: [p.incoming + "/r"], source: "s", records: RecordOptions(labelField: "label", idField: "id")))
        XCTAssertEqual(third.alreadyIngested, 1)
        XCTAssertEqual(third.rowsSeen, 0)
        XCTAssertEqual(third.labelsImported, 0)
        // --reread reads it anyway; labels already imported are not imported twice.
        var again = IngestOptions(paths: [p.incoming + "/r"], source: "s", records: RecordOptions(labelField: "label", idField: "id"))
        again.reread = true
        let fourth = try ws.ingest(again)
        XCTAssertEqual(fourth.rowsSeen, 6)
        XCTAssertEqual(fourth.alreadyIngested, 6)
        XCTAssertEqual(fourth.labelsImported, 0)
        XCTAssertEqual(try ws.catalog.labelEventCount(), 6)
    }

    /// Friction: one large record file showed no progress until it was done; progress now counts MiB read.
    func testRecordIngestReportsProgressInMiB() throws {
        let p = try TempProject(modalities: "text")
        let line = #"{"text": "\#(String(repeating: "x", count: 1000)) "#
        var text = ""
        for i in 0..<3200 { text += line + "\(i)\"}\n" }  // about 3.1 MiB
        p.write("r/big.jsonl", text)
        let recorder = RecordingProgress()
        let ws = try Workspace.open(at: p.root, progress: recorder)
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/r"], source: "s", records: RecordOptions()))
        XCTAssertEqual(recorder.events, ["begin ingest records (MiB) 4", "advance 1", "advance 1", "advance 1", "advance 1", "end"])
    }
}

final class RecordingProgress: ProgressReporter, @unchecked Sendable {
    private let lock = NSLock()
    private var log: [String] = []
    var events: [String] { lock.withLock { log } }
    func begin(_ label: String, total: Int?) { lock.withLock { log.append("begin \(label) \(total.map(String.init) ?? "-")") } }
    func advance(by count: Int) { lock.withLock { log.append("advance \(count)") } }
    func end() { lock.withLock { log.append("end") } }
    func note(_ line: String) { lock.withLock { log.append("note \(line)") } }
}
