import Dispatch
import Foundation
import StrataCore
import StrataEngine
import StrataStore
#if canImport(Glibc)
import Glibc
#endif

/// One submission of workers: an sbatch array job, or one srun per worker.
struct WorkerSubmission: Sendable {
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
    /// The workers of this submission (none while it is under way).
    var workerNames: [String] { elements ?? [] }
}

/// Starts a run's workers with sbatch or srun. Used from the driver's thread and from the background thread of the
/// first submission: the submissions live behind a lock, the rest is immutable.
final class WorkerLauncher: Sendable {
    let options: WorkerPoolExecutor.Options
    let run: String
    let projectRoot: String
    let layout: WorkerLayout
    let runLog: @Sendable (String, [String: JSONValue]) -> Void
    private let state = Locked<[WorkerSubmission]>([])
    /// The error of a submission made in the background (the driver throws it at its next look).
    let backgroundError = FirstError()
    /// Signalled when the background submission is over.
    let backgroundDone = Locked<DispatchSemaphore?>(nil)

    init(options: WorkerPoolExecutor.Options, run: String, projectRoot: String, layout: WorkerLayout,
         log: @escaping @Sendable (String, [String: JSONValue]) -> Void) {
        self.options = options; self.run = run; self.projectRoot = projectRoot; self.layout = layout; self.runLog = log
    }

    var submissions: [WorkerSubmission] { state.value }

    /// Throws the background submission's error, if it failed.
    func checkBackground() throws {
        if let e = backgroundError.error { throw e }
    }

    /// Reserves submission `number` and submits it from a thread of its own (its scheduling overlaps the driver's
    /// planning). Until sbatch answers, the driver sees a submission under way.
    func submitInBackground(reason: String) {
        let number = reserve(reason: reason)
        let done = DispatchSemaphore(value: 0)
        backgroundDone.withLock { $0 = done }
        Thread { [self] in
            do { try submit(number) } catch { backgroundError.set(error) }
            done.signal()
        }.start()
    }

    /// How many workers a submission asks for: `workers`, else every CPU of the partition (one task per worker), at
    /// most 256 (64 with the srun launcher: each worker is an srun process on this machine).
    func workerCount() -> Int {
        let cap = options.launcher == .srun ? 64 : 256
        if let w = options.workers { return options.launcher == .srun ? min(w, cap) : w }
        var args = ["-h", "-o", "%C"]
        if let p = options.job.partition { args += ["-p", p] }
        if let out = try? SlurmCommand.run("sinfo", args, timeout: options.polling.commandTimeout), out.status == 0 {
            // %C is allocated/idle/other/total CPUs, one line per partition.
            let total = out.stdout.split(separator: "\n").compactMap { $0.split(separator: "/").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }.max()
            if let total, total > 0 { return max(1, min(cap, total / max(1, options.job.cpusPerTask ?? 1))) }
        }
        return 4
    }

    /// Takes the next submission number (under the lock: two submissions never share one).
    func reserve(reason: String) -> Int {
        let launcher = options.launcher
        return state.withLock { subs in
            subs.append(WorkerSubmission(number: subs.count, reason: reason, launcher: launcher))
            return subs.count - 1
        }
    }

    /// Submits the workers of reserved submission `number`.
    func submit(_ number: Int) throws {
        do {
            switch options.launcher {
            case .sbatch: try launchArray(number)
            case .srun: try launchSrun(number)
            }
        } catch {
            state.withLock { $0[number].failed = true }
            throw error
        }
    }

    private func launchArray(_ number: Int) throws {
        let reason = submissions[number].reason
        let workers = workerCount()
        let args = ["--parsable", "--job-name=strata-workers-\(run)", "--array=0-\(workers - 1)", "--output=\(layout.logs)/\(number)-%a.log"]
            + options.job.arguments(projectRoot: projectRoot)
        let scriptPath = "\(layout.dir)/submit-\(number).sbatch"
        let script = SlurmScript.arrayWorkers(run: run, number: number, reason: reason, sbatch: args, queue: layout.queue,
                                              binary: options.job.strataBinary, idleTimeout: options.timeouts.idle, projectRoot: projectRoot)
        try SlurmScript.write(script, to: scriptPath)
        state.withLock { $0[number].workers = workers; $0[number].script = scriptPath }
        let id = try SlurmCommand.sbatch(args, script: scriptPath, timeout: options.polling.commandTimeout)
        let elements = (0..<workers).map { "\(id)_\($0)" }
        let logs = layout.logs
        state.withLock {
            $0[number].jobIds = [id]
            for (i, w) in elements.enumerated() { $0[number].logs[w] = "\(logs)/\(number)-\(i).log" }
            $0[number].elements = elements
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
        let common = ["--ntasks=1", "--nodes=1", "--input=none"] + options.job.arguments(projectRoot: projectRoot)
        let scriptPath = "\(layout.dir)/submit-\(number).sh"
        let script = SlurmScript.srunWorker(run: run, number: number, reason: reason, srun: common, queue: layout.queue,
                                            binary: options.job.strataBinary, idleTimeout: options.timeouts.idle, projectRoot: projectRoot)
        try SlurmScript.write(script, to: scriptPath)
        guard let srun = SlurmCommand.locate("srun") else {
            throw SlurmError(command: "srun", problem: "cannot run: `srun` is not on the PATH", output: "",
                             check: "install the Slurm client commands on this machine (Debian: slurm-client), or set executor.launcher: sbatch")
        }
        // A fresh job for each worker: without Slurm's variables of an enclosing job (strata run inside sbatch or
        // salloc), srun would start a step of that job instead.
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SLURM_") || $0.key == "SLURM_CONF" }
        let names = (0..<workers).map { "strata-workers-\(run)-\(number).\($0)" }
        var processes: [SpawnedProcess] = []
        state.withLock { $0[number].workers = workers; $0[number].script = scriptPath }
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
                _ = try? SlurmCommand.run("scancel", ["--name=" + names.joined(separator: ",")], timeout: options.polling.commandTimeout)
            }
            throw error
        }
    }

    /// Learns the job id of each srun worker from squeue, by its job name; records the submission's workers.
    private func learnJobs(_ number: Int, names: [String], processes: [SpawnedProcess], reason: String, scriptPath: String) throws {
        let workers = names.count
        let timeout = options.polling.commandTimeout
        var ids: [Int: String] = [:]
        var gone: [Int: Int32] = [:]
        let started = Date()
        var pause = 0.003
        while ids.count + gone.count < workers {
            // Which srun processes had ended before squeue was asked: one ended and still unlisted never had a job.
            let ended = Dictionary(uniqueKeysWithValues: (0..<workers).compactMap { i in processes[i].exitStatus().map { (i, $0) } })
            let args = ["-h", "-t", "all", "--name=" + names.enumerated().filter { ids[$0.offset] == nil && gone[$0.offset] == nil }.map(\.element).joined(separator: ","),
                        "-o", "%j %i"]
            let out = try SlurmCommand.run("squeue", args, timeout: timeout)
            if out.status != 0 {
                // A controller that does not answer: srun keeps trying for a while, then says so itself (its words
                // are the better error); squeue's failure stops the submission only when no srun is left to tell.
                if ended.count == workers, ids.isEmpty, let first = ended.keys.min() {
                    throw srunEnded(number, first, status: ended[first]!, command: processes[first].command)
                }
                if Date().timeIntervalSince(started) > timeout {
                    throw SlurmError(command: (["squeue"] + args).map(shellQuote).joined(separator: " "), problem: "failed with exit status \(out.status)",
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
            if Date().timeIntervalSince(started) > timeout {
                throw SlurmError(command: processes[0].command, problem: "started no job Slurm lists within \(Int(timeout)) s", output: srunOutput(number, 0),
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
        let logs = layout.logs
        let learned = ids
        state.withLock {
            $0[number].jobIds = order.map { learned[$0]! }
            for i in order { $0[number].logs[learned[i]!] = "\(logs)/\(number)-\(i).log" }
            $0[number].elements = order.map { learned[$0]! }
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
}
