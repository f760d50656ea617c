import Dispatch
import Foundation
import StrataCore
import StrataStore

/// Plans one stage as tasks over shards of its input and reads their outputs back as outcomes.
///
/// A map stage is one step (a task per shard). A global stage is three: `annotate` (a task per shard), `pair`
/// (a task per partition, reading every annotation) and `decide` (one task). Every task is keyed by the stage,
/// its code version and parameters and the hashes of its inputs, so unchanged work is found in the cache.
public struct StagePlanner: Sendable {
    public let runId: String
    public let runDir: String
    public let projectRoot: String
    public let stage: PipelineSpec.Stage
    public let built: BuiltStage
    public let shardSize: Int
    let cache: TaskCache

    public init(runId: String, runDir: String, projectRoot: String, stage: PipelineSpec.Stage, built: BuiltStage, shardSize: Int) {
        self.runId = runId; self.runDir = runDir; self.projectRoot = projectRoot; self.stage = stage; self.built = built
        self.shardSize = shardSize
        cache = TaskCache(projectRoot: projectRoot)
    }

    var stageDir: String { runDir + "/" + stage.name }
    var paramsJSON: String { SpecValue.map(stage.params).canonicalJSON }

    func relative(_ abs: String) -> String { abs.hasPrefix(projectRoot + "/") ? String(abs.dropFirst(projectRoot.count + 1)) : abs }

    /// Removes a task's cached result so it runs again (`--force`, `--from`).
    public func forget(_ task: TaskSpec) {
        try? FileManager.default.removeItem(atPath: cache.dir(task.key))
    }

    func key(_ step: TaskSpec.Step, _ index: Int, _ inputHashes: [String]) -> String {
        FileIO.sha256(Array(([stage.uses, String(built.codeVersion), stage.name, paramsJSON, stage.command ?? "", step.rawValue, String(index)]
            + inputHashes).joined(separator: "\n").utf8))
    }

    func task(_ step: TaskSpec.Step, _ index: Int, inputs: [String], annotations: [String] = [], pairs: [String] = [], hashes: [String]) -> TaskSpec {
        TaskSpec(run: runId, stage: stage.name, uses: stage.uses, params: paramsJSON, command: stage.command, step: step, index: index,
                 inputs: inputs, annotations: annotations, pairs: pairs, key: key(step, index, hashes))
    }

    /// Writes the input shards, runs the steps through `execute`, and returns one outcome per input item, in order.
    public func run(items: [WorkItem], execute: ([TaskSpec]) throws -> Void) throws -> [ItemOutcome] {
        try FileIO.makeDirectories(stageDir)
        // Shards are encoded, hashed and written in parallel (each is its own file).
        let shardCount = (items.count + shardSize - 1) / shardSize
        let written = Slots<Result<(String, String), any Error>>(count: shardCount)
        DispatchQueue.concurrentPerform(iterations: shardCount) { n in
            let start = n * shardSize
            var bytes = [UInt8]()
            bytes.reserveCapacity(min(shardSize, items.count - start) * 512)
            for item in items[start..<min(start + shardSize, items.count)] { item.write(to: &bytes); bytes.append(0x0A) }
            let path = "\(stageDir)/input-\(n).jsonl"
            do {
                try FileIO.writeAtomically(path, bytes, sync: false)
                written.set(n, .success((relative(path), FileIO.sha256(bytes))))
            } catch {
                written.set(n, .failure(error))
            }
        }
        let shards: [(path: String, hash: String)] = try (0..<shardCount).map { try written.get($0).get() }
        if items.isEmpty { return [] }
        switch built {
        case .map:
            let tasks = shards.enumerated().map { i, s in task(.map, i, inputs: [s.path], hashes: [s.hash]) }
            try save(tasks, step: .map)
            try execute(tasks)
            FileIO.syncFileSystem(cache.root)
            return try tasks.flatMap { try outcomes(of: $0) }
        case .global(let g):
            let annotate = shards.enumerated().map { i, s in task(.annotate, i, inputs: [s.path], hashes: [s.hash]) }
            try save(annotate, step: .annotate)
            try execute(annotate)
            let annotationFiles = annotate.map { relative(cache.output($0.key)) }
            let annotationKeys = annotate.map(\.key)
            let pair = (0..<g.partitions).map { p in task(.pair, p, inputs: annotationFiles, hashes: annotationKeys) }
            try save(pair, step: .pair)
            try execute(pair)
            let decide = task(.decide, 0, inputs: shards.map(\.path), annotations: annotationFiles,
                              pairs: pair.map { relative(cache.output($0.key)) }, hashes: shards.map(\.hash) + annotationKeys + pair.map(\.key))
            try save([decide], step: .decide)
            try execute([decide])
            FileIO.syncFileSystem(cache.root)
            // Apply the decisions to the items held here: everything not named is kept.
            var result = items.map { ItemOutcome.keep($0) }
            for line in try FileIO.readAll(cache.output(decide.key)).split(separator: 0x0A) {
                let f = line.split(separator: 0x09, maxSplits: 3, omittingEmptySubsequences: false)
                guard f.count == 4, let m = Int(String(decoding: f[0], as: UTF8.self)), let k = Int(String(decoding: f[1], as: UTF8.self)),
                      items.indices.contains(m), items.indices.contains(k) else {
                    throw StageError("unreadable decision in task \(decide.label): \(String(decoding: line.prefix(120), as: UTF8.self))")
                }
                result[m] = .duplicate(items[m], of: items[k], kind: String(decoding: f[2], as: UTF8.self), reason: String(decoding: f[3], as: UTF8.self))
            }
            return result
        }
    }

    /// The task list of a step, saved in the run folder so any process (e.g. `strata task run`) can run one.
    func save(_ tasks: [TaskSpec], step: TaskSpec.Step) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try FileIO.writeAtomically("\(stageDir)/\(step.rawValue).tasks.json", Array(try encoder.encode(tasks)), sync: false)
    }

    func outcomes(of task: TaskSpec) throws -> [ItemOutcome] {
        try FileIO.readAll(cache.output(task.key)).split(separator: 0x0A).map { try ItemOutcome.parse(line: $0) }
    }

    /// Loads the saved tasks of a step (for `strata task run RUN STAGE STEP INDEX`).
    public static func savedTasks(runDir: String, stage: String, step: TaskSpec.Step) throws -> [TaskSpec] {
        try JSONDecoder().decode([TaskSpec].self, from: Data(try FileIO.readAll("\(runDir)/\(stage)/\(step.rawValue).tasks.json")))
    }
}

