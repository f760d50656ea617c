import Foundation

/// Why a remote operation failed, in words a user can act on.
public struct RemoteError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable { case unreachable, credentials, missingBucket, notFound, corrupt, conflict, io, usage, diskFull }
    public var kind: Kind
    public var message: String
    public var fix: String?
    public init(_ kind: Kind, _ message: String, fix: String? = nil) { self.kind = kind; self.message = message; self.fix = fix }
    public var description: String { fix.map { "\(message)\n  fix: \($0)" } ?? message }
}

/// The storage a remote lives on. Keys are `/`-separated paths relative to the remote's root (the layout is in
/// docs/remotes.md). Every method is synchronous and safe to call from several threads.
public protocol RemoteBackend: Sendable {
    /// How the remote is named in messages (its URL).
    var display: String { get }
    /// Writes `bytes` under `key`, replacing any earlier content (only used for content-addressed keys, whose
    /// content never changes, and for files whose writer owns the key).
    func put(_ key: String, _ bytes: [UInt8]) throws
    /// The bytes under `key`, or nil when there is no such key.
    func get(_ key: String) throws -> [UInt8]?
    /// Byte ranges of one key, in the order asked.
    func getRanges(_ key: String, _ ranges: [ByteRange]) throws -> [[UInt8]]
    /// Every key under `prefix` (a folder such as `packs/`), sorted.
    func list(_ prefix: String) throws -> [String]
    /// Every key under `prefix` with the time it was last written, sorted by key (`strata remote gc`'s grace period).
    func listDated(_ prefix: String) throws -> [DatedKey]
    /// Removes keys (missing keys are not an error).
    func delete(_ keys: [String]) throws
    /// Writes `bytes` under `key` only if nothing is there: true when written, false when the key already existed.
    /// This is the conditional reference update: two writers racing for one key never both succeed.
    func createIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool
    /// The SHA-256 (hex) of a key's bytes as computed where they are stored (the remote side of the two-end check),
    /// or nil when the backend cannot compute it remotely (the caller then re-reads the bytes).
    func remoteSHA256(_ key: String) throws -> String?
}

public struct DatedKey: Sendable, Equatable {
    public var key: String
    public var modified: Date
    public init(key: String, modified: Date) { self.key = key; self.modified = modified }
}

public struct ByteRange: Sendable, Equatable, Hashable, Codable {
    public var offset: Int
    public var length: Int
    public init(offset: Int, length: Int) { self.offset = offset; self.length = length }
}

extension RemoteBackend {
    public func getRanges(_ key: String, _ ranges: [ByteRange]) throws -> [[UInt8]] {
        guard let all = try get(key) else { throw RemoteError(.notFound, "\(display): \(key) is missing on the remote") }
        return try ranges.map { r in
            guard r.offset >= 0, r.offset + r.length <= all.count else {
                throw RemoteError(.corrupt, "\(display): \(key) is \(all.count) bytes, shorter than its index says (\(r.offset + r.length))")
            }
            return Array(all[r.offset..<(r.offset + r.length)])
        }
    }
    public func remoteSHA256(_ key: String) throws -> String? { nil }
}

/// Opens the backend a remote URL names.
public enum Remotes {
    public static func backend(for url: RemoteURL, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> any RemoteBackend {
        switch url {
        case .file(let path): return FileBackend(root: path)
        case .s3(let bucket, let prefix):
            var b = try S3Backend(bucket: bucket, prefix: prefix, config: S3Config.resolve(environment: environment))
            if let n = environment["STRATA_S3_MULTIPART_BYTES"].flatMap({ Int($0) }), n >= 5 << 20 { b.multipartThreshold = n; b.partSize = min(b.partSize, n) }
            return b
        case .ssh(let user, let host, let port, let path): return SSHBackend(user: user, host: host, port: port, root: path, environment: environment)
        }
    }
}
