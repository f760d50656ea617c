import Foundation
import StrataCatalog
import StrataCore
import StrataEngine
import StrataQuality
import StrataSlurm
import StrataStore

/// A run as `strata runs list` shows it.
public struct RunView: Codable, Sendable {
    public var id: String
    public var status: String
    public var startedAt: String
    public var finishedAt: String?
    public var executor: String
    public var error: String?
    public var summary: String
}

public struct RunStageView: Codable, Sendable {
    public var name: String
    public var uses: String
    public var inputs: Int
    public var kept: Int
    public var rejected: Int
    public var duplicates: Int
    public var reasons: [String: Int]
    public var tasks: Int
    public var cachedTasks: Int
    public var seconds: Double

    /// Share of inputs removed (quarantined or duplicates).
    public var removedRate: Double { inputs == 0 ? 0 : Double(rejected + duplicates) / Double(inputs) }
}

public struct RunDetail: Codable, Sendable {
    public var run: RunView
    public var stages: [RunStageView]
    public var previous: String?
    /// Changes against the previous finished run that deserve a look (e.g. a reject rate that jumped).
    public var anomalies: [String]
    /// The data profile the run computed (runs before profiles existed have none).
    public var profile: DataProfile?
    /// What each stage removed per source and label (also for a run the removal guard stopped).
    public var removals: [StageRemovals]?
}

extension Workspace {
    public func runs() throws -> [RunView] {
        try catalog.runs().map { r in
            let stages = (try? catalog.runStages(runId: r.id)) ?? []
            let summary = stages.isEmpty ? (r.error.map { "error: \($0.prefix(80))" } ?? "")
                : stages.map { "\($0.name) \($0.inputs)->\($0.kept)" }.joined(separator: ", ")
            return RunView(id: r.id, status: r.status, startedAt: r.startedAt, finishedAt: r.finishedAt, executor: r.executor,
                           error: r.error, summary: summary)
        }
    }

    func resolveRun(_ ref: String?) throws -> RunRow {
        let all = try catalog.runs()
        guard let ref else {
            guard let latest = all.first else { throw StrataError.usage("no runs yet", fix: "run the pipeline with `strata run`") }
            return latest
        }
        let matches = all.filter { $0.id == ref || $0.id.hasPrefix(ref) }
        guard matches.count == 1 else {
            throw StrataError.usage(matches.isEmpty ? "no run `\(ref)`" : "`\(ref)` matches several runs", fix: "see the ids with `strata runs list`")
        }
        return matches[0]
    }

    static func stageView(_ s: RunStageRow) -> RunStageView {
        var reasons: [String: Int] = [:]
        if case .object(let o)? = JSONRecord.parse(Array(s.reasons.utf8)) {
            for (k, v) in o { if case .int(let i) = v { reasons[k] = Int(i) } }
        }
        return RunStageView(name: s.name, uses: s.uses, inputs: s.inputs, kept: s.kept, rejected: s.rejected, duplicates: s.duplicates,
                            reasons: reasons, tasks: s.tasks, cachedTasks: s.cachedTasks, seconds: s.seconds)
    }

    /// A run with its stages, compared with the previous finished run: a stage whose removal rate changed by more
    /// than 5 points and at least doubled (or halved), a reason that appeared, or input counts that moved by over 20%.
    public func runDetail(_ ref: String?) throws -> RunDetail {
        let run = try resolveRun(ref)
        let view = try runs().first { $0.id == run.id }!
        let stages = try catalog.runStages(runId: run.id).map(Workspace.stageView)
        let all = try catalog.runs()
        let previous = all.filter { $0.status == "done" && $0.startedAt < run.startedAt }.first
        var anomalies: [String] = []
        if let previous {
            let before = Dictionary(try catalog.runStages(runId: previous.id).map { ($0.name, Workspace.stageView($0)) }) { a, _ in a }
            for s in stages {
                guard let b = before[s.name] else { anomalies.append("stage `\(s.name)` is new since \(previous.id)"); continue }
                let now = s.removedRate, was = b.removedRate
                if abs(now - was) > 0.05 && (now > 2 * was || now < was / 2) {
                    anomalies.append(String(format: "stage `%@` removed %.1f%% of its input, %.1f%% before", s.name, now * 100, was * 100))
                }
                for (reason, n) in s.reasons where b.reasons[reason] == nil && n > 0 {
                    anomalies.append("stage `\(s.name)`: new reason `\(reason)` (\(n))")
                }
                if b.inputs > 0 && abs(Double(s.inputs - b.inputs)) / Double(b.inputs) > 0.2 {
                    anomalies.append("stage `\(s.name)` got \(s.inputs) inputs, \(b.inputs) before")
                }
            }
        }
        let report = run.report.flatMap { try? JSONDecoder().decode(RunReport.self, from: Data($0.utf8)) }
        return RunDetail(run: view, stages: stages, previous: previous?.id, anomalies: anomalies, profile: report?.profile, removals: report?.removals)
    }

    /// The run's JSONL log followed by each task log that is not empty.
    public func runLogs(_ ref: String?) throws -> String {
        let run = try resolveRun(ref)
        let dir = strataDir + "/runs/" + run.id
        var out = (try? String(contentsOfFile: dir + "/log.jsonl", encoding: .utf8)) ?? ""
        let cache = TaskCache(projectRoot: root)
        let fm = FileManager.default
        for stage in ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).sorted() where FileIO.status(dir + "/" + stage)?.isDirectory == true {
            for step in [TaskSpec.Step.map, .annotate, .pair, .decide] {
                guard let tasks = try? StagePlanner.savedTasks(runDir: dir, stage: stage, step: step) else { continue }
                for t in tasks {
                    if let log = try? String(contentsOfFile: cache.dir(t.key) + "/log.txt", encoding: .utf8), !log.isEmpty {
                        out += "--- \(t.label) ---\n" + log
                    }
                }
            }
        }
        return out
    }

    /// Runs saved tasks of a run, one after the other: what a cluster job calls. It reads the saved task list and
    /// writes only to the task cache: it opens neither the catalog (compute nodes never touch SQLite, which must not be
    /// shared over a network filesystem) nor the project lock (the driver holds it). Every task is tried even if one
    /// fails; `done` hears each outcome.
    public static func runTasks(projectAt path: String, run: String, stage: String, step: String, indices: [Int], attempt: Int = 1,
                                done: (Int, Result<TaskResult, any Error>) -> Void) throws {
        guard let s = TaskSpec.Step(rawValue: step) else { throw StrataError.usage("unknown step `\(step)`: use map, annotate, pair or decide") }
        let root = try projectRoot(containing: path)
        let dir = root + "/.strata/runs/" + run
        let tasks: [TaskSpec]
        do { tasks = try StagePlanner.savedTasks(runDir: dir, stage: stage, step: s) } catch {
            throw StrataError.usage("no saved \(step) tasks for stage `\(stage)` in run \(run) (looked in \(dir)/\(stage))",
                                    fix: "check the run id with `strata runs list`; on a cluster, check that every node sees the project at \(root)")
        }
        for index in indices {
            guard tasks.indices.contains(index) else { throw StrataError.usage("task index \(index) out of range 0..<\(tasks.count)") }
        }
        for index in indices {
            done(index, Result { try TaskRunner.run(tasks[index], projectRoot: root, attempt: attempt) })
        }
    }

    /// `strata task worker`: runs the tasks the driver of `run` publishes for its Slurm workers (in this process, one
    /// after another) until the run is finished or none came for `idleTimeout` seconds. Never opens the catalog.
    @discardableResult
    public static func runWorker(projectAt path: String, run: String, idleTimeout: Double, say: @escaping @Sendable (String) -> Void) throws -> Int {
        let root = try projectRoot(containing: path)
        do {
            return try SlurmWorker.run(projectRoot: root, run: run, idleTimeout: idleTimeout, say: say)
        } catch let e as StageError {
            throw StrataError.usage("\(e)", fix: "check the run id with `strata runs list`; on a cluster, check that every node sees the project at \(root)")
        }
    }
}
