import Dispatch
import Foundation
import StrataCore
import StrataEngine
import StrataStore
#if canImport(Glibc)
import Glibc
#endif

/// The driver side of the worker pool: one set of workers per run, the tasks of each step published as tickets.
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
///
/// A value owned by the driver's thread (the executor keeps it behind a lock); only its `launcher` is shared with
/// the thread of the first submission.
struct WorkerPool: Sendable {
    /// What the driver knows of one worker.
    struct Element: Sendable {
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

    /// One step on the workers: its open tickets, its failures and the clock of its stall check.
    struct Step {
        let tasks: [TaskSpec]
        let retries: Int
        let report: @Sendable (TaskResult) -> Void
        let log: @Sendable (String, [String: JSONValue]) -> Void
        let cache: TaskCache
        var open: [Ticket: (task: TaskSpec, attempt: Int)] = [:]
        var failures: [TaskFailure] = []
        var taskSeconds = 0.0
        var lastProgress = Date()
        var lastLeases: Set<Lease> = []
        var unseen: Set<Ticket> = []
        var name: String { "\(tasks[0].stage)/\(tasks[0].step.rawValue)" }
    }

    let options: WorkerPoolExecutor.Options
    let run: String
    let projectRoot: String
    let layout: WorkerLayout
    let queue: TaskQueue
    let runLog: @Sendable (String, [String: JSONValue]) -> Void
    let launcher: WorkerLauncher
    var elements: [String: Element] = [:]
    var seq = 0
    var finished = false
    var lastQueueLook = Date.distantPast
    var queueFailingSince: Date?

    init(options: WorkerPoolExecutor.Options, run: String, projectRoot: String, log: @escaping @Sendable (String, [String: JSONValue]) -> Void) {
        self.options = options; self.run = run; self.projectRoot = projectRoot; self.runLog = log
        layout = WorkerLayout(projectRoot: projectRoot, run: run)
        queue = TaskQueue(layout: layout)
        launcher = WorkerLauncher(options: options, run: run, projectRoot: projectRoot, layout: layout, log: log)
    }

    var submissions: [WorkerSubmission] { launcher.submissions }

    /// Submits the first workers from a thread of their own: their scheduling overlaps the driver's planning. The
    /// folders and the submission's place are made before this returns: until sbatch answers, the driver sees a
    /// submission under way (it once took the run for one without workers, submitted a second array job under the
    /// same number and lost track of one of the two, with a task in it).
    func start() {
        runLog("slurm-workers-start", ["at": .number(Date().timeIntervalSince1970)])
        do { try layout.create() } catch {
            launcher.backgroundError.set(error)
            return
        }
        launcher.submitInBackground(reason: "run start")
    }

    /// Job ids with workers that may still run: an array job with one such element, an srun worker's own job.
    var activeJobIds: [String] {
        submissions.flatMap { s -> [String] in
            let alive = s.workerNames.filter { !(elements[$0]?.ended ?? false) }
            switch s.launcher {
            case .sbatch: return alive.isEmpty ? [] : s.jobIds
            case .srun: return alive
            }
        }
    }

    func cancel(_ ids: [String], extra: [String] = [], reason: String) {
        guard !ids.isEmpty else { return }
        let result = try? SlurmCommand.run("scancel", extra + ids, timeout: options.polling.commandTimeout)
        runLog("slurm-cancel", ["jobs": .array(ids.map { .string($0) }), "reason": .string(reason),
                                "status": result.map { .int(Int64($0.status)) } ?? .null])
    }

    /// Ends the run for the workers: the `finished` marker makes running workers exit; pending ones are cancelled
    /// (all of them when the run failed). Copies the workers' logs into the run log.
    mutating func finish(succeeded: Bool) {
        if finished { return }
        finished = true
        // Wait for a submission still under way, so no job outlives the run unseen.
        if let s = launcher.backgroundDone.value { _ = s.wait(timeout: .now() + options.polling.commandTimeout + 5) }
        queue.markFinished(run: run)
        let ids = activeJobIds
        // Running workers exit by themselves; only elements that may still be pending need cancelling (every element
        // the last look at the queue saw running is not: an element that started never goes back to pending).
        let mayPend = submissions.contains { sub in
            sub.workerNames.contains { w in elements[w].map { $0.runningSince == nil && !$0.ended } ?? true }
        }
        if succeeded {
            if mayPend { cancel(ids, extra: ["--state=PENDING"], reason: "the run is finished: workers still waiting for a node") }
        } else {
            cancel(ids, reason: "the run stopped")
        }
        for s in submissions {
            for w in s.workerNames {
                guard let path = s.logs[w], let bytes = try? FileIO.readAll(path) else { continue }
                runLog("slurm-job", ["job": .string(w), "state": .string(elements[w]?.state ?? "RUNNING"),
                                     "log_file": .string(path), "log": .string(String(decoding: bytes.suffix(16_384), as: UTF8.self))])
            }
        }
    }

    // MARK: One step

    /// Runs one step's tasks on the workers: publishes them, collects results as workers finish them, retries failed
    /// tasks and the tasks of workers that died, and submits new workers when none is left.
    mutating func runStep(_ tasks: [TaskSpec], retries: Int, report: @escaping @Sendable (TaskResult) -> Void,
                          log: @escaping @Sendable (String, [String: JSONValue]) -> Void, interrupt: InterruptFlag) throws {
        try launcher.checkBackground()
        var step = Step(tasks: tasks, retries: retries, report: report, log: log, cache: TaskCache(projectRoot: projectRoot))
        for t in tasks {
            if let done = step.cache.result(t.key) {
                report(TaskResult(key: done.key, label: done.label, items: done.items, seconds: 0, attempts: 0, cached: true))
            } else {
                try publish(t, attempt: 1, in: &step)
            }
        }
        let published = Date()
        let publishedCount = step.open.count
        defer {
            if publishedCount > 0 {
                log("slurm-step", ["step": .string(step.name), "tasks": .int(Int64(publishedCount)),
                                   "seconds": .number(Date().timeIntervalSince(published)), "task_seconds": .number(step.taskSeconds),
                                   "published_at": .number(published.timeIntervalSince1970)])
            }
        }
        var pause = 0.002
        while !step.open.isEmpty {
            _ = interrupt.wake.wait(timeout: .now() + pause)
            if interrupt.value != 0 {
                let ids = activeJobIds
                cancel(ids, reason: "interrupted")
                throw ExecutorInterrupted(signal: interrupt.value, cancelled: ids)
            }
            try launcher.checkBackground()
            if try collect(&step) { step.lastProgress = Date() }
            // Fast while results are coming (the step's last one is likely close), slower after a quiet second.
            pause = Date().timeIntervalSince(step.lastProgress) < 1 ? 0.002 : min(pause * 1.5, 0.02)
            if step.open.isEmpty { break }
            guard Date().timeIntervalSince(lastQueueLook) >= options.polling.interval else { continue }
            lastQueueLook = Date()
            try reconcile(&step)
        }
        if let first = step.failures.min(by: { $0.label < $1.label }) { throw first }
    }

    mutating func publish(_ t: TaskSpec, attempt: Int, in step: inout Step) throws {
        seq += 1
        let ticket = Ticket(seq: seq)
        try queue.publish(TicketPayload(task: t, attempt: attempt), as: ticket)
        step.open[ticket] = (t, attempt)
    }

    /// A try of `ticket` ended without a result: retry it or give up on it.
    mutating func retryOrFail(_ ticket: Ticket, why: String, logPath: String?, in step: inout Step) throws {
        guard let (t, attempt) = step.open.removeValue(forKey: ticket) else { return }
        if let r = step.cache.result(t.key) { step.report(r); return }
        if attempt <= step.retries {
            step.log("task-retry", ["label": .string(t.label), "attempt": .int(Int64(attempt)), "error": .string(why)])
            try publish(t, attempt: attempt + 1, in: &step)
        } else {
            step.failures.append(TaskFailure(label: t.label, attempts: attempt, error: why, log: logPath))
            step.log("task-failed", ["label": .string(t.label), "attempts": .int(Int64(attempt)), "error": .string(why)])
        }
    }

    /// Reports the tasks workers finished and retries the ones they reported failed. Returns whether any did.
    mutating func collect(_ step: inout Step) throws -> Bool {
        var progressed = false
        for ticket in queue.done() {
            guard let (t, _) = step.open[ticket] else { queue.removeDone(ticket); continue }
            // The result is written before the ticket moves; a lagging filesystem may show it a little later.
            guard let r = step.cache.result(t.key) else { continue }
            step.open[ticket] = nil
            queue.removeDone(ticket)
            step.taskSeconds += r.seconds
            step.report(r)
            progressed = true
        }
        for (ticket, failure) in queue.takeFailures() {
            guard let failure, step.open[ticket] != nil else { continue }
            let why = "on Slurm worker job \(failure.worker) (\(failure.host)): \(failure.error)"
            try retryOrFail(ticket, why: why, logPath: logPath(worker: failure.worker), in: &step)
            progressed = true
        }
        return progressed
    }

    /// The look at the queue every `poll_interval`: takes back the leases of workers that ended, republishes tickets
    /// that went missing, submits workers when none is left, and stops the run when nothing moved for `stall_timeout`.
    mutating func reconcile(_ step: inout Step) throws {
        let look = try lookAtWorkers()
        // Where every open ticket is, listed in the order tickets move (a ticket moving on while we list is still
        // seen in a later folder).
        let queued = queue.queued()
        let leases = queue.leases()
        let finishing = queue.finishing()
        var claimed: Set<Ticket> = []
        var holders: Set<String> = []
        for lease in leases {
            claimed.insert(lease.ticket)
            // The lease of a worker that ended (found now or earlier: a lease can show up after its worker was
            // counted lost) or that Slurm restarted: its task goes back to the queue as its next attempt. The
            // revoke decides: when it fails, the worker moved the ticket on itself.
            let why: String
            if let e = elements[lease.worker], e.ended { why = e.why } else if let w = look.restarted[lease.worker] { why = w } else {
                holders.insert(lease.worker)
                continue
            }
            guard queue.revoke(lease) else { continue }
            try retryOrFail(lease.ticket, why: why, logPath: logPath(worker: lease.worker), in: &step)
            step.lastProgress = Date()
        }
        // A ticket in no folder at two looks in a row (it cannot happen by the protocol; a worker that could not
        // read its ticket drops it): publish it again, at the same attempt.
        let nowhere = Set(step.open.keys).subtracting(queued).subtracting(claimed).subtracting(finishing)
        for ticket in nowhere.intersection(step.unseen).sorted() {
            guard let (t, attempt) = step.open.removeValue(forKey: ticket) else { continue }
            step.log("slurm-ticket-missing", ["label": .string(t.label), "ticket": .string(ticket.fileName), "attempt": .int(Int64(attempt))])
            if let r = step.cache.result(t.key) { step.report(r) } else { try publish(t, attempt: attempt, in: &step) }
        }
        step.unseen = nowhere.subtracting(step.unseen)
        if step.open.isEmpty { return }
        if try ensureWorkers() { step.lastProgress = Date() }
        // Something moves: a task was claimed or released, a task is running (its worker beats), a worker waits for
        // its turn in Slurm's queue or a submission is under way, or a worker ended (its tasks were re-queued and
        // workers resubmitted above).
        let leaseSet = Set(leases)
        if leaseSet != step.lastLeases || !holders.isDisjoint(with: look.beating) || look.waiting || look.ended { step.lastProgress = Date() }
        step.lastLeases = leaseSet
        let stalled = Date().timeIntervalSince(step.lastProgress)
        if options.timeouts.stall > 0, stalled > options.timeouts.stall {
            throw stallError(seconds: stalled, open: step.open.count, queued: queued.count, leases: leases, step: step.name)
        }
    }

    /// Why the run stops after `seconds` without anything moving: the tickets, the leases and every live worker.
    func stallError(seconds: Double, open: Int, queued: Int, leases: [Lease], step: String) -> StageError {
        let now = Date()
        let live = elements.filter { !$0.value.ended }.sorted { $0.key < $1.key }.map { w, e in
            "\(w) \(e.state)\(e.reason.isEmpty || e.reason == "None" ? "" : " (\(e.reason))")" + (e.sawBeat ? ", heartbeat \(Int(now.timeIntervalSince(e.beatChanged))) s ago" : ", no heartbeat")
        }
        return StageError("""
            Slurm workers mode: step \(step) has \(open) task(s) open and nothing moved for \(Int(seconds)) s (executor.stall_timeout): \
            \(queued) waiting in \(layout.queue), leases \(leases.isEmpty ? "none" : leases.map(\.fileName).sorted().joined(separator: ", ")); \
            workers: \(live.isEmpty ? "none alive" : live.joined(separator: "; ")). \
            Check that the nodes see \(layout.dir) (the project on a filesystem they share with this machine, new files visible \
            without a long client cache), the workers' logs in \(layout.logs), and `squeue -j \(activeJobIds.joined(separator: ","))`; \
            raise executor.stall_timeout (0: never) if this is expected.
            """)
    }

    func logPath(worker: String) -> String? {
        submissions.lazy.compactMap { $0.logs[worker] }.first
    }

    // MARK: The workers' health

    /// Asks the queue about every worker that may still run and reads their heartbeats; marks the ones found ended
    /// (with why: the state, exit code and end of the log; a heartbeat stopped for `lease_timeout` while Slurm says
    /// RUNNING, after which the job is cancelled; or gone from squeue while its heartbeat stood still).
    mutating func lookAtWorkers() throws -> Look {
        var look = Look()
        let subs = submissions
        if subs.contains(where: \.underWay) { look.waiting = true }
        let ids = activeJobIds
        guard !ids.isEmpty else { return look }
        let states: [String: SlurmQueue.Entry]
        do {
            states = try SlurmQueue.look(ids, timeout: options.polling.commandTimeout)
            queueFailingSince = nil
        } catch {
            // A controller that restarts or is briefly overloaded is not a failed run: keep trying for a while.
            let since = queueFailingSince ?? Date()
            queueFailingSince = since
            if Date().timeIntervalSince(since) > max(30, 2 * options.polling.commandTimeout) { throw error }
            look.waiting = true
            return look
        }
        let now = Date()
        var hung: [String] = []
        // Only the submissions just asked about: one whose job id came after the question is not missing.
        for s in subs where s.jobIds.contains(where: ids.contains) {
            for w in s.workerNames {
                var e = elements[w] ?? Element()
                if e.ended { continue }
                let endedWhy = update(&e, worker: w, entry: states[w], now: now, look: &look, hung: &hung)
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

    /// Reads worker `w`'s heartbeat and what squeue said of it (`entry`, nil when not listed) into `e`; returns why it
    /// ended, when it did.
    func update(_ e: inout Element, worker w: String, entry: SlurmQueue.Entry?, now: Date, look: inout Look, hung: inout [String]) -> String? {
        let beat = (try? FileIO.readAll("\(layout.heartbeats)/\(w)")).map { String(decoding: $0, as: UTF8.self) } ?? ""
        if !beat.isEmpty { e.sawBeat = true }
        if beat != e.beat {
            e.beat = beat
            e.beatChanged = now
            if !beat.isEmpty { look.beating.insert(w) }
        }
        guard let entry else {
            // Not listed: purged by the controller, or lost with it. Only a worker missing for a while whose
            // heartbeat stood still meanwhile counts as gone.
            let since = e.missingSince ?? now
            e.missingSince = since
            guard now.timeIntervalSince(max(since, e.beatChanged)) > max(3 * options.polling.interval, 10) else { return nil }
            e.state = "LOST"
            return "Slurm worker job \(w) disappeared from the queue (squeue has not listed it for \(Int(now.timeIntervalSince(since))) s and its heartbeat stood still)"
        }
        let state = entry.state
        e.missingSince = nil
        if e.runningSince != nil, SlurmStates.requeued.contains(state) {
            // Slurm put it back in the queue (its node failed): the worker that ran is gone, a new one will start
            // under the same name.
            look.restarted[w] = "Slurm worker job \(w) was requeued by Slurm (\(state)\(entry.reason.isEmpty ? "" : ", \(entry.reason)")) while it ran"
            e.runningSince = nil
        }
        e.state = state
        e.reason = entry.reason
        if state == "RUNNING" && e.runningSince == nil { e.runningSince = now }
        if state == "PENDING" || state == "CONFIGURING" {
            let since = e.pendingSince ?? now
            e.pendingSince = since
            if state == "CONFIGURING" || SlurmStates.waitingReasons.contains(entry.reason) {
                look.waiting = true
            } else if !e.warned, now.timeIntervalSince(since) > 30 {
                e.warned = true
                runLog("slurm-pending", ["job": .string(w), "reason": .string(entry.reason), "seconds": .int(Int64(now.timeIntervalSince(since)))])
            }
        } else {
            e.pendingSince = nil
        }
        if SlurmStates.ended.contains(state) || state == "COMPLETING" {
            // COMPLETING: the batch script (which is the worker: it execs strata) has exited.
            return failureText(w, state: state)
        }
        if state == "RUNNING", let since = e.runningSince, now.timeIntervalSince(max(since, e.beatChanged)) > options.timeouts.lease {
            e.state = "LOST"
            hung.append(w)
            return "Slurm worker job \(w) stopped its heartbeat for \(Int(options.timeouts.lease)) s while Slurm called it RUNNING (node lost or process hung); cancelled it"
        }
        return nil
    }

    /// Submits new workers when no worker of the run may still run (every element ended) and tasks wait; stops the
    /// run when workers keep dying before they take any task (a binary missing on the nodes, a bad sbatch option).
    /// Returns whether it submitted.
    func ensureWorkers() throws -> Bool {
        guard launcher.backgroundError.error == nil else { return false }
        let subs = submissions
        // A submission still under way counts as alive.
        if subs.contains(where: \.underWay) { return false }
        let alive = subs.contains { s in s.workerNames.contains { !(elements[$0]?.ended ?? false) } }
        if alive { return false }
        // Submissions in a row (the latest ones) whose every worker ended without a single heartbeat.
        let tracked = subs.filter { $0.elements != nil }
        let failedInARow = tracked.reversed().prefix { s in s.workerNames.allSatisfy { !(elements[$0]?.sawBeat ?? false) } }.count
        if failedInARow >= 2, let last = tracked.last, let first = last.workerNames.first {
            let why = elements[first]?.why ?? failureText(first, state: "ended")
            throw SlurmError(command: "\(last.launcher.rawValue) \(last.script)", problem: "started workers that all ended before taking a task: \(why)", output: "",
                             check: "that executor.strata_binary (\(options.job.strataBinary)) runs on the compute nodes and \(projectRoot) is on a filesystem they share; see the log \(layout.logs)/\(last.number)-0.log")
        }
        try launcher.submit(launcher.reserve(reason: "no worker left"))
        return true
    }

    /// Why a worker's job ended: its state, exit code and the end of its log.
    func failureText(_ worker: String, state: String) -> String {
        var s = "Slurm worker job \(worker) ended \(state)"
        let details = SlurmQueue.exitDetails(worker, timeout: options.polling.commandTimeout, reasons: false)
        if !details.isEmpty { s += " (" + details.joined(separator: ", ") + ")" }
        if let path = logPath(worker: worker), let bytes = try? FileIO.readAll(path) {
            let lines = String(decoding: bytes.suffix(4096), as: UTF8.self).split(separator: "\n").suffix(5)
            if !lines.isEmpty { s += "; its log ends: " + lines.joined(separator: " | ") }
        }
        return s
    }
}
