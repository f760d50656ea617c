import Foundation
#if canImport(Glibc)
import Glibc
#endif
import StrataStore

/// A remote on a mounted file system (`file:///path`), e.g. a cluster's shared disk. Writes are atomic (temp
/// file, fsync, rename); `createIfAbsent` is `link(2)`, which fails if the name exists, also over NFS.
public struct FileBackend: RemoteBackend {
    public let root: String
    public init(root: String) { self.root = root }
    public var display: String { "file://\(root)" }

    func path(_ key: String) -> String { root + "/" + key }

    func checkRoot() throws {
        guard let st = FileIO.status(root), st.isDirectory else {
            throw RemoteError(.unreachable, "\(display): no such folder \(root)",
                              fix: "create it (`mkdir -p \(root)`) or mount the shared file system, then run the command again")
        }
    }

    func wrap<T>(_ what: String, _ key: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as RemoteError { throw e } catch {
            let full = errno == ENOSPC || "\(error)".contains("No space left")
            throw RemoteError(full ? .diskFull : .io, "\(display): cannot \(what) \(key): \(error)",
                              fix: full ? "free space on the remote's disk, then run the command again (it resumes)" : nil)
        }
    }

    public func put(_ key: String, _ bytes: [UInt8]) throws {
        try checkRoot()
        let p = path(key)
        try wrap("write", key) {
            try FileIO.makeDirectories((p as NSString).deletingLastPathComponent)
            try FileIO.writeAtomically(p, bytes, mode: 0o644)
        }
    }

    public func get(_ key: String) throws -> [UInt8]? {
        try checkRoot()
        let p = path(key)
        guard FileIO.status(p) != nil else { return nil }
        return try wrap("read", key) { try FileIO.readAll(p) }
    }

    public func getRanges(_ key: String, _ ranges: [ByteRange]) throws -> [[UInt8]] {
        let p = path(key)
        let fd = open(p, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RemoteError(.notFound, "\(display): \(key) is missing on the remote") }
        defer { close(fd) }
        return try ranges.map { r in
            var out = [UInt8](repeating: 0, count: r.length)
            var done = 0
            while done < r.length {
                let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, r.length - done, off_t(r.offset + done)) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    throw RemoteError(.corrupt, "\(display): \(key) ends before byte \(r.offset + r.length) that its index names")
                }
                done += n
            }
            return out
        }
    }

    public func list(_ prefix: String) throws -> [String] {
        try checkRoot()
        var out: [String] = []
        let base = path(prefix)
        guard let en = FileManager.default.enumerator(atPath: base) else { return [] }
        while let rel = en.nextObject() as? String {
            let name = (rel as NSString).lastPathComponent
            if name.hasPrefix(".tmp-") { continue }
            if FileIO.status(base + "/" + rel)?.isRegular == true { out.append(prefix + rel) }
        }
        return out.sorted()
    }

    public func listDated(_ prefix: String) throws -> [DatedKey] {
        try list(prefix).compactMap { k in
            FileIO.status(path(k)).map { DatedKey(key: k, modified: Date(timeIntervalSince1970: Double($0.mtimeNanos) / 1e9)) }
        }
    }

    public func delete(_ keys: [String]) throws {
        for k in keys where unlink(path(k)) != 0 && errno != ENOENT {
            throw RemoteError(.io, "\(display): cannot remove \(k): \(String(cString: strerror(errno)))")
        }
    }

    public func createIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool {
        try checkRoot()
        let p = path(key)
        let dir = (p as NSString).deletingLastPathComponent
        let tmp = FileIO.tempName(in: dir)
        try wrap("write", key) {
            try FileIO.makeDirectories(dir)
            try FileIO.writeAtomically(tmp, bytes, mode: 0o644)
        }
        defer { unlink(tmp) }
        if link(tmp, p) == 0 { FileIO.syncDirectory(dir); return true }
        if errno == EEXIST { return false }
        throw RemoteError(.io, "\(display): cannot create \(key): \(String(cString: strerror(errno)))")
    }

    public func remoteSHA256(_ key: String) throws -> String? {
        try wrap("hash", key) { try FileIO.sha256(path(key)).hex }
    }
}
