/// A writer for the Thrift compact protocol, the encoding of Parquet's footer and page headers.
///
/// Only what Parquet needs: structs, lists, i16/i32/i64, binary (strings) and booleans.
/// See the Thrift compact protocol spec: field headers carry the delta from the previous field id in the high
/// nibble when it fits (1...15), integers are zigzag varints.
struct ThriftWriter {
    enum FieldType: UInt8 {
        case boolTrue = 1, boolFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6, double = 7, binary = 8
        case list = 9, set = 10, map = 11, `struct` = 12
    }

    var bytes: [UInt8] = []
    private var lastField: [Int16] = [0]

    init() { bytes.reserveCapacity(256) }

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func zigzag(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

    private mutating func fieldHeader(_ id: Int16, _ type: UInt8) {
        let delta = id - lastField[lastField.count - 1]
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type)
        } else {
            bytes.append(type)
            zigzag(Int64(id))
        }
        lastField[lastField.count - 1] = id
    }

    mutating func i32(_ id: Int16, _ v: Int32) { fieldHeader(id, FieldType.i32.rawValue); zigzag(Int64(v)) }
    mutating func i64(_ id: Int16, _ v: Int64) { fieldHeader(id, FieldType.i64.rawValue); zigzag(v) }
    mutating func i16(_ id: Int16, _ v: Int16) { fieldHeader(id, FieldType.i16.rawValue); zigzag(Int64(v)) }
    mutating func bool(_ id: Int16, _ v: Bool) { fieldHeader(id, v ? FieldType.boolTrue.rawValue : FieldType.boolFalse.rawValue) }

    mutating func binary(_ id: Int16, _ v: some Collection<UInt8>) {
        fieldHeader(id, FieldType.binary.rawValue)
        varint(UInt64(v.count))
        bytes.append(contentsOf: v)
    }

    mutating func string(_ id: Int16, _ s: String) { binary(id, Array(s.utf8)) }

    /// A struct field: `body` writes the inner fields; the stop byte is added here.
    mutating func structField(_ id: Int16, _ body: (inout ThriftWriter) -> Void) {
        fieldHeader(id, FieldType.struct.rawValue)
        structBody(body)
    }

    /// A struct's fields and stop byte (also used for list elements and the top-level struct).
    mutating func structBody(_ body: (inout ThriftWriter) -> Void) {
        lastField.append(0)
        body(&self)
        bytes.append(0)
        lastField.removeLast()
    }

    private mutating func listHeader(_ id: Int16, count: Int, element: FieldType) {
        fieldHeader(id, FieldType.list.rawValue)
        if count < 15 {
            bytes.append(UInt8(count) << 4 | element.rawValue)
        } else {
            bytes.append(0xF0 | element.rawValue)
            varint(UInt64(count))
        }
    }

    mutating func structList<T>(_ id: Int16, _ items: [T], _ body: (inout ThriftWriter, T) -> Void) {
        listHeader(id, count: items.count, element: .struct)
        for item in items { structBody { body(&$0, item) } }
    }

    mutating func i32List(_ id: Int16, _ items: [Int32]) {
        listHeader(id, count: items.count, element: .i32)
        for v in items { zigzag(Int64(v)) }
    }

    mutating func stringList(_ id: Int16, _ items: [String]) {
        listHeader(id, count: items.count, element: .binary)
        for s in items {
            varint(UInt64(s.utf8.count))
            bytes.append(contentsOf: s.utf8)
        }
    }
}
