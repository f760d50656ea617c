import Dispatch
import Foundation
import StrataCore
import StrataEngine
import StrataStore
#if canImport(Glibc)
import Glibc
#endif

/// Runs a step's tasks as one Slurm array job (`sbatch --array`) whose jobs call `strata task run` on a filesystem
/// the cluster's nodes share with this machine.
///
/// The task code is the local executor's (`TaskRunner.run`, inside `strata task run`); only where it runs changes.
/// A task is finished when its result is in the task cache (`.strata/cache/tasks/<key>/result.json`), the completion
/// marker on the shared filesystem; Slurm's job states only say when to look and why a job ended. The driver polls
/// `squeue`, retries the tasks of jobs that failed, were cancelled, timed out, hit a node failure or vanished from
/// the queue, copies each job's log into the run log, and cancels its jobs (`scancel`) on SIGINT or SIGTERM.
public struct SlurmArrayExecutor: Executor {
    public struct Options: Sendable, Equatable {
        public var job: SlurmJobOptions
        public var polling: SlurmPolling
        /// Tasks per array job; nil: pack a step into `maxRunning` jobs when set, else one task per job.
        public var tasksPerJob: Int?
        /// Array jobs running at once (`%N`); nil: no cap.
        public var maxRunning: Int?
        /// How long a job that ended may take to show its result on this machine (shared filesystems lag).
        public var visibilityGrace: Double

        public init(job: SlurmJobOptions = SlurmJobOptions(), polling: SlurmPolling = SlurmPolling(), tasksPerJob: Int? = nil,
                    maxRunning: Int? = nil, visibilityGrace: Double = 15) {
            self.job = job; self.polling = polling; self.tasksPerJob = tasksPerJob; self.maxRunning = maxRunning
            self.visibilityGrace = visibilityGrace
        }

        /// From `strata.yaml`'s `executor:` block.
        public init(_ spec: ProjectSpec.Executor, strataBinary: String? = nil) {
            let s = spec.slurm
            self.init(job: SlurmJobOptions(s, strataBinary: strataBinary), polling: SlurmPolling(interval: s.pollInterval, commandTimeout: s.commandTimeout),
                      tasksPerJob: s.tasksPerJob, maxRunning: spec.workers)
        }
    }

    public let options: Options
    public var name: String { "slurm" }

    public init(options: Options) { self.options = options }

    public func execute(_ tasks: [TaskSpec], projectRoot: String, retries: Int, report: @escaping @Sendable (TaskResult) -> Void) throws {
        try execute(tasks, projectRoot: projectRoot, retries: retries, report: report, log: { _, _ in })
    }

    public func execute(_ tasks: [TaskSpec], projectRoot: String, retries: Int, report: @escaping @Sendable (TaskResult) -> Void,
                        log: @escaping @Sendable (String, [String: JSONValue]) -> Void) throws {
        if tasks.isEmpty { return }
        var driver = SlurmDriver(options: options, tasks: tasks, projectRoot: projectRoot, retries: retries, report: report, log: log)
        try driver.run()
    }

    // MARK: Pure pieces (tested without a cluster)

    /// Splits task indices into array jobs of at most `size` tasks each, in order.
    public static func groups(_ indices: [Int], size: Int) -> [[Int]] {
        stride(from: 0, to: indices.count, by: max(1, size)).map { Array(indices[$0..<min($0 + max(1, size), indices.count)]) }
    }

    /// How many tasks one array job runs: the configured number, or the step packed into `maxRunning` jobs.
    public static func tasksPerJob(count: Int, options: Options) -> Int {
        if let n = options.tasksPerJob { return n }
        if let m = options.maxRunning { return max(1, (count + m - 1) / m) }
        return 1
    }

    /// The `sbatch` arguments of one submission (everything but the script path).
    public static func sbatchArguments(options: Options, jobName: String, arrayJobs: Int, logPattern: String, projectRoot: String) -> [String] {
        ["--parsable", "--job-name=\(jobName)", "--array=0-\(arrayJobs - 1)" + (options.maxRunning.map { "%\($0)" } ?? ""), "--output=\(logPattern)"]
            + options.job.arguments(projectRoot: projectRoot)
    }
}

/// The state of one step on Slurm: its submissions, the array jobs of each, and every task's attempts.
struct SlurmDriver {
    struct ArrayJob {
        var submission: Int
        var arrayIndex: Int
        var tasks: [Int]
        var attempt: Int
        var state = "PENDING"
        var reason = ""
        var ended: Date?
        var missingSince: Date?
        var pendingSince: Date?
        var warned = false
        var settled = false
        var id: String
        var logPath: String
    }

    let options: SlurmArrayExecutor.Options
    let tasks: [TaskSpec]
    let projectRoot: String
    let retries: Int
    let report: @Sendable (TaskResult) -> Void
    let log: @Sendable (String, [String: JSONValue]) -> Void
    let cache: TaskCache
    let dir: String
    var jobs: [ArrayJob] = []
    var submissions: [String] = []
    var attempts: [Int: Int] = [:]
    var reported: Set<Int> = []
    var failures: [TaskFailure] = []
    var lastFailure: [Int: String] = [:]

    init(options: SlurmArrayExecutor.Options, tasks: [TaskSpec], projectRoot: String, retries: Int,
         report: @escaping @Sendable (TaskResult) -> Void, log: @escaping @Sendable (String, [String: JSONValue]) -> Void) {
        self.options = options; self.tasks = tasks; self.projectRoot = projectRoot; self.retries = retries
        self.report = report; self.log = log
        cache = TaskCache(projectRoot: projectRoot)
        byIndex = Dictionary(tasks.map { ($0.index, $0) }) { a, _ in a }
        dir = "\(projectRoot)/.strata/runs/\(tasks[0].run)/\(tasks[0].stage)/slurm"
    }

    let byIndex: [Int: TaskSpec]

    mutating func run() throws {
        // Tasks already in the cache are not submitted.
        var todo: [Int] = []
        for t in tasks {
            if let done = cache.result(t.key) {
                reported.insert(t.index)
                report(TaskResult(key: done.key, label: done.label, items: done.items, seconds: 0, attempts: 0, cached: true))
            } else {
                todo.append(t.index)
            }
        }
        if todo.isEmpty { return }
        try FileIO.makeDirectories(dir)
        try withInterrupt { interrupt in
            do {
                try submit(todo, attempt: 1)
                try wait(interrupt)
            } catch let error as ExecutorInterrupted {
                throw error
            } catch where interrupt.value != 0 {
                // Ctrl-C also reaches an sbatch or squeue running at that moment, which then fails: still an interruption.
                let ids = activeJobIds
                cancelActive(reason: "interrupted")
                throw ExecutorInterrupted(signal: interrupt.value, cancelled: ids)
            } catch {
                // The driver cannot follow its jobs any more: don't leave them running unwatched.
                cancelActive(reason: "the driver stopped: \(error)")
                throw error
            }
        }
        if let first = failures.min(by: { $0.label < $1.label }) { throw first }
    }

    var activeJobIds: [String] { Array(Set(jobs.filter { !$0.settled }.map { submissions[$0.submission] })).sorted() }

    mutating func cancelActive(reason: String) {
        let ids = activeJobIds
        guard !ids.isEmpty else { return }
        let result = try? SlurmCommand.run("scancel", ids, timeout: options.polling.commandTimeout)
        log("slurm-cancel", ["jobs": .array(ids.map { .string($0) }), "reason": .string(reason),
                             "status": result.map { .int(Int64($0.status)) } ?? .null])
    }

    /// Submits `indices` (all at `attempt`) as one array job.
    mutating func submit(_ indices: [Int], attempt: Int) throws {
        let first = byIndex[indices[0]]!
        let size = SlurmArrayExecutor.tasksPerJob(count: indices.count, options: options)
        let groups = SlurmArrayExecutor.groups(indices.sorted(), size: size)
        let number = submissions.count
        let tag = "\(first.step.rawValue)-\(number)"
        let logPattern = "\(dir)/\(tag)-%a.log"
        let args = SlurmArrayExecutor.sbatchArguments(options: options, jobName: "strata-\(first.stage)-\(first.step.rawValue)",
                                                 arrayJobs: groups.count, logPattern: logPattern, projectRoot: projectRoot)
        let scriptPath = "\(dir)/\(tag).sbatch"
        try SlurmScript.write(SlurmScript.arrayStep(binary: options.job.strataBinary, projectRoot: projectRoot, task: first, groups: groups,
                                                    attempt: attempt, sbatch: args), to: scriptPath)
        let id = try SlurmCommand.sbatch(args, script: scriptPath, timeout: options.polling.commandTimeout)
        submissions.append(id)
        for (i, g) in groups.enumerated() {
            jobs.append(ArrayJob(submission: number, arrayIndex: i, tasks: g, attempt: attempt, id: "\(id)_\(i)",
                                 logPath: "\(dir)/\(tag)-\(i).log"))
            for t in g { attempts[t] = attempt }
        }
        log("slurm-submit", ["job": .string(id), "step": .string("\(first.stage)/\(first.step.rawValue)"), "attempt": .int(Int64(attempt)),
                             "array_jobs": .int(Int64(groups.count)), "tasks": .int(Int64(indices.count)), "script": .string(scriptPath)])
    }

    mutating func wait(_ interrupt: InterruptFlag) throws {
        var queueFailingSince: Date?
        var lastQueueError: (any Error)?
        defer { copyLogs() }
        var lastQueueLook = Date.distantPast
        while jobs.contains(where: { !$0.settled }) {
            // Finished tasks show up in the cache: look there often (a few stat calls), and ask the queue (which
            // loads the controller) only every `pollInterval`, to learn about jobs that ended without finishing.
            _ = interrupt.wake.wait(timeout: .now() + min(0.1, options.polling.interval))
            if interrupt.value != 0 {
                let ids = activeJobIds
                cancelActive(reason: "interrupted")
                throw ExecutorInterrupted(signal: interrupt.value, cancelled: ids)
            }
            for j in jobs.indices where !jobs[j].settled {
                for t in jobs[j].tasks where !reported.contains(t) { collect(t) }
                if jobs[j].tasks.allSatisfy(reported.contains) { settle(j) }
            }
            if !jobs.contains(where: { !$0.settled }) { break }
            if Date().timeIntervalSince(lastQueueLook) < options.polling.interval { continue }
            lastQueueLook = Date()
            // Ask the queue about every unsettled job.
            let ids = activeJobIds
            let states: [String: SlurmQueue.Entry]
            do {
                states = try SlurmQueue.look(ids, timeout: options.polling.commandTimeout)
                queueFailingSince = nil
            } catch {
                // A controller that restarts or is briefly overloaded is not a failed run: keep trying for a while.
                lastQueueError = error
                let since = queueFailingSince ?? Date()
                queueFailingSince = since
                if Date().timeIntervalSince(since) > max(30, 2 * options.polling.commandTimeout) { throw lastQueueError! }
                continue
            }
            let retry = update(states)
            for (attempt, indices) in retry.sorted(by: { $0.key < $1.key }) { try submit(indices, attempt: attempt) }
        }
    }

    /// Takes in what squeue said of every unsettled job: reports the tasks that finished, notes states and pending
    /// reasons, and settles the jobs that ended, retrying (returned: task indices by their next attempt) or failing
    /// their unfinished tasks.
    mutating func update(_ states: [String: SlurmQueue.Entry]) -> [Int: [Int]] {
        let now = Date()
        var retry: [Int: [Int]] = [:]
        for j in jobs.indices where !jobs[j].settled {
            // Tasks of running jobs that finished already count (progress as they land). A job whose tasks are all
            // in the cache is done with, whatever Slurm says yet: its process is only exiting.
            for t in jobs[j].tasks where !reported.contains(t) { collect(t) }
            if jobs[j].tasks.allSatisfy(reported.contains) { settle(j); continue }
            if let entry = states[jobs[j].id] {
                let state = entry.state, reason = entry.reason
                jobs[j].missingSince = nil
                jobs[j].state = state
                jobs[j].reason = reason
                // A job held back for a reason other than waiting its turn may never start: say so, once.
                if state == "PENDING" {
                    let since = jobs[j].pendingSince ?? now
                    jobs[j].pendingSince = since
                    if !jobs[j].warned, now.timeIntervalSince(since) > 30, !SlurmStates.waitingReasons.contains(reason) {
                        jobs[j].warned = true
                        log("slurm-pending", ["job": .string(jobs[j].id), "reason": .string(reason),
                                              "seconds": .int(Int64(now.timeIntervalSince(since)))])
                    }
                }
                if SlurmStates.ended.contains(state) && jobs[j].ended == nil { jobs[j].ended = now }
            } else if jobs[j].state != "LOST" {
                // Not in the queue at all: purged by the controller or lost with it. Give it one more look.
                let since = jobs[j].missingSince ?? now
                jobs[j].missingSince = since
                if now.timeIntervalSince(since) > max(2 * options.polling.interval, 1) { jobs[j].state = "LOST"; jobs[j].ended = now }
            }
            guard let ended = jobs[j].ended else { continue }
            let open = jobs[j].tasks.filter { !reported.contains($0) }
            if open.isEmpty { settle(j); continue }
            // A job that completed may still be writing through a lagging shared filesystem: wait a little.
            if jobs[j].state == "COMPLETED" && now.timeIntervalSince(ended) < options.visibilityGrace { continue }
            let why = failureText(jobs[j])
            for t in open {
                let attempt = attempts[t] ?? 1
                lastFailure[t] = why
                if attempt <= retries {
                    retry[attempt + 1, default: []].append(t)
                    log("task-retry", ["label": .string(byIndex[t]!.label), "attempt": .int(Int64(attempt)), "error": .string(why)])
                } else {
                    failures.append(TaskFailure(label: byIndex[t]!.label, attempts: attempt, error: why, log: jobs[j].logPath))
                    log("task-failed", ["label": .string(byIndex[t]!.label), "attempts": .int(Int64(attempt)), "error": .string(why)])
                }
            }
            settle(j)
        }
        return retry
    }

    /// Reports task `t` if its result is in the cache.
    mutating func collect(_ t: Int) {
        guard let spec = byIndex[t], let r = cache.result(spec.key) else { return }
        reported.insert(t)
        report(r)
    }

    /// Marks a job done with.
    mutating func settle(_ j: Int) {
        for t in jobs[j].tasks where !reported.contains(t) { collect(t) }
        jobs[j].settled = true
    }

    /// Copies every job's log (its last 16 KiB) into the run log, once the step is over.
    func copyLogs() {
        for job in jobs {
            let text = (try? FileIO.readAll(job.logPath)).map { String(decoding: $0.suffix(16_384), as: UTF8.self) } ?? ""
            log("slurm-job", ["job": .string(job.id), "state": .string(job.state), "attempt": .int(Int64(job.attempt)),
                              "tasks": .array(job.tasks.map { .string(byIndex[$0]!.label) }), "log_file": .string(job.logPath),
                              "log": .string(text)])
        }
    }

    /// Why a job's unfinished tasks failed: its state, exit code and the end of its log.
    func failureText(_ job: ArrayJob) -> String {
        var s = "Slurm job \(job.id) ended \(job.state)"
        if job.state == "LOST" { s = "Slurm job \(job.id) disappeared from the queue (squeue no longer knows it)" }
        if job.state != "LOST" {
            let details = SlurmQueue.exitDetails(job.id, timeout: options.polling.commandTimeout, reasons: true)
            if !details.isEmpty { s += " (" + details.joined(separator: ", ") + ")" }
        }
        if job.state == "COMPLETED" {
            s += ", but its result is not visible here after \(Int(options.visibilityGrace)) s: is \(projectRoot) on a filesystem the nodes share?"
        }
        if let bytes = try? FileIO.readAll(job.logPath) {
            let lines = String(decoding: bytes.suffix(4096), as: UTF8.self).split(separator: "\n").suffix(5)
            if !lines.isEmpty { s += "; its log ends: " + lines.joined(separator: " | ") }
        } else {
            s += "; no log at \(job.logPath)"
        }
        return s
    }
}
