import Foundation
import StrataCore
import StrataEngine
import StrataStore
#if canImport(Glibc)
import Glibc
#endif

/// The scripts Strata hands to sbatch and srun. Pure text: each names what it runs and how it was submitted, so a
/// user reading `.strata/runs/<run>/…` can run it again by hand.
public enum SlurmScript {
    /// A step's array job (per-step executor): array job `i` runs the tasks listed at position `i` with `attempt`.
    public static func arrayStep(binary: String, projectRoot: String, task: TaskSpec, groups: [[Int]], attempt: Int, sbatch: [String]) -> String {
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

    /// The worker pool's array job (sbatch launcher): each array element is one worker.
    public static func arrayWorkers(run: String, number: Int, reason: String, sbatch: [String], queue: String, binary: String,
                                    idleTimeout: Double, projectRoot: String) -> String {
        """
        #!/bin/bash
        # Strata: the workers of run \(run) (submission \(number): \(reason)).
        # Submitted as: sbatch \(sbatch.map(shellQuote).joined(separator: " ")) <this file>
        # Each array element is one worker: it claims tasks from \(queue) until the run is finished.
        echo "strata task worker: job ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} on $(hostname)"
        \(workerCommand(run: run, binary: binary, idleTimeout: idleTimeout, projectRoot: projectRoot))

        """
    }

    /// One worker of the pool (srun launcher): every worker of a submission runs this script under its own srun.
    public static func srunWorker(run: String, number: Int, reason: String, srun: [String], queue: String, binary: String,
                                  idleTimeout: Double, projectRoot: String) -> String {
        """
        #!/bin/bash
        # Strata: a worker of run \(run) (submission \(number): \(reason)).
        # Started as: srun --job-name=strata-workers-\(run)-\(number).<worker> --output=<its log> \(srun.map(shellQuote).joined(separator: " ")) <this file>
        # It claims tasks from \(queue) until the run is finished.
        echo "strata task worker: job ${SLURM_JOB_ID} on $(hostname)"
        \(workerCommand(run: run, binary: binary, idleTimeout: idleTimeout, projectRoot: projectRoot))

        """
    }

    static func workerCommand(run: String, binary: String, idleTimeout: Double, projectRoot: String) -> String {
        "exec \(shellQuote(binary)) task worker \(shellQuote(run)) --idle-timeout \(Int(idleTimeout)) -C \(shellQuote(projectRoot))"
    }

    /// Writes a script atomically and makes it executable.
    static func write(_ script: String, to path: String) throws {
        try FileIO.writeAtomically(path, Array(script.utf8), sync: false)
        chmod(path, 0o755)
    }
}
