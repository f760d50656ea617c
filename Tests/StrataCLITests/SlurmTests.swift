import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The Slurm executor against a real cluster (`scripts/slurm/start.sh`; `.ci/run` starts it before `make test`).
/// Locally these tests are skipped when no cluster answers; under `CI=true` they fail instead.
final class SlurmTests: XCTestCase {
    override func setUpWithError() throws { try SlurmCluster.require() }

    // MARK: Results

    func testSamePipelineOnLocalAndSlurmGivesTheSameResult() throws { try samePipelineOnLocalAndSlurm(launcher: nil) }

    func testSamePipelineOnLocalAndSlurmWithTheSbatchLauncher() throws { try samePipelineOnLocalAndSlurm(launcher: "sbatch") }

    /// `launcher`: the executor.launcher setting (nil: the default, srun).
    func samePipelineOnLocalAndSlurm(launcher: String?) throws {
        let t = TempDir()
        let local = try SlurmCluster.project(t, "local")
        let slurm = try SlurmCluster.project(t, "slurm")
        // The Slurm project chooses its executor in strata.yaml; the local one uses the default.
        let yaml = try String(contentsOfFile: slurm + "/strata.yaml", encoding: .utf8)
            .replacingOccurrences(of: "  kind: local", with: "  kind: slurm\n  tasks_per_job: 2\n  time_limit: \"10:00\"\n  mem_per_task: 1G" + (launcher.map { "\n  launcher: \($0)" } ?? ""))
        try yaml.write(toFile: slurm + "/strata.yaml", atomically: true, encoding: .utf8)

        let a = try SlurmCluster.runJSON(["run", "--shard-size", "40", "-C", local])
        let b = try SlurmCluster.runJSON(["run", "--shard-size", "40", "-C", slurm])
        XCTAssertEqual(a["executor"] as? String, "local")
        XCTAssertEqual(b["executor"] as? String, "slurm")
        let stagesA = try XCTUnwrap(a["stages"] as? [[String: Any]]), stagesB = try XCTUnwrap(b["stages"] as? [[String: Any]])
        XCTAssertEqual(stagesA.map { $0["digest"] as? String }, stagesB.map { $0["digest"] as? String })
        XCTAssertEqual(stagesA.map { $0["tasks"] as? Int }, stagesB.map { $0["tasks"] as? Int })
        XCTAssertGreaterThan(stagesB.map { $0["tasks"] as? Int ?? 0 }.reduce(0, +), 20, "several tasks per stage")
        XCTAssertEqual(a["digest"] as? String, b["digest"] as? String)
        XCTAssertNotNil(a["digest"] as? String)
        // What a user sees is the same too: the ledger and the cleaned files.
        XCTAssertEqual(try SlurmCluster.outcome(local), try SlurmCluster.outcome(slurm))
        XCTAssertTrue(try SlurmCluster.outcome(slurm).contains("near-duplicate"))

        // The run log has the submissions and every job's log; `runs list` names the executor.
        let log = try XCTUnwrap(CLI.run(["runs", "logs", "-C", slurm]).stdout)
        XCTAssertTrue(log.contains("\"event\":\"slurm-submit\""), log)
        XCTAssertTrue(log.contains("\"event\":\"slurm-job\""))
        XCTAssertTrue(log.contains("strata task worker: job "), "the workers' own logs are copied into the run log")
        XCTAssertEqual(log.split(separator: "\n").filter { $0.contains("\"event\":\"slurm-submit\"") }.count, 1,
                       "one submission of workers for the whole run (both stages, four steps)")
        XCTAssertTrue(log.contains("\"launcher\":\"\(launcher ?? "srun")\""), log)
        let runs = try XCTUnwrap(try CLI.json(["runs", "list", "-C", slurm]) as? [[String: Any]])
        XCTAssertEqual(runs.first?["executor"] as? String, "slurm")
        // The sbatch script names the options of strata.yaml.
        let runId = try XCTUnwrap(b["run_id"] as? String ?? b["runId"] as? String)
        let workers = "\(slurm)/.strata/runs/\(runId)/workers"
        let scriptName = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: workers).first { $0.hasPrefix("submit-0.") })
        XCTAssertEqual(scriptName, launcher == "sbatch" ? "submit-0.sbatch" : "submit-0.sh")
        let script = try String(contentsOfFile: "\(workers)/\(scriptName)", encoding: .utf8)
        XCTAssertTrue(script.contains("--time=10:00") && script.contains("--mem=1G"), script)
        XCTAssertTrue(script.contains("task worker \(runId)"), script)
        // Every task went through the queue and left no lease behind.
        for sub in ["queue", "claimed", "failed"] {
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(slurm)/.strata/runs/\(runId)/workers/\(sub)"), [], sub)
        }

        // A second run on Slurm submits nothing: every task comes from the cache.
        let again = try SlurmCluster.runJSON(["run", "--shard-size", "40", "--executor", "slurm", "-C", slurm])
        XCTAssertEqual(again["nothing_changed"] as? Bool ?? again["nothingChanged"] as? Bool, true)
        XCTAssertEqual(again["digest"] as? String, b["digest"] as? String)
    }

    func testNearDuplicatesSplitAcrossManyTasksFindTheSameClustersAsOneTask() throws {
        let t = TempDir()
        let pipeline = """
            version: 1
            stages:
              - name: near
                uses: dedup.near
                params: {threshold: 0.8, partitions: 4}
            """
        let one = try SlurmCluster.project(t, "one", pipeline: pipeline)
        let many = try SlurmCluster.project(t, "many", pipeline: pipeline)
        let a = try SlurmCluster.runJSON(["run", "--shard-size", "100000", "--executor", "local", "-C", one])
        let b = try SlurmCluster.runJSON(["run", "--shard-size", "9", "--executor", "slurm", "--workers", "8", "-C", many])
        let tasksA = (a["stages"] as? [[String: Any]])?.first?["tasks"] as? Int ?? 0
        let tasksB = (b["stages"] as? [[String: Any]])?.first?["tasks"] as? Int ?? 0
        XCTAssertEqual(tasksA, 1 + 4 + 1, "one annotate task, the pair partitions, one decide")
        XCTAssertGreaterThan(tasksB, 30, "the same stage split into many annotate tasks")
        let clustersA = try SlurmCluster.clusters(one), clustersB = try SlurmCluster.clusters(many)
        XCTAssertGreaterThanOrEqual(clustersA.count, 20, "the corpus has planted near duplicates")
        XCTAssertEqual(clustersA, clustersB)
    }

    // MARK: Failures

    func testATaskThatFailsOnceIsRetriedAndOneThatAlwaysFailsStopsTheRunWithItsLog() throws {
        try failingTask(perStep: false)
    }

    func testPerStepModeRetriesAFailingTaskAsAnArrayJob() throws {
        try failingTask(perStep: true)
    }

    func failingTask(perStep: Bool) throws {
        let t = TempDir()
        let dir = try SlurmCluster.project(t, "flaky", pipeline: """
            version: 1
            stages:
              - name: check
                uses: command
                command: "sh flaky.sh"
            """)
        // The first task to start fails (once); every other run of the script passes its input through.
        try """
            if mkdir failed-once.lock 2>/dev/null; then echo "transient: scratch disk full" >&2; exit 3; fi
            cat
            """.write(toFile: dir + "/flaky.sh", atomically: true, encoding: .utf8)
        if perStep { try SlurmCluster.setExecutor(dir, "  kind: local\n  mode: per-step") }
        let r = try SlurmCluster.runJSON(["run", "--shard-size", "100", "--executor", "slurm", "--retries", "1", "-C", dir])
        XCTAssertEqual((r["stages"] as? [[String: Any]])?.first?["tasks"] as? Int, 3)
        let log = try CLI.run(["runs", "logs", "-C", dir]).stdout
        let retries = log.split(separator: "\n").filter { $0.contains("\"event\":\"task-retry\"") }
        XCTAssertEqual(retries.count, 1, log)
        // Per step, the array job fails with the task; a worker reports the task's failure and lives on.
        let how = perStep ? "ended FAILED" : "on Slurm worker job "
        XCTAssertTrue(retries.first?.contains(how) == true && retries.first?.contains("scratch disk full") == true, String(retries.first ?? ""))
        XCTAssertTrue(log.contains("\"attempts\":2"), "the retried task records its second attempt")
        XCTAssertEqual(try SlurmCluster.cleanedCount(dir), 300)

        // A task that fails every time stops the run with the job's state, exit code and log.
        try "echo 'model file not found' >&2; exit 3\n".write(toFile: dir + "/flaky.sh", atomically: true, encoding: .utf8)
        try "version: 1\nstages:\n  - name: broken\n    uses: command\n    command: \"sh flaky.sh\"\n"
            .write(toFile: dir + "/pipeline.yaml", atomically: true, encoding: .utf8)
        let failed = try CLI.run(["run", "--shard-size", "1000", "--executor", "slurm", "--retries", "1", "-C", dir])
        XCTAssertEqual(failed.status, 2, failed.stdout)
        if perStep {
            XCTAssertTrue(failed.stderr.contains("task broken/map-0 failed after 2 attempt(s): Slurm job "), failed.stderr)
            XCTAssertTrue(failed.stderr.contains("ended FAILED (exit status 2)"), failed.stderr)
        } else {
            XCTAssertTrue(failed.stderr.contains("task broken/map-0 failed after 2 attempt(s): on Slurm worker job "), failed.stderr)
            XCTAssertTrue(failed.stderr.contains("exited with status 3"), failed.stderr)
        }
        XCTAssertTrue(failed.stderr.contains("model file not found"), failed.stderr)
        XCTAssertTrue(failed.stderr.contains("strata runs logs"), failed.stderr)
        let runs = try XCTUnwrap(try CLI.json(["runs", "list", "-C", dir]) as? [[String: Any]])
        XCTAssertEqual(runs.first?["status"] as? String, "failed")
    }

    func testAKilledTaskProcessIsDetectedAndRetried() throws {
        try killedTaskIsRetried { victim in
            XCTAssertEqual(kill(victim.strataPid, SIGKILL), 0, "kill the `strata task worker` process")
        }
    }

    func testAKilledWorkerOfAnArrayJobIsDetectedAndRetried() throws {
        try killedTaskIsRetried(launcher: "sbatch") { victim in
            XCTAssertTrue(victim.job.contains("_"), "an array element: \(victim.job)")
            XCTAssertEqual(kill(victim.strataPid, SIGKILL), 0, "kill the `strata task worker` process")
        }
    }

    /// The first worker array job is submitted from a thread while the driver plans; when that submission is slow
    /// (here `sinfo`, which sizes it, takes 2 s) the driver must wait for it, not take the run for one without
    /// workers. It once submitted a second array job under the same number and lost track of one of the two: the
    /// killed worker's task was never retried and the run hung (CI, 2026-12-01).
    func testASlowFirstSubmissionIsWaitedForNotDoubled() throws {
        let t = TempDir()
        let shim = t.path + "/slow-bin"
        try FileManager.default.createDirectory(atPath: shim, withIntermediateDirectories: true)
        let sinfo = try XCTUnwrap(SlurmCluster.locate("sinfo"))
        try "#!/bin/sh\nsleep 2\nexec \(sinfo) \"$@\"\n".write(toFile: shim + "/sinfo", atomically: true, encoding: .utf8)
        chmod(shim + "/sinfo", 0o755)
        let path = shim + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        try killedTaskIsRetried(environment: ["PATH": path]) { victim in
            XCTAssertEqual(kill(victim.strataPid, SIGKILL), 0, "kill the `strata task worker` process")
        } check: { log, _ in
            let submits = log.split(separator: "\n").filter { $0.contains("\"event\":\"slurm-submit\"") }
            XCTAssertEqual(submits.count, 1, "one array job, the slow one: \(submits)")
        }
    }

    /// Workers SIGKILLed at random moments (while they claim, run or finish tasks, or sit idle), several times in one
    /// run, down to none left: the run still finishes, with the result of a local run, and leaves no lease behind.
    func testWorkersKilledAtRandomMomentsStillGiveTheLocalResult() throws {
        let t = TempDir()
        let pipeline = """
            version: 1
            stages:
              - name: exact
                uses: dedup.exact
              - name: slow
                uses: command
                command: "sh slow.sh"
              - name: near
                uses: dedup.near
                params: {threshold: 0.8, partitions: 3}
            """
        let reference = try SlurmCluster.project(t, "reference", pipeline: pipeline)
        let dir = try SlurmCluster.project(t, "chaos", pipeline: pipeline)
        for d in [reference, dir] { try "sleep 0.4; cat\n".write(toFile: d + "/slow.sh", atomically: true, encoding: .utf8) }
        let expected = try SlurmCluster.runJSON(["run", "--shard-size", "25", "-C", reference])
        var rng = SplitMix(seed: UInt64(Date().timeIntervalSince1970 * 1000))
        let seed = rng.state
        let driver = try Background(["run", "--shard-size", "25", "--executor", "slurm", "--retries", "10", "--json", "-C", dir])
        var kills: [String] = []
        while kills.count < 5 && driver.isRunning {
            usleep(UInt32(200_000 + rng.next(1_000_000)))
            let workers = SlurmCluster.workerPids(dir)
            guard !workers.isEmpty else { continue }
            let pid = workers[Int(rng.next(UInt64(workers.count)))]
            if kill(pid, SIGKILL) == 0 { kills.append("\(pid)") }
        }
        let r = driver.wait()
        XCTAssertEqual(r.status, 0, "seed \(seed), killed \(kills): \(r.stderr)")
        let report = try XCTUnwrap(try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        XCTAssertEqual(report["digest"] as? String, expected["digest"] as? String, "seed \(seed): the result of the local run")
        XCTAssertEqual(try SlurmCluster.outcome(dir), try SlurmCluster.outcome(reference))
        XCTAssertGreaterThan(kills.count, 0, "some worker was killed (seed \(seed))")
        let log = try CLI.run(["runs", "logs", "-C", dir]).stdout
        let lost = log.split(separator: "\n").filter { $0.contains("\"event\":\"slurm-worker-lost\"") }
        XCTAssertGreaterThan(lost.count, 0, "the killed workers are reported lost: \(log)")
        let runId = try XCTUnwrap(report["run_id"] as? String ?? report["runId"] as? String)
        for sub in ["queue", "claimed", "failed"] {
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(dir)/.strata/runs/\(runId)/workers/\(sub)"), [], sub)
        }
        try SlurmCluster.assertNoJobsLeft(log)
    }

    func testAJobCancelledWithScancelIsDetectedAndRetried() throws {
        try killedTaskIsRetried { victim in
            let r = try SlurmCluster.command("scancel", [victim.job])
            XCTAssertEqual(r.status, 0, r.stderr)
            SlurmCluster.waitForExit(victim.strataPid)
        }
    }

    /// Runs a pipeline whose first task on Slurm blocks until `kill` ends it; the run must retry it and finish with
    /// the same result as a local run.
    func killedTaskIsRetried(environment: [String: String] = [:], launcher: String? = nil, _ killIt: (SlurmCluster.Victim) throws -> Void,
                             check: (String, SlurmCluster.Victim) throws -> Void = { _, _ in }) throws {
        let t = TempDir()
        let pipeline = """
            version: 1
            stages:
              - name: exact
                uses: dedup.exact
              - name: slow
                uses: command
                command: "python3 victim.py"
            """
        let reference = try SlurmCluster.project(t, "reference", pipeline: pipeline)
        let dir = try SlurmCluster.project(t, "killed", pipeline: pipeline)
        if let launcher { try SlurmCluster.setExecutor(dir, "  kind: local\n  launcher: \(launcher)") }
        for d in [reference, dir] { try SlurmCluster.victimScript.write(toFile: d + "/victim.py", atomically: true, encoding: .utf8) }
        let expected = try SlurmCluster.runJSON(["run", "--shard-size", "100", "-C", reference])

        let driver = try Background(["run", "--shard-size", "100", "--executor", "slurm", "--retries", "1", "--json", "-C", dir],
                                    environment: environment)
        let victim: SlurmCluster.Victim
        do { victim = try SlurmCluster.waitForVictim(dir) } catch {
            driver.terminate()
            throw error
        }
        try killIt(victim)
        kill(victim.pythonPid, SIGKILL)
        let r = driver.wait()
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(report["digest"] as? String, expected["digest"] as? String, "the same result as a run without the kill")
        let log = try CLI.run(["runs", "logs", "-C", dir]).stdout
        // (When the whole array job is cancelled, the other worker's task, if it held one, is retried too.)
        let retries = log.split(separator: "\n").filter { $0.contains("\"event\":\"task-retry\"") }
        XCTAssertFalse(retries.isEmpty, log)
        XCTAssertTrue(retries.contains { $0.contains(victim.job) }, "a retry names the job that died: \(retries)")
        try check(log, victim)
        // The worker that died is reported lost (a worker Slurm cancels gets SIGTERM first: it may instead report the
        // task the signal broke and exit by itself, as its log then says), and the task's second attempt ran on
        // another worker.
        let lost = log.split(separator: "\n").filter { $0.contains("\"event\":\"slurm-worker-lost\"") }
        XCTAssertTrue(lost.contains { $0.contains(victim.job) } || log.contains("SIGTERM (job cancelled or at its time limit): exiting"), log)
        let reruns = log.split(separator: "\n").filter { $0.contains("(attempt 2): ") && $0.contains("\"event\":\"slurm-job\"") }
        XCTAssertFalse(reruns.isEmpty, "some worker's log shows the second attempt: \(log)")
        XCTAssertFalse(reruns.contains { $0.contains("\"job\":\"\(victim.job)\"") }, "not on the worker that died")
        try SlurmCluster.assertNoJobsLeft(log)
    }

    func testAWorkerJobCancelledWholeIsResubmittedAndTheRunCompletes() throws {
        try killedTaskIsRetried { victim in
            // Every worker of the run at once (each its own job with srun): no worker is left, so the driver starts
            // new ones.
            let jobs = try SlurmCluster.command("squeue", ["-h", "-o", "%A %j"]).stdout.split(separator: "\n")
                .filter { $0.contains(" strata-workers-") }.map { String($0.split(separator: " ")[0]) }
            XCTAssertFalse(jobs.isEmpty)
            let r = try SlurmCluster.command("scancel", jobs)
            XCTAssertEqual(r.status, 0, r.stderr)
            SlurmCluster.waitForExit(victim.strataPid)
        } check: { log, victim in
            let submits = log.split(separator: "\n").filter { $0.contains("\"event\":\"slurm-submit\"") }
            XCTAssertEqual(submits.count, 2, log)
            XCTAssertTrue(submits.last?.contains("no worker left") == true, String(submits.last ?? ""))
        }
    }

    func testWorkersExitByThemselvesWhenTheRunEnds() throws {
        let t = TempDir()
        let dir = try SlurmCluster.project(t, "exit", pipeline: "version: 1\nstages:\n  - name: exact\n    uses: dedup.exact\n")
        let r = try SlurmCluster.runJSON(["run", "--shard-size", "50", "--executor", "slurm", "--workers", "2", "-C", dir])
        let runId = try XCTUnwrap(r["run_id"] as? String ?? r["runId"] as? String)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir)/.strata/runs/\(runId)/workers/finished"))
        let log = try CLI.run(["runs", "logs", "-C", dir]).stdout
        try SlurmCluster.assertNoJobsLeft(log)
        // The workers saw the marker and exited on their own (COMPLETED, not cancelled), each after its tasks.
        let jobs = SlurmCluster.jobIds(log)
        XCTAssertEqual(jobs.count, 2, "one job per worker (srun): \(jobs)")
        var states = ""
        for _ in 0..<50 {  // an srun worker's job ends moments after its worker exits
            states = try SlurmCluster.command("squeue", ["-h", "-r", "-t", "all", "-j", jobs.joined(separator: ","), "-o", "%i %T"]).stdout
            if !states.contains("RUNNING") && !states.contains("COMPLETING") { break }
            usleep(100_000)
        }
        XCTAssertTrue(states.contains("COMPLETED"), states)
        XCTAssertFalse(states.contains("FAILED"), states)
        // (Read from the workers' own logs: the run log copies them when the driver ends, maybe before they exit.)
        let logs = "\(dir)/.strata/runs/\(runId)/workers/logs"
        for line in states.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count == 2, let index = jobs.firstIndex(of: String(f[0])) else { XCTFail("unexpected job: \(line)"); continue }
            let text = (try? String(contentsOfFile: "\(logs)/0-\(index).log", encoding: .utf8)) ?? ""
            if f[1] == "COMPLETED" {
                XCTAssertTrue(text.contains("the run is finished: exiting after"), "worker \(f[0]): \(text)")
            } else {
                // On a loaded machine a worker may still wait for a CPU when the run ends: only such a one is cancelled.
                XCTAssertEqual(f[1], "CANCELLED", states)
                XCTAssertFalse(text.contains("ready at"), "worker \(f[0]) had started, yet was cancelled: \(text)")
            }
        }
    }

    /// Workers that run and beat but never take a task (as when the nodes do not see new files in the queue): the
    /// driver must not wait forever. After `stall_timeout` seconds with nothing moving it fails the run with a
    /// diagnosis, and cancels the workers.
    func testTasksNobodyTakesStopTheRunAfterStallTimeout() throws {
        let t = TempDir()
        let dir = try SlurmCluster.project(t, "stall", pipeline: "version: 1\nstages:\n  - name: exact\n    uses: dedup.exact\n")
        // Called as `strata task worker RUN --idle-timeout N -C ROOT`: beats like a worker, never claims.
        try """
            #!/bin/sh
            w=$SLURM_JOB_ID; [ -n "$SLURM_ARRAY_JOB_ID" ] && w=${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}
            beat="$7/.strata/runs/$3/workers/heartbeat/$w"
            i=0
            while [ $i -lt 600 ]; do i=$((i+1)); echo "$i blind" > "$beat.tmp"; mv "$beat.tmp" "$beat"; sleep 1; done
            """.write(toFile: dir + "/blind-worker.sh", atomically: true, encoding: .utf8)
        chmod(dir + "/blind-worker.sh", 0o755)
        try SlurmCluster.setExecutor(dir, "  kind: slurm\n  workers: 2\n  stall_timeout: 6\n  strata_binary: \(dir)/blind-worker.sh")
        let started = Date()
        let r = try CLI.run(["run", "--shard-size", "100", "-C", dir], timeout: 300)
        XCTAssertEqual(r.status, 2, r.stdout + r.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 120, "stopped soon after stall_timeout")
        XCTAssertTrue(r.stderr.contains("nothing moved for"), r.stderr)
        XCTAssertTrue(r.stderr.contains("executor.stall_timeout"), r.stderr)
        XCTAssertTrue(r.stderr.contains("waiting in ") && r.stderr.contains("RUNNING, heartbeat"), r.stderr)
        let runs = try XCTUnwrap(try CLI.json(["runs", "list", "-C", dir]) as? [[String: Any]])
        XCTAssertEqual(runs.first?["status"] as? String, "failed")
        try SlurmCluster.assertNoJobsLeft(try CLI.run(["runs", "logs", "-C", dir]).stdout)
    }

    func testCtrlCCancelsTheJobsAndTheRunResumesAfterwards() throws {
        let t = TempDir()
        let dir = try SlurmCluster.project(t, "interrupt", pipeline: """
            version: 1
            stages:
              - name: slow
                uses: command
                command: "sh slow.sh"
            """)
        // The job of the worker that runs it: `<array job>_<index>` (sbatch) or the job id (srun).
        try "[ -e fast ] || { echo ${STRATA_WORKER%%_*} > started; sleep 120; }; cat\n".write(toFile: dir + "/slow.sh", atomically: true, encoding: .utf8)
        let driver = try Background(["run", "--shard-size", "150", "--executor", "slurm", "-C", dir])
        let started = Date()
        while !FileManager.default.fileExists(atPath: dir + "/started") {
            XCTAssertLessThan(Date().timeIntervalSince(started), 60, "no job started")
            if Date().timeIntervalSince(started) > 60 { driver.terminate(); return }
            usleep(100_000)
        }
        usleep(200_000)
        let job = try String(contentsOfFile: dir + "/started", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        kill(driver.pid, SIGINT)
        let r = driver.wait()
        XCTAssertEqual(r.status, 130, r.stderr)
        XCTAssertTrue(r.stderr.contains("interrupted by Ctrl-C"), r.stderr)
        // (srun: every worker is a job of its own; the list names them all.)
        let cancelled = r.stderr.components(separatedBy: "cancelled Slurm job(s) ").last?.split(separator: "\n").first?
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
        XCTAssertTrue(cancelled.contains(job), "\(job) in \(cancelled): \(r.stderr)")
        // Nothing of the run is left in the queue.
        var states = ""
        for _ in 0..<50 {
            states = try SlurmCluster.command("squeue", ["-h", "-r", "-t", "all", "-j", job, "-o", "%T"]).stdout
            if !states.isEmpty && !states.contains("RUNNING") && !states.contains("PENDING") && !states.contains("COMPLETING") { break }
            usleep(200_000)
        }
        XCTAssertTrue(states.contains("CANCELLED"), states)
        let runs = try XCTUnwrap(try CLI.json(["runs", "list", "-C", dir]) as? [[String: Any]])
        XCTAssertEqual(runs.first?["status"] as? String, "interrupted")
        // Resume: the next run finishes the work.
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/fast", contents: nil))
        let again = try CLI.run(["run", "--shard-size", "150", "--executor", "slurm", "-C", dir])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try SlurmCluster.cleanedCount(dir), 300)
    }

    func testUnreachableSlurmIsAClearError() throws {
        let t = TempDir()
        let dir = try SlurmCluster.project(t, "unreachable", pipeline: "version: 1\nstages:\n  - name: exact\n    uses: dedup.exact\n")
        // No Slurm commands on the PATH.
        let noPath = try Background(["run", "--executor", "slurm", "-C", dir], environment: ["PATH": "/nonexistent"]).wait()
        XCTAssertEqual(noPath.status, 2)
        XCTAssertTrue(noPath.stderr.contains("`srun` is not on the PATH"), noPath.stderr)
        XCTAssertTrue(noPath.stderr.contains("check: install the Slurm client commands"), noPath.stderr)
        // A controller that does not answer: the command, its output and what to check.
        // The cluster's own config with the controller moved to a closed port (a minimal one where there is no file).
        let own = (try? String(contentsOfFile: ProcessInfo.processInfo.environment["SLURM_CONF"] ?? "/etc/slurm/slurm.conf", encoding: .utf8))
            ?? "ClusterName=bogus\nSlurmctldHost=x\nNodeName=localhost CPUs=1\nPartitionName=debug Nodes=localhost Default=YES\n"
        let conf = own.split(separator: "\n").filter { !$0.hasPrefix("SlurmctldPort=") }
            .map { $0.hasPrefix("SlurmctldHost=") ? "SlurmctldHost=localhost(127.0.0.1)\nSlurmctldPort=9" : String($0) }.joined(separator: "\n")
        t.write("bogus/slurm.conf", Array(conf.utf8))
        let down = try Background(["run", "--executor", "slurm", "-C", dir], environment: ["SLURM_CONF": t.path + "/bogus/slurm.conf"]).wait()
        XCTAssertEqual(down.status, 2)
        // (srun retries a controller that does not answer for a few seconds, then says so.)
        XCTAssertTrue(down.stderr.contains("Slurm command `") && down.stderr.contains("srun --job-name=strata-workers-"), down.stderr)
        XCTAssertTrue(down.stderr.contains("ended with exit status 1 before Slurm listed a job"), down.stderr)
        XCTAssertTrue(down.stderr.contains("Unable to contact slurm controller"), down.stderr)
        XCTAssertTrue(down.stderr.contains("check: that slurmctld is up (`scontrol ping`"), down.stderr)
        let runs = try XCTUnwrap(try CLI.json(["runs", "list", "-C", dir]) as? [[String: Any]])
        XCTAssertEqual(runs.first?["status"] as? String, "failed")
    }
}

/// The test cluster and helpers of these tests.
enum SlurmCluster {
    /// Skips (locally) or fails (under CI=true) when no Slurm controller answers.
    static func require(file: StaticString = #filePath, line: UInt = #line) throws {
        let ping = try? command("scontrol", ["ping"])
        if let ping, ping.status == 0, ping.stdout.contains("is UP") { return }
        let why = "no Slurm cluster answers `scontrol ping` (\(ping.map { $0.stdout + $0.stderr } ?? "scontrol not found")); start one with `sudo scripts/slurm/start.sh`"
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            XCTFail(why, file: file, line: line)
        }
        throw XCTSkip(why)
    }

    /// Replaces `  kind: local` in the project's strata.yaml with `lines`.
    static func setExecutor(_ dir: String, _ lines: String) throws {
        let yaml = try String(contentsOfFile: dir + "/strata.yaml", encoding: .utf8).replacingOccurrences(of: "  kind: local", with: lines)
        try yaml.write(toFile: dir + "/strata.yaml", atomically: true, encoding: .utf8)
    }

    /// The job ids a run log's `slurm-submit` events name (`job`: an array job; `jobs`: srun workers).
    static func jobIds(_ log: String) -> [String] {
        log.split(separator: "\n").filter { $0.contains("\"event\":\"slurm-submit\"") }.flatMap { line -> [String] in
            let event = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return (event?["job"] as? String).map { [$0] } ?? (event?["jobs"] as? [String] ?? [])
        }
    }

    /// Within a few seconds of the run's end, none of its jobs is pending or running.
    static func assertNoJobsLeft(_ log: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let ids = jobIds(log)
        XCTAssertFalse(ids.isEmpty, "the run submitted workers", file: file, line: line)
        var states = ""
        for _ in 0..<50 {
            states = try command("squeue", ["-h", "-r", "-t", "all", "-j", ids.joined(separator: ","), "-o", "%i %T"]).stdout
            if !states.contains("RUNNING") && !states.contains("PENDING") && !states.contains("COMPLETING") { break }
            usleep(100_000)
        }
        XCTAssertFalse(states.contains("RUNNING") || states.contains("PENDING") || states.contains("COMPLETING"), states, file: file, line: line)
    }

    static func locate(_ name: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map { "\($0)/\(name)" }
            .first { access($0, X_OK) == 0 }
    }

    /// The pids of the `strata task worker` processes working for the project at `dir`.
    static func workerPids(_ dir: String) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let args = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return args.count > 2 && args[1] == "task" && args[2] == "worker" && args.last == dir
        }
    }

    static func command(_ name: String, _ args: [String]) throws -> CLI.Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [name] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLI.Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// 300 support messages of 80 words: 30 near duplicates (one word changed), 10 exact after case folding, 2 junk.
    static func rows() -> String {
        var state: UInt64 = 42
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        let vocabulary = (0..<400).map { "w\($0)" }
        var texts: [String] = []
        for _ in 0..<258 { texts.append((0..<80).map { _ in vocabulary[next(vocabulary.count)] }.joined(separator: " ")) }
        for i in 0..<30 {
            var words = texts[i * 3].split(separator: " ").map(String.init)
            words[10 + next(60)] = "changed\(i)"
            texts.append(words.joined(separator: " "))
        }
        for i in 0..<10 { texts.append(texts[100 + i].uppercased()) }
        texts.append(Array(repeating: "buy now", count: 40).joined(separator: " "))
        texts.append("x")
        return texts.enumerated().map { #"{"id": "m\#($0.offset)", "text": "\#($0.element)"}"# }.joined(separator: "\n") + "\n"
    }

    static func project(_ t: TempDir, _ name: String, pipeline: String? = nil) throws -> String {
        let dir = t.path + "/" + name
        let i = try CLI.run(["init", dir, "--modality", "text"])
        guard i.status == 0 else { throw NSError(domain: "init", code: 1, userInfo: [NSLocalizedDescriptionKey: i.stderr]) }
        if let pipeline { try pipeline.write(toFile: dir + "/pipeline.yaml", atomically: true, encoding: .utf8) }
        // Every project ingests the same file: findings name their origin, so results compare across projects.
        if !FileManager.default.fileExists(atPath: t.path + "/in/rows.jsonl") { t.write("in/rows.jsonl", Array(rows().utf8)) }
        let r = try CLI.run(["ingest", t.path + "/in", "--source", "chat", "--records", "--date", "2026-01-01", "-C", dir])
        guard r.status == 0 else { throw NSError(domain: "ingest", code: 1, userInfo: [NSLocalizedDescriptionKey: r.stderr]) }
        return dir
    }

    static func runJSON(_ args: [String]) throws -> [String: Any] {
        let r = try CLI.run(args + ["--json"], timeout: 600)
        guard r.status == 0, let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else {
            throw NSError(domain: "run", code: Int(r.status), userInfo: [NSLocalizedDescriptionKey: "strata \(args) exited \(r.status): \(r.stderr)"])
        }
        return obj
    }

    /// The findings ledger (without run ids) and the cleaned files, as one comparable text.
    static func outcome(_ dir: String) throws -> String {
        let findings = try XCTUnwrap(try CLI.json(["findings", "-C", dir]) as? [[String: Any]])
        let lines = findings.map { f in ["kind", "stage", "line", "related_line", "reason"].map { "\(f[$0] ?? "-")" }.joined(separator: "|") }.sorted()
        let cleanedDir = dir + "/data/cleaned"
        let cleaned = try FileManager.default.subpathsOfDirectory(atPath: cleanedDir).filter { $0.hasSuffix(".jsonl") }.sorted()
        let contents = try cleaned.map { try String(contentsOfFile: cleanedDir + "/" + $0, encoding: .utf8) }
        return (lines + cleaned + contents).joined(separator: "\n")
    }

    /// Near-duplicate clusters as sets of origin lines (each removed line with the line it duplicates).
    static func clusters(_ dir: String) throws -> Set<[Int]> {
        let findings = try XCTUnwrap(try CLI.json(["findings", "--kind", "near-duplicate", "-C", dir]) as? [[String: Any]])
        var groups: [Int: Set<Int>] = [:]
        for f in findings {
            guard let l = f["line"] as? Int, let k = f["related_line"] as? Int else { continue }
            groups[k, default: [k]].insert(l)
        }
        return Set(groups.values.map { $0.sorted() })
    }

    static func cleanedCount(_ dir: String) throws -> Int {
        let cleanedDir = dir + "/data/cleaned"
        return try FileManager.default.subpathsOfDirectory(atPath: cleanedDir).filter { $0.hasSuffix(".jsonl") }
            .map { try String(contentsOfFile: cleanedDir + "/" + $0, encoding: .utf8).split(separator: "\n").count }.reduce(0, +)
    }

    struct Victim {
        var strataPid: pid_t
        var pythonPid: pid_t
        var job: String
    }

    /// A command stage: under Slurm the first task to start records its `strata` and Python pids and its job, then
    /// blocks; every other run (and the retry) passes its input through.
    static let victimScript = """
        import json, os, sys, time
        if os.environ.get("STRATA_WORKER"):
            try:
                fd = os.open("victim.claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                fd = None
            if fd is not None:
                pid = os.getpid()
                while True:
                    pid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
                    if open(f"/proc/{pid}/comm").read().strip() == "strata" or pid <= 1:
                        break
                job = os.environ["STRATA_WORKER"]
                with open("victim.tmp", "w") as f:
                    f.write(f"{pid} {os.getpid()} {job}\\n")
                os.rename("victim.tmp", "victim.txt")
                time.sleep(300)
        for line in sys.stdin:
            item = json.loads(line)
            print(json.dumps({"id": item["id"], "text": item["text"] + " checked"}))
        """

    /// Waits (up to 20 s) for process `pid` to end: after scancel, Slurm's SIGTERM reaches the job's processes a moment
    /// later. (Killing the victim's Python at once would let its worker report the failure and claim the retry
    /// before the signal lands, and lose that attempt to it too: a real race, but not what these tests are about.)
    static func waitForExit(_ pid: pid_t) {
        let started = Date()
        while kill(pid, 0) == 0, Date().timeIntervalSince(started) < 20 { usleep(20_000) }
    }

    static func waitForVictim(_ dir: String) throws -> Victim {
        let started = Date()
        while Date().timeIntervalSince(started) < 120 {
            if let text = try? String(contentsOfFile: dir + "/victim.txt", encoding: .utf8) {
                let f = text.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                if f.count == 3, let a = Int32(f[0]), let b = Int32(f[1]) { return Victim(strataPid: a, pythonPid: b, job: f[2]) }
            }
            usleep(100_000)
        }
        throw NSError(domain: "victim", code: 1, userInfo: [NSLocalizedDescriptionKey: "no task started within 120 s"])
    }
}

/// `strata` started in the background (to signal it while it runs).
final class Background: @unchecked Sendable {
    let process = Process()
    let out = Pipe(), err = Pipe()
    var outData = Data(), errData = Data()
    let group = DispatchGroup()

    init(_ args: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = args
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = out
        process.standardError = err
        try process.run()
        group.enter(); DispatchQueue.global().async { [self] in outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter(); DispatchQueue.global().async { [self] in errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    }

    var pid: pid_t { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    func terminate() { process.terminate(); _ = wait() }

    func wait(timeout: TimeInterval = 600) -> CLI.Result {
        if group.wait(timeout: .now() + timeout) == .timedOut { kill(pid, SIGKILL) }
        process.waitUntilExit()
        return CLI.Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A small seeded generator (the chaos test prints its seed).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(_ bound: UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return (z ^ (z >> 31)) % max(1, bound)
    }
}
