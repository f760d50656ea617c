import StrataCore

/// The JSONL form of work items and outcomes between tasks, written and read with StrataCore's byte-level JSON
/// (several times faster than Foundation's coders on this per-item path). Keys are short and stable.
extension WorkItem {
    var json: JSONValue {
        var o: [String: JSONValue] = [
            "id": .string(id), "sample": .string(sample), "source": .string(source), "modality": .string(modality),
            "format": .string(format), "content": .string(content), "origin": .string(origin), "collected": .string(collected),
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
                  format: try s("format"), content: try s("content"), origin: try s("origin"),
                  line: o["line"]?.asInt.map { Int($0) }, collected: try s("collected"), transforms: transforms,
                  score: o["score"]?.asDouble, size: Int(o["size"]?.asInt ?? 0))
    }

    public func jsonLine() -> [UInt8] { json.serialize() + [0x0A] }

    public static func parse(line: some Collection<UInt8>) throws -> WorkItem {
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
