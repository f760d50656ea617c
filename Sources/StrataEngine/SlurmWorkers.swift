import Dispatch
import Foundation
import StrataCore
import StrataStore
#if canImport(Glibc)
import Glibc
#endif

/// The files through which the driver hands a run's tasks to its Slurm workers, under
/// `.strata/runs/<run>/workers/` on the shared filesystem.
///
/// - `queue/t<seq>.json`: a task waiting for a worker (its `TaskSpec` and attempt), published by the driver with an
///   atomic rename;
/// - `claimed/t<seq>.json@<job>_<index>`: the lease. A worker claims a task by renaming it here (only one rename can
///   win); the name says which array element holds it;
/// - `done/t<seq>.json`: moved here by the worker once the task's result is in the task cache;
/// - `failed/t<seq>.json`: written by the worker when the task threw (the error, the worker, its host);
/// - `heartbeat/<job>_<index>`: rewritten by each worker every second (a counter, its host, pid and task);
/// - `finished`: written by the driver at the end of the run; workers exit when they see it;
/// - `submit-<n>.sbatch` and `logs/<n>-<index>.log`: the worker array jobs and their output.
public struct WorkerLayout: Sendable {
    public let dir: String
    public init(projectRoot: String, run: String) { dir = "\(projectRoot)/.strata/runs/\(run)/workers" }
    public var queue: String { dir + "/queue" }
    public var claimed: String { dir + "/claimed" }
    public var done: String { dir + "/done" }
    public var failed: String { dir + "/failed" }
    public var heartbeats: String { dir + "/heartbeat" }
    public var logs: String { dir + "/logs" }
    public var finished: String { dir + "/finished" }
    var temp: String { dir + "/tmp" }

    func create() throws {
        for d in [queue, claimed, done, failed, heartbeats, logs, temp] { try FileIO.makeDirectories(d) }
    }

    /// File names in `dir` (unsorted; empty when it does not exist).
    static func names(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { out.append(name) }
        }
        return out
    }
}

/// A task handed to the workers.
struct WorkerTicket: Codable {
    var task: TaskSpec
    var attempt: Int
}

/// What a worker writes when a task threw.
struct WorkerFailure: Codable {
    var worker: String
    var host: String
    var error: String
}

/// Set by the worker's SIGTERM handler.
nonisolated(unsafe) private var workerTerminating: sig_atomic_t = 0

/// The worker side: `strata task worker RUN` inside a Slurm array job. Claims tasks from the run's queue, runs each
/// in this process with the local executor's code (`TaskRunner.run`), and exits when the driver says the run is over
/// or nothing came for `idleTimeout` seconds.
public enum SlurmWorker {
    /// This worker's name: `<array job>_<array index>` (the Slurm job id alone outside an array, else `pid<pid>`).
    public static func identity() -> String {
        let env = ProcessInfo.processInfo.environment
        if let job = env["SLURM_ARRAY_JOB_ID"], let index = env["SLURM_ARRAY_TASK_ID"] { return "\(job)_\(index)" }
        if let job = env["SLURM_JOB_ID"] { return job }
        return "pid\(getpid())"
    }

    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count - 1)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Runs until the run's `finished` marker appears or no task came for `idleTimeout` seconds. `say` gets one line
    /// per task (the job's log). Returns the number of tasks run.
    @discardableResult
    public static func run(projectRoot: String, run: String, idleTimeout: Double, say: @escaping @Sendable (String) -> Void) throws -> Int {
        let layout = WorkerLayout(projectRoot: projectRoot, run: run)
        guard FileIO.status(layout.queue) != nil else {
            throw StageError("no worker queue at \(layout.queue): is \(projectRoot) the project of run \(run), on a filesystem this node shares?")
        }
        let me = identity(), host = hostname()
        // Command stages run by this worker see which worker runs them (the name of its heartbeat and leases).
        setenv("STRATA_WORKER", me, 1)
        // Slurm sends SIGTERM to every process of a job it cancels (scancel, time limit, preemption), then SIGKILL
        // after its KillWait. A worker that died at once could first take the retry of the task the signal just broke
        // (its command died of the same signal) and take it down too; so the signal only stops it from claiming:
        // it finishes (or reports) the task it holds, then exits.
        signal(SIGTERM) { _ in workerTerminating = 1 }
        let beat = Heartbeat(path: "\(layout.heartbeats)/\(me)", host: host)
        beat.start()
        defer { beat.stop() }
        say("strata task worker \(me) on \(host): run \(run), pid \(getpid()), ready at \(String(format: "%.3f", Date().timeIntervalSince1970))")
        var idleSince = Date()
        var pause = 0.002
        var ran = 0
        while true {
            if FileIO.status(layout.finished) != nil { say("the run is finished: exiting after \(ran) task(s)"); return ran }
            if workerTerminating != 0 { say("SIGTERM (job cancelled or at its time limit): exiting after \(ran) task(s)"); return ran }
            var claimed: String?
            for name in WorkerLayout.names(layout.queue).sorted() where name.hasSuffix(".json") {
                if rename("\(layout.queue)/\(name)", "\(layout.claimed)/\(name)@\(me)") == 0 { claimed = name; break }
            }
            guard let name = claimed else {
                let idle = Date().timeIntervalSince(idleSince)
                if idle > idleTimeout { say("no task for \(Int(idleTimeout)) s: exiting after \(ran) task(s)"); return ran }
                // Poll fast while work is likely (the driver publishes the next step within moments of the last
                // result: a directory listing every 2 ms for the first 2 s), slower as the run stays quiet.
                usleep(UInt32(pause * 1_000_000))
                pause = idle < 2 ? 0.002 : idle < 10 ? min(pause * 1.25, 0.02) : 0.5
                continue
            }
            pause = 0.002
            let lease = "\(layout.claimed)/\(name)@\(me)"
            let ticket: WorkerTicket
            do { ticket = try JSONDecoder().decode(WorkerTicket.self, from: Data(try FileIO.readAll(lease))) } catch {
                say("cannot read task \(name): \(error)")
                unlink(lease)
                continue
            }
            beat.current = ticket.task.label
            do {
                let r = try TaskRunner.run(ticket.task, projectRoot: projectRoot, attempt: ticket.attempt)
                say("\(r.label) (attempt \(ticket.attempt)): \(r.items) items, \(r.cached ? "cached" : String(format: "%.2f s", r.seconds))")
                rename(lease, "\(layout.done)/\(name)")
            } catch {
                say("task \(ticket.task.label) (attempt \(ticket.attempt)) failed: \(error)")
                let failure = WorkerFailure(worker: me, host: host, error: "\(error)")
                let tmp = "\(layout.temp)/\(name).\(me).failed"
                if let bytes = try? JSONEncoder().encode(failure), (try? FileIO.writeAtomically(tmp, Array(bytes), sync: false)) != nil {
                    rename(tmp, "\(layout.failed)/\(name)")
                }
                unlink(lease)
            }
            beat.current = ""
            ran += 1
            idleSince = Date()
        }
    }
}

/// Rewrites a worker's heartbeat file every second from a thread of its own, so a long task keeps its lease.
final class Heartbeat: @unchecked Sendable {
    let path: String
    let host: String
    private let lock = NSLock()
    private var _current = ""
    private var stopped = false
    private var counter = 0
    private let thread = DispatchSemaphore(value: 0)

    init(path: String, host: String) { self.path = path; self.host = host }

    var current: String {
        get { lock.withLock { _current } }
        set { lock.withLock { _current = newValue } }
    }

    func start() {
        write()
        let t = Thread { [self] in
            while !lock.withLock({ stopped }) {
                usleep(1_000_000)
                if lock.withLock({ stopped }) { break }
                write()
            }
            thread.signal()
        }
        t.start()
    }

    func stop() {
        lock.withLock { stopped = true }
        _ = thread.wait(timeout: .now() + 2)
        unlink(path)
    }

    private func write() {
        let line = lock.withLock { () -> String in
            counter += 1
            return "\(counter) \(host) \(getpid()) \(_current)\n"
        }
        try? FileIO.writeAtomically(path, Array(line.utf8), sync: false)
    }
}

/// The driver side of workers mode: one worker array job per run, the tasks of each step published as tickets.
///
/// Liveness (the driver must never wait for nothing): a published ticket is always in exactly one of `queue/`,
/// `claimed/`, `done/` or `failed/`. Every look at the queue (each `poll_interval`) re-queues every lease held by a
/// worker known to have ended, whenever that lease appeared; republishes a ticket found in none of them twice in a
/// row; submits new workers when no worker of the run may still run; and fails the run with a diagnosis when
/// nothing moves for `stall_timeout` seconds (no task claimed or finished, no task running, no worker waiting for its
/// turn in Slurm's queue). A worker counts as ended only on Slurm's word (an ended state, COMPLETING, or requeued
/// after it ran), on a heartbeat stopped for `lease_timeout` while Slurm calls it RUNNING, or when squeue has not
/// listed it for a while and its heartbeat did not move meanwhile: PENDING, CONFIGURING and a job squeue does not
/// list yet are alive.
final class WorkerPool: @unchecked Sendable {
    struct Submission {
        var number: Int
        var reason: String
        var launcher: ProjectSpec.Slurm.Launcher
        /// The job ids squeue and scancel are asked about: the array job (sbatch), one job per worker (srun).
        var jobIds: [String] = []
        /// The workers, by the name each calls itself (`<array job>_<index>`, or the job id of an srun worker); nil
        /// while the submission is under way.
        var elements: [String]?
        /// Each worker's log file.
        var logs: [String: String] = [:]
        var workers = 0
        var script = ""
        /// The submission failed: it has no workers and never will.
        var failed = false
        var underWay: Bool { elements == nil && !failed }
    }

    /// What the driver knows of one array element (one worker).
    struct Element {
        var state = "PENDING"
        var reason = ""
        var ended = false
        /// Why it ended: what the retry of a task it held says.
        var why = ""
        var missingSince: Date?
        var pendingSince: Date?
        var warned = false
        var beat = ""
        var beatChanged = Date()
        var sawBeat = false
        var runningSince: Date?
    }

    /// What one look at the queue found besides the elements' new states.
    struct Look {
        /// Workers Slurm put back in its queue after they ran (requeued): the tasks they held are lost, they are not.
        var restarted: [String: String] = [:]
        /// Workers whose heartbeat moved since the last look.
        var beating: Set<String> = []
        /// Some worker waits for its turn in Slurm's queue, or a submission is under way.
        var waiting = false
        /// Some worker was found ended.
        var ended = false
    }

    let options: SlurmExecutor.Options
    let run: String
    let projectRoot: String
    let layout: WorkerLayout
    let runLog: @Sendable (String, [String: JSONValue]) -> Void
    private let lock = NSLock()
    private var submissionError: (any Error)?
    private var submissionsBox: [Submission] = []
    private var pendingSubmit: DispatchSemaphore?
    var elements: [String: Element] = [:]
    var seq = 0
    var finished = false
    var lastQueueLook = Date.distantPast
    var queueFailingSince: Date?

    init(options: SlurmExecutor.Options, run: String, projectRoot: String, log: @escaping @Sendable (String, [String: JSONValue]) -> Void) {
        self.options = options; self.run = run; self.projectRoot = projectRoot; self.runLog = log
        layout = WorkerLayout(projectRoot: projectRoot, run: run)
    }

    var submissions: [Submission] { lock.withLock { submissionsBox } }

    /// Submits the first worker array job from a thread of its own: its scheduling overlaps the driver's planning.
    /// The folders and the submission's place are made before this returns: until sbatch answers, the driver sees a
    /// submission under way (it once took the run for one without workers, submitted a second array job under the
    /// same number and lost track of one of the two, with a task in it).
    func start() {
        runLog("slurm-workers-start", ["at": .number(Date().timeIntervalSince1970)])
        do { try layout.create() } catch {
            lock.withLock { submissionError = error }
            return
        }
        let number = reserve(reason: "run start")
        let done = DispatchSemaphore(value: 0)
        lock.withLock { pendingSubmit = done }
        Thread { [self] in
            do { try submit(number) } catch { lock.withLock { submissionError = error } }
            done.signal()
        }.start()
    }

    /// How many workers a submission asks for: `workers`, else every CPU of the partition (one task per worker), at
    /// most 256 (64 with the srun launcher: each worker is an srun process on this machine).
    func workerCount() -> Int {
        let cap = options.launcher == .srun ? 64 : 256
        if let w = options.maxRunning { return options.launcher == .srun ? min(w, cap) : w }
        var args = ["-h", "-o", "%C"]
        if let p = options.partition { args += ["-p", p] }
        if let out = try? SlurmCommand.run("sinfo", args, timeout: options.commandTimeout), out.status == 0 {
            // %C is allocated/idle/other/total CPUs, one line per partition.
            let total = out.stdout.split(separator: "\n").compactMap { $0.split(separator: "/").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }.max()
            if let total, total > 0 { return max(1, min(cap, total / max(1, options.cpusPerTask ?? 1))) }
        }
        return 4
    }

    /// Takes the next submission number (under the lock: two submissions never share one).
    func reserve(reason: String) -> Int {
        lock.withLock {
            submissionsBox.append(Submission(number: submissionsBox.count, reason: reason, launcher: options.launcher))
            return submissionsBox.count - 1
        }
    }

    /// Submits the worker array job of reserved submission `number`.
    func submit(_ number: Int) throws {
        do { try launch(number) } catch {
            lock.withLock { submissionsBox[number].failed = true }
            throw error
        }
    }

    private func launch(_ number: Int) throws {
        switch options.launcher {
        case .sbatch: try launchArray(number)
        case .srun: try launchSrun(number)
        }
    }

    /// The Slurm options both launchers give every worker (beside the job name, output and array or task count).
    private func jobOptions() -> [String] {
        var args = ["--chdir=\(projectRoot)"]
        if let p = options.partition { args.append("--partition=\(p)") }
        if let t = options.timeLimit { args.append("--time=\(t)") }
        if let c = options.cpusPerTask { args.append("--cpus-per-task=\(c)") }
        if let m = options.memPerTask { args.append("--mem=\(m)") }
        return args + options.sbatchArgs
    }

    private func launchArray(_ number: Int) throws {
        let reason = submissions[number].reason
        let workers = workerCount()
        let logPattern = "\(layout.logs)/\(number)-%a.log"
        let args = ["--parsable", "--job-name=strata-workers-\(run)", "--array=0-\(workers - 1)", "--output=\(logPattern)"] + jobOptions()
        let scriptPath = "\(layout.dir)/submit-\(number).sbatch"
        let q = SlurmExecutor.shellQuote
        let script = """
            #!/bin/bash
            # Strata: the workers of run \(run) (submission \(number): \(reason)).
            # Submitted as: sbatch \(args.map(q).joined(separator: " ")) <this file>
            # Each array element is one worker: it claims tasks from \(layout.queue) until the run is finished.
            echo "strata task worker: job ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} on $(hostname)"
            exec \(q(options.strataBinary)) task worker \(q(run)) --idle-timeout \(Int(options.idleTimeout)) -C \(q(projectRoot))

            """
        try FileIO.writeAtomically(scriptPath, Array(script.utf8), sync: false)
        chmod(scriptPath, 0o755)
        lock.withLock { submissionsBox[number].workers = workers; submissionsBox[number].script = scriptPath }
        let out = try SlurmCommand.run("sbatch", args + [scriptPath], timeout: options.commandTimeout)
        let id = out.stdout.split(separator: "\n").last.map { String($0.split(separator: ";")[0]).trimmingCharacters(in: .whitespaces) } ?? ""
        guard out.status == 0, !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw SlurmError(command: "sbatch " + (args + [scriptPath]).map(q).joined(separator: " "),
                             problem: out.status == 0 ? "printed no job id" : "failed with exit status \(out.status)", output: out.combined,
                             check: SlurmError.submitCheck)
        }
        let elements = (0..<workers).map { "\(id)_\($0)" }
        lock.withLock {
            submissionsBox[number].jobIds = [id]
            for (i, w) in elements.enumerated() { submissionsBox[number].logs[w] = "\(layout.logs)/\(number)-\(i).log" }
            submissionsBox[number].elements = elements
        }
        runLog("slurm-submit", ["job": .string(id), "workers": .int(Int64(workers)), "reason": .string(reason), "script": .string(scriptPath),
                                "launcher": .string("sbatch"), "at": .number(Date().timeIntervalSince1970)])
    }

    /// Starts one `srun` per worker, each its own one-task job, in the background: Slurm answers an allocation
    /// request at once, where a batch job waits for the controller's next scheduling pass. Each worker's job id is
    /// learned from squeue by its job name; an srun that ends before Slurm lists its job leaves that worker out, and
    /// the submission fails (with srun's words) when every one did.
    private func launchSrun(_ number: Int) throws {
        let reason = submissions[number].reason
        let workers = workerCount()
        let common = ["--ntasks=1", "--nodes=1", "--input=none"] + jobOptions()
        let scriptPath = "\(layout.dir)/submit-\(number).sh"
        let q = SlurmExecutor.shellQuote
        let script = """
            #!/bin/bash
            # Strata: a worker of run \(run) (submission \(number): \(reason)).
            # Started as: srun --job-name=strata-workers-\(run)-\(number).<worker> --output=<its log> \(common.map(q).joined(separator: " ")) <this file>
            # It claims tasks from \(layout.queue) until the run is finished.
            echo "strata task worker: job ${SLURM_JOB_ID} on $(hostname)"
            exec \(q(options.strataBinary)) task worker \(q(run)) --idle-timeout \(Int(options.idleTimeout)) -C \(q(projectRoot))

            """
        try FileIO.writeAtomically(scriptPath, Array(script.utf8), sync: false)
        chmod(scriptPath, 0o755)
        guard let srun = SlurmCommand.locate("srun") else {
            throw SlurmError(command: "srun", problem: "cannot run: `srun` is not on the PATH", output: "",
                             check: "install the Slurm client commands on this machine (Debian: slurm-client), or set executor.launcher: sbatch")
        }
        // A fresh job for each worker: without Slurm's variables of an enclosing job (strata run inside sbatch or
        // salloc), srun would start a step of that job instead.
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SLURM_") || $0.key == "SLURM_CONF" }
        let names = (0..<workers).map { "strata-workers-\(run)-\(number).\($0)" }
        var processes: [SpawnedProcess] = []
        lock.withLock { submissionsBox[number].workers = workers; submissionsBox[number].script = scriptPath }
        do {
            for i in 0..<workers {
                let args = ["--job-name=\(names[i])", "--output=\(layout.logs)/\(number)-\(i).log"] + common + [scriptPath]
                processes.append(try SpawnedProcess.start(srun, args, environment: environment, output: "\(layout.logs)/\(number)-\(i).srun"))
            }
            try learnJobs(number, names: names, processes: processes, reason: reason, scriptPath: scriptPath)
        } catch {
            // None of them may run unseen: srun cancels its job (or its request for one) on SIGTERM. (An srun that
            // has ended took its job with it.)
            let running = processes.filter { $0.exitStatus() == nil }
            if !running.isEmpty {
                for p in running { kill(p.pid, SIGTERM) }
                _ = try? SlurmCommand.run("scancel", ["--name=" + names.joined(separator: ",")], timeout: options.commandTimeout)
            }
            throw error
        }
    }

    /// Learns the job id of each srun worker from squeue, by its job name; records the submission's workers.
    private func learnJobs(_ number: Int, names: [String], processes: [SpawnedProcess], reason: String, scriptPath: String) throws {
        let workers = names.count
        let q = SlurmExecutor.shellQuote
        var ids: [Int: String] = [:]
        var gone: [Int: Int32] = [:]
        let started = Date()
        var pause = 0.003
        while ids.count + gone.count < workers {
            // Which srun processes had ended before squeue was asked: one ended and still unlisted never had a job.
            let ended = Dictionary(uniqueKeysWithValues: (0..<workers).compactMap { i in processes[i].exitStatus().map { (i, $0) } })
            let args = ["-h", "-t", "all", "--name=" + names.enumerated().filter { ids[$0.offset] == nil && gone[$0.offset] == nil }.map(\.element).joined(separator: ","),
                        "-o", "%j %i"]
            let out = try SlurmCommand.run("squeue", args, timeout: options.commandTimeout)
            if out.status != 0 {
                // A controller that does not answer: srun keeps trying for a while, then says so itself (its words
                // are the better error); squeue's failure stops the submission only when no srun is left to tell.
                if ended.count == workers, ids.isEmpty, let first = ended.keys.min() {
                    throw srunEnded(number, first, status: ended[first]!, command: processes[first].command)
                }
                if Date().timeIntervalSince(started) > options.commandTimeout {
                    throw SlurmError(command: (["squeue"] + args).map(q).joined(separator: " "), problem: "failed with exit status \(out.status)",
                                     output: out.combined, check: "that slurmctld is up (`scontrol ping`) and reachable from this machine")
                }
                usleep(100_000)
                continue
            }
            for line in out.stdout.split(separator: "\n") {
                let f = line.split(separator: " ")
                if f.count == 2, let i = names.firstIndex(of: String(f[0])) { ids[i] = String(f[1]) }
            }
            for (i, status) in ended where ids[i] == nil { gone[i] = status }
            if ids.count + gone.count == workers { break }
            if Date().timeIntervalSince(started) > options.commandTimeout {
                throw SlurmError(command: processes[0].command, problem: "started no job Slurm lists within \(Int(options.commandTimeout)) s", output: srunOutput(number, 0),
                                 check: SlurmError.submitCheck)
            }
            usleep(UInt32(pause * 1_000_000))
            pause = min(pause * 1.5, 0.2)
        }
        guard !ids.isEmpty else {
            let first = gone.keys.min() ?? 0
            throw srunEnded(number, first, status: gone[first] ?? -1, command: processes[first].command)
        }
        let order = ids.keys.sorted()
        lock.withLock {
            submissionsBox[number].jobIds = order.map { ids[$0]! }
            for i in order { submissionsBox[number].logs[ids[i]!] = "\(layout.logs)/\(number)-\(i).log" }
            submissionsBox[number].elements = order.map { ids[$0]! }
        }
        var fields: [String: JSONValue] = ["jobs": .array(order.map { .string(ids[$0]!) }), "workers": .int(Int64(ids.count)), "reason": .string(reason),
                                           "script": .string(scriptPath), "launcher": .string("srun"), "at": .number(Date().timeIntervalSince1970)]
        if !gone.isEmpty {
            fields["not_started"] = .array(gone.keys.sorted().map { .string("worker \($0): srun ended with status \(gone[$0]!): " + srunOutput(number, $0)) })
        }
        runLog("slurm-submit", fields)
    }

    /// Every srun of a submission ended without a job: the first one's words.
    func srunEnded(_ number: Int, _ index: Int, status: Int32, command: String) -> SlurmError {
        SlurmError(command: command, problem: "ended with exit status \(status) before Slurm listed a job", output: srunOutput(number, index),
                   check: SlurmError.submitCheck + "; or set executor.launcher: sbatch where this machine may not run srun")
    }

    /// The end of what srun printed for worker `index` of submission `number`.
    func srunOutput(_ number: Int, _ index: Int) -> String {
        guard let bytes = try? FileIO.readAll("\(layout.logs)/\(number)-\(index).srun") else { return "" }
        return String(decoding: bytes.suffix(2048), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Throws the background submission's error, if it failed.
    func checkSubmission() throws {
        if let e = lock.withLock({ submissionError }) { throw e }
    }

    /// The workers of submission `s` (none while it is under way).
    func workers(of s: Submission) -> [String] { s.elements ?? [] }

    /// Job ids with workers that may still run: an array job with one such element, an srun worker's own job.
    var activeJobIds: [String] {
        submissions.flatMap { s -> [String] in
            let alive = workers(of: s).filter { !(elements[$0]?.ended ?? false) }
            switch s.launcher {
            case .sbatch: return alive.isEmpty ? [] : s.jobIds
            case .srun: return alive
            }
        }
    }

    func cancel(_ ids: [String], extra: [String] = [], reason: String) {
        guard !ids.isEmpty else { return }
        let result = try? SlurmCommand.run("scancel", extra + ids, timeout: options.commandTimeout)
        runLog("slurm-cancel", ["jobs": .array(ids.map { .string($0) }), "reason": .string(reason),
                                "status": result.map { .int(Int64($0.status)) } ?? .null])
    }

    /// Ends the run for the workers: the `finished` marker makes running workers exit; pending ones are cancelled
    /// (all of them when the run failed). Copies the workers' logs into the run log.
    func finish(succeeded: Bool) {
        if finished { return }
        finished = true
        // Wait for a submission still under way, so no job outlives the run unseen.
        if let s = lock.withLock({ pendingSubmit }) { _ = s.wait(timeout: .now() + options.commandTimeout + 5) }
        try? FileIO.writeAtomically(layout.finished, Array("\(run)\n".utf8), sync: false)
        let ids = activeJobIds
        // Running workers exit by themselves; only elements that may still be pending need cancelling (every element
        // the last look at the queue saw running is not: an element that started never goes back to pending).
        let mayPend = submissions.contains { sub in
            workers(of: sub).contains { w in elements[w].map { $0.runningSince == nil && !$0.ended } ?? true }
        }
        if succeeded {
            if mayPend { cancel(ids, extra: ["--state=PENDING"], reason: "the run is finished: workers still waiting for a node") }
        } else {
            cancel(ids, reason: "the run stopped")
        }
        for s in submissions {
            for w in workers(of: s) {
                guard let path = s.logs[w], let bytes = try? FileIO.readAll(path) else { continue }
                runLog("slurm-job", ["job": .string(w), "state": .string(elements[w]?.state ?? "RUNNING"),
                                     "log_file": .string(path), "log": .string(String(decoding: bytes.suffix(16_384), as: UTF8.self))])
            }
        }
    }

    // MARK: One step

    /// Runs one step's tasks on the workers: publishes them, collects results as workers finish them, retries failed
    /// tasks and the tasks of workers that died, and submits new workers when none is left.
    func runStep(_ tasks: [TaskSpec], retries: Int, report: @escaping @Sendable (TaskResult) -> Void,
                 log: @escaping @Sendable (String, [String: JSONValue]) -> Void, interrupt: InterruptFlag) throws {
        try checkSubmission()
        let cache = TaskCache(projectRoot: projectRoot)
        var open: [String: (task: TaskSpec, attempt: Int)] = [:]
        var failures: [TaskFailure] = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func publish(_ t: TaskSpec, attempt: Int) throws {
            seq += 1
            let name = String(format: "t%07d.json", seq)
            let tmp = "\(layout.temp)/\(name)"
            try FileIO.writeAtomically(tmp, Array(try encoder.encode(WorkerTicket(task: t, attempt: attempt))), sync: false)
            guard rename(tmp, "\(layout.queue)/\(name)") == 0 else { throw FileError("rename into the worker queue", "\(layout.queue)/\(name)") }
            open[name] = (t, attempt)
        }
        /// A try of `name` ended without a result: retry it or give up on it.
        func retryOrFail(_ name: String, why: String, logPath: String?) throws {
            guard let (t, attempt) = open.removeValue(forKey: name) else { return }
            if let r = cache.result(t.key) { report(r); return }
            if attempt <= retries {
                log("task-retry", ["label": .string(t.label), "attempt": .int(Int64(attempt)), "error": .string(why)])
                try publish(t, attempt: attempt + 1)
            } else {
                failures.append(TaskFailure(label: t.label, attempts: attempt, error: why, log: logPath))
                log("task-failed", ["label": .string(t.label), "attempts": .int(Int64(attempt)), "error": .string(why)])
            }
        }

        for t in tasks {
            if let done = cache.result(t.key) {
                report(TaskResult(key: done.key, label: done.label, items: done.items, seconds: 0, attempts: 0, cached: true))
            } else {
                try publish(t, attempt: 1)
            }
        }
        let published = Date()
        let publishedCount = open.count
        var taskSeconds = 0.0
        defer {
            if publishedCount > 0 {
                log("slurm-step", ["step": .string("\(tasks[0].stage)/\(tasks[0].step.rawValue)"), "tasks": .int(Int64(publishedCount)),
                                   "seconds": .number(Date().timeIntervalSince(published)), "task_seconds": .number(taskSeconds),
                                   "published_at": .number(published.timeIntervalSince1970)])
            }
        }
        var pause = 0.002
        var lastProgress = Date()
        var lastLeases: Set<String> = []
        var unseen: Set<String> = []
        while !open.isEmpty {
            _ = interrupt.wake.wait(timeout: .now() + pause)
            if interrupt.value != 0 {
                let ids = activeJobIds
                cancel(ids, reason: "interrupted")
                throw ExecutorInterrupted(signal: interrupt.value, cancelled: ids)
            }
            try checkSubmission()
            var progressed = false
            for name in WorkerLayout.names(layout.done) {
                guard let (t, _) = open[name] else { unlink("\(layout.done)/\(name)"); continue }
                // The result is written before the ticket moves; a lagging filesystem may show it a little later.
                guard let r = cache.result(t.key) else { continue }
                open[name] = nil
                unlink("\(layout.done)/\(name)")
                taskSeconds += r.seconds
                report(r)
                progressed = true
            }
            for name in WorkerLayout.names(layout.failed) {
                let path = "\(layout.failed)/\(name)"
                let failure = (try? FileIO.readAll(path)).flatMap { try? JSONDecoder().decode(WorkerFailure.self, from: Data($0)) }
                unlink(path)
                guard let failure, open[name] != nil else { continue }
                let why = "on Slurm worker job \(failure.worker) (\(failure.host)): \(failure.error)"
                try retryOrFail(name, why: why, logPath: logPath(worker: failure.worker))
                progressed = true
            }
            if progressed { lastProgress = Date() }
            // Fast while results are coming (the step's last one is likely close), slower after a quiet second.
            pause = Date().timeIntervalSince(lastProgress) < 1 ? 0.002 : min(pause * 1.5, 0.02)
            if open.isEmpty { break }
            guard Date().timeIntervalSince(lastQueueLook) >= options.pollInterval else { continue }
            lastQueueLook = Date()
            let look = try lookAtWorkers()
            // Where every open ticket is, listed in the order tickets move (a ticket moving on while we list is
            // still seen in a later folder).
            let queued = Set(WorkerLayout.names(layout.queue))
            let leases = WorkerLayout.names(layout.claimed)
            let finishing = Set(WorkerLayout.names(layout.done)).union(WorkerLayout.names(layout.failed))
            var claimed: Set<String> = []
            var holders: Set<String> = []
            for lease in leases {
                guard let at = lease.lastIndex(of: "@") else { continue }
                let name = String(lease[..<at]), worker = String(lease[lease.index(after: at)...])
                claimed.insert(name)
                // The lease of a worker that ended (found now or earlier: a lease can show up after its worker was
                // counted lost) or that Slurm restarted: its task goes back to the queue as its next attempt. The
                // unlink decides: when it fails, the worker moved the ticket on itself.
                let why: String
                if let e = elements[worker], e.ended { why = e.why } else if let w = look.restarted[worker] { why = w } else {
                    holders.insert(worker)
                    continue
                }
                guard unlink("\(layout.claimed)/\(lease)") == 0 else { continue }
                try retryOrFail(name, why: why, logPath: logPath(worker: worker))
                lastProgress = Date()
            }
            // A ticket in no folder at two looks in a row (it cannot happen by the protocol; a worker that could not
            // read its ticket drops it): publish it again, at the same attempt.
            let nowhere = Set(open.keys).subtracting(queued).subtracting(claimed).subtracting(finishing)
            for name in nowhere.intersection(unseen).sorted() {
                guard let (t, attempt) = open.removeValue(forKey: name) else { continue }
                log("slurm-ticket-missing", ["label": .string(t.label), "ticket": .string(name), "attempt": .int(Int64(attempt))])
                if let r = cache.result(t.key) { report(r) } else { try publish(t, attempt: attempt) }
            }
            unseen = nowhere.subtracting(unseen)
            if open.isEmpty { break }
            if try ensureWorkers() { lastProgress = Date() }
            // Something moves: a task was claimed or released, a task is running (its worker beats), a worker waits for
            // its turn in Slurm's queue or a submission is under way, or a worker ended (its tasks were re-queued and
            // workers resubmitted above).
            let leaseSet = Set(leases)
            if leaseSet != lastLeases || !holders.isDisjoint(with: look.beating) || look.waiting || look.ended { lastProgress = Date() }
            lastLeases = leaseSet
            let stalled = Date().timeIntervalSince(lastProgress)
            if options.stallTimeout > 0, stalled > options.stallTimeout {
                throw stallError(seconds: stalled, open: open.count, queued: queued.count, leases: leases, step: "\(tasks[0].stage)/\(tasks[0].step.rawValue)")
            }
        }
        if let first = failures.min(by: { $0.label < $1.label }) { throw first }
    }

    /// Why the run stops after `seconds` without anything moving: the tickets, the leases and every live worker.
    func stallError(seconds: Double, open: Int, queued: Int, leases: [String], step: String) -> StageError {
        let now = Date()
        let live = elements.filter { !$0.value.ended }.sorted { $0.key < $1.key }.map { w, e in
            "\(w) \(e.state)\(e.reason.isEmpty || e.reason == "None" ? "" : " (\(e.reason))")" + (e.sawBeat ? ", heartbeat \(Int(now.timeIntervalSince(e.beatChanged))) s ago" : ", no heartbeat")
        }
        return StageError("""
            Slurm workers mode: step \(step) has \(open) task(s) open and nothing moved for \(Int(seconds)) s (executor.stall_timeout): \
            \(queued) waiting in \(layout.queue), leases \(leases.isEmpty ? "none" : leases.sorted().joined(separator: ", ")); \
            workers: \(live.isEmpty ? "none alive" : live.joined(separator: "; ")). \
            Check that the nodes see \(layout.dir) (the project on a filesystem they share with this machine, new files visible \
            without a long client cache), the workers' logs in \(layout.logs), and `squeue -j \(activeJobIds.joined(separator: ","))`; \
            raise executor.stall_timeout (0: never) if this is expected.
            """)
    }

    func logPath(worker: String) -> String? {
        submissions.lazy.compactMap { $0.logs[worker] }.first
    }

    /// Asks the queue about every worker that may still run and reads their heartbeats; marks the ones found ended
    /// (with why: the state, exit code and end of the log; a heartbeat stopped for `lease_timeout` while Slurm says
    /// RUNNING, after which the job is cancelled; or gone from squeue while its heartbeat stood still).
    func lookAtWorkers() throws -> Look {
        var look = Look()
        let subs = submissions
        if subs.contains(where: \.underWay) { look.waiting = true }
        let ids = activeJobIds
        guard !ids.isEmpty else { return look }
        let states: [String: SlurmQueue.Entry]
        do {
            states = try SlurmQueue.look(ids, timeout: options.commandTimeout)
            queueFailingSince = nil
        } catch {
            // A controller that restarts or is briefly overloaded is not a failed run: keep trying for a while.
            let since = queueFailingSince ?? Date()
            queueFailingSince = since
            if Date().timeIntervalSince(since) > max(30, 2 * options.commandTimeout) { throw error }
            look.waiting = true
            return look
        }
        let now = Date()
        let missingGrace = max(3 * options.pollInterval, 10)
        var hung: [String] = []
        // Only the submissions just asked about: one whose job id came after the question is not missing.
        for s in subs where s.jobIds.contains(where: ids.contains) {
            for w in workers(of: s) {
                var e = elements[w] ?? Element()
                if e.ended { continue }
                let beat = (try? FileIO.readAll("\(layout.heartbeats)/\(w)")).map { String(decoding: $0, as: UTF8.self) } ?? ""
                if !beat.isEmpty { e.sawBeat = true }
                if beat != e.beat {
                    e.beat = beat
                    e.beatChanged = now
                    if !beat.isEmpty { look.beating.insert(w) }
                }
                var endedWhy: String?
                if let entry = states[w] {
                    let state = entry.state
                    e.missingSince = nil
                    if e.runningSince != nil, ["PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED"].contains(state) {
                        // Slurm put it back in the queue (its node failed): the worker that ran is gone, a new one
                        // will start under the same name.
                        look.restarted[w] = "Slurm worker job \(w) was requeued by Slurm (\(state)\(entry.reason.isEmpty ? "" : ", \(entry.reason)")) while it ran"
                        e.runningSince = nil
                    }
                    e.state = state
                    e.reason = entry.reason
                    if state == "RUNNING" && e.runningSince == nil { e.runningSince = now }
                    if state == "PENDING" || state == "CONFIGURING" {
                        let since = e.pendingSince ?? now
                        e.pendingSince = since
                        if state == "CONFIGURING" || SlurmExecutor.waitingReasons.contains(entry.reason) {
                            look.waiting = true
                        } else if !e.warned, now.timeIntervalSince(since) > 30 {
                            e.warned = true
                            runLog("slurm-pending", ["job": .string(w), "reason": .string(entry.reason), "seconds": .int(Int64(now.timeIntervalSince(since)))])
                        }
                    } else {
                        e.pendingSince = nil
                    }
                    if SlurmExecutor.endedStates.contains(state) || state == "COMPLETING" {
                        // COMPLETING: the batch script (which is the worker: it execs strata) has exited.
                        endedWhy = failureText(w, state: state)
                    } else if state == "RUNNING", let since = e.runningSince,
                              now.timeIntervalSince(max(since, e.beatChanged)) > options.leaseTimeout {
                        e.state = "LOST"
                        hung.append(w)
                        endedWhy = "Slurm worker job \(w) stopped its heartbeat for \(Int(options.leaseTimeout)) s while Slurm called it RUNNING (node lost or process hung); cancelled it"
                    }
                } else {
                    // Not listed: purged by the controller, or lost with it. Only a worker missing for a while whose
                    // heartbeat stood still meanwhile counts as gone.
                    let since = e.missingSince ?? now
                    e.missingSince = since
                    if now.timeIntervalSince(max(since, e.beatChanged)) > missingGrace {
                        e.state = "LOST"
                        endedWhy = "Slurm worker job \(w) disappeared from the queue (squeue has not listed it for \(Int(now.timeIntervalSince(since))) s and its heartbeat stood still)"
                    }
                }
                if let why = endedWhy {
                    e.ended = true
                    e.why = why
                    look.ended = true
                    runLog("slurm-worker-lost", ["job": .string(w), "state": .string(e.state), "error": .string(why)])
                }
                elements[w] = e
            }
        }
        if !hung.isEmpty { cancel(hung, reason: "heartbeat stopped") }
        return look
    }

    /// Submits new workers when no worker of the run may still run (every element ended) and tasks wait; stops the
    /// run when workers keep dying before they take any task (a binary missing on the nodes, a bad sbatch option).
    /// Returns whether it submitted.
    func ensureWorkers() throws -> Bool {
        guard lock.withLock({ submissionError == nil }) else { return false }
        let subs = submissions
        // A submission still under way counts as alive.
        if subs.contains(where: \.underWay) { return false }
        let alive = subs.contains { s in workers(of: s).contains { !(elements[$0]?.ended ?? false) } }
        if alive { return false }
        // Submissions in a row (the latest ones) whose every worker ended without a single heartbeat.
        let tracked = subs.filter { $0.elements != nil }
        let failedInARow = tracked.reversed().prefix { s in workers(of: s).allSatisfy { !(elements[$0]?.sawBeat ?? false) } }.count
        if failedInARow >= 2, let last = tracked.last, let first = workers(of: last).first {
            let why = elements[first]?.why ?? failureText(first, state: "ended")
            throw SlurmError(command: "\(last.launcher.rawValue) \(last.script)", problem: "started workers that all ended before taking a task: \(why)", output: "",
                             check: "that executor.strata_binary (\(options.strataBinary)) runs on the compute nodes and \(projectRoot) is on a filesystem they share; see the log \(layout.logs)/\(last.number)-0.log")
        }
        try submit(reserve(reason: "no worker left"))
        return true
    }

    /// Why a worker's job ended: its state, exit code and the end of its log.
    func failureText(_ worker: String, state: String) -> String {
        var s = "Slurm worker job \(worker) ended \(state)"
        let details = SlurmQueue.exitDetails(worker, timeout: options.commandTimeout, reasons: false)
        if !details.isEmpty { s += " (" + details.joined(separator: ", ") + ")" }
        if let path = logPath(worker: worker), let bytes = try? FileIO.readAll(path) {
            let lines = String(decoding: bytes.suffix(4096), as: UTF8.self).split(separator: "\n").suffix(5)
            if !lines.isEmpty { s += "; its log ends: " + lines.joined(separator: " | ") }
        }
        return s
    }
}
