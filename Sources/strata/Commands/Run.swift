import ArgumentParser
import Foundation
import Strata
import StrataCore
import StrataEngine
import StrataQuality

extension StrataCommand {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the pipeline in pipeline.yaml: cached, resumable, nothing dropped without a record.",
            discussion: """
                Each stage runs as tasks over shards of its input. A task's result is cached by the stage, its code
                version, its parameters and the hash of its input, so a second run with nothing changed does no work,
                and a run killed at any point resumes where it stopped. Rejected samples go to quarantine with a
                reason; removed duplicates are findings that point at the sample that was kept.

                Examples:
                  strata run                      run every stage
                  strata run near-dups            run up to and including the stage `near-dups`
                  strata run --from quality       re-run `quality` and the stages after it, ignoring their cache
                  strata run --executor slurm     run every task on Slurm workers (see docs/slurm.md)
                  strata run --preview            show what each stage would remove; write nothing
                  strata run --accept-removals quality   let the removal guard pass the stage `quality`

                Before the first stage the run profiles each source (`strata profile`); `filter.quality` judges sizes
                and durations against it. The removal guard stops the run before anything is published when a stage
                would remove more than `guard.max_removed` (20%) of a source, or more than half of a label
                (docs/pipeline.md, "The removal guard").
                """)

        @OptionGroup var options: ProjectOptions

        @Argument(help: "Stop after this stage (default: run all stages).")
        var stage: String?

        @Option(help: "Ignore cached results from this stage on.")
        var from: String?

        @Flag(help: "Ignore every cached result.")
        var force = false

        @Option(help: "Where tasks run: local (threads on this machine) or slurm (workers started with srun or sbatch; see docs/slurm.md). Default: executor.kind in strata.yaml.")
        var executor: ProjectSpec.Executor.Kind?

        @Option(help: "Parallel tasks: worker threads, or Slurm workers (default: executor.workers in strata.yaml, else one per core locally and one per CPU of the partition on Slurm).")
        var workers: Int?

        @Option(help: "Retries of a failed task before the run stops.")
        var retries: Int = 1

        @Option(help: "Samples per task.")
        var shardSize: Int = 1000

        @Flag(help: "Evaluate the stages and print what each would remove (by reason, per source and label, with examples); write nothing.")
        var preview = false

        @Option(name: .customLong("accept-removals"), help: "Let the removal guard pass this stage's removals in this run (repeatable).")
        var acceptRemovals: [String] = []

        func run() throws {
            let ws = try options.open()
            let report = try ws.run(RunOptions(stage: stage, from: from, force: force, workers: workers, retries: retries, shardSize: shardSize,
                                               executor: executor, preview: preview, acceptRemovals: acceptRemovals))
            if options.json { return try Terminal.printJSON(report) }
            if preview {
                print(ws.previewText(report), terminator: "")
                return
            }
            print("run \(report.runId) (\(report.executor), \(String(format: "%.1f", report.seconds)) s)")
            for s in report.stages {
                let c = s.counts
                let reasons = c.reasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                print("  \(s.name) (\(s.uses)): \(c.inputs) in -> \(c.kept) kept, \(c.rejected) quarantined, \(c.duplicates) duplicates"
                      + (reasons.isEmpty ? "" : " [\(reasons)]") + "  tasks \(s.tasks - s.cachedTasks) run, \(s.cachedTasks) cached")
            }
            print("cleaned set: \(report.cleaned) samples in data/cleaned/ (result digest \(report.digest.prefix(16)))")
            if let n = report.superseded { print("quarantine: \(n) entr\(n == 1 ? "y" : "ies") of earlier settings superseded (released)") }
            for p in report.labelStages ?? [] {
                let classes = p.classes.map { "\($0.label) \($0.threshold.map { String(format: "%.3f", $0) } ?? $0.status)" }.joined(separator: ", ")
                print("pseudo labels (\(p.model)): added \(p.added), corrected \(p.corrected), withdrawn \(p.withdrawn), \(p.accepted) carried; \(p.spotChecks) new spot check(s); thresholds: \(classes)\(p.dryRun ? " (dry run)" : "")")
            }
            if report.nothingChanged { print("nothing changed since the last run: every task came from the cache") }
        }
    }

    struct Runs: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Past pipeline runs: list them, show one (compared with the run before it), print its logs.",
            subcommands: [List.self, Show.self, Logs.self], defaultSubcommand: List.self)

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List runs, newest first.")
            @OptionGroup var options: ProjectOptions
            func run() throws {
                let ws = try options.open()
                let runs = try ws.runs()
                if options.json { return try Terminal.printJSON(runs) }
                if runs.isEmpty { print("no runs yet: `strata run`"); return }
                for r in runs {
                    print("\(r.id)  \(r.status.padding(toLength: 11, withPad: " ", startingAt: 0)) \(r.startedAt)  \(r.summary)")
                }
            }
        }

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "One run's stages and counts by reason, compared with the previous run.")
            @OptionGroup var options: ProjectOptions
            @Argument(help: "Run id (or a unique prefix; default: the latest).") var runId: String?
            func run() throws {
                let ws = try options.open()
                let detail = try ws.runDetail(runId)
                if options.json { return try Terminal.printJSON(detail) }
                print("\(detail.run.id)  \(detail.run.status)  started \(detail.run.startedAt)\(detail.run.finishedAt.map { ", finished \($0)" } ?? "")")
                if let e = detail.run.error { print("error: \(e)") }
                for s in detail.stages {
                    print("  \(s.name) (\(s.uses)): \(s.inputs) in -> \(s.kept) kept, \(s.rejected) quarantined, \(s.duplicates) duplicates; tasks \(s.tasks) (\(s.cachedTasks) cached), \(String(format: "%.2f", s.seconds)) s")
                    for (k, v) in s.reasons.sorted(by: { $0.key < $1.key }) { print("      \(k): \(v)") }
                }
                if let removals = detail.removals, !removals.isEmpty {
                    print("removals by source and label:")
                    print(ws.removalsText(removals), terminator: "")
                }
                if let profile = detail.profile {
                    print("data profile:")
                    print(profile.text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  " + $0 }.joined(separator: "\n"), terminator: "")
                }
                if let prev = detail.previous { print("compared with \(prev):") }
                if detail.anomalies.isEmpty && detail.previous != nil { print("  no anomalies") }
                for a in detail.anomalies { print("  ANOMALY: \(a)") }
            }
        }

        struct Logs: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Print a run's JSONL log and the logs of its tasks.")
            @OptionGroup var options: ProjectOptions
            @Argument(help: "Run id (or a unique prefix; default: the latest).") var runId: String?
            func run() throws {
                let ws = try options.open()
                print(try ws.runLogs(runId), terminator: "")
            }
        }
    }

    struct Task: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one planned task of a run (used by cluster executors; the local executor runs the same code).",
            subcommands: [RunTask.self, Worker.self])

        struct Worker: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "worker", abstract: "Run the tasks the driver of RUN publishes for its Slurm workers, until the run is finished.",
                discussion: "Started by `strata run --executor slurm`, once per run, with srun or as an sbatch array job (see docs/slurm.md). Claims tasks from .strata/runs/RUN/workers/queue, runs them in this process and writes only to the task cache; never opens the catalog.")
            @OptionGroup var options: ProjectOptions
            @Argument(help: "The run id.") var runId: String
            @Option(help: "Seconds to wait for a task before exiting.") var idleTimeout: Double = 120
            func run() throws {
                try Workspace.runWorker(projectAt: options.project, run: runId, idleTimeout: idleTimeout) { line in
                    FileHandle.standardOutput.write(Data((line + "\n").utf8))
                }
            }
        }

        struct RunTask: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "run", abstract: "Run tasks INDEXES (e.g. 3 or 0,1,2) of STEP of STAGE in RUN.",
                discussion: "Reads the run's saved task list and writes only to the task cache; never opens the catalog.")
            @OptionGroup var options: ProjectOptions
            @Argument(help: "The run id.") var runId: String
            @Argument var stage: String
            @Argument(help: "map, annotate, pair or decide") var step: String
            @Argument(help: "Task index, or several separated by commas.") var indexes: String
            @Option(help: "Which attempt this is (recorded in the task's result).") var attempt: Int = 1
            func run() throws {
                let list = indexes.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard !list.isEmpty, list.allSatisfy({ $0 != nil && $0! >= 0 }) else {
                    throw StrataError.usage("task indexes must be whole numbers separated by commas, found `\(indexes)`")
                }
                var failed: [String] = []
                var results: [TaskResult] = []
                try Workspace.runTasks(projectAt: options.project, run: runId, stage: stage, step: step, indices: list.map { $0! },
                                       attempt: attempt) { index, outcome in
                    switch outcome {
                    case .success(let result):
                        results.append(result)
                        if !options.json {
                            print("\(result.label): \(result.items) items, \(result.cached ? "cached" : String(format: "%.2f s", result.seconds))")
                        }
                    case .failure(let error):
                        failed.append("\(stage)/\(step)-\(index)")
                        FileHandle.standardError.write(Data("task \(stage)/\(step)-\(index) failed: \(UserErrors.inline(error))\n".utf8))
                    }
                    fflush(nil)
                }
                if options.json {
                    if list.count == 1, let only = results.first { try Terminal.printJSON(only) } else { try Terminal.printJSON(results) }
                }
                if !failed.isEmpty { throw StrataError(.failure, "\(failed.count) task(s) failed: \(failed.joined(separator: ", "))") }
            }
        }
    }
}

extension ProjectSpec.Executor.Kind: ExpressibleByArgument {}

extension StrataCommand {
    struct Profile: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Profile the samples per source: text length and scripts, image sizes and channels, audio duration, rate and peak.",
            discussion: """
                The same profile every `strata run` computes before its first stage: `filter.quality` judges image
                sizes and audio durations against their source's median (docs/pipeline.md, "Data profile"). At most
                2,000 samples per source and modality are measured (those with the smallest content hashes).
                """)
        @OptionGroup var options: ProjectOptions
        func run() throws {
            let ws = try options.open()
            let profile = try ws.dataProfile()
            if options.json { return try Terminal.printJSON(profile) }
            print(profile.text, terminator: "")
        }
    }
}
