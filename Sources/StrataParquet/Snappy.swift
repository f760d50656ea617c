/// A Snappy compressor (raw format, as Parquet uses it: no framing).
///
/// The format: the uncompressed length as a varint, then literals and back-references (copies) within 64 KiB
/// blocks. Matches are found with a hash table of 4-byte sequences, skipping faster through data that does
/// not compress, in the manner of the reference implementation (written here from the format description).
public enum Snappy {
    static let blockSize = 1 << 16
    static let tableBits = 14

    public static func compress(_ input: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        Hybrid.varint(input.count, into: &out)
        guard input.count > 0, let base = input.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        out.reserveCapacity(out.count + input.count + input.count / 6 + 32)
        var table = [UInt16](repeating: 0, count: 1 << tableBits)
        var start = 0
        while start < input.count {
            let end = min(start + blockSize, input.count)
            if start > 0 { for k in table.indices { table[k] = 0 } }
            table.withUnsafeMutableBufferPointer { t in
                compressBlock(base + start, end - start, table: t, into: &out)
            }
            start = end
        }
    }

    public static func compress(_ input: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        input.withUnsafeBytes { compress($0, into: &out) }
        return out
    }

    @inline(__always) private static func load32(_ p: UnsafePointer<UInt8>, _ i: Int) -> UInt32 {
        UnsafeRawPointer(p + i).loadUnaligned(as: UInt32.self)
    }

    @inline(__always) private static func hash(_ v: UInt32) -> Int {
        Int((v &* 0x1e35a7bd) >> UInt32(32 - tableBits))
    }

    private static func compressBlock(_ src: UnsafePointer<UInt8>, _ n: Int, table: UnsafeMutableBufferPointer<UInt16>, into out: inout [UInt8]) {
        var nextEmit = 0
        let inputMargin = 15
        if n >= inputMargin {
            let limit = n - inputMargin
            var ip = 1
            outer: while true {
                var skip = 32
                var candidate = 0
                while true {
                    if ip > limit { break outer }
                    let cur = load32(src, ip)
                    let h = hash(cur)
                    candidate = Int(table[h])
                    table[h] = UInt16(ip)
                    if candidate < ip && load32(src, candidate) == cur { break }
                    ip += skip >> 5
                    skip += 1
                }
                literal(src + nextEmit, ip - nextEmit, into: &out)
                while true {
                    var matched = 4
                    while ip + matched < n && src[candidate + matched] == src[ip + matched] { matched += 1 }
                    copy(offset: ip - candidate, length: matched, into: &out)
                    ip += matched
                    nextEmit = ip
                    if ip >= limit { break outer }
                    table[hash(load32(src, ip - 1))] = UInt16(ip - 1)
                    let cur = load32(src, ip)
                    let h = hash(cur)
                    candidate = Int(table[h])
                    table[h] = UInt16(ip)
                    if !(candidate < ip && load32(src, candidate) == cur) { break }
                }
                ip += 1
            }
        }
        if nextEmit < n { literal(src + nextEmit, n - nextEmit, into: &out) }
    }

    private static func literal(_ p: UnsafePointer<UInt8>, _ len: Int, into out: inout [UInt8]) {
        guard len > 0 else { return }
        let n = len - 1
        if n < 60 {
            out.append(UInt8(n << 2))
        } else if n < 1 << 8 {
            out.append(60 << 2); out.append(UInt8(n))
        } else if n < 1 << 16 {
            out.append(61 << 2); out.append(UInt8(n & 0xFF)); out.append(UInt8(n >> 8))
        } else if n < 1 << 24 {
            out.append(62 << 2); out.append(UInt8(n & 0xFF)); out.append(UInt8((n >> 8) & 0xFF)); out.append(UInt8(n >> 16))
        } else {
            out.append(63 << 2)
            for s in stride(from: 0, to: 32, by: 8) { out.append(UInt8((n >> s) & 0xFF)) }
        }
        out.append(contentsOf: UnsafeBufferPointer(start: p, count: len))
    }

    private static func copy(offset: Int, length: Int, into out: inout [UInt8]) {
        var len = length
        while len >= 68 { copy2(offset, 64, &out); len -= 64 }
        if len > 64 { copy2(offset, 60, &out); len -= 60 }
        if len >= 4 && len < 12 && offset < 2048 {
            out.append(UInt8(((offset >> 8) << 5) | ((len - 4) << 2) | 1))
            out.append(UInt8(offset & 0xFF))
        } else {
            copy2(offset, len, &out)
        }
    }

    @inline(__always) private static func copy2(_ offset: Int, _ len: Int, _ out: inout [UInt8]) {
        out.append(UInt8(((len - 1) << 2) | 2))
        out.append(UInt8(offset & 0xFF))
        out.append(UInt8(offset >> 8))
    }
}
