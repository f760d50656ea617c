import Foundation
import StrataCatalog
import StrataCore
import StrataRemote
import StrataStore

/// A configured remote (`.strata/remotes.json`: names and URLs only; credentials never live in the project).
public struct RemoteConfig: Codable, Sendable, Equatable {
    public var name: String
    public var url: String
    public var isDefault: Bool
}

struct RemotesFile: Codable {
    var remotes: [RemoteConfig] = []
}

/// What `strata push` did.
public struct PushResult: Codable, Sendable {
    public var remote: String
    public var versions: [String]
    public var objectsUploaded: Int
    public var objectsAlreadyThere: Int
    public var packsUploaded: Int
    /// Objects sent inside packs (the rest went loose).
    public var packsObjects: Int
    public var bytesUploaded: Int
    public var labelEventsUploaded: Int
    public var findingsUploaded: Int
    public var seconds: Double
    /// Versions whose name already points at another version on the remote (not overwritten).
    public var conflicts: [String]
}

/// What `strata pull` (and `clone`) did.
public struct PullResult: Codable, Sendable {
    public var remote: String
    public var version: String
    public var versionId: String
    public var members: Int
    public var selected: Int
    public var objectsDownloaded: Int
    public var objectsAlreadyHere: Int
    public var bytesDownloaded: Int
    public var labelEventsAdded: Int
    public var findingsAdded: Int
    public var seconds: Double
}

/// A version a remote holds, as `strata fetch` lists it.
public struct RemoteVersionInfo: Codable, Sendable, Equatable {
    public var name: String
    public var id: String
    public var state: String
    public var samples: Int
    public var local: Bool
}

public struct FetchResult: Codable, Sendable {
    public var remote: String
    public var versions: [RemoteVersionInfo]
    public var labelEventsAdded: Int
    public var labelBatches: Int
    public var findingsAdded: Int
}

/// A version as stored on a remote (`versions/<id>.json`): its row, members and the samples they name.
struct RemoteVersionRecord: Codable {
    var format = "strata.remote-version/1"
    var version: VersionRow
    var members: [VersionMemberRow]
    var samples: [SampleRow]
}

extension Workspace {
    /// Pack size: big enough that small objects travel at link speed, small enough that a killed push loses
    /// little. `STRATA_PACK_BYTES` overrides it (tests use it to get many packs from little data).
    static var packTarget: Int {
        ProcessInfo.processInfo.environment["STRATA_PACK_BYTES"].flatMap(Int.init).map { max($0, 1) } ?? 16 << 20
    }
    static let looseThreshold = 4 << 20

    var remotesPath: String { strataDir + "/remotes.json" }
    func remoteCache(_ name: String) -> String { strataDir + "/remote-cache/" + name }

    func loadRemotes() throws -> RemotesFile {
        guard FileIO.status(remotesPath) != nil else { return RemotesFile() }
        do { return try JSONDecoder().decode(RemotesFile.self, from: Data(try FileIO.readAll(remotesPath))) } catch {
            throw StrataError.project("\(remotesPath) is not valid: \(error)", fix: "fix or remove the file, then `strata remote add` again")
        }
    }

    func saveRemotes(_ f: RemotesFile) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileIO.writeAtomically(remotesPath, Array(try enc.encode(f)) + [0x0A])
    }

    public func remoteList() throws -> [RemoteConfig] { try loadRemotes().remotes }

    public func remoteAdd(name: String, url: String, makeDefault: Bool) throws -> RemoteConfig {
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }) else {
            throw StrataError.usage("invalid remote name `\(name)`", fix: "use letters, digits, `-`, `_` and `.`")
        }
        do { _ = try RemoteURL.parse(url) } catch let e as RemoteError { throw StrataError.usage(e.message, fix: e.fix) }
        var f = try loadRemotes()
        if f.remotes.contains(where: { $0.name == name }) {
            throw StrataError.usage("a remote named `\(name)` already exists", fix: "remove it first (`strata remote remove \(name)`) or choose another name")
        }
        let isDefault = makeDefault || f.remotes.isEmpty
        if isDefault { for i in f.remotes.indices { f.remotes[i].isDefault = false } }
        let r = RemoteConfig(name: name, url: (try RemoteURL.parse(url)).description, isDefault: isDefault)
        f.remotes.append(r)
        try saveRemotes(f)
        return r
    }

    public func remoteRemove(name: String) throws {
        var f = try loadRemotes()
        guard let i = f.remotes.firstIndex(where: { $0.name == name }) else { throw unknownRemote(name, f) }
        let wasDefault = f.remotes[i].isDefault
        f.remotes.remove(at: i)
        if wasDefault, !f.remotes.isEmpty { f.remotes[0].isDefault = true }
        try saveRemotes(f)
    }

    func unknownRemote(_ name: String, _ f: RemotesFile) -> StrataError {
        StrataError.usage("no remote `\(name)`", fix: f.remotes.isEmpty ? "add one with `strata remote add NAME URL`"
                          : "known remotes: \(f.remotes.map(\.name).joined(separator: ", "))")
    }

    public func remote(_ name: String?) throws -> RemoteConfig {
        let f = try loadRemotes()
        if let name {
            guard let r = f.remotes.first(where: { $0.name == name }) else { throw unknownRemote(name, f) }
            return r
        }
        guard let r = f.remotes.first(where: \.isDefault) ?? f.remotes.first else {
            throw StrataError.usage("this project has no remote", fix: "add one with `strata remote add NAME URL`")
        }
        return r
    }

    static func backend(_ url: String) throws -> any RemoteBackend {
        try remoteCall { try Remotes.backend(for: try RemoteURL.parse(url)) }
    }

    /// Runs remote work, turning its errors into errors the CLI prints.
    static func remoteCall<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as RemoteError {
            throw StrataError(e.kind == .usage ? .usage : .failure, e.message, fix: e.fix)
        }
    }

    // MARK: inventory

    /// Where every object on the remote is: pack indexes (cached locally: packs never change) and loose objects.
    static func inventory(_ backend: any RemoteBackend, cache: String) throws -> RemoteInventory {
        var inv = RemoteInventory()
        try FileIO.makeDirectories(cache + "/idx")
        for key in try backend.list("packs/") {
            guard let id = RemoteLayout.packId(ofIndex: key) else { continue }
            let local = cache + "/idx/" + id + ".idx"
            let bytes: [UInt8]
            if FileIO.status(local) != nil { bytes = try FileIO.readAll(local) } else {
                guard let b = try backend.get(key) else { continue }
                bytes = b
                try FileIO.writeAtomically(local, b, sync: false)
            }
            inv.add(try PackIndex.decode(bytes, key: key))
        }
        for key in try backend.list("objects/") { if let d = RemoteLayout.looseDigest(key) { inv.addLoose(d) } }
        return inv
    }

    // MARK: push

    /// Where the bytes of a content id are in this project: the object store, or the raw file of a file sample.
    func localContentPath(_ digest: String, rawPaths: [String: String]) -> String? {
        if objects.contains(digest) { return objects.path(for: digest) }
        if let raw = rawPaths[digest] { return root + "/" + raw }
        return nil
    }

    public func push(remoteName: String?, versions refs: [String]) throws -> PushResult {
        let start = Date()
        let config = try remote(remoteName)
        let backend = try Workspace.backend(config.url)
        let lock = try lock("push")
        defer { withExtendedLifetime(lock) {} }
        let chosen: [VersionRow]
        if refs.isEmpty {
            chosen = try catalog.versions().filter { $0.state != "draft" }
            if chosen.isEmpty {
                throw StrataError.project("there is no active or retired version to push",
                                          fix: "promote one (`strata version promote V`) or name a draft: `strata push V`")
            }
        } else {
            chosen = try refs.map { try version($0) }
        }
        return try Workspace.remoteCall {
            _ = try backend.createIfAbsent(RemoteLayout.marker, Array("{\"format\":\"\(RemoteLayout.format)\"}\n".utf8))
            let inv = try Workspace.inventory(backend, cache: remoteCache(config.name))

            // What the versions need: manifests, spec snapshots and every member's content.
            var wanted: [TransferPlan.Object] = []
            var rawPaths: [String: String] = [:]
            var records: [(VersionRow, [UInt8])] = []
            for v in chosen {
                let members = try catalog.versionMembers(v.id)
                let samples = try catalog.samples(ids: members.map(\.sampleId)).values.sorted { $0.id < $1.id }
                for s in samples where s.kind == "file" { rawPaths[s.id] = s.rawPath }
                // Raw content travels too (file samples' raw files, records' texts), so a clone is a whole project.
                var digests = [v.id] + members.map(\.contentSha) + members.map(\.sampleId)
                digests += (try? JSONDecoder().decode(VersionSummary.self, from: Data(v.summary.utf8)))?.specs.values.sorted() ?? []
                for d in digests {
                    guard let size = objects.size(of: d) ?? localContentPath(d, rawPaths: rawPaths).flatMap({ FileIO.status($0)?.size }) else {
                        throw StrataError(.failure, "version \(v.name) needs object \(d) which is not in this project",
                                          fix: "run `strata version verify \(v.name)`")
                    }
                    wanted.append(.init(digest: d, size: size))
                }
                let enc = JSONEncoder()
                enc.outputFormatting = [.sortedKeys]
                records.append((v, Array(try enc.encode(RemoteVersionRecord(version: v, members: members, samples: samples)))))
            }
            let plan = TransferPlan.upload(wanted, remote: inv, packTarget: Workspace.packTarget, looseThreshold: Workspace.looseThreshold)
            let total = plan.packs.reduce(0) { $0 + $1.reduce(0) { $0 + $1.size } } + plan.loose.reduce(0) { $0 + $1.size }
            var sent = 0, objectsSent = 0
            let meter = TransferMeter(progress: progress, verb: "pushed", total: total, objects: plan.packs.reduce(0) { $0 + $1.count } + plan.loose.count)

            func readVerified(_ o: TransferPlan.Object) throws -> [UInt8] {
                guard let p = localContentPath(o.digest, rawPaths: rawPaths) else { throw StrataError(.failure, "object \(o.digest) vanished during the push") }
                let bytes = objects.contains(o.digest) ? try objects.get(o.digest) : try FileIO.readAll(p)  // loose or packed
                let actual = FileIO.sha256(bytes)
                guard actual == o.digest else {
                    throw StrataError(.failure, "local object \(relative(p)) is damaged: expected sha256 \(o.digest), found \(actual); nothing damaged was uploaded",
                                      fix: "run `strata check --deep`")
                }
                return bytes
            }
            for pack in plan.packs {
                var data: [UInt8] = []
                var entries: [String: ByteRange] = [:]
                for o in pack {
                    let bytes = try readVerified(o)
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
                sent += data.count; objectsSent += pack.count
                meter.advance(bytes: data.count, objects: pack.count)
            }
            for o in plan.loose {
                let bytes = try readVerified(o)
                try backend.put(RemoteLayout.object(o.digest), bytes)
                if let remoteHash = try backend.remoteSHA256(RemoteLayout.object(o.digest)), remoteHash != o.digest {
                    throw StrataError(.failure, "\(backend.display): object \(o.digest) arrived damaged (found \(remoteHash))", fix: "run `strata push` again")
                }
                sent += bytes.count; objectsSent += 1
                meter.advance(bytes: bytes.count, objects: 1)
            }
            meter.finish()

            // Version records, then label events, then the references (last: a reference only ever names a
            // version whose objects are all on the remote).
            for (v, bytes) in records where try backend.get(RemoteLayout.versionRecord(v.id)) == nil {
                try backend.put(RemoteLayout.versionRecord(v.id), bytes)
            }
            let labelsSent = try pushLabels(backend, cache: remoteCache(config.name))
            let findingsSent = try pushFindings(backend, cache: remoteCache(config.name))
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
            return PushResult(remote: config.name, versions: chosen.map(\.name), objectsUploaded: objectsSent, objectsAlreadyThere: plan.alreadyThere,
                              packsUploaded: plan.packs.count, packsObjects: plan.packs.reduce(0) { $0 + $1.count }, bytesUploaded: sent, labelEventsUploaded: labelsSent,
                              findingsUploaded: findingsSent,
                              seconds: Date().timeIntervalSince(start), conflicts: conflicts)
        }
    }

    // MARK: labels

    /// A label event's identity across projects: every field but the local row id.
    static func eventKey(_ e: LabelEventRow) -> String {
        var c = e
        c.id = nil
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return FileIO.sha256(Array((try? enc.encode(c)) ?? Data()))
    }

    /// Every label event on the remote (batches are immutable, so they are cached locally once read).
    func remoteLabelEvents(_ backend: any RemoteBackend, cache: String) throws -> (events: [LabelEventRow], batches: Int) {
        try remoteBatches(backend, folder: "labels", cache: cache)
    }

    /// Every row of the append-only batches in `folder/` on the remote (label events, findings).
    func remoteBatches<Row: Decodable>(_ backend: any RemoteBackend, folder: String, cache: String) throws -> (events: [Row], batches: Int) {
        try FileIO.makeDirectories(cache + "/" + folder)
        var out: [Row] = []
        let keys = try backend.list(folder + "/")
        for key in keys {
            let name = (key as NSString).lastPathComponent
            let local = cache + "/" + folder + "/" + name
            var bytes: [UInt8]
            if FileIO.status(local) != nil { bytes = try FileIO.readAll(local) } else {
                guard let b = try backend.get(key) else { continue }
                let digest = String(name.dropLast(".jsonl".count))
                guard FileIO.sha256(b) == digest else {
                    throw StrataError(.failure, "\(backend.display): \(key) is corrupted: expected sha256 \(digest), found \(FileIO.sha256(b))",
                                      fix: "remove it from the remote and push the labels again from a project that has them")
                }
                bytes = b
                try FileIO.writeAtomically(local, b, sync: false)
            }
            for (i, line) in bytes.split(separator: 0x0A).enumerated() {
                do { out.append(try JSONDecoder().decode(Row.self, from: Data(line))) } catch {
                    throw StrataError(.failure, "\(key):\(i + 1): not a \(folder == "labels" ? "label event" : "finding"): \(error)")
                }
            }
        }
        return (out, keys.count)
    }

    /// Uploads the label events the remote does not have yet as one new batch; returns how many.
    func pushLabels(_ backend: any RemoteBackend, cache: String) throws -> Int {
        let remote = Set(try remoteLabelEvents(backend, cache: cache).events.map(Workspace.eventKey))
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        var lines: [UInt8] = []
        var n = 0
        for e in try catalog.labelEvents() where !remote.contains(Workspace.eventKey(e)) {
            var c = e
            c.id = nil
            lines += Array(try enc.encode(c)) + [0x0A]
            n += 1
        }
        if n > 0 { try backend.put(RemoteLayout.labelBatch(FileIO.sha256(lines)), lines) }
        return n
    }

    /// Uploads the findings the remote does not have (findings are unique by their key) as one new batch.
    func pushFindings(_ backend: any RemoteBackend, cache: String) throws -> Int {
        let remote = Set(try remoteBatches(backend, folder: "findings", cache: cache).events.map { (f: FindingRow) in f.key })
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        var lines: [UInt8] = []
        var n = 0
        for (f, _, _) in try catalog.findings(kind: nil, stage: nil) where !remote.contains(f.key) {
            var c = f
            c.id = nil
            lines += Array(try enc.encode(c)) + [0x0A]
            n += 1
        }
        if n > 0 { try backend.put("findings/\(FileIO.sha256(lines)).jsonl", lines) }
        return n
    }

    /// Adds the remote's findings this project lacks (by key), for samples it has.
    func pullFindings(_ backend: any RemoteBackend, cache: String) throws -> Int {
        let rows: [FindingRow] = try remoteBatches(backend, folder: "findings", cache: cache).events
        let local = Set(try catalog.findings(kind: nil, stage: nil).map { $0.row.key })
        let known = try catalog.existingSampleIds(Set(rows.flatMap { [$0.sampleId, $0.relatedSampleId].compactMap { $0 } }))
        var seen = Set<String>()
        let add = rows.filter { f in
            !local.contains(f.key) && seen.insert(f.key).inserted
                && (f.sampleId.map(known.contains) ?? true) && (f.relatedSampleId.map(known.contains) ?? true)
        }.map { f -> FindingRow in var c = f; c.id = nil; return c }
        if !add.isEmpty { try catalog.addFindings(add) }
        return add.count
    }

    /// Adds the remote's label events this project lacks (a union: events are never changed or removed).
    func pullLabels(_ backend: any RemoteBackend, cache: String) throws -> (added: Int, batches: Int) {
        let (events, batches) = try remoteLabelEvents(backend, cache: cache)
        let local = Set(try catalog.labelEvents().map(Workspace.eventKey))
        var seen = Set<String>()
        let fresh = events.filter { let k = Workspace.eventKey($0); return !local.contains(k) && seen.insert(k).inserted }
        let known = try catalog.existingSampleIds(Set(fresh.map(\.sampleId)))
        let add = fresh.filter { known.contains($0.sampleId) }
        try catalog.appendRemoteLabelEvents(add)
        return (add.count, batches)
    }

    // MARK: fetch and pull

    /// The remote's version references (not the claims a store without conditional writes keeps beside them).
    static func refKeys(_ backend: any RemoteBackend) throws -> [String] {
        try backend.list("refs/versions/").filter { !$0.contains(".claims/") && !$0.hasSuffix("/") }
    }

    static func resolveRemoteVersion(_ backend: any RemoteBackend, _ ref: String) throws -> RemoteVersionRecord {
        var id: String?
        if let b = try backend.get(RemoteLayout.ref(ref)) {
            id = String(decoding: b, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } else if ref.count >= 4 {
            let matches = try backend.list("versions/").filter { $0.hasPrefix("versions/" + ref) }
            if matches.count > 1 { throw StrataError.usage("`\(ref)` matches more than one version on \(backend.display)", fix: "give more characters") }
            id = matches.first.map { String($0.dropFirst("versions/".count).dropLast(".json".count)) }
        }
        guard let id, let bytes = try backend.get(RemoteLayout.versionRecord(id)) else {
            let names = try Workspace.refKeys(backend).map { String($0.dropFirst("refs/versions/".count)) }
            throw StrataError.usage("no version `\(ref)` on \(backend.display)",
                                    fix: names.isEmpty ? "push one first (`strata push`)" : "versions there: \(names.joined(separator: ", "))")
        }
        let record: RemoteVersionRecord
        do { record = try JSONDecoder().decode(RemoteVersionRecord.self, from: Data(bytes)) } catch {
            throw StrataError(.failure, "\(backend.display): \(RemoteLayout.versionRecord(id)) is not a version record: \(error)")
        }
        guard record.version.id == id else {
            throw StrataError(.failure, "\(backend.display): \(RemoteLayout.versionRecord(id)) describes version \(record.version.id), not \(id)")
        }
        return record
    }

    public func fetch(remoteName: String?) throws -> FetchResult {
        let config = try remote(remoteName)
        let backend = try Workspace.backend(config.url)
        return try Workspace.remoteCall {
            var out: [RemoteVersionInfo] = []
            for key in try Workspace.refKeys(backend) {
                let name = String(key.dropFirst("refs/versions/".count))
                let r = try Workspace.resolveRemoteVersion(backend, name)
                out.append(RemoteVersionInfo(name: name, id: r.version.id, state: r.version.state, samples: r.version.sampleCount,
                                             local: (try catalog.versionsMatching(r.version.id)).contains { $0.id == r.version.id }))
            }
            let lock = try lock("fetch")
            defer { withExtendedLifetime(lock) {} }
            let (added, batches) = try pullLabels(backend, cache: remoteCache(config.name))
            let findings = try pullFindings(backend, cache: remoteCache(config.name))
            return FetchResult(remote: config.name, versions: out, labelEventsAdded: added, labelBatches: batches, findingsAdded: findings)
        }
    }

    public func pull(remoteName: String?, version ref: String, splits: [String], modalities: [String]) throws -> PullResult {
        let config = try remote(remoteName)
        let backend = try Workspace.backend(config.url)
        return try pull(config: config, backend: backend, version: ref, splits: splits, modalities: modalities)
    }

    func pull(config: RemoteConfig, backend: any RemoteBackend, version ref: String, splits: [String], modalities: [String]) throws -> PullResult {
        let start = Date()
        let lock = try lock("pull")
        defer { withExtendedLifetime(lock) {} }
        // A killed pull may have left half-written files; its writer is gone (we hold the project lock).
        removeStaleTemporaryFiles(under: [strataDir + "/objects", rawDir])
        return try Workspace.remoteCall {
            let record = try Workspace.resolveRemoteVersion(backend, ref)
            let sampleById = Dictionary(record.samples.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            let selected = record.members.filter { m in
                (splits.isEmpty || splits.contains(m.split)) && (modalities.isEmpty || modalities.contains(sampleById[m.sampleId]?.modality ?? ""))
            }
            var digests = [record.version.id] + selected.map(\.contentSha) + selected.map(\.sampleId)
            digests += (try? JSONDecoder().decode(VersionSummary.self, from: Data(record.version.summary.utf8)))?.specs.values.sorted() ?? []
            // Raw content of file samples goes back to its place in data/raw (read-only), the rest to the object store.
            var rawTargets: [String: SampleRow] = [:]
            for m in selected {
                if let s = sampleById[m.sampleId], s.kind == "file", IngestMetaList.unsafePathReason(s.rawPath) == nil, s.rawPath.hasPrefix("data/raw/") {
                    rawTargets[s.id] = s
                }
            }
            var need: [String] = []
            var seen = Set<String>()
            var here = 0
            for d in digests where seen.insert(d).inserted {
                if let s = rawTargets[d], let st = FileIO.status(root + "/" + s.rawPath), Int(st.size) == s.size { here += 1 }
                else if rawTargets[d] == nil && objects.contains(d) { here += 1 }
                else { need.append(d) }
            }
            let inv = try Workspace.inventory(backend, cache: remoteCache(config.name))
            var byPack: [String: [(digest: String, range: ByteRange)]] = [:]
            var loose: [String] = []
            var total = 0
            for d in need {
                switch inv.locations[d] {
                case .packed(let pack, let range)?: byPack[pack, default: []].append((d, range)); total += range.length
                case .loose?: loose.append(d)
                case nil:
                    throw StrataError(.failure, "\(backend.display): object \(d) of version \(record.version.name) is not on the remote",
                                      fix: "push the version again from a project that has it (`strata push \(record.version.name)`)")
                }
            }
            let meter = TransferMeter(progress: progress, verb: "pulled", total: total, objects: need.count)
            var bytes = 0
            func store(_ d: String, _ b: [UInt8], from key: String) throws {
                let actual = FileIO.sha256(b)
                guard actual == d else {
                    throw StrataError(.failure, "\(backend.display): corrupted object in \(key): expected sha256 \(d), found \(actual); it was not stored",
                                      fix: "push the version again from a project with a good copy (`strata push` re-sends what is damaged after `strata remote gc`), or restore the remote file")
                }
                if let s = rawTargets[d] {
                    let path = root + "/" + s.rawPath
                    try FileIO.makeDirectories((path as NSString).deletingLastPathComponent)
                    try FileIO.writeAtomically(path, b, mode: 0o444, sync: false)
                } else {
                    try objects.put(b, sync: false)
                }
                bytes += b.count
            }
            for (pack, wanted) in byPack.sorted(by: { $0.key < $1.key }) {
                let reads = TransferPlan.coalesce(wanted, maxGap: 256 << 10)
                let parts = try backend.getRanges(RemoteLayout.pack(pack), reads.map(\.range))
                for (read, part) in zip(reads, parts) {
                    for o in read.objects {
                        try store(o.digest, Array(part[o.range.offset..<(o.range.offset + o.range.length)]), from: RemoteLayout.pack(pack))
                        meter.advance(bytes: o.range.length, objects: 1)
                    }
                }
            }
            for d in loose {
                guard let b = try backend.get(RemoteLayout.object(d)) else {
                    throw StrataError(.failure, "\(backend.display): \(RemoteLayout.object(d)) vanished", fix: "push the version again")
                }
                try store(d, b, from: RemoteLayout.object(d))
                meter.advance(bytes: b.count, objects: 1)
            }
            meter.finish()
            FileIO.syncFileSystem(objects.root)
            FileIO.syncFileSystem(rawDir)
            // The remote's stat of a raw file means nothing here: record the stat of the file this pull wrote.
            let samples = record.samples.map { s -> SampleRow in
                var c = s
                c.rawMtimeNanos = nil; c.rawInode = nil
                if rawTargets[s.id] != nil, let st = FileIO.status(root + "/" + s.rawPath) {
                    c.rawMtimeNanos = st.mtimeNanos; c.rawInode = Int64(bitPattern: st.inode)
                }
                return c
            }
            try catalog.importRemoteVersion(record.version, members: record.members, samples: samples, now: Workspace.now())
            let (added, _) = try pullLabels(backend, cache: remoteCache(config.name))
            let findings = try pullFindings(backend, cache: remoteCache(config.name))
            return PullResult(remote: config.name, version: record.version.name, versionId: record.version.id, members: record.members.count,
                              selected: selected.count, objectsDownloaded: need.count, objectsAlreadyHere: here, bytesDownloaded: bytes,
                              labelEventsAdded: added, findingsAdded: findings, seconds: Date().timeIntervalSince(start))
        }
    }

    /// `strata clone URL DIR`: a new project from a remote's version (its spec files, its data, the labels).
    public static func clone(url: String, into dir: String, version ref: String?, splits: [String] = [], modalities: [String] = [], progress: any ProgressReporter) throws -> (Workspace, PullResult) {
        let backend = try backend(url)
        let root = Walker.absolute(dir)
        if let items = try? FileManager.default.contentsOfDirectory(atPath: root), !items.isEmpty {
            throw StrataError.usage("\(root) exists and is not empty", fix: "clone into a new folder")
        }
        return try remoteCall {
            let name: String
            if let ref { name = ref } else {
                // The newest version (by creation time) the remote names.
                var newest: (String, String)?
                for key in try Workspace.refKeys(backend) {
                    let n = String(key.dropFirst("refs/versions/".count))
                    guard let b = try backend.get(key), let rec = try backend.get(RemoteLayout.versionRecord(String(decoding: b, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))),
                          let r = try? JSONDecoder().decode(RemoteVersionRecord.self, from: Data(rec)) else { continue }
                    if newest == nil || r.version.createdAt > newest!.1 { newest = (n, r.version.createdAt) }
                }
                guard let newest else { throw StrataError.usage("\(backend.display) holds no version", fix: "push one first (`strata push`)") }
                name = newest.0
            }
            let record = try Workspace.resolveRemoteVersion(backend, name)
            let specs = (try? JSONDecoder().decode(VersionSummary.self, from: Data(record.version.summary.utf8)))?.specs ?? [:]
            guard specs["strata.yaml"] != nil else {
                throw StrataError(.failure, "version \(name) on \(backend.display) has no strata.yaml snapshot; cannot make a project from it")
            }
            let inv = try Workspace.inventory(backend, cache: NSTemporaryDirectory() + "/strata-clone-\(getpid())")
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
            let result = try ws.pull(config: try ws.remote("origin"), backend: backend, version: name, splits: splits, modalities: modalities)
            return (ws, result)
        }
    }
}

/// Counts a transfer and reports bytes/s and objects/s through the progress reporter.
final class TransferMeter: @unchecked Sendable {
    let progress: any ProgressReporter
    let verb: String
    let start = Date()
    var bytes = 0
    var objects = 0
    var lastNote = Date()
    let total: Int
    let totalObjects: Int

    init(progress: any ProgressReporter, verb: String, total: Int, objects: Int) {
        self.progress = progress; self.verb = verb; self.total = total; self.totalObjects = objects
        if objects > 0 { progress.begin("\(verb == "pushed" ? "pushing" : "pulling") \(objects) objects", total: total) }
    }

    func advance(bytes b: Int, objects o: Int) {
        bytes += b; objects += o
        progress.advance(by: b)
        if Date().timeIntervalSince(lastNote) >= 2 { lastNote = Date(); progress.note(line()) }
    }

    func line() -> String {
        let secs = max(Date().timeIntervalSince(start), 0.001)
        let mib = Double(bytes) / 1_048_576
        return "\(verb) \(objects)/\(totalObjects) objects, \(String(format: "%.1f", mib)) MiB at \(String(format: "%.1f", mib / secs)) MiB/s, \(Int(Double(objects) / secs)) objects/s"
    }

    func finish() { if totalObjects > 0 { progress.end() } }
}

/// What `strata remote gc --dry-run` found: what no version record on the remote references.
public struct RemoteGCReport: Codable, Sendable {
    public var remote: String
    public var versions: Int
    /// Packs none of whose objects a version references (the pack and its index could go).
    public var unreferencedPacks: [String]
    /// Packs with no index: left by a killed push (or one still running).
    public var packsWithoutIndex: [String]
    public var unreferencedLooseObjects: [String]
    /// Bytes of objects in kept packs that nothing references (reclaimable only by repacking).
    public var unreferencedBytesInKeptPacks: Int
    public var bytes: Int
}

extension Workspace {
    /// Lists what no pushed version references. Only the dry run is built: removing safely needs a grace period
    /// for pushes still in flight (their objects are on the remote before their version record).
    public func remoteGCDryRun(remoteName: String?) throws -> RemoteGCReport {
        let config = try remote(remoteName)
        let backend = try Workspace.backend(config.url)
        return try Workspace.remoteCall {
            var referenced = Set<String>()
            let records = try backend.list("versions/")
            for key in records {
                let id = String(key.dropFirst("versions/".count).dropLast(".json".count))
                let r = try Workspace.resolveRemoteVersion(backend, id)
                referenced.insert(r.version.id)
                for m in r.members { referenced.insert(m.contentSha); referenced.insert(m.sampleId) }
                referenced.formUnion((try? JSONDecoder().decode(VersionSummary.self, from: Data(r.version.summary.utf8)))?.specs.values.map { $0 } ?? [])
            }
            var packs: [String] = [], withoutIndex: [String] = [], loose: [String] = []
            var bytes = 0, wasted = 0
            let keys = try backend.list("packs/")
            let indexed = Set(keys.compactMap(RemoteLayout.packId(ofIndex:)))
            for key in keys where key.hasSuffix(".pack") {
                let id = String(key.dropFirst("packs/".count).dropLast(".pack".count))
                if !indexed.contains(id) { withoutIndex.append(key) }
            }
            for id in indexed.sorted() {
                guard let b = try backend.get(RemoteLayout.packIndex(id)) else { continue }
                let idx = try PackIndex.decode(b, key: RemoteLayout.packIndex(id))
                let unused = idx.entries.filter { !referenced.contains($0.key) }
                if unused.count == idx.entries.count { packs.append(RemoteLayout.pack(id)); bytes += idx.packSize }
                else { wasted += unused.values.reduce(0) { $0 + $1.length } }
            }
            for key in try backend.list("objects/") {
                if let d = RemoteLayout.looseDigest(key), !referenced.contains(d) { loose.append(key) }
            }
            return RemoteGCReport(remote: config.name, versions: records.count, unreferencedPacks: packs, packsWithoutIndex: withoutIndex,
                                  unreferencedLooseObjects: loose, unreferencedBytesInKeptPacks: wasted, bytes: bytes)
        }
    }
}
