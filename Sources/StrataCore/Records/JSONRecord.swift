/// Parses JSONL lines. A hand-written recursive-descent parser over bytes: validates UTF-8 inside
/// strings, decodes all escapes including `\uXXXX` surrogate pairs, limits nesting depth (so hostile
/// input is refused quickly instead of overflowing the stack) and rejects trailing garbage.
///
/// Duplicate keys in an object: the last one wins (as in most JSON libraries).
public enum JSONRecord {
    /// The largest `maxDepth` honoured; larger values are clamped to keep recursion within any thread's stack.
    public static let depthCeiling = 512

    /// Parses one JSONL line that must hold a JSON object. A leading UTF-8 BOM and surrounding
    /// whitespace (including a trailing `\r`) are ignored.
    public static func parseObject(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 64) -> Result<[String: JSONValue], RecordProblem> {
        var parser = Parser(bytes, maxDepth: maxDepth)
        do {
            return .success(try parser.parseTopLevelObject())
        } catch {
            return .failure(error)
        }
    }

    /// Parses one JSONL line that must hold a JSON object (see the pointer variant).
    public static func parseObject<C: Collection<UInt8>>(_ bytes: C, maxDepth: Int = 64) -> Result<[String: JSONValue], RecordProblem> {
        if let r = bytes.withContiguousStorageIfAvailable({ parseObject(UnsafeRawBufferPointer($0), maxDepth: maxDepth) }) {
            return r
        }
        return Array(bytes).withUnsafeBytes { parseObject($0, maxDepth: maxDepth) }
    }

    /// Parses one JSONL line that must hold a JSON object.
    public static func parseObject(_ text: String, maxDepth: Int = 64) -> Result<[String: JSONValue], RecordProblem> {
        var text = text
        return text.withUTF8 { parseObject(UnsafeRawBufferPointer($0), maxDepth: maxDepth) }
    }

    /// Parses any single JSON value (for configs and tests; JSONL records use `parseObject`).
    public static func parseValue(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 64) -> Result<JSONValue, RecordProblem> {
        var parser = Parser(bytes, maxDepth: maxDepth)
        do {
            return .success(try parser.parseDocument())
        } catch {
            return .failure(error)
        }
    }

    /// Parses any single JSON value.
    public static func parseValue(_ text: String, maxDepth: Int = 64) -> Result<JSONValue, RecordProblem> {
        var text = text
        return text.withUTF8 { parseValue(UnsafeRawBufferPointer($0), maxDepth: maxDepth) }
    }
}

private struct Parser {
    let p: UnsafeRawBufferPointer
    let end: Int
    /// Where column 1 is (after a BOM).
    let origin: Int
    let maxDepth: Int
    var i: Int
    var scratch: [UInt8] = []

    init(_ bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        p = bytes
        end = bytes.count
        let bom = end >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF
        origin = bom ? 3 : 0
        i = origin
        self.maxDepth = max(1, min(maxDepth, JSONRecord.depthCeiling))
    }

    // MARK: entry points

    mutating func parseTopLevelObject() throws(RecordProblem) -> [String: JSONValue] {
        skipWhitespace()
        guard i < end else {
            throw RecordProblem(kind: RecordProblem.malformedRow, message: "expected a JSON object, found an empty line", column: nil)
        }
        let c = p[i]
        guard c == UInt8(ascii: "{") else {
            let found: String?
            switch c {
            case UInt8(ascii: "["): found = "an array"
            case UInt8(ascii: "\""): found = "a string"
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): found = "a number"
            case UInt8(ascii: "t") where matches("true"): found = "`true`"
            case UInt8(ascii: "f") where matches("false"): found = "`false`"
            case UInt8(ascii: "n") where matches("null"): found = "`null`"
            default: found = nil
            }
            if let found {
                throw RecordProblem(kind: RecordProblem.malformedRow, message: "expected a JSON object, found \(found)", column: column(i))
            }
            throw unexpected()
        }
        i += 1
        let fields = try parseObjectBody(depth: 1)
        try expectEnd()
        return fields
    }

    mutating func parseDocument() throws(RecordProblem) -> JSONValue {
        let v = try parseValue(depth: 0)
        try expectEnd()
        return v
    }

    private mutating func expectEnd() throws(RecordProblem) {
        skipWhitespace()
        if i < end {
            throw unexpected(suffix: " (after the end of the JSON value)")
        }
    }

    // MARK: values

    private mutating func parseValue(depth: Int) throws(RecordProblem) -> JSONValue {
        skipWhitespace()
        guard i < end else { throw unexpected() }
        switch p[i] {
        case UInt8(ascii: "{"):
            guard depth < maxDepth else { throw tooDeep() }
            i += 1
            return .object(try parseObjectBody(depth: depth + 1))
        case UInt8(ascii: "["):
            guard depth < maxDepth else { throw tooDeep() }
            i += 1
            return .array(try parseArrayBody(depth: depth + 1))
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        case UInt8(ascii: "t") where matches("true"):
            i += 4
            return .bool(true)
        case UInt8(ascii: "f") where matches("false"):
            i += 5
            return .bool(false)
        case UInt8(ascii: "n") where matches("null"):
            i += 4
            return .null
        default:
            throw unexpected()
        }
    }

    /// After `{`.
    private mutating func parseObjectBody(depth: Int) throws(RecordProblem) -> [String: JSONValue] {
        var fields: [String: JSONValue] = [:]
        skipWhitespace()
        if i < end && p[i] == UInt8(ascii: "}") {
            i += 1
            return fields
        }
        while true {
            skipWhitespace()
            guard i < end, p[i] == UInt8(ascii: "\"") else { throw unexpected(suffix: " (expected a key in double quotes)") }
            let key = try parseString()
            skipWhitespace()
            guard i < end, p[i] == UInt8(ascii: ":") else { throw unexpected(suffix: " (expected `:` after the key)") }
            i += 1
            fields[key] = try parseValue(depth: depth)
            skipWhitespace()
            guard i < end else { throw unexpected() }
            if p[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            if p[i] == UInt8(ascii: "}") {
                i += 1
                return fields
            }
            throw unexpected(suffix: " (expected `,` or `}`)")
        }
    }

    /// After `[`.
    private mutating func parseArrayBody(depth: Int) throws(RecordProblem) -> [JSONValue] {
        var items: [JSONValue] = []
        skipWhitespace()
        if i < end && p[i] == UInt8(ascii: "]") {
            i += 1
            return items
        }
        while true {
            items.append(try parseValue(depth: depth))
            skipWhitespace()
            guard i < end else { throw unexpected() }
            if p[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            if p[i] == UInt8(ascii: "]") {
                i += 1
                return items
            }
            throw unexpected(suffix: " (expected `,` or `]`)")
        }
    }

    /// At the opening quote.
    private mutating func parseString() throws(RecordProblem) -> String {
        let open = i
        i += 1
        var escaped = false
        var segment = i
        scratch.removeAll(keepingCapacity: true)
        while true {
            // Scan a run of plain bytes.
            var j = i
            var nonASCII = false
            while j < end {
                let c = p[j]
                if c == 0x22 || c == 0x5C || c < 0x20 { break }
                if c >= 0x80 { nonASCII = true }
                j += 1
            }
            if nonASCII, let bad = UTF8Validator.firstInvalidIndex(in: UnsafeRawBufferPointer(rebasing: p[i..<j])) {
                throw invalidUTF8(at: i + bad)
            }
            guard j < end else {
                throw RecordProblem(kind: RecordProblem.malformedRow,
                                    message: "line is not valid JSON: unterminated string starting at column \(column(open))",
                                    column: column(open))
            }
            let c = p[j]
            if c == 0x22 {
                i = j + 1
                if !escaped { return String(decoding: UnsafeRawBufferPointer(rebasing: p[segment..<j]), as: UTF8.self) }
                scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[segment..<j]))
                return String(decoding: scratch, as: UTF8.self)
            }
            if c < 0x20 {
                throw RecordProblem(kind: RecordProblem.malformedRow,
                                    message: "line is not valid JSON: \(describeControl(c)) inside a string at column \(column(j)) (it must be escaped)",
                                    column: column(j))
            }
            // Backslash.
            escaped = true
            scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[segment..<j]))
            i = j
            try parseEscape()
            segment = i
        }
    }

    /// At a backslash inside a string; appends the decoded character to `scratch`.
    private mutating func parseEscape() throws(RecordProblem) {
        let at = i
        guard i + 1 < end else { throw badEscape(at: at) }
        let e = p[i + 1]
        i += 2
        switch e {
        case UInt8(ascii: "\""): scratch.append(0x22)
        case UInt8(ascii: "\\"): scratch.append(0x5C)
        case UInt8(ascii: "/"): scratch.append(0x2F)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            guard let unit = hex4(at: i) else { throw badEscape(at: at) }
            i += 4
            var scalar = unit
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard i + 1 < end, p[i] == 0x5C, p[i + 1] == UInt8(ascii: "u"), let low = hex4(at: i + 2),
                      low >= 0xDC00 && low <= 0xDFFF
                else { throw unpairedSurrogate(unit, at: at) }
                i += 6
                scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            } else if unit >= 0xDC00 && unit <= 0xDFFF {
                throw unpairedSurrogate(unit, at: at)
            }
            scratch.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
        default:
            throw badEscape(at: at)
        }
    }

    private func hex4(at k: Int) -> UInt32? {
        guard k + 4 <= end else { return nil }
        var v: UInt32 = 0
        for d in 0..<4 {
            let c = p[k + d]
            let x: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): x = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): x = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): x = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            v = v << 4 | UInt32(x)
        }
        return v
    }

    private mutating func parseNumber() throws(RecordProblem) -> JSONValue {
        let start = i
        @inline(__always) func isDigit(_ k: Int) -> Bool { k < end && p[k] >= 0x30 && p[k] <= 0x39 }
        if p[i] == UInt8(ascii: "-") { i += 1 }
        if i < end && p[i] == UInt8(ascii: "0") {
            i += 1
        } else if isDigit(i) {
            while isDigit(i) { i += 1 }
        } else {
            throw unexpected()
        }
        var integral = true
        if i < end && p[i] == UInt8(ascii: ".") {
            i += 1
            guard isDigit(i) else { throw unexpected(suffix: " (expected a digit)") }
            while isDigit(i) { i += 1 }
            integral = false
        }
        if i < end && (p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E")) {
            i += 1
            if i < end && (p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-")) { i += 1 }
            guard isDigit(i) else { throw unexpected(suffix: " (expected a digit)") }
            while isDigit(i) { i += 1 }
            integral = false
        }
        let text = UnsafeRawBufferPointer(rebasing: p[start..<i])
        if integral {
            let negative = text[0] == UInt8(ascii: "-")
            var v: Int64 = 0
            var overflow = false
            for c in text.dropFirst(negative ? 1 : 0) {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let d = Int64(c - 0x30)
                let (s, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
                if o1 || o2 { overflow = true; break }
                v = s
            }
            if !overflow {
                // Keep the sign of -0 (a double), so it survives a round trip.
                if negative && v == 0 { return .number(-0.0) }
                return .int(v)
            }
        }
        let s = String(decoding: text, as: UTF8.self)
        guard let d = Double(s), d.isFinite else {
            throw RecordProblem(kind: RecordProblem.malformedRow,
                                message: "line is not valid JSON: number \(s) at column \(column(start)) is out of range",
                                column: column(start))
        }
        return .number(d)
    }

    // MARK: helpers

    @inline(__always)
    private mutating func skipWhitespace() {
        while i < end {
            let c = p[i]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 } else { return }
        }
    }

    private func matches(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard i + n <= end else { return false }
        let w = word.utf8Start
        for k in 0..<n where p[i + k] != w[k] { return false }
        return true
    }

    /// 1-based column of byte `k`, counting Unicode scalars (not bytes) from the start of the line.
    func column(_ k: Int) -> Int {
        var n = 1
        var j = origin
        while j < k && j < end {
            if p[j] & 0xC0 != 0x80 { n += 1 }
            j += 1
        }
        return n
    }

    private func tooDeep() -> RecordProblem {
        RecordProblem(kind: RecordProblem.tooDeep,
                      message: "JSON is nested more than \(maxDepth) levels deep (at column \(column(i)))",
                      column: column(i))
    }

    private func invalidUTF8(at k: Int) -> RecordProblem {
        RecordProblem(kind: RecordProblem.invalidUTF8,
                      message: "line is not valid UTF-8: byte 0x\(hexByte(p[k])) at column \(column(k))",
                      column: column(k))
    }

    private func badEscape(at k: Int) -> RecordProblem {
        var text = "\\"
        var j = k + 1
        while j < end && j < k + 6 && p[j] >= 0x21 && p[j] < 0x7F && p[j] != 0x22 {
            text.append(Character(Unicode.Scalar(p[j])))
            j += 1
            if text.count == 2 && !text.hasSuffix("u") { break }
        }
        return RecordProblem(kind: RecordProblem.malformedRow,
                             message: "line is not valid JSON: invalid escape `\(text)` at column \(column(k))",
                             column: column(k))
    }

    private func unpairedSurrogate(_ unit: UInt32, at k: Int) -> RecordProblem {
        let hex = String(unit, radix: 16, uppercase: true)
        return RecordProblem(kind: RecordProblem.malformedRow,
                             message: "line is not valid JSON: unpaired surrogate `\\u\(hex)` at column \(column(k))",
                             column: column(k))
    }

    /// "unexpected `x` at column N" for the byte at `i`, or "unexpected end of line".
    private func unexpected(suffix: String = "") -> RecordProblem {
        guard i < end else {
            return RecordProblem(kind: RecordProblem.malformedRow,
                                 message: "line is not valid JSON: unexpected end of line at column \(column(end))",
                                 column: column(end))
        }
        let c = p[i]
        let what: String
        if c >= 0x80 {
            // Not valid JSON here either way, but invalid UTF-8 is the more useful diagnosis.
            if UTF8Validator.firstInvalidIndex(in: UnsafeRawBufferPointer(rebasing: p[i..<min(end, i + 4)]), allowTruncatedEnd: i + 4 < end) == 0 {
                return invalidUTF8(at: i)
            }
            var len = 1
            while len < 4 && i + len < end && p[i + len] & 0xC0 == 0x80 { len += 1 }
            what = "`" + String(decoding: UnsafeRawBufferPointer(rebasing: p[i..<i + len]), as: UTF8.self) + "`"
        } else if c < 0x20 || c == 0x7F {
            what = describeControl(c)
        } else if Self.isWordByte(c) {
            var j = i
            while j < end && j < i + 24 && Self.isWordByte(p[j]) { j += 1 }
            what = "`" + String(decoding: UnsafeRawBufferPointer(rebasing: p[i..<j]), as: UTF8.self) + "`"
        } else {
            what = "`" + String(Character(Unicode.Scalar(c))) + "`"
        }
        return RecordProblem(kind: RecordProblem.malformedRow,
                             message: "line is not valid JSON: unexpected \(what) at column \(column(i))\(suffix)",
                             column: column(i))
    }

    private static func isWordByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
    }

    private func describeControl(_ c: UInt8) -> String {
        switch c {
        case 0x00: "a NUL byte"
        case 0x09: "a tab"
        case 0x0A: "a line feed"
        case 0x0D: "a carriage return"
        default: "control character U+00\(hexByte(c))"
        }
    }

    private func hexByte(_ c: UInt8) -> String {
        let s = String(c, radix: 16, uppercase: true)
        return s.count == 1 ? "0" + s : s
    }
}
