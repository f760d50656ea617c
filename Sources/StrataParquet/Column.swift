import Foundation

/// The distinct byte strings of a column chunk, kept as the PLAIN body of its dictionary page (4-byte length,
/// bytes), with an open-addressing hash table of entry indices over them.
struct ByteDictionary {
    let plain: PageBuffer
    /// Where each entry's 4-byte length starts in `plain`.
    private var offsets: [Int] = []
    private var hashes: [UInt64] = []
    private var table: [Int32]
    private var mask: Int

    init(capacity: Int) {
        plain = PageBuffer(capacity: capacity, front: 0)
        table = [Int32](repeating: -1, count: 1024)
        mask = 1023
    }

    var count: Int { offsets.count }
    var bytes: Int { plain.count }

    /// The entry index of the value, adding it if it is new.
    @inline(__always)
    mutating func insert(_ p: UnsafeRawPointer, _ n: Int) -> (index: UInt32, isNew: Bool) {
        let h = Self.hash(p, n)
        var slot = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = Int(table[slot])
            if e < 0 { break }
            if hashes[e] == h {
                let off = offsets[e]
                if Int(plain.base.loadUnaligned(fromByteOffset: off, as: UInt32.self)) == n
                    && (n == 0 || memcmp(plain.base + off + 4, p, n) == 0) {
                    return (UInt32(e), false)
                }
            }
            slot = (slot + 1) & mask
        }
        let index = offsets.count
        offsets.append(plain.end)
        hashes.append(h)
        plain.appendLE(UInt32(n))
        plain.append(p, n)
        table[slot] = Int32(index)
        if offsets.count * 2 > table.count { rehash() }
        return (UInt32(index), true)
    }

    private mutating func rehash() {
        let size = table.count * 2
        table = [Int32](repeating: -1, count: size)
        mask = size - 1
        for (i, h) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: h) & mask
            while table[slot] >= 0 { slot = (slot + 1) & mask }
            table[slot] = Int32(i)
        }
    }

    /// A 64-bit hash of a byte string, 8 bytes per step.
    @inline(__always)
    static func hash(_ p: UnsafeRawPointer, _ n: Int) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: n)
        var i = 0
        while i + 8 <= n {
            h = (h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        if i < n {
            var w: UInt64 = 0
            withUnsafeMutableBytes(of: &w) { _ = memcpy($0.baseAddress!, p + i, n - i) }
            h = (h ^ w) &* 0xC4CE_B9FE_1A85_EC53
        }
        h ^= h >> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        return h
    }
}

/// Min, max and null count of a column chunk, written to its ColumnMetaData so readers can skip row groups.
///
/// Byte strings longer than `limit` are truncated: the minimum to a prefix (a lower bound), the maximum to a
/// prefix whose last character is incremented (an upper bound); `is_min/max_value_exact` say so. UTF-8 columns
/// are cut at character boundaries so the bounds stay valid text.
struct ColumnStatistics {
    var nulls: Int64 = 0
    var hasValue = false
    var minBytes: [UInt8] = []
    var maxBytes: [UInt8] = []
    var minExact = true
    var maxExact = true
    var minInt: Int64 = .max
    var maxInt: Int64 = .min
    var minDouble: Double = .infinity
    var maxDouble: Double = -.infinity
    var sawDouble = false
    var sawTrue = false
    var sawFalse = false
    let limit: Int
    let utf8: Bool

    init(limit: Int, utf8: Bool) {
        self.limit = limit
        self.utf8 = utf8
    }

    @inline(__always)
    static func compare(_ p: UnsafeRawPointer, _ n: Int, _ b: [UInt8]) -> Int {
        b.withUnsafeBytes { q in
            let m = min(n, q.count)
            if m > 0 {
                let c = memcmp(p, q.baseAddress!, m)
                if c != 0 { return Int(c) }
            }
            return n < q.count ? -1 : (n > q.count ? 1 : 0)
        }
    }

    @inline(__always)
    mutating func update(_ p: UnsafeRawPointer, _ n: Int) {
        if !hasValue {
            hasValue = true
            setMin(p, n)
            setMax(p, n)
            return
        }
        if Self.compare(p, n, minBytes) < 0 { setMin(p, n) }
        if Self.compare(p, n, maxBytes) > 0 { setMax(p, n) }
    }

    /// The longest prefix of at most `limit` bytes that ends on a character boundary (UTF-8 columns).
    private func cut(_ p: UnsafeRawPointer, _ n: Int) -> Int {
        var c = min(n, limit)
        if utf8 && c < n {
            while c > 0 && (p.load(fromByteOffset: c, as: UInt8.self) & 0xC0) == 0x80 { c -= 1 }
        }
        return c
    }

    private mutating func setMin(_ p: UnsafeRawPointer, _ n: Int) {
        let c = cut(p, n)
        minBytes = Array(UnsafeRawBufferPointer(start: p, count: c))
        minExact = c == n
    }

    private mutating func setMax(_ p: UnsafeRawPointer, _ n: Int) {
        if n > limit {
            var prefix = Array(UnsafeRawBufferPointer(start: p, count: cut(p, n)))
            // Increment the last byte that can be incremented without breaking UTF-8 (an ASCII byte below 0x7F or
            // a continuation byte below 0xBF); drop what follows it.
            while let last = prefix.last {
                if utf8 ? (last < 0x7F || (last & 0xC0 == 0x80 && last < 0xBF)) : last < 0xFF {
                    prefix[prefix.count - 1] = last + 1
                    maxBytes = prefix
                    maxExact = false
                    return
                }
                if utf8 {
                    // Drop the whole last character: its continuation bytes, then its first byte.
                    while let b = prefix.last, b & 0xC0 == 0x80 { prefix.removeLast() }
                }
                if !prefix.isEmpty { prefix.removeLast() }
            }
        }
        maxBytes = Array(UnsafeRawBufferPointer(start: p, count: n))
        maxExact = true
    }

    @inline(__always) mutating func update(_ v: Int64) {
        hasValue = true
        if v < minInt { minInt = v }
        if v > maxInt { maxInt = v }
    }

    @inline(__always) mutating func update(_ v: Double) {
        if v.isNaN { return }  // NaN has no place in min/max (the format's rule)
        hasValue = true
        if v < minDouble { minDouble = v }
        if v > maxDouble { maxDouble = v }
    }

    @inline(__always) mutating func update(_ v: Bool) {
        hasValue = true
        if v { sawTrue = true } else { sawFalse = true }
    }

    /// PLAIN-encoded min and max for the column's physical type, or nil when there is no non-null value.
    func encoded(_ physical: Leaf.Physical) -> (min: [UInt8], max: [UInt8], minExact: Bool, maxExact: Bool)? {
        guard hasValue else { return nil }
        func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        switch physical {
        case .byteArray: return (minBytes, maxBytes, minExact, maxExact)
        case .int64: return (le(minInt), le(maxInt), true, true)
        case .double:
            // Zeros: the minimum is written as -0.0 and the maximum as +0.0 (the format's rule).
            let lo = minDouble == 0 ? -0.0 : minDouble
            let hi = maxDouble == 0 ? 0.0 : maxDouble
            return (le(lo.bitPattern), le(hi.bitPattern), true, true)
        case .boolean: return ([sawFalse ? 0 : 1], [sawTrue ? 1 : 0], true, true)
        }
    }
}

/// One leaf column of the file being written: encodes its values straight into the current page buffer (or
/// dictionary indices), closes the page when it reaches `pageBytes` or `pageRows`, and hands it to the
/// compressor at once. Keeps the column chunk's compressed pages until the row group is written.
final class ColumnWriter {
    let leaf: Leaf
    private let options: ParquetWriter.Options
    private let compressor: PageCompressor
    /// Room kept in front of each data page's values for its definition levels.
    private let front: Int
    private let levelWidth: Int
    private var page: PageBuffer
    private var defs: [UInt8] = []
    private var indices: [UInt32] = []
    private var rows = 0
    private var bools: UInt8 = 0
    private var boolBits = 0
    private var dictionary: ByteDictionary?
    /// New values go through the dictionary (until it grows past `dictionaryBytes`; then PLAIN).
    private var dictionaryOpen = false
    private var scratch: [UInt8] = []
    private(set) var slots: [PageSlot] = []
    private(set) var dictionarySlot: PageSlot?
    private(set) var usedDictionary = false
    private(set) var stats: ColumnStatistics
    private(set) var chunkRows = 0

    init(leaf: Leaf, options: ParquetWriter.Options, compressor: PageCompressor) {
        self.leaf = leaf
        self.options = options
        self.compressor = compressor
        levelWidth = Hybrid.bitWidth(leaf.maxDefinition)
        // Worst case of the RLE/bit-packed hybrid for levels of at most 2 bits: under one byte per value.
        front = leaf.maxDefinition > 0 ? 4 + options.pageRows + 64 : 0
        page = compressor.takeBuffer(front: front)
        var utf8 = false
        if case .byteArray(utf8: true) = leaf.physical { utf8 = true }
        stats = ColumnStatistics(limit: options.statisticsBytes, utf8: utf8)
        startChunk()
    }

    private func startChunk() {
        slots = []
        dictionarySlot = nil
        usedDictionary = false
        chunkRows = 0
        stats = ColumnStatistics(limit: options.statisticsBytes, utf8: stats.utf8)
        if options.dictionary, case .byteArray = leaf.physical {
            dictionary = ByteDictionary(capacity: options.dictionaryBytes + (64 << 10))
            dictionaryOpen = true
        } else {
            dictionary = nil
            dictionaryOpen = false
        }
    }

    @inline(__always) private func endValue() {
        rows += 1
        if rows >= options.pageRows || page.end - page.start >= options.pageBytes { closePage() }
    }

    @inline(__always) func appendNull(level: Int) {
        defs.append(UInt8(level))
        stats.nulls += 1
        endValue()
    }

    @inline(__always) func appendBytes(_ p: UnsafeRawPointer, _ n: Int) {
        if leaf.maxDefinition > 0 { defs.append(UInt8(leaf.maxDefinition)) }
        if dictionaryOpen {
            let (index, isNew) = dictionary!.insert(p, n)
            if isNew { stats.update(p, n) }
            indices.append(index)
            if isNew && dictionary!.bytes > options.dictionaryBytes {
                // Too many distinct values: this page stays dictionary-encoded, the rest of the chunk is PLAIN.
                rows += 1
                closePage()
                dictionaryOpen = false
                return
            }
        } else {
            stats.update(p, n)
            page.appendLE(UInt32(n))
            page.append(p, n)
        }
        endValue()
    }

    @inline(__always) func append(_ v: Int64) {
        if leaf.maxDefinition > 0 { defs.append(UInt8(leaf.maxDefinition)) }
        stats.update(v)
        page.appendLE(v)
        endValue()
    }

    @inline(__always) func append(_ v: Double) {
        if leaf.maxDefinition > 0 { defs.append(UInt8(leaf.maxDefinition)) }
        stats.update(v)
        page.appendLE(v.bitPattern)
        endValue()
    }

    @inline(__always) func append(_ v: Bool) {
        if leaf.maxDefinition > 0 { defs.append(UInt8(leaf.maxDefinition)) }
        stats.update(v)
        if v { bools |= 1 << UInt8(boolBits) }
        boolBits += 1
        if boolBits == 8 { page.appendByte(bools); bools = 0; boolBits = 0 }
        endValue()
    }

    /// Closes the current page (levels written in front of its values) and submits it for compression.
    func closePage() {
        guard rows > 0 else { return }
        if boolBits > 0 { page.appendByte(bools); bools = 0; boolBits = 0 }
        var encoding: Int32 = 0
        if dictionaryOpen, let dictionary, dictionary.count > 0 {
            let width = Hybrid.bitWidth(dictionary.count - 1)
            page.appendByte(UInt8(width))
            scratch.removeAll(keepingCapacity: true)
            indices.withUnsafeBufferPointer { Hybrid.encode($0, bitWidth: width, into: &scratch) }
            page.append(scratch)
            encoding = 8  // RLE_DICTIONARY
            usedDictionary = true
        }
        if leaf.maxDefinition > 0 {
            scratch.removeAll(keepingCapacity: true)
            defs.withUnsafeBufferPointer { Hybrid.encode($0, bitWidth: levelWidth, into: &scratch) }
            page.prepend(levels: scratch)
        }
        let slot = PageSlot(values: rows, encoding: encoding, isDictionary: false, uncompressedSize: page.count)
        slots.append(slot)
        compressor.submit(page, slot)
        page = compressor.takeBuffer(front: front)
        chunkRows += rows
        rows = 0
        defs.removeAll(keepingCapacity: true)
        indices.removeAll(keepingCapacity: true)
    }

    /// Closes the last page and submits the dictionary page (when a page used it). The slots are complete after
    /// the compressor's `wait()`; `reset()` starts the next chunk.
    func finishChunk() {
        closePage()
        if usedDictionary, let dictionary {
            let slot = PageSlot(values: dictionary.count, encoding: 0, isDictionary: true, uncompressedSize: dictionary.bytes)
            dictionarySlot = slot
            compressor.submit(dictionary.plain, slot)
            self.dictionary = nil
        }
    }

    func reset() { startChunk() }
}
