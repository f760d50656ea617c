import Yams

/// Collects the issues of one file while it is read.
final class SpecIssueLog {
    let file: String
    var issues: [SpecIssue] = []
    /// Every map node read so far, so that `SpecNode.read` can finish the ones a decoder forgot.
    var maps: [SpecNode] = []

    init(file: String) { self.file = file }
}

/// A strict reader over one YAML node: it knows its key path and file, reads typed values,
/// and records an issue (with line, column and a fix) for anything wrong instead of stopping.
///
/// Reading a key through a map node marks it known; `finish()` then reports every other key
/// as unknown, with a "did you mean" suggestion. A decoder typically looks like:
/// ```swift
/// let name = root.requiredString("name")
/// let limit = root.int("limit", min: 1, example: "10") ?? 10
/// root.finish()
/// ```
/// Values are `nil` when absent or wrong; the issue is already recorded.
public final class SpecNode {
    /// The underlying Yams node, with its `mark`.
    public let node: Node
    /// Key path from the file's root, such as `requirements.scenarios[2].where`.
    public let path: String
    let log: SpecIssueLog
    private var knownKeys: [String] = []
    private var finished = false
    private var registered = false

    init(node: Node, path: String, log: SpecIssueLog) {
        self.node = node
        self.path = path
        self.log = log
    }

    /// The file name used in messages.
    public var file: String { log.file }
    /// 1-based line of this node.
    public var line: Int? { node.mark?.line }
    /// 1-based column of this node.
    public var column: Int? { node.mark?.column }

    // MARK: Reading a whole file

    /// Parses `yaml`, checks that its root is a map, and hands it to `body`.
    /// Maps that `body` did not `finish()` are finished afterwards. Throws every issue found.
    ///
    /// - Parameters:
    ///   - yaml: The file's text.
    ///   - file: The file's name, for messages.
    ///   - emptyFix: The fix suggested when the file has no content.
    ///   - body: Reads the root map; returns nil when a required piece is missing (its issue already recorded).
    public static func read<T>(
        yaml: String, file: String, emptyFix: String? = nil, _ body: (SpecNode) -> T?
    ) throws(SpecError) -> T {
        let log = SpecIssueLog(file: file)
        let parsed: Node?
        do {
            parsed = try Yams.compose(yaml: yaml)
        } catch {
            throw SpecError(file: file, issues: [syntaxIssue(error, file: file)])
        }
        guard let root = parsed, root.isNull == false else {
            throw SpecError(file: file, issues: [
                SpecIssue(file: file, line: 1, column: 1, path: "", message: "the file is empty", fix: emptyFix)
            ])
        }
        let reader = SpecNode(node: root, path: "", log: log)
        var result: T?
        if reader.expectMap(fix: emptyFix.map { _ in "write `key: value` lines at the top level, starting with `version: 1`" }) {
            result = body(reader)
            for map in log.maps where !map.finished { map.finish() }
        }
        if let result, log.issues.isEmpty { return result }
        if log.issues.isEmpty {
            log.issues.append(SpecIssue(file: file, path: "", message: "the file could not be read"))
        }
        throw SpecError(file: file, issues: sorted(log.issues))
    }

    /// Orders issues by position (issues without a line go last), keeping discovery order for ties.
    static func sorted(_ issues: [SpecIssue]) -> [SpecIssue] {
        issues.enumerated().sorted { a, b in
            let la = a.element.line ?? Int.max, lb = b.element.line ?? Int.max
            if la != lb { return la < lb }
            let ca = a.element.column ?? Int.max, cb = b.element.column ?? Int.max
            if ca != cb { return ca < cb }
            return a.offset < b.offset
        }.map(\.element)
    }

    static func syntaxIssue(_ error: any Error, file: String) -> SpecIssue {
        let fix = "check the indentation and quoting on this line and the one before it"
        guard let yamlError = error as? YamlError else {
            return SpecIssue(file: file, path: "", message: "not valid YAML: \(error)", fix: fix)
        }
        switch yamlError {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
            let .composer(context, problem, mark, _):
            var message = "YAML syntax error: \(problem)"
            if let context {
                message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
            }
            return SpecIssue(file: file, line: mark.line, column: mark.column, path: "", message: message, fix: fix)
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = duplicates.map { "`\($0)`" }.joined(separator: ", ")
            return SpecIssue(
                file: file, line: context.mark.line, column: context.mark.column, path: "",
                message: "duplicate key \(keys) in one map", fix: "keep one of them")
        case let .reader(problem, _, _, _):
            return SpecIssue(file: file, path: "", message: "cannot read the text: \(problem)",
                             fix: "save the file as UTF-8")
        default:
            return SpecIssue(file: file, path: "", message: "not valid YAML: \(yamlError)", fix: fix)
        }
    }

    // MARK: Issues

    /// Records an issue at this node.
    public func report(_ message: String, fix: String? = nil) {
        log.issues.append(SpecIssue(file: file, line: line, column: column, path: path, message: message, fix: fix))
    }

    /// Records an issue at `key` of this map: at the key's value if present, else at the map.
    public func report(key: String, _ message: String, fix: String? = nil) {
        let at = pair(key)?.value.mark ?? node.mark
        log.issues.append(SpecIssue(
            file: file, line: at?.line, column: at?.column, path: childPath(key), message: message, fix: fix))
    }

    /// The issues recorded so far in this file.
    public var issues: [SpecIssue] { log.issues }

    // MARK: Describing values

    /// How a value reads in a message: `"ten"`, `the number 12`, `true`, `a list`, `a map`, `an empty value`.
    public static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            switch node.tagName {
            case .null: return "an empty value"
            case .int, .float: return "the number \(scalar.string)"
            case .bool: return "the boolean \(scalar.string)"
            default:
                let s = scalar.string
                return "\"\(s.count > 40 ? String(s.prefix(40)) + "…" : s)\""
            }
        case .sequence: return "a list"
        case .mapping: return "a map"
        case .alias: return "an alias"
        }
    }

    private func typeMismatch(_ expected: String, fix: String?) {
        report("expected \(expected), found \(SpecNode.describe(node))", fix: fix)
    }

    // MARK: This node as a value

    /// Whether this node is an empty value (`~`, `null` or nothing).
    public var isNull: Bool { node.isNull }

    /// Any scalar except null, as written. Records an issue otherwise.
    public func asString(fix: String? = nil, allowEmpty: Bool = false) -> String? {
        guard case .scalar(let scalar) = node, node.tagName != .null else {
            typeMismatch("a string", fix: fix ?? "write some text, quoted if it contains `:` or `#`")
            return nil
        }
        if !allowEmpty, scalar.string.trimmingSpaces.isEmpty {
            report("must not be empty", fix: fix ?? "write some text")
            return nil
        }
        return scalar.string
    }

    /// A whole number within `min...max`. Records an issue otherwise.
    public func asInt(min: Int? = nil, max: Int? = nil, example: String = "10") -> Int? {
        guard case .scalar = node, node.tagName == .int, let value = node.int else {
            typeMismatch("an integer", fix: "write a whole number such as \(example)")
            return nil
        }
        if let min, value < min {
            report(rangeMessage(min: min, max: max, found: String(value)), fix: "write a whole number such as \(example)")
            return nil
        }
        if let max, value > max {
            report(rangeMessage(min: min, max: max, found: String(value)), fix: "write a whole number such as \(example)")
            return nil
        }
        return value
    }

    /// A number (integer or decimal) within `min...max`. Records an issue otherwise.
    public func asDouble(min: Double? = nil, max: Double? = nil, example: String = "0.5") -> Double? {
        guard case .scalar = node, node.tagName == .int || node.tagName == .float,
              let value = node.tagName == .int ? node.int.map(Double.init) : node.float, value.isFinite
        else {
            typeMismatch("a number", fix: "write a number such as \(example)")
            return nil
        }
        if let min, value < min {
            report(rangeMessage(min: min, max: max, found: SpecNode.format(value)), fix: "write a number such as \(example)")
            return nil
        }
        if let max, value > max {
            report(rangeMessage(min: min, max: max, found: SpecNode.format(value)), fix: "write a number such as \(example)")
            return nil
        }
        return value
    }

    /// `true` or `false`. Records an issue otherwise.
    public func asBool() -> Bool? {
        guard case .scalar = node, node.tagName == .bool, let value = node.bool else {
            typeMismatch("true or false", fix: "write true or false")
            return nil
        }
        return value
    }

    /// One of `E`'s raw values. Records an issue listing the allowed ones otherwise.
    public func asEnum<E: RawRepresentable & CaseIterable>(_ type: E.Type, what: String = "value") -> E?
    where E.RawValue == String {
        let allowed = E.allCases.map(\.rawValue)
        guard let raw = asString(fix: "write one of: \(allowed.joined(separator: ", "))") else { return nil }
        return asOneOf(raw, allowed: allowed, what: what).flatMap(E.init(rawValue:))
    }

    /// `raw` if it is in `allowed`; otherwise records "unknown <what> `raw`" with the allowed values.
    public func asOneOf(_ raw: String, allowed: [String], what: String = "value") -> String? {
        if allowed.contains(raw) { return raw }
        let list = allowed.map { "`\($0)`" }.joined(separator: ", ")
        let fix = SpecSuggest.didYouMean(raw, in: allowed).map { "\($0) Allowed: \(list)" } ?? "use one of \(list)"
        report("unknown \(what) `\(raw)`", fix: fix)
        return nil
    }

    /// The elements of a list, each with its indexed path. Records an issue if this is not a list.
    public func asList(fix: String? = nil) -> [SpecNode]? {
        guard case .sequence(let sequence) = node else {
            typeMismatch("a list", fix: fix ?? "write a list, one `- item` per line or `[a, b]`")
            return nil
        }
        return sequence.enumerated().map { SpecNode(node: $1, path: "\(path)[\($0)]", log: log) }
    }

    /// A list of non-empty strings. A single string is an issue (write `[x]`).
    public func asStrings(fix: String? = nil) -> [String]? {
        guard let items = asList(fix: fix) else { return nil }
        let values = items.map { $0.asString() }
        return values.contains(where: { $0 == nil }) ? nil : values.compactMap { $0 }
    }

    /// Checks that this node is a map, and registers it so unknown keys are reported.
    @discardableResult
    public func expectMap(fix: String? = nil) -> Bool {
        guard case .mapping = node else {
            typeMismatch("a map of `key: value` lines", fix: fix)
            return false
        }
        if !registered {
            registered = true
            log.maps.append(self)
        }
        return true
    }

    /// Every entry of a free-form map, in file order; all keys count as known.
    /// Records an issue if this is not a map or a key is not a plain string.
    public func asEntries() -> [(key: String, value: SpecNode)]? {
        guard expectMap(), case .mapping(let mapping) = node else { return nil }
        finished = true
        var result: [(key: String, value: SpecNode)] = []
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key, key.tagName != .null else {
                log.issues.append(SpecIssue(
                    file: file, line: key.mark?.line, column: key.mark?.column, path: path,
                    message: "keys must be plain text, found \(SpecNode.describe(key))"))
                continue
            }
            result.append((scalar.string, SpecNode(node: value, path: childPath(scalar.string), log: log)))
        }
        return result
    }

    // MARK: Keys of this map

    private func pair(_ key: String) -> (key: Node, value: Node)? {
        guard case .mapping(let mapping) = node else { return nil }
        return mapping.first { $0.key.scalar?.string == key }
    }

    func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Declares `keys` as allowed without reading them.
    public func allow(_ keys: String...) {
        knownKeys.append(contentsOf: keys)
    }

    /// Whether `key` is present with a non-empty value. Marks it known.
    public func has(_ key: String) -> Bool {
        knownKeys.append(key)
        guard let value = pair(key)?.value else { return false }
        return !value.isNull
    }

    /// The value at `key`, or nil when absent or empty. Marks the key known.
    public func child(_ key: String) -> SpecNode? {
        knownKeys.append(key)
        guard let value = pair(key)?.value, !value.isNull else { return nil }
        return SpecNode(node: value, path: childPath(key), log: log)
    }

    /// The value at `key`; records "missing required key" (at this map's line) when absent or empty.
    public func required(_ key: String, fix: String? = nil) -> SpecNode? {
        knownKeys.append(key)
        guard let (keyNode, value) = pair(key) else {
            report(key: key, "missing required key `\(key)`", fix: fix)
            return nil
        }
        guard !value.isNull else {
            log.issues.append(SpecIssue(
                file: file, line: keyNode.mark?.line, column: keyNode.mark?.column, path: childPath(key),
                message: "`\(key)` has no value", fix: fix))
            return nil
        }
        return SpecNode(node: value, path: childPath(key), log: log)
    }

    public func string(_ key: String) -> String? { child(key)?.asString() }
    public func requiredString(_ key: String, fix: String? = nil) -> String? {
        required(key, fix: fix ?? "add `\(key): ...`")?.asString()
    }

    public func int(_ key: String, min: Int? = nil, max: Int? = nil, example: String = "10") -> Int? {
        child(key)?.asInt(min: min, max: max, example: example)
    }
    public func requiredInt(_ key: String, min: Int? = nil, max: Int? = nil, example: String = "10") -> Int? {
        required(key, fix: "add `\(key): \(example)`")?.asInt(min: min, max: max, example: example)
    }

    public func double(_ key: String, min: Double? = nil, max: Double? = nil, example: String = "0.5") -> Double? {
        child(key)?.asDouble(min: min, max: max, example: example)
    }
    public func requiredDouble(_ key: String, min: Double? = nil, max: Double? = nil, example: String = "0.5") -> Double? {
        required(key, fix: "add `\(key): \(example)`")?.asDouble(min: min, max: max, example: example)
    }

    public func bool(_ key: String) -> Bool? { child(key)?.asBool() }

    public func enumValue<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) -> E?
    where E.RawValue == String {
        child(key)?.asEnum(type, what: key.replacingUnderscores)
    }
    public func requiredEnum<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) -> E?
    where E.RawValue == String {
        let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
        return required(key, fix: "add `\(key): ` with one of: \(allowed)")?.asEnum(type, what: key.replacingUnderscores)
    }

    /// A list of strings at `key`; empty when absent.
    public func strings(_ key: String) -> [String] { child(key)?.asStrings() ?? [] }

    /// The elements of the list at `key`; empty when absent.
    public func list(_ key: String) -> [SpecNode] { child(key)?.asList() ?? [] }

    /// The map at `key` (registered for unknown-key checks), or nil when absent or not a map.
    public func map(_ key: String) -> SpecNode? {
        guard let c = child(key), c.expectMap() else { return nil }
        return c
    }
    public func requiredMap(_ key: String, fix: String? = nil) -> SpecNode? {
        guard let c = required(key, fix: fix), c.expectMap() else { return nil }
        return c
    }

    /// Reports every key of this map that was not read or allowed, suggesting the closest known key.
    public func finish() {
        finished = true
        guard case .mapping(let mapping) = node else { return }
        var candidates: [String] = []
        for k in knownKeys where !candidates.contains(k) { candidates.append(k) }
        for (key, _) in mapping {
            guard let name = key.scalar?.string, key.tagName != .null else {
                log.issues.append(SpecIssue(
                    file: file, line: key.mark?.line, column: key.mark?.column, path: path,
                    message: "keys must be plain text, found \(SpecNode.describe(key))"))
                continue
            }
            guard !candidates.contains(name) else { continue }
            let fix: String
            if let suggestion = SpecSuggest.didYouMean(name, in: candidates) {
                fix = suggestion
            } else if candidates.isEmpty {
                fix = "remove it; this map takes no keys"
            } else {
                fix = "remove it; keys allowed here: \(candidates.joined(separator: ", "))"
            }
            log.issues.append(SpecIssue(
                file: file, line: key.mark?.line, column: key.mark?.column, path: childPath(name),
                message: "unknown key `\(name)`", fix: fix))
        }
    }

    // MARK: Helpers

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    private func rangeMessage<N: Comparable>(min: N?, max: N?, found: String) -> String
    where N: CustomStringConvertible {
        func text(_ n: N) -> String {
            if let d = n as? Double { return SpecNode.format(d) }
            return n.description
        }
        switch (min, max) {
        case let (min?, max?): return "must be between \(text(min)) and \(text(max)), found \(found)"
        case let (min?, nil): return "must be at least \(text(min)), found \(found)"
        case let (nil, max?): return "must be at most \(text(max)), found \(found)"
        case (nil, nil): return "is out of range, found \(found)"
        }
    }
}

extension Node {
    /// The resolved tag name (`str`, `int`, `float`, `bool`, `null`, ...); quoted scalars are strings.
    var tagName: Tag.Name { Resolver.default.resolveTag(of: self) }

    var isNull: Bool {
        if case .scalar = self { return tagName == .null }
        return false
    }
}

extension String {
    var trimmingSpaces: Substring {
        var s = self[...]
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return s
    }

    var replacingUnderscores: String { String(map { $0 == "_" ? " " : $0 }) }

    /// Lower-case letters, digits, `_` and `-`, starting with a letter or digit.
    var isSlug: Bool {
        guard let first = unicodeScalars.first, first.isSlugStart else { return false }
        return unicodeScalars.allSatisfy { $0.isSlugStart || $0 == "_" || $0 == "-" }
    }

    /// Label names: a slug that may also contain `.` (hierarchical names such as `noun.food`).
    var isLabelName: Bool {
        guard let first = unicodeScalars.first, first.isSlugStart else { return false }
        return unicodeScalars.allSatisfy { $0.isSlugStart || $0 == "_" || $0 == "-" || $0 == "." }
    }
}

extension Unicode.Scalar {
    fileprivate var isSlugStart: Bool { ("a"..."z").contains(self) || ("0"..."9").contains(self) }
}
