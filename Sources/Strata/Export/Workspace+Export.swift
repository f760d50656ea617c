import Foundation
import StrataCatalog
import StrataCore
import StrataMedia
import StrataParquet
import StrataStore

public enum ExportFormat: String, Codable, Sendable, CaseIterable {
    case jsonl, csv, parquet, webdataset

    var fileExtension: String {
        switch self {
        case .jsonl: "jsonl"
        case .csv: "csv"
        case .parquet: "parquet"
        case .webdataset: "tar"
        }
    }
}

public struct ExportOptions: Sendable {
    public var format: ExportFormat
    /// Samples per shard (default: 100,000; 10,000 for WebDataset).
    public var shardSize: Int?
    public var compression: ParquetCompression
    /// Parquet row group size in rows (tests use small ones to exercise several row groups).
    public var rowGroupRows: Int
    public var pageBytes: Int
    /// Export only this modality's samples (into `data/ready/<version>-<modality>/<format>/`); needed for a version
    /// that mixes text, images and audio, since one export holds one kind of content.
    public var modality: String?
    /// Write the export into this folder instead of `data/ready/<version>[-<modality>]/<format>/` (absolute, or
    /// relative to the current directory). It must not exist, be empty, or hold an earlier Strata export.
    public var out: String?
    public init(format: ExportFormat, shardSize: Int? = nil, compression: ParquetCompression = .zstd(level: 1),
                rowGroupRows: Int = 1 << 20, pageBytes: Int = 1 << 20, modality: String? = nil, out: String? = nil) {
        self.format = format; self.shardSize = shardSize; self.compression = compression
        self.rowGroupRows = rowGroupRows; self.pageBytes = pageBytes; self.modality = modality; self.out = out
    }
}

public struct ExportShard: Codable, Sendable, Equatable {
    public var path: String
    public var split: String
    public var samples: Int
    public var bytes: Int
    public var sha256: String
}

public struct ExportResult: Codable, Sendable {
    public var version: String
    public var versionId: String
    public var state: String
    public var directory: String
    public var format: String
    public var compression: String?
    public var samples: Int
    public var splits: [String: Int]
    public var shards: [ExportShard]
    public var mediaFiles: Int
}

/// One row of an export, whatever the format.
struct ExportRow {
    var id: String
    var key: String
    var text: String?
    var bytes: [UInt8]?
    var fileName: String
    var label: String?
    var split: String
    var origin: String
    var metadata: JSONValue
}

extension Workspace {
    /// Exports a version into `data/ready/<name>[-<modality>]/<format>/` (or `options.out`): shards, `manifest.json`,
    /// a dataset card (`README.md`) and `croissant.json`. One folder per format, so Parquet and WebDataset exports
    /// of a version live side by side; exporting the same format again replaces that folder whole. The folder is
    /// built under a temporary name beside it and renamed into place when complete.
    public func export(_ ref: String, options: ExportOptions) throws -> ExportResult {
        let lock = try lock("export")
        defer { withExtendedLifetime(lock) {} }
        let v = try version(ref)
        let info = try self.info(v)
        var members = try catalog.versionMembers(v.id)
        let samples = try catalog.samples(ids: members.map(\.sampleId))
        if let only = options.modality {
            members = members.filter { samples[$0.sampleId]?.modality == only }
            if members.isEmpty {
                throw StrataError.usage("version \(v.name) has no \(only) samples",
                                        fix: "modalities in it: \(Set(samples.values.map(\.modality)).sorted().joined(separator: ", "))")
            }
        }
        let folder = (options.modality.map { "\(v.name)-\($0)" } ?? v.name) + "/" + options.format.rawValue
        let dest: String
        let shownDirectory: String
        if let out = options.out {
            dest = Walker.absolute(out)
            shownDirectory = dest
            try Workspace.checkExportTarget(dest)
        } else {
            dest = root + "/data/ready/" + folder
            shownDirectory = "data/ready/" + folder
        }
        let parent = (dest as NSString).deletingLastPathComponent
        let base = (dest as NSString).lastPathComponent
        // The export lock is held: a temporary or moved-aside folder of this export is a leftover of a killed one
        // (older layouts put them straight under data/ready).
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
        where Workspace.isExportLeftover(name, base: base) {
            try? FileManager.default.removeItem(atPath: parent + "/" + name)
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root + "/data/ready")) ?? []
        where name.hasPrefix(".tmp-") || name.hasPrefix(".old-") {
            try? FileManager.default.removeItem(atPath: root + "/data/ready/" + name)
        }
        let order = splitOrder(info)
        let sorted = members.sorted { (order[$0.split] ?? 99, $0.sampleId) < (order[$1.split] ?? 99, $1.sampleId) }
        let modalities = Set(members.compactMap { samples[$0.sampleId]?.modality })
        guard modalities.count <= 1 else {
            throw StrataError.usage("version \(v.name) mixes modalities (\(modalities.sorted().joined(separator: ", "))): one export holds one kind of content",
                                    fix: "export one modality at a time: add --modality \(modalities.sorted().first ?? "text") (each goes to data/ready/\(v.name)-<modality>/<format>/)")
        }
        let modality = modalities.first ?? "text"
        let shardSize = max(1, options.shardSize ?? (options.format == .webdataset ? 10_000 : 100_000))

        try FileIO.makeDirectories(parent)
        let tmp = parent + "/.tmp-\(getpid())-\(base)-\(UInt32.random(in: 0...UInt32.max))"
        try FileIO.makeDirectories(tmp + "/data")
        var done = false
        defer { if !done { try? FileManager.default.removeItem(atPath: tmp) } }

        let labelNames = try versionLabelNames(v)
        let mtime = Int(ISO8601DateFormatter().date(from: String(v.createdAt.prefix(19)) + "Z")?.timeIntervalSince1970 ?? 0)
        var shards: [ExportShard] = []
        var mediaFiles = 0
        var splits: [String: Int] = [:]
        var index = 0
        while index < sorted.count {
            let split = sorted[index].split
            var end = index
            while end < sorted.count && sorted[end].split == split { end += 1 }
            let count = end - index
            splits[split] = count
            let n = (count + shardSize - 1) / shardSize
            for s in 0..<n {
                let slice = sorted[(index + s * shardSize)..<min(end, index + (s + 1) * shardSize)]
                let name = options.format == .webdataset
                    ? String(format: "%@-%06d.tar", split, s)
                    : String(format: "%@-%05d-of-%05d.%@", split, s, n, options.format.fileExtension)
                let rel = "data/" + name
                let sink = try HashingFileSink(path: tmp + "/" + rel)
                let rows = try slice.lazy.map { try self.exportRow($0, sample: samples[$0.sampleId]!) }
                switch options.format {
                case .parquet:
                    try writeParquet(rows, modality: modality, options: options, sink: sink)
                case .jsonl, .csv:
                    if options.format == .csv {
                        try sink.write(Array("id,content,label,split,origin,metadata\n".utf8))
                    }
                    var buf: [UInt8] = []
                    for row in rows {
                        var content = row.text ?? ""
                        if let bytes = row.bytes {
                            content = "files/\(row.split)/\(row.fileName)"
                            try FileIO.makeDirectories(tmp + "/files/" + row.split)
                            try FileIO.writeAtomically(tmp + "/" + content, bytes, sync: false)
                            mediaFiles += 1
                        }
                        if options.format == .jsonl {
                            JSONValue.object([
                                "id": .string(row.id), "content": .string(content), "label": row.label.map { .string($0) } ?? .null,
                                "split": .string(row.split), "origin": .string(row.origin), "metadata": row.metadata,
                            ]).write(to: &buf)
                        } else {
                            for (i, f) in [row.id, content, row.label ?? "", row.split, row.origin, row.metadata.canonicalJSON].enumerated() {
                                if i > 0 { buf.append(0x2C) }
                                CSVField.write(f, to: &buf)
                            }
                        }
                        buf.append(0x0A)
                        if buf.count >= 1 << 20 { try sink.write(buf); buf.removeAll(keepingCapacity: true) }
                    }
                    try sink.write(buf)
                case .webdataset:
                    for row in rows {
                        if let text = row.text {
                            try sink.write(Tar.entry(name: row.key + ".txt", data: Array(text.utf8), mtime: mtime))
                        } else if let bytes = row.bytes {
                            let ext = (row.fileName as NSString).pathExtension.lowercased()
                            try sink.write(Tar.entry(name: row.key + "." + (ext.isEmpty ? "bin" : ext), data: bytes, mtime: mtime))
                        }
                        var meta: [String: JSONValue] = ["id": .string(row.id), "split": .string(row.split), "origin": .string(row.origin),
                                                         "metadata": row.metadata, "label": row.label.map { .string($0) } ?? .null]
                        if let l = row.label, let i = labelNames.firstIndex(of: l) { meta["label_index"] = .int(Int64(i)) }
                        try sink.write(Tar.entry(name: row.key + ".json", data: JSONValue.object(meta).serialize(), mtime: mtime))
                        if let l = row.label, let i = labelNames.firstIndex(of: l) {
                            try sink.write(Tar.entry(name: row.key + ".cls", data: Array(String(i).utf8), mtime: mtime))
                        }
                    }
                    try sink.write(Tar.end)
                }
                let sha = try sink.close()
                shards.append(ExportShard(path: rel, split: split, samples: slice.count, bytes: sink.size, sha256: sha))
            }
            index = end
        }

        let result = ExportResult(version: v.name, versionId: v.id, state: v.state, directory: shownDirectory,
                                  format: options.format.rawValue,
                                  compression: options.format == .parquet ? options.compression.name : nil,
                                  samples: members.count, splits: splits, shards: shards, mediaFiles: mediaFiles)
        try writeExportManifest(result, info: info, labelNames: labelNames, labels: Workspace.labelCounts(members), to: tmp)
        try writeDatasetCard(result, info: info, modality: modality, labelNames: labelNames, members: members, samples: samples, to: tmp)
        try writeCroissant(result, info: info, modality: modality, to: tmp)

        // Swap the finished folder into place.
        FileIO.syncFileSystem(tmp)
        let old = parent + "/.old-\(base)-\(UInt32.random(in: 0...UInt32.max))"
        let hadOld = FileManager.default.fileExists(atPath: dest)
        if hadOld { guard rename(dest, old) == 0 else { throw StrataError(.failure, "\(FileError("move aside", dest))") } }
        guard rename(tmp, dest) == 0 else {
            if hadOld { _ = rename(old, dest) }
            throw StrataError(.failure, "\(FileError("rename into place", dest))")
        }
        done = true
        FileIO.syncDirectory(parent)
        if hadOld { try? FileManager.default.removeItem(atPath: old) }
        return result
    }

    /// `.tmp-<pid>-<base>-<n>` or `.old-<base>-<n>`: what an export of the folder `base` leaves when killed.
    static func isExportLeftover(_ name: String, base: String) -> Bool {
        func isNumber(_ s: Substring) -> Bool { !s.isEmpty && s.allSatisfy(\.isNumber) }
        if name.hasPrefix(".old-" + base + "-") { return isNumber(name.dropFirst(".old-\(base)-".count)) }
        guard name.hasPrefix(".tmp-") else { return false }
        let rest = name.dropFirst(".tmp-".count)
        guard let dash = rest.firstIndex(of: "-"), isNumber(rest[..<dash]) else { return false }
        let tail = rest[rest.index(after: dash)...]
        return tail.hasPrefix(base + "-") && isNumber(tail.dropFirst(base.count + 1))
    }

    /// `--out DIR` may name a new or empty folder, or one holding an earlier Strata export (which is replaced);
    /// anything else is refused, so an export never deletes a user's files.
    static func checkExportTarget(_ dest: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dest, isDirectory: &isDir) else { return }
        guard isDir.boolValue else {
            throw StrataError.usage("--out \(dest) is a file", fix: "name a new folder, an empty one, or one a previous `strata export` wrote")
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: dest)) ?? []
        if entries.isEmpty || isExportFolder(dest) { return }
        throw StrataError.usage("--out \(dest) holds other files (\(entries.count) entries) and no Strata export manifest.json; exporting there would replace them",
                                fix: "name a new folder, an empty one, or one a previous `strata export` wrote")
    }

    /// Whether the folder holds an export Strata wrote (its manifest.json has `strata_export`).
    static func isExportFolder(_ dir: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: dir + "/manifest.json"),
              let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return o["strata_export"] != nil
    }

    func splitOrder(_ info: VersionInfo) -> [String: Int] {
        var order: [String: Int] = [:]
        for (i, r) in project.splits.ratios.enumerated() { order[r.name] = i }
        for s in info.splits.keys.sorted() where order[s] == nil { order[s] = order.count }
        return order
    }

    /// The label names in rulebook order (from the version's own rulebook), then any other label in the version.
    func versionLabelNames(_ v: VersionRow) throws -> [String] {
        let info = try self.info(v)
        var names: [String] = []
        if let rb = try versionRulebook(info) { names = rb.labels.map(\.name) }
        for l in info.labels.keys.sorted() where l != "(none)" && !names.contains(l) { names.append(l) }
        return names
    }

    func versionRulebook(_ info: VersionInfo) throws -> RulebookSpec? {
        guard let d = info.specs["rulebook.yaml"], let bytes = try? objects.get(d) else { return nil }
        return try? RulebookSpec.decode(yaml: String(decoding: bytes, as: UTF8.self))
    }

    func versionIntent(_ info: VersionInfo) throws -> IntentSpec? {
        guard let d = info.specs["intent.yaml"], let bytes = try? objects.get(d) else { return nil }
        return try? IntentSpec.decode(yaml: String(decoding: bytes, as: UTF8.self))
    }

    func versionPipeline(_ info: VersionInfo) throws -> PipelineSpec? {
        guard let d = info.specs["pipeline.yaml"], let bytes = try? objects.get(d) else { return nil }
        return try? PipelineSpec.decode(yaml: String(decoding: bytes, as: UTF8.self))
    }

    func exportRow(_ m: VersionMemberRow, sample s: SampleRow) throws -> ExportRow {
        let bytes: [UInt8]
        if objects.contains(m.contentSha) {
            bytes = try objects.get(m.contentSha)
        } else if m.contentSha == s.id && s.kind == "file" {
            bytes = try FileIO.readAll(root + "/" + s.rawPath)
        } else {
            throw StrataError(.failure, "the content of sample \(s.shortId) (\(m.contentSha.prefix(12))) is missing",
                              fix: "run `strata version verify` to list what is missing; restore .strata/objects from a backup")
        }
        var meta: [String: JSONValue] = [:]
        if case .success(let o) = JSONRecord.parseObject(s.metadata) { meta = o }
        meta["source"] = .string(s.source)
        meta["collected"] = .string(s.collected)
        meta["format"] = .string(s.format)
        meta["raw"] = .string(s.rawPath + (s.rawLine.map { ":\($0)" } ?? ""))
        if let e = s.externalId { meta["external_id"] = .string(e) }
        if let t = try? JSONRecord.parseValue(m.transforms).get(), t != .array([]) { meta["transforms"] = t }
        let isText = s.modality == "text"
        var ext = (s.rawPath as NSString).pathExtension
        if !isText && m.contentSha != s.id {
            // A cleaning stage rewrote the bytes (clean.audio writes WAV or FLAC, clean.image may convert): name and
            // describe what is exported, not the raw file. The raw's format and probe stay as `raw_format`/`raw_probe`.
            let path = objects.contains(m.contentSha) ? objects.path(for: m.contentSha) : nil
            if let described = Workspace.describeMedia(bytes: bytes, path: path, modality: s.modality) {
                if described.format.rawValue != s.format {
                    meta["raw_format"] = .string(s.format)
                    ext = described.format.fileExtension
                }
                meta["format"] = .string(described.format.rawValue)
                if let probe = described.probe {
                    if let old = meta["probe"], old != probe { meta["raw_probe"] = old }
                    meta["probe"] = probe
                }
            }
        }
        let key = String(s.id.prefix(16))
        return ExportRow(id: s.id, key: key, text: isText ? String(decoding: bytes, as: UTF8.self) : nil,
                         bytes: isText ? nil : bytes, fileName: key + (ext.isEmpty ? "" : "." + ext),
                         label: m.label, split: m.split, origin: Workspace.origin(s), metadata: .object(meta))
    }

    /// The format (from the bytes, never a name) and the probe (in ingest's shape) of exported media content.
    static func describeMedia(bytes: [UInt8], path: String?, modality: String) -> (format: FileFormat, probe: JSONValue?)? {
        guard case .media(let format) = Sniffer.sniff(prefix: Array(bytes.prefix(Sniffer.prefixLength)), totalSize: bytes.count) else { return nil }
        switch format.modality {
        case .image:
            guard case .success(let p) = Media.validateImage(bytes: bytes, maxPixels: Int.max) else { return (format, nil) }
            return (format, .object(["width": .int(Int64(p.width)), "height": .int(Int64(p.height)), "bands": .int(Int64(p.bands)),
                                     "color_space": .string(p.colorSpace), "orientation": .int(Int64(p.orientation))]))
        case .audio:
            // libsndfile opens files only: the object store's file, or a temporary copy.
            var file = path
            var temporary: String?
            if file == nil {
                let t = NSTemporaryDirectory() + "strata-export-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
                guard (try? FileIO.writeAtomically(t, bytes, sync: false)) != nil else { return (format, nil) }
                file = t; temporary = t
            }
            defer { if let temporary { try? FileManager.default.removeItem(atPath: temporary) } }
            guard let file, case .success(let p) = Media.validateAudio(path: file) else { return (format, nil) }
            return (format, .object(["container": .string(p.container), "codec": .string(p.codec), "sample_rate": .int(Int64(p.sampleRate)),
                                     "channels": .int(Int64(p.channels)), "frames": .int(Int64(p.frames)), "duration": .number(p.duration)]))
        case .text:
            return (format, nil)
        }
    }

    /// The columns of a Parquet export (text content, or Hugging Face's `{bytes, path}` struct for images and audio).
    static func parquetFields(modality: String) -> [ParquetField] {
        let content: ParquetField = modality == "text" ? .string("content")
            : .group("content", [.binary("bytes"), .string("path")])
        return [.string("id", nullable: false), content, .string("label"), .string("split", nullable: false),
                .string("origin"), .string("metadata")]
    }

    /// The Hugging Face `datasets` feature description stored in the Parquet footer.
    static func huggingFaceFeatures(modality: String) -> String {
        let value: JSONValue = .object(["dtype": .string("string"), "_type": .string("Value")])
        let content: JSONValue = switch modality {
        case "image": .object(["_type": .string("Image")])
        case "audio": .object(["_type": .string("Audio")])
        default: value
        }
        return JSONValue.object(["info": .object(["features": .object([
            "id": value, "content": content, "label": value, "split": value, "origin": value, "metadata": value,
        ])])]).canonicalJSON
    }

    func writeParquet(_ rows: some Sequence<ExportRow>, modality: String, options: ExportOptions, sink: HashingFileSink) throws {
        let writer = try ParquetWriter(
            fields: Workspace.parquetFields(modality: modality),
            options: .init(compression: options.compression, rowGroupRows: options.rowGroupRows, pageBytes: options.pageBytes),
            sink: { try sink.write($0) })
        for row in rows {
            let content: ParquetCell = row.text.map { .string($0) } ?? .group([.bytes(row.bytes ?? []), .string(row.fileName)])
            try writer.append([.string(row.id), content, row.label.map { .string($0) } ?? .null, .string(row.split),
                               .string(row.origin), .string(row.metadata.canonicalJSON)])
        }
        try writer.finish(metadata: [("huggingface", Workspace.huggingFaceFeatures(modality: modality))])
    }

    /// `labels`: this export's own counts per label (a `--modality` export holds part of the version).
    func writeExportManifest(_ r: ExportResult, info: VersionInfo, labelNames: [String], labels: [String: Int], to dir: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        struct Manifest: Encodable {
            var strata_export = 1
            var version: [String: String?]
            var format: String
            var compression: String?
            var samples: Int
            var splits: [String: Int]
            var labels: [String: Int]
            var label_names: [String]
            var shards: [ExportShard]
            var media_files: Int
            var card = "README.md"
            var croissant = "croissant.json"
        }
        let m = Manifest(version: ["id": info.id, "name": info.name, "state": info.state, "parent": info.parent, "created": info.created,
                                   "label_set": info.labelSet],
                         format: r.format, compression: r.compression, samples: r.samples, splits: r.splits, labels: labels,
                         label_names: labelNames, shards: r.shards, media_files: r.mediaFiles)
        try FileIO.writeAtomically(dir + "/manifest.json", Array(try enc.encode(m)) + [0x0A])
    }
}
