import Foundation
import StrataCatalog
import StrataCore
import StrataRemote
import StrataStore

/// `strata push`: what the versions need (read from the catalog), the transfer plan (pure, `TransferPlan.upload`),
/// the upload (packs and large objects, several requests at once), then version records, catalog facts and
/// references, in that order.
struct PushService {
    let ws: Workspace
    let config: RemoteConfig
    let backend: any RemoteBackend
    let jobs: Int

    /// Pack size: big enough that small objects travel at link speed, small enough that a killed push loses
    /// little. `STRATA_PACK_BYTES` overrides it (tests use it to get many packs from little data).
    static var packTarget: Int {
        ProcessInfo.processInfo.environment["STRATA_PACK_BYTES"].flatMap(Int.init).map { max($0, 1) } ?? 16 << 20
    }
    static let looseThreshold = 4 << 20

    /// What the chosen versions need on the remote, and their records.
    struct Needs {
        var objects: [TransferPlan.Object] = []
        /// File samples' raw files by content id (relative to the project root).
        var rawPaths: [String: String] = [:]
        var records: [(version: VersionRow, bytes: [UInt8])] = []
    }

    /// Reads the catalog: manifests, spec snapshots, every member's content and raw content.
    func needs(_ chosen: [VersionRow]) throws -> Needs {
        var n = Needs()
        for v in chosen {
            let members = try ws.catalog.versionMembers(v.id)
            let samples = try ws.catalog.samples(ids: members.map(\.sampleId)).values.sorted { $0.id < $1.id }
            for s in samples where s.kind == "file" { n.rawPaths[s.id] = s.rawPath }
            // Raw content travels too (file samples' raw files, records' texts), so a clone is a whole project.
            var digests = [v.id] + members.map(\.contentSha) + members.map(\.sampleId)
            digests += (try? JSONDecoder().decode(VersionSummary.self, from: Data(v.summary.utf8)))?.specs.values.sorted() ?? []
            for d in digests {
                // Loose or packed objects, then the raw file of a file sample.
                guard let size = ws.objects.size(of: d) ?? ws.localContentPath(d, rawPaths: n.rawPaths).flatMap({ FileIO.status($0)?.size }) else {
                    throw StrataError(.failure, "version \(v.name) needs object \(d) which is not in this project",
                                      fix: "run `strata version verify \(v.name)`")
                }
                n.objects.append(.init(digest: d, size: size))
            }
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            n.records.append((v, Array(try enc.encode(RemoteVersionRecord(version: v, members: members, samples: samples)))))
        }
        return n
    }

    /// Sends the packs and loose objects of `plan`, `jobs` at a time; returns the bytes sent.
    func upload(packs: [[TransferPlan.Object]], loose: [TransferPlan.Object], rawPaths: [String: String]) throws -> Int {
        let total = packs.reduce(0) { $0 + $1.reduce(0) { $0 + $1.size } } + loose.reduce(0) { $0 + $1.size }
        let meter = TransferMeter(progress: ws.progress, verb: "pushed", total: total, objects: packs.reduce(0) { $0 + $1.count } + loose.count)
        let ws = self.ws, backend = self.backend
        let jobs = packs.map { Job.pack($0) } + loose.map { Job.loose($0) }
        try runJobs(jobs.count, workers: self.jobs) { i in
            switch jobs[i] {
            case .pack(let objects):
                var data: [UInt8] = []
                var entries: [String: ByteRange] = [:]
                for o in objects {
                    let bytes = try ws.readVerified(o, rawPaths: rawPaths)
                    entries[o.digest] = ByteRange(offset: data.count, length: bytes.count)
                    data += bytes
                }
                let id = FileIO.sha256(data)
                try backend.put(RemoteLayout.pack(id), data)
                if let remoteHash = try backend.remoteSHA256(RemoteLayout.pack(id)), remoteHash != id {
                    throw StrataError(.failure, "\(backend.display): \(RemoteLayout.pack(id)) arrived damaged: expected sha256 \(id), found \(remoteHash)",
                                      fix: "run `strata push` again")
                }
                // The index goes last: a pack without one is invisible and gets sent again by the next push.
                try backend.put(RemoteLayout.packIndex(id), PackIndex(packId: id, packSize: data.count, entries: entries).encoded())
                meter.advance(bytes: data.count, objects: objects.count)
            case .loose(let o):
                let bytes = try ws.readVerified(o, rawPaths: rawPaths)
                try backend.put(RemoteLayout.object(o.digest), bytes)
                if let remoteHash = try backend.remoteSHA256(RemoteLayout.object(o.digest)), remoteHash != o.digest {
                    throw StrataError(.failure, "\(backend.display): object \(o.digest) arrived damaged (found \(remoteHash))", fix: "run `strata push` again")
                }
                meter.advance(bytes: bytes.count, objects: 1)
            }
        }
        meter.finish()
        return meter.bytes
    }

    enum Job: Sendable { case pack([TransferPlan.Object]), loose(TransferPlan.Object) }

    /// Creates each version's reference if absent; returns the conflicts (names pointing elsewhere, lost races).
    func publishRefs(_ chosen: [VersionRow]) throws -> [String] {
        var conflicts: [String] = []
        for v in chosen {
            let key = RemoteLayout.ref(v.name)
            if try !backend.createIfAbsent(key, Array("\(v.id)\n".utf8)) {
                let there = String(decoding: try backend.get(key) ?? [], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                if there.isEmpty {
                    conflicts.append("\(v.name): another push claims this name on the remote at the same time (this project's is \(v.id.prefix(12)))")
                } else if there != v.id {
                    conflicts.append("\(v.name): the remote's \(v.name) is \(there.prefix(12)), this project's is \(v.id.prefix(12))")
                }
            }
        }
        return conflicts
    }

    func run(_ chosen: [VersionRow]) throws -> PushResult {
        let start = Date()
        _ = try backend.createIfAbsent(RemoteLayout.marker, Array("{\"format\":\"\(RemoteLayout.format)\"}\n".utf8))
        let inv = try RemoteIndexCache(backend: backend, cache: ws.remoteCache(config.name)).inventory()
        let needs = try needs(chosen)
        let plan = TransferPlan.upload(needs.objects, remote: inv, packTarget: PushService.packTarget, looseThreshold: PushService.looseThreshold)
        let sent = try upload(packs: plan.packs, loose: plan.loose, rawPaths: needs.rawPaths)
        // Version records, then catalog facts, then the references (last: a reference only ever names a version
        // whose objects are all on the remote).
        for (v, bytes) in needs.records where try backend.get(RemoteLayout.versionRecord(v.id)) == nil {
            try backend.put(RemoteLayout.versionRecord(v.id), bytes)
        }
        // A `strata remote gc` beside this push may have removed objects this push found there and did not send:
        // check before any reference names them (the next push sends them again).
        if plan.alreadyThere > 0 {
            let now = try RemoteIndexCache(backend: backend, cache: ws.remoteCache(config.name)).inventory()
            if let gone = needs.objects.first(where: { !now.contains($0.digest) }) {
                throw StrataError(.failure, "\(backend.display): object \(gone.digest) was on the remote when this push began and is gone now (a `strata remote gc` ran meanwhile); no reference was written",
                                  fix: "run `strata push` again: it sends what is missing")
            }
        }
        let facts = RemoteFacts(catalog: ws.catalog, backend: backend, cache: ws.remoteCache(config.name))
        let labelsSent = try facts.pushLabels()
        let findingsSent = try facts.pushFindings()
        let conflicts = try publishRefs(chosen)
        let packed = plan.packs.reduce(0) { $0 + $1.count }
        return PushResult(remote: config.name, versions: chosen.map(\.name), objectsUploaded: packed + plan.loose.count, objectsAlreadyThere: plan.alreadyThere,
                          packsUploaded: plan.packs.count, packsObjects: packed, bytesUploaded: sent, labelEventsUploaded: labelsSent,
                          findingsUploaded: findingsSent, seconds: Date().timeIntervalSince(start), conflicts: conflicts)
    }
}

extension Workspace {
    /// Where the bytes of a content id are in this project: the object store, or the raw file of a file sample.
    func localContentPath(_ digest: String, rawPaths: [String: String]) -> String? {
        if objects.contains(digest) { return objects.path(for: digest) }
        if let raw = rawPaths[digest] { return root + "/" + raw }
        return nil
    }

    /// An object's bytes, checked against its id before they leave (nothing damaged is ever sent).
    func readVerified(_ o: TransferPlan.Object, rawPaths: [String: String]) throws -> [UInt8] {
        guard let p = localContentPath(o.digest, rawPaths: rawPaths) else { throw StrataError(.failure, "object \(o.digest) vanished during the push") }
        let bytes = objects.contains(o.digest) ? try objects.get(o.digest) : try FileIO.readAll(p)  // loose or packed
        let actual = FileIO.sha256(bytes)
        guard actual == o.digest else {
            throw StrataError(.failure, "local object \(relative(p)) is damaged: expected sha256 \(o.digest), found \(actual); nothing damaged was uploaded",
                              fix: "run `strata check --deep`")
        }
        return bytes
    }

    public func push(remoteName: String?, versions refs: [String], jobs: Int? = nil) throws -> PushResult {
        let config = try remote(remoteName)
        let backend = try Workspace.backend(config.url)
        let lock = try lock("push")
        defer { withExtendedLifetime(lock) {} }
        let chosen: [VersionRow]
        if refs.isEmpty {
            chosen = try catalog.versions().filter { $0.state != .draft }
            if chosen.isEmpty {
                throw StrataError.project("there is no active or retired version to push",
                                          fix: "promote one (`strata version promote V`) or name a draft: `strata push V`")
            }
        } else {
            chosen = try refs.map { try version($0) }
        }
        return try Workspace.remoteCall {
            try PushService(ws: self, config: config, backend: backend, jobs: try TransferJobs.resolve(jobs)).run(chosen)
        }
    }
}
