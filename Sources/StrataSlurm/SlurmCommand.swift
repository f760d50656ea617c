import Dispatch
import Foundation
import StrataCore
#if canImport(Glibc)
import Glibc
#endif

// Slurm's client commands as the executors use them: sbatch, srun, squeue, scontrol and scancel through `Process`
// with a timeout, the error a failed command becomes, and how squeue's and scontrol's answers are read.

/// Quotes `s` for a POSIX shell (left bare when it needs no quoting), for scripts and the commands errors show.
public func shellQuote(_ s: String) -> String {
    if !s.isEmpty && s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "/._-=,:%+@".contains($0)) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// Slurm's words for a job's state, as the executors read them.
enum SlurmStates {
    /// Pending reasons that only mean "waiting for a turn".
    static let waitingReasons: Set<String> = ["None", "Priority", "Resources", "JobArrayTaskLimit", "BeginTime", "(null)", ""]

    /// Job states after which a job runs no more.
    static let ended: Set<String> = ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL",
                                     "DEADLINE", "OUT_OF_MEMORY", "REVOKED", "SPECIAL_EXIT"]

    /// States of a job Slurm put back in its queue.
    static let requeued: Set<String> = ["PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED"]
}

/// A Slurm command that failed or could not run: which command, its output, and what to check.
public struct SlurmError: Error, CustomStringConvertible, Sendable {
    public var command: String
    public var problem: String
    public var output: String
    public var check: String
    public var description: String {
        var s = "Slurm command `\(command)` \(problem)"
        let out = output.trimmingCharacters(in: .whitespacesAndNewlines)
        if !out.isEmpty { s += "\n  its output: " + out.split(separator: "\n").suffix(8).joined(separator: "\n    ") }
        return s + "\n  check: " + check
    }

    /// What to check when sbatch fails.
    static let submitCheck = "that slurmctld is up (`scontrol ping`, `sinfo`), the partition exists (`sinfo -s`), and the resources fit a node (executor: partition, time_limit, cpus_per_task, mem_per_task, sbatch_args in strata.yaml)"
}

/// What `squeue` and `scontrol` say about jobs (both executors ask the same questions).
enum SlurmQueue {
    struct Entry: Equatable {
        var state: String
        /// Why a pending job waits (`%r`), `None` otherwise.
        var reason: String
    }

    /// Every element of the array jobs `ids`, ended ones included (`-t all`), by `<job>_<index>`. A job the controller
    /// has purged is simply not listed. Throws a `SlurmError` when squeue fails.
    static func look(_ ids: [String], timeout: Double) throws -> [String: Entry] {
        let args = ["-h", "-r", "-t", "all", "-j", ids.joined(separator: ","), "-o", "%F %K %T %r"]
        let out = try SlurmCommand.run("squeue", args, timeout: timeout)
        // Every id purged: squeue says "Invalid job id" (and lists nothing).
        if out.status != 0 && !out.combined.contains("Invalid job id") {
            throw SlurmError(command: (["squeue"] + args).map(shellQuote).joined(separator: " "),
                             problem: "failed with exit status \(out.status)", output: out.combined,
                             check: "that slurmctld is up (`scontrol ping`) and reachable from this machine")
        }
        return parse(out.stdout)
    }

    /// Parses `%F %K %T %r` lines.
    static func parse(_ text: String) -> [String: Entry] {
        var states: [String: Entry] = [:]
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ", maxSplits: 3)
            guard f.count >= 3 else { continue }
            // %K is N/A for a job outside an array (an srun worker): keyed by its job id alone.
            states[f[1] == "N/A" ? String(f[0]) : "\(f[0])_\(f[1])"] = Entry(state: String(f[2]), reason: f.count > 3 ? String(f[3]) : "")
        }
        return states
    }

    /// How job `job` ended, from `scontrol show job`: "exit status N", "killed by signal S" and (with `reasons`) an
    /// unusual reason. Empty when scontrol cannot tell.
    static func exitDetails(_ job: String, timeout: Double, reasons: Bool) -> [String] {
        guard let out = try? SlurmCommand.run("scontrol", ["show", "job", "-o", job], timeout: timeout), out.status == 0 else { return [] }
        return exitDetails(scontrol: out.stdout, reasons: reasons)
    }

    static func exitDetails(scontrol text: String, reasons: Bool) -> [String] {
        var details: [String] = []
        for field in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            if field.hasPrefix("ExitCode=") {
                let parts = field.dropFirst(9).split(separator: ":")
                if parts.count == 2, parts[1] != "0" { details.append("killed by signal \(parts[1])") }
                else if let code = parts.first, code != "0" { details.append("exit status \(code)") }
            } else if reasons, field.hasPrefix("Reason="), !["Reason=None", "Reason=NonZeroExitCode"].contains(String(field)) {
                details.append("reason \(field.dropFirst(7))")
            }
        }
        return details
    }
}

/// Runs Slurm's client commands with a timeout.
enum SlurmCommand {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        var combined: String { [stdout, stderr].filter { !$0.isEmpty }.joined(separator: "\n") }
    }

    static func locate(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Submits `script` with `sbatch --parsable args script`; returns the job id, or throws a `SlurmError` with sbatch's
    /// words and what to check.
    static func sbatch(_ args: [String], script: String, timeout: Double) throws -> String {
        let out = try run("sbatch", args + [script], timeout: timeout)
        let id = jobId(parsable: out.stdout)
        guard out.status == 0, let id else {
            throw SlurmError(command: "sbatch " + (args + [script]).map(shellQuote).joined(separator: " "),
                             problem: out.status == 0 ? "printed no job id" : "failed with exit status \(out.status)", output: out.combined,
                             check: SlurmError.submitCheck)
        }
        return id
    }

    /// The job id in `sbatch --parsable`'s output (`<id>` or `<id>;<cluster>` on its last line), nil when there is none.
    static func jobId(parsable stdout: String) -> String? {
        guard let last = stdout.split(separator: "\n").last else { return nil }
        let id = String(last.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespaces)
        return !id.isEmpty && id.allSatisfy(\.isNumber) ? id : nil
    }

    /// Runs `name args`; throws a `SlurmError` when it cannot start or does not finish within `timeout`.
    static func run(_ name: String, _ args: [String], timeout: Double) throws -> Output {
        let shown = ([name] + args).map(shellQuote).joined(separator: " ")
        guard let exe = locate(name) else {
            throw SlurmError(command: shown, problem: "cannot run: `\(name)` is not on the PATH", output: "",
                             check: "install the Slurm client commands on this machine (Debian: slurm-client) or run strata on a login node of the cluster; PATH is \(ProcessInfo.processInfo.environment["PATH"] ?? "unset")")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch {
            throw SlurmError(command: shown, problem: "cannot start: \(error.localizedDescription)", output: "", check: "that \(exe) is executable")
        }
        let group = DispatchGroup()
        // Both pipes are drained at once (a full stderr pipe must not block the command while stdout is read).
        let read = Slots<Data>(count: 2)
        for (i, pipe) in [out, err].enumerated() {
            let handle = pipe.fileHandleForReading
            group.enter(); DispatchQueue.global().async { read.set(i, handle.readDataToEndOfFile()); group.leave() }
        }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            throw SlurmError(command: shown, problem: "did not answer within \(Int(timeout)) s", output: "",
                             check: "that slurmctld is up (`scontrol ping`) and reachable from this machine; raise executor.command_timeout in strata.yaml for a slow controller")
        }
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: read.get(0), as: UTF8.self), stderr: String(decoding: read.get(1), as: UTF8.self))
    }
}

