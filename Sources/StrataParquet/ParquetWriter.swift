import CZstd
import Foundation

/// Writes a Parquet file row by row (Parquet format 2: data page v1, PLAIN and RLE_DICTIONARY encodings,
/// RLE definition levels, uncompressed/Snappy/Zstandard pages, key-value metadata in the footer).
///
/// Rows are buffered until a row group is full; then every column chunk is encoded, its pages are compressed
/// on all cores, and the chunk bytes go to `sink` in order. The writer does no I/O of its own: the caller's
/// sink decides where bytes go (a temp file that is renamed when the file is complete, in Strata's exports).
public final class ParquetWriter {
    public struct Options: Sendable {
        public var compression: ParquetCompression
        /// Rows per row group (Arrow's default is 1Mi rows).
        public var rowGroupRows: Int
        /// A row group is also closed when its buffered values reach this many bytes (bounds memory).
        public var rowGroupBytes: Int
        /// Target size of a data page's values before compression (Arrow's default is 1 MiB).
        public var pageBytes: Int
        /// Dictionary-encode text and binary columns while the dictionary stays under `dictionaryBytes`.
        public var dictionary: Bool
        public var dictionaryBytes: Int
        /// Threads that compress pages.
        public var threads: Int

        public init(compression: ParquetCompression = .zstd(level: 1), rowGroupRows: Int = 1 << 20,
                    rowGroupBytes: Int = 256 << 20, pageBytes: Int = 1 << 20, dictionary: Bool = true,
                    dictionaryBytes: Int = 1 << 20, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
            self.compression = compression; self.rowGroupRows = rowGroupRows; self.rowGroupBytes = rowGroupBytes
            self.pageBytes = pageBytes; self.dictionary = dictionary; self.dictionaryBytes = dictionaryBytes
            self.threads = max(1, threads)
        }
    }

    public let fields: [ParquetField]
    public let options: Options
    private let leaves: [Leaf]
    /// For each top-level field, the index of its first leaf.
    private let firstLeaf: [Int]
    private var columns: [ColumnBuffer]
    private var rowsInGroup = 0
    private var bytesInGroup = 0
    private var position: Int64 = 0
    private var rowGroups: [RowGroupMeta] = []
    private var totalRows: Int64 = 0
    private let sink: ([UInt8]) throws -> Void
    private var finished = false

    public static let createdBy = "strata 0.1.0"

    public init(fields: [ParquetField], options: Options = Options(), sink: @escaping ([UInt8]) throws -> Void) throws {
        guard !fields.isEmpty else { throw ParquetError("a Parquet file needs at least one column") }
        self.fields = fields
        self.options = options
        self.sink = sink
        var leaves: [Leaf] = []
        var first: [Int] = []
        for (i, f) in fields.enumerated() {
            first.append(leaves.count)
            let own = f.nullable ? 1 : 0
            switch f.kind {
            case .group(let children):
                guard !children.isEmpty else { throw ParquetError("the group column `\(f.name)` has no fields") }
                for (j, c) in children.enumerated() {
                    guard let physical = Leaf.physical(c.kind) else {
                        throw ParquetError("the group column `\(f.name)` nests another group (`\(c.name)`): only one level is supported")
                    }
                    leaves.append(Leaf(path: [f.name, c.name], physical: physical, maxDefinition: own + (c.nullable ? 1 : 0), field: i, child: j))
                }
            default:
                leaves.append(Leaf(path: [f.name], physical: Leaf.physical(f.kind)!, maxDefinition: own, field: i, child: nil))
            }
        }
        self.leaves = leaves
        self.firstLeaf = first
        self.columns = leaves.map { _ in ColumnBuffer() }
        try emit(Array("PAR1".utf8))
    }

    private func emit(_ bytes: [UInt8]) throws {
        try sink(bytes)
        position += Int64(bytes.count)
    }

    /// Appends one row: one cell per field, in schema order.
    public func append(_ row: [ParquetCell]) throws {
        precondition(!finished, "append after finish")
        guard row.count == fields.count else {
            throw ParquetError("a row has \(row.count) values but the schema has \(fields.count) columns")
        }
        for (i, cell) in row.enumerated() {
            let f = fields[i]
            let leafIndex = firstLeaf[i]
            if case .group(let children) = f.kind {
                switch cell {
                case .null:
                    guard f.nullable else { throw ParquetError("column `\(f.name)` is not nullable but a row has null") }
                    for j in children.indices { columns[leafIndex + j].defs.append(0) }
                case .group(let cells):
                    guard cells.count == children.count else {
                        throw ParquetError("column `\(f.name)` has \(children.count) fields but a row gives \(cells.count)")
                    }
                    let present = UInt8(f.nullable ? 1 : 0)
                    for (j, c) in cells.enumerated() {
                        let leaf = leafIndex + j
                        if case .null = c {
                            guard children[j].nullable else { throw ParquetError("field `\(f.name).\(children[j].name)` is not nullable but a row has null") }
                            if leaves[leaf].maxDefinition > 0 { columns[leaf].defs.append(present) }
                        } else {
                            try put(c, leaf: leaf)
                        }
                    }
                default:
                    throw ParquetError("column `\(f.name)` is a group: give .group([...]) or .null")
                }
            } else if case .null = cell {
                guard f.nullable else { throw ParquetError("column `\(f.name)` is not nullable but a row has null") }
                columns[leafIndex].defs.append(0)
            } else {
                try put(cell, leaf: leafIndex)
            }
        }
        rowsInGroup += 1
        if rowsInGroup >= options.rowGroupRows || bytesInGroup >= options.rowGroupBytes { try flushRowGroup() }
    }

    private func put(_ cell: ParquetCell, leaf: Int) throws {
        let l = leaves[leaf]
        if l.maxDefinition > 0 { columns[leaf].defs.append(UInt8(l.maxDefinition)) }
        switch (l.physical, cell) {
        case (.byteArray, .string(var s)):
            s.withUTF8 { columns[leaf].data.append(contentsOf: $0) }
            columns[leaf].offsets.append(columns[leaf].data.count)
            bytesInGroup += s.utf8.count + 4
        case (.byteArray, .bytes(let b)):
            columns[leaf].data.append(contentsOf: b)
            columns[leaf].offsets.append(columns[leaf].data.count)
            bytesInGroup += b.count + 4
        case (.int64, .int(let v)):
            columns[leaf].ints.append(v); bytesInGroup += 8
        case (.double, .double(let v)):
            columns[leaf].doubles.append(v); bytesInGroup += 8
        case (.double, .int(let v)):
            columns[leaf].doubles.append(Double(v)); bytesInGroup += 8
        case (.boolean, .bool(let v)):
            columns[leaf].bools.append(v); bytesInGroup += 1
        default:
            throw ParquetError("column `\(l.path.joined(separator: "."))` cannot hold \(cell)")
        }
    }

    /// Writes the buffered rows as a row group (nothing if there are none).
    public func flushRowGroup() throws {
        guard rowsInGroup > 0 else { return }
        let rows = rowsInGroup
        // One column chunk at a time (bounded memory): encode its pages, compress them on all threads, write them,
        // and release the chunk's buffers before the next one.
        var metas: [ColumnChunkMeta] = []
        let groupStart = position
        for i in leaves.indices {
            var chunk = encodeChunk(leaves[i], columns[i], rows: rows)
            columns[i] = ColumnBuffer()
            let compressed = try compressAll(chunk.pages.map(\.body))
            for p in chunk.pages.indices { chunk.pages[p].compressed = compressed[p] }
            var meta = ColumnChunkMeta(leaf: leaves[i], encodings: chunk.encodings, numValues: Int64(rows))
            for page in chunk.pages {
                var h = ThriftWriter()
                h.structBody { w in
                    w.i32(1, page.isDictionary ? 2 : 0)
                    w.i32(2, Int32(page.body.count))
                    w.i32(3, Int32(page.compressed.count))
                    if page.isDictionary {
                        w.structField(7) { d in
                            d.i32(1, Int32(page.values))
                            d.i32(2, 0)  // PLAIN
                        }
                    } else {
                        w.structField(5) { d in
                            d.i32(1, Int32(page.values))
                            d.i32(2, page.encoding)
                            d.i32(3, 3)  // RLE
                            d.i32(4, 3)  // RLE
                        }
                    }
                }
                if page.isDictionary {
                    meta.dictionaryOffset = position
                } else if meta.dataOffset == nil {
                    meta.dataOffset = position
                }
                meta.uncompressed += Int64(h.bytes.count + page.body.count)
                meta.compressed += Int64(h.bytes.count + page.compressed.count)
                try emit(h.bytes)
                try emit(page.compressed)
            }
            metas.append(meta)
        }
        rowGroups.append(RowGroupMeta(columns: metas, rows: Int64(rows), start: groupStart,
                                      compressed: position - groupStart))
        totalRows += Int64(rows)
        columns = leaves.map { _ in ColumnBuffer() }
        rowsInGroup = 0
        bytesInGroup = 0
    }

    /// Flushes the last row group and writes the footer. Returns the file's size in bytes.
    @discardableResult
    public func finish(metadata: [(key: String, value: String)] = []) throws -> Int64 {
        precondition(!finished, "finish called twice")
        try flushRowGroup()
        finished = true
        var w = ThriftWriter()
        w.structBody { m in
            m.i32(1, 2)
            // Schema: the root, then every field depth first.
            var elements: [(ThriftWriter) -> ThriftWriter] = []
            elements.append { e in var e = e; e.string(4, "schema"); e.i32(5, Int32(self.fields.count)); return e }
            for f in fields {
                switch f.kind {
                case .group(let children):
                    elements.append { e in
                        var e = e
                        e.i32(3, f.nullable ? 1 : 0); e.string(4, f.name); e.i32(5, Int32(children.count)); return e
                    }
                    for c in children { elements.append { e in Self.leafElement(c, e) } }
                default:
                    elements.append { e in Self.leafElement(f, e) }
                }
            }
            m.structList(2, elements) { e, build in e = build(e) }
            m.i64(3, totalRows)
            m.structList(4, rowGroups) { g, group in
                g.structList(1, group.columns) { c, col in
                    let first = col.dictionaryOffset ?? col.dataOffset ?? 0
                    c.i64(2, first)
                    c.structField(3) { md in
                        md.i32(1, col.leaf.physical.typeNumber)
                        md.i32List(2, col.encodings)
                        md.stringList(3, col.leaf.path)
                        md.i32(4, self.options.compression.codec)
                        md.i64(5, col.numValues)
                        md.i64(6, col.uncompressed)
                        md.i64(7, col.compressed)
                        md.i64(9, col.dataOffset ?? first)
                        if let d = col.dictionaryOffset { md.i64(11, d) }
                    }
                }
                g.i64(2, group.columns.reduce(0) { $0 + $1.uncompressed })
                g.i64(3, group.rows)
                g.i64(5, group.start)
                g.i64(6, group.compressed)
                g.i16(7, Int16(truncatingIfNeeded: self.rowGroups.firstIndex { $0.start == group.start } ?? 0))
            }
            if !metadata.isEmpty {
                m.structList(5, metadata) { kv, pair in
                    kv.string(1, pair.key)
                    kv.string(2, pair.value)
                }
            }
            m.string(6, Self.createdBy)
        }
        let footer = w.bytes
        var tail = footer
        let n = UInt32(footer.count)
        tail.append(contentsOf: [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8(n >> 24)])
        tail.append(contentsOf: Array("PAR1".utf8))
        try emit(tail)
        return position
    }

    private static func leafElement(_ f: ParquetField, _ e: ThriftWriter) -> ThriftWriter {
        var e = e
        let physical = Leaf.physical(f.kind)!
        e.i32(1, physical.typeNumber)
        e.i32(3, f.nullable ? 1 : 0)
        e.string(4, f.name)
        if case .string = f.kind {
            e.i32(6, 0)  // ConvertedType UTF8
            e.structField(10) { lt in lt.structField(1) { _ in } }  // LogicalType STRING
        }
        return e
    }

    // MARK: encoding a column chunk

    private func encodeChunk(_ leaf: Leaf, _ col: ColumnBuffer, rows: Int) -> EncodedChunk {
        var chunk = EncodedChunk()
        let valueCount = col.valueCount(leaf.physical)
        // Dictionary for text and bytes, given up once it grows past the limit.
        var dict: Dictionary_? = nil
        if options.dictionary, case .byteArray = leaf.physical, valueCount > 0 {
            dict = Dictionary_.build(col, limit: options.dictionaryBytes)
        }
        if let dict {
            var body: [UInt8] = []
            body.reserveCapacity(dict.bytes + 4 * dict.entries.count)
            col.data.withUnsafeBufferPointer { data in
                for (s, e) in dict.entries {
                    let n = UInt32(e - s)
                    body.append(contentsOf: [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8(n >> 24)])
                    body.append(contentsOf: UnsafeBufferPointer(rebasing: data[s..<e]))
                }
            }
            chunk.pages.append(Page(body: body, values: dict.entries.count, encoding: 0, isDictionary: true))
            chunk.encodings = [0, 3, 8]
        } else {
            chunk.encodings = [0, 3]
        }
        let bitWidth = dict.map { Hybrid.bitWidth($0.entries.count - 1) } ?? 0
        // Split rows into pages by the size of their values.
        var row = 0
        var value = 0
        while row < rows {
            let rowStart = row, valueStart = value
            var bytes = 0
            while row < rows && (bytes < options.pageBytes || row == rowStart) {
                let present = leaf.maxDefinition == 0 || Int(col.defs[row]) == leaf.maxDefinition
                if present {
                    if dict != nil { bytes += 1 } else { bytes += col.size(of: value, leaf.physical) }
                    value += 1
                }
                row += 1
            }
            var body: [UInt8] = []
            if leaf.maxDefinition > 0 {
                var levels: [UInt8] = []
                col.defs.withUnsafeBufferPointer { d in
                    let wide = d[rowStart..<row].map { UInt32($0) }
                    wide.withUnsafeBufferPointer { Hybrid.encode($0, bitWidth: Hybrid.bitWidth(leaf.maxDefinition), into: &levels) }
                }
                let n = UInt32(levels.count)
                body.append(contentsOf: [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8(n >> 24)])
                body.append(contentsOf: levels)
            }
            if let dict {
                body.append(UInt8(bitWidth))
                dict.indices.withUnsafeBufferPointer { idx in
                    Hybrid.encode(UnsafeBufferPointer(rebasing: idx[valueStart..<value]), bitWidth: bitWidth, into: &body)
                }
                chunk.pages.append(Page(body: body, values: row - rowStart, encoding: 8, isDictionary: false))
            } else {
                col.plain(leaf.physical, valueStart..<value, into: &body)
                chunk.pages.append(Page(body: body, values: row - rowStart, encoding: 0, isDictionary: false))
            }
        }
        return chunk
    }

    private func compressAll(_ bodies: [[UInt8]]) throws -> [[UInt8]] {
        let compression = options.compression
        if case .uncompressed = compression { return bodies }
        let results = ResultBox(count: bodies.count)
        let workers = min(options.threads, bodies.count)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            var ctx: OpaquePointer? = nil
            if case .zstd = compression { ctx = ZSTD_createCCtx() }
            defer { if let ctx { ZSTD_freeCCtx(ctx) } }
            while true {
                let k = results.take()
                if k >= bodies.count { break }
                let out: Result<[UInt8], ParquetError>
                switch compression {
                case .uncompressed: out = .success(bodies[k])
                case .snappy:
                    var o: [UInt8] = []
                    bodies[k].withUnsafeBytes { Snappy.compress($0, into: &o) }
                    out = .success(o)
                case .zstd(let level):
                    out = Self.zstd(bodies[k], level: level, ctx: ctx)
                }
                results.set(k, out)
            }
        }
        return try results.values.map { try $0!.get() }
    }

    private static func zstd(_ input: [UInt8], level: Int32, ctx: OpaquePointer?) -> Result<[UInt8], ParquetError> {
        let bound = ZSTD_compressBound(input.count)
        var code = 0
        let out = [UInt8](unsafeUninitializedCapacity: bound) { buf, count in
            code = input.withUnsafeBytes { src in
                ZSTD_compressCCtx(ctx, buf.baseAddress, bound, src.baseAddress, input.count, level)
            }
            count = ZSTD_isError(code) != 0 ? 0 : code
        }
        if ZSTD_isError(code) != 0 {
            return .failure(ParquetError("zstd compression failed: \(String(cString: ZSTD_getErrorName(code)))"))
        }
        return .success(out)
    }
}

/// Slots for results written by concurrent workers (each slot by exactly one worker).
private final class ResultBox: @unchecked Sendable {
    var values: [Result<[UInt8], ParquetError>?]
    let lock = NSLock()
    private var next = 0
    init(count: Int) { values = Array(repeating: nil, count: count) }
    /// The next task index for a worker.
    func take() -> Int { lock.lock(); defer { lock.unlock() }; next += 1; return next - 1 }
    func set(_ i: Int, _ r: Result<[UInt8], ParquetError>) { lock.lock(); values[i] = r; lock.unlock() }
}

extension Leaf {
    static func physical(_ kind: ParquetField.Kind) -> Physical? {
        switch kind {
        case .string: .byteArray(utf8: true)
        case .binary: .byteArray(utf8: false)
        case .int64: .int64
        case .double: .double
        case .boolean: .boolean
        case .group: nil
        }
    }
}

extension Leaf.Physical {
    /// Parquet's physical Type number.
    var typeNumber: Int32 {
        switch self {
        case .boolean: 0
        case .int64: 2
        case .double: 5
        case .byteArray: 6
        }
    }
}

/// The values of one leaf column in the current row group.
struct ColumnBuffer {
    var data: [UInt8] = []
    var offsets: [Int] = [0]
    var ints: [Int64] = []
    var doubles: [Double] = []
    var bools: [Bool] = []
    /// One definition level per row (only for leaves that can be null).
    var defs: [UInt8] = []

    func valueCount(_ p: Leaf.Physical) -> Int {
        switch p {
        case .byteArray: offsets.count - 1
        case .int64: ints.count
        case .double: doubles.count
        case .boolean: bools.count
        }
    }

    func size(of value: Int, _ p: Leaf.Physical) -> Int {
        switch p {
        case .byteArray: offsets[value + 1] - offsets[value] + 4
        case .int64, .double: 8
        case .boolean: 1
        }
    }

    func plain(_ p: Leaf.Physical, _ range: Range<Int>, into out: inout [UInt8]) {
        switch p {
        case .byteArray:
            out.reserveCapacity(out.count + offsets[range.upperBound] - offsets[range.lowerBound] + 4 * range.count)
            data.withUnsafeBufferPointer { d in
                for v in range {
                    let s = offsets[v], e = offsets[v + 1]
                    let n = UInt32(e - s)
                    out.append(UInt8(n & 0xFF)); out.append(UInt8((n >> 8) & 0xFF))
                    out.append(UInt8((n >> 16) & 0xFF)); out.append(UInt8(n >> 24))
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: d[s..<e]))
                }
            }
        case .int64:
            for v in range { withUnsafeBytes(of: ints[v].littleEndian) { out.append(contentsOf: $0) } }
        case .double:
            for v in range { withUnsafeBytes(of: doubles[v].bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        case .boolean:
            var acc: UInt8 = 0
            var bit = 0
            for v in range {
                if bools[v] { acc |= 1 << UInt8(bit) }
                bit += 1
                if bit == 8 { out.append(acc); acc = 0; bit = 0 }
            }
            if bit > 0 { out.append(acc) }
        }
    }
}

/// A dictionary of the distinct byte strings of a column chunk, with each value's index.
struct Dictionary_ {
    /// (start, end) of each distinct value's first occurrence in the column's data.
    var entries: [(Int, Int)] = []
    var indices: [UInt32] = []
    var bytes = 0

    /// Builds the dictionary, or returns nil once its values pass `limit` bytes.
    static func build(_ col: ColumnBuffer, limit: Int) -> Dictionary_? {
        let n = col.offsets.count - 1
        var d = Dictionary_()
        d.indices.reserveCapacity(n)
        var capacity = 1024
        var table = [Int32](repeating: -1, count: capacity)
        var hashes: [UInt64] = []
        return col.data.withUnsafeBufferPointer { data -> Dictionary_? in
            col.offsets.withUnsafeBufferPointer { off -> Dictionary_? in
                for v in 0..<n {
                    let s = off[v], e = off[v + 1]
                    var h: UInt64 = 0xcbf29ce484222325
                    for k in s..<e { h = (h ^ UInt64(data[k])) &* 0x100000001b3 }
                    h ^= h >> 29
                    var slot = Int(truncatingIfNeeded: h) & (capacity - 1)
                    var found: Int32 = -1
                    while table[slot] >= 0 {
                        let idx = Int(table[slot])
                        if hashes[idx] == h {
                            let (ds, de) = d.entries[idx]
                            if de - ds == e - s && memcmp(data.baseAddress! + ds, data.baseAddress! + s, e - s) == 0 {
                                found = Int32(idx)
                                break
                            }
                        }
                        slot = (slot + 1) & (capacity - 1)
                    }
                    if found < 0 {
                        found = Int32(d.entries.count)
                        d.entries.append((s, e))
                        hashes.append(h)
                        d.bytes += e - s + 4
                        if d.bytes > limit { return nil }
                        table[slot] = found
                        if d.entries.count * 2 > capacity {
                            capacity *= 2
                            table = [Int32](repeating: -1, count: capacity)
                            for (i, hh) in hashes.enumerated() {
                                var sl = Int(truncatingIfNeeded: hh) & (capacity - 1)
                                while table[sl] >= 0 { sl = (sl + 1) & (capacity - 1) }
                                table[sl] = Int32(i)
                            }
                        }
                    }
                    d.indices.append(UInt32(found))
                }
                return d
            }
        }
    }
}

struct Page {
    var body: [UInt8]
    /// Rows in a data page (values including nulls), or entries in a dictionary page.
    var values: Int
    var encoding: Int32
    var isDictionary: Bool
    var compressed: [UInt8] = []
}

struct EncodedChunk {
    var pages: [Page] = []
    var encodings: [Int32] = []
}

struct ColumnChunkMeta {
    var leaf: Leaf
    var encodings: [Int32]
    var numValues: Int64
    var dataOffset: Int64? = nil
    var dictionaryOffset: Int64? = nil
    var uncompressed: Int64 = 0
    var compressed: Int64 = 0
}

struct RowGroupMeta {
    var columns: [ColumnChunkMeta]
    var rows: Int64
    var start: Int64
    var compressed: Int64
}
