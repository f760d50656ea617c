import XCTest
@testable import StrataCore

final class RecordsUTF8Tests: XCTestCase {
    private func validate(_ bytes: [UInt8], chunk: Int = .max) -> UTF8Validator {
        var v = UTF8Validator()
        var i = 0
        while i < bytes.count {
            let j = min(bytes.count, i + chunk)
            v.feed(Array(bytes[i..<j]))
            i = j
        }
        v.finish()
        return v
    }

    func testValidMixedText() {
        let text = Array("héllo wörld\n日本語\n🎉🎉 and plain ascii long enough for the fast path\n".utf8)
        for chunk in [1, 2, 3, 5, 7, 8, 13, 4096] {
            let v = validate(text, chunk: chunk)
            XCTAssertTrue(v.isValid, "chunk \(chunk)")
            XCTAssertEqual(v.byteCount, text.count)
            XCTAssertEqual(v.newlineCount, 3)
            XCTAssertEqual(v.nulCount, 0)
        }
    }

    func testEmojiSplitAtEveryOffset() {
        let text = Array("abc🎉def\u{10FFFF}x".utf8)
        for cut in 0...text.count {
            var v = UTF8Validator()
            XCTAssertTrue(v.feed(Array(text[..<cut])), "cut \(cut)")
            XCTAssertTrue(v.feed(Array(text[cut...])), "cut \(cut)")
            XCTAssertTrue(v.finish(), "cut \(cut)")
        }
        // Three chunks: every pair of cut points.
        for a in 0...text.count {
            for b in a...text.count {
                var v = UTF8Validator()
                v.feed(Array(text[..<a])); v.feed(Array(text[a..<b])); v.feed(Array(text[b...]))
                XCTAssertTrue(v.finish(), "cuts \(a) \(b)")
            }
        }
    }

    func testTruncatedSequenceAtEnd() {
        let bytes = Array(Array("ok🎉".utf8).dropLast())
        var v = UTF8Validator()
        XCTAssertTrue(v.feed(bytes))
        XCTAssertTrue(v.isInsideSequence)
        XCTAssertFalse(v.finish())
        XCTAssertEqual(v.firstInvalidOffset, 2)
        XCTAssertEqual(v.line, 1)
    }

    func testRejectsOverlongSurrogatesAndOutOfRange() {
        let bad: [[UInt8]] = [
            [0xC0, 0xAF],  // overlong "/"
            [0xC1, 0xBF],  // overlong
            [0xE0, 0x80, 0xAF],  // overlong 3-byte
            [0xF0, 0x80, 0x80, 0xAF],  // overlong 4-byte
            [0xED, 0xA0, 0x80],  // U+D800
            [0xED, 0xBF, 0xBF],  // U+DFFF
            [0xF4, 0x90, 0x80, 0x80],  // U+110000
            [0xF5, 0x80, 0x80, 0x80],
            [0xFF],
            [0x80],  // stray continuation
            [0xE2, 0x82],  // truncated
            [0xE2, 0x28, 0xA1],  // bad continuation
        ]
        for seq in bad {
            for chunk in [1, 2, 100] {
                let v = validate(Array("ab".utf8) + seq + Array("cd".utf8), chunk: chunk)
                XCTAssertFalse(v.isValid, "\(seq) chunk \(chunk)")
                XCTAssertEqual(v.firstInvalidOffset, 2, "\(seq) chunk \(chunk)")
            }
        }
        // Boundaries that are valid.
        for ok: [UInt8] in [[0xC2, 0x80], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80],
                            [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF]] {
            XCTAssertTrue(validate(ok).isValid, "\(ok)")
        }
    }

    func testLineOfFirstInvalidByte() {
        var bytes = Array("line one\nline two has more than eight bytes\nthird ".utf8)
        let offset = bytes.count
        bytes += [0xC3, 0x28] + Array("\nfourth\n".utf8)
        for chunk in [1, 3, 8, 4096] {
            let v = validate(bytes, chunk: chunk)
            XCTAssertEqual(v.firstInvalidOffset, offset, "chunk \(chunk)")
            XCTAssertEqual(v.line, 3, "chunk \(chunk)")
        }
        // A sequence broken by the line feed itself is on the line of its lead byte.
        let v = validate(Array("a\nb".utf8) + [0xE2, 0x0A] + Array("c".utf8))
        XCTAssertEqual(v.firstInvalidOffset, 3)
        XCTAssertEqual(v.line, 2)
    }

    func testCountsNULsAndNewlinesInFastPath() {
        var bytes = [UInt8](repeating: 0x41, count: 1000)
        for k in stride(from: 0, to: 1000, by: 7) { bytes[k] = 0 }
        for k in stride(from: 3, to: 1000, by: 11) { bytes[k] = 0x0A }
        let nuls = bytes.filter { $0 == 0 }.count
        let lfs = bytes.filter { $0 == 0x0A }.count
        for chunk in [1, 5, 8, 9, 1000] {
            let v = validate(bytes, chunk: chunk)
            XCTAssertTrue(v.isValid)
            XCTAssertEqual(v.nulCount, nuls, "chunk \(chunk)")
            XCTAssertEqual(v.newlineCount, lfs, "chunk \(chunk)")
        }
    }

    func testLatchesAfterFailure() {
        var v = UTF8Validator()
        XCTAssertFalse(v.feed([0x61, 0xFF]))
        XCTAssertFalse(v.feed(Array("fine".utf8)))
        XCTAssertFalse(v.finish())
        XCTAssertEqual(v.firstInvalidOffset, 1)
    }
}

final class RecordsLineSplitterTests: XCTestCase {
    private func split(_ bytes: [UInt8], chunk: Int, max: Int = 1 << 20) -> [LineSplitter.Line] {
        var s = LineSplitter(maxLineBytes: max)
        var lines: [LineSplitter.Line] = []
        var i = 0
        while i < bytes.count {
            let j = Swift.min(bytes.count, i + chunk)
            s.feed(Array(bytes[i..<j])) { lines.append($0) }
            i = j
        }
        s.finish { lines.append($0) }
        return lines
    }

    private func text(_ l: LineSplitter.Line) -> String? {
        if case .line(_, let b, _) = l { return String(decoding: b, as: UTF8.self) }
        return nil
    }

    func testChunkSizesGiveIdenticalLines() {
        let input = Array("first\nsecond line\r\n\n\r\nfifth — ünïcode\nlast without newline".utf8)
        let reference = split(input, chunk: 4096)
        XCTAssertEqual(reference.map { text($0) }, ["first", "second line", "", "", "fifth — ünïcode", "last without newline"])
        XCTAssertEqual(reference.map(\.number), [1, 2, 3, 4, 5, 6])
        guard case .line(_, _, let off5) = reference[4] else { return XCTFail() }
        XCTAssertEqual(off5, Array("first\nsecond line\r\n\n\r\n".utf8).count)
        for chunk in [1, 2, 3, 4, 7] {
            XCTAssertEqual(split(input, chunk: chunk), reference, "chunk \(chunk)")
        }
    }

    func testCRLFSplitAcrossChunks() {
        let input = Array("a\r\nb\r\n".utf8)
        for chunk in 1...6 {
            XCTAssertEqual(split(input, chunk: chunk).map { text($0) }, ["a", "b"], "chunk \(chunk)")
        }
        // A CR not before LF stays in the line.
        XCTAssertEqual(split(Array("a\rb\n".utf8), chunk: 1).map { text($0) }, ["a\rb"])
    }

    func testTrailingNewlineAddsNoEmptyLine() {
        XCTAssertEqual(split(Array("a\nb\n".utf8), chunk: 3).count, 2)
        XCTAssertEqual(split([], chunk: 3).count, 0)
        XCTAssertEqual(split(Array("\n".utf8), chunk: 3).map { text($0) }, [""])
    }

    func testLongLineIsSkippedWithBoundedMemory() {
        var input = Array("short\n".utf8)
        input += [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
        input += Array("\r\nafter\nlast".utf8)
        for chunk in [3, 4096, 65536] {
            let lines = split(input, chunk: chunk, max: 1000)
            XCTAssertEqual(lines.count, 4, "chunk \(chunk)")
            XCTAssertEqual(lines[0], .line(number: 1, bytes: Array("short".utf8), byteOffset: 0))
            XCTAssertEqual(lines[1], .tooLong(number: 2, byteOffset: 6, length: 1 << 20))
            XCTAssertEqual(lines[2], .line(number: 3, bytes: Array("after".utf8), byteOffset: 6 + (1 << 20) + 2))
            XCTAssertEqual(lines[3].number, 4)
            XCTAssertEqual(text(lines[3]), "last")
        }
    }

    func testLimitIsExact() {
        let max = 5
        let input = Array("12345\n123456\n12345\r\n".utf8)
        for chunk in [1, 2, 100] {
            let lines = split(input, chunk: chunk, max: max)
            XCTAssertEqual(text(lines[0]), "12345")
            XCTAssertEqual(lines[1], .tooLong(number: 2, byteOffset: 6, length: 6))
            XCTAssertEqual(text(lines[2]), "12345", "chunk \(chunk)")
        }
        // Too long at the end of input, without a newline.
        XCTAssertEqual(split(Array("1234567".utf8), chunk: 2, max: max), [.tooLong(number: 1, byteOffset: 0, length: 7)])
    }

    func testThrowingEmitStopsFeed() {
        struct Stop: Error {}
        var s = LineSplitter(maxLineBytes: 100)
        var seen = 0
        XCTAssertThrowsError(try s.feed(Array("a\nb\nc\n".utf8)) { _ in
            seen += 1
            if seen == 2 { throw Stop() }
        })
        XCTAssertEqual(seen, 2)
    }
}
