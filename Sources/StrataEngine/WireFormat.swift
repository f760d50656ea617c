import StrataCore

/// The JSONL form of work items and outcomes between tasks, written and read with StrataCore's byte-level JSON
/// (several times faster than Foundation's coders on this per-item path). Keys are short and stable.
extension WorkItem {
    var json: JSONValue {
        var o: [String: JSONValue] = [
            "id": .string(id), "sample": .string(sample), "source": .string(source), "modality": .string(modality),
            "format": .string(format), "content": .string(content.description), "origin": .string(origin), "collected": .string(collected),
            "size": .int(Int64(size)),
        ]
        if let line { o["line"] = .int(Int64(line)) }
        if let score { o["score"] = .number(score) }
        if !transforms.isEmpty {
            o["transforms"] = .array(transforms.map { t in
                .object(["stage": .string(t.stage), "uses": .string(t.uses), "params": .string(t.params),
                         "changes": .array(t.changes.map { .string($0) })])
            })
        }
        return .object(o)
    }

    init(json o: [String: JSONValue]) throws {
        func contentRef(_ text: String) throws -> ContentRef {
            guard let ref = ContentRef(text) else { throw StageError("work item with an unknown content reference `\(text)`") }
            return ref
        }
        func s(_ k: String) throws -> String {
            guard case .string(let v)? = o[k] else { throw StageError("work item without `\(k)`") }
            return v
        }
        var transforms: [Transform] = []
        if case .array(let list)? = o["transforms"] {
            for case .object(let t) in list {
                var changes: [String] = []
                if case .array(let c)? = t["changes"] { changes = c.compactMap(\.asText) }
                transforms.append(Transform(stage: t["stage"]?.asText ?? "", uses: t["uses"]?.asText ?? "",
                                            params: t["params"]?.asText ?? "{}", changes: changes))
            }
        }
        self.init(id: try s("id"), sample: try s("sample"), source: try s("source"), modality: try s("modality"),
                  format: try s("format"), content: try contentRef(try s("content")), origin: try s("origin"),
                  line: o["line"]?.asInt.map { Int($0) }, collected: try s("collected"), transforms: transforms,
                  score: o["score"]?.asDouble, size: Int(o["size"]?.asInt ?? 0))
    }

    /// The same bytes as `json.serialize()` (keys in sorted order), written without building a dictionary.
    public func write(to out: inout [UInt8]) {
        func key(_ k: StaticString, first: Bool = false) {
            if !first { out.append(0x2C) }
            out.append(0x22)
            out.append(contentsOf: UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount))
            out.append(0x22); out.append(0x3A)
        }
        out.append(0x7B)
        key("collected", first: true); JSONValue.writeString(collected, to: &out)
        key("content"); JSONValue.writeString(content.description, to: &out)
        key("format"); JSONValue.writeString(format, to: &out)
        key("id"); JSONValue.writeString(id, to: &out)
        if let line { key("line"); out.append(contentsOf: String(line).utf8) }
        key("modality"); JSONValue.writeString(modality, to: &out)
        key("origin"); JSONValue.writeString(origin, to: &out)
        key("sample"); JSONValue.writeString(sample, to: &out)
        if let score { key("score"); JSONValue.number(score).write(to: &out) }
        key("size"); out.append(contentsOf: String(size).utf8)
        key("source"); JSONValue.writeString(source, to: &out)
        if !transforms.isEmpty {
            key("transforms")
            JSONValue.array(transforms.map { t in
                .object(["stage": .string(t.stage), "uses": .string(t.uses), "params": .string(t.params),
                         "changes": .array(t.changes.map { .string($0) })])
            }).write(to: &out)
        }
        out.append(0x7D)
    }

    public func jsonLine() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(400)
        write(to: &out)
        out.append(0x0A)
        return out
    }

    public static func parse(line: some Collection<UInt8>) throws -> WorkItem {
        // Lines written by `write(to:)` without transforms or a score, with plain ASCII strings (almost every line
        // between tasks) are read field by field in their fixed order; anything else goes through the JSON parser.
        if let item = line.withContiguousStorageIfAvailable({ FastLine.read($0) }) ?? nil { return item }
        switch JSONRecord.parseObject(line, maxDepth: 16) {
        case .success(let o): return try WorkItem(json: o)
        case .failure(let p): throw StageError("unreadable work item: \(p.message)")
        }
    }
}

extension ItemOutcome {
    public func jsonLine() -> [UInt8] {
        let o: [String: JSONValue]
        switch self {
        case .keep(let item): o = ["o": "keep", "item": item.json]
        case .reject(let item, let kind, let reason): o = ["o": "reject", "item": item.json, "kind": .string(kind), "reason": .string(reason)]
        case .duplicate(let item, let of, let kind, let reason):
            o = ["o": "duplicate", "item": item.json, "of": of.json, "kind": .string(kind), "reason": .string(reason)]
        }
        return JSONValue.object(o).serialize() + [0x0A]
    }

    public static func parse(line: some Collection<UInt8>) throws -> ItemOutcome {
        guard case .success(let o) = JSONRecord.parseObject(line, maxDepth: 16), case .object(let item)? = o["item"] else {
            throw StageError("unreadable task outcome")
        }
        let kind = o["kind"]?.asText ?? "", reason = o["reason"]?.asText ?? ""
        switch o["o"]?.asText {
        case "keep": return .keep(try WorkItem(json: item))
        case "reject": return .reject(try WorkItem(json: item), kind: kind, reason: reason)
        case "duplicate":
            guard case .object(let of)? = o["of"] else { throw StageError("duplicate outcome without `of`") }
            return .duplicate(try WorkItem(json: item), of: try WorkItem(json: of), kind: kind, reason: reason)
        default: throw StageError("unknown outcome \(o["o"]?.asText ?? "?")")
        }
    }
}

/// The reader for the common work-item line: exactly the bytes `WorkItem.write(to:)` writes for an item without
/// transforms or score whose strings are printable ASCII without `"` or backslash. It returns nil (the caller then uses
/// the JSON parser) at the first byte it does not expect, so it never reads a line differently from the parser.
enum FastLine {
    static func read(_ p: UnsafeBufferPointer<UInt8>) -> WorkItem? {
        var i = 0
        let end = p.count
        @inline(__always) func literal(_ k: StaticString) -> Bool {
            let n = k.utf8CodeUnitCount
            guard i + n <= end else { return false }
            let s = k.utf8Start
            for j in 0..<n where p[i + j] != s[j] { return false }
            i += n
            return true
        }
        @inline(__always) func string() -> String? {
            guard i < end, p[i] == 0x22 else { return nil }
            let start = i + 1
            var j = start
            while j < end {
                let c = p[j]
                if c == 0x22 { break }
                if c == 0x5C || c < 0x20 || c >= 0x80 { return nil }
                j += 1
            }
            guard j < end else { return nil }
            i = j + 1
            return String(decoding: UnsafeBufferPointer(rebasing: p[start..<j]), as: UTF8.self)
        }
        @inline(__always) func integer() -> Int? {
            let start = i
            var v = 0
            while i < end, p[i] >= 0x30, p[i] <= 0x39, i - start < 18 { v = v * 10 + Int(p[i] - 0x30); i += 1 }
            // JSON allows no leading zero; a longer number (or a sign, fraction, exponent) is the parser's.
            guard i > start, i - start < 18, !(p[start] == 0x30 && i - start > 1) else { return nil }
            return v
        }
        guard literal(#"{"collected":"#), let collected = string(),
              literal(#","content":"#), let content = string(),
              literal(#","format":"#), let format = string(),
              literal(#","id":"#), let id = string() else { return nil }
        var line: Int?
        if literal(#","line":"#) {
            guard let l = integer() else { return nil }
            line = l
        }
        guard literal(#","modality":"#), let modality = string(),
              literal(#","origin":"#), let origin = string(),
              literal(#","sample":"#), let sample = string(),
              literal(#","size":"#), let size = integer(),
              literal(#","source":"#), let source = string(),
              literal("}") else { return nil }
        // Trailing whitespace (a `\r`) is allowed by the parser; anything else is not: leave both to it.
        guard i == end, let ref = ContentRef(content) else { return nil }
        return WorkItem(id: id, sample: sample, source: source, modality: modality, format: format, content: ref,
                        origin: origin, line: line, collected: collected, size: size)
    }
}
