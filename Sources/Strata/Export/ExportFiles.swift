import Foundation
import StrataStore
#if canImport(Glibc)
import Glibc
#endif

/// A file written through a 4 MiB buffer, hashed on the way, fsynced when closed.
final class HashingFileSink {
    let path: String
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var hasher = StreamingSHA256()
    private(set) var size = 0
    private let hash: Bool

    init(path: String, hash: Bool = true) throws {
        self.path = path
        self.hash = hash
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError("create", path) }
        buffer.reserveCapacity(4 << 20)
    }

    func write(_ bytes: some Collection<UInt8>) throws {
        buffer.append(contentsOf: bytes)
        size += bytes.count
        if buffer.count >= 4 << 20 { try flush() }
    }

    /// Large writes (Parquet pages) go to the file straight from the caller's memory.
    func write(_ raw: UnsafeRawBufferPointer) throws {
        guard raw.count >= 64 << 10 else {
            buffer.append(contentsOf: raw)
            size += raw.count
            if buffer.count >= 4 << 20 { try flush() }
            return
        }
        try flush()
        if hash { hasher.update(raw) }
        try FileIO.writeAll(fd, raw, path: path)
        size += raw.count
    }

    private func flush() throws {
        if hash { hasher.update(buffer) }
        try FileIO.writeAll(fd, buffer, path: path)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, syncs and closes; returns the SHA-256 of everything written (empty when not hashing).
    func close() throws -> String {
        try flush()
        defer { Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw FileError("fsync", path) }
        return hash ? hasher.finalize() : ""
    }

    deinit { }
}

/// POSIX ustar archives, the container of WebDataset shards.
enum Tar {
    /// One entry's 512-byte header followed by its data, padded to a 512-byte boundary.
    static func entry(name: String, data: some Collection<UInt8>, mtime: Int) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ s: String, at offset: Int, width: Int) {
            for (i, b) in s.utf8.prefix(width).enumerated() { h[offset + i] = b }
        }
        func octal(_ v: Int, at offset: Int, width: Int) {
            put(String(repeating: "0", count: max(0, width - 1 - String(v, radix: 8).count)) + String(v, radix: 8), at: offset, width: width - 1)
        }
        var nameField = name
        var prefix = ""
        if name.utf8.count > 100, let slash = name.lastIndex(of: "/") {
            prefix = String(name[..<slash])
            nameField = String(name[name.index(after: slash)...])
        }
        put(nameField, at: 0, width: 100)
        octal(0o644, at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(data.count, at: 124, width: 12)
        octal(mtime, at: 136, width: 12)
        for i in 148..<156 { h[i] = 0x20 }
        h[156] = UInt8(ascii: "0")
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        put("strata", at: 265, width: 32)
        put("strata", at: 297, width: 32)
        put(prefix, at: 345, width: 155)
        let sum = h.reduce(0) { $0 + Int($1) }
        let s = String(sum, radix: 8)
        put(String(repeating: "0", count: max(0, 6 - s.count)) + s, at: 148, width: 6)
        h[154] = 0
        h[155] = 0x20
        var out = h
        out.append(contentsOf: data)
        let pad = (512 - data.count % 512) % 512
        out.append(contentsOf: repeatElement(0, count: pad))
        return out
    }

    static let end = [UInt8](repeating: 0, count: 1024)
}

/// RFC 4180 CSV fields.
enum CSVField {
    static func write(_ s: String, to out: inout [UInt8]) {
        if s.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) {
            out.append(0x22)
            for b in s.utf8 {
                if b == 0x22 { out.append(0x22) }
                out.append(b)
            }
            out.append(0x22)
        } else {
            out.append(contentsOf: s.utf8)
        }
    }
}
