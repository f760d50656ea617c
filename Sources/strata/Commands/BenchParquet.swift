import ArgumentParser
import Foundation
import StrataCore
import StrataParquet
#if canImport(Glibc)
import Glibc
#endif

extension StrataCommand {
    /// Used by bench/export: times the Parquet writer alone on a table already in memory.
    struct BenchParquet: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench-parquet",
            abstract: "Benchmark: load a JSONL table into memory, then time writing it as Parquet.",
            shouldDisplay: false)

        @Argument(help: "JSONL rows with the string fields id, content, label, split, origin, metadata.") var input: String
        @Argument(help: "The Parquet file to write.") var output: String
        @Option(help: "zstd, zstd:LEVEL, snappy or none.") var compression: String = "zstd"
        @Option(help: "Compression threads (default: all cores).") var threads: Int?

        func run() throws {
            guard let compression = ParquetCompression(name: compression) else { throw ValidationError("unknown compression") }
            let names = ["id", "content", "label", "split", "origin", "metadata"]
            var rows: [[ParquetCell]] = []
            do {
                let text = try String(contentsOfFile: input, encoding: .utf8)
                for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
                    guard case .success(let o) = JSONRecord.parseObject(String(line)) else { throw ValidationError("bad JSON line") }
                    rows.append(names.map { n in
                        switch o[n] {
                        case .string(let s)?: .string(s)
                        default: .null
                        }
                    })
                }
            }
            // Peak memory is measured for the write alone: reset the kernel's high-water mark, note the RSS now.
            if let fd = fopen("/proc/self/clear_refs", "w") { fputs("5", fd); fclose(fd) }
            let before = Self.status("VmRSS")
            let fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw ValidationError("cannot create \(output)") }
            defer { close(fd) }
            // Small writes (page headers) are gathered in a buffer; pages go to write(2) straight from the writer's
            // page buffers.
            var buffer: [UInt8] = []
            buffer.reserveCapacity(1 << 20)
            func writeAll(_ p: UnsafeRawBufferPointer) throws {
                var off = 0
                while off < p.count {
                    let n = write(fd, p.baseAddress! + off, p.count - off)
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { throw ValidationError("cannot write \(output)") }
                    off += n
                }
            }
            func flush() throws { try buffer.withUnsafeBytes { try writeAll($0) }; buffer.removeAll(keepingCapacity: true) }
            let cpuStart = Self.cpuSeconds()
            let start = DispatchTime.now()
            var options = ParquetWriter.Options(compression: compression)
            if let threads { options.threads = threads }
            let writer = try ParquetWriter(
                fields: [.string("id", nullable: false), .string("content"), .string("label"), .string("split", nullable: false),
                         .string("origin"), .string("metadata")],
                options: options) { (bytes: UnsafeRawBufferPointer) in
                    if bytes.count >= 64 << 10 {
                        try flush()
                        try writeAll(bytes)
                    } else {
                        buffer.append(contentsOf: bytes)
                        if buffer.count >= 1 << 20 { try flush() }
                    }
                }
            for r in rows { try writer.append(r) }
            let size = try writer.finish()
            try flush()
            // Like pq.write_table, no fsync inside the timed part (Strata's exports do sync their files).
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            let cpu = Self.cpuSeconds() - cpuStart
            print("{\"rows\": \(rows.count), \"bytes\": \(size), \"write_seconds\": \(seconds), \"write_cpu_seconds\": \(cpu), \"rss_before_kib\": \(before), \"peak_during_write_kib\": \(Self.status("VmHWM"))}")
        }

        /// User + system CPU time of the whole process (all threads), in seconds.
        static func cpuSeconds() -> Double {
            var u = rusage()
            getrusage(RUSAGE_SELF.rawValue, &u)
            return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
        }

        /// A `kB` field of /proc/self/status.
        static func status(_ field: String) -> Int {
            guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
            for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
                return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
            }
            return 0
        }
    }
}
