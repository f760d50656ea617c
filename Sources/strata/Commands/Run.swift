import ArgumentParser
import Foundation
import Strata
import StrataEngine

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
                """)

        @OptionGroup var options: ProjectOptions

        @Argument(help: "Stop after this stage (default: run all stages).")
        var stage: String?

        @Option(help: "Ignore cached results from this stage on.")
        var from: String?

        @Flag(help: "Ignore every cached result.")
        var force = false

        @Option(help: "Worker threads (default: number of cores).")
        var workers: Int = ProcessInfo.processInfo.activeProcessorCount

        @Option(help: "Retries of a failed task before the run stops.")
        var retries: Int = 1

        @Option(help: "Samples per task.")
        var shardSize: Int = 1000

        func run() throws {
            let ws = try options.open()
            let report = try ws.run(RunOptions(stage: stage, from: from, force: force, workers: workers, retries: retries, shardSize: shardSize))
            if options.json { return try Terminal.printJSON(report) }
            print("run \(report.runId) (\(report.executor), \(String(format: "%.1f", report.seconds)) s)")
            for s in report.stages {
                let c = s.counts
                let reasons = c.reasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                print("  \(s.name) (\(s.uses)): \(c.inputs) in -> \(c.kept) kept, \(c.rejected) quarantined, \(c.duplicates) duplicates"
                      + (reasons.isEmpty ? "" : " [\(reasons)]") + "  tasks \(s.tasks - s.cachedTasks) run, \(s.cachedTasks) cached")
            }
            print("cleaned set: \(report.cleaned) samples in data/cleaned/")
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
            subcommands: [RunTask.self])

        struct RunTask: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "run", abstract: "Run task INDEX of STEP of STAGE in RUN.")
            @OptionGroup var options: ProjectOptions
            @Argument(help: "The run id.") var runId: String
            @Argument var stage: String
            @Argument(help: "map, annotate, pair or decide") var step: String
            @Argument var index: Int
            func run() throws {
                let ws = try options.open()
                let result = try ws.runTask(run: runId, stage: stage, step: step, index: index)
                if options.json { return try Terminal.printJSON(result) }
                print("\(result.label): \(result.items) items, \(result.cached ? "cached" : String(format: "%.2f s", result.seconds))")
            }
        }
    }
}
