import Foundation
import StrataCore
import StrataQuality
import StrataStore

/// One unit of work, as data: any process (a local worker, a Slurm array task) can run it from this description.
public struct TaskSpec: Codable, Sendable, Equatable {
    public enum Step: String, Codable, Sendable {
        /// Per-item decisions of a map stage.
        case map
        /// Per-item keys or signatures of a global stage.
        case annotate
        /// Candidate pairs of one partition of a global stage.
        case pair
        /// Clusters and keep decisions of a global stage.
        case decide
    }

    public var run: String
    public var stage: String
    public var uses: String
    /// The stage's parameters as canonical JSON.
    public var params: String
    public var command: String?
    public var step: Step
    public var index: Int
    /// Project-relative input files (item shards, annotation or pair outputs), in order.
    public var inputs: [String]
    /// Extra inputs of `decide`: annotation and pair files.
    public var annotations: [String]
    public var pairs: [String]
    /// The cache key: stage, code version, parameters and the hashes of every input.
    public var key: String

    public var label: String { "\(stage)/\(step.rawValue)-\(index)" }
}

/// The small record a finished task leaves next to its output.
public struct TaskResult: Codable, Sendable, Equatable {
    public var key: String
    public var label: String
    public var items: Int
    public var seconds: Double
    public var attempts: Int
    public var cached: Bool
}

/// Where task outputs live: `.strata/cache/tasks/<key>/`, written atomically (a temp folder renamed into place),
/// so a task is either finished, with all its files, or not there at all.
public struct TaskCache: Sendable {
    public let root: String
    public init(projectRoot: String) { root = projectRoot + "/.strata/cache/tasks" }

    public func dir(_ key: String) -> String { "\(root)/\(key.prefix(2))/\(key)" }
    public func isDone(_ key: String) -> Bool { FileIO.status(dir(key) + "/result.json") != nil }
    public func output(_ key: String) -> String { dir(key) + "/output" }

    public func result(_ key: String) -> TaskResult? {
        guard let bytes = try? FileIO.readAll(dir(key) + "/result.json") else { return nil }
        return try? JSONDecoder().decode(TaskResult.self, from: Data(bytes))
    }
}

/// Runs one task: rebuilds the stage from the spec, reads its inputs, writes its output and result atomically.
public enum TaskRunner {
    public static func run(_ spec: TaskSpec, projectRoot: String, attempt: Int = 1) throws -> TaskResult {
        let cache = TaskCache(projectRoot: projectRoot)
        if let done = cache.result(spec.key) { return TaskResult(key: done.key, label: done.label, items: done.items, seconds: 0, attempts: 0, cached: true) }
        let started = Date()
        let logLines = LogBuffer()
        let context = StageContext(projectRoot: projectRoot, objects: ObjectStore(root: projectRoot + "/.strata/objects"),
                                   log: { logLines.append($0) })
        let stage = try StageRegistry.build(PipelineSpec.Stage(name: spec.stage, uses: spec.uses, params: try specParams(spec.params),
                                                               command: spec.command))
        var output = [UInt8]()
        var count = 0
        func read(_ rel: String) throws -> [UInt8] { try FileIO.readAll(projectRoot + "/" + rel) }
        func items(_ files: [String]) throws -> [WorkItem] {
            var out: [WorkItem] = []
            for f in files {
                for line in try read(f).split(separator: 0x0A) { out.append(try WorkItem.parse(line: line)) }
            }
            return out
        }
        switch (spec.step, stage) {
        case (.map, .map(let s)):
            let input = try items(spec.inputs)
            let outcomes = try s.process(input, context: context)
            guard outcomes.count == input.count else {
                throw StageError("stage `\(spec.stage)` returned \(outcomes.count) outcomes for \(input.count) items")
            }
            for o in outcomes { output += o.jsonLine() }
            count = input.count
        case (.annotate, .global(let s)):
            let input = try items(spec.inputs)
            for item in input {
                let a = s.applies(to: item) ? try s.annotate(item, context: context) : ""
                output += Array(a.utf8); output.append(0x0A)
            }
            count = input.count
        case (.pair, .global(let s)):
            // Stream the annotation files: only this partition's band keys are kept (a few integers per item).
            var buckets: [[UInt64: Int]] = []
            var indexed: [(index: Int, annotation: [UInt8])] = []
            var index = 0
            for f in spec.inputs {
                let bytes = try read(f)
                for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
                    defer { index += 1 }
                    // Items the stage does not apply to have an empty annotation and never pair.
                    if line.isEmpty { continue }
                    if s.indexed(line) { indexed.append((index, Array(line))); continue }
                    for (slot, key) in s.bandKeys(partition: spec.index, annotation: line).enumerated() {
                        if buckets.count <= slot { buckets.append([:]) }
                        if let first = buckets[slot][key] { output += Array("\(first) \(index)\n".utf8) } else { buckets[slot][key] = index }
                    }
                }
            }
            for (i, j) in s.indexedPairs(partition: spec.index, entries: indexed) { output += Array("\(i) \(j)\n".utf8) }
            count = index
        case (.decide, .global(let s)):
            // Candidate pairs first; then only the annotations and items that appear in a pair are kept.
            var pairs: [(Int, Int)] = []
            for f in spec.pairs {
                for line in try read(f).split(separator: 0x0A) {
                    let parts = line.split(separator: 0x20)
                    guard parts.count == 2, let i = Int(String(decoding: parts[0], as: UTF8.self)),
                          let j = Int(String(decoding: parts[1], as: UTF8.self)) else { continue }
                    pairs.append((i, j))
                }
            }
            let needed = Set(pairs.flatMap { [$0.0, $0.1] })
            var annotations: [Int: [UInt8]] = [:]
            var n = 0
            for f in spec.annotations {
                for line in try read(f).split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
                    if needed.contains(n) { annotations[n] = Array(line) }
                    n += 1
                }
            }
            var members: [Int: WorkItem] = [:]
            var itemCount = 0
            for f in spec.inputs {
                for line in try read(f).split(separator: 0x0A) {
                    if needed.contains(itemCount) { members[itemCount] = try WorkItem.parse(line: line) }
                    itemCount += 1
                }
            }
            guard n == itemCount else { throw StageError("annotations (\(n)) do not match items (\(itemCount))") }
            var uf = UnionFind(count: itemCount)
            for (i, j) in pairs where uf.find(i) != uf.find(j) {
                if s.confirm(annotations[i]![...], annotations[j]![...]) { uf.union(i, j) }
            }
            // One line per removed item: `index<TAB>kept index<TAB>kind<TAB>reason`; the driver applies them.
            for group in uf.groups() where group.count > 1 {
                let kept = s.keep.choose(group, size: { members[$0]!.size }, score: { members[$0]!.score })
                for m in group where m != kept {
                    let reason = s.reason(of: members[m]!, duplicating: members[kept]!, annotations: (annotations[m]![...], annotations[kept]![...]))
                    output += Array("\(m)\t\(kept)\t\(s.findingKind)\t\(reason.replacingOccurrences(of: "\n", with: " "))\n".utf8)
                }
            }
            count = itemCount
        default:
            throw StageError("task \(spec.label): step `\(spec.step.rawValue)` does not fit stage kind `\(spec.uses)`")
        }
        let result = TaskResult(key: spec.key, label: spec.label, items: count, seconds: Date().timeIntervalSince(started),
                                attempts: attempt, cached: false)
        try publish(cache: cache, key: spec.key, output: output, result: result, log: logLines.text)
        return result
    }

    /// Writes the task's folder under a temp name and renames it into place (atomic on one file system).
    static func publish(cache: TaskCache, key: String, output: [UInt8], result: TaskResult, log: String) throws {
        let final = cache.dir(key)
        let parent = (final as NSString).deletingLastPathComponent
        try FileIO.makeDirectories(parent)
        let tmp = "\(parent)/.tmp-\(key.prefix(12))-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileIO.makeDirectories(tmp)
        try FileIO.writeAtomically(tmp + "/output", output, sync: false)
        try FileIO.writeAtomically(tmp + "/log.txt", Array(log.utf8), sync: false)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try FileIO.writeAtomically(tmp + "/result.json", Array(try encoder.encode(result)), sync: false)
        // No fsync here: the driver flushes the file system once per step, before it merges anything.
        if rename(tmp, final) != 0 {
            // Another attempt finished first: its output is equivalent (same key).
            try? FileManager.default.removeItem(atPath: tmp)
            if !cache.isDone(key) { throw FileError("rename into place", final) }
        }
    }

    /// Parameters from canonical JSON back to spec values.
    public static func specParams(_ json: String) throws -> [String: SpecValue] {
        guard case .success(let obj) = JSONRecord.parseObject(Array(json.utf8), maxDepth: 64) else {
            throw StageError("cannot read task parameters \(json.prefix(80))")
        }
        return obj.mapValues(SpecValue.init(json:))
    }
}

final class LogBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ s: String) { lock.withLock { lines.append(s) } }
    var text: String { lock.withLock { lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n") } }
}
