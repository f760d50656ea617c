import Dispatch
import Foundation
import StrataCore
import StrataStore

/// A task that still failed after its retries.
public struct TaskFailure: Error, CustomStringConvertible, Sendable {
    public var label: String
    public var attempts: Int
    public var error: String
    public var log: String?
    public init(label: String, attempts: Int, error: String, log: String? = nil) {
        self.label = label; self.attempts = attempts; self.error = error; self.log = log
    }
    public var description: String {
        "task \(label) failed after \(attempts) attempt(s): \(error)" + (log.map { "\n  log: \($0)" } ?? "")
    }
}

/// Runs tasks somewhere. The local executor uses threads on this machine; a cluster executor submits the same
/// `TaskSpec`s as jobs that call `strata task run`. Either way the task code is `TaskRunner.run`.
public protocol Executor: Sendable {
    var name: String { get }
    /// Runs every task (skipping finished ones), retrying failures, and reports each result as it lands.
    /// Throws the first `TaskFailure` after all other tasks have finished (their work is kept).
    func execute(_ tasks: [TaskSpec], projectRoot: String, retries: Int, report: @escaping @Sendable (TaskResult) -> Void) throws
    /// The same, with a sink for events worth keeping in the run log (submissions, failures, retries, task logs).
    func execute(_ tasks: [TaskSpec], projectRoot: String, retries: Int, report: @escaping @Sendable (TaskResult) -> Void,
                 log: @escaping @Sendable (String, [String: JSONValue]) -> Void) throws
    /// Called once when a run starts, before it plans anything (a cluster executor starts its workers here, so their
    /// start-up overlaps the planning). Must not block for long.
    func begin(run: String, projectRoot: String, log: @escaping @Sendable (String, [String: JSONValue]) -> Void)
    /// Called once when the run's last step is over (or the run failed): release what `begin` started.
    func finish(succeeded: Bool)
}

extension Executor {
    public func begin(run: String, projectRoot: String, log: @escaping @Sendable (String, [String: JSONValue]) -> Void) {}
    public func finish(succeeded: Bool) {}

    public func execute(_ tasks: [TaskSpec], projectRoot: String, retries: Int, report: @escaping @Sendable (TaskResult) -> Void,
                        log: @escaping @Sendable (String, [String: JSONValue]) -> Void) throws {
        try execute(tasks, projectRoot: projectRoot, retries: retries, report: report)
    }
}

/// The run was stopped by a signal (Ctrl-C or SIGTERM); the executor cancelled what it had started.
public struct ExecutorInterrupted: Error, CustomStringConvertible, Sendable {
    public var signal: Int32
    public var cancelled: [String]
    public init(signal: Int32, cancelled: [String]) { self.signal = signal; self.cancelled = cancelled }
    public var description: String {
        "interrupted by \(signal == SIGINT ? "Ctrl-C (SIGINT)" : "SIGTERM")"
            + (cancelled.isEmpty ? "" : "; cancelled Slurm job(s) \(cancelled.joined(separator: ", "))")
    }
}

/// Runs tasks on a pool of worker threads.
public struct LocalExecutor: Executor {
    public let workers: Int
    public var name: String { "local" }

    public init(workers: Int) { self.workers = max(1, workers) }

    public func execute(_ tasks: [TaskSpec], projectRoot: String, retries: Int, report: @escaping @Sendable (TaskResult) -> Void) throws {
        if tasks.isEmpty { return }
        let failures = Locked<[TaskFailure]>([])
        let next = Locked(0)
        DispatchQueue.concurrentPerform(iterations: min(workers, tasks.count)) { _ in
            while true {
                let i = next.withLock { n in defer { n += 1 }; return n }
                if i >= tasks.count { return }
                switch runWithRetries(tasks[i], projectRoot: projectRoot, retries: retries) {
                case .success(let r): report(r)
                case .failure(let f): failures.withLock { $0.append(f) }
                }
            }
        }
        if let first = failures.value.min(by: { $0.label < $1.label }) { throw first }
    }
}

/// Runs tasks one by one on the calling thread, in the order given: deterministic, for tests and debugging (a
/// breakpoint in a stage stops the only thread that runs it). Failures are retried and reported like the local
/// executor's.
public struct InlineExecutor: Executor {
    public var name: String { "inline" }

    public init() {}

    public func execute(_ tasks: [TaskSpec], projectRoot: String, retries: Int, report: @escaping @Sendable (TaskResult) -> Void) throws {
        var failures: [TaskFailure] = []
        for spec in tasks {
            switch runWithRetries(spec, projectRoot: projectRoot, retries: retries) {
            case .success(let r): report(r)
            case .failure(let f): failures.append(f)
            }
        }
        if let first = failures.min(by: { $0.label < $1.label }) { throw first }
    }
}

/// Runs one task in this process, trying it again up to `retries` times.
func runWithRetries(_ spec: TaskSpec, projectRoot: String, retries: Int) -> Result<TaskResult, TaskFailure> {
    var attempt = 1
    while true {
        do {
            return .success(try TaskRunner.run(spec, projectRoot: projectRoot, attempt: attempt))
        } catch {
            if attempt > retries { return .failure(TaskFailure(label: spec.label, attempts: attempt, error: "\(error)", log: nil)) }
            attempt += 1
        }
    }
}
