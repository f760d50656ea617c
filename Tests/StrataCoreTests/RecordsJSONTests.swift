import XCTest
@testable import StrataCore

final class RecordsJSONTests: XCTestCase {
    private func parse(_ s: String, maxDepth: Int = 64) -> Result<[String: JSONValue], RecordProblem> {
        JSONRecord.parseObject(Array(s.utf8), maxDepth: maxDepth)
    }

    private func object(_ s: String, file: StaticString = #filePath, line: UInt = #line) -> [String: JSONValue] {
        switch parse(s) {
        case .success(let o): return o
        case .failure(let p):
            XCTFail("unexpected problem: \(p.message)", file: file, line: line)
            return [:]
        }
    }

    private func problem(_ s: String, maxDepth: Int = 64, file: StaticString = #filePath, line: UInt = #line) -> RecordProblem? {
        switch JSONRecord.parseObject(Array(s.utf8), maxDepth: maxDepth) {
        case .success(let o):
            XCTFail("expected a problem, got \(o)", file: file, line: line)
            return nil
        case .failure(let p): return p
        }
    }

    func testBasicObject() {
        let o = object(#"{"text": "hello", "n": 3, "x": -1.5e2, "ok": true, "no": false, "z": null, "a": [1, "two", {"k": []}], "o": {}}"#)
        XCTAssertEqual(o["text"], .string("hello"))
        XCTAssertEqual(o["n"], .int(3))
        XCTAssertEqual(o["x"], .number(-150))
        XCTAssertEqual(o["ok"], .bool(true))
        XCTAssertEqual(o["no"], .bool(false))
        XCTAssertEqual(o["z"], .null)
        XCTAssertEqual(o["a"], .array([.int(1), .string("two"), .object(["k": .array([])])]))
        XCTAssertEqual(o["o"], .object([:]))
        XCTAssertEqual(o["text"]?.asText, "hello")
        XCTAssertNil(o["n"]?.asText)
    }

    func testWhitespaceBOMAndCRLF() {
        XCTAssertEqual(object("\u{FEFF}  {\"a\" : 1 }\r"), ["a": .int(1)])
        XCTAssertEqual(object("{}"), [:])
    }

    func testEscapes() {
        let o = object(#"{"s": "q\" b\\ s\/ \b\f\n\r\t é\u00e9 \u4e2d end"}"#)
        XCTAssertEqual(o["s"], .string("q\" b\\ s/ \u{8}\u{C}\n\r\t éé 中 end"))
        XCTAssertEqual(object(#"{"nul": "a\u0000b"}"#)["nul"], .string("a\u{0}b"))
    }

    func testSurrogatePairs() {
        XCTAssertEqual(object(#"{"e": "\ud83c\udf89!"}"#)["e"], .string("🎉!"))
        XCTAssertEqual(object(#"{"e": "\uD834\uDD1E"}"#)["e"], .string("𝄞"))
        XCTAssertEqual(problem(#"{"e": "\ud83c x"}"#)?.message, "line is not valid JSON: unpaired surrogate `\\uD83C` at column 8")
        XCTAssertEqual(problem(#"{"e": "\udf89"}"#)?.kind, RecordProblem.malformedRow)
        XCTAssertEqual(problem(#"{"e": "\ud83c\u0041"}"#)?.kind, RecordProblem.malformedRow)
    }

    func testRawUnicodeKeptAndKeysDecoded() {
        let o = object(#"{"ключ\n": "日本語 🎉"}"#)
        XCTAssertEqual(o["ключ\n"], .string("日本語 🎉"))
    }

    func testNumbers() {
        let o = object(#"{"a": 0, "b": -0, "c": 9223372036854775807, "d": -9223372036854775808, "e": 9223372036854775808, "f": 1.0, "g": 2.5E-3, "h": 1e2, "i": 123456789012}"#)
        XCTAssertEqual(o["a"], .int(0))
        XCTAssertEqual(o["b"], .number(-0.0))
        XCTAssertEqual(o["c"], .int(Int64.max))
        XCTAssertEqual(o["d"], .int(Int64.min))
        XCTAssertEqual(o["e"], .number(9223372036854775808.0))
        XCTAssertEqual(o["f"], .number(1.0))
        XCTAssertEqual(o["g"], .number(0.0025))
        XCTAssertEqual(o["h"], .number(100))
        XCTAssertEqual(o["i"], .int(123456789012))
        for bad in [#"{"a": 01}"#, #"{"a": 1.}"#, #"{"a": .5}"#, #"{"a": -}"#, #"{"a": 1e}"#, #"{"a": +1}"#, #"{"a": NaN}"#] {
            XCTAssertEqual(problem(bad)?.kind, RecordProblem.malformedRow, bad)
        }
        XCTAssertEqual(problem(#"{"a": 1e400}"#)?.message, "line is not valid JSON: number 1e400 at column 7 is out of range")
    }

    func testUnexpectedTokenMessage() {
        let line = #"{"text": "a sample line", "label": 3, }"#
        let p = problem(line)
        XCTAssertEqual(p?.kind, RecordProblem.malformedRow)
        XCTAssertEqual(p?.column, 39)
        XCTAssertEqual(p?.message, "line is not valid JSON: unexpected `}` at column 39 (expected a key in double quotes)")
        // Columns count characters, not bytes.
        XCTAssertEqual(problem(#"{"é": "日本", x}"#)?.column, 13)
        XCTAssertEqual(problem(#"{"a": tru}"#)?.message, "line is not valid JSON: unexpected `tru` at column 7")
        XCTAssertEqual(problem(#"{"a": 1"#)?.message, "line is not valid JSON: unexpected end of line at column 8")
        XCTAssertEqual(problem(#"{"a": "open"#)?.message, "line is not valid JSON: unterminated string starting at column 7")
        XCTAssertEqual(problem("{\"a\": \"tab\there\"}")?.message,
                       "line is not valid JSON: a tab inside a string at column 11 (it must be escaped)")
        XCTAssertEqual(problem(#"{"a": "\x"}"#)?.message, "line is not valid JSON: invalid escape `\\x` at column 8")
        XCTAssertEqual(problem(#"{"a" 1}"#)?.message, "line is not valid JSON: unexpected `1` at column 6 (expected `:` after the key)")
    }

    func testTrailingGarbage() {
        let p = problem(#"{"a": 1} x"#)
        XCTAssertEqual(p?.kind, RecordProblem.malformedRow)
        XCTAssertEqual(p?.column, 10)
        XCTAssertEqual(p?.message, "line is not valid JSON: unexpected `x` at column 10 (after the end of the JSON value)")
        XCTAssertNotNil(problem(#"{"a": 1}{"b": 2}"#))
        XCTAssertNotNil(problem(#"{"a": 1},"#))
    }

    func testNonObjectTopLevel() {
        XCTAssertEqual(problem("[1, 2]")?.message, "expected a JSON object, found an array")
        XCTAssertEqual(problem(#""text""#)?.message, "expected a JSON object, found a string")
        XCTAssertEqual(problem("42")?.message, "expected a JSON object, found a number")
        XCTAssertEqual(problem("null")?.message, "expected a JSON object, found `null`")
        XCTAssertEqual(problem("   ")?.message, "expected a JSON object, found an empty line")
        XCTAssertEqual(problem("hello")?.message, "line is not valid JSON: unexpected `hello` at column 1")
    }

    func testDepthLimit() {
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        let start = Date()
        let p = problem("{\"a\": " + deep + "}")
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
        XCTAssertEqual(p?.kind, RecordProblem.tooDeep)
        XCTAssertEqual(p?.column, 70)  // the 64th bracket: depth 65 counting the object
        XCTAssertEqual(problem(String(repeating: "{\"a\":", count: 5000))?.kind, RecordProblem.tooDeep)
        // Within the limit.
        let ok = "{\"a\": " + String(repeating: "[", count: 63) + String(repeating: "]", count: 63) + "}"
        XCTAssertNotNil(try? parse(ok).get())
        XCTAssertEqual(problem(ok, maxDepth: 10)?.kind, RecordProblem.tooDeep)
        // A huge maxDepth is clamped: deep input still fails instead of overflowing the stack.
        XCTAssertEqual(problem("{\"a\": " + deep + "}", maxDepth: 1_000_000)?.kind, RecordProblem.tooDeep)
    }

    func testInvalidUTF8() {
        var bytes = Array(#"{"a": "ok", "b": "caf"#.utf8)
        bytes += [0xE9]
        bytes += Array(#""}"#.utf8)
        guard case .failure(let p) = JSONRecord.parseObject(bytes) else { return XCTFail() }
        XCTAssertEqual(p.kind, RecordProblem.invalidUTF8)
        XCTAssertEqual(p.column, 22)
        XCTAssertEqual(p.message, "line is not valid UTF-8: byte 0xE9 at column 22")
        // Overlong and surrogate encodings inside strings.
        for seq: [UInt8] in [[0xC0, 0xAF], [0xED, 0xA0, 0x80]] {
            let b = Array(#"{"a": ""#.utf8) + seq + Array(#""}"#.utf8)
            guard case .failure(let p) = JSONRecord.parseObject(b) else { return XCTFail() }
            XCTAssertEqual(p.kind, RecordProblem.invalidUTF8)
        }
        // Outside strings.
        guard case .failure(let q) = JSONRecord.parseObject(Array(#"{"a": 1}"#.utf8) + [0xFF]) else { return XCTFail() }
        XCTAssertEqual(q.kind, RecordProblem.invalidUTF8)
    }

    func testArraySliceAndStringInputs() {
        let bytes = Array("xx{\"a\":1}yy".utf8)
        XCTAssertEqual(try JSONRecord.parseObject(bytes[2..<9]).get(), ["a": .int(1)])
        XCTAssertEqual(try JSONRecord.parseObject(#"{"b":2}"#).get(), ["b": .int(2)])
        XCTAssertEqual(try JSONRecord.parseValue("[1, \"x\"]").get(), [1, "x"])
    }

    func testCanonicalJSONAndRoundTrip() throws {
        let line = #"{"z": 1, "a": {"y": [true, null, 2.5], "b": "q\"\n\u0001é"}, "m": -0, "é": 1e2, "B": 3}"#
        let o = try parse(line).get()
        let canonical = JSONValue.object(o).canonicalJSON
        XCTAssertEqual(canonical, #"{"B":3,"a":{"b":"q\"\n\u0001é","y":[true,null,2.5]},"m":-0.0,"z":1,"é":100.0}"#)
        // Deterministic and a fixed point.
        XCTAssertEqual(try JSONValue.object(parse(canonical).get()).canonicalJSON, canonical)
        XCTAssertEqual(String(decoding: JSONValue.object(o).serialize(), as: UTF8.self), canonical)
    }

    func testCodable() throws {
        let value: JSONValue = ["a": [1, 2.5, "s", true, nil], "b": ["c": "d"]]
        let data = try JSONEncoder().encode(value)
        let back = try JSONDecoder().decode(JSONValue.self, from: data)
        XCTAssertEqual(back, value)
    }
}
