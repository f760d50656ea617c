import Dispatch
import Foundation
import StrataCore
import StrataEngine
import StrataStore
#if canImport(Glibc)
import Glibc
#endif

/// Set by the worker's SIGTERM handler.
nonisolated(unsafe) private var workerTerminating: sig_atomic_t = 0

/// The worker side: `strata task worker RUN` inside a Slurm job. Claims tasks from the run's queue, runs each in this
/// process with the local executor's code (`TaskRunner.run`), and exits when the driver says the run is over or
/// nothing came for `idleTimeout` seconds.
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
        let queue = TaskQueue(layout: layout)
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
            if queue.isFinished { say("the run is finished: exiting after \(ran) task(s)"); return ran }
            if workerTerminating != 0 { say("SIGTERM (job cancelled or at its time limit): exiting after \(ran) task(s)"); return ran }
            guard let lease = queue.claim(as: me) else {
                let idle = Date().timeIntervalSince(idleSince)
                if idle > idleTimeout { say("no task for \(Int(idleTimeout)) s: exiting after \(ran) task(s)"); return ran }
                // Poll fast while work is likely (the driver publishes the next step within moments of the last
                // result: a directory listing every 2 ms for the first 2 s), slower as the run stays quiet.
                usleep(UInt32(pause * 1_000_000))
                pause = idle < 2 ? 0.002 : idle < 10 ? min(pause * 1.25, 0.02) : 0.5
                continue
            }
            pause = 0.002
            let ticket: TicketPayload
            do { ticket = try queue.read(lease) } catch {
                say("cannot read task \(lease.ticket): \(error)")
                queue.drop(lease)
                continue
            }
            beat.current = ticket.task.label
            do {
                let r = try TaskRunner.run(ticket.task, projectRoot: projectRoot, attempt: ticket.attempt)
                say("\(r.label) (attempt \(ticket.attempt)): \(r.items) items, \(r.cached ? "cached" : String(format: "%.2f s", r.seconds))")
                queue.complete(lease)
            } catch {
                say("task \(ticket.task.label) (attempt \(ticket.attempt)) failed: \(error)")
                queue.fail(lease, WorkerFailure(worker: me, host: host, error: "\(error)"))
            }
            beat.current = ""
            ran += 1
            idleSince = Date()
        }
    }
}

/// Rewrites a worker's heartbeat file every second from a thread of its own, so a long task keeps its lease.
final class Heartbeat: Sendable {
    struct State {
        var current = ""
        var stopped = false
        var counter = 0
    }

    let path: String
    let host: String
    private let state = Locked(State())
    private let thread = DispatchSemaphore(value: 0)

    init(path: String, host: String) { self.path = path; self.host = host }

    /// The label of the task the worker runs ("" between tasks).
    var current: String {
        get { state.value.current }
        set { state.withLock { $0.current = newValue } }
    }

    func start() {
        write()
        Thread { [self] in
            while !state.value.stopped {
                usleep(1_000_000)
                if state.value.stopped { break }
                write()
            }
            thread.signal()
        }.start()
    }

    func stop() {
        state.withLock { $0.stopped = true }
        _ = thread.wait(timeout: .now() + 2)
        unlink(path)
    }

    private func write() {
        let host = self.host
        let line = state.withLock { s -> String in
            s.counter += 1
            return "\(s.counter) \(host) \(getpid()) \(s.current)\n"
        }
        try? FileIO.writeAtomically(path, Array(line.utf8), sync: false)
    }
}
