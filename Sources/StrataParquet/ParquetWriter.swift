import Foundation

/// Writes a Parquet file row by row (Parquet format 2: data page v1, PLAIN and RLE_DICTIONARY encodings,
/// RLE definition levels, uncompressed/Snappy/Zstandard pages, column statistics, key-value metadata in the
/// footer).
///
/// Each value goes straight from the row into its column's current page buffer (or, while the column chunk is
/// dictionary-encoded, into the dictionary and the page's index list). A page is closed when it reaches
/// `pageBytes` or `pageRows`, and compressed at once on a worker thread while the next rows are encoded. The
/// compressed pages of a row group are kept until the row group is complete (a column chunk's pages must be
/// contiguous in the file and its dictionary page comes first), then written to `sink` in order: memory is
/// bounded by one row group's compressed pages plus a few page buffers. The writer does no I/O of its own:
/// the caller's sink decides where bytes go (a temp file that is renamed when the file is complete, in
/// Strata's exports).
public final class ParquetWriter {
    public struct Options: Sendable {
        public var compression: ParquetCompression
        /// Rows per row group (Arrow's default is 1Mi rows).
        public var rowGroupRows: Int
        /// A row group is also closed when its values reach this many bytes before compression (this bounds
        /// the writer's memory: it keeps one row group's compressed pages).
        public var rowGroupBytes: Int
        /// Target size of a data page's values before compression (Arrow's default is 1 MiB).
        public var pageBytes: Int
        /// At most this many rows per data page (Arrow's default is 20,000).
        public var pageRows: Int
        /// Dictionary-encode text and binary columns while the chunk's dictionary stays under `dictionaryBytes`;
        /// past it, the rest of the chunk is PLAIN (as Arrow does).
        public var dictionary: Bool
        public var dictionaryBytes: Int
        /// Text and binary min/max statistics longer than this are truncated (and marked inexact).
        public var statisticsBytes: Int
        /// Threads that compress pages while the rows are encoded (1: compress on the calling thread).
        public var threads: Int

        public init(compression: ParquetCompression = .zstd(level: 1), rowGroupRows: Int = 1 << 20,
                    rowGroupBytes: Int = 128 << 20, pageBytes: Int = 1 << 20, pageRows: Int = 20_000,
                    dictionary: Bool = true, dictionaryBytes: Int = 1 << 20, statisticsBytes: Int = 256,
                    threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
            self.compression = compression; self.rowGroupRows = max(1, rowGroupRows); self.rowGroupBytes = rowGroupBytes
            self.pageBytes = max(1, pageBytes); self.pageRows = max(1, pageRows); self.dictionary = dictionary
            self.dictionaryBytes = dictionaryBytes; self.statisticsBytes = max(1, statisticsBytes)
            self.threads = max(1, threads)
        }
    }

    public let fields: [ParquetField]
    public let options: Options
    private let leaves: [Leaf]
    /// For each top-level field, the index of its first leaf.
    private let firstLeaf: [Int]
    private let compressor: PageCompressor
    private let columns: [ColumnWriter]
    private var rowsInGroup = 0
    private var bytesInGroup = 0
    private var position: Int64 = 0
    private var rowGroups: [RowGroupMeta] = []
    private var totalRows: Int64 = 0
    private let sink: (UnsafeRawBufferPointer) throws -> Void
    private var finished = false

    public static let createdBy = "strata 0.1.0"

    public init(fields: [ParquetField], options: Options = Options(), sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
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
        let compressor = PageCompressor(compression: options.compression, threads: options.threads,
                                        pageCapacity: options.pageBytes + (64 << 10))
        self.compressor = compressor
        self.columns = leaves.map { ColumnWriter(leaf: $0, options: options, compressor: compressor) }
        try emit(Array("PAR1".utf8))
    }

    private func emit(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try sink($0) }
        position += Int64(bytes.count)
    }

    private func emit(_ bytes: UnsafeRawBufferPointer) throws {
        try sink(bytes)
        position += Int64(bytes.count)
    }

    /// Appends one row: one cell per field, in schema order. A row that does not fit the schema is rejected
    /// whole (nothing of it is written).
    public func append(_ row: [ParquetCell]) throws {
        precondition(!finished, "append after finish")
        guard row.count == fields.count else {
            throw ParquetError("a row has \(row.count) values but the schema has \(fields.count) columns")
        }
        for (i, cell) in row.enumerated() { try check(cell, fields[i], leaf: firstLeaf[i]) }
        for (i, cell) in row.enumerated() {
            let leafIndex = firstLeaf[i]
            if case .group(let children) = fields[i].kind {
                if case .group(let cells) = cell {
                    let present = fields[i].nullable ? 1 : 0
                    for (j, c) in cells.enumerated() {
                        if case .null = c { columns[leafIndex + j].appendNull(level: present) } else { put(c, leafIndex + j) }
                    }
                } else {
                    for j in children.indices { columns[leafIndex + j].appendNull(level: 0) }
                }
            } else if case .null = cell {
                columns[leafIndex].appendNull(level: 0)
            } else {
                put(cell, leafIndex)
            }
        }
        rowsInGroup += 1
        if rowsInGroup >= options.rowGroupRows || bytesInGroup >= options.rowGroupBytes { try flushRowGroup() }
    }

    /// Throws if the cell cannot go in the field.
    private func check(_ cell: ParquetCell, _ f: ParquetField, leaf: Int) throws {
        if case .null = cell {
            guard f.nullable else { throw ParquetError("column `\(f.name)` is not nullable but a row has null") }
            return
        }
        if case .group(let children) = f.kind {
            guard case .group(let cells) = cell else { throw ParquetError("column `\(f.name)` is a group: give .group([...]) or .null") }
            guard cells.count == children.count else {
                throw ParquetError("column `\(f.name)` has \(children.count) fields but a row gives \(cells.count)")
            }
            for (j, c) in cells.enumerated() {
                if case .null = c {
                    guard children[j].nullable else { throw ParquetError("field `\(f.name).\(children[j].name)` is not nullable but a row has null") }
                } else if !Self.fits(c, leaves[leaf + j].physical) {
                    throw ParquetError("column `\(f.name).\(children[j].name)` cannot hold \(c)")
                }
            }
        } else if !Self.fits(cell, leaves[leaf].physical) {
            throw ParquetError("column `\(f.name)` cannot hold \(cell)")
        }
    }

    private static func fits(_ cell: ParquetCell, _ p: Leaf.Physical) -> Bool {
        switch (p, cell) {
        case (.byteArray, .string), (.byteArray, .bytes), (.int64, .int), (.double, .double), (.double, .int), (.boolean, .bool): true
        default: false
        }
    }

    /// Appends a checked non-null cell to a leaf column.
    @inline(__always) private func put(_ cell: ParquetCell, _ leaf: Int) {
        let c = columns[leaf]
        switch cell {
        case .string(var s):
            let n = s.utf8.count
            s.withUTF8 { b in
                if let base = b.baseAddress { c.appendBytes(UnsafeRawPointer(base), n) } else { withUnsafeBytes(of: 0) { c.appendBytes($0.baseAddress!, 0) } }
            }
            bytesInGroup += n + 4
        case .bytes(let bytes):
            bytes.withUnsafeBytes { b in
                if let base = b.baseAddress { c.appendBytes(base, b.count) } else { withUnsafeBytes(of: 0) { c.appendBytes($0.baseAddress!, 0) } }
            }
            bytesInGroup += bytes.count + 4
        case .int(let v):
            if case .double = leaves[leaf].physical { c.append(Double(v)) } else { c.append(v) }
            bytesInGroup += 8
        case .double(let v):
            c.append(v); bytesInGroup += 8
        case .bool(let v):
            c.append(v); bytesInGroup += 1
        case .null, .group:
            break  // handled by append
        }
    }

    /// Writes the buffered rows as a row group (nothing if there are none).
    public func flushRowGroup() throws {
        guard rowsInGroup > 0 else { return }
        let rows = rowsInGroup
        for c in columns { c.finishChunk() }
        try compressor.wait()
        var metas: [ColumnChunkMeta] = []
        let groupStart = position
        for c in columns {
            var meta = ColumnChunkMeta(leaf: c.leaf, encodings: c.usedDictionary ? [0, 3, 8] : [0, 3], numValues: Int64(rows),
                                       statistics: c.stats)
            for slot in (c.dictionarySlot.map { [$0] } ?? []) + c.slots {
                guard let stored = slot.stored else { throw ParquetError("a page of column `\(c.leaf.path.joined(separator: "."))` was not compressed") }
                var h = ThriftWriter()
                h.structBody { w in
                    w.i32(1, slot.isDictionary ? 2 : 0)
                    w.i32(2, Int32(slot.uncompressedSize))
                    w.i32(3, Int32(stored.count))
                    if slot.isDictionary {
                        w.structField(7) { d in
                            d.i32(1, Int32(slot.values))
                            d.i32(2, 0)  // PLAIN
                        }
                    } else {
                        w.structField(5) { d in
                            d.i32(1, Int32(slot.values))
                            d.i32(2, slot.encoding)
                            d.i32(3, 3)  // RLE
                            d.i32(4, 3)  // RLE
                        }
                    }
                }
                if slot.isDictionary {
                    meta.dictionaryOffset = position
                } else if meta.dataOffset == nil {
                    meta.dataOffset = position
                }
                meta.uncompressed += Int64(h.bytes.count + slot.uncompressedSize)
                meta.compressed += Int64(h.bytes.count + stored.count)
                try emit(h.bytes)
                try emit(stored.bytes)
                slot.stored = nil
            }
            metas.append(meta)
            c.reset()
        }
        rowGroups.append(RowGroupMeta(columns: metas, rows: Int64(rows), start: groupStart,
                                      compressed: position - groupStart, ordinal: rowGroups.count))
        totalRows += Int64(rows)
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
                        md.structField(12) { st in
                            st.i64(3, col.statistics.nulls)
                            if let (lo, hi, loExact, hiExact) = col.statistics.encoded(col.leaf.physical) {
                                st.binary(5, hi)
                                st.binary(6, lo)
                                st.bool(7, hiExact)
                                st.bool(8, loExact)
                            }
                        }
                    }
                }
                g.i64(2, group.columns.reduce(0) { $0 + $1.uncompressed })
                g.i64(3, group.rows)
                g.i64(5, group.start)
                g.i64(6, group.compressed)
                g.i16(7, Int16(truncatingIfNeeded: group.ordinal))
            }
            if !metadata.isEmpty {
                m.structList(5, metadata) { kv, pair in
                    kv.string(1, pair.key)
                    kv.string(2, pair.value)
                }
            }
            m.string(6, Self.createdBy)
            // Every column's min/max follow its type's order (unsigned bytes for text and binary).
            m.structList(7, leaves) { o, _ in o.structField(1) { _ in } }
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

struct ColumnChunkMeta {
    var leaf: Leaf
    var encodings: [Int32]
    var numValues: Int64
    var statistics: ColumnStatistics
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
    var ordinal: Int
}
