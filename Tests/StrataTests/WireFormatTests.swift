import Foundation
import StrataCore
import XCTest
@testable import StrataEngine

/// The byte formats tasks hand each other: work-item JSONL, length-prefixed annotation files, binary pair files.
final class WireFormatTests: XCTestCase {
    private func items() -> [WorkItem] {
        [
            WorkItem(id: String(repeating: "a", count: 64), sample: String(repeating: "b", count: 64), source: "web",
                     modality: "text", format: "jsonl", content: .object(sha256: String(repeating: "a", count: 64)),
                     origin: "data/raw/web/2026-01-01_web_x.jsonl", line: 42, collected: "2026-01-01", size: 1234),
            WorkItem(id: "c", sample: "d", source: "scans", modality: "image", format: "png", content: .raw(path: "data/raw/scans/a \"b\".png"),
                     origin: "in/a \"quoted\"\\path\n\u{1}é.png", line: nil, collected: "2026-02-03",
                     transforms: [Transform(stage: "clean", uses: "clean.image", params: #"{"max":2}"#, changes: ["rotated", "resized"])],
                     score: 0.8125, size: 0),
        ]
    }

    func testWorkItemLineIsTheSortedKeyJSONAndReadsBack() throws {
        for item in items() {
            let line = item.jsonLine()
            XCTAssertEqual(line, item.json.serialize() + [0x0A], "the direct writer writes what the JSON value would")
            XCTAssertEqual(line.last, 0x0A)
            XCTAssertFalse(line.dropLast().contains(0x0A), "one line per item, even with a newline in a field")
            XCTAssertEqual(try WorkItem.parse(line: line.dropLast()), item)
        }
    }

    func testTheFastLineReaderReadsWhatTheParserReadsOrDeclines() throws {
        let plain = items()[0]
        var noLine = plain
        noLine.line = nil
        noLine.size = 0
        for item in [plain, noLine] {
            let line = item.jsonLine().dropLast()
            XCTAssertEqual(line.withContiguousStorageIfAvailable { FastLine.read($0) } ?? nil, item, "the common line takes the fast path")
            XCTAssertEqual(try WorkItem.parse(line: line), item)
        }
        // Transforms, a score, escapes and non-ASCII text are left to the JSON parser, which reads them the same.
        let escaped = items()[1]
        XCTAssertNil(escaped.jsonLine().dropLast().withContiguousStorageIfAvailable { FastLine.read($0) } ?? nil)
        var accented = plain
        accented.origin = "data/raw/web/café.jsonl"
        var scored = plain
        scored.score = 0.5
        for item in [accented, scored] {
            let line = item.jsonLine().dropLast()
            XCTAssertNil(line.withContiguousStorageIfAvailable { FastLine.read($0) } ?? nil)
            XCTAssertEqual(try WorkItem.parse(line: line), item)
        }
        // Lines that differ from the writer's bytes in any way are declined, and the parser decides.
        let text = String(decoding: plain.jsonLine().dropLast(), as: UTF8.self)
        for variant in [text.replacingOccurrences(of: #""line":42"#, with: #""line":042"#),
                        text.replacingOccurrences(of: #""size":1234"#, with: #""size":-1234"#),
                        text.replacingOccurrences(of: #""size":1234"#, with: #""size": 1234"#),
                        text.replacingOccurrences(of: #""size":1234"#, with: #""size":1234.0"#),
                        text + " ", text + "x", String(text.dropLast())] {
            XCTAssertNil(Array(variant.utf8).withUnsafeBufferPointer { FastLine.read($0) }, variant)
        }
        XCTAssertEqual(try WorkItem.parse(line: Array((text.replacingOccurrences(of: #""size":1234"#, with: #""size": 1234"#)).utf8)), plain)
        XCTAssertThrowsError(try WorkItem.parse(line: Array(String(text.dropLast()).utf8)))
    }

    func testAnnotationFilesCarryAnyBytesAndRejectTruncation() throws {
        let annotations: [[UInt8]] = [[], Array("n:abc".utf8), [0x0A, 0x00, 0xFF, 0x0A], [UInt8](repeating: 0x0A, count: 514)]
        var file: [UInt8] = []
        for a in annotations { AnnotationFile.append(a, to: &file) }
        var read: [[UInt8]] = []
        try AnnotationFile.forEach(file, file: "f") { read.append(Array($0)) }
        XCTAssertEqual(read, annotations)
        XCTAssertThrowsError(try AnnotationFile.forEach(Array(file.dropLast()), file: "cache/x/output") { _ in }) { error in
            XCTAssertTrue("\(error)".contains("cache/x/output is truncated"), "\(error)")
        }
    }

    func testPairFilesRoundTrip() throws {
        let pairs = [(0, 1), (7, 70_000), (4_000_000_000, 4_000_000_001)]
        var file: [UInt8] = []
        for (i, j) in pairs { PairFile.append(i, j, to: &file) }
        XCTAssertEqual(file.count, 24)
        var read: [(Int, Int)] = []
        try PairFile.forEach(file, file: "p") { read.append(($0, $1)) }
        XCTAssertEqual(read.map(\.0), pairs.map(\.0))
        XCTAssertEqual(read.map(\.1), pairs.map(\.1))
        XCTAssertThrowsError(try PairFile.forEach(Array(file.dropLast(3)), file: "p") { _, _ in })
    }
}
