import Foundation
import StrataCore
import StrataEngine
#if canImport(Glibc)
import Glibc
#endif

/// Runs a run's tasks on a pool of Slurm workers (`mode: workers`, the default): one set of worker jobs per run,
/// started when the run begins (by srun, one job per worker, or by one sbatch array job), each running
/// `strata task worker` and taking the tasks of every step from the shared filesystem (`TaskQueue`).
///
/// The task code is the local executor's (`TaskRunner.run`); only where it runs changes. The driver's side of the
/// protocol is `WorkerPool`, the workers' is `SlurmWorker`.
public struct WorkerPoolExecutor: Executor {
    public struct Options: Sendable, Equatable {
        public var job: SlurmJobOptions
        public var polling: SlurmPolling
        /// One srun per worker (started at once) or one sbatch array job.
        public var launcher: ProjectSpec.Slurm.Launcher
        /// Workers per submission; nil: the partition's CPUs divided by `cpus_per_task` (at most 64 with srun, 256
        /// with sbatch).
        public var workers: Int?
        public var timeouts: WorkerTimeouts

        public init(job: SlurmJobOptions = SlurmJobOptions(), polling: SlurmPolling = SlurmPolling(), launcher: ProjectSpec.Slurm.Launcher = .srun,
                    workers: Int? = nil, timeouts: WorkerTimeouts = WorkerTimeouts()) {
            self.job = job; self.polling = polling; self.launcher = launcher; self.workers = workers; self.timeouts = timeouts
        }

        /// From `strata.yaml`'s `executor:` block.
        public init(_ spec: ProjectSpec.Executor, strataBinary: String? = nil) {
            let s = spec.slurm
            self.init(job: SlurmJobOptions(s, strataBinary: strataBinary), polling: SlurmPolling(interval: s.pollInterval, commandTimeout: s.commandTimeout),
                      launcher: s.launcher, workers: spec.workers,
                      timeouts: WorkerTimeouts(lease: s.leaseTimeout, idle: s.idleTimeout, stall: s.stallTimeout))
        }
    }

    public let options: Options
    public var name: String { "slurm" }
    /// The run's workers, from `begin` to `finish`. Only the driver's thread uses it (the lock makes that checked).
    private let pool = Locked<WorkerPool?>(nil)

    public init(options: Options) { self.options = options }

    public func begin(run: String, projectRoot: String, log: @escaping @Sendable (String, [String: JSONValue]) -> Void) {
        let p = WorkerPool(options: options, run: run, projectRoot: projectRoot, log: log)
        p.start()
        pool.withLock { $0 = p }
    }

    public func finish(succeeded: Bool) { pool.withLock { $0?.finish(succeeded: succeeded) } }

    public func execute(_ tasks: [TaskSpec], projectRoot: String, retries: Int, report: @escaping @Sendable (TaskResult) -> Void) throws {
        try execute(tasks, projectRoot: projectRoot, retries: retries, report: report, log: { _, _ in })
    }

    public func execute(_ tasks: [TaskSpec], projectRoot: String, retries: Int, report: @escaping @Sendable (TaskResult) -> Void,
                        log: @escaping @Sendable (String, [String: JSONValue]) -> Void) throws {
        if tasks.isEmpty { return }
        if pool.value == nil { begin(run: tasks[0].run, projectRoot: projectRoot, log: log) }
        try pool.withLock { pool in
            guard var p = pool else { return }
            defer { pool = p }
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
        }
    }
}
