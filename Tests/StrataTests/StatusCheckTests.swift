import Foundation
import StrataCatalog
import StrataCore
import StrataStore
import XCTest
@testable import Strata

final class StatusCheckTests: XCTestCase {
    func testStatusReportsNewAndModifiedFilesFromTheStatCache() throws {
        let p = try TempProject()
        for i in 0..<5 { p.write("s/\(i).txt", "message \(i)\n") }
        let ws = try p.open()
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/s"], source: "src"))
        var st = try ws.status()
        XCTAssertTrue(st.isClean, "\(st)")
        XCTAssertEqual(st.filesHashed, 0, "an unchanged project is answered without hashing")
        p.write("s/new.png", Fixtures.png(1))
        p.write("s/0.txt", "message 0 changed\n")
        // Touching without changing content is not a change.
        let t = p.incoming + "/s/1.txt"
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(100)], ofItemAtPath: t)
        st = try ws.status()
        XCTAssertFalse(st.isClean)
        let src = try XCTUnwrap(st.sources.first { $0.source == "src" })
        XCTAssertEqual(src.newFiles, ["image": 1])
        XCTAssertEqual(src.modifiedFiles, 1)
        XCTAssertEqual(src.samples["text"], 5)
    }

    func testCheckFindsAChangedRawFileAndAStrayFile() throws {
        let p = try TempProject()
        p.write("c/a.txt", "alpha\n")
        let ws = try p.open()
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/c"], source: "src"))
        var report = try ws.check()
        XCTAssertEqual(report.problems.filter { $0.category != "coverage" }, [])
        let raw = ws.rawDir + "/src/" + (try FileManager.default.contentsOfDirectory(atPath: ws.rawDir + "/src")[0])
        chmod(raw, 0o644)
        try "tampered\n".write(toFile: raw, atomically: false, encoding: .utf8)
        try "stray\n".write(toFile: ws.rawDir + "/src/notes.txt", atomically: true, encoding: .utf8)
        report = try ws.check()
        let messages = report.problems.map(\.message)
        XCTAssertTrue(messages.contains { $0.contains("raw file changed") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("does not follow") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("writable") }, "\(messages)")
    }

    func testCheckReportsSpecErrorsWithLines() throws {
        let p = try TempProject()
        try "version: 1\nuse_cse: oops\n".write(toFile: p.root + "/intent.yaml", atomically: true, encoding: .utf8)
        let ws = try p.open()
        let report = try ws.check()
        let spec = report.problems.filter { $0.category == "spec" && $0.path == "intent.yaml" }
        XCTAssertFalse(spec.isEmpty)
        XCTAssertTrue(spec.contains { $0.line == 2 && ($0.fix ?? "").contains("use_case") }, "\(spec)")
    }

    func testQuarantineReleaseReadmitsAFixedFile() throws {
        let p = try TempProject()
        let png = Fixtures.png(11)
        let path = p.write("q/pic.png", Array(png.prefix(60)))
        let ws = try p.open()
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/q"], source: "src", date: "2026-05-01"))
        let entry = try XCTUnwrap(try ws.quarantineList().first)
        XCTAssertEqual(entry.kind, "corrupt")
        // Still broken: not released.
        XCTAssertFalse(try ws.releaseQuarantine(entry.id).released)
        // Fixed at the origin: released and ingested.
        _ = FileManager.default.createFile(atPath: path, contents: Data(png))
        let result = try ws.releaseQuarantine(entry.id)
        XCTAssertTrue(result.released, "\(result)")
        XCTAssertEqual(result.ingest?.accepted, 1)
        XCTAssertEqual(try ws.quarantineList().count, 0)
    }

    func testCoverageAgainstIntentCountsTagsAndComputesGaps() throws {
        let p = try TempProject(modalities: "text")
        try """
            version: 1
            use_case: route support messages
            requirements:
              scenarios:
                - name: night shift
                  where: {shift: night}
                  min_samples: 5
                - name: all text
                  where: {modality: text}
                  min_share: 0.5
            """.write(toFile: p.root + "/intent.yaml", atomically: true, encoding: .utf8)
        for i in 0..<3 { p.write("n/\(i).txt", "night message \(i)\n") }
        for i in 0..<4 { p.write("d/\(i).txt", "day message \(i)\n") }
        let ws = try p.open()
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/n"], source: "a", tags: ["shift": "night"]))
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/d"], source: "b", tags: ["shift": "day"]))
        let rows = try ws.coverage(intent: try ws.intent())
        let night = try XCTUnwrap(rows.first { $0.name == "night shift" })
        XCTAssertEqual(night.count, 3)
        XCTAssertEqual(night.gap, 2)
        XCTAssertFalse(night.met)
        XCTAssertTrue(try XCTUnwrap(rows.first { $0.name == "all text" }).met)
        XCTAssertFalse(try ws.check().problems.contains { $0.category == "coverage" })
        XCTAssertTrue(try ws.check(requireCoverage: true).problems.contains { $0.category == "coverage" && $0.message.contains("night shift") })
    }
}
