import Foundation
import StrataCore

/// A remote on another machine reached with the system's OpenSSH client (`ssh://[user@]host[:port]/path`), as git
/// and rsync do: the user's keys, agent and `~/.ssh/config` apply. Each operation is one `ssh host sh -c SCRIPT`
/// with POSIX tools on the far side (`cat`, `mv`, `ln`, `find`, `sha256sum`). `STRATA_SSH_COMMAND` replaces the
/// `ssh` program and its options (split on spaces, like `GIT_SSH_COMMAND`).
public struct SSHBackend: RemoteBackend {
    public let user: String?
    public let host: String
    public let port: Int?
    public let root: String
    let command: [String]

    public init(user: String?, host: String, port: Int?, root: String, environment: [String: String]) {
        self.user = user; self.host = host; self.port = port; self.root = root
        if let custom = environment["STRATA_SSH_COMMAND"], !custom.trimmingCharacters(in: .whitespaces).isEmpty {
            command = custom.split(separator: " ").map(String.init)
        } else {
            command = ["ssh"]
        }
    }

    public var display: String { RemoteURL.ssh(user: user, host: host, port: port, path: root).description }

    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    func p(_ key: String) -> String { SSHBackend.quote(root + "/" + key) }

    /// Runs `script` with `sh` on the remote host; returns (exit status, stdout, stderr).
    func run(_ script: String, input: [UInt8]? = nil) throws -> (Int32, [UInt8], String) {
        var args = Array(command.dropFirst())
        args += ["-o", "BatchMode=yes", "-o", "ConnectTimeout=15"]
        if let port { args += ["-p", String(port)] }
        args.append(user.map { "\($0)@\(host)" } ?? host)
        args.append("sh -c " + SSHBackend.quote(script))
        let result = try Subprocess.run(command[0], args, input: input)
        if result.status == 255 {
            let err = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            let denied = err.contains("Permission denied") || err.contains("Host key verification failed")
            throw RemoteError(denied ? .credentials : .unreachable, "\(display): ssh failed: \(err.isEmpty ? "exit 255" : err)",
                              fix: denied ? "check that `ssh \(user.map { "\($0)@" } ?? "")\(host)` logs in without a password (keys or agent)"
                                          : "check the host name and port and that sshd runs there")
        }
        return (result.status, result.stdout, result.stderr)
    }

    func check(_ r: (Int32, [UInt8], String), _ what: String) throws -> [UInt8] {
        guard r.0 == 0 else {
            let full = r.2.contains("No space left")
            throw RemoteError(full ? .diskFull : .io, "\(display): \(what) failed (exit \(r.0)): \(r.2.trimmingCharacters(in: .whitespacesAndNewlines))",
                              fix: full ? "free space on the remote's disk, then run the command again (it resumes)" : nil)
        }
        return r.1
    }

    public func put(_ key: String, _ bytes: [UInt8]) throws {
        let dest = p(key)
        let dir = SSHBackend.quote(((root + "/" + key) as NSString).deletingLastPathComponent)
        _ = try check(try run("set -e; mkdir -p \(dir); t=\(dir)/.tmp-$$; cat > \"$t\"; mv -f \"$t\" \(dest)", input: bytes), "writing \(key)")
    }

    public func get(_ key: String) throws -> [UInt8]? {
        let r = try run("[ -f \(p(key)) ] || exit 3; cat \(p(key))")
        if r.0 == 3 { return nil }
        return try check(r, "reading \(key)")
    }

    public func getRanges(_ key: String, _ ranges: [ByteRange]) throws -> [[UInt8]] {
        if ranges.isEmpty { return [] }
        var script = "set -e; [ -f \(p(key)) ] || exit 3; f=\(p(key))\n"
        for r in ranges { script += "tail -c +\(r.offset + 1) \"$f\" | head -c \(r.length)\n" }
        let res = try run(script)
        if res.0 == 3 { throw RemoteError(.notFound, "\(display): \(key) is missing on the remote") }
        let out = try check(res, "reading \(key)")
        var parts: [[UInt8]] = []
        var at = 0
        for r in ranges {
            guard at + r.length <= out.count else {
                throw RemoteError(.corrupt, "\(display): \(key) is shorter than its index says")
            }
            parts.append(Array(out[at..<(at + r.length)]))
            at += r.length
        }
        return parts
    }

    public func list(_ prefix: String) throws -> [String] {
        let dir = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        let r = try run("cd \(SSHBackend.quote(root)) 2>/dev/null || exit 4; [ -d \(SSHBackend.quote(dir)) ] || exit 0; find \(SSHBackend.quote(dir)) -type f ! -name '.tmp-*'")
        if r.0 == 4 {
            throw RemoteError(.unreachable, "\(display): no such folder \(root) on \(host)", fix: "create it (`ssh \(host) mkdir -p \(root)`), then run the command again")
        }
        let out = String(decoding: try check(r, "listing \(prefix)"), as: UTF8.self)
        return out.split(separator: "\n").map(String.init).sorted()
    }

    public func listDated(_ prefix: String) throws -> [DatedKey] {
        let dir = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        let r = try run("cd \(SSHBackend.quote(root)) 2>/dev/null || exit 4; [ -d \(SSHBackend.quote(dir)) ] || exit 0; find \(SSHBackend.quote(dir)) -type f ! -name '.tmp-*' -printf '%T@ %p\\n'")
        if r.0 == 4 {
            throw RemoteError(.unreachable, "\(display): no such folder \(root) on \(host)", fix: "create it (`ssh \(host) mkdir -p \(root)`), then run the command again")
        }
        let out = String(decoding: try check(r, "listing \(prefix)"), as: UTF8.self)
        return out.split(separator: "\n").compactMap { line -> DatedKey? in
            guard let sp = line.firstIndex(of: " "), let t = Double(line[..<sp]) else { return nil }
            return DatedKey(key: String(line[line.index(after: sp)...]), modified: Date(timeIntervalSince1970: t))
        }.sorted { $0.key < $1.key }
    }

    public func delete(_ keys: [String]) throws {
        var i = 0
        while i < keys.count {
            let chunk = keys[i..<min(keys.count, i + 200)]
            _ = try check(try run("rm -f -- " + chunk.map(p).joined(separator: " ")), "removing objects")
            i += 200
        }
    }

    public func createIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool {
        let dir = SSHBackend.quote(((root + "/" + key) as NSString).deletingLastPathComponent)
        let r = try run("""
            set -e; mkdir -p \(dir); t=\(dir)/.tmp-$$; cat > "$t"
            if ln "$t" \(p(key)) 2>/dev/null; then rm -f "$t"; exit 0; fi
            rm -f "$t"; [ -e \(p(key)) ] && exit 5; exit 1
            """, input: bytes)
        if r.0 == 5 { return false }
        _ = try check(r, "creating \(key)")
        return true
    }

    public func remoteSHA256(_ key: String) throws -> String? {
        let out = String(decoding: try check(try run("sha256sum \(p(key))"), "hashing \(key)"), as: UTF8.self)
        return out.split(separator: " ").first.map(String.init)
    }
}

/// Runs a program and collects its output (stdin written from another thread, so a large input cannot deadlock).
enum Subprocess {
    struct Result { var status: Int32; var stdout: [UInt8]; var stderr: String }

    static func run(_ program: String, _ args: [String], input: [UInt8]?) throws -> Result {
        let proc = Process()
        if program.contains("/") {
            proc.executableURL = URL(fileURLWithPath: program)
            proc.arguments = args
        } else {
            proc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            proc.arguments = [program] + args
        }
        let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
        proc.standardOutput = outPipe
        proc.standardError = errPipe
        proc.standardInput = input == nil ? FileHandle.nullDevice : inPipe
        do { try proc.run() } catch {
            throw RemoteError(.unreachable, "cannot start \(program): \(error)", fix: "install the OpenSSH client (`apt-get install openssh-client`)")
        }
        let group = DispatchGroup()
        if let input {
            let writer = inPipe.fileHandleForWriting
            DispatchQueue.global().async(group: group) {
                try? writer.write(contentsOf: input)
                try? writer.close()
            }
        }
        let errBox = Locked(Data())
        let errHandle = errPipe.fileHandleForReading
        DispatchQueue.global().async(group: group) {
            let d = (try? errHandle.readToEnd()) ?? Data()
            errBox.withLock { $0 = d }
        }
        let out = (try? outPipe.fileHandleForReading.readToEnd()) ?? Data()
        proc.waitUntilExit()
        group.wait()
        return Result(status: proc.terminationStatus, stdout: [UInt8](out), stderr: String(decoding: errBox.value, as: UTF8.self))
    }
}
