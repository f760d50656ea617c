import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Content-addressed store: `objects/ab/cdef...` named by the SHA-256 of the bytes.
/// Writes are atomic (temp file, fsync, rename) and idempotent: putting bytes that are already there does nothing.
public struct ObjectStore: Sendable {
    public let root: String

    /// Where a project keeps its objects, relative to the project root.
    public static let projectDirectory = ".strata/objects"

    public init(root: String) {
        self.root = root
    }

    /// The store of the project at `projectRoot`.
    public init(projectRoot: String) {
        self.root = projectRoot + "/" + Self.projectDirectory
    }

    public func path(for digest: String) -> String {
        "\(root)/\(relativePath(for: digest))"
    }

    /// The object's path relative to `root` (for `openat` on an open `root`). The one place the fan-out layout
    /// (two hex digits, then the rest) is spelled; remotes use the same layout under their own prefix.
    public func relativePath(for digest: String) -> String { Self.fanOut(digest) }

    /// `ab/cdef...` for digest `abcdef...`.
    public static func fanOut(_ digest: String) -> String { "\(digest.prefix(2))/\(digest.dropFirst(2))" }

    /// The object's path relative to a project root (for messages and quarantine records).
    public static func projectPath(for digest: String) -> String { projectDirectory + "/" + fanOut(digest) }

    public func contains(_ digest: String) -> Bool {
        access(path(for: digest), F_OK) == 0
    }

    /// Stores `bytes` and returns their digest.
    @discardableResult
    public func put(_ bytes: [UInt8], sync: Bool = true) throws -> String {
        let digest = FileIO.sha256(bytes)
        let dest = path(for: digest)
        if access(dest, F_OK) == 0 { return digest }
        // One `mkdir` (EEXIST is the common answer) instead of Foundation's createDirectory, which stats and walks
        // the path on every call: record ingest puts one object per row.
        let dir = "\(root)/\(digest.prefix(2))"
        if mkdir(dir, 0o755) != 0 && errno != EEXIST { try FileIO.makeDirectories(dir) }
        try FileIO.writeAtomically(dest, bytes, mode: 0o444, sync: sync)
        return digest
    }

    public func get(_ digest: String) throws -> [UInt8] {
        try FileIO.readAll(path(for: digest))
    }

    /// Re-hashes an object and reports whether its bytes still match its name.
    public func verify(_ digest: String) -> Bool {
        guard let (hex, _) = try? FileIO.sha256(path(for: digest)) else { return false }
        return hex == digest
    }

    /// Every digest in the store.
    public func all() -> [String] {
        var out: [String] = []
        let fm = FileManager.default
        guard let prefixes = try? fm.contentsOfDirectory(atPath: root) else { return [] }
        for p in prefixes where p.count == 2 {
            for rest in (try? fm.contentsOfDirectory(atPath: "\(root)/\(p)")) ?? [] where !rest.hasPrefix(".tmp-") {
                out.append(p + rest)
            }
        }
        return out.sorted()
    }
}

/// An open directory (for `openat`), closed when the last reference goes. `fd` is -1 when it could not be opened;
/// callers then use full paths.
public final class OpenDirectory: Sendable {
    public let fd: Int32
    public init(_ path: String) { fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    deinit { if fd >= 0 { close(fd) } }
}
