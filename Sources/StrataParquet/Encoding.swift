/// Parquet's value and level encodings: PLAIN and the RLE / bit-packing hybrid (definition levels and
/// dictionary indices).
enum Hybrid {
    /// Bits needed to store values up to `maxValue` (at least 1).
    static func bitWidth(_ maxValue: Int) -> Int {
        maxValue <= 1 ? 1 : (Int.bitWidth - (maxValue).leadingZeroBitCount)
    }

    static func varint(_ v: Int, into out: inout [UInt8]) {
        var v = UInt64(v)
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// Encodes `values` (each < 2^bitWidth): runs of 8 or more equal values become RLE runs, the rest is
    /// bit-packed in groups of 8 (the last group padded with zeros; readers stop at the page's value count).
    static func encode<T: FixedWidthInteger & UnsignedInteger>(_ values: UnsafeBufferPointer<T>, bitWidth: Int, into out: inout [UInt8]) {
        let n = values.count
        var i = 0
        var pendingStart = 0
        while i < n {
            let v = values[i]
            var j = i + 1
            while j < n && values[j] == v { j += 1 }
            let pending = i - pendingStart
            let fill = (8 - pending % 8) % 8
            if j - i - fill >= 8 {
                let rleStart = i + fill
                if rleStart > pendingStart { packed(values, pendingStart..<rleStart, bitWidth: bitWidth, into: &out) }
                rle(v, count: j - rleStart, bitWidth: bitWidth, into: &out)
                pendingStart = j
            }
            i = j
        }
        if pendingStart < n { packed(values, pendingStart..<n, bitWidth: bitWidth, into: &out) }
    }

    private static func rle<T: FixedWidthInteger & UnsignedInteger>(_ value: T, count: Int, bitWidth: Int, into out: inout [UInt8]) {
        varint(count << 1, into: &out)
        var v = UInt64(value)
        for _ in 0..<((bitWidth + 7) / 8) {
            out.append(UInt8(truncatingIfNeeded: v))
            v >>= 8
        }
    }

    private static func packed<T: FixedWidthInteger & UnsignedInteger>(_ values: UnsafeBufferPointer<T>, _ range: Range<Int>, bitWidth: Int, into out: inout [UInt8]) {
        let groups = (range.count + 7) / 8
        varint(groups << 1 | 1, into: &out)
        var acc: UInt64 = 0
        var bits = 0
        let end = range.lowerBound + groups * 8
        var k = range.lowerBound
        while k < end {
            let v = k < range.upperBound ? UInt64(values[k]) : 0
            acc |= v << UInt64(bits)
            bits += bitWidth
            while bits >= 8 {
                out.append(UInt8(truncatingIfNeeded: acc))
                acc >>= 8
                bits -= 8
            }
            k += 1
        }
        if bits > 0 { out.append(UInt8(truncatingIfNeeded: acc)) }
    }
}
