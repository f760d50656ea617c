import Foundation
import StrataCore
#if canImport(Glibc)
import Glibc
#endif

/// A child process started in the background and left to run: its own process group (a Ctrl-C at the terminal
/// reaches the driver, which decides what to cancel, not the child), standard input from /dev/null, standard output
/// and error appended to one file, SIGINT and SIGTERM back to their default action.
final class SpawnedProcess: Sendable {
    let pid: pid_t
    let command: String
    /// The exit status once `waitpid` reported it.
    private let status = Locked<Int32?>(nil)

    private init(pid: pid_t, command: String) { self.pid = pid; self.command = command }

    /// Starts `executable args` with `environment`; throws when it cannot start.
    static func start(_ executable: String, _ args: [String], environment: [String: String], output: String) throws -> SpawnedProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv = ([executable] + args).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        let shown = ([executable] + args).map(shellQuote).joined(separator: " ")
        guard rc == 0 else {
            throw SlurmError(command: shown, problem: "cannot start: \(String(cString: strerror(rc)))", output: "", check: "that \(executable) is executable")
        }
        return SpawnedProcess(pid: pid, command: shown)
    }

    /// The exit status once the process has ended (128 + signal when a signal ended it), nil while it runs. Never
    /// blocks.
    func exitStatus() -> Int32? {
        let pid = self.pid
        return status.withLock { status in
            if let status { return status }
            var raw: Int32 = 0
            let r = waitpid(pid, &raw, WNOHANG)
            if r == pid {
                let signal = raw & 0x7f
                status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
            } else if r < 0 && errno == ECHILD {
                status = -1  // reaped elsewhere: ended, status unknown
            }
            return status
        }
    }
}
