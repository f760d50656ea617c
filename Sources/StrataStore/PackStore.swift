import CZstd
import Crypto
import Foundation
import StrataCore
#if canImport(Glibc)
import Glibc
#endif

/// Packs: many objects in one file, like git's packfiles, so a million record texts are a few hundred files instead
/// of a million. A pack is `objects/pack/<name>.pack` (the magic `STRPACK1`, then the objects' stored bytes one after
/// another) with a sorted index `<name>.idx`:
///
///     "STRIDX01" | count: UInt64 LE | count x entry | SHA-256 of everything before it (32 bytes)
///     entry: digest (32 bytes) | offset: UInt64 LE | stored length: UInt64 LE | length: UInt32 LE | codec: UInt32 LE
///
/// Entries are sorted by digest; codec 0 stores the bytes as they are, 1 stores them compressed with zstd (only
/// where that saves at least 10%). Both files are written once, atomically (temp file, fsync, rename), the pack
/// before its index: a reader only uses a pack whose index is there, so it never sees a pack being written.
public enum PackFormat {
    static let packMagic = Array("STRPACK1".utf8)
    static let indexMagic = Array("STRIDX01".utf8)
    static let entryBytes = 56
    static let headerBytes = 16
    static let trailerBytes = 32
    /// The folder of packs, relative to the object store's root.
    public static let directory = "pack"
    /// Objects shorter than this are stored as they are (zstd's frame costs more than it saves).
    static let minimumCompressible = 96
    static let zstdLevel: Int32 = 3
}

/// An error reading a pack: names the file and what is wrong with it.
public struct PackError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var problem: String
    public init(_ path: String, _ problem: String) { self.path = path; self.problem = problem }
    public var description: String {
        "\(path) is damaged: \(problem); run `strata check --deep`, and restore the file from a backup or a remote (`strata pull`)"
    }
}

/// One object encoded for a pack.
public struct PackObject: Sendable {
    /// The SHA-256 of the object's bytes (32 bytes).
    public var digest: [UInt8]
    /// The bytes as stored (compressed when `codec` is 1).
    public var stored: [UInt8]
    /// The object's length.
    public var length: Int
    public var codec: UInt32

    /// Encodes objects for a pack on `workers` threads: hashes them and compresses each where it pays.
    public static func encode(_ objects: [[UInt8]], workers: Int) -> [PackObject] {
        let chunks = max(1, min(workers, objects.count / 64 + 1))
        let per = (objects.count + chunks - 1) / max(1, chunks)
        let parts = parallelMap(Array(0..<chunks), workers: chunks) { c -> [PackObject] in
            let lo = c * per, hi = min(objects.count, lo + per)
            if lo >= hi { return [] }
            let context = ZSTD_createCCtx()
            defer { ZSTD_freeCCtx(context) }
            var scratch = [UInt8]()
            var out: [PackObject] = []
            out.reserveCapacity(hi - lo)
            for i in lo..<hi { out.append(encode(objects[i], context: context, scratch: &scratch)) }
            return out
        }
        return parts.flatMap { $0 }
    }

    static func encode(_ bytes: [UInt8], context: OpaquePointer?, scratch: inout [UInt8]) -> PackObject {
        let digest = Array(SHA256.hash(data: bytes))
        if bytes.count >= PackFormat.minimumCompressible, let context {
            let bound = ZSTD_compressBound(bytes.count)
            if scratch.count < bound { scratch = [UInt8](repeating: 0, count: bound) }
            let n = scratch.withUnsafeMutableBytes { dst in
                bytes.withUnsafeBytes { src in
                    ZSTD_compressCCtx(context, dst.baseAddress, dst.count, src.baseAddress, src.count, PackFormat.zstdLevel)
                }
            }
            if ZSTD_isError(n) == 0, n <= bytes.count - bytes.count / 10 {
                return PackObject(digest: digest, stored: Array(scratch[..<n]), length: bytes.count, codec: 1)
            }
        }
        return PackObject(digest: digest, stored: bytes, length: bytes.count, codec: 0)
    }
}

/// An open pack: its index and its data mapped read-only.
final class Pack: @unchecked Sendable {
    let name: String
    let indexPath: String
    let packPath: String
    let count: Int
    private let index: UnsafeRawBufferPointer
    private let data: UnsafeRawBufferPointer

    /// Maps and checks a pack: the index's magic, size, checksum and order, and that every entry lies inside the pack.
    init(directory: String, name: String) throws {
        self.name = name
        indexPath = directory + "/" + name + ".idx"
        packPath = directory + "/" + name + ".pack"
        let index = try Pack.map(indexPath)
        let data: UnsafeRawBufferPointer
        do { data = try Pack.map(packPath) } catch { Pack.unmap(index); throw error }
        self.index = index
        self.data = data
        count = index.count >= PackFormat.headerBytes ? Int(index.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian) : 0
        do { try check() } catch { Pack.unmap(index); Pack.unmap(data); throw error }
    }

    deinit {
        Pack.unmap(index)
        Pack.unmap(data)
    }

    private func check() throws {
        guard index.count >= PackFormat.headerBytes + PackFormat.trailerBytes,
              index.prefix(8).elementsEqual(PackFormat.indexMagic) else {
            throw PackError(indexPath, "not a Strata pack index (wrong magic or too short)")
        }
        guard count >= 0, count <= (index.count - PackFormat.headerBytes) / PackFormat.entryBytes,
              index.count == PackFormat.headerBytes + count * PackFormat.entryBytes + PackFormat.trailerBytes else {
            throw PackError(indexPath, "its size does not match its \(count) entries (truncated?)")
        }
        let body = UnsafeRawBufferPointer(rebasing: index[0..<(index.count - PackFormat.trailerBytes)])
        guard Array(SHA256.hash(data: body)).elementsEqual(index[(index.count - PackFormat.trailerBytes)...]) else {
            throw PackError(indexPath, "its checksum does not match its contents")
        }
        guard data.count >= 8, data.prefix(8).elementsEqual(PackFormat.packMagic) else {
            throw PackError(packPath, "not a Strata pack (wrong magic or too short)")
        }
        for i in 0..<count {
            let (offset, stored, _, codec) = entry(i)
            guard offset >= 8, stored >= 0, offset <= data.count, stored <= data.count - offset, codec <= 1 else {
                throw PackError(packPath, "object \(PackSet.hex(digest(i))) lies outside the file (\(data.count) bytes; truncated?)")
            }
            if i > 0, memcmp(digestPointer(i - 1), digestPointer(i), 32) >= 0 {
                throw PackError(indexPath, "its entries are not in order")
            }
        }
    }

    func digestPointer(_ i: Int) -> UnsafeRawPointer {
        index.baseAddress! + PackFormat.headerBytes + i * PackFormat.entryBytes
    }

    func digest(_ i: Int) -> [UInt8] { Array(UnsafeRawBufferPointer(start: digestPointer(i), count: 32)) }

    /// The first 8 bytes of entry `i`'s digest, as a number that sorts like the bytes.
    func prefix(_ i: Int) -> UInt64 { UInt64(bigEndian: digestPointer(i).loadUnaligned(as: UInt64.self)) }

    func entry(_ i: Int) -> (offset: Int, stored: Int, length: Int, codec: UInt32) {
        let p = digestPointer(i) + 32
        return (Int(truncatingIfNeeded: p.loadUnaligned(as: UInt64.self).littleEndian),
                Int(truncatingIfNeeded: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian),
                Int(p.loadUnaligned(fromByteOffset: 16, as: UInt32.self).littleEndian),
                p.loadUnaligned(fromByteOffset: 20, as: UInt32.self).littleEndian)
    }

    /// The bytes of entry `i` (decompressed).
    func read(_ i: Int) throws -> [UInt8] {
        let (offset, stored, length, codec) = entry(i)
        let src = UnsafeRawBufferPointer(rebasing: data[offset..<(offset + stored)])
        if codec == 0 { return Array(src) }
        var out = [UInt8](repeating: 0, count: length)
        let n = out.withUnsafeMutableBytes { ZSTD_decompress($0.baseAddress, length, src.baseAddress, stored) }
        guard ZSTD_isError(n) == 0, n == length else {
            let why = ZSTD_isError(n) != 0 ? String(cString: ZSTD_getErrorName(n)) : "\(n) bytes instead of \(length)"
            throw PackError(packPath, "object \(PackSet.hex(digest(i))) does not decompress (\(why))")
        }
        return out
    }

    private static func map(_ path: String) throws -> UnsafeRawBufferPointer {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("open", path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileError("stat", path) }
        let size = Int(st.st_size)
        guard size > 0 else { throw PackError(path, "the file is empty") }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else { throw FileError("map", path) }
        return UnsafeRawBufferPointer(start: p, count: size)
    }

    private static func unmap(_ b: UnsafeRawBufferPointer) {
        if let base = b.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), b.count) }
    }
}

/// Where an object is in the packs.
struct PackLocation: Sendable {
    let pack: Pack
    let entry: Int
}

/// The packs of one object store, loaded on first use and again when the pack folder changes. One lookup table
/// over all packs (8-byte digest prefix, pack, entry; 16 bytes per object) keeps a lookup one binary search however
/// many packs there are.
final class PackSet: Sendable {
    let directory: String

    private struct Slot {
        var prefix: UInt64
        var pack: UInt32
        var entry: UInt32
    }

    private struct State: Sendable {
        var packs: [Pack] = []
        var names = Set<String>()
        var table: [Slot] = []
        /// The pack folder's change time when it was last listed (nil: never listed).
        var listedAt: Int64?
        var stale = true
        /// Packs that could not be opened, with the reason.
        var problems: [String: PackError] = [:]
    }

    private let state = Locked(State())

    init(directory: String) { self.directory = directory }

    /// Marks the set for a new listing (after this process wrote a pack).
    func invalidate() { state.withLock { $0.stale = true } }

    /// The location of `digest`; `refresh` lists the folder again first if it changed since the last listing.
    func locate(_ digest: String, refresh: Bool) -> PackLocation? {
        guard let key = PackSet.bytes(hex: digest) else { return nil }
        return state.withLock { s -> PackLocation? in
            if s.stale || s.listedAt == nil || (refresh && PackSet.changeTime(directory) != s.listedAt) { load(&s) }
            return PackSet.find(key, in: s)
        }
    }

    /// Damaged or unreadable packs (an index that does not check out, a pack that is missing or truncated).
    func problems() -> [PackError] {
        state.withLock { s in
            if s.stale || s.listedAt == nil || PackSet.changeTime(directory) != s.listedAt { load(&s) }
            return s.problems.keys.sorted().map { s.problems[$0]! }
        }
    }

    /// Every packed digest (hex), sorted, without repeats.
    func allDigests() -> [String] {
        let packs = state.withLock { s -> [Unchecked<Pack>] in
            if s.stale || s.listedAt == nil || PackSet.changeTime(directory) != s.listedAt { load(&s) }
            return s.packs.map { Unchecked($0) }
        }
        var out = Set<String>()
        for p in packs { for i in 0..<p.value.count { out.insert(PackSet.hex(p.value.digest(i))) } }
        return out.sorted()
    }

    private static func find(_ key: [UInt8], in s: State) -> PackLocation? {
        let prefix = key.withUnsafeBytes { UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) }
        var lo = 0, hi = s.table.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if s.table[mid].prefix < prefix { lo = mid + 1 } else { hi = mid }
        }
        while lo < s.table.count, s.table[lo].prefix == prefix {
            let slot = s.table[lo]
            let pack = s.packs[Int(slot.pack)]
            if key.withUnsafeBytes({ memcmp($0.baseAddress!, pack.digestPointer(Int(slot.entry)), 32) }) == 0 {
                return PackLocation(pack: pack, entry: Int(slot.entry))
            }
            lo += 1
        }
        return nil
    }

    /// Lists the folder and opens the packs not yet open; rebuilds the table if any were added.
    private func load(_ s: inout State) {
        let changeTime = PackSet.changeTime(directory)
        s.stale = false
        s.listedAt = changeTime
        guard changeTime != nil, let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        var added = false
        for file in names.sorted() where file.hasSuffix(".idx") && !file.hasPrefix(".") {
            let name = String(file.dropLast(4))
            if s.names.contains(name) { continue }
            do {
                s.packs.append(try Pack(directory: directory, name: name))
                s.names.insert(name)
                s.problems[name] = nil
                added = true
            } catch let e as PackError {
                s.problems[name] = e
            } catch {
                s.problems[name] = PackError(directory + "/" + file, "\(error)")
            }
        }
        guard added else { return }
        var table: [Slot] = []
        table.reserveCapacity(s.packs.reduce(0) { $0 + $1.count })
        for (p, pack) in s.packs.enumerated() {
            for i in 0..<pack.count { table.append(Slot(prefix: pack.prefix(i), pack: UInt32(p), entry: UInt32(i))) }
        }
        table.sort { $0.prefix < $1.prefix }
        s.table = table
    }

    /// The folder's change time in nanoseconds, or nil when there is no folder.
    static func changeTime(_ path: String) -> Int64? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let table = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(table[Int(b >> 4)])
            out.append(table[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func bytes(hex: String) -> [UInt8]? {
        let u = Array(hex.utf8)
        guard u.count == 64 else { return nil }
        var out = [UInt8](repeating: 0, count: 32)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            default: nil
            }
        }
        for i in 0..<32 {
            guard let h = nibble(u[2 * i]), let l = nibble(u[2 * i + 1]) else { return nil }
            out[i] = h << 4 | l
        }
        return out
    }
}

extension ObjectStore {
    /// Writes `objects` as one pack (sorted, repeats dropped) and returns its name; writes nothing for none.
    /// Sequential writes and one fsync per file (pack, then index).
    @discardableResult
    public func writePack(_ objects: [PackObject]) throws -> String? {
        var sorted = objects.sorted { $0.digest.lexicographicallyPrecedes($1.digest) }
        sorted = sorted.enumerated().filter { $0.offset == 0 || sorted[$0.offset - 1].digest != $0.element.digest }.map(\.element)
        if sorted.isEmpty { return nil }
        var data = PackFormat.packMagic
        data.reserveCapacity(8 + sorted.reduce(0) { $0 + $1.stored.count })
        var index = PackFormat.indexMagic
        index.reserveCapacity(PackFormat.headerBytes + sorted.count * PackFormat.entryBytes + PackFormat.trailerBytes)
        func append<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { index.append(contentsOf: $0) } }
        append(UInt64(sorted.count))
        for o in sorted {
            index.append(contentsOf: o.digest)
            append(UInt64(data.count))
            append(UInt64(o.stored.count))
            append(UInt32(o.length))
            append(o.codec)
            data.append(contentsOf: o.stored)
        }
        let checksum = Array(SHA256.hash(data: index))
        index.append(contentsOf: checksum)
        let name = "pack-" + FileIO.hex(SHA256.hash(data: checksum)).prefix(40)
        let dir = packDirectory
        if mkdir(dir, 0o755) != 0 && errno != EEXIST { try FileIO.makeDirectories(dir) }
        try FileIO.writeAtomically(dir + "/" + name + ".pack", data, mode: 0o444)
        try FileIO.writeAtomically(dir + "/" + name + ".idx", index, mode: 0o444)
        packs.invalidate()
        return name
    }

    /// The folder holding this store's packs.
    public var packDirectory: String { root + "/" + PackFormat.directory }

    /// Packs that cannot be read, each naming its file and what is wrong.
    public func packProblems() -> [PackError] { packs.problems() }
}
