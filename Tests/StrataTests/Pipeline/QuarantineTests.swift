import Foundation
import StrataCatalog
import StrataCore
import StrataStore
import XCTest
@testable import Strata

/// The one quarantine record layout, its id rules, reading the layouts written before it, and the writer.
final class QuarantineTests: XCTestCase {
    static let ingestEntry = QuarantineEntry(
        kind: .invalidLabel, stage: QuarantineEntry.ingestStage, origin: "incoming/labels.csv", line: 4,
        reason: "label `Circle ` is not in the rulebook", source: "shapes", sha256: "ab12", stored: "quarantine/q-x.data",
        detail: ["suggestion": .string("circle")], runId: "ingest-7", createdAt: "2026-12-08T00:00:00.000Z")

    func testTheRecordLayoutIsPinned() {
        let e = Self.ingestEntry
        XCTAssertEqual(e.id, "q-" + String(Workspace.shortHash("incoming/labels.csv", "4", "ab12", "invalid-label").prefix(12)))
        XCTAssertEqual(e.record.canonicalJSON, #"{"created_at":"2026-12-08T00:00:00.000Z","detail":{"suggestion":"circle"},"id":"\#(e.id)","kind":"invalid-label","line":4,"origin":"incoming/labels.csv","reason":"label `Circle ` is not in the rulebook","run":"ingest-7","sha256":"ab12","source":"shapes","stage":"ingest","stored":"quarantine/q-x.data"}"#)
        XCTAssertEqual(e.row, QuarantineRow(id: e.id, kind: "invalid-label", stage: "ingest", origin: "incoming/labels.csv", line: 4,
                                            reason: "label `Circle ` is not in the rulebook", storedPath: "quarantine/q-x.data", source: "shapes",
                                            contentSha256: "ab12", detail: #"{"suggestion":"circle"}"#, runId: "ingest-7",
                                            createdAt: "2026-12-08T00:00:00.000Z"))
        // Absent facts are left out, not written as null.
        let bare = QuarantineEntry(kind: "empty", stage: "ingest", origin: "a.txt", line: nil, reason: "empty file", source: nil, sha256: nil,
                                   runId: "ingest-1", createdAt: "t")
        XCTAssertEqual(bare.record.canonicalJSON,
                       #"{"created_at":"t","id":"\#(bare.id)","kind":"empty","origin":"a.txt","reason":"empty file","run":"ingest-1","stage":"ingest"}"#)
        XCTAssertEqual(bare.id, "q-" + String(Workspace.shortHash("a.txt", "0", "", "empty").prefix(12)))
        XCTAssertEqual(QuarantineEntry(record: e.record), e, "the layout reads back")
    }

    func testOldRecordsOfBothWritersStillRead() throws {
        // Ingest's layout before the shared writer: the ingest id under `ingest`, details as top-level keys.
        let oldIngest = try JSONRecord.parseValue(#"{"created_at":"t","id":"q-1","ingest":"ingest-3","kind":"missing-file","line":2,"manifest_path":"a.png","origin":"m.csv","reason":"no such file","source":"s","stage":"ingest"}"#).get()
        let a = try XCTUnwrap(QuarantineEntry(record: oldIngest))
        XCTAssertEqual([a.id, a.kind.rawValue, a.stage, a.runId, a.origin], ["q-1", "missing-file", "ingest", "ingest-3", "m.csv"])
        XCTAssertEqual(a.line, 2)
        XCTAssertEqual(a.detail, ["manifest_path": .string("a.png")])
        XCTAssertNil(a.sha256)
        // The run's layout: `"line": null`, the sample, the run id under `run`.
        let oldRun = try JSONRecord.parseValue(#"{"created_at":"t","id":"q-2","kind":"too-short","line":null,"origin":"o.txt","reason":"r","run":"run-9","sample":"s1","sha256":"ff","source":"web","stage":"quality","stored":"data/raw/web/x.txt"}"#).get()
        let b = try XCTUnwrap(QuarantineEntry(record: oldRun))
        XCTAssertEqual(b, QuarantineEntry(record: .object([
            "created_at": .string("t"), "id": .string("q-2"), "kind": .string("too-short"), "origin": .string("o.txt"), "reason": .string("r"),
            "run": .string("run-9"), "sample": .string("s1"), "sha256": .string("ff"), "source": .string("web"), "stage": .string("quality"),
            "stored": .string("data/raw/web/x.txt")])))
        XCTAssertNil(b.line)
        XCTAssertEqual(b.detail, [:])
        XCTAssertNil(QuarantineEntry(record: .object(["id": .string("q-3")])), "a record without kind, stage, origin and reason is not one")
    }

    func testTheWriterKeepsOrReplacesRecordsAndKeepsReadOnlyCopies() throws {
        let root = NSTemporaryDirectory() + "strata-quarantine-" + UUID().uuidString
        try FileIO.makeDirectories(root + "/quarantine")
        defer {
            _ = try? Process.run(URL(fileURLWithPath: "/bin/chmod"), arguments: ["-R", "u+rwX", root]).waitUntilExit()
            try? FileManager.default.removeItem(atPath: root)
        }
        let writer = QuarantineWriter(projectRoot: root)
        var e = Self.ingestEntry
        try writer.write(e, replacing: false)
        XCTAssertEqual(writer.read(id: e.id), e)
        var later = e
        later.reason = "changed"
        try writer.write(later, replacing: false)
        XCTAssertEqual(writer.read(id: e.id)?.reason, e.reason, "a stage keeps the first record")
        try writer.write(later, replacing: true)
        XCTAssertEqual(writer.read(id: e.id)?.reason, "changed", "ingest replaces it")

        XCTAssertEqual(writer.keepCopy(id: e.id, bytes: Array("a,b\n".utf8)), "quarantine/\(e.id).data")
        XCTAssertEqual(try FileIO.readAll(root + "/quarantine/\(e.id).data"), Array("a,b\n".utf8))
        XCTAssertEqual(FileIO.status(root + "/quarantine/\(e.id).data").map { $0.mode & 0o777 }, 0o444)
        XCTAssertNil(writer.keepCopy(id: "q-empty", bytes: []))
        XCTAssertNil(writer.keepCopy(id: "q-none", from: root + "/no-such-file"))
        e.stored = writer.keepCopy(id: "q-file", from: root + "/quarantine/\(e.id).json")
        XCTAssertEqual(e.stored, "quarantine/q-file.data")
        XCTAssertNil(writer.read(id: "q-missing"))
    }
}
