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
        let beat = Heartbeat(path: "\(layout.heartbeats)/\(me)", host: host)
        beat.start()
        defer { beat.stop() }
        say("strata task worker \(me) on \(host): run \(run), pid \(getpid()), ready at \(String(format: "%.3f", Date().timeIntervalSince1970))")
        var idleSince = Date()
        var pause = 0.01
        var ran = 0
        while true {
            if FileIO.status(layout.finished) != nil { say("the run is finished: exiting after \(ran) task(s)"); return ran }
            var claimed: String?
            for name in WorkerLayout.names(layout.queue).sorted() where name.hasSuffix(".json") {
                if rename("\(layout.queue)/\(name)", "\(layout.claimed)/\(name)@\(me)") == 0 { claimed = name; break }
            }
            guard let name = claimed else {
                let idle = Date().timeIntervalSince(idleSince)
                if idle > idleTimeout { say("no task for \(Int(idleTimeout)) s: exiting after \(ran) task(s)"); return ran }
                // Poll fast while work is likely (a step just published), slower when the run is quiet.
                usleep(UInt32(pause * 1_000_000))
                pause = idle < 10 ? min(pause * 1.25, 0.02) : 0.5
                continue
            }
            pause = 0.01
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
final class WorkerPool: @unchecked Sendable {
    struct Submission {
        var number: Int
        var id: String?
        var workers: Int
        var script: String
    }

    /// What the driver knows of one array element (one worker).
    struct Element {
        var state = "PENDING"
        var ended = false
        var missingSince: Date?
        var beat = ""
        var beatChanged = Date()
        var sawBeat = false
        var runningSince: Date?
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
    func start() {
        runLog("slurm-workers-start", ["at": .number(Date().timeIntervalSince1970)])
        let done = DispatchSemaphore(value: 0)
        lock.withLock { pendingSubmit = done }
        Thread { [self] in
            do {
                try layout.create()
                try submit(reason: "run start")
            } catch {
                lock.withLock { submissionError = error }
            }
            done.signal()
        }.start()
    }

    /// How many workers a submission asks for: `workers`, else every CPU of the partition (one task per worker).
    func workerCount() -> Int {
        if let w = options.maxRunning { return w }
        var args = ["-h", "-o", "%C"]
        if let p = options.partition { args += ["-p", p] }
        if let out = try? SlurmCommand.run("sinfo", args, timeout: options.commandTimeout), out.status == 0 {
            // %C is allocated/idle/other/total CPUs, one line per partition.
            let total = out.stdout.split(separator: "\n").compactMap { $0.split(separator: "/").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }.max()
            if let total, total > 0 { return max(1, min(256, total / max(1, options.cpusPerTask ?? 1))) }
        }
        return 4
    }

    func submit(reason: String) throws {
        let number = submissions.count
        let workers = workerCount()
        let logPattern = "\(layout.logs)/\(number)-%a.log"
        var args = ["--parsable", "--job-name=strata-workers-\(run)", "--array=0-\(workers - 1)", "--output=\(logPattern)",
                    "--chdir=\(projectRoot)"]
        if let p = options.partition { args.append("--partition=\(p)") }
        if let t = options.timeLimit { args.append("--time=\(t)") }
        if let c = options.cpusPerTask { args.append("--cpus-per-task=\(c)") }
        if let m = options.memPerTask { args.append("--mem=\(m)") }
        args += options.sbatchArgs
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
        lock.withLock { submissionsBox.append(Submission(number: number, id: nil, workers: workers, script: scriptPath)) }
        let out = try SlurmCommand.run("sbatch", args + [scriptPath], timeout: options.commandTimeout)
        let id = out.stdout.split(separator: "\n").last.map { String($0.split(separator: ";")[0]).trimmingCharacters(in: .whitespaces) } ?? ""
        guard out.status == 0, !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw SlurmError(command: "sbatch " + (args + [scriptPath]).map(q).joined(separator: " "),
                             problem: out.status == 0 ? "printed no job id" : "failed with exit status \(out.status)", output: out.combined,
                             check: "that slurmctld is up (`scontrol ping`, `sinfo`), the partition exists (`sinfo -s`), and the resources fit a node (executor: partition, time_limit, cpus_per_task, mem_per_task, sbatch_args in strata.yaml)")
        }
        lock.withLock { submissionsBox[number].id = id }
        runLog("slurm-submit", ["job": .string(id), "workers": .int(Int64(workers)), "reason": .string(reason), "script": .string(scriptPath),
                                "at": .number(Date().timeIntervalSince1970)])
    }

    /// Throws the background submission's error, if it failed.
    func checkSubmission() throws {
        if let e = lock.withLock({ submissionError }) { throw e }
    }

    /// Job ids of submissions with elements that may still run.
    var activeJobIds: [String] {
        submissions.compactMap { s -> String? in
            guard let id = s.id else { return nil }
            let live = (0..<s.workers).contains { !(elements["\(id)_\($0)"]?.ended ?? false) }
            return live ? id : nil
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
            guard let id = sub.id else { return false }
            return (0..<sub.workers).contains { i in elements["\(id)_\(i)"].map { $0.runningSince == nil && !$0.ended } ?? true }
        }
        if succeeded {
            if mayPend { cancel(ids, extra: ["--state=PENDING"], reason: "the run is finished: workers still waiting for a node") }
        } else {
            cancel(ids, reason: "the run stopped")
        }
        for s in submissions {
            guard let id = s.id else { continue }
            for i in 0..<s.workers {
                let path = "\(layout.logs)/\(s.number)-\(i).log"
                guard let bytes = try? FileIO.readAll(path) else { continue }
                runLog("slurm-job", ["job": .string("\(id)_\(i)"), "state": .string(elements["\(id)_\(i)"]?.state ?? "RUNNING"),
                                     "log_file": .string(path), "log": .string(String(decoding: bytes.suffix(16_384), as: UTF8.self))])
            }
        }
    }

    // MARK: One step

    /// Runs one step's tasks on the workers: publishes them, collects results as workers finish them, retries failed
    /// tasks and the tasks of workers that died, and submits new workers when none is left.
    func runStep(_ tasks: [TaskSpec], retries: Int, report: @escaping @Sendable (TaskResult) -> Void,
                 log: @escaping @Sendable (String, [String: JSONValue]) -> Void, interrupt: InterruptFlag) throws {
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
            pause = progressed ? 0.002 : min(pause * 1.5, 0.02)
            if open.isEmpty { break }
            if Date().timeIntervalSince(lastQueueLook) >= options.pollInterval {
                lastQueueLook = Date()
                for (worker, why) in try lostWorkers() {
                    // Every task this worker had claimed goes back to the queue (as its next attempt).
                    for lease in WorkerLayout.names(layout.claimed) where lease.hasSuffix("@\(worker)") {
                        let name = String(lease.dropLast(worker.count + 1))
                        unlink("\(layout.claimed)/\(lease)")
                        try retryOrFail(name, why: why, logPath: logPath(worker: worker))
                    }
                }
                try ensureWorkers()
            }
        }
        if let first = failures.min(by: { $0.label < $1.label }) { throw first }
    }

    func logPath(worker: String) -> String? {
        let parts = worker.split(separator: "_")
        guard parts.count == 2, let s = submissions.first(where: { $0.id == String(parts[0]) }) else { return nil }
        return "\(layout.logs)/\(s.number)-\(parts[1]).log"
    }

    /// Asks the queue about every worker and reads their heartbeats. Returns the workers found dead since the last
    /// look, each with why: its job ended (state, exit code, end of its log), vanished from the queue, or stopped
    /// beating for `lease_timeout` seconds while Slurm still called it running (a lost node), which is then cancelled.
    func lostWorkers() throws -> [(String, String)] {
        let ids = activeJobIds
        guard !ids.isEmpty else { return [] }
        var states: [String: String] = [:]
        do {
            let out = try SlurmCommand.run("squeue", ["-h", "-r", "-t", "all", "-j", ids.joined(separator: ","), "-o", "%F %K %T"],
                                           timeout: options.commandTimeout)
            if out.status != 0 && !out.combined.contains("Invalid job id") {
                throw SlurmError(command: "squeue -h -r -t all -j \(ids.joined(separator: ",")) -o '%F %K %T'",
                                 problem: "failed with exit status \(out.status)", output: out.combined,
                                 check: "that slurmctld is up (`scontrol ping`) and reachable from this machine")
            }
            for line in out.stdout.split(separator: "\n") {
                let f = line.split(separator: " ")
                if f.count >= 3 { states["\(f[0])_\(f[1])"] = String(f[2]) }
            }
            queueFailingSince = nil
        } catch {
            // A controller that restarts or is briefly overloaded is not a failed run: keep trying for a while.
            let since = queueFailingSince ?? Date()
            queueFailingSince = since
            if Date().timeIntervalSince(since) > max(30, 2 * options.commandTimeout) { throw error }
            return []
        }
        let now = Date()
        var lost: [(String, String)] = []
        var hung: [String] = []
        for s in submissions {
            guard let id = s.id else { continue }
            for i in 0..<s.workers {
                let w = "\(id)_\(i)"
                var e = elements[w] ?? Element()
                if e.ended { continue }
                let beat = (try? FileIO.readAll("\(layout.heartbeats)/\(w)")).map { String(decoding: $0, as: UTF8.self) } ?? ""
                if !beat.isEmpty { e.sawBeat = true }
                if beat != e.beat { e.beat = beat; e.beatChanged = now }
                if let state = states[w] {
                    e.missingSince = nil
                    e.state = state
                    if state == "RUNNING" && e.runningSince == nil { e.runningSince = now }
                    if SlurmExecutor.endedStates.contains(state) || state == "COMPLETING" {
                        e.ended = true
                        lost.append((w, failureText(w, state: state)))
                    } else if state == "RUNNING", let since = e.runningSince,
                              now.timeIntervalSince(max(since, e.beatChanged)) > options.leaseTimeout {
                        e.ended = true
                        e.state = "LOST"
                        hung.append(w)
                        lost.append((w, "Slurm worker job \(w) stopped its heartbeat for \(Int(options.leaseTimeout)) s while Slurm called it RUNNING (node lost or process hung); cancelled it"))
                    }
                } else {
                    // Not in the queue at all: purged by the controller or lost with it. Give it one more look.
                    let since = e.missingSince ?? now
                    e.missingSince = since
                    if now.timeIntervalSince(since) > max(2 * options.pollInterval, 1) {
                        e.ended = true
                        e.state = "LOST"
                        lost.append((w, "Slurm worker job \(w) disappeared from the queue (squeue no longer knows it)"))
                    }
                }
                elements[w] = e
            }
        }
        if !hung.isEmpty { cancel(hung, reason: "heartbeat stopped") }
        for (w, why) in lost { runLog("slurm-worker-lost", ["job": .string(w), "error": .string(why)]) }
        return lost
    }

    /// Submits new workers when every worker of the run has ended and tasks wait; stops the run when workers keep
    /// dying before they take any task (a binary missing on the nodes, a bad sbatch option).
    func ensureWorkers() throws {
        guard lock.withLock({ submissionError == nil }) else { return }
        let subs = submissions
        // A submission still under way counts as alive.
        if subs.contains(where: { $0.id == nil }) { return }
        let alive = subs.contains { s in (0..<s.workers).contains { !(elements["\(s.id!)_\($0)"]?.ended ?? false) } }
        if alive { return }
        // Submissions in a row (the latest ones) whose every worker ended without a single heartbeat.
        let failedInARow = subs.reversed().prefix { s in (0..<s.workers).allSatisfy { !(elements["\(s.id!)_\($0)"]?.sawBeat ?? false) } }.count
        if failedInARow >= 2, let last = subs.last, let id = last.id {
            let why = failureText("\(id)_0", state: elements["\(id)_0"]?.state ?? "ended")
            throw SlurmError(command: "sbatch \(last.script)", problem: "started workers that all ended before taking a task: \(why)", output: "",
                             check: "that executor.strata_binary (\(options.strataBinary)) runs on the compute nodes and \(projectRoot) is on a filesystem they share; see the log \(layout.logs)/\(last.number)-0.log")
        }
        try submit(reason: "no worker left")
    }

    /// Why a worker's job ended: its state, exit code and the end of its log.
    func failureText(_ worker: String, state: String) -> String {
        var s = "Slurm worker job \(worker) ended \(state)"
        if let out = try? SlurmCommand.run("scontrol", ["show", "job", "-o", worker], timeout: options.commandTimeout), out.status == 0 {
            var details: [String] = []
            for field in out.stdout.split(separator: " ") where field.hasPrefix("ExitCode=") {
                let parts = field.dropFirst(9).split(separator: ":")
                if parts.count == 2, parts[1] != "0" { details.append("killed by signal \(parts[1])") }
                else if let code = parts.first, code != "0" { details.append("exit status \(code)") }
            }
            if !details.isEmpty { s += " (" + details.joined(separator: ", ") + ")" }
        }
        if let path = logPath(worker: worker), let bytes = try? FileIO.readAll(path) {
            let lines = String(decoding: bytes.suffix(4096), as: UTF8.self).split(separator: "\n").suffix(5)
            if !lines.isEmpty { s += "; its log ends: " + lines.joined(separator: " | ") }
        }
        return s
    }
}
