import Foundation
import StrataCore
import StrataEngine
import StrataStore
#if canImport(Glibc)
import Glibc
#endif

/// What every Slurm job of a run asks for and runs: the resources given to sbatch or srun and the `strata` binary.
public struct SlurmJobOptions: Sendable, Equatable {
    public var partition: String?
    public var timeLimit: String?
    public var cpusPerTask: Int?
    public var memPerTask: String?
    /// `sbatch_args`: passed as they are, after Strata's own options.
    public var extraArgs: [String]
    /// The `strata` binary the jobs run (the same path on every node).
    public var strataBinary: String

    public init(partition: String? = nil, timeLimit: String? = nil, cpusPerTask: Int? = nil, memPerTask: String? = nil,
                extraArgs: [String] = [], strataBinary: String = currentBinary()) {
        self.partition = partition; self.timeLimit = timeLimit; self.cpusPerTask = cpusPerTask; self.memPerTask = memPerTask
        self.extraArgs = extraArgs; self.strataBinary = strataBinary
    }

    /// From `strata.yaml`'s `executor:` block.
    public init(_ spec: ProjectSpec.Slurm, strataBinary: String? = nil) {
        self.init(partition: spec.partition, timeLimit: spec.timeLimit, cpusPerTask: spec.cpusPerTask, memPerTask: spec.memPerTask,
                  extraArgs: spec.sbatchArgs, strataBinary: spec.strataBinary ?? strataBinary ?? currentBinary())
    }

    /// The options both sbatch and srun get for every job (beside its name, output and array or task count):
    /// `--chdir`, then partition, time, CPUs and memory when set, then `extraArgs`.
    public func arguments(projectRoot: String) -> [String] {
        var args = ["--chdir=\(projectRoot)"]
        if let p = partition { args.append("--partition=\(p)") }
        if let t = timeLimit { args.append("--time=\(t)") }
        if let c = cpusPerTask { args.append("--cpus-per-task=\(c)") }
        if let m = memPerTask { args.append("--mem=\(m)") }
        return args + extraArgs
    }
}

/// How often the driver asks Slurm about its jobs, and how long one client command may take.
public struct SlurmPolling: Sendable, Equatable {
    /// Seconds between two looks at the queue (`squeue`).
    public var interval: Double
    /// Seconds a client command (sbatch, squeue, scancel, …) may take before it counts as failed.
    public var commandTimeout: Double

    public init(interval: Double = 1, commandTimeout: Double = 60) { self.interval = interval; self.commandTimeout = commandTimeout }
}

/// The worker pool's clocks.
public struct WorkerTimeouts: Sendable, Equatable {
    /// Seconds without a heartbeat after which a worker Slurm calls running counts as lost.
    public var lease: Double
    /// Seconds a worker waits for a task before it exits by itself.
    public var idle: Double
    /// Seconds with tasks waiting and nothing moving before the run fails with a diagnosis; 0: never.
    public var stall: Double

    public init(lease: Double = 30, idle: Double = 120, stall: Double = 300) { self.lease = lease; self.idle = idle; self.stall = stall }
}

/// The absolute path of the running executable.
public func currentBinary() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    if n > 0 { return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    return (CommandLine.arguments.first.map { Walker.absolute($0) }) ?? "strata"
}

/// Builds the Slurm executor `strata.yaml` asks for.
public enum SlurmExecutors {
    /// The worker pool (`mode: workers`, the default) or one array job per step (`mode: per-step`); `workers`
    /// (`--workers`) overrides `executor.workers`.
    public static func make(_ spec: ProjectSpec.Executor, workers: Int? = nil) -> any Executor {
        switch spec.slurm.mode {
        case .workers:
            var options = WorkerPoolExecutor.Options(spec)
            if let workers { options.workers = workers }
            return WorkerPoolExecutor(options: options)
        case .perStep:
            var options = SlurmArrayExecutor.Options(spec)
            if let workers { options.maxRunning = workers }
            return SlurmArrayExecutor(options: options)
        }
    }
}
