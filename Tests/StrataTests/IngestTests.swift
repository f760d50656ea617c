import Foundation
import StrataCatalog
import StrataCore
import StrataStore
import XCTest
@testable import Strata

final class IngestTests: XCTestCase {
    func testAcceptsValidFilesNamesThemAndMakesThemReadOnly() throws {
        let p = try TempProject()
        p.write("a/photo one.png", Fixtures.png(1))
        p.write("a/clip.wav", Fixtures.wav(2))
        p.write("a/note.txt", "the printer is out of toner\n")
        let ws = try p.open()
        let s = try ws.ingest(IngestOptions(paths: [p.incoming + "/a"], source: "field-kit", date: "2026-03-14"))
        XCTAssertEqual(s.accepted, 3)
        XCTAssertEqual(s.quarantined, 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: ws.rawDir + "/field-kit").sorted()
        XCTAssertEqual(files.count, 3)
        for f in files {
            let parsed = try XCTUnwrap(FileNaming.parse(f), f)
            XCTAssertEqual(parsed.source, "field-kit")
            XCTAssertEqual(parsed.date, "20260314")
            XCTAssertEqual(parsed.id.count, 10)
            let st = try XCTUnwrap(FileIO.status(ws.rawDir + "/field-kit/" + f))
            XCTAssertEqual(st.mode & 0o222, 0, "raw files are read-only")
        }
        XCTAssertEqual(Set(files.map { ($0 as NSString).pathExtension }), ["png", "wav", "txt"])
        let sample = try XCTUnwrap(try ws.catalog.read { db in try SampleRow.fetchOne(db, sql: "SELECT * FROM sample WHERE format = 'png'") })
        XCTAssertEqual(sample.originPath, p.incoming + "/a/photo one.png")
        XCTAssertTrue(sample.metadata.contains("\"original_name\":\"photo one.png\""), sample.metadata)
        XCTAssertTrue(sample.metadata.contains("\"width\":48"), sample.metadata)
    }

    func testReingestingTheSameFolderAddsNothing() throws {
        let p = try TempProject()
        for i in 0..<20 { p.write("set/img\(i).png", Fixtures.png(UInt64(i))) }
        p.write("set/bad.png", Array(Fixtures.png(99).prefix(100)))
        let ws = try p.open()
        let first = try ws.ingest(IngestOptions(paths: [p.incoming + "/set"], source: "s", date: "2026-01-02"))
        XCTAssertEqual(first.accepted, 20)
        XCTAssertEqual(first.quarantined, 1)
        let before = try stateDigest(ws)
        let second = try ws.ingest(IngestOptions(paths: [p.incoming + "/set"], source: "s", date: "2026-01-02"))
        XCTAssertEqual(second.accepted, 0)
        XCTAssertEqual(second.duplicates, 0)
        XCTAssertEqual(second.alreadyIngested, 21)
        XCTAssertEqual(try stateDigest(ws), before)
    }

    func testExactDuplicatesAreRecordedNotStoredTwice() throws {
        let p = try TempProject()
        let bytes = Fixtures.png(5)
        p.write("x/original.png", bytes)
        p.write("x/z-copy.png", bytes)
        let ws = try p.open()
        let s = try ws.ingest(IngestOptions(paths: [p.incoming + "/x"], source: "s"))
        XCTAssertEqual(s.accepted, 1)
        XCTAssertEqual(s.duplicates, 1)
        let dups = try ws.findings(kind: "duplicate")
        XCTAssertEqual(dups.count, 1)
        XCTAssertEqual(dups[0].origin, p.incoming + "/x/z-copy.png")
        XCTAssertEqual(dups[0].relatedOrigin, p.incoming + "/x/original.png")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: ws.rawDir + "/s").count, 1)
        // A later ingest from another folder also points at the canonical sample.
        p.write("y/again.png", bytes)
        let s2 = try ws.ingest(IngestOptions(paths: [p.incoming + "/y"], source: "other"))
        XCTAssertEqual(s2.duplicates, 1)
        XCTAssertEqual(try ws.findings(kind: "duplicate").last?.relatedOrigin, p.incoming + "/x/original.png")
    }

    func testBadFilesGoToQuarantineWithReasons() throws {
        let p = try TempProject()
        let png = Fixtures.png(3), jpg = Fixtures.jpeg(4), wav = Fixtures.wav(5)
        p.write("bad/trunc.png", Array(png.prefix(png.count * 6 / 10)))
        p.write("bad/trunc.jpg", Array(jpg.prefix(jpg.count / 2)))
        var broken = wav
        for i in 12..<36 { broken[i] = 0xFF }
        p.write("bad/broken.wav", broken)
        p.write("bad/latin1.txt", [0x63, 0x61, 0x66, 0xE9, 0x0A])
        p.write("bad/empty.txt", [UInt8]())
        p.write("bad/page.png", "<!DOCTYPE html><html></html>")
        p.write("bad/archive.jsonl", [0x1F, 0x8B, 0x08, 0x00, 1, 2, 3, 4])
        p.write("bad/old.bmp", Encode_bmp())
        let ws = try p.open()
        let s = try ws.ingest(IngestOptions(paths: [p.incoming + "/bad"], source: "s"))
        XCTAssertEqual(s.accepted, 0)
        let q = try ws.quarantineList()
        func kind(_ name: String) -> String? { q.first { $0.origin.hasSuffix("/" + name) }?.kind }
        XCTAssertEqual(kind("trunc.png"), "corrupt")
        XCTAssertEqual(kind("trunc.jpg"), "corrupt")
        XCTAssertEqual(kind("broken.wav"), "corrupt")
        XCTAssertEqual(kind("latin1.txt"), "invalid-utf8")
        XCTAssertEqual(kind("empty.txt"), "empty")
        XCTAssertEqual(kind("page.png"), "not-media")
        XCTAssertEqual(kind("archive.jsonl"), "not-media")
        XCTAssertEqual(kind("old.bmp"), "format-not-allowed")
        XCTAssertTrue(q.first { $0.origin.hasSuffix("old.bmp") }!.reason.contains("allows png"), q.first { $0.origin.hasSuffix("old.bmp") }!.reason)
        // Every entry has a reason record and a copy of the bytes; the originals are untouched.
        for entry in q {
            let record = ws.quarantineDir + "/\(entry.id).json"
            XCTAssertTrue(FileManager.default.fileExists(atPath: record))
            if entry.kind != "empty" { XCTAssertNotNil(entry.stored) }
            // Written by the one quarantine writer: the shared layout (the ingest id under `run`), read back whole.
            let written = try XCTUnwrap(ws.quarantineWriter.read(id: entry.id), "record of \(entry.origin)")
            XCTAssertEqual(written.stage, "ingest")
            XCTAssertEqual(written.kind.rawValue, entry.kind)
            XCTAssertEqual(written.stored, entry.stored)
            XCTAssertTrue(written.runId.hasPrefix("ing-"), written.runId)
            let text = String(decoding: try FileIO.readAll(record), as: UTF8.self)
            XCTAssertTrue(text.contains("\"run\":\"ing-"), text)
            XCTAssertFalse(text.contains("\"ingest\":"), text)
        }
        XCTAssertEqual(try FileIO.readAll(p.incoming + "/bad/trunc.png"), Array(png.prefix(png.count * 6 / 10)))
        // The ledger shows them too.
        XCTAssertEqual(try ws.findings().filter { $0.quarantineId != nil }.count, q.count)
    }

    func testWrongExtensionIsAcceptedUnderTheTrueFormat() throws {
        let p = try TempProject()
        p.write("w/really-a-png.jpg", Fixtures.png(8))
        let ws = try p.open()
        let s = try ws.ingest(IngestOptions(paths: [p.incoming + "/w"], source: "s"))
        XCTAssertEqual(s.accepted, 1)
        let f = try ws.findings(kind: "wrong-extension")
        XCTAssertEqual(f.count, 1)
        XCTAssertTrue(f[0].reason.contains("named .jpg but the content is png"), f[0].reason)
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: ws.rawDir + "/s")[0].hasSuffix(".png"))
    }

    func testSymlinkLoopBrokenLinkAndPipeAreReportedNotFatal() throws {
        let p = try TempProject()
        p.write("l/ok.txt", "fine\n")
        try FileManager.default.createSymbolicLink(atPath: p.incoming + "/l/loop", withDestinationPath: p.incoming + "/l")
        try FileManager.default.createSymbolicLink(atPath: p.incoming + "/l/self", withDestinationPath: p.incoming + "/l/self")
        try FileManager.default.createSymbolicLink(atPath: p.incoming + "/l/dangling", withDestinationPath: p.incoming + "/nowhere")
        XCTAssertEqual(mkfifo(p.incoming + "/l/pipe", 0o644), 0)
        let ws = try p.open()
        let s = try ws.ingest(IngestOptions(paths: [p.incoming + "/l"], source: "s"))
        XCTAssertEqual(s.accepted, 1)
        let quarantined = try ws.quarantineList()
        XCTAssertEqual(quarantined.filter { $0.kind == "unreadable" }.count, 4, "\(quarantined)")
        XCTAssertTrue(quarantined.contains { $0.origin.hasSuffix("/pipe") && $0.reason.contains("not a regular file") }, "\(quarantined)")
    }

    func testUnreadableFileIsQuarantined() throws {
        try XCTSkipIf(getuid() == 0, "root can read any file; permission faults are covered by the non-root run")
        let p = try TempProject()
        let path = p.write("u/secret.txt", "x\n")
        chmod(path, 0)
        let ws = try p.open()
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/u"], source: "s"))
        XCTAssertEqual(try ws.quarantineList().first?.kind, "unreadable")
    }

    func testPoorFileNamesAreNamedWithTheirReason() {
        let cases: [(String, String?)] = [
            ("note_001.txt", nil), ("a-b.c_d.json", nil),
            ("-rf.txt", "starts with '-' (read as an option by command-line tools)"),
            (".hidden.txt", "starts with '.' (hidden)"),
            (String(repeating: "a", count: 101) + ".txt", "is longer than 100 bytes"),
            ("photo one.png", "contains whitespace"), ("tab\there.txt", "contains whitespace"),
            ("caf\u{E9}.txt", "contains non-ASCII characters"), ("no\u{A0}break.txt", "contains whitespace"),
            ("what?.txt", "contains shell or URL special characters"), ("50%.txt", "contains shell or URL special characters"),
            ("a\\b.txt", "contains shell or URL special characters"), ("q\"uote.txt", "contains shell or URL special characters"),
            ("README", "has no extension"), ("shout.TXT", "has an upper-case extension"),
            ("scan.png.txt", "has a double extension"), ("v1.2.txt", nil),
        ]
        for (name, why) in cases {
            XCTAssertEqual(IngestContext.fileNameProblem(name), why, name)
        }
    }

    func testAwkwardNamesArePreservedAsOrigins() throws {
        let p = try TempProject()
        let names = ["with space.txt", "new\nline.txt", "ünïcødé-文字.txt", "-leading-dash.txt", "emoji 🎉.txt"]
        for (i, n) in names.enumerated() { p.write("n/" + n, "message number \(i)\n") }
        let ws = try p.open()
        let s = try ws.ingest(IngestOptions(paths: [p.incoming + "/n"], source: "s"))
        XCTAssertEqual(s.accepted, names.count)
        let origins = Set(try ws.catalog.read { db in try String.fetchAll(db, sql: "SELECT originPath FROM sample") })
        XCTAssertEqual(origins, Set(names.map { p.incoming + "/n/" + $0 }))
        for f in try FileManager.default.contentsOfDirectory(atPath: ws.rawDir + "/s") { XCTAssertNotNil(FileNaming.parse(f), f) }
    }

    func testUnsafeSourceNamesAreRejectedAndNothingIsWritten() throws {
        let p = try TempProject()
        p.write("f/a.txt", "hello\n")
        let ws = try p.open()
        for bad in ["../../x", "a/b", "UPPER", "", "dot.dot", "_x", "x_y"] {
            XCTAssertThrowsError(try ws.ingest(IngestOptions(paths: [p.incoming + "/f"], source: bad)), bad) { error in
                XCTAssertTrue("\(error)".contains("invalid --source"), "\(error)")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: p.base + "/x"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: ws.rawDir).filter { $0 != ".gitkeep" }, [])
    }

    func testInvalidDateIsAUsageError() throws {
        let p = try TempProject()
        p.write("f/a.txt", "hello\n")
        let ws = try p.open()
        XCTAssertThrowsError(try ws.ingest(IngestOptions(paths: [p.incoming + "/f"], source: "s", date: "2026-02-30")))
        XCTAssertThrowsError(try ws.ingest(IngestOptions(paths: [p.incoming + "/nope"], source: "s"))) { error in
            XCTAssertTrue("\(error)".contains("no such file or folder"), "\(error)")
        }
    }

    func testTooLargeFileIsQuarantinedWithoutReadingIt() throws {
        let p = try TempProject(modalities: "text")
        try """
            version: 1
            name: limits
            modalities: [text]
            formats:
              text: [txt, jsonl]
            limits:
              max_file_bytes: 1000
            """.write(toFile: p.root + "/strata.yaml", atomically: true, encoding: .utf8)
        p.write("big/large.txt", String(repeating: "a", count: 5000))
        let ws = try p.open()
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/big"], source: "s"))
        let q = try ws.quarantineList()
        XCTAssertEqual(q.map(\.kind), ["too-large"])
        XCTAssertTrue(q[0].reason.contains("max_file_bytes"))
    }
}

/// A digest of what an ingest leaves behind, without timestamps or run ids: samples, file names, occurrences,
/// findings and quarantine entries.
func stateDigest(_ ws: Workspace) throws -> String {
    try ws.catalog.read { db in
        var parts: [String] = []
        parts += try String.fetchAll(db, sql: "SELECT id || ' ' || shortId || ' ' || rawPath || ' ' || coalesce(rawLine, '') || ' ' || originPath || ' ' || metadata FROM sample ORDER BY id")
        parts += try String.fetchAll(db, sql: "SELECT sampleId || ' ' || originPath || ' ' || originLine FROM occurrence ORDER BY 1")
        parts += try String.fetchAll(db, sql: "SELECT kind || ' ' || coalesce(origin, '') || ' ' || coalesce(line, '') || ' ' || coalesce(relatedOrigin, '') || ' ' || reason FROM finding ORDER BY 1")
        parts += try String.fetchAll(db, sql: "SELECT id || ' ' || kind || ' ' || origin || ' ' || coalesce(line, '') FROM quarantine ORDER BY 1")
        parts += try String.fetchAll(db, sql: "SELECT sampleId || ' ' || coalesce(value, '') || ' ' || source FROM labelEvent ORDER BY 1")
        parts += try String.fetchAll(db, sql: "SELECT path || ' ' || sha256 FROM rawFile ORDER BY 1")
        return parts.joined(separator: "\n")
    }
}

import StrataMedia
func Encode_bmp() -> [UInt8] { Encode.bmp(Synth.shape(.square, size: 16, night: false, blur: 0, seed: 1)) }
