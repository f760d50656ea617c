import Foundation
import StrataCatalog
import StrataCore
import StrataEngine
import StrataQuality
import StrataSlurm
import StrataStore
#if canImport(Glibc)
import Glibc
#endif

public struct RunOptions: Sendable {
    /// Stop after this stage (the stages before it run too, from cache when unchanged).
    public var stage: String?
    /// Ignore cached results from this stage on.
    public var from: String?
    /// Ignore every cached result.
    public var force: Bool
    /// Parallel tasks: local worker threads, or Slurm array jobs at once. nil: `executor.workers` in strata.yaml, else
    /// one per core (local) or no cap (Slurm).
    public var workers: Int?
    public var retries: Int
    public var shardSize: Int
    /// Where tasks run; nil: `executor.kind` in strata.yaml.
    public var executor: ProjectSpec.Executor.Kind?
    /// Plan and evaluate the stages, report what each would remove, and write nothing to the catalog, the quarantine
    /// ledger or data/cleaned (task results are cached as usual).
    public var preview: Bool
    /// Stages whose removals the removal guard lets through in this run (`--accept-removals`).
    public var acceptRemovals: [String]

    public init(stage: String? = nil, from: String? = nil, force: Bool = false,
                workers: Int? = nil, retries: Int = 1, shardSize: Int = 1000, executor: ProjectSpec.Executor.Kind? = nil,
                preview: Bool = false, acceptRemovals: [String] = []) {
        self.stage = stage; self.from = from; self.force = force; self.workers = workers.map { max(1, $0) }; self.retries = max(0, retries)
        self.shardSize = max(1, shardSize); self.executor = executor; self.preview = preview; self.acceptRemovals = acceptRemovals
    }
}

/// What one stage did in a run.
public struct StageReport: Codable, Sendable {
    public var name: String
    public var uses: String
    public var counts: StageCounts
    public var tasks: Int
    public var cachedTasks: Int
    public var seconds: Double
    /// SHA-256 of every decision of the stage (item, outcome, kept item, kind, reason), in input order: equal digests
    /// mean the stage decided the same, whichever executor ran it.
    public var digest: String
}

public struct RunReport: Codable, Sendable {
    public var runId: String
    public var executor: String
    public var stages: [StageReport]
    public var cleaned: Int
    public var seconds: Double
    /// True when every task came from the cache: nothing changed since the last run.
    public var nothingChanged: Bool
    /// SHA-256 over the stage digests and the cleaned set: the run's result in one value.
    public var digest: String
    /// What the `label.pseudo` stages did (after the cleaned set was published).
    public var labelStages: [PseudoLabelReport]? = nil
    /// The data profile the run computed before its first stage.
    public var profile: DataProfile? = nil
    /// What each stage removed, per source and per label.
    public var removals: [StageRemovals]? = nil
    /// A preview (`--preview`): nothing was written.
    public var preview: Bool? = nil
    /// Open quarantine entries of this run's stages that it did not quarantine again (earlier settings), now released.
    public var superseded: Int? = nil
}

extension Workspace {
    public func pipeline() throws -> PipelineSpec {
        do { return try PipelineSpec.decode(yaml: try readSpec("pipeline.yaml"), file: "pipeline.yaml") } catch let e as StrataError { throw e } catch {
            throw StrataError(.project, wrapping: error)
        }
    }

    /// Runs the pipeline: plans each stage as tasks over shards, runs them on the executor, and merges finished
    /// stages into the catalog one transaction each. Cached tasks are not run again, so an unchanged project does no
    /// work and a killed run resumes where it stopped. The plan is pure (`RunPlanner`), the I/O is `RunDriver`'s.
    public func run(_ options: RunOptions, executor: (any Executor)? = nil) throws -> RunReport {
        let started = Date()
        let spec = try pipeline()
        let plan = try RunPlanner.plan(spec, options: options) { model in _ = try modelPredictions(model) }
        let lock = try lock("run")
        defer { withExtendedLifetime(lock) {} }
        let executor = executor ?? makeExecutor(options)
        if executor is LocalExecutor, !(try catalog.unfinishedRuns()).isEmpty {
            // An interrupted local run may have left half-written files; their writers (this machine's processes)
            // are gone. (Tasks of a Slurm run write on other nodes, so their process ids mean nothing here.)
            removeStaleTemporaryFiles(under: [strataDir + "/objects", strataDir + "/cache", strataDir + "/runs", cleanedDir])
        }
        return try RunDriver(ws: self, spec: spec, options: options, plan: plan, executor: executor, started: started).run()
    }

    /// The executor `options` (or strata.yaml) asks for.
    func makeExecutor(_ options: RunOptions) -> any Executor {
        switch options.executor ?? project.executor.kind {
        case .local:
            return LocalExecutor(workers: options.workers ?? project.executor.workers ?? ProcessInfo.processInfo.activeProcessorCount)
        case .slurm:
            return SlurmExecutors.make(project.executor, workers: options.workers)
        }
    }

    /// What the user should see of an executor event while the run goes on (the run log has all of them).
    static func note(_ kind: String, _ fields: [String: JSONValue]) -> String? {
        func text(_ key: String) -> String {
            switch fields[key] {
            case .string(let s)?: return s
            case .int(let i)?: return String(i)
            default: return "?"
            }
        }
        switch kind {
        case "task-retry": return "retrying \(text("label")) (attempt \(text("attempt")) failed): \(text("error"))"
        case "slurm-pending": return "Slurm job \(text("job")) has been pending for \(text("seconds")) s: \(text("reason")) (check `squeue -j \(text("job"))`)"
        default: return nil
        }
    }

    /// The stage digest: one line per outcome, in input order.
    static func digest(_ outcomes: [ItemOutcome]) -> String {
        // Streamed in 1 MiB pieces; the bytes hashed are the same lines as ever.
        var hasher = StreamingSHA256()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1 << 20 + 4096)
        func field(_ s: String) { bytes.append(0x09); bytes.append(contentsOf: s.utf8) }
        for o in outcomes {
            switch o {
            case .keep(let i): bytes.append(contentsOf: "keep".utf8); field(i.sample); field(i.id)
            case .reject(let i, let kind, let reason):
                bytes.append(contentsOf: "reject".utf8); field(i.sample); field(i.id); field(kind); field(reason)
            case .duplicate(let i, let kept, let kind, let reason):
                bytes.append(contentsOf: "duplicate".utf8); field(i.sample); field(i.id); field(kept.sample); field(kind); field(reason)
            }
            bytes.append(0x0A)
            if bytes.count >= 1 << 20 { hasher.update(bytes); bytes.removeAll(keepingCapacity: true) }
        }
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// The run digest: SHA-256 of the stage digests and then one line per cleaned row
    /// (`sample<TAB>content sha<TAB>path<TAB>line`) in sorted order, joined by newlines. `cleanedRows` must be in
    /// `cleanedRowOrder`, which is the sorted order of those lines; the bytes are hashed in 1 MiB pieces, so no
    /// line is held as a string.
    static func runDigest(stageDigests: [String], cleanedRows: [CleanedSampleRow]) -> String {
        var hasher = StreamingSHA256()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1 << 20 + 4096)
        var first = true
        func separate() { if first { first = false } else { bytes.append(0x0A) } }
        for d in stageDigests { separate(); bytes.append(contentsOf: d.utf8) }
        for r in cleanedRows {
            separate()
            bytes.append(contentsOf: r.sampleId.utf8); bytes.append(0x09)
            bytes.append(contentsOf: r.contentSha.utf8); bytes.append(0x09)
            bytes.append(contentsOf: r.path.utf8); bytes.append(0x09)
            if let line = r.line { bytes.append(contentsOf: String(line).utf8) }
            if bytes.count >= 1 << 20 { hasher.update(bytes); bytes.removeAll(keepingCapacity: true) }
        }
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// The order of the cleaned rows for the catalog (primary-key order) and the run digest: by sample id, bytewise.
    /// Sample ids are unique and contain no byte below the tab that follows them in a digest line, so this is also
    /// the sorted order of the digest lines; a tie (never seen) falls back to comparing the whole lines.
    static func cleanedRowOrder(_ a: CleanedSampleRow, _ b: CleanedSampleRow) -> Bool {
        if a.sampleId != b.sampleId { return a.sampleId.utf8.lexicographicallyPrecedes(b.sampleId.utf8) }
        func line(_ r: CleanedSampleRow) -> String { "\(r.sampleId)\t\(r.contentSha)\t\(r.path)\t\(r.line.map(String.init) ?? "")" }
        return line(a) < line(b)
    }

    /// Hands memory freed by the last step back to the system (glibc keeps freed heap, per worker thread arena,
    /// for reuse): the run's peak then reflects what it holds, not what its tasks once held.
    static func returnFreedMemory() {
        FileIO.returnFreedMemory()
    }

    /// `json(transforms)` without a JSONEncoder for the common case of no transforms.
    static func transformsJSON(_ transforms: [Transform]) -> String {
        transforms.isEmpty ? "[]" : json(transforms)
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: e.encode(value), as: UTF8.self)) ?? "null"
    }

    static func compactTimestamp() -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss"
        return f.string(from: Date())
    }
}
