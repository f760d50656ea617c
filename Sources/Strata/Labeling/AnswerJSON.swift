import Foundation

/// A strict reader for the answer bodies of `POST /api/labels` and `POST /api/review/decisions`: a flat JSON object
/// whose values are strings, numbers, null or lists of strings. It reads only valid JSON (RFC 8259) and gives the
/// values `JSONSerialization` would (`String`, `NSNumber`, `NSNull`, `[String]`); for anything else (other value
/// types, duplicate keys, invalid text) it returns nil and the caller uses `JSONSerialization`, whose error
/// messages name the position. The hot path thus skips Foundation's general parser and its object graph.
enum AnswerJSON {
    static func object(_ b: UnsafeRawBufferPointer) -> [String: Any]? {
        var r = Reader(b: b)
        return r.object()
    }

    private struct Reader {
        let b: UnsafeRawBufferPointer
        var i = 0

        mutating func ws() {
            while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        }

        mutating func eat(_ c: UInt8) -> Bool {
            ws()
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }

        mutating func object() -> [String: Any]? {
            guard eat(UInt8(ascii: "{")) else { return nil }
            var out: [String: Any] = [:]
            if eat(UInt8(ascii: "}")) { return end(out) }
            repeat {
                ws()
                guard let k = string(), eat(UInt8(ascii: ":")), out[k] == nil, let v = value() else { return nil }
                out[k] = v
            } while eat(UInt8(ascii: ","))
            guard eat(UInt8(ascii: "}")) else { return nil }
            return end(out)
        }

        mutating func end(_ o: [String: Any]) -> [String: Any]? {
            ws()
            return i == b.count ? o : nil
        }

        mutating func value() -> Any? {
            ws()
            guard i < b.count else { return nil }
            switch b[i] {
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "n"):
                guard literal("null") else { return nil }
                return NSNull()
            case UInt8(ascii: "["):
                i += 1
                var list: [String] = []
                if eat(UInt8(ascii: "]")) { return list }
                repeat {
                    ws()
                    guard let s = string() else { return nil }
                    list.append(s)
                } while eat(UInt8(ascii: ","))
                guard eat(UInt8(ascii: "]")) else { return nil }
                return list
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
            default: return nil
            }
        }

        mutating func literal(_ s: StaticString) -> Bool {
            let n = s.utf8CodeUnitCount
            guard i + n <= b.count else { return false }
            for k in 0..<n where b[i + k] != s.utf8Start[k] { return false }
            i += n
            return true
        }

        func digit(_ j: Int) -> Bool { j < b.count && b[j] >= 0x30 && b[j] <= 0x39 }

        /// `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`
        mutating func number() -> NSNumber? {
            let start = i
            var integral = true
            if b[i] == UInt8(ascii: "-") { i += 1 }
            guard digit(i) else { return nil }
            if b[i] == UInt8(ascii: "0") { i += 1 } else { while digit(i) { i += 1 } }
            if i < b.count, b[i] == UInt8(ascii: ".") {
                integral = false
                i += 1
                guard digit(i) else { return nil }
                while digit(i) { i += 1 }
            }
            if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
                integral = false
                i += 1
                if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
                guard digit(i) else { return nil }
                while digit(i) { i += 1 }
            }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
            // Like JSONSerialization: whole numbers as integers, the rest as doubles.
            if integral, let n = Int(text) { return NSNumber(value: n) }
            guard let d = Double(text), d.isFinite else { return nil }
            return NSNumber(value: d)
        }

        func hex(_ j: Int) -> UInt32? {
            guard j + 4 <= b.count else { return nil }
            var v: UInt32 = 0
            for k in 0..<4 {
                let c = b[j + k]
                let d: UInt8
                switch c {
                case 0x30...0x39: d = c - 0x30
                case 0x41...0x46: d = c - 0x41 + 10
                case 0x61...0x66: d = c - 0x61 + 10
                default: return nil
                }
                v = v << 4 | UInt32(d)
            }
            return v
        }

        /// A string at `i` (which must be at its opening quote), unescaped; nil for invalid text or UTF-8.
        mutating func string() -> String? {
            guard i < b.count, b[i] == UInt8(ascii: "\"") else { return nil }
            i += 1
            let start = i
            // The common case: no escapes, so the bytes between the quotes are the string.
            while i < b.count, b[i] != UInt8(ascii: "\""), b[i] != UInt8(ascii: "\\"), b[i] >= 0x20 { i += 1 }
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: "\"") {
                let s = String(validating: UnsafeRawBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
                i += 1
                return s
            }
            guard b[i] == UInt8(ascii: "\\") else { return nil }  // a control character
            var bytes = Array(UnsafeRawBufferPointer(rebasing: b[start..<i]))
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "\"") {
                    i += 1
                    return String(validating: bytes, as: UTF8.self)
                }
                if c < 0x20 { return nil }
                if c != UInt8(ascii: "\\") { bytes.append(c); i += 1; continue }
                guard i + 1 < b.count else { return nil }
                let e = b[i + 1]
                i += 2
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(e)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    guard var u = hex(i) else { return nil }
                    i += 4
                    if u >= 0xD800 && u < 0xDC00 {
                        // A high surrogate must be followed by an escaped low one.
                        guard i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u"), let lo = hex(i + 2),
                              lo >= 0xDC00 && lo < 0xE000 else { return nil }
                        i += 6
                        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)
                    } else if u >= 0xDC00 && u < 0xE000 {
                        return nil
                    }
                    guard let scalar = Unicode.Scalar(u) else { return nil }
                    bytes.append(contentsOf: String(Character(scalar)).utf8)
                default: return nil
                }
            }
            return nil
        }
    }
}
