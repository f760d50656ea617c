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
    public init(key: String, label: String, items: Int, seconds: Double, attempts: Int, cached: Bool) {
        self.key = key; self.label = label; self.items = items; self.seconds = seconds; self.attempts = attempts; self.cached = cached
    }
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
        let context = StageContext(projectRoot: projectRoot, objects: ObjectStore(projectRoot: projectRoot),
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
            // One length-prefixed record per item (annotations may be binary): see `AnnotationFile`.
            let input = try items(spec.inputs)
            for item in input {
                AnnotationFile.append(s.applies(to: item) ? try s.annotate(item, context: context) : [], to: &output)
            }
            count = input.count
        case (.pair, .global(let s)):
            // Stream the annotation files and keep only this partition's band keys: (key, slot, index) triples,
            // sorted; each run of equal (slot, key) pairs its first (lowest) index with every other member.
            var entries: [BandEntry] = []
            var indexed: [(index: Int, annotation: [UInt8])] = []
            var index = 0
            for f in spec.inputs {
                let bytes = try read(f)
                try AnnotationFile.forEach(bytes, file: f) { line in
                    defer { index += 1 }
                    // Items the stage does not apply to have an empty annotation and never pair.
                    if line.isEmpty { return }
                    if s.indexed(line) { indexed.append((index, Array(line))); return }
                    for (slot, key) in s.bandKeys(partition: spec.index, annotation: line).enumerated() {
                        entries.append(BandEntry(key: key, slotIndex: UInt64(slot) << 40 | UInt64(index)))
                    }
                }
            }
            entries.sort { $0.key != $1.key ? $0.key < $1.key : $0.slotIndex < $1.slotIndex }
            var pairs: [UInt64] = []
            var start = 0
            while start < entries.count {
                var end = start + 1
                let slot = entries[start].slotIndex >> 40
                while end < entries.count && entries[end].key == entries[start].key && entries[end].slotIndex >> 40 == slot { end += 1 }
                let first = entries[start].slotIndex & 0xFF_FFFF_FFFF
                for j in (start + 1)..<max(start + 1, end) { pairs.append(first << 32 | (entries[j].slotIndex & 0xFF_FFFF_FFFF)) }
                start = end
            }
            for (i, j) in s.indexedPairs(partition: spec.index, entries: indexed) { pairs.append(UInt64(i) << 32 | UInt64(j)) }
            // Each pair once (it may share several bands), in a fixed order.
            pairs.sort()
            var last = UInt64.max
            for p in pairs where p != last {
                PairFile.append(Int(p >> 32), Int(p & 0xFFFF_FFFF), to: &output)
                last = p
            }
            count = index
        case (.decide, .global(let s)):
            // Candidate pairs first; then only the annotations and items that appear in a pair are kept.
            // A pair that shares bands in several partitions is in several pair files: each is decided once.
            var packed: [UInt64] = []
            for f in spec.pairs { try PairFile.forEach(try read(f), file: f) { packed.append(UInt64($0) << 32 | UInt64($1)) } }
            packed.sort()
            var pairs: [(Int, Int)] = []
            pairs.reserveCapacity(packed.count)
            var last = UInt64.max
            for p in packed where p != last {
                pairs.append((Int(p >> 32), Int(p & 0xFFFF_FFFF)))
                last = p
            }
            var needed = [Bool]()
            for (i, j) in pairs {
                let m = max(i, j)
                if m >= needed.count { needed += [Bool](repeating: false, count: m + 1 - needed.count) }
                needed[i] = true; needed[j] = true
            }
            var annotations: [Int: [UInt8]] = [:]
            var n = 0
            for f in spec.annotations {
                try AnnotationFile.forEach(try read(f), file: f) { a in
                    if n < needed.count && needed[n] { annotations[n] = Array(a) }
                    n += 1
                }
            }
            var members: [Int: WorkItem] = [:]
            var itemCount = 0
            for f in spec.inputs {
                for line in try read(f).split(separator: 0x0A) {
                    if itemCount < needed.count && needed[itemCount] { members[itemCount] = try WorkItem.parse(line: line) }
                    itemCount += 1
                }
            }
            guard n == itemCount else { throw StageError("annotations (\(n)) do not match items (\(itemCount))") }
            guard needed.count <= itemCount else { throw StageError("a candidate pair names item \(needed.count - 1) of \(itemCount)") }
            var uf = UnionFind(count: itemCount)
            let confirmed = try s.confirmPairs(pairs, annotations: annotations, items: members, context: context)
            for (n, (i, j)) in pairs.enumerated() where confirmed[n] { uf.union(i, j) }
            // One line per removed item: `index<TAB>kept index<TAB>kind<TAB>reason`; the driver applies them.
            // Only items in a candidate pair can be in a cluster of two or more.
            var groups: [Int: [Int]] = [:]
            for i in 0..<needed.count where needed[i] { groups[uf.find(i), default: []].append(i) }
            for group in groups.values.sorted(by: { $0[0] < $1[0] }) where group.count > 1 {
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

/// One band key of one item in a `pair` task: the slot (the band's position in the partition) in the top 24 bits
/// of `slotIndex`, the item's index in the low 40.
struct BandEntry {
    var key: UInt64
    var slotIndex: UInt64
}

/// Annotation files: per item, its annotation's length as a 4-byte little-endian integer, then its bytes (empty:
/// the item takes no part). Binary-safe, so signatures are stored as raw 32-bit values.
public enum AnnotationFile {
    public static func append(_ annotation: [UInt8], to out: inout [UInt8]) {
        let n = UInt32(annotation.count)
        out.append(UInt8(truncatingIfNeeded: n)); out.append(UInt8(truncatingIfNeeded: n >> 8))
        out.append(UInt8(truncatingIfNeeded: n >> 16)); out.append(UInt8(truncatingIfNeeded: n >> 24))
        out += annotation
    }

    /// Calls `body` with each annotation in order; a truncated file is an error naming it.
    public static func forEach(_ bytes: [UInt8], file: String, _ body: (Annotation) throws -> Void) throws {
        var p = 0
        while p < bytes.count {
            guard p + 4 <= bytes.count else { throw StageError("annotation file \(file) is truncated at byte \(p)") }
            let n = Int(bytes[p]) | Int(bytes[p + 1]) << 8 | Int(bytes[p + 2]) << 16 | Int(bytes[p + 3]) << 24
            p += 4
            guard p + n <= bytes.count else { throw StageError("annotation file \(file) is truncated at byte \(p)") }
            try body(bytes[p..<(p + n)])
            p += n
        }
    }
}

/// Pair files: each candidate pair as two 4-byte little-endian item indexes.
public enum PairFile {
    public static func append(_ i: Int, _ j: Int, to out: inout [UInt8]) {
        for v in [UInt32(i), UInt32(j)] {
            out.append(UInt8(truncatingIfNeeded: v)); out.append(UInt8(truncatingIfNeeded: v >> 8))
            out.append(UInt8(truncatingIfNeeded: v >> 16)); out.append(UInt8(truncatingIfNeeded: v >> 24))
        }
    }

    public static func forEach(_ bytes: [UInt8], file: String, _ body: (Int, Int) throws -> Void) throws {
        guard bytes.count % 8 == 0 else { throw StageError("pair file \(file) is truncated (\(bytes.count) bytes)") }
        var p = 0
        while p < bytes.count {
            let i = Int(bytes[p]) | Int(bytes[p + 1]) << 8 | Int(bytes[p + 2]) << 16 | Int(bytes[p + 3]) << 24
            let j = Int(bytes[p + 4]) | Int(bytes[p + 5]) << 8 | Int(bytes[p + 6]) << 16 | Int(bytes[p + 7]) << 24
            try body(i, j)
            p += 8
        }
    }
}

final class LogBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ s: String) { lock.withLock { lines.append(s) } }
    var text: String { lock.withLock { lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n") } }
}
