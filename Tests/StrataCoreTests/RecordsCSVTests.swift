import XCTest
@testable import StrataCore

final class RecordsCSVTests: XCTestCase {
    private func parse(_ bytes: [UInt8], chunk: Int = 4096, delimiter: UInt8 = UInt8(ascii: ","), max: Int = 1 << 20) -> [CSVEvent] {
        var p = CSVParser(delimiter: delimiter, maxRecordBytes: max)
        var events: [CSVEvent] = []
        var i = 0
        while i < bytes.count {
            let j = Swift.min(bytes.count, i + chunk)
            p.feed(Array(bytes[i..<j])) { events.append($0) }
            i = j
        }
        p.finish { events.append($0) }
        return events
    }

    private func parse(_ s: String, chunk: Int = 4096, delimiter: UInt8 = UInt8(ascii: ","), max: Int = 1 << 20) -> [CSVEvent] {
        parse(Array(s.utf8), chunk: chunk, delimiter: delimiter, max: max)
    }

    private func records(_ events: [CSVEvent]) -> [CSVRecord] {
        events.compactMap { if case .record(let r) = $0 { r } else { nil } }
    }

    private func problems(_ events: [CSVEvent]) -> [(Int, RecordProblem)] {
        events.compactMap { if case .problem(let l, let p) = $0 { (l, p) } else { nil } }
    }

    /// Every chunk size must give the same events.
    private func assertChunkInvariant(_ s: String, file: StaticString = #filePath, line: UInt = #line) {
        let reference = parse(s)
        for chunk in [1, 2, 3, 5] {
            XCTAssertEqual(parse(s, chunk: chunk), reference, "chunk \(chunk)", file: file, line: line)
        }
    }

    func testSimple() {
        let csv = "id,text,label\n1,hello,pos\n2,world,neg\n"
        XCTAssertEqual(records(parse(csv)), [
            CSVRecord(line: 1, fields: ["id", "text", "label"]),
            CSVRecord(line: 2, fields: ["1", "hello", "pos"]),
            CSVRecord(line: 3, fields: ["2", "world", "neg"]),
        ])
        assertChunkInvariant(csv)
    }

    func testQuotes() {
        let csv = #"a,"b, with comma","say ""hi""","",x"# + "\n" + #""""","q""#
        XCTAssertEqual(records(parse(csv)).map(\.fields), [
            ["a", "b, with comma", "say \"hi\"", "", "x"],
            ["\"", "q"],
        ])
        assertChunkInvariant(csv)
    }

    func testEmbeddedNewlineKeepsLineNumbers() {
        let csv = "id,text\n1,\"two\nphysical\r\nlines\"\n2,after\n3,\"x\"\r\n4,y"
        let recs = records(parse(csv))
        XCTAssertEqual(recs, [
            CSVRecord(line: 1, fields: ["id", "text"]),
            CSVRecord(line: 2, fields: ["1", "two\nphysical\r\nlines"]),
            CSVRecord(line: 5, fields: ["2", "after"]),
            CSVRecord(line: 6, fields: ["3", "x"]),
            CSVRecord(line: 7, fields: ["4", "y"]),
        ])
        assertChunkInvariant(csv)
    }

    func testCRLFAndBlankLines() {
        let csv = "a,b\r\n\r\n1,2\r\n\n,\r\n"
        XCTAssertEqual(records(parse(csv)), [
            CSVRecord(line: 1, fields: ["a", "b"]),
            CSVRecord(line: 3, fields: ["1", "2"]),
            CSVRecord(line: 5, fields: ["", ""]),
        ])
        assertChunkInvariant(csv)
    }

    func testBOMIsSkipped() {
        let csv = "\u{FEFF}name,value\nx,1\n"
        XCTAssertEqual(records(parse(csv)).first?.fields, ["name", "value"])
        assertChunkInvariant(csv)
        // Short inputs that start like a BOM but are not one.
        XCTAssertEqual(records(parse([0xEF, 0xBB])).count, 0)  // invalid UTF-8 → problem
        XCTAssertEqual(problems(parse([0xEF, 0xBB])).first?.1.kind, RecordProblem.invalidUTF8)
        XCTAssertEqual(records(parse("\u{FEFF}")).count, 0)
        XCTAssertEqual(records(parse("é,1\n", chunk: 1)).first?.fields, ["é", "1"])
    }

    func testTSV() {
        let tsv = "a\tb c\t\"d\te\"\n"
        XCTAssertEqual(records(parse(tsv, delimiter: 0x09)).first?.fields, ["a", "b c", "d\te"])
    }

    func testUnterminatedQuote() {
        let csv = "a,b\n1,\"never closed\n2,3\n"
        let events = parse(csv)
        XCTAssertEqual(records(events).count, 1)
        let p = problems(events)
        XCTAssertEqual(p.count, 1)
        XCTAssertEqual(p.first?.0, 2)
        XCTAssertEqual(p.first?.1.kind, RecordProblem.malformedRow)
        XCTAssertEqual(p.first?.1.message, "unterminated quoted field: the quote opened on line 2 is never closed")
        assertChunkInvariant(csv)
    }

    func testTextAfterClosingQuote() {
        let csv = "\"ab\"c,d\n1,2\n"
        let events = parse(csv)
        XCTAssertEqual(problems(events).first?.0, 1)
        XCTAssertEqual(problems(events).first?.1.message, "unexpected `c` after the closing quote of field 1")
        XCTAssertEqual(records(events), [CSVRecord(line: 2, fields: ["1", "2"])])
        assertChunkInvariant(csv)
    }

    func testTooLongRecordIsSkippedAndParsingContinues() {
        let big = String(repeating: "x", count: 5000)
        let csv = "a,b\n1,\"\(big)\nstill, in \"\"quotes\"\"\"\n2,ok\n3,\(big)\n4,end"
        for chunk in [7, 4096] {
            let events = parse(csv, chunk: chunk, max: 100)
            XCTAssertEqual(records(events).map(\.line), [1, 4, 6], "chunk \(chunk)")
            XCTAssertEqual(records(events).map(\.fields), [["a", "b"], ["2", "ok"], ["4", "end"]])
            let p = problems(events)
            XCTAssertEqual(p.map(\.0), [2, 5])
            XCTAssertEqual(p.map(\.1.kind), [RecordProblem.tooLong, RecordProblem.tooLong])
            XCTAssertEqual(p[1].1.message, "row is 5002 bytes long, more than the limit of 100 bytes")
        }
    }

    func testInvalidUTF8Row() {
        var bytes = Array("a,b\n".utf8)
        bytes += Array("1,caf".utf8) + [0xE9] + Array("\n2,ok\n".utf8)
        let events = parse(bytes)
        XCTAssertEqual(records(events).map(\.line), [1, 3])
        XCTAssertEqual(problems(events).first?.0, 2)
        XCTAssertEqual(problems(events).first?.1.kind, RecordProblem.invalidUTF8)
        XCTAssertEqual(problems(events).first?.1.message, "row is not valid UTF-8 (field 2)")
    }

    func testLastRecordWithoutNewlineAndTrailingDelimiter() {
        XCTAssertEqual(records(parse("a,b,")).first?.fields, ["a", "b", ""])
        XCTAssertEqual(records(parse("\"a\"")).first?.fields, ["a"])
        XCTAssertEqual(records(parse("x\r")).first?.fields, ["x"])
    }

    func testTableRaggedRows() {
        let recs = records(parse("id,text,label\n1,hi,pos\n2,a,b,c\n3\n"))
        let table = CSVTable(header: recs[0])
        XCTAssertEqual(table.columnCount, 3)
        XCTAssertNil(table.check(recs[1]))
        XCTAssertEqual(table.check(recs[2]), RecordProblem(kind: RecordProblem.raggedRow, message: "row has 4 fields, header has 3"))
        XCTAssertEqual(table.check(recs[3])?.message, "row has 1 field, header has 3")
        XCTAssertEqual(table.row(recs[1]), ["id": "1", "text": "hi", "label": "pos"])
        XCTAssertNil(table.row(recs[2]))
        XCTAssertEqual(table.index(of: "label"), 2)
        XCTAssertEqual(CSVTable(columns: ["a", "b", "a", "c", "b"]).duplicateColumns, ["a", "b"])
    }
}
