import Dispatch
import Foundation
import StrataCore
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
public struct SlurmExecutor: Executor {
    public struct Options: Sendable, Equatable {
        public var partition: String?
        public var timeLimit: String?
        public var cpusPerTask: Int?
        public var memPerTask: String?
        public var sbatchArgs: [String]
        /// The `strata` binary the jobs run (the same path on every node).
        public var strataBinary: String
        /// Tasks per array job; nil: pack a step into `maxRunning` jobs when set, else one task per job.
        public var tasksPerJob: Int?
        /// Array jobs running at once (`%N`); nil: no cap.
        public var maxRunning: Int?
        public var pollInterval: Double
        public var commandTimeout: Double
        /// How long a job that ended may take to show its result on this machine (shared filesystems lag).
        public var visibilityGrace: Double
        /// Workers (one array job per run, tasks claimed from the shared filesystem) or one array job per step.
        public var mode: ProjectSpec.Slurm.Mode = .workers
        /// Workers mode: one srun per worker (started at once) or one sbatch array job.
        public var launcher: ProjectSpec.Slurm.Launcher = .srun
        /// Workers mode: seconds without a heartbeat after which a worker Slurm calls running counts as lost.
        public var leaseTimeout: Double = 30
        /// Workers mode: seconds a worker waits for a task before it exits by itself.
        public var idleTimeout: Double = 120
        /// Workers mode: seconds with tasks waiting and nothing moving before the run fails with a diagnosis; 0: never.
        public var stallTimeout: Double = 300

        public init(partition: String? = nil, timeLimit: String? = nil, cpusPerTask: Int? = nil, memPerTask: String? = nil,
                    sbatchArgs: [String] = [], strataBinary: String = SlurmExecutor.currentBinary(), tasksPerJob: Int? = nil,
                    maxRunning: Int? = nil, pollInterval: Double = 1, commandTimeout: Double = 60, visibilityGrace: Double = 15) {
            self.partition = partition; self.timeLimit = timeLimit; self.cpusPerTask = cpusPerTask; self.memPerTask = memPerTask
            self.sbatchArgs = sbatchArgs; self.strataBinary = strataBinary; self.tasksPerJob = tasksPerJob; self.maxRunning = maxRunning
            self.pollInterval = pollInterval; self.commandTimeout = commandTimeout; self.visibilityGrace = visibilityGrace
        }

        /// From `strata.yaml`'s `executor:` block.
        public init(_ spec: ProjectSpec.Executor, strataBinary: String? = nil) {
            let s = spec.slurm
            self.init(partition: s.partition, timeLimit: s.timeLimit, cpusPerTask: s.cpusPerTask, memPerTask: s.memPerTask,
                      sbatchArgs: s.sbatchArgs, strataBinary: s.strataBinary ?? strataBinary ?? SlurmExecutor.currentBinary(),
                      tasksPerJob: s.tasksPerJob, maxRunning: spec.workers, pollInterval: s.pollInterval, commandTimeout: s.commandTimeout)
            mode = s.mode; launcher = s.launcher; leaseTimeout = s.leaseTimeout; idleTimeout = s.idleTimeout; stallTimeout = s.stallTimeout
        }
    }

    public let options: Options
    public var name: String { "slurm" }
    /// The run's workers (workers mode), from `begin` to `finish`.
    private let pool = PoolBox()

    public init(options: Options) { self.options = options }

    public func begin(run: String, projectRoot: String, log: @escaping @Sendable (String, [String: JSONValue]) -> Void) {
        guard options.mode == .workers else { return }
        let p = WorkerPool(options: options, run: run, projectRoot: projectRoot, log: log)
        pool.set(p)
        p.start()
    }

    public func finish(succeeded: Bool) { pool.get()?.finish(succeeded: succeeded) }

    /// The absolute path of the running executable.
    public static func currentBinary() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if n > 0 { return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return (CommandLine.arguments.first.map { Walker.absolute($0) }) ?? "strata"
    }

    public func execute(_ tasks: [TaskSpec], projectRoot: String, retries: Int, report: @escaping @Sendable (TaskResult) -> Void) throws {
        try execute(tasks, projectRoot: projectRoot, retries: retries, report: report, log: { _, _ in })
    }

    public func execute(_ tasks: [TaskSpec], projectRoot: String, retries: Int, report: @escaping @Sendable (TaskResult) -> Void,
                        log: @escaping @Sendable (String, [String: JSONValue]) -> Void) throws {
        if tasks.isEmpty { return }
        if options.mode == .workers {
            if pool.get() == nil { begin(run: tasks[0].run, projectRoot: projectRoot, log: log) }
            let p = pool.get()!
            try withInterrupt { interrupt in
                do {
                    try p.runStep(tasks, retries: retries, report: report, log: log, interrupt: interrupt)
                } catch let error as ExecutorInterrupted {
                    throw error
                } catch where interrupt.value != 0 {
                    // Ctrl-C also reaches an sbatch or squeue running at that moment, which then fails: still an interruption.
                    let ids = p.activeJobIds
                    p.cancel(ids, reason: "interrupted")
                    throw ExecutorInterrupted(signal: interrupt.value, cancelled: ids)
                }
            }
            return
        }
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
        var args = ["--parsable", "--job-name=\(jobName)", "--array=0-\(arrayJobs - 1)" + (options.maxRunning.map { "%\($0)" } ?? ""),
                    "--output=\(logPattern)", "--chdir=\(projectRoot)"]
        if let p = options.partition { args.append("--partition=\(p)") }
        if let t = options.timeLimit { args.append("--time=\(t)") }
        if let c = options.cpusPerTask { args.append("--cpus-per-task=\(c)") }
        if let m = options.memPerTask { args.append("--mem=\(m)") }
        return args + options.sbatchArgs
    }

    /// The batch script of one submission: array job `i` runs the tasks listed at position `i`, with `attempt`.
    public static func script(binary: String, projectRoot: String, task: TaskSpec, groups: [[Int]], attempt: Int, sbatch: [String]) -> String {
        """
        #!/bin/bash
        # Strata: run \(task.run), stage \(task.stage), step \(task.step.rawValue), attempt \(attempt).
        # Submitted as: sbatch \(sbatch.map(shellQuote).joined(separator: " ")) <this file>
        # Array job i runs the task indices listed at position i of TASKS (comma-separated) with `strata task run`.
        TASKS=(\(groups.map { $0.map(String.init).joined(separator: ",") }.joined(separator: " ")))
        echo "strata task run: job ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} on $(hostname), tasks ${TASKS[$SLURM_ARRAY_TASK_ID]}"
        exec \(shellQuote(binary)) task run \(shellQuote(task.run)) \(shellQuote(task.stage)) \(task.step.rawValue) "${TASKS[$SLURM_ARRAY_TASK_ID]}" --attempt \(attempt) -C \(shellQuote(projectRoot))

        """
    }

    public static func shellQuote(_ s: String) -> String {
        if !s.isEmpty && s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "/._-=,:%+@".contains($0)) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Pending reasons that only mean "waiting for a turn".
    static let waitingReasons: Set<String> = ["None", "Priority", "Resources", "JobArrayTaskLimit", "BeginTime", "(null)", ""]

    /// Slurm job states after which a job runs no more.
    static let endedStates: Set<String> = ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL",
                                           "DEADLINE", "OUT_OF_MEMORY", "REVOKED", "SPECIAL_EXIT"]
}

/// A Slurm command that failed or could not run: which command, its output, and what to check.
public struct SlurmError: Error, CustomStringConvertible, Sendable {
    public var command: String
    public var problem: String
    public var output: String
    public var check: String
    public var description: String {
        var s = "Slurm command `\(command)` \(problem)"
        let out = output.trimmingCharacters(in: .whitespacesAndNewlines)
        if !out.isEmpty { s += "\n  its output: " + out.split(separator: "\n").suffix(8).joined(separator: "\n    ") }
        return s + "\n  check: " + check
    }

    /// What to check when sbatch fails.
    static let submitCheck = "that slurmctld is up (`scontrol ping`, `sinfo`), the partition exists (`sinfo -s`), and the resources fit a node (executor: partition, time_limit, cpus_per_task, mem_per_task, sbatch_args in strata.yaml)"
}

/// What `squeue` and `scontrol` say about array jobs (both modes ask the same questions).
enum SlurmQueue {
    struct Entry: Equatable {
        var state: String
        /// Why a pending job waits (`%r`), `None` otherwise.
        var reason: String
    }

    /// Every element of the array jobs `ids`, ended ones included (`-t all`), by `<job>_<index>`. A job the controller
    /// has purged is simply not listed. Throws a `SlurmError` when squeue fails.
    static func look(_ ids: [String], timeout: Double) throws -> [String: Entry] {
        let args = ["-h", "-r", "-t", "all", "-j", ids.joined(separator: ","), "-o", "%F %K %T %r"]
        let out = try SlurmCommand.run("squeue", args, timeout: timeout)
        // Every id purged: squeue says "Invalid job id" (and lists nothing).
        if out.status != 0 && !out.combined.contains("Invalid job id") {
            throw SlurmError(command: (["squeue"] + args).map(SlurmExecutor.shellQuote).joined(separator: " "),
                             problem: "failed with exit status \(out.status)", output: out.combined,
                             check: "that slurmctld is up (`scontrol ping`) and reachable from this machine")
        }
        return parse(out.stdout)
    }

    /// Parses `%F %K %T %r` lines.
    static func parse(_ text: String) -> [String: Entry] {
        var states: [String: Entry] = [:]
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ", maxSplits: 3)
            guard f.count >= 3 else { continue }
            // %K is N/A for a job outside an array (an srun worker): keyed by its job id alone.
            states[f[1] == "N/A" ? String(f[0]) : "\(f[0])_\(f[1])"] = Entry(state: String(f[2]), reason: f.count > 3 ? String(f[3]) : "")
        }
        return states
    }

    /// How job `job` ended, from `scontrol show job`: "exit status N", "killed by signal S" and (with `reasons`) an
    /// unusual reason. Empty when scontrol cannot tell.
    static func exitDetails(_ job: String, timeout: Double, reasons: Bool) -> [String] {
        guard let out = try? SlurmCommand.run("scontrol", ["show", "job", "-o", job], timeout: timeout), out.status == 0 else { return [] }
        return exitDetails(scontrol: out.stdout, reasons: reasons)
    }

    static func exitDetails(scontrol text: String, reasons: Bool) -> [String] {
        var details: [String] = []
        for field in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            if field.hasPrefix("ExitCode=") {
                let parts = field.dropFirst(9).split(separator: ":")
                if parts.count == 2, parts[1] != "0" { details.append("killed by signal \(parts[1])") }
                else if let code = parts.first, code != "0" { details.append("exit status \(code)") }
            } else if reasons, field.hasPrefix("Reason="), !["Reason=None", "Reason=NonZeroExitCode"].contains(String(field)) {
                details.append("reason \(field.dropFirst(7))")
            }
        }
        return details
    }
}

/// Runs Slurm's client commands with a timeout.
enum SlurmCommand {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        var combined: String { [stdout, stderr].filter { !$0.isEmpty }.joined(separator: "\n") }
    }

    static func locate(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Runs `name args`; throws a `SlurmError` when it cannot start or does not finish within `timeout`.
    static func run(_ name: String, _ args: [String], timeout: Double) throws -> Output {
        let shown = ([name] + args).map(SlurmExecutor.shellQuote).joined(separator: " ")
        guard let exe = locate(name) else {
            throw SlurmError(command: shown, problem: "cannot run: `\(name)` is not on the PATH", output: "",
                             check: "install the Slurm client commands on this machine (Debian: slurm-client) or run strata on a login node of the cluster; PATH is \(ProcessInfo.processInfo.environment["PATH"] ?? "unset")")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch {
            throw SlurmError(command: shown, problem: "cannot start: \(error.localizedDescription)", output: "", check: "that \(exe) is executable")
        }
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data(), errData = Data()
        group.enter(); DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter(); DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            throw SlurmError(command: shown, problem: "did not answer within \(Int(timeout)) s", output: "",
                             check: "that slurmctld is up (`scontrol ping`) and reachable from this machine; raise executor.command_timeout in strata.yaml for a slow controller")
        }
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// Holds the run's worker pool (the executor itself is a value).
final class PoolBox: @unchecked Sendable {
    private let lock = NSLock()
    private var pool: WorkerPool?
    func set(_ p: WorkerPool) { lock.withLock { pool = p } }
    func get() -> WorkerPool? { lock.withLock { pool } }
}

/// Runs `body` with SIGINT and SIGTERM caught into an `InterruptFlag` (the default handlers come back after).
func withInterrupt<T>(_ body: (InterruptFlag) throws -> T) rethrows -> T {
    let interrupt = InterruptFlag()
    let sources = [SIGINT, SIGTERM].map { sig -> any DispatchSourceSignal in
        signal(sig, SIG_IGN)
        let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        s.setEventHandler { interrupt.set(sig) }
        s.resume()
        return s
    }
    defer {
        for s in sources { s.cancel() }
        signal(SIGINT, SIG_DFL); signal(SIGTERM, SIG_DFL)
    }
    return try body(interrupt)
}

/// Set by SIGINT/SIGTERM while a Slurm step runs; wakes the poll loop.
final class InterruptFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var signal: Int32 = 0
    let wake = DispatchSemaphore(value: 0)
    func set(_ s: Int32) { lock.withLock { if signal == 0 { signal = s } }; wake.signal() }
    var value: Int32 { lock.withLock { signal } }
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

    let options: SlurmExecutor.Options
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

    init(options: SlurmExecutor.Options, tasks: [TaskSpec], projectRoot: String, retries: Int,
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
        let result = try? SlurmCommand.run("scancel", ids, timeout: options.commandTimeout)
        log("slurm-cancel", ["jobs": .array(ids.map { .string($0) }), "reason": .string(reason),
                             "status": result.map { .int(Int64($0.status)) } ?? .null])
    }

    /// Submits `indices` (all at `attempt`) as one array job.
    mutating func submit(_ indices: [Int], attempt: Int) throws {
        let first = byIndex[indices[0]]!
        let size = SlurmExecutor.tasksPerJob(count: indices.count, options: options)
        let groups = SlurmExecutor.groups(indices.sorted(), size: size)
        let number = submissions.count
        let tag = "\(first.step.rawValue)-\(number)"
        let logPattern = "\(dir)/\(tag)-%a.log"
        let args = SlurmExecutor.sbatchArguments(options: options, jobName: "strata-\(first.stage)-\(first.step.rawValue)",
                                                 arrayJobs: groups.count, logPattern: logPattern, projectRoot: projectRoot)
        let scriptPath = "\(dir)/\(tag).sbatch"
        try FileIO.writeAtomically(scriptPath, Array(SlurmExecutor.script(binary: options.strataBinary, projectRoot: projectRoot, task: first,
                                                                          groups: groups, attempt: attempt, sbatch: args).utf8), sync: false)
        chmod(scriptPath, 0o755)
        let out = try SlurmCommand.run("sbatch", args + [scriptPath], timeout: options.commandTimeout)
        let id = out.stdout.split(separator: "\n").last.map { String($0.split(separator: ";")[0]).trimmingCharacters(in: .whitespaces) } ?? ""
        guard out.status == 0, !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw SlurmError(command: "sbatch " + (args + [scriptPath]).map(SlurmExecutor.shellQuote).joined(separator: " "),
                             problem: out.status == 0 ? "printed no job id" : "failed with exit status \(out.status)", output: out.combined,
                             check: SlurmError.submitCheck)
        }
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
            _ = interrupt.wake.wait(timeout: .now() + min(0.1, options.pollInterval))
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
            if Date().timeIntervalSince(lastQueueLook) < options.pollInterval { continue }
            lastQueueLook = Date()
            // Ask the queue about every unsettled job.
            let ids = activeJobIds
            let states: [String: SlurmQueue.Entry]
            do {
                states = try SlurmQueue.look(ids, timeout: options.commandTimeout)
                queueFailingSince = nil
            } catch {
                // A controller that restarts or is briefly overloaded is not a failed run: keep trying for a while.
                lastQueueError = error
                let since = queueFailingSince ?? Date()
                queueFailingSince = since
                if Date().timeIntervalSince(since) > max(30, 2 * options.commandTimeout) { throw lastQueueError! }
                continue
            }
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
                        if !jobs[j].warned, now.timeIntervalSince(since) > 30, !SlurmExecutor.waitingReasons.contains(reason) {
                            jobs[j].warned = true
                            log("slurm-pending", ["job": .string(jobs[j].id), "reason": .string(reason),
                                                  "seconds": .int(Int64(now.timeIntervalSince(since)))])
                        }
                    }
                    if SlurmExecutor.endedStates.contains(state) && jobs[j].ended == nil { jobs[j].ended = now }
                } else if jobs[j].state != "LOST" {
                    // Not in the queue at all: purged by the controller or lost with it. Give it one more look.
                    let since = jobs[j].missingSince ?? now
                    jobs[j].missingSince = since
                    if now.timeIntervalSince(since) > max(2 * options.pollInterval, 1) { jobs[j].state = "LOST"; jobs[j].ended = now }
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
            for (attempt, indices) in retry.sorted(by: { $0.key < $1.key }) { try submit(indices, attempt: attempt) }
        }
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
            let details = SlurmQueue.exitDetails(job.id, timeout: options.commandTimeout, reasons: true)
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
