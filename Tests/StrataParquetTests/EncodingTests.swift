import XCTest
@testable import StrataParquet

/// Decoders written here from the Parquet and Snappy format descriptions, to check the encoders round-trip.
/// (The real readers, pyarrow, DuckDB and Hugging Face datasets, read Strata's exports in StrataCLITests.)
final class EncodingTests: XCTestCase {
    func decodeHybrid(_ bytes: [UInt8], bitWidth: Int, count: Int) -> [UInt32] {
        var out: [UInt32] = []
        var i = 0
        func varint() -> Int {
            var v = 0, shift = 0
            while true { let b = bytes[i]; i += 1; v |= Int(b & 0x7F) << shift; if b < 0x80 { return v }; shift += 7 }
        }
        while out.count < count {
            let header = varint()
            if header & 1 == 1 {
                let groups = header >> 1
                var acc: UInt64 = 0, bits = 0
                for _ in 0..<(groups * 8) {
                    while bits < bitWidth { acc |= UInt64(bytes[i]) << UInt64(bits); i += 1; bits += 8 }
                    out.append(UInt32(acc & ((1 << UInt64(bitWidth)) - 1)))
                    acc >>= UInt64(bitWidth); bits -= bitWidth
                }
            } else {
                var v: UInt32 = 0
                for k in 0..<((bitWidth + 7) / 8) { v |= UInt32(bytes[i]) << UInt32(8 * k); i += 1 }
                out.append(contentsOf: repeatElement(v, count: header >> 1))
            }
        }
        return Array(out.prefix(count))
    }

    func testHybridRoundTripsRunsAndMixedValues() {
        var rng = SystemRandomNumberGenerator()
        for width in [1, 2, 3, 7, 12] {
            var values: [UInt32] = []
            for _ in 0..<50 {
                let v = UInt32.random(in: 0..<(1 << UInt32(width)), using: &rng)
                let run = Int.random(in: 1...20, using: &rng)
                values.append(contentsOf: repeatElement(v, count: run))
            }
            var out: [UInt8] = []
            values.withUnsafeBufferPointer { Hybrid.encode($0, bitWidth: width, into: &out) }
            XCTAssertEqual(decodeHybrid(out, bitWidth: width, count: values.count), values, "bit width \(width)")
        }
    }

    func testHybridUsesRunsForRepeatedValues() {
        let values = [UInt32](repeating: 1, count: 10_000)
        var out: [UInt8] = []
        values.withUnsafeBufferPointer { Hybrid.encode($0, bitWidth: 1, into: &out) }
        XCTAssertLessThan(out.count, 8, "one RLE run: a varint header and one byte")
        XCTAssertEqual(decodeHybrid(out, bitWidth: 1, count: values.count), values)
    }

    func snappyDecode(_ bytes: [UInt8]) -> [UInt8] {
        var i = 0
        var n = 0, shift = 0
        while true { let b = bytes[i]; i += 1; n |= Int(b & 0x7F) << shift; if b < 0x80 { break }; shift += 7 }
        var out: [UInt8] = []
        while i < bytes.count {
            let tag = bytes[i]; i += 1
            switch tag & 3 {
            case 0:
                var len = Int(tag >> 2)
                if len >= 60 {
                    let extra = len - 59
                    len = 0
                    for k in 0..<extra { len |= Int(bytes[i + k]) << (8 * k) }
                    i += extra
                }
                len += 1
                out.append(contentsOf: bytes[i..<(i + len)]); i += len
            case 1:
                let len = Int((tag >> 2) & 7) + 4
                let off = Int(tag >> 5) << 8 | Int(bytes[i]); i += 1
                for _ in 0..<len { out.append(out[out.count - off]) }
            default:
                let len = Int(tag >> 2) + 1
                let off = Int(bytes[i]) | Int(bytes[i + 1]) << 8; i += 2
                for _ in 0..<len { out.append(out[out.count - off]) }
            }
        }
        XCTAssertEqual(out.count, n)
        return out
    }

    /// Compresses one page through the writer's compressor (libsnappy) and decodes it with the decoder above.
    func snappyThroughWriter(_ input: [UInt8]) throws -> [UInt8] {
        let c = PageCompressor(compression: .snappy, threads: 1, pageCapacity: 1 << 16)
        let page = c.takeBuffer(front: 0)
        page.append(input)
        let slot = PageSlot(values: 1, encoding: 0, isDictionary: false, uncompressedSize: input.count)
        c.submit(page, slot)
        try c.wait()
        return Array(try XCTUnwrap(slot.stored).bytes)
    }

    func testSnappyPagesDecodeToTheirInput() throws {
        let text = Array(String(repeating: "the quick brown fox jumps over the lazy dog; ", count: 4000).utf8)
        let c = try snappyThroughWriter(text)
        XCTAssertLessThan(c.count, text.count / 10)
        XCTAssertEqual(snappyDecode(c), text)
        var rng = SystemRandomNumberGenerator()
        let random = (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        XCTAssertEqual(snappyDecode(try snappyThroughWriter(random)), random)
        XCTAssertEqual(snappyDecode(try snappyThroughWriter([1, 2, 3])), [1, 2, 3])
        XCTAssertEqual(snappyDecode(try snappyThroughWriter([])), [])
    }

    func testWriterFramesTheFileAndRejectsBadRows() throws {
        var file: [UInt8] = []
        let w = try ParquetWriter(fields: [.string("id", nullable: false), .int64("n")]) { file.append(contentsOf: $0) }
        try w.append([.string("a"), .int(1)])
        try w.append([.string("b"), .null])
        XCTAssertThrowsError(try w.append([.null, .int(2)])) { XCTAssertTrue("\($0)".contains("`id` is not nullable")) }
        XCTAssertThrowsError(try w.append([.string("c")])) { XCTAssertTrue("\($0)".contains("2 columns")) }
        let size = try w.finish(metadata: [("k", "v")])
        XCTAssertEqual(Int(size), file.count)
        XCTAssertEqual(Array(file.prefix(4)), Array("PAR1".utf8))
        XCTAssertEqual(Array(file.suffix(4)), Array("PAR1".utf8))
        let footerLength = Int(file[file.count - 8]) | Int(file[file.count - 7]) << 8 | Int(file[file.count - 6]) << 16
        XCTAssertLessThan(footerLength, file.count - 12)
    }

    func testStatisticsKeepExactShortBoundsAndValidTruncatedLongOnes() {
        let values = ["mango", "apple", "ééééé", "b", "zebra", "\u{7F}"]
        var stats = ColumnStatistics(limit: 5, utf8: true)
        for v in values { Array(v.utf8).withUnsafeBytes { stats.update($0.baseAddress!, $0.count) } }
        let (lo, hi, loExact, hiExact) = stats.encoded(.byteArray(utf8: true))!
        XCTAssertEqual(lo, Array("apple".utf8))
        XCTAssertTrue(loExact)
        // The largest value is 10 bytes: its 5-byte prefix ends inside a character, so the bound is cut on a
        // character boundary and its last character incremented; it stays valid UTF-8 and above every value.
        XCTAssertFalse(hiExact)
        XCTAssertEqual(hi, Array("éê".utf8))
        XCTAssertNotNil(String(validating: hi, as: UTF8.self))
        for v in values { XCTAssertTrue(hi.lexicographicallyPrecedes(Array(v.utf8)) == false && hi != Array(v.utf8), v) }
        XCTAssertLessThanOrEqual(hi.count, 5)

        var ints = ColumnStatistics(limit: 6, utf8: false)
        for v: Int64 in [5, -3, 9] { ints.update(v) }
        ints.nulls = 2
        let (imin, imax, _, _) = ints.encoded(.int64)!
        XCTAssertEqual(imin, withUnsafeBytes(of: Int64(-3).littleEndian) { Array($0) })
        XCTAssertEqual(imax, withUnsafeBytes(of: Int64(9).littleEndian) { Array($0) })
        XCTAssertNil(ColumnStatistics(limit: 6, utf8: false).encoded(.double), "no values: no min/max")
    }
}
