import Foundation
import StrataCatalog
import StrataCore
import StrataMedia
import StrataParquet
import StrataStore

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
        let all = try catalog.versionMembers(v.id)
        let samples = try catalog.samples(ids: all.map(\.sampleId))
        let modalityOf = samples.mapValues(\.modality)
        let members = try ExportPlanner.select(all, modality: options.modality,
                                               modalityOf: modalityOf, version: v.name)
        let folder = ExportPlanner.folder(version: v.name, modality: options.modality, format: options.format)
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
        removeExportLeftovers(parent: parent, base: base)
        let plan = try ExportPlanner(format: options.format, shardSize: options.shardSize)
            .plan(members, modalityOf: modalityOf, splitOrder: splitOrder(info), version: v.name)

        try FileIO.makeDirectories(parent)
        let tmp = parent + "/.tmp-\(getpid())-\(base)-\(UInt32.random(in: 0...UInt32.max))"
        try FileIO.makeDirectories(tmp + "/data")
        var done = false
        defer { if !done { try? FileManager.default.removeItem(atPath: tmp) } }

        let labelNames = try versionLabelNames(v)
        let mtime = Int(ISO8601DateFormatter().date(from: String(v.createdAt.prefix(19)) + "Z")?.timeIntervalSince1970 ?? 0)
        var shards: [ExportShard] = []
        var mediaFiles = 0
        for shard in plan.shards {
            let sink = try HashingFileSink(path: tmp + "/" + shard.path)
            var writer = try ExportWriters.make(options, modality: plan.modality, sink: sink, folder: tmp, labelNames: labelNames, mtime: mtime)
            for m in plan.members[shard.members] { try writer.append(try exportRow(m, sample: samples[m.sampleId]!)) }
            try writer.finish()
            mediaFiles += writer.mediaFiles
            let sha = try sink.close()
            shards.append(ExportShard(path: shard.path, split: shard.split, samples: shard.members.count, bytes: sink.size, sha256: sha))
        }

        let result = ExportResult(version: v.name, versionId: v.id, state: v.state, directory: shownDirectory,
                                  format: options.format.rawValue,
                                  compression: options.format == .parquet ? options.compression.name : nil,
                                  samples: members.count, splits: plan.splits, shards: shards, mediaFiles: mediaFiles)
        try writeExportManifest(result, info: info, labelNames: labelNames, labels: Workspace.labelCounts(members), to: tmp)
        try writeDatasetCard(result, info: info, modality: plan.modality, labelNames: labelNames, members: members, samples: samples, to: tmp)
        try writeCroissant(result, info: info, modality: plan.modality, to: tmp)
        try swapIntoPlace(tmp, dest: dest)
        done = true
        return result
    }

    /// The export lock is held: a temporary or moved-aside folder of this export is a leftover of a killed one
    /// (older layouts put them straight under data/ready).
    func removeExportLeftovers(parent: String, base: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
        where Workspace.isExportLeftover(name, base: base) {
            try? FileManager.default.removeItem(atPath: parent + "/" + name)
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root + "/data/ready")) ?? []
        where name.hasPrefix(".tmp-") || name.hasPrefix(".old-") {
            try? FileManager.default.removeItem(atPath: root + "/data/ready/" + name)
        }
    }

    /// Renames the finished folder `tmp` to `dest`, moving an earlier export there aside first and removing it after.
    func swapIntoPlace(_ tmp: String, dest: String) throws {
        let parent = (dest as NSString).deletingLastPathComponent
        let base = (dest as NSString).lastPathComponent
        FileIO.syncFileSystem(tmp)
        let old = parent + "/.old-\(base)-\(UInt32.random(in: 0...UInt32.max))"
        let hadOld = FileManager.default.fileExists(atPath: dest)
        if hadOld { guard rename(dest, old) == 0 else { throw StrataError(.failure, "\(FileError("move aside", dest))") } }
        guard rename(tmp, dest) == 0 else {
            if hadOld { _ = rename(old, dest) }
            throw StrataError(.failure, "\(FileError("rename into place", dest))")
        }
        FileIO.syncDirectory(parent)
        if hadOld { try? FileManager.default.removeItem(atPath: old) }
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
        ExportPlanner.splitOrder(spec: project.splits, versionSplits: info.splits.keys)
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
        let m = Manifest(version: ["id": info.id, "name": info.name, "state": info.state.rawValue, "parent": info.parent, "created": info.created,
                                   "label_set": info.labelSet],
                         format: r.format, compression: r.compression, samples: r.samples, splits: r.splits, labels: labels,
                         label_names: labelNames, shards: r.shards, media_files: r.mediaFiles)
        try FileIO.writeAtomically(dir + "/manifest.json", Array(try enc.encode(m)) + [0x0A])
    }
}
