import Foundation
import StrataCore
import StrataEngine
@testable import StrataSlurm
import XCTest

/// The pure parts of the Slurm executor: how tasks are grouped into array jobs, the sbatch arguments and the script.
/// (The executor itself is tested against a real cluster in StrataCLITests/SlurmTests.)
final class SlurmScriptTests: XCTestCase {
    func testTasksArePackedIntoArrayJobsInOrder() {
        XCTAssertEqual(SlurmArrayExecutor.groups([0, 1, 2, 3, 4], size: 2), [[0, 1], [2, 3], [4]])
        XCTAssertEqual(SlurmArrayExecutor.groups([3, 7], size: 1), [[3], [7]])
        var o = SlurmArrayExecutor.Options(job: SlurmJobOptions(strataBinary: "/bin/strata"))
        XCTAssertEqual(SlurmArrayExecutor.tasksPerJob(count: 100, options: o), 1, "default: one task per array job")
        o.maxRunning = 8
        XCTAssertEqual(SlurmArrayExecutor.tasksPerJob(count: 100, options: o), 13, "a step packed into `workers` jobs")
        o.tasksPerJob = 5
        XCTAssertEqual(SlurmArrayExecutor.tasksPerJob(count: 100, options: o), 5, "tasks_per_job wins")
    }

    func testSbatchArgumentsCarryTheExecutorSettings() throws {
        let spec = try ProjectSpec.decode(yaml: """
            version: 1
            name: x
            modalities: [text]
            formats: {text: [jsonl]}
            executor:
              kind: slurm
              workers: 4
              partition: batch
              time_limit: 1:30:00
              cpus_per_task: 2
              mem_per_task: 4g
              sbatch_args: ["--account=ml", "--qos=low"]
              strata_binary: /shared/bin/strata
            """)
        let options = SlurmArrayExecutor.Options(spec.executor)
        XCTAssertEqual(options.job.strataBinary, "/shared/bin/strata")
        let args = SlurmArrayExecutor.sbatchArguments(options: options, jobName: "strata-near-annotate", arrayJobs: 10,
                                                 logPattern: "/p/.strata/runs/r/near/slurm/annotate-0-%a.log", projectRoot: "/p")
        XCTAssertEqual(args, ["--parsable", "--job-name=strata-near-annotate", "--array=0-9%4", "--output=/p/.strata/runs/r/near/slurm/annotate-0-%a.log",
                              "--chdir=/p", "--partition=batch", "--time=1:30:00", "--cpus-per-task=2", "--mem=4G", "--account=ml", "--qos=low"])
    }

    func testTheScriptRunsTheTasksOfItsArrayIndexWithQuotedPaths() throws {
        let task = try JSONDecoder().decode(TaskSpec.self, from: Data(#"""
            {"run": "run-1", "stage": "near dups", "uses": "dedup.near", "params": "{}", "step": "annotate", "index": 0,
             "inputs": [], "annotations": [], "pairs": [], "key": "k"}
            """#.utf8))
        let script = SlurmScript.arrayStep(binary: "/opt/my tools/strata", projectRoot: "/data/it's here", task: task, groups: [[0, 1], [2]],
                                            attempt: 2, sbatch: ["--parsable"])
        XCTAssertTrue(script.hasPrefix("#!/bin/bash\n"))
        XCTAssertTrue(script.contains("TASKS=(0,1 2)\n"), script)
        XCTAssertTrue(script.contains(#"exec '/opt/my tools/strata' task run run-1 'near dups' annotate "${TASKS[$SLURM_ARRAY_TASK_ID]}" --attempt 2 -C '/data/it'\''s here'"#), script)
    }

    func testSqueueLinesAndScontrolExitsAreRead() {
        // `squeue -h -r -t all -o '%F %K %T %r'`: one line per array element, pending ones included.
        let states = SlurmQueue.parse("64 0 PENDING Resources\n64 1 RUNNING None\n62 0 COMPLETING None\n61 2 FAILED NonZeroExitCode\n\n")
        XCTAssertEqual(states["64_0"], SlurmQueue.Entry(state: "PENDING", reason: "Resources"))
        XCTAssertEqual(states["64_1"]?.state, "RUNNING")
        XCTAssertEqual(states["62_0"]?.state, "COMPLETING")
        XCTAssertEqual(states["61_2"]?.reason, "NonZeroExitCode")
        XCTAssertEqual(states.count, 4)
        // A job outside an array (an srun worker) has no index: it is listed under its job id.
        let srun = SlurmQueue.parse("70 N/A RUNNING None\n71 N/A PENDING Resources\n")
        XCTAssertEqual(srun["70"]?.state, "RUNNING")
        XCTAssertEqual(srun["71"], SlurmQueue.Entry(state: "PENDING", reason: "Resources"))
        XCTAssertNil(srun["70_N/A"])
        let killed = "JobId=217 ArrayJobId=217 ArrayTaskId=1 JobState=FAILED Reason=NonZeroExitCode ExitCode=0:9 RunTime=00:00:01"
        XCTAssertEqual(SlurmQueue.exitDetails(scontrol: killed, reasons: true), ["killed by signal 9"])
        let timedOut = "JobId=5 JobState=TIMEOUT Reason=TimeLimit ExitCode=0:15"
        XCTAssertEqual(SlurmQueue.exitDetails(scontrol: timedOut, reasons: true), ["reason TimeLimit", "killed by signal 15"])
        XCTAssertEqual(SlurmQueue.exitDetails(scontrol: timedOut, reasons: false), ["killed by signal 15"])
        XCTAssertEqual(SlurmQueue.exitDetails(scontrol: "JobId=6 JobState=FAILED Reason=NonZeroExitCode ExitCode=3:0", reasons: true), ["exit status 3"])
    }
}

/// The worker pool's pure pieces: which executor strata.yaml picks, the options every job gets, the worker scripts
/// and sbatch's answer.
final class WorkerPoolPiecesTests: XCTestCase {
    func spec(_ extra: String) throws -> ProjectSpec.Executor {
        try ProjectSpec.decode(yaml: """
            version: 1
            name: x
            modalities: [text]
            formats: {text: [jsonl]}
            executor:
              kind: slurm
              partition: batch
              strata_binary: /shared/bin/strata
            \(extra)
            """).executor
    }

    func testTheModePicksOneOfTheTwoExecutorsWithItsOptions() throws {
        let workers = try XCTUnwrap(SlurmExecutors.make(try spec("  lease_timeout: 45\n  launcher: sbatch"), workers: 3) as? WorkerPoolExecutor)
        XCTAssertEqual(workers.options, WorkerPoolExecutor.Options(job: SlurmJobOptions(partition: "batch", strataBinary: "/shared/bin/strata"),
                                                                   polling: SlurmPolling(interval: 1, commandTimeout: 60), launcher: .sbatch,
                                                                   workers: 3, timeouts: WorkerTimeouts(lease: 45, idle: 120, stall: 300)))
        let perStep = try XCTUnwrap(SlurmExecutors.make(try spec("  mode: per-step\n  workers: 4\n  tasks_per_job: 2")) as? SlurmArrayExecutor)
        XCTAssertEqual(perStep.options, SlurmArrayExecutor.Options(job: SlurmJobOptions(partition: "batch", strataBinary: "/shared/bin/strata"),
                                                                   tasksPerJob: 2, maxRunning: 4))
        XCTAssertEqual((SlurmExecutors.make(try spec("  mode: per-step"), workers: 6) as? SlurmArrayExecutor)?.options.maxRunning, 6)
    }

    func testEveryJobGetsTheSameResourceOptionsInOneOrder() {
        let job = SlurmJobOptions(partition: "gpu", timeLimit: "2:00:00", cpusPerTask: 4, memPerTask: "8G", extraArgs: ["--qos=low"], strataBinary: "/s")
        XCTAssertEqual(job.arguments(projectRoot: "/p q"), ["--chdir=/p q", "--partition=gpu", "--time=2:00:00", "--cpus-per-task=4", "--mem=8G", "--qos=low"])
        XCTAssertEqual(SlurmJobOptions(strataBinary: "/s").arguments(projectRoot: "/p"), ["--chdir=/p"])
    }

    func testWorkerScriptsExecTheWorkerWithQuotedPaths() {
        let srun = SlurmScript.srunWorker(run: "run-1", number: 0, reason: "run start", srun: ["--ntasks=1", "--chdir=/data/it's"],
                                          queue: "/q", binary: "/opt/my tools/strata", idleTimeout: 120, projectRoot: "/data/it's")
        XCTAssertEqual(srun, """
            #!/bin/bash
            # Strata: a worker of run run-1 (submission 0: run start).
            # Started as: srun --job-name=strata-workers-run-1-0.<worker> --output=<its log> --ntasks=1 '--chdir=/data/it'\\''s' <this file>
            # It claims tasks from /q until the run is finished.
            echo "strata task worker: job ${SLURM_JOB_ID} on $(hostname)"
            exec '/opt/my tools/strata' task worker run-1 --idle-timeout 120 -C '/data/it'\\''s'

            """)
        let array = SlurmScript.arrayWorkers(run: "run-1", number: 2, reason: "no worker left", sbatch: ["--array=0-3"], queue: "/q",
                                             binary: "/s", idleTimeout: 30.7, projectRoot: "/p")
        XCTAssertEqual(array, """
            #!/bin/bash
            # Strata: the workers of run run-1 (submission 2: no worker left).
            # Submitted as: sbatch --array=0-3 <this file>
            # Each array element is one worker: it claims tasks from /q until the run is finished.
            echo "strata task worker: job ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} on $(hostname)"
            exec /s task worker run-1 --idle-timeout 30 -C /p

            """)
    }

    func testSbatchParsableOutputGivesTheJobId() {
        XCTAssertEqual(SlurmCommand.jobId(parsable: "4711\n"), "4711")
        XCTAssertEqual(SlurmCommand.jobId(parsable: "4711;cluster2\n"), "4711")
        XCTAssertEqual(SlurmCommand.jobId(parsable: "sbatch: warning: something\n88\n"), "88")
        XCTAssertNil(SlurmCommand.jobId(parsable: ""))
        XCTAssertNil(SlurmCommand.jobId(parsable: ";\n"))
        XCTAssertNil(SlurmCommand.jobId(parsable: "Submitted batch job 12\n"))
    }
}
