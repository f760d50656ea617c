import Foundation
import StrataStore

/// The keys of a remote (the contract in docs/remotes.md). Nothing but these names is ever written.
public enum RemoteLayout {
    public static let format = "strata.remote/1"
    public static let marker = "strata-remote.json"
    public static func object(_ digest: String) -> String { "objects/" + ObjectStore.fanOut(digest) }
    public static func pack(_ id: String) -> String { "packs/\(id).pack" }
    public static func packIndex(_ id: String) -> String { "packs/\(id).idx" }
    public static func versionRecord(_ id: String) -> String { "versions/\(id).json" }
    public static func ref(_ name: String) -> String { "refs/versions/\(name)" }
    public static func labelBatch(_ digest: String) -> String { "labels/\(digest).jsonl" }
    public static func findingBatch(_ digest: String) -> String { "findings/\(digest).jsonl" }

    /// The digest a loose-object key names, or nil.
    public static func looseDigest(_ key: String) -> String? {
        let parts = key.split(separator: "/")
        guard parts.count == 3, parts[0] == "objects", parts[1].count == 2, parts[2].count == 62 else { return nil }
        return String(parts[1] + parts[2])
    }

    /// The pack id of a `packs/ID.idx` key, or nil.
    public static func packId(ofIndex key: String) -> String? {
        guard key.hasPrefix("packs/"), key.hasSuffix(".idx") else { return nil }
        return String(key.dropFirst(6).dropLast(4))
    }
}

/// A pack's index: which objects a pack holds and where. Text, one line per object, sorted by digest:
/// `strata.pack/1 <pack sha256> <pack size>` then `<digest> <offset> <length>`.
public struct PackIndex: Sendable, Equatable {
    public var packId: String
    public var packSize: Int
    public var entries: [String: ByteRange]

    public init(packId: String, packSize: Int, entries: [String: ByteRange]) {
        self.packId = packId; self.packSize = packSize; self.entries = entries
    }

    public func encoded() -> [UInt8] {
        var s = "strata.pack/1 \(packId) \(packSize)\n"
        for (d, r) in entries.sorted(by: { $0.key < $1.key }) { s += "\(d) \(r.offset) \(r.length)\n" }
        return Array(s.utf8)
    }

    public static func decode(_ bytes: [UInt8], key: String) throws -> PackIndex {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        func bad(_ line: Int, _ why: String) -> RemoteError { RemoteError(.corrupt, "\(key):\(line): \(why)", fix: "run `strata push` again from a project that has these objects") }
        let head = lines.first?.split(separator: " ") ?? []
        guard head.count == 3, head[0] == "strata.pack/1", let size = Int(head[2]) else { throw bad(1, "not a strata.pack/1 index") }
        var entries: [String: ByteRange] = [:]
        for (i, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            let f = line.split(separator: " ")
            guard f.count == 3, f[0].count == 64, let off = Int(f[1]), let len = Int(f[2]), off >= 0, len >= 0, off + len <= size else {
                throw bad(i + 1, "expected `<sha256> <offset> <length>` inside the pack's \(size) bytes")
            }
            entries[String(f[0])] = ByteRange(offset: off, length: len)
        }
        return PackIndex(packId: String(head[1]), packSize: size, entries: entries)
    }
}

/// Where each object on a remote is: loose, or in a pack at a range.
public struct RemoteInventory: Sendable {
    public enum Location: Sendable, Equatable { case loose; case packed(pack: String, range: ByteRange) }
    public var locations: [String: Location] = [:]
    public init() {}

    public mutating func add(_ index: PackIndex) {
        for (d, r) in index.entries where locations[d] == nil { locations[d] = .packed(pack: index.packId, range: r) }
    }
    public mutating func addLoose(_ digest: String) { locations[digest] = .loose }
    public func contains(_ digest: String) -> Bool { locations[digest] != nil }
}

/// Pure planning of transfers (no I/O), so it is unit-tested on its own.
public enum TransferPlan {
    public struct Object: Sendable, Equatable { public var digest: String; public var size: Int
        public init(digest: String, size: Int) { self.digest = digest; self.size = size } }

    /// What to upload: objects the remote lacks (each once), small ones grouped into packs of about `packTarget`
    /// bytes in digest order, large ones (>= `looseThreshold`) sent alone.
    public static func upload(_ wanted: [Object], remote: RemoteInventory, packTarget: Int, looseThreshold: Int)
        -> (packs: [[Object]], loose: [Object], alreadyThere: Int)
    {
        var seen = Set<String>()
        var missing: [Object] = []
        var there = 0
        for o in wanted.sorted(by: { $0.digest < $1.digest }) where seen.insert(o.digest).inserted {
            if remote.contains(o.digest) { there += 1 } else { missing.append(o) }
        }
        var packs: [[Object]] = [], current: [Object] = [], size = 0
        var loose: [Object] = []
        for o in missing {
            if o.size >= looseThreshold { loose.append(o); continue }
            if size + o.size > packTarget && !current.isEmpty { packs.append(current); current = []; size = 0 }
            current.append(o); size += o.size
        }
        if !current.isEmpty { packs.append(current) }
        return (packs, loose, there)
    }

    /// One read of a pack covering several objects.
    public struct RangeRead: Sendable, Equatable {
        public var range: ByteRange
        public var objects: [(digest: String, range: ByteRange)]
        public static func == (a: RangeRead, b: RangeRead) -> Bool {
            a.range == b.range && a.objects.map(\.digest) == b.objects.map(\.digest) && a.objects.map(\.range) == b.objects.map(\.range)
        }
    }

    /// Merges the ranges of objects in one pack into few reads: neighbours closer than `maxGap` bytes share a read
    /// (reading a small gap is cheaper than another request). Object ranges are relative to their read.
    public static func coalesce(_ wanted: [(digest: String, range: ByteRange)], maxGap: Int) -> [RangeRead] {
        var out: [RangeRead] = []
        for w in wanted.sorted(by: { $0.range.offset < $1.range.offset }) {
            if var last = out.last, w.range.offset - (last.range.offset + last.range.length) <= maxGap,
               w.range.offset >= last.range.offset {
                let end = max(last.range.offset + last.range.length, w.range.offset + w.range.length)
                last.objects.append((w.digest, ByteRange(offset: w.range.offset - last.range.offset, length: w.range.length)))
                last.range.length = end - last.range.offset
                out[out.count - 1] = last
            } else {
                out.append(RangeRead(range: w.range, objects: [(w.digest, ByteRange(offset: 0, length: w.range.length))]))
            }
        }
        return out
    }
}
