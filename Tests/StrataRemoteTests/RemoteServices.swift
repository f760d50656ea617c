import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

// The one starter of the real services the remote tests use. StrataRemoteTests compiles this file and
// StrataCLITests compiles the same file through a symbolic link (Tests/StrataCLITests/RemoteServices.swift).

/// Starts a service through the repository's script (`scripts/s3/start.sh`, `scripts/sshd/start.sh`) and returns
/// the environment its `export` lines give. Locally a test is skipped when its service cannot start; under
/// `CI=true` it fails.
enum RemoteServices {
    static let repo: String = {
        var dir = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { dir = dir.deletingLastPathComponent() }
        return dir.path
    }()

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    static func s3(file: StaticString = #filePath, line: UInt = #line) throws -> [String: String] {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/swift-proxy-server") || isCI else {
            throw XCTSkip("OpenStack Swift is not installed; `bash scripts/s3/start.sh` installs and starts it")
        }
        return try start(repo + "/scripts/s3/start.sh", file: file, line: line)
    }

    static func sshd(file: StaticString = #filePath, line: UInt = #line) throws -> [String: String] {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") || isCI else {
            throw XCTSkip("sshd is not installed (Debian openssh-server); `bash scripts/sshd/start.sh` installs and starts it")
        }
        return try start(repo + "/scripts/sshd/start.sh", file: file, line: line)
    }

    /// What a start script printed and how it ended.
    struct ScriptRun { var status: Int32; var stdout: String; var stderr: String }

    /// Runs a start script with its stdout and stderr going to temporary files, not pipes, and waits for the
    /// script's own exit with `waitpid`. The daemons a script leaves running keep whatever descriptors they
    /// inherit: with pipes (or Foundation's `Process`, which watches for the child's exit through a descriptor the
    /// child inherits) the caller waited for an end of file that never came, which hung the tests whenever a
    /// service had to be started. Here the child gets only stdin, stdout and stderr; every other descriptor is closed.
    static func runScript(_ script: String, timeout: TimeInterval = 600) throws -> ScriptRun {
        let base = NSTemporaryDirectory() + "strata-service-\(getpid())-\(UUID().uuidString)"
        defer { unlink(base + ".out"); unlink(base + ".err") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, base + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, base + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // Every other descriptor this process has open (glibc's `addclosefrom_np` is not imported into Swift).
        let open = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
        for fd in open where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/bash"), strdup(script), nil]
        defer { for a in argv { free(a) } }
        let rc = posix_spawn(&pid, "/bin/bash", &actions, nil, argv, environ)
        guard rc == 0 else {
            throw NSError(domain: "RemoteServices", code: 2, userInfo: [NSLocalizedDescriptionKey: "cannot start \(script): \(String(cString: strerror(rc)))"])
        }
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR {
                throw NSError(domain: "RemoteServices", code: 3, userInfo: [NSLocalizedDescriptionKey: "waitpid: \(String(cString: strerror(errno)))"])
            }
            if Date() > deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                throw NSError(domain: "RemoteServices", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(script) did not finish in \(Int(timeout)) s"])
            }
            usleep(20_000)
        }
        // Exit code, or 128 + signal, as a shell reports it.
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let stdout = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
        return ScriptRun(status: code, stdout: stdout, stderr: stderr)
    }

    static func start(_ script: String, timeout: TimeInterval = 600, file: StaticString = #filePath, line: UInt = #line) throws -> [String: String] {
        let r = try runScript(script, timeout: timeout)
        guard r.status == 0 else {
            let why = "\(script) failed (exit \(r.status)): \(r.stderr.suffix(2000))"
            if isCI { XCTFail(why, file: file, line: line) }
            throw XCTSkip(why)
        }
        return ProcessInfo.processInfo.environment.merging(exports(r.stdout)) { _, new in new }
    }

    /// The variables of `export NAME=value` lines (a value may be in single quotes).
    static func exports(_ text: String) -> [String: String] {
        var env: [String: String] = [:]
        for l in text.split(separator: "\n") where l.hasPrefix("export ") {
            let kv = l.dropFirst(7)
            guard let eq = kv.firstIndex(of: "=") else { continue }
            var v = String(kv[kv.index(after: eq)...])
            if v.hasPrefix("'") && v.hasSuffix("'") && v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            env[String(kv[..<eq])] = v
        }
        return env
    }

    /// Runs `body` with the service's variables in this process's environment (the CLI runs inherit them).
    static func with(_ env: [String: String], _ body: () throws -> Void) rethrows {
        let keys = env.keys.filter { $0.hasPrefix("AWS_") || $0.hasPrefix("STRATA_SSH") }
        let saved = keys.map { ($0, getenv($0).map { String(cString: $0) }) }
        for k in keys { setenv(k, env[k]!, 1) }
        defer { for (k, v) in saved { if let v { setenv(k, v, 1) } else { unsetenv(k) } } }
        try body()
    }
}
