import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Content-addressed store: loose objects `objects/ab/cdef...` named by the SHA-256 of the bytes, and packs
/// (`objects/pack/`, see `PackFormat`) holding many objects each. Readers (`get`, `read`, `contains`, `verify`,
/// `all`) look in both; `path(for:)` is the loose file only (for libraries that read files: media).
/// Writes are atomic (temp file, fsync, rename) and idempotent: putting bytes that are already there does nothing.
public struct ObjectStore: Sendable {
    public let root: String
    /// The packs, opened on first use (shared by the copies of this value).
    let packs: PackSet

    /// Where a project keeps its objects, relative to the project root.
    public static let projectDirectory = ".strata/objects"

    public init(root: String) {
        self.root = root
        packs = PackSet(directory: root + "/" + PackFormat.directory)
    }

    /// The store of the project at `projectRoot`.
    public init(projectRoot: String) {
        self.init(root: projectRoot + "/" + Self.projectDirectory)
    }

    public func path(for digest: String) -> String {
        "\(root)/\(relativePath(for: digest))"
    }

    /// The path of a loose file holding the object: the loose object, or (for an object only in a pack) a loose copy
    /// written now, so programs that read files (command stages, media libraries) can read it.
    public func loosePath(for digest: String) throws -> String {
        let dest = path(for: digest)
        if access(dest, F_OK) == 0 { return dest }
        guard let loc = packs.locate(digest, refresh: true) else { return dest }
        let bytes = try loc.pack.read(loc.entry)
        let dir = "\(root)/\(digest.prefix(2))"
        if mkdir(dir, 0o755) != 0 && errno != EEXIST { try FileIO.makeDirectories(dir) }
        try FileIO.writeAtomically(dest, bytes, mode: 0o444, sync: false)
        return dest
    }

    /// The object's path relative to `root` (for `openat` on an open `root`). The one place the fan-out layout
    /// (two hex digits, then the rest) is spelled; remotes use the same layout under their own prefix.
    public func relativePath(for digest: String) -> String { Self.fanOut(digest) }

    /// `ab/cdef...` for digest `abcdef...`.
    public static func fanOut(_ digest: String) -> String { "\(digest.prefix(2))/\(digest.dropFirst(2))" }

    /// The object's path relative to a project root (for messages and quarantine records).
    public static func projectPath(for digest: String) -> String { projectDirectory + "/" + fanOut(digest) }

    public func contains(_ digest: String) -> Bool {
        packs.locate(digest, refresh: false) != nil || access(path(for: digest), F_OK) == 0
            || packs.locate(digest, refresh: true) != nil
    }

    /// The length of an object's bytes, or nil when it is not in the store.
    public func size(of digest: String) -> Int? {
        if let loc = packs.locate(digest, refresh: false) { return loc.pack.entry(loc.entry).length }
        if let st = FileIO.status(path(for: digest)) { return st.size }
        return packs.locate(digest, refresh: true).map { $0.pack.entry($0.entry).length }
    }

    /// Stores `bytes` and returns their digest.
    @discardableResult
    public func put(_ bytes: [UInt8], sync: Bool = true) throws -> String {
        let digest = FileIO.sha256(bytes)
        let dest = path(for: digest)
        if access(dest, F_OK) == 0 || packs.locate(digest, refresh: false) != nil { return digest }
        // One `mkdir` (EEXIST is the common answer) instead of Foundation's createDirectory, which stats and walks
        // the path on every call: record ingest puts one object per row.
        let dir = "\(root)/\(digest.prefix(2))"
        if mkdir(dir, 0o755) != 0 && errno != EEXIST { try FileIO.makeDirectories(dir) }
        try FileIO.writeAtomically(dest, bytes, mode: 0o444, sync: sync)
        return digest
    }

    public func get(_ digest: String) throws -> [UInt8] {
        try read(digest) { try FileIO.readAll(path(for: digest)) }
    }

    /// An object's bytes, reading a loose object relative to `dir` (the open `root`, for `openat`) with one `read`
    /// when it has `size` bytes. The fast path of pipeline tasks.
    public func read(_ digest: String, size: Int, in dir: OpenDirectory) throws -> [UInt8] {
        try read(digest) {
            dir.fd >= 0
                ? try FileIO.readSmall(at: dir.fd, relativePath(for: digest), size: max(0, size), limit: Int.max, display: { path(for: digest) })
                : try FileIO.readSmall(path(for: digest), size: max(0, size), limit: Int.max)
        }
    }

    /// Packs first (no system call), then the loose file, then packs written since they were last listed.
    private func read(_ digest: String, loose: () throws -> [UInt8]) throws -> [UInt8] {
        if let loc = packs.locate(digest, refresh: false) { return try loc.pack.read(loc.entry) }
        do {
            return try loose()
        } catch let error as FileError where error.errno == ENOENT {
            if let loc = packs.locate(digest, refresh: true) { return try loc.pack.read(loc.entry) }
            // Not anywhere: a damaged pack may be why.
            if let damaged = packs.problems().first {
                throw PackError(damaged.path, damaged.problem + " (object \(digest) is not a loose file and may be in it)")
            }
            throw error
        }
    }

    /// Re-hashes an object and reports whether its bytes still match its name.
    public func verify(_ digest: String) -> Bool {
        if access(path(for: digest), F_OK) == 0 {
            guard let (hex, _) = try? FileIO.sha256(path(for: digest)) else { return false }
            return hex == digest
        }
        guard let loc = packs.locate(digest, refresh: true), let bytes = try? loc.pack.read(loc.entry) else { return false }
        return FileIO.sha256(bytes) == digest
    }

    /// Every digest in the store (loose and packed).
    public func all() -> [String] {
        var out = packs.allDigests()
        let fm = FileManager.default
        guard let prefixes = try? fm.contentsOfDirectory(atPath: root) else { return [] }
        for p in prefixes where p.count == 2 {
            for rest in (try? fm.contentsOfDirectory(atPath: "\(root)/\(p)")) ?? [] where !rest.hasPrefix(".tmp-") {
                out.append(p + rest)
            }
        }
        return Array(Set(out)).sorted()
    }
}

/// An open directory (for `openat`), closed when the last reference goes. `fd` is -1 when it could not be opened;
/// callers then use full paths.
public final class OpenDirectory: Sendable {
    public let fd: Int32
    public init(_ path: String) { fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    deinit { if fd >= 0 { close(fd) } }
}
