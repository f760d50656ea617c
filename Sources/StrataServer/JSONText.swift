import NIOCore

/// Hand-written JSON for the two hot answers of the API (`GET /api/queue/next`, `POST /api/labels`), which run
/// thousands of times a second: appending escaped strings to a byte buffer costs a fraction of building a
/// dictionary and running `JSONSerialization` over it. Keys are written in sorted order, like `JSONOut`.
struct JSONText {
    private(set) var bytes: [UInt8] = []
    private var needsComma: [Bool] = []

    init(capacity: Int = 512) { bytes.reserveCapacity(capacity) }

    /// Opens an object (at the top, or as the value after `key`).
    mutating func beginObject() { bytes.append(UInt8(ascii: "{")); needsComma.append(false) }
    mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma.removeLast() }

    mutating func key(_ k: String) {
        if needsComma.last == true { bytes.append(UInt8(ascii: ",")) }
        Self.appendString(k, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        needsComma[needsComma.count - 1] = true
    }

    mutating func field(_ k: String, _ v: String) { key(k); Self.appendString(v, to: &bytes) }
    mutating func field(_ k: String, _ v: Int64) { key(k); bytes.append(contentsOf: String(v).utf8) }
    mutating func field(_ k: String, _ v: Int) { field(k, Int64(v)) }
    mutating func field(_ k: String, _ v: Bool) { key(k); bytes.append(contentsOf: (v ? "true" : "false").utf8) }
    /// A value that is already JSON text.
    mutating func field(_ k: String, raw: [UInt8]) { key(k); bytes.append(contentsOf: raw) }

    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
