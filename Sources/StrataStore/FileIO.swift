import CStrataSys
import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An error from the file layer, always naming the path and the failed operation.
public struct FileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var errno: Int32

    public init(_ operation: String, _ path: String, errno: Int32 = Glibc.errno) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String {
        let text = String(cString: strerror(errno))
        var hint = ""
        switch errno {
        case EACCES, EPERM: hint = " (check the file's permissions)"
        case ENOSPC: hint = " (the disk is full: free space and run the command again; nothing was committed)"
        case EROFS: hint = " (the file system is read-only)"
        case ELOOP: hint = " (a symbolic link loop)"
        default: break
        }
        return "cannot \(operation) \(path): \(text)\(hint)"
    }
}

/// Low-level file operations with explicit error handling: streaming reads, atomic writes.
public enum FileIO {
    public static let chunkSize = 1 << 20

    /// Status of a path without following a final symbolic link when `followLinks` is false.
    public struct Status: Sendable, Equatable {
        public var size: Int
        public var mtimeNanos: Int64
        public var inode: UInt64
        public var mode: UInt32
        /// The fields Strata keeps of a `stat` result.
        public init(_ st: stat) {
            self.init(size: Int(st.st_size), mtimeNanos: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec),
                      inode: UInt64(st.st_ino), mode: st.st_mode)
        }

        public init(size: Int, mtimeNanos: Int64, inode: UInt64, mode: UInt32) {
            self.size = size; self.mtimeNanos = mtimeNanos; self.inode = inode; self.mode = mode
        }

        public var isRegular: Bool { mode & S_IFMT == S_IFREG }
        public var isDirectory: Bool { mode & S_IFMT == S_IFDIR }
        public var isSymlink: Bool { mode & S_IFMT == S_IFLNK }
    }

    public static func status(_ path: String, followLinks: Bool = true) -> Status? {
        var st = stat()
        let rc = followLinks ? stat(path, &st) : lstat(path, &st)
        guard rc == 0 else { return nil }
        return Status(st)
    }

    /// Reads a file in 1 MiB chunks and hands each chunk to `body`. Bounded memory.
    public static func readChunks(
        _ path: String, chunkSize: Int = FileIO.chunkSize,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("open", path) }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, chunkSize)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError("read", path)
            }
            if n == 0 { break }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }

    /// SHA-256 of a file, streamed (lower-case hex) and its size.
    public static func sha256(_ path: String) throws -> (hex: String, size: Int) {
        var hasher = SHA256()
        var size = 0
        try readChunks(path) { chunk in
            hasher.update(bufferPointer: chunk)
            size += chunk.count
        }
        return (hex(hasher.finalize()), size)
    }

    public static func sha256(_ bytes: some DataProtocol) -> String {
        hex(SHA256.hash(data: bytes))
    }

    public static func hex(_ digest: SHA256.Digest) -> String {
        let table: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in digest {
            out.append(table[Int(b >> 4)])
            out.append(table[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func readAll(_ path: String, limit: Int = Int.max) throws -> [UInt8] {
        var out = [UInt8]()
        try readChunks(path) { chunk in
            if out.count + chunk.count > limit { throw FileError("read (larger than \(limit) bytes)", path, errno: EFBIG) }
            out.append(contentsOf: chunk)
        }
        return out
    }

    /// A temp-file name in `dir` unique to this process (pid once, then a counter: no syscalls per name).
    public static func tempName(in dir: String) -> String {
        "\(dir)/.tmp-\(processTag)-\(tempCounter.next())"
    }

    private static let processTag = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    private static let tempCounter = AtomicCounter()

    /// Reads a whole small file with one `read` when it has the size its stat said (bounded by `limit`).
    public static func readSmall(_ path: String, size: Int, limit: Int) throws -> [UInt8] {
        try readSmall(at: AT_FDCWD, path, size: size, limit: limit, display: { path })
    }

    /// `readSmall` of `path` relative to the open directory `dir` (`openat`: the kernel walks only the relative
    /// part, not the whole absolute path again for every file). `display` names the file in errors.
    public static func readSmall(at dir: Int32, _ path: String, size: Int, limit: Int, display: () -> String) throws -> [UInt8] {
        let fd = openat(dir, path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("open", display()) }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: size + 1)
        var filled = 0
        while true {
            if filled == out.count {
                if out.count > limit { throw FileError("read (larger than \(limit) bytes)", display(), errno: EFBIG) }
                out += [UInt8](repeating: 0, count: out.count)
            }
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError("read", display())
            }
            if n == 0 { break }
            filled += n
            // A short read of a regular file means end of file: no second call needed.
            if filled < out.count && filled >= size { break }
        }
        out.removeSubrange(filled...)
        return out
    }

    /// Reads a whole small file into `buffer` (one `read` when the file has fewer bytes than the buffer).
    /// Returns the number of bytes read, or nil when the file fills the buffer: it is larger than the caller
    /// expected (it grew since its stat), and the caller reads it another way.
    public static func readSmall(_ path: String, into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("open", path) }
        defer { close(fd) }
        guard let base = buffer.baseAddress else { return nil }
        var filled = 0
        while filled < buffer.count {
            let n = read(fd, base + filled, buffer.count - filled)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError("read", path)
            }
            if n == 0 { return filled }
            filled += n
            // A short read of a regular file means end of file: no second call needed.
            if filled < buffer.count { return filled }
        }
        return nil
    }

    /// Writes `bytes` as a new file `name` in `dir` atomically (temp file, rename) with `mode`, and returns its
    /// status. If `name` exists it is replaced (callers use content-derived names, so the bytes are the same).
    /// Does not fsync (see `copyAtomically`). (O_TMPFILE + linkat was measured slower here: see docs/ARCHITECTURE.md.)
    public static func writeNew(dir: String, name: String, _ bytes: [UInt8], mode: mode_t) throws -> Status {
        try bytes.withUnsafeBytes { try writeNew(dir: dir, name: name, $0, mode: mode) }
    }

    /// Mode of a file `createNew` is still writing. Nothing else in a Strata project has it, so recovery after a
    /// crash can tell a half-written file from a finished one by its mode alone.
    public static let inProgressMode: mode_t = 0o200

    /// Creates `name` in `dir` straight under its final name (no temp file, no rename: a third of the cost of
    /// writing a small file): created with `inProgressMode`, written, then given `mode`. If the name exists
    /// (a leftover of an interrupted run) it falls back to `writeNew`, which replaces it atomically. A crash
    /// mid-write leaves a file of mode `inProgressMode` that the caller's recovery must remove. No fsync.
    public static func createNew(dir: String, name: String, _ bytes: UnsafeRawBufferPointer, mode: mode_t) throws -> Status {
        let dest = dir + "/" + name
        guard let st = try createAndWrite(dest, bytes, createMode: inProgressMode, finalMode: mode) else {
            if errno == EEXIST { return try writeNew(dir: dir, name: name, bytes, mode: mode) }
            throw FileError("create", dest)
        }
        return st
    }

    /// `writeNew` from memory the caller owns.
    public static func writeNew(dir: String, name: String, _ bytes: UnsafeRawBufferPointer, mode: mode_t) throws -> Status {
        let tmp = tempName(in: dir)
        let dest = dir + "/" + name
        guard let st = try createAndWrite(tmp, bytes, createMode: mode, finalMode: nil) else { throw FileError("create", tmp) }
        guard rename(tmp, dest) == 0 else {
            let error = FileError("rename into place", dest)
            unlink(tmp)
            throw error
        }
        return st
    }

    /// Creates `path` (`O_EXCL`: it must not exist) with `createMode`, writes `bytes`, then gives it `finalMode`
    /// if one is set. Returns the file's status, or nil when it could not be created (`errno` says why). A failure
    /// after the file was created removes it. No fsync.
    private static func createAndWrite(_ path: String, _ bytes: UnsafeRawBufferPointer, createMode: mode_t, finalMode: mode_t?) throws -> Status? {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, createMode)
        guard fd >= 0 else { return nil }
        var ok = false
        defer { if !ok { unlink(path) } }
        var st = stat()
        do {
            defer { close(fd) }
            try writeAll(fd, bytes, path: path)
            if let finalMode, fchmod(fd, finalMode) != 0 { throw FileError("chmod", path) }
            guard fstat(fd, &st) == 0 else { throw FileError("stat", path) }
        }
        ok = true
        return Status(st)
    }

    /// Writes `bytes` to `path` atomically: a temp file in the same folder, fsync, rename, fsync of the folder.
    /// Readers see the old file or the new one, never a partial one.
    public static func writeAtomically(_ path: String, _ bytes: some Collection<UInt8>, mode: mode_t = 0o644, sync: Bool = true) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let tmp = tempName(in: dir)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileError("create", tmp) }
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        do {
            defer { close(fd) }
            try writeAll(fd, bytes, path: tmp)
            if sync, fsync(fd) != 0 { throw FileError("fsync", tmp) }
        }
        guard rename(tmp, path) == 0 else { throw FileError("rename into place", path) }
        ok = true
        if sync { syncDirectory(dir) }
    }

    public static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < raw.count {
            let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError("write", path)
            }
            offset += n
        }
    }

    public static func writeAll(_ fd: Int32, _ bytes: some Collection<UInt8>, path: String) throws {
        let array = Array(bytes)
        var offset = 0
        try array.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileError("write", path)
                }
                offset += n
            }
        }
    }

    /// Copies `source` into `dest` atomically (temp file in dest's folder, then rename) with the given mode, and
    /// returns the new file's status. Does not fsync: callers batch durability with `syncFileSystem` before they
    /// commit the catalog.
    @discardableResult
    public static func copyAtomically(from source: String, to dest: String, mode: mode_t) throws -> Status {
        let dir = (dest as NSString).deletingLastPathComponent
        let tmp = tempName(in: dir)
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw FileError("open", source) }
        defer { close(input) }
        let output = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard output >= 0 else { throw FileError("create", tmp) }
        var ok = false
        defer { if !ok { unlink(tmp) } }
        var status: Status
        do {
            defer { close(output) }
            while true {
                let n = strata_copy_file_range(input, output, 1 << 30)
                if n < 0 {
                    if errno == EINTR { continue }
                    if errno == EXDEV || errno == ENOSYS || errno == EINVAL {
                        try fallbackCopy(input, output, source: source, tmp: tmp)
                        break
                    }
                    throw FileError("copy", "\(source) -> \(tmp)")
                }
                if n == 0 { break }
            }
            var st = stat()
            guard fstat(output, &st) == 0 else { throw FileError("stat", tmp) }
            status = Status(st)
        }
        guard rename(tmp, dest) == 0 else { throw FileError("rename into place", dest) }
        ok = true
        return status
    }

    private static func fallbackCopy(_ input: Int32, _ output: Int32, source: String, tmp: String) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = read(input, buffer.baseAddress, chunkSize)
            if n < 0 { if errno == EINTR { continue }; throw FileError("read", source) }
            if n == 0 { break }
            try writeAll(output, UnsafeRawBufferPointer(rebasing: buffer[0..<n]), path: tmp)
        }
    }

    /// Flushes the whole file system holding `path` (one call instead of an fsync per file).
    /// Hands heap memory freed so far back to the system (glibc `malloc_trim`; a no-op elsewhere). glibc keeps
    /// freed memory, per thread arena, for reuse; long-lived processes call this after a phase that allocated a lot.
    public static func returnFreedMemory() {
        _ = strata_malloc_trim()
    }

    public static func syncFileSystem(_ path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = strata_syncfs(fd)
        close(fd)
    }

    public static func syncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    public static func makeDirectories(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw FileError("create folder", path, errno: EACCES)
        }
    }
}

/// Incremental SHA-256 (swift-crypto), so callers need not import Crypto.
public struct StreamingSHA256: Sendable {
    private var hasher = SHA256()
    public init() {}
    public mutating func update(_ chunk: UnsafeRawBufferPointer) { hasher.update(bufferPointer: chunk) }
    public mutating func update(_ bytes: [UInt8]) { hasher.update(data: bytes) }
    public func finalize() -> String { FileIO.hex(hasher.finalize()) }
}

/// A thread-safe counter.
final class AtomicCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value: UInt64 = 0
    func next() -> UInt64 { lock.withLock { value += 1; return value } }
}
