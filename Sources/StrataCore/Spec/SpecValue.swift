import Yams

/// A JSON-like value read from YAML, for free-form parameters (`params:` of a pipeline stage).
public enum SpecValue: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([SpecValue])
    case map([String: SpecValue])

    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var int: Int? { if case .int(let i) = self { i } else { nil } }
    /// An integer or a decimal, as a Double.
    public var double: Double? {
        switch self {
        case .double(let d): d
        case .int(let i): Double(i)
        default: nil
        }
    }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var list: [SpecValue]? { if case .list(let l) = self { l } else { nil } }
    public var map: [String: SpecValue]? { if case .map(let m) = self { m } else { nil } }

    /// Compact JSON with sorted keys: the same value always gives the same text (for cache keys).
    public var canonicalJSON: String { json.canonicalJSON }

    /// The same value as JSON (maps become objects, lists arrays).
    public var json: JSONValue {
        switch self {
        case .null: .null
        case .bool(let b): .bool(b)
        case .int(let i): .int(Int64(i))
        case .double(let d): .number(d)
        case .string(let s): .string(s)
        case .list(let l): .array(l.map(\.json))
        case .map(let m): .object(m.mapValues(\.json))
        }
    }

    /// A spec value from JSON (the inverse of `json`; JSON numbers with a fraction become doubles).
    public init(json: JSONValue) {
        switch json {
        case .string(let s): self = .string(s)
        case .int(let i): self = .int(Int(i))
        case .number(let d): self = .double(d)
        case .bool(let b): self = .bool(b)
        case .null: self = .null
        case .array(let a): self = .list(a.map(SpecValue.init(json:)))
        case .object(let o): self = .map(o.mapValues(SpecValue.init(json:)))
        }
    }
}

extension SpecNode {
    /// This node as a `SpecValue`. Scalars keep their YAML type (quoted scalars are strings;
    /// dates stay strings). Records an issue for map keys that are not plain text.
    public func asValue() -> SpecValue? {
        switch node {
        case .scalar(let scalar):
            switch node.tagName {
            case .null: return .null
            case .bool: return node.bool.map(SpecValue.bool) ?? .string(scalar.string)
            case .int: return node.int.map(SpecValue.int) ?? .string(scalar.string)
            case .float: return node.float.map(SpecValue.double) ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .sequence:
            guard let items = asList() else { return nil }
            let values = items.map { $0.asValue() }
            return values.contains(where: { $0 == nil }) ? nil : .list(values.compactMap { $0 })
        case .mapping:
            guard let entries = asEntries() else { return nil }
            var result: [String: SpecValue] = [:]
            for (key, value) in entries {
                guard let v = value.asValue() else { return nil }
                result[key] = v
            }
            return .map(result)
        case .alias:
            report("aliases (`*name`) are not supported here", fix: "write the value out in full")
            return nil
        }
    }
}

/// A machine-checkable selection of samples: every field must match one of its values.
///
/// Written in YAML as a map, `where: {lighting: night, device: [phone, tablet]}`. Keys are metadata
/// fields or the reserved `label`, `source`, `modality`.
public struct SpecSelector: Sendable, Equatable, Hashable {
    /// Field → accepted values (a sample matches a field when its value is any of them).
    public var conditions: [String: [String]]

    public init(_ conditions: [String: [String]] = [:]) { self.conditions = conditions }

    public var isEmpty: Bool { conditions.isEmpty }

    /// Whether a sample with these field values matches every condition.
    public func matches(_ fields: [String: String]) -> Bool {
        conditions.allSatisfy { field, values in fields[field].map(values.contains) ?? false }
    }
}

extension SpecNode {
    /// This node as a selector map: each value a string or a non-empty list of strings.
    public func asSelector() -> SpecSelector? {
        guard let entries = asEntries() else { return nil }
        var conditions: [String: [String]] = [:]
        var ok = true
        for (key, value) in entries {
            let values: [String]?
            if case .sequence = value.node {
                values = value.asStrings()
                if values?.isEmpty == true {
                    value.report("an empty list matches nothing", fix: "list at least one value, or remove `\(key)`")
                    ok = false
                    continue
                }
            } else {
                values = value.asString(fix: "write one value, or a list such as [a, b]").map { [$0] }
            }
            guard let values else { ok = false; continue }
            if key == "modality" {
                let allowed = Modality.allCases.map(\.rawValue)
                for v in values where value.asOneOf(v, allowed: allowed, what: "modality") == nil { ok = false }
            }
            conditions[key] = values
        }
        return ok ? SpecSelector(conditions) : nil
    }
}
