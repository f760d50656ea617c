import Foundation
import StrataCatalog
import StrataCore
import StrataEngine
import StrataQuality
import StrataSlurm
import StrataStore

/// The run stopped by the removal guard, with what it found (the error's message and fix are for the terminal).
struct RemovalGuardStop: Error, CustomStringConvertible {
    var breaches: [GuardBreach]
    var description: String { RemovalGuard.message(breaches).message }
}

/// A stage that passed the guard and waits to be merged into the catalog.
struct PendingMerge {
    var position: Int
    var report: StageReport
    /// The stage's non-keep outcomes (what the merge records).
    var outcomes: [ItemOutcome]
}

/// Runs one planned pipeline run: the I/O around the pure parts (`RunPlanner`, `OutcomeMerger`, `RemovalGuard`).
/// It takes the project lock, records the run, loads the samples, profiles them, hands each stage's tasks to the
/// executor, merges the stages once all passed the guard, publishes the cleaned set and runs the label stages.
final class RunDriver {
    let ws: Workspace
    let spec: PipelineSpec
    let options: RunOptions
    var plan: RunPlan
    let executor: any Executor
    let runId: String
    let runDir: String
    let log: RunLog
    let started: Date
    let prof = Profile.shared

    // What the run has done so far (kept in the report of a run that stops).
    var reports: [StageReport] = []
    var removals: [StageRemovals] = []
    var dataProfile: DataProfile?

    init(ws: Workspace, spec: PipelineSpec, options: RunOptions, plan: RunPlan, executor: any Executor, started: Date) throws {
        self.ws = ws; self.spec = spec; self.options = options; self.plan = plan; self.executor = executor; self.started = started
        runId = "run-" + Workspace.compactTimestamp() + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        runDir = ws.strataDir + "/runs/" + runId
        try FileIO.makeDirectories(runDir)
        log = RunLog(path: runDir + "/log.jsonl")
    }

    /// Runs the plan; the caller holds the project lock.
    func run() throws -> RunReport {
        if !options.preview {
            try ws.catalog.startRun(id: runId, executor: executor.name, pipelineHash: plan.pipelineHash, now: Workspace.now())
        }
        log.event("run-start", ["run": .string(runId), "executor": .string(executor.name), "stages": .int(Int64(plan.stages.count))])
        // A cluster executor starts its workers now: their scheduling overlaps loading the samples and planning.
        let log = self.log
        executor.begin(run: runId, projectRoot: ws.root, log: { kind, fields in log.event(kind, fields) })
        var executorFinished = false
        defer { if !executorFinished { executor.finish(succeeded: false) } }

        let t0 = Date()
        let items = try ws.runItems()
        ws.catalog.releaseMemory()
        Workspace.returnFreedMemory()
        prof.add("run: load samples", Date().timeIntervalSince(t0))
        do {
            let (kept, pending) = try runStages(items)
            executorFinished = true
            executor.finish(succeeded: true)
            if options.preview {
                log.event("run-end", ["status": .string("preview")])
                return RunReport(runId: runId, executor: executor.name, stages: reports, cleaned: kept.count,
                                 seconds: Date().timeIntervalSince(started), nothingChanged: false, digest: "",
                                 profile: dataProfile, removals: removals, preview: true)
            }
            return try commit(kept, pending: pending)
        } catch {
            throw stopped(by: error)
        }
    }

    /// Profiles the input, then runs every data stage on the executor and checks it (the stage invariant and the
    /// removal guard). Nothing is written to the catalog here: a stopped run leaves the ledger as it was.
    func runStages(_ input: [WorkItem]) throws -> (kept: [WorkItem], pending: [PendingMerge]) {
        var items = input
        // Profile first: the relative thresholds of `filter.quality` come from it (RunProfile.swift).
        var t0 = Date()
        let profile = Workspace.profile(items, context: StageContext(projectRoot: ws.root, objects: ws.objects))
        dataProfile = profile
        plan.stages = try Workspace.handProfile(profile, to: plan.stages)
        prof.add("run: profile", Date().timeIntervalSince(t0))
        log.event("profile", ["sources": .int(Int64(profile.sources.count))])
        let labels = try ws.analysisLabelSet().votes.mapValues(\.label)
        var pending: [PendingMerge] = []
        for (position, (stageSpec, built)) in plan.stages.enumerated() {
            let stageStarted = Date()
            let (outcomes, taskCount, cachedCount) = try execute(stage: stageSpec, built: built, position: position, items: items)
            prof.add("run: \(stageSpec.name) (planner total)", Date().timeIntervalSince(stageStarted))
            t0 = Date()
            var counts = StageCounts()
            for o in outcomes { counts.add(o) }
            guard counts.balanced, counts.inputs == items.count else {
                throw StrataError(.failure, "stage `\(stageSpec.name)` broke the invariant: \(items.count) inputs, \(counts.kept) kept + \(counts.rejected) quarantined + \(counts.duplicates) duplicates",
                                  fix: "this is a bug in the stage; its task outputs are under \(ws.relative(runDir))")
            }
            let stageRemovals = StageRemovals(stage: stageSpec, outcomes: outcomes, labels: labels)
            removals.append(stageRemovals)
            if !options.preview && !plan.accepted.contains(stageSpec.name) {
                let breaches = RemovalGuard.breaches(stageRemovals, spec: spec.removalGuard)
                if !breaches.isEmpty { throw RemovalGuardStop(breaches: breaches) }
            }
            var report = StageReport(name: stageSpec.name, uses: stageSpec.uses, counts: counts, tasks: taskCount, cachedTasks: cachedCount,
                                     seconds: Date().timeIntervalSince(stageStarted), digest: Workspace.digest(outcomes))
            prof.add("run: \(stageSpec.name) counts", Date().timeIntervalSince(t0))
            report.seconds = Date().timeIntervalSince(stageStarted)
            pending.append(PendingMerge(position: position, report: report, outcomes: outcomes.filter { if case .keep = $0 { false } else { true } }))
            log.event("stage", ["name": .string(stageSpec.name), "inputs": .int(Int64(counts.inputs)), "kept": .int(Int64(counts.kept)),
                                "rejected": .int(Int64(counts.rejected)), "duplicates": .int(Int64(counts.duplicates)),
                                "tasks": .int(Int64(taskCount)), "cached": .int(Int64(cachedCount)), "digest": .string(report.digest)])
            reports.append(report)
            items = outcomes.compactMap { if case .keep(let i) = $0 { i } else { nil } }
        }
        return (items, pending)
    }

    /// One stage's tasks on the executor, step by step (the engine's `StagePlanner` shards the items and keys the
    /// cache); its outcomes in input order, the number of tasks and how many came from the cache.
    func execute(stage stageSpec: PipelineSpec.Stage, built: BuiltStage, position: Int, items: [WorkItem]) throws
        -> (outcomes: [ItemOutcome], tasks: Int, cached: Int) {
        let planner = StagePlanner(runId: runId, runDir: runDir, projectRoot: ws.root, stage: stageSpec, built: built,
                                   shardSize: options.shardSize)
        let force = plan.forced(position)
        var taskCount = 0, cachedCount = 0
        let ws = self.ws, log = self.log, prof = self.prof
        ws.progress.begin("[\(position + 1)/\(plan.stages.count)] \(stageSpec.name) (\(stageSpec.uses))", total: items.count)
        let outcomes = try planner.run(items: items) { tasks in
            if force { for t in tasks { planner.forget(t) } }
            taskCount += tasks.count
            let counter = ProgressCounter()
            let stepStarted = Date()
            defer { prof.add("run: \(stageSpec.name) \(tasks.first?.step.rawValue ?? "-") tasks", Date().timeIntervalSince(stepStarted)) }
            try executor.execute(tasks, projectRoot: ws.root, retries: options.retries, report: { result in
                counter.add(result)
                log.event("task", ["label": .string(result.label), "items": .int(Int64(result.items)), "cached": .bool(result.cached),
                                   "seconds": .number(result.seconds), "attempts": .int(Int64(result.attempts))])
            }, log: { kind, fields in
                log.event(kind, fields)
                if let line = Workspace.note(kind, fields) { ws.progress.note(line) }
            })
            cachedCount += counter.cached
            Workspace.returnFreedMemory()
            if tasks.first?.step == .map || tasks.first?.step == .annotate { ws.progress.advance(by: counter.items) }
        }
        ws.progress.end()
        return (outcomes, taskCount, cachedCount)
    }

    /// Merges the stages, releases superseded entries, publishes the cleaned set, runs the label stages and records
    /// the finished run.
    func commit(_ items: [WorkItem], pending: [PendingMerge]) throws -> RunReport {
        var t0 = Date()
        for p in pending {
            t0 = Date()
            try ws.mergeStage(runId: runId, position: p.position, report: p.report, outcomes: p.outcomes)
            ws.catalog.releaseMemory()
            prof.add("run: \(p.report.name) merge", Date().timeIntervalSince(t0))
        }
        // The ledger shows what the current settings reject: entries of these stages from earlier runs that this
        // run did not reject again are released as superseded.
        let superseded = try ws.catalog.supersedeQuarantine(stages: plan.stageNames, runId: runId, at: Workspace.now())
        // The run digest covers the rows written to the catalog's cleaned set (the same rows, not read back); it is
        // computed on another thread while the catalog writes them.
        t0 = Date()
        let stageDigests = reports.map(\.digest)
        let digestSlot = Slots<String>(count: 1)
        let published = try ws.publishCleanedSet(items, runId: runId) { rows in
            let started = Date()
            digestSlot.set(0, Workspace.runDigest(stageDigests: stageDigests, cleanedRows: rows))
            Profile.shared.add("run: run digest (alongside the catalog write)", Date().timeIntervalSince(started))
        }
        prof.add("run: publish cleaned set", Date().timeIntervalSince(t0))
        let cleaned = published.count
        let runDigest = digestSlot.take(0)
        let pseudo = try runLabelStages()
        let report = RunReport(runId: runId, executor: executor.name, stages: reports, cleaned: cleaned,
                               seconds: Date().timeIntervalSince(started),
                               nothingChanged: reports.allSatisfy { $0.cachedTasks == $0.tasks }
                                   && pseudo.allSatisfy { $0.added + $0.corrected + $0.withdrawn == 0 },
                               digest: runDigest, labelStages: pseudo.isEmpty ? nil : pseudo, profile: dataProfile, removals: removals,
                               superseded: superseded > 0 ? superseded : nil)
        try ws.catalog.finishRun(id: runId, status: "done", report: Workspace.json(report), error: nil, now: Workspace.now())
        log.event("run-end", ["status": .string("done"), "cleaned": .int(Int64(cleaned))])
        prof.add("run: total", Date().timeIntervalSince(started))
        prof.report()
        return report
    }

    /// The `label.pseudo` stages, on the cleaned set just published.
    func runLabelStages() throws -> [PseudoLabelReport] {
        var pseudo: [PseudoLabelReport] = []
        let dataStages = plan.stages.count, total = plan.stages.count + plan.labelStages.count
        for (position, (stageSpec, opts)) in plan.labelStages.enumerated() {
            ws.progress.begin("[\(dataStages + position + 1)/\(total)] \(stageSpec.name) (\(stageSpec.uses))", total: 0)
            let r = try ws.pseudoLabelLocked(opts, pipelineRunId: runId)
            ws.progress.end()
            log.event("label-stage", ["name": .string(stageSpec.name), "uses": .string(stageSpec.uses), "model": .string(r.model),
                                      "pseudo_run": .string(r.run), "added": .int(Int64(r.added)), "corrected": .int(Int64(r.corrected)),
                                      "withdrawn": .int(Int64(r.withdrawn)), "accepted": .int(Int64(r.accepted)),
                                      "spot_checks": .int(Int64(r.spotChecks)), "dry_run": .bool(r.dryRun)])
            for note in r.notes { ws.progress.note("\(stageSpec.name): \(note)") }
            pseudo.append(r)
        }
        return pseudo
    }

    /// Records a run that stopped (its profile and what its stages would have removed are kept, for
    /// `strata runs show`) and returns the error the user sees.
    func stopped(by error: any Error) -> any Error {
        let message = "\(error)"
        let stop = error as? RemovalGuardStop
        // A run the removal guard stopped is `failed` (the catalog's statuses); its error says the guard stopped it.
        let status = error is ExecutorInterrupted ? "interrupted" : "failed"
        let partial = RunReport(runId: runId, executor: executor.name, stages: reports, cleaned: 0, seconds: Date().timeIntervalSince(started),
                                nothingChanged: false, digest: "", profile: dataProfile, removals: removals)
        if !options.preview {
            let recorded = stop.map { RemovalGuard.message($0.breaches).message } ?? message
            try? ws.catalog.finishRun(id: runId, status: status, report: Workspace.json(partial), error: recorded, now: Workspace.now())
        }
        log.event("run-end", ["status": .string(status), "error": .string(message)])
        if let stop {
            let text = RemovalGuard.message(stop.breaches)
            return StrataError(.project, "run \(runId) stopped: " + text.message, fix: text.fix)
        }
        if error is ExecutorInterrupted {
            return StrataError(.interrupted, "run \(runId) \(message)", fix: "finished tasks are kept: `strata run` resumes where this run stopped")
        }
        if error is SlurmError {
            return StrataError(.failure, "run \(runId) stopped: \(message)", fix: "see docs/slurm.md; finished tasks are kept, so `strata run` resumes after the fix")
        }
        if let failure = error as? TaskFailure {
            return StrataError(.failure, "\(failure)", fix: "see `strata runs logs \(runId)`; finished tasks are kept, so `strata run` resumes after the fix")
        }
        return error
    }
}

/// Counts the tasks of one step as the executor reports them (from its worker threads).
final class ProgressCounter: Sendable {
    private let counts = Locked((cached: 0, items: 0))
    var cached: Int { counts.value.cached }
    var items: Int { counts.value.items }
    func add(_ r: TaskResult) { counts.withLock { if r.cached { $0.cached += 1 }; $0.items += r.items } }
}

/// The run's JSONL log: one event per line, appended and flushed as it happens.
final class RunLog: Sendable {
    private let handle: Locked<Unchecked<FileHandle?>>

    init(path: String) {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let h = FileHandle(forWritingAtPath: path)
        h?.seekToEndOfFile()
        handle = Locked(Unchecked(h))
    }

    func event(_ kind: String, _ fields: [String: JSONValue]) {
        var obj = fields
        obj["event"] = .string(kind)
        obj["time"] = .string(Workspace.now())
        let line = JSONValue.object(obj).serialize() + [0x0A]
        handle.withLock { $0.value?.write(Data(line)) }
    }

    deinit { try? handle.value.value?.close() }
}
