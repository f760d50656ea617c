import Foundation
import StrataCatalog
import StrataCore
import StrataStore
import XCTest
@testable import Strata

final class RecordsTests: XCTestCase {
    func testJSONLWithOneBrokenLineIngestsTheGoodLines() throws {
        let p = try TempProject(modalities: "text")
        try "version: 1\nlabels:\n  - name: billing\n    definition: money\n  - name: other\n    definition: anything else\n"
            .write(toFile: p.root + "/rulebook.yaml", atomically: true, encoding: .utf8)
        p.write("r/rows.jsonl", """
            {"id": "a", "text": "first message", "label": "billing"}
            {"id": "b", "text": "second message", "label": "billing"
            {"id": "c", "text": "third message", "label": "other"}

            {"id": "d", "body": "no text"}
            {"id": "e", "text": 7}
            {"id": "f", "text": "first message"}
            {"id": "a", "text": "reused id"}

            """)
        let ws = try p.open()
        let s = try ws.ingest(IngestOptions(paths: [p.incoming + "/r"], source: "chat", records: RecordOptions(textField: "text", labelField: "label", idField: "id")))
        XCTAssertEqual(s.accepted, 3)
        XCTAssertEqual(s.duplicates, 1)
        XCTAssertEqual(s.blankLines, 1)
        let q = try ws.quarantineList().sorted { ($0.line ?? 0) < ($1.line ?? 0) }
        XCTAssertEqual(q.map(\.line), [2, 5, 6])
        XCTAssertEqual(q.map(\.kind), ["malformed-row", "missing-field", "malformed-row"])
        XCTAssertTrue(q[1].reason.contains("no field `text`"), q[1].reason)
        let dup = try XCTUnwrap(try ws.findings(kind: "duplicate").first)
        XCTAssertEqual(dup.line, 7)
        XCTAssertEqual(dup.relatedLine, 1)
        XCTAssertEqual(dup.relatedOrigin, p.incoming + "/r/rows.jsonl")
        let reused = try ws.findings(kind: "duplicate-id")
        XCTAssertEqual(reused.map(\.line), [8])
        // Labels arrive as import events; the row text is in the object store.
        let labels = try ws.catalog.read { db in try LabelEventRow.fetchAll(db, sql: "SELECT * FROM labelEvent ORDER BY id") }
        XCTAssertEqual(labels.map(\.value), ["billing", "other"])
        XCTAssertEqual(Set(labels.map(\.source)), ["import"])
        let first = FileIO.sha256(Array("first message".utf8))
        XCTAssertEqual(String(decoding: try ws.objects.get(first), as: UTF8.self), "first message")
        // The container is kept read-only in data/raw as collected.
        let raw = try FileManager.default.contentsOfDirectory(atPath: ws.rawDir + "/chat")
        XCTAssertEqual(raw.count, 1)
        XCTAssertTrue(raw[0].hasSuffix(".jsonl"))
    }

    func testCSVRaggedRowsAreQuarantinedWithTheirLine() throws {
        let p = try TempProject(modalities: "text")
        var yaml = try String(contentsOfFile: p.root + "/strata.yaml", encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "text: [jsonl, txt]", with: "text: [jsonl, csv]")
        try yaml.write(toFile: p.root + "/strata.yaml", atomically: true, encoding: .utf8)
        p.write("c/rows.csv", "id,text\n1,hello there\n2,\"multi\nline\"\n3,too,many\n4,last one\n")
        let ws = try p.open()
        let s = try ws.ingest(IngestOptions(paths: [p.incoming + "/c"], source: "csv", records: RecordOptions(textField: "text", idField: "id")))
        XCTAssertEqual(s.accepted, 3)
        let q = try ws.quarantineList()
        XCTAssertEqual(q.map(\.kind), ["malformed-row"])
        XCTAssertEqual(q.first?.line, 5)
        XCTAssertTrue(q[0].reason.contains("3 fields, header has 2"), q[0].reason)
    }

    func testHugeLineIsRejectedWithBoundedMemory() throws {
        let p = try TempProject(modalities: "text")
        let path = p.incoming + "/h/huge.jsonl"
        try FileManager.default.createDirectory(atPath: p.incoming + "/h", withIntermediateDirectories: true)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = "{\"text\": \"small one\"}\n{\"text\": \"".withCString { write(fd, $0, strlen($0)) }
        let block = [UInt8](repeating: 0x61, count: 1 << 20)
        for _ in 0..<20 { _ = block.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        _ = "\"}\n{\"text\": \"after the big one\"}\n".withCString { write(fd, $0, strlen($0)) }
        close(fd)
        let ws = try p.open()
        let s = try ws.ingest(IngestOptions(paths: [p.incoming + "/h"], source: "s", records: RecordOptions()))
        XCTAssertEqual(s.accepted, 2)
        let q = try ws.quarantineList()
        XCTAssertEqual(q.map(\.kind), ["too-large"])
        XCTAssertEqual(q[0].line, 2)
        XCTAssertNil(q[0].stored, "an oversized row is not copied")
    }

    func testManifestAttachesLabelsAndMetadataAndReportsBadRows() throws {
        let p = try TempProject()
        try """
            version: 1
            labels:
              - name: circle
                definition: a round shape
              - name: square
                definition: a shape with four equal sides
            """.write(toFile: p.root + "/rulebook.yaml", atomically: true, encoding: .utf8)
        p.write("m/a.png", Fixtures.png(1))
        p.write("m/b.png", Fixtures.png(2))
        p.write("m/c.png", Fixtures.png(3))
        p.write("m/unlisted.png", Fixtures.png(4))
        p.write("m/labels.csv", """
            file,label,lighting
            a.png,circle,night
            b.png,square,day
            c.png,Circle ,day
            missing.png,circle,day
            ../../etc/passwd,circle,day
            ..%2f..%2fetc%2fpasswd,circle,day
            b.png,circle,day
            x.png,circle,day,extra

            """)
        let ws = try p.open()
        let s = try ws.ingest(IngestOptions(paths: [p.incoming + "/m"], source: "cam", metaFile: p.incoming + "/m/labels.csv"))
        XCTAssertEqual(s.accepted, 4)
        XCTAssertEqual(s.unlistedFiles, [p.incoming + "/m/unlisted.png"])
        let q = try ws.quarantineList()
        let byLine = Dictionary(uniqueKeysWithValues: q.map { ($0.line ?? 0, $0.kind) })
        XCTAssertEqual(byLine[4], "invalid-label")
        XCTAssertEqual(byLine[5], "missing-file")
        XCTAssertEqual(byLine[6], "unsafe-path")
        XCTAssertEqual(byLine[7], "unsafe-path")
        XCTAssertEqual(byLine[9], "malformed-row")
        XCTAssertTrue(q.first { $0.line == 4 }!.reason.contains("did you mean `circle`"))
        XCTAssertEqual(try ws.findings(kind: "conflicting-label").count, 1)
        let labels = try ws.catalog.read { db in try String.fetchAll(db, sql: "SELECT value FROM labelEvent ORDER BY value") }
        XCTAssertEqual(labels, ["circle", "circle", "square"])
        let meta = try ws.catalog.read { db in try String.fetchOne(db, sql: "SELECT metadata FROM sample WHERE originPath LIKE '%/a.png'") }
        XCTAssertTrue(meta?.contains("\"lighting\":\"night\"") == true, meta ?? "")
        XCTAssertFalse(FileManager.default.fileExists(atPath: ws.rawDir + "/cam/labels.csv"))
    }

    func testCSVWithoutTheTextColumnIsQuarantinedAndOtherFilesGoOn() throws {
        let p = try TempProject(modalities: "text")
        try """
            version: 1
            name: t
            modalities: [text]
            formats: {text: [jsonl, csv]}
            """.write(toFile: p.root + "/strata.yaml", atomically: true, encoding: .utf8)
        p.write("x/a.csv", "id,body\n1,hello\n")
        p.write("x/b.jsonl", "{\"text\": \"still ingested\"}\n")
        let ws = try p.open()
        let s = try ws.ingest(IngestOptions(paths: [p.incoming + "/x"], source: "s", records: RecordOptions()))
        XCTAssertEqual(s.accepted, 1)
        let q = try ws.quarantineList()
        XCTAssertEqual(q.map(\.kind), ["missing-field"])
        XCTAssertTrue(q[0].reason.contains("no column `text`"), q[0].reason)
    }
}
