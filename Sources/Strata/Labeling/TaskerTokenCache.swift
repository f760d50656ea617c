import Foundation
#if canImport(Glibc)
import Glibc
#endif
import StrataCatalog
import StrataCore

/// A counter in `.strata/taskers.generation` that every revocation raises after its commit, in whichever process
/// it runs. A server that keeps taskers in memory reads it before trusting what it kept: a changed counter means
/// "ask the catalog again". Reading it is one `pread` of 8 bytes on a file kept open (plus an `fstat` to notice a
/// file that was deleted and created anew), far cheaper than a catalog lookup.
final class TaskerGenerationFile: Sendable {
    let path: String
    /// The open file descriptor (-1: not open).
    private let fd = Locked<Int32>(-1)

    init(strataDir: String) {
        path = strataDir + "/taskers.generation"
    }

    deinit { fd.withLock { if $0 >= 0 { close($0) } } }

    /// The current counter, or nil when the file cannot be opened (then nothing may be cached).
    func current() -> UInt64? {
        let path = self.path
        return fd.withLock { fd in
            if fd >= 0 {
                var st = stat()
                // A file deleted (and perhaps created anew) since it was opened: open the one at the path.
                if fstat(fd, &st) != 0 || st.st_nlink == 0 { close(fd); fd = -1 }
            }
            if fd < 0 {
                fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
                if fd < 0 { return nil }
            }
            return Self.read(fd)
        }
    }

    /// Raises the counter (under an exclusive `flock`, so two revoking processes never write the same value).
    func bump() throws {
        let f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard f >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        defer { close(f) }
        flock(f, LOCK_EX)
        defer { flock(f, LOCK_UN) }
        var next = (Self.read(f) ?? 0) &+ 1
        let n = withUnsafeBytes(of: &next) { pwrite(f, $0.baseAddress, 8, 0) }
        guard n == 8 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    }

    private static func read(_ fd: Int32) -> UInt64? {
        var value: UInt64 = 0
        let n = withUnsafeMutableBytes(of: &value) { pread(fd, $0.baseAddress, 8, 0) }
        if n == 0 { return 0 }  // never bumped
        return n == 8 ? value : nil
    }
}

/// Bearer tokens resolved to taskers, kept in memory, with revocation honoured at once.
///
/// A token is looked up in the catalog (SHA-256 of the token against `tasker.tokenHash`) the first time, then
/// answered from memory while the revocation counter (`TaskerGenerationFile`) stays the same. Every revocation
/// (`Workspace.revokeTasker`, from this process or the CLI) commits first and raises the counter after, and the
/// cache is emptied when it sees a new value, so the first request after a revocation returns already goes to the
/// catalog. A lookup that raced with a revocation is not kept (the counter moved while it ran). Unknown tokens are
/// never cached (a tasker added a moment ago signs in at once; bad tokens go to the sign-in rate limit).
public final class TaskerTokenCache: Sendable {
    private struct Memory: Sendable {
        /// The revocation counter the kept taskers were looked up under.
        var seen: UInt64 = 0
        var taskers: [String: Tasker] = [:]
        var lookups = 0
    }
    private let workspace: Workspace
    private let generation: TaskerGenerationFile
    private let memory = Locked(Memory())
    /// Catalog lookups done (for tests and the benchmark notes).
    public var lookups: Int { memory.withLock { $0.lookups } }

    /// Taskers kept at most (a server has a few hundred; past this the cache starts over).
    static let capacity = 10_000

    public init(workspace: Workspace) {
        self.workspace = workspace
        generation = TaskerGenerationFile(strataDir: workspace.strataDir)
    }

    /// The tasker holding `token`, or nil for an unknown or revoked token.
    public func tasker(token: String) throws -> Tasker? {
        guard Workspace.isTokenShaped(token) else { return nil }
        let hash = Workspace.tokenHash(token)
        guard let before = generation.current() else {
            // No counter to trust: every request asks the catalog.
            return try lookup(hash)
        }
        let kept = memory.withLock { m -> Tasker? in
            if before != m.seen {
                m.taskers.removeAll(keepingCapacity: true)
                m.seen = before
            }
            return m.taskers[hash]
        }
        if let kept { return kept }
        guard let t = try lookup(hash) else { return nil }
        // Keep it only when no revocation happened since `before` was read (the lookup may predate it).
        if generation.current() == before {
            memory.withLock { m in
                guard m.seen == before else { return }
                if m.taskers.count >= Self.capacity { m.taskers.removeAll(keepingCapacity: true) }
                m.taskers[hash] = t
            }
        }
        return t
    }

    private func lookup(_ hash: String) throws -> Tasker? {
        memory.withLock { $0.lookups += 1 }
        return try workspace.catalog.tasker(tokenHash: hash).flatMap(Tasker.init)
    }
}
