import Foundation
import StrataCore
import StrataStore

/// An error in a stage's parameters, naming the stage, the parameter and the fix.
public struct StageError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What a task may use while it runs: where content lives. Tasks never touch the catalog.
public struct StageContext: Sendable {
    public let projectRoot: String
    public let objects: ObjectStore
    /// Lines for the task's log.
    public let log: @Sendable (String) -> Void

    /// The object store's folder, open for `openat` (one per context, shared by its copies).
    let objectsDir: OpenDirectory

    public init(projectRoot: String, objects: ObjectStore, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.projectRoot = projectRoot; self.objects = objects; self.log = log
        objectsDir = OpenDirectory(objects.root)
    }

    /// The current bytes of an item.
    /// (One `read` when the file has the size the item records; a larger file is still read whole.)
    public func content(_ item: WorkItem) throws -> [UInt8] {
        if case .object(let digest) = item.content {
            return try objects.read(digest, size: item.size, in: objectsDir)  // loose or packed
        }
        return try FileIO.readSmall(try path(item), size: max(0, item.size), limit: Int.max)
    }

    public func text(_ item: WorkItem) throws -> String { String(decoding: try content(item), as: UTF8.self) }

    /// The file holding an item's current bytes (for libraries that read files: libvips, libsndfile).
    public func path(_ item: WorkItem) throws -> String {
        switch item.content {
        case .object(let digest): return try objects.loosePath(for: digest)  // a packed text gets a loose copy
        case .raw(let path): return projectRoot + "/" + path
        }
    }

    /// Stores new content for an item and returns the updated item (new id, content, lineage).
    public func replaceContent(_ item: WorkItem, with bytes: [UInt8], transform: Transform) throws -> WorkItem {
        let sha = try objects.put(bytes, sync: false)
        var out = item
        out.id = sha
        out.content = .object(sha256: sha)
        out.size = bytes.count
        out.transforms.append(transform)
        return out
    }
}

/// A stage that decides item by item (cleaning, filtering, a command). Its tasks are shards of the input.
public protocol MapStage: Sendable {
    /// Bump when the stage's behaviour changes, so cached results are not reused.
    static var codeVersion: Int { get }
    func process(_ items: [WorkItem], context: StageContext) throws -> [ItemOutcome]
}

/// A stage that needs to see all items to decide (deduplication). It runs as three steps, each shardable:
/// `annotate` per shard (a key or a signature per item), `pair` per partition (candidate duplicate pairs),
/// then one `decide` that clusters pairs (union-find) and applies the keep policy.
public protocol GlobalStage: Sendable {
    static var codeVersion: Int { get }
    /// Items this stage does not apply to pass through unchanged (e.g. a text stage and an image).
    func applies(to item: WorkItem) -> Bool
    /// The item's key or signature, as bytes (any bytes: annotation files are length-prefixed). Empty: the item
    /// takes no part in pairing.
    func annotate(_ item: WorkItem, context: StageContext) throws -> [UInt8]
    var partitions: Int { get }
    /// Candidate pairs (indexes into `annotations`) found in one partition.
    /// The bucket keys of one annotation in one partition (e.g. the LSH band keys of the partition's bands).
    /// Items with an equal key in the same slot become candidate pairs.
    func bandKeys(partition: Int, annotation: Annotation) -> [UInt64]
    /// Whether a candidate pair really is a duplicate (e.g. estimated Jaccard above the threshold).
    func confirm(_ a: Annotation, _ b: Annotation) -> Bool
    /// Decides every candidate pair of the `decide` step at once (true: a duplicate), given the annotations and
    /// items of every index in a pair. A stage may read the items' content here, for pairs its annotations cannot
    /// settle. Default: `confirm`, pair by pair.
    func confirmPairs(_ pairs: [(Int, Int)], annotations: [Int: [UInt8]], items: [Int: WorkItem], context: StageContext) throws -> [Bool]
    /// Whether this annotation is searched by `indexedPairs` (the stage's own index, e.g. multi-index hashing over
    /// image hashes) instead of by `bandKeys`. Default: false.
    func indexed(_ annotation: Annotation) -> Bool
    /// Candidate pairs (global indexes) among the indexed annotations, for one partition. Default: none.
    func indexedPairs(partition: Int, entries: [(index: Int, annotation: [UInt8])]) -> [(Int, Int)]
    var keep: KeepPolicy { get }
    var findingKind: String { get }
    func reason(of item: WorkItem, duplicating kept: WorkItem, annotations: (Annotation, Annotation)) -> String
}

extension GlobalStage {
    public func confirmPairs(_ pairs: [(Int, Int)], annotations: [Int: [UInt8]], items: [Int: WorkItem], context: StageContext) throws -> [Bool] {
        pairs.map { confirm(annotations[$0.0]![...], annotations[$0.1]![...]) }
    }
    public func indexed(_ annotation: Annotation) -> Bool { false }
    public func indexedPairs(partition: Int, entries: [(index: Int, annotation: [UInt8])]) -> [(Int, Int)] { [] }
}

/// One annotation (a key or a signature), as a slice of the file it was read from.
public typealias Annotation = ArraySlice<UInt8>

/// Which member of a duplicate cluster is kept.
public enum KeepPolicy: String, Sendable, CaseIterable {
    case first, longest, quality

    /// Index of the member to keep. `first` is input order (ingest order), `longest` the largest content,
    /// `quality` the highest `score` (ties: first).
    public func choose(_ members: [Int], size: (Int) -> Int, score: (Int) -> Double?) -> Int {
        switch self {
        case .first: return members.min()!
        case .longest: return members.max { (size($0), -$0) < (size($1), -$1) }!
        case .quality: return members.max { (score($0) ?? -.infinity, -$0) < (score($1) ?? -.infinity, -$1) }!
        }
    }
}

/// A built stage: either shape.
public enum BuiltStage: Sendable {
    case map(any MapStage)
    case global(any GlobalStage)

    public var codeVersion: Int {
        switch self {
        case .map(let s): type(of: s).codeVersion
        case .global(let s): type(of: s).codeVersion
        }
    }
}

/// Reads typed parameters and reports unknown ones with a did-you-mean.
public struct StageParams {
    public let stage: String
    public let values: [String: SpecValue]
    private var used = Set<String>()

    public init(stage: String, values: [String: SpecValue]) {
        self.stage = stage; self.values = values
    }

    public mutating func string(_ key: String, default d: String, allowed: [String]? = nil) throws -> String {
        used.insert(key)
        guard let v = values[key] else { return d }
        guard let s = v.string else { throw StageError("stage `\(stage)`: params.\(key) must be a string") }
        if let allowed, !allowed.contains(s) {
            throw StageError("stage `\(stage)`: params.\(key) is `\(s)`; allowed: \(allowed.joined(separator: ", "))")
        }
        return s
    }

    public mutating func int(_ key: String, default d: Int, min: Int = .min, max: Int = .max) throws -> Int {
        used.insert(key)
        guard let v = values[key] else { return d }
        guard let i = v.int, i >= min, i <= max else {
            throw StageError("stage `\(stage)`: params.\(key) must be a whole number between \(min) and \(max)")
        }
        return i
    }

    public mutating func optionalInt(_ key: String, min: Int = 0) throws -> Int? {
        used.insert(key)
        guard let v = values[key] else { return nil }
        guard let i = v.int, i >= min else { throw StageError("stage `\(stage)`: params.\(key) must be a whole number >= \(min)") }
        return i
    }

    public mutating func double(_ key: String, default d: Double, min: Double = -.infinity, max: Double = .infinity) throws -> Double {
        used.insert(key)
        guard let v = values[key] else { return d }
        guard let x = v.double, x >= min, x <= max else {
            throw StageError("stage `\(stage)`: params.\(key) must be a number between \(min) and \(max)")
        }
        return x
    }

    public mutating func optionalDouble(_ key: String) throws -> Double? {
        used.insert(key)
        guard let v = values[key] else { return nil }
        guard let x = v.double else { throw StageError("stage `\(stage)`: params.\(key) must be a number") }
        return x
    }

    public mutating func bool(_ key: String, default d: Bool) throws -> Bool {
        used.insert(key)
        guard let v = values[key] else { return d }
        guard let b = v.bool else { throw StageError("stage `\(stage)`: params.\(key) must be true or false") }
        return b
    }

    public mutating func strings(_ key: String) throws -> [String] {
        used.insert(key)
        guard let v = values[key] else { return [] }
        if let s = v.string { return [s] }
        guard let l = v.list else { throw StageError("stage `\(stage)`: params.\(key) must be a list of strings") }
        return try l.map { guard let s = $0.string else { throw StageError("stage `\(stage)`: params.\(key) must be a list of strings") }; return s }
    }

    /// The `formats` list of a media cleaning stage and its `target` (the format a sample outside the list is
    /// converted to; the first listed one by default). Each name must be one of `T`'s cases.
    public mutating func formats<T: RawRepresentable & CaseIterable>(default d: [T]) throws -> (formats: [T], target: T)
    where T.RawValue == String {
        let allowed = T.allCases.map(\.rawValue)
        var names = try strings("formats")
        if names.isEmpty { names = d.map(\.rawValue) }
        var formats: [T] = []
        for n in names {
            guard let f = T(rawValue: n) else {
                throw StageError("stage `\(stage)`: params.formats has `\(n)`; allowed: \(allowed.joined(separator: ", "))")
            }
            formats.append(f)
        }
        let target = T(rawValue: try string("target", default: names[0], allowed: allowed))!
        return (formats, target)
    }

    /// A map parameter (`key: {name: value, ...}`); empty when absent.
    public mutating func map(_ key: String) throws -> [String: SpecValue] {
        used.insert(key)
        guard let v = values[key] else { return [:] }
        guard let m = v.map else { throw StageError("stage `\(stage)`: params.\(key) must be a map (`name: value` lines)") }
        return m
    }

    /// Fails on parameters the stage does not know.
    public func finish() throws {
        let unknown = Set(values.keys).subtracting(used).sorted()
        guard let first = unknown.first else { return }
        let hint = used.min { distance($0, first) < distance($1, first) }.flatMap { distance($0, first) <= 3 ? " (did you mean `\($0)`?)" : nil } ?? ""
        throw StageError("stage `\(stage)`: unknown parameter `\(first)`\(hint); known: \(used.sorted().joined(separator: ", "))")
    }

    private func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var prev = row[0]; row[0] = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                let cur = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        return row[b.count]
    }
}

extension WorkItem {
    /// The item's modality as the typed contract; nil for a spelling Strata does not know. `modality` stays a string
    /// because it is part of the task wire format; code that compares modalities uses this.
    public var kind: Modality? { Modality(rawValue: modality) }
}
