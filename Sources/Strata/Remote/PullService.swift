import Foundation
import StrataCatalog
import StrataCore
import StrataRemote
import StrataStore

/// What a pull fetches: planned from the version record, what this project already has and the remote's
/// inventory, with no I/O of its own (`isHere` answers for the project), so it is unit-tested without a disk.
struct PullPlan: Equatable {
    /// Members of the asked splits and modalities.
    var selected: Int
    /// File samples whose raw file goes back to its place under `data/raw` (by content id); the rest goes to the object store.
    var rawTargets: [String: String]
    var here: Int
    /// Reads per pack, in pack order.
    var packReads: [(pack: String, reads: [TransferPlan.RangeRead])]
    var loose: [String]
    var need: Int
    var bytes: Int

    static func == (a: PullPlan, b: PullPlan) -> Bool {
        a.selected == b.selected && a.rawTargets == b.rawTargets && a.here == b.here && a.loose == b.loose && a.need == b.need
            && a.bytes == b.bytes && a.packReads.map(\.pack) == b.packReads.map(\.pack) && a.packReads.map(\.reads) == b.packReads.map(\.reads)
    }

    /// Reads from one pack are merged when objects are closer than this.
    static let maxGap = 256 << 10

    /// - Parameter isHere: whether the project already has a content id (for a raw target: its raw file path).
    static func make(_ record: RemoteVersionRecord, splits: [String], modalities: [String], inventory: RemoteInventory,
                     display: String, isHere: (_ digest: String, _ rawPath: String?, _ size: Int?) -> Bool) throws -> PullPlan {
        let sampleById = Dictionary(record.samples.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let selected = record.members.filter { m in
            (splits.isEmpty || splits.contains(m.split)) && (modalities.isEmpty || modalities.contains(sampleById[m.sampleId]?.modality ?? ""))
        }
        var digests = [record.version.id] + selected.map(\.contentSha) + selected.map(\.sampleId)
        digests += (try? JSONDecoder().decode(VersionSummary.self, from: Data(record.version.summary.utf8)))?.specs.values.sorted() ?? []
        var rawTargets: [String: String] = [:]
        for m in selected {
            if let s = sampleById[m.sampleId], s.kind == "file", IngestMetaList.unsafePathReason(s.rawPath) == nil, s.rawPath.hasPrefix("data/raw/") {
                rawTargets[s.id] = s.rawPath
            }
        }
        var need: [String] = []
        var seen = Set<String>()
        var here = 0
        for d in digests where seen.insert(d).inserted {
            if isHere(d, rawTargets[d], sampleById[d]?.size) { here += 1 } else { need.append(d) }
        }
        var byPack: [String: [(digest: String, range: ByteRange)]] = [:]
        var loose: [String] = []
        var total = 0
        for d in need {
            switch inventory.locations[d] {
            case .packed(let pack, let range)?: byPack[pack, default: []].append((d, range)); total += range.length
            case .loose?: loose.append(d)
            case nil:
                throw StrataError(.failure, "\(display): object \(d) of version \(record.version.name) is not on the remote",
                                  fix: "push the version again from a project that has it (`strata push \(record.version.name)`)")
            }
        }
        let reads = byPack.sorted { $0.key < $1.key }.map { (pack: $0.key, reads: TransferPlan.coalesce($0.value, maxGap: maxGap)) }
        return PullPlan(selected: selected.count, rawTargets: rawTargets, here: here, packReads: reads, loose: loose, need: need.count, bytes: total)
    }
}

/// `strata pull`: the plan, then the download (`jobs` requests at once, every object hashed before it is stored),
/// then the catalog rows and facts.
struct PullService {
    let ws: Workspace
    let config: RemoteConfig
    let backend: any RemoteBackend
    let jobs: Int

    enum Job: Sendable { case pack(String, TransferPlan.RangeRead), loose(String) }

    /// Downloads what the plan needs; returns the bytes stored.
    func download(_ plan: PullPlan) throws -> Int {
        let meter = TransferMeter(progress: ws.progress, verb: "pulled", total: plan.bytes, objects: plan.need)
        let ws = self.ws, backend = self.backend, rawTargets = plan.rawTargets
        @Sendable func store(_ d: String, _ b: [UInt8], from key: String) throws {
            let actual = FileIO.sha256(b)
            guard actual == d else {
                throw StrataError(.failure, "\(backend.display): corrupted object in \(key): expected sha256 \(d), found \(actual); it was not stored",
                                  fix: "push the version again from a project with a good copy (`strata push` re-sends what is damaged after `strata remote gc`), or restore the remote file")
            }
            if let raw = rawTargets[d] {
                let path = ws.root + "/" + raw
                try FileIO.makeDirectories((path as NSString).deletingLastPathComponent)
                try FileIO.writeAtomically(path, b, mode: 0o444, sync: false)
            } else {
                try ws.objects.put(b, sync: false)
            }
            meter.advance(bytes: b.count, objects: 1)
        }
        let jobs = plan.packReads.flatMap { p in p.reads.map { Job.pack(p.pack, $0) } } + plan.loose.map { Job.loose($0) }
        try runJobs(jobs.count, workers: self.jobs) { i in
            switch jobs[i] {
            case .pack(let pack, let read):
                let part = try backend.getRanges(RemoteLayout.pack(pack), [read.range])[0]
                for o in read.objects {
                    try store(o.digest, Array(part[o.range.offset..<(o.range.offset + o.range.length)]), from: RemoteLayout.pack(pack))
                }
            case .loose(let d):
                guard let b = try backend.get(RemoteLayout.object(d)) else {
                    throw StrataError(.failure, "\(backend.display): \(RemoteLayout.object(d)) vanished", fix: "push the version again")
                }
                try store(d, b, from: RemoteLayout.object(d))
            }
        }
        meter.finish()
        return meter.bytes
    }

    func run(version ref: String, splits: [String], modalities: [String]) throws -> PullResult {
        let start = Date()
        let record = try RemoteVersions.resolve(backend, ref)
        let inv = try RemoteIndexCache(backend: backend, cache: ws.remoteCache(config.name)).inventory()
        let ws = self.ws
        let plan = try PullPlan.make(record, splits: splits, modalities: modalities, inventory: inv, display: backend.display) { d, raw, size in
            if let raw { return FileIO.status(ws.root + "/" + raw).map { Int($0.size) == size } ?? false }
            return ws.objects.contains(d)
        }
        let bytes = try download(plan)
        FileIO.syncFileSystem(ws.objects.root)
        FileIO.syncFileSystem(ws.rawDir)
        // The remote's stat of a raw file means nothing here: record the stat of the file this pull wrote.
        let samples = record.samples.map { s -> SampleRow in
            var c = s
            c.rawMtimeNanos = nil; c.rawInode = nil
            if plan.rawTargets[s.id] != nil, let st = FileIO.status(ws.root + "/" + s.rawPath) {
                c.rawMtimeNanos = st.mtimeNanos; c.rawInode = Int64(bitPattern: st.inode)
            }
            return c
        }
        try ws.catalog.importRemoteVersion(record.version, members: record.members, samples: samples, now: Workspace.now())
        let facts = RemoteFacts(catalog: ws.catalog, backend: backend, cache: ws.remoteCache(config.name))
        let (added, _) = try facts.pullLabels()
        let findings = try facts.pullFindings()
        return PullResult(remote: config.name, version: record.version.name, versionId: record.version.id, members: record.members.count,
                          selected: plan.selected, objectsDownloaded: plan.need, objectsAlreadyHere: plan.here, bytesDownloaded: bytes,
                          labelEventsAdded: added, findingsAdded: findings, seconds: Date().timeIntervalSince(start))
    }
}

extension Workspace {
    public func pull(remoteName: String?, version ref: String, splits: [String], modalities: [String], jobs: Int? = nil) throws -> PullResult {
        let config = try remote(remoteName)
        let backend = try Workspace.backend(config.url)
        return try pull(config: config, backend: backend, version: ref, splits: splits, modalities: modalities, jobs: jobs)
    }

    func pull(config: RemoteConfig, backend: any RemoteBackend, version ref: String, splits: [String], modalities: [String], jobs: Int?) throws -> PullResult {
        let lock = try lock("pull")
        defer { withExtendedLifetime(lock) {} }
        // A killed pull may have left half-written files; its writer is gone (we hold the project lock).
        removeStaleTemporaryFiles(under: [strataDir + "/objects", rawDir])
        return try Workspace.remoteCall {
            try PullService(ws: self, config: config, backend: backend, jobs: try TransferJobs.resolve(jobs)).run(version: ref, splits: splits, modalities: modalities)
        }
    }

    public func fetch(remoteName: String?) throws -> FetchResult {
        let config = try remote(remoteName)
        let backend = try Workspace.backend(config.url)
        return try Workspace.remoteCall {
            var out: [RemoteVersionInfo] = []
            for key in try RemoteVersions.refKeys(backend) {
                let name = String(key.dropFirst("refs/versions/".count))
                let r = try RemoteVersions.resolve(backend, name)
                out.append(RemoteVersionInfo(name: name, id: r.version.id, state: r.version.state.rawValue, samples: r.version.sampleCount,
                                             local: (try catalog.versionsMatching(r.version.id)).contains { $0.id == r.version.id }))
            }
            let lock = try lock("fetch")
            defer { withExtendedLifetime(lock) {} }
            let facts = RemoteFacts(catalog: catalog, backend: backend, cache: remoteCache(config.name))
            let (added, batches) = try facts.pullLabels()
            let findings = try facts.pullFindings()
            return FetchResult(remote: config.name, versions: out, labelEventsAdded: added, labelBatches: batches, findingsAdded: findings)
        }
    }

    /// `strata clone URL DIR`: a new project from a remote's version (its spec files, its data, the labels).
    public static func clone(url: String, into dir: String, version ref: String?, splits: [String] = [], modalities: [String] = [], jobs: Int? = nil,
                             progress: any ProgressReporter) throws -> (Workspace, PullResult) {
        _ = try TransferJobs.resolve(jobs)
        let backend = try backend(url)
        let root = Walker.absolute(dir)
        if let items = try? FileManager.default.contentsOfDirectory(atPath: root), !items.isEmpty {
            throw StrataError.usage("\(root) exists and is not empty", fix: "clone into a new folder")
        }
        return try remoteCall {
            let name = try ref ?? newestVersionName(backend)
            let record = try RemoteVersions.resolve(backend, name)
            let specs = (try? JSONDecoder().decode(VersionSummary.self, from: Data(record.version.summary.utf8)))?.specs ?? [:]
            guard specs["strata.yaml"] != nil else {
                throw StrataError(.failure, "version \(name) on \(backend.display) has no strata.yaml snapshot; cannot make a project from it")
            }
            let inv = try RemoteIndexCache(backend: backend, cache: NSTemporaryDirectory() + "/strata-clone-\(getpid())").inventory()
            try FileIO.makeDirectories(root)
            for (file, digest) in specs.sorted(by: { $0.key < $1.key }) where Workspace.specFiles.contains(file) {
                let bytes: [UInt8]
                switch inv.locations[digest] {
                case .packed(let pack, let range)?: bytes = try backend.getRanges(RemoteLayout.pack(pack), [range])[0]
                case .loose?: bytes = try backend.get(RemoteLayout.object(digest)) ?? []
                case nil: throw StrataError(.failure, "\(backend.display): the \(file) of version \(name) (object \(digest)) is missing")
                }
                guard FileIO.sha256(bytes) == digest else {
                    throw StrataError(.failure, "\(backend.display): corrupted object for \(file): expected sha256 \(digest), found \(FileIO.sha256(bytes))")
                }
                try FileIO.writeAtomically(root + "/" + file, bytes)
            }
            let ws = try Workspace(root: root, progress: progress)
            _ = try ws.remoteAdd(name: "origin", url: url, makeDefault: true)
            let result = try ws.pull(config: try ws.remote("origin"), backend: backend, version: name, splits: splits, modalities: modalities, jobs: jobs)
            return (ws, result)
        }
    }

    /// The newest version (by creation time) the remote names.
    static func newestVersionName(_ backend: any RemoteBackend) throws -> String {
        var newest: (String, String)?
        for key in try RemoteVersions.refKeys(backend) {
            let n = String(key.dropFirst("refs/versions/".count))
            guard let b = try backend.get(key), let rec = try backend.get(RemoteLayout.versionRecord(String(decoding: b, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))),
                  let r = try? JSONDecoder().decode(RemoteVersionRecord.self, from: Data(rec)) else { continue }
            if newest == nil || r.version.createdAt > newest!.1 { newest = (n, r.version.createdAt) }
        }
        guard let newest else { throw StrataError.usage("\(backend.display) holds no version", fix: "push one first (`strata push`)") }
        return newest.0
    }
}
