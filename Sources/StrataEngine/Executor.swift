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
        let failures = FailureBox()
        let next = Counter()
        let threads = min(workers, tasks.count)
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while true {
                let i = next.take()
                if i >= tasks.count { return }
                let spec = tasks[i]
                var attempt = 1
                while true {
                    do {
                        report(try TaskRunner.run(spec, projectRoot: projectRoot, attempt: attempt))
                        break
                    } catch {
                        if attempt > retries {
                            failures.add(TaskFailure(label: spec.label, attempts: attempt, error: "\(error)", log: nil))
                            break
                        }
                        attempt += 1
                    }
                }
            }
        }
        if let first = failures.first { throw first }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func take() -> Int { lock.withLock { defer { value += 1 }; return value } }
}

final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var failures: [TaskFailure] = []
    func add(_ f: TaskFailure) { lock.withLock { failures.append(f) } }
    var first: TaskFailure? { lock.withLock { failures.min { $0.label < $1.label } } }
}
