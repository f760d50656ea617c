import Foundation
import StrataCatalog
import StrataCore
import StrataEngine
import StrataQuality
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

/// The run stopped by the removal guard, with what it found (the error's message and fix are for the terminal).
struct RemovalGuardStop: Error, CustomStringConvertible {
    var breaches: [GuardBreach]
    var description: String { RemovalGuard.message(breaches).message }
}

extension Workspace {
    public func pipeline() throws -> PipelineSpec {
        do { return try PipelineSpec.decode(yaml: try readSpec("pipeline.yaml"), file: "pipeline.yaml") } catch let e as StrataError { throw e } catch {
            throw StrataError.project("\(error)")
        }
    }

    /// Runs the pipeline: plans each stage as tasks over shards, runs them on the executor, and merges finished
    /// stages into the catalog one transaction each. Cached tasks are not run again, so an unchanged project does no
    /// work and a killed run resumes where it stopped.
    public func run(_ options: RunOptions, executor: (any Executor)? = nil) throws -> RunReport {
        let started = Date()
        let spec = try pipeline()
        // Build every stage first: bad parameters fail before any work. Label stages (`label.pseudo`) work on the
        // catalog after the cleaned set is published, so they come after every data stage.
        var stages: [(PipelineSpec.Stage, BuiltStage)] = []
        var labelStages: [(PipelineSpec.Stage, PseudoLabelOptions)] = []
        var stageProblems: [String] = []
        for s in spec.stages {
            if s.uses == PseudoLabelOptions.stageKind {
                do { labelStages.append((s, try PseudoLabelOptions(stage: s))) } catch {
                    throw StrataError.project("pipeline.yaml: \(error)", fix: "fix the stage's parameters; see docs/pipeline.md (`label.pseudo`)")
                }
                _ = try modelPredictions(labelStages.last!.1.model)
                continue
            }
            if let first = labelStages.first {
                throw StrataError.project("pipeline.yaml: stage `\(s.name)` comes after the label stage `\(first.0.name)`",
                                          fix: "put `uses: \(PseudoLabelOptions.stageKind)` stages after every data stage: they label the cleaned set")
            }
            // Every stage is built, so that the problems of all stages are reported at once (each with its line).
            do { stages.append((s, try StageRegistry.build(s))) } catch {
                stageProblems.append("pipeline.yaml:\(s.line.map(String.init) ?? "?"): \(error)")
            }
        }
        if !stageProblems.isEmpty {
            throw StrataError.project(stageProblems.count == 1 ? stageProblems[0] : "\(stageProblems.count) problems in pipeline.yaml:\n  " + stageProblems.joined(separator: "\n  "),
                                      fix: "fix the stages' parameters (docs/pipeline.md); `strata check` validates pipeline.yaml")
        }
        if let last = options.stage, let idx = labelStages.firstIndex(where: { $0.0.name == last }) {
            labelStages = Array(labelStages[...idx])
        } else if options.stage != nil {
            labelStages = []
        }
        if stages.isEmpty && labelStages.isEmpty {
            throw StrataError.project("pipeline.yaml has no stages", fix: "add stages (see the commented examples in pipeline.yaml), or run `strata init --force` for the default pipeline")
        }
        for name in [options.stage, options.from].compactMap({ $0 }) + options.acceptRemovals where spec.stage(named: name) == nil {
            throw StrataError.usage("no stage `\(name)` in pipeline.yaml (stages: \(spec.stages.map(\.name).joined(separator: ", ")))")
        }
        if let last = options.stage, let idx = stages.firstIndex(where: { $0.0.name == last }) { stages = Array(stages[...idx]) }
        let forceFrom = options.force ? 0 : (options.from.flatMap { f in stages.firstIndex { $0.0.name == f } } ?? Int.max)

        let lock = try lock("run")
        defer { withExtendedLifetime(lock) {} }
        let executor = executor ?? makeExecutor(options)
        if executor is LocalExecutor, !(try catalog.unfinishedRuns()).isEmpty {
            // An interrupted local run may have left half-written files; their writers (this machine's processes)
            // are gone. (Tasks of a Slurm run write on other nodes, so their process ids mean nothing here.)
            removeStaleTemporaryFiles(under: [strataDir + "/objects", strataDir + "/cache", strataDir + "/runs", cleanedDir])
        }
        let pipelineHash = Workspace.shortHash(stages.map { "\($0.0.name) \($0.0.uses) \(SpecValue.map($0.0.params).canonicalJSON) \($0.0.command ?? "")" }.joined(separator: "\n"))
        let runId = "run-" + Workspace.compactTimestamp() + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let runDir = strataDir + "/runs/" + runId
        try FileIO.makeDirectories(runDir)
        let log = RunLog(path: runDir + "/log.jsonl")
        if !options.preview { try catalog.startRun(id: runId, executor: executor.name, pipelineHash: pipelineHash, now: Workspace.now()) }
        log.event("run-start", ["run": .string(runId), "executor": .string(executor.name), "stages": .int(Int64(stages.count))])
        // A cluster executor starts its workers now: their scheduling overlaps loading the samples and planning.
        executor.begin(run: runId, projectRoot: root, log: { kind, fields in log.event(kind, fields) })
        var executorFinished = false
        defer { if !executorFinished { executor.finish(succeeded: false) } }

        let prof = Profile.shared
        var t0 = Date()
        var items = try runItems()
        catalog.releaseMemory()
        Workspace.returnFreedMemory()
        prof.add("run: load samples", Date().timeIntervalSince(t0))
        var reports: [StageReport] = []
        var removals: [StageRemovals] = []
        var dataProfile: DataProfile?
        do {
            // Profile first: the relative thresholds of `filter.quality` come from it (RunProfile.swift).
            t0 = Date()
            let profile = Workspace.profile(items, context: StageContext(projectRoot: root, objects: objects))
            dataProfile = profile
            stages = try Workspace.handProfile(profile, to: stages)
            prof.add("run: profile", Date().timeIntervalSince(t0))
            log.event("profile", ["sources": .int(Int64(profile.sources.count))])
            let labels = try analysisLabelSet().votes.mapValues(\.label)
            let accepted = Set(options.acceptRemovals + spec.removalGuard.accept)
            // Merges wait until every stage has passed the guard: a stopped run leaves the ledger as it was.
            var pending: [(position: Int, report: StageReport, outcomes: [ItemOutcome])] = []
            for (position, (stageSpec, built)) in stages.enumerated() {
                let stageStarted = Date()
                let planner = StagePlanner(runId: runId, runDir: runDir, projectRoot: root, stage: stageSpec, built: built,
                                           shardSize: options.shardSize)
                let force = position >= forceFrom
                var taskCount = 0, cachedCount = 0
                progress.begin("[\(position + 1)/\(stages.count)] \(stageSpec.name) (\(stageSpec.uses))", total: items.count)
                let outcomes = try planner.run(items: items) { tasks in
                    if force { for t in tasks { planner.forget(t) } }
                    taskCount += tasks.count
                    let counter = ProgressCounter()
                    let stepStarted = Date()
                    defer { prof.add("run: \(stageSpec.name) \(tasks.first?.step.rawValue ?? "-") tasks", Date().timeIntervalSince(stepStarted)) }
                    try executor.execute(tasks, projectRoot: root, retries: options.retries, report: { result in
                        counter.add(result)
                        log.event("task", ["label": .string(result.label), "items": .int(Int64(result.items)), "cached": .bool(result.cached),
                                           "seconds": .number(result.seconds), "attempts": .int(Int64(result.attempts))])
                    }, log: { kind, fields in
                        log.event(kind, fields)
                        if let line = Workspace.note(kind, fields) { self.progress.note(line) }
                    })
                    cachedCount += counter.cached
                    Workspace.returnFreedMemory()
                    if tasks.first?.step == .map || tasks.first?.step == .annotate { self.progress.advance(by: counter.items) }
                }
                progress.end()
                prof.add("run: \(stageSpec.name) (planner total)", Date().timeIntervalSince(stageStarted))
                t0 = Date()
                var counts = StageCounts()
                for o in outcomes { counts.add(o) }
                guard counts.balanced, counts.inputs == items.count else {
                    throw StrataError(.failure, "stage `\(stageSpec.name)` broke the invariant: \(items.count) inputs, \(counts.kept) kept + \(counts.rejected) quarantined + \(counts.duplicates) duplicates",
                                      fix: "this is a bug in the stage; its task outputs are under \(relative(runDir))")
                }
                let stageRemovals = StageRemovals(stage: stageSpec, outcomes: outcomes, labels: labels)
                removals.append(stageRemovals)
                if !options.preview && !accepted.contains(stageSpec.name) {
                    let breaches = RemovalGuard.breaches(stageRemovals, spec: spec.removalGuard)
                    if !breaches.isEmpty { throw RemovalGuardStop(breaches: breaches) }
                }
                var report = StageReport(name: stageSpec.name, uses: stageSpec.uses, counts: counts, tasks: taskCount, cachedTasks: cachedCount,
                                         seconds: Date().timeIntervalSince(stageStarted), digest: Workspace.digest(outcomes))
                prof.add("run: \(stageSpec.name) counts", Date().timeIntervalSince(t0))
                report.seconds = Date().timeIntervalSince(stageStarted)
                pending.append((position, report, outcomes.filter { if case .keep = $0 { false } else { true } }))
                log.event("stage", ["name": .string(stageSpec.name), "inputs": .int(Int64(counts.inputs)), "kept": .int(Int64(counts.kept)),
                                    "rejected": .int(Int64(counts.rejected)), "duplicates": .int(Int64(counts.duplicates)),
                                    "tasks": .int(Int64(taskCount)), "cached": .int(Int64(cachedCount)), "digest": .string(report.digest)])
                reports.append(report)
                items = outcomes.compactMap { if case .keep(let i) = $0 { i } else { nil } }
            }
            executorFinished = true
            executor.finish(succeeded: true)
            if options.preview {
                let report = RunReport(runId: runId, executor: executor.name, stages: reports, cleaned: items.count,
                                       seconds: Date().timeIntervalSince(started), nothingChanged: false, digest: "",
                                       profile: dataProfile, removals: removals, preview: true)
                log.event("run-end", ["status": .string("preview")])
                return report
            }
            for p in pending {
                t0 = Date()
                try mergeStage(runId: runId, position: p.position, report: p.report, outcomes: p.outcomes)
                catalog.releaseMemory()
                prof.add("run: \(p.report.name) merge", Date().timeIntervalSince(t0))
            }
            // The ledger shows what the current settings reject: entries of these stages from earlier runs that this
            // run did not reject again are released as superseded.
            let superseded = try catalog.supersedeQuarantine(stages: stages.map(\.0.name), runId: runId, at: Workspace.now())
            // The digest covers the rows just written to the catalog's cleaned set (the same rows, not read back).
            // The run digest covers the rows written to the catalog's cleaned set (the same rows, not read back); it is
            // computed on another thread while the catalog writes them.
            t0 = Date()
            let stageDigests = reports.map(\.digest)
            let digestSlot = Slots<String>(count: 1)
            let published = try publishCleanedSet(items, runId: runId) { rows in
                let started = Date()
                digestSlot.set(0, Workspace.runDigest(stageDigests: stageDigests, cleanedRows: rows))
                Profile.shared.add("run: run digest (alongside the catalog write)", Date().timeIntervalSince(started))
            }
            prof.add("run: publish cleaned set", Date().timeIntervalSince(t0))
            let cleaned = published.count
            let runDigest = digestSlot.take(0)
            var pseudo: [PseudoLabelReport] = []
            for (position, (stageSpec, opts)) in labelStages.enumerated() {
                progress.begin("[\(stages.count + position + 1)/\(stages.count + labelStages.count)] \(stageSpec.name) (\(stageSpec.uses))", total: 0)
                let r = try pseudoLabelLocked(opts, pipelineRunId: runId)
                progress.end()
                log.event("label-stage", ["name": .string(stageSpec.name), "uses": .string(stageSpec.uses), "model": .string(r.model),
                                          "pseudo_run": .string(r.run), "added": .int(Int64(r.added)), "corrected": .int(Int64(r.corrected)),
                                          "withdrawn": .int(Int64(r.withdrawn)), "accepted": .int(Int64(r.accepted)),
                                          "spot_checks": .int(Int64(r.spotChecks)), "dry_run": .bool(r.dryRun)])
                for note in r.notes { progress.note("\(stageSpec.name): \(note)") }
                pseudo.append(r)
            }
            let report = RunReport(runId: runId, executor: executor.name, stages: reports, cleaned: cleaned,
                                   seconds: Date().timeIntervalSince(started),
                                   nothingChanged: reports.allSatisfy { $0.cachedTasks == $0.tasks }
                                       && pseudo.allSatisfy { $0.added + $0.corrected + $0.withdrawn == 0 },
                                   digest: runDigest, labelStages: pseudo.isEmpty ? nil : pseudo, profile: dataProfile, removals: removals,
                                   superseded: superseded > 0 ? superseded : nil)
            try catalog.finishRun(id: runId, status: "done", report: Workspace.json(report), error: nil, now: Workspace.now())
            log.event("run-end", ["status": .string("done"), "cleaned": .int(Int64(cleaned))])
            prof.add("run: total", Date().timeIntervalSince(started))
            prof.report()
            return report
        } catch {
            let message = "\(error)"
            let stop = error as? RemovalGuardStop
            // A run the removal guard stopped is `failed` (the catalog's statuses); its error says the guard stopped it.
            let status = error is ExecutorInterrupted ? "interrupted" : "failed"
            // A stopped run keeps its profile and what its stages would have removed (`strata runs show`).
            let partial = RunReport(runId: runId, executor: executor.name, stages: reports, cleaned: 0, seconds: Date().timeIntervalSince(started),
                                    nothingChanged: false, digest: "", profile: dataProfile, removals: removals)
            if !options.preview {
                let recorded = stop.map { RemovalGuard.message($0.breaches).message } ?? message
                try? catalog.finishRun(id: runId, status: status, report: Workspace.json(partial), error: recorded, now: Workspace.now())
            }
            log.event("run-end", ["status": .string(status), "error": .string(message)])
            if let stop {
                let text = RemovalGuard.message(stop.breaches)
                throw StrataError(.project, "run \(runId) stopped: " + text.message, fix: text.fix)
            }
            if error is ExecutorInterrupted {
                throw StrataError(.interrupted, "run \(runId) \(message)", fix: "finished tasks are kept: `strata run` resumes where this run stopped")
            }
            if error is SlurmError {
                throw StrataError(.failure, "run \(runId) stopped: \(message)", fix: "see docs/slurm.md; finished tasks are kept, so `strata run` resumes after the fix")
            }
            if let failure = error as? TaskFailure {
                throw StrataError(.failure, "\(failure)", fix: "see `strata runs logs \(runId)`; finished tasks are kept, so `strata run` resumes after the fix")
            }
            throw error
        }
    }

    /// The executor `options` (or strata.yaml) asks for.
    func makeExecutor(_ options: RunOptions) -> any Executor {
        switch options.executor ?? project.executor.kind {
        case .local:
            return LocalExecutor(workers: options.workers ?? project.executor.workers ?? ProcessInfo.processInfo.activeProcessorCount)
        case .slurm:
            var slurm = SlurmExecutor.Options(project.executor)
            if let w = options.workers { slurm.maxRunning = w }
            return SlurmExecutor(options: slurm)
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

    /// Records a finished stage: duplicates as findings (pointing at the kept sample), rejects as quarantine entries.
    func mergeStage(runId: String, position: Int, report: StageReport, outcomes: [ItemOutcome]) throws {
        let now = Workspace.now()
        var findings: [FindingRow] = []
        var quarantine: [QuarantineRow] = []
        for o in outcomes {
            switch o {
            case .keep: continue
            case .duplicate(let item, let kept, let kind, let reason):
                findings.append(FindingRow(
                    key: Workspace.shortHash(kind, report.name, item.sample, kept.sample), kind: kind, stage: report.name, sampleId: item.sample,
                    origin: item.origin, line: item.line, relatedSampleId: kept.sample, relatedOrigin: kept.origin, relatedLine: kept.line,
                    reason: reason, runId: runId, createdAt: now))
            case .reject(let item, let kind, let reason):
                let id = "q-" + String(Workspace.shortHash(report.name, item.sample, item.id, kind).prefix(12))
                let stored: String
                switch item.content {
                case .raw(let path): stored = path
                case .object: stored = ObjectStore.projectPath(for: item.id)
                }
                let record: [String: JSONValue] = [
                    "id": .string(id), "kind": .string(kind), "stage": .string(report.name), "origin": .string(item.origin),
                    "line": item.line.map { .int(Int64($0)) } ?? .null, "reason": .string(reason), "source": .string(item.source),
                    "sample": .string(item.sample), "sha256": .string(item.id), "stored": .string(stored), "run": .string(runId),
                    "created_at": .string(now),
                ]
                let path = "\(quarantineDir)/\(id).json"
                if FileIO.status(path) == nil {
                    try FileIO.writeAtomically(path, Array((JSONValue.object(record).canonicalJSON + "\n").utf8), sync: false)
                }
                quarantine.append(QuarantineRow(id: id, kind: kind, stage: report.name, origin: item.origin, line: item.line, reason: reason,
                                                storedPath: stored, source: item.source, contentSha256: item.id, runId: runId, createdAt: now))
            }
        }
        FileIO.syncFileSystem(quarantineDir)
        let c = report.counts
        try catalog.mergeStage(RunStageRow(runId: runId, position: position, name: report.name, uses: report.uses, inputs: c.inputs,
                                           kept: c.kept, rejected: c.rejected, duplicates: c.duplicates,
                                           reasons: Workspace.json(c.reasons), tasks: report.tasks, cachedTasks: report.cachedTasks,
                                           seconds: report.seconds),
                               findings: findings, quarantine: quarantine)
    }

    /// Writes the surviving samples to `data/cleaned/<source>/` (files as files; text records as one JSONL per source)
    /// and replaces the catalog's cleaned set. Files of earlier runs that are no longer in the set are removed:
    /// `data/cleaned` is derived data, rebuilt from raw data by `strata run`.
    /// `alongside` gets the rows on another thread while they are written to the catalog (it is finished when this returns).
    func publishCleanedSet(_ items: [WorkItem], runId: String,
                           alongside: (@Sendable ([CleanedSampleRow]) -> Void)? = nil) throws -> [CleanedSampleRow] {
        let objectsStore = objects
        let objectsDir = OpenDirectory(objectsStore.root)
        var rows: [CleanedSampleRow] = []
        var keepPaths = Set<String>()
        var records: [String: [WorkItem]] = [:]
        let date = Workspace.today()
        let pattern = project.naming.pattern
        for item in items {
            if item.content.isObject && item.line != nil {
                records[item.source, default: []].append(item)
                continue
            }
            let format = FileFormat(name: item.format) ?? .txt
            let ext = item.content.isObject && item.modality == "text" ? "txt" : format.fileExtension
            let shortId = String(item.id.prefix(max(project.naming.idLength, 10)))
            let compact = FileNaming.compactDate(item.collected) ?? date
            let rel = "data/cleaned/\(item.source)/" + FileNaming.fileName(source: item.source, compactDate: compact, id: shortId, ext: ext, pattern: pattern)
            let abs = root + "/" + rel
            if FileIO.status(abs) == nil {
                try FileIO.makeDirectories((abs as NSString).deletingLastPathComponent)
                let src: String
                switch item.content {
                case .raw(let path): src = root + "/" + path
                case .object(let sha): src = objectsStore.path(for: sha)
                }
                if link(src, abs) != 0 { try FileIO.copyAtomically(from: src, to: abs, mode: 0o444) }
            }
            keepPaths.insert(rel)
            rows.append(CleanedSampleRow(sampleId: item.sample, contentSha: item.id, path: rel, line: nil, transforms: Workspace.transformsJSON(item.transforms),
                                         score: item.score, runId: runId))
        }
        for (source, list) in records.sorted(by: { $0.key < $1.key }) {
            // Streamed to a temp file in 1 MiB pieces (bounded memory), hashed on the way; renamed to its
            // content-derived name at the end.
            let dir = root + "/data/cleaned/" + source
            try FileIO.makeDirectories(dir)
            let tmp = FileIO.tempName(in: dir)
            let fd = Glibc.open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444)
            guard fd >= 0 else { throw StrataError(.failure, "\(FileError("create", tmp))") }
            var hasher = StreamingSHA256()
            var lineRows: [(WorkItem, Int)] = []
            lineRows.reserveCapacity(list.count)
            do {
                defer { close(fd) }
                // Records are read and encoded in parallel, a window at a time (bounded memory), then hashed and
                // written in order: the file's bytes are the same as a one-by-one loop would write.
                let piece = 256
                let window = piece * max(2, ProcessInfo.processInfo.activeProcessorCount * 4)
                var start = 0
                while start < list.count {
                    let first = start, end = min(start + window, list.count)
                    let pieces = (end - first + piece - 1) / piece
                    let buffers = Slots<[UInt8]>(count: pieces)
                    let failure = FirstError()
                    DispatchQueue.concurrentPerform(iterations: pieces) { p in
                        let lo = first + p * piece, hi = min(lo + piece, end)
                        var bytes = [UInt8]()
                        bytes.reserveCapacity((hi - lo) * 1400)
                        do {
                            for item in list[lo..<hi] {
                                guard case .object(let digest) = item.content else {
                                    throw StrataError(.failure, "cleaned record \(item.place) is not in the object store (\(item.content))")
                                }
                                let text = try objectsStore.read(digest, size: item.size, in: objectsDir)
                                Workspace.writeCleanedRecord(item, source: source, text: text, to: &bytes)
                            }
                        } catch {
                            failure.set(error)
                        }
                        buffers.set(p, bytes)
                    }
                    if let e = failure.take() { throw e }
                    for p in 0..<pieces {
                        let bytes = buffers.take(p)
                        hasher.update(bytes)
                        try FileIO.writeAll(fd, bytes, path: tmp)
                    }
                    for n in start..<end { lineRows.append((list[n], n + 1)) }
                    start = end
                }
            } catch {
                unlink(tmp)
                throw error
            }
            let sha = hasher.finalize()
            let rel = "data/cleaned/\(source)/" + FileNaming.fileName(source: source, compactDate: date, id: String(sha.prefix(max(project.naming.idLength, 10))), ext: "jsonl", pattern: pattern)
            if FileIO.status(root + "/" + rel) == nil {
                guard rename(tmp, root + "/" + rel) == 0 else { unlink(tmp); throw StrataError(.failure, "\(FileError("rename into place", rel))") }
            } else {
                unlink(tmp)
            }
            keepPaths.insert(rel)
            for (item, line) in lineRows {
                rows.append(CleanedSampleRow(sampleId: item.sample, contentSha: item.id, path: rel, line: line,
                                             transforms: Workspace.transformsJSON(item.transforms), score: item.score, runId: runId))
            }
        }
        rows.sort(by: Workspace.cleanedRowOrder)
        let side = DispatchGroup()
        defer { side.wait() }
        if let alongside {
            let finished = rows
            DispatchQueue.global().async(group: side) { alongside(finished) }
        }
        var t0 = Date()
        FileIO.syncFileSystem(cleanedDir)
        Profile.shared.add("publish: syncfs", Date().timeIntervalSince(t0))
        t0 = Date()
        try catalog.replaceCleanedSet(rows)
        catalog.releaseMemory()
        Profile.shared.add("publish: replace cleaned rows", Date().timeIntervalSince(t0))
        // Remove derived files no longer in the cleaned set.
        let fm = FileManager.default
        for source in (try? fm.contentsOfDirectory(atPath: cleanedDir)) ?? [] where !source.hasPrefix(".") {
            for name in (try? fm.contentsOfDirectory(atPath: cleanedDir + "/" + source)) ?? [] {
                let rel = "data/cleaned/\(source)/\(name)"
                if !keepPaths.contains(rel) { unlink(root + "/" + rel) }
            }
        }
        return rows
    }

    /// One line of a cleaned JSONL file: {"id", "line", "origin", "sample", "source", "text", "transforms"}, keys in
    /// sorted order, as `JSONValue.object` would write them. `text` is the record's UTF-8 bytes (invalid sequences are
    /// replaced, as `String(decoding:as:)` does).
    static func writeCleanedRecord(_ item: WorkItem, source: String, text: [UInt8], to bytes: inout [UInt8]) {
        bytes.append(contentsOf: #"{"id":"#.utf8); JSONValue.writeString(item.id, to: &bytes)
        if let l = item.line { bytes.append(contentsOf: #","line":"#.utf8); bytes.append(contentsOf: String(l).utf8) }
        bytes.append(contentsOf: #","origin":"#.utf8); JSONValue.writeString(item.origin, to: &bytes)
        bytes.append(contentsOf: #","sample":"#.utf8); JSONValue.writeString(item.sample, to: &bytes)
        bytes.append(contentsOf: #","source":"#.utf8); JSONValue.writeString(source, to: &bytes)
        bytes.append(contentsOf: #","text":"#.utf8); JSONValue.writeString(String(decoding: text, as: UTF8.self), to: &bytes)
        if !item.transforms.isEmpty {
            bytes.append(contentsOf: #","transforms":"#.utf8)
            JSONValue.array(item.transforms.map { .string($0.stage + ":" + $0.changes.joined(separator: ",")) }).write(to: &bytes)
        }
        bytes.append(contentsOf: "}\n".utf8)
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

final class ProgressCounter: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var cached = 0
    private(set) var items = 0
    func add(_ r: TaskResult) { lock.withLock { if r.cached { cached += 1 }; items += r.items } }
}

/// The run's JSONL log: one event per line, appended and flushed as it happens.
final class RunLog: @unchecked Sendable {
    private let lock = NSLock()
    private let handle: FileHandle?

    init(path: String) {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        handle = FileHandle(forWritingAtPath: path)
        handle?.seekToEndOfFile()
    }

    func event(_ kind: String, _ fields: [String: JSONValue]) {
        var obj = fields
        obj["event"] = .string(kind)
        obj["time"] = .string(Workspace.now())
        let line = JSONValue.object(obj).serialize() + [0x0A]
        lock.withLock { handle?.write(Data(line)) }
    }

    deinit { try? handle?.close() }
}
