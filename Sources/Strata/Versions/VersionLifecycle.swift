import Foundation
import StrataCatalog
import StrataCore
import StrataStore

extension Workspace {
    static let manifestFormat = "strata.version/1"

    /// Resolves a version name or id prefix.
    public func version(_ ref: String) throws -> VersionRow {
        let found = try catalog.versionsMatching(ref)
        if found.count > 1 {
            throw StrataError.usage("`\(ref)` matches more than one version", fix: "give more characters of the id, or the version's name")
        }
        guard let v = found.first else {
            let names = try catalog.versions().map(\.name)
            throw StrataError.usage("no version `\(ref)`", fix: names.isEmpty ? "create one with `strata version create`"
                                    : "known versions: \(names.joined(separator: ", ")) (see `strata version list`)")
        }
        return v
    }

    func info(_ r: VersionRow) throws -> VersionInfo {
        let parentName = try r.parentId.flatMap { try catalog.versionsMatching($0).first?.name ?? $0 }
        return VersionInfo(r, parentName: parentName)
    }

    public func versionList() throws -> [VersionInfo] {
        try catalog.versions().map { try info($0) }
    }

    public func versionShow(_ ref: String) throws -> VersionInfo {
        try info(try version(ref))
    }

    /// Creates (or replaces, for a draft of the same name) a draft version from the current catalog: reads the
    /// inputs, has `VersionPlanner` decide members, splits, labels, leakage and the manifest, then stores the
    /// content snapshots, the manifest and the catalog rows.
    public func createVersion(name: String?, message: String, parent parentRef: String? = nil,
                              excludeFindings: [String] = []) throws -> VersionCreateResult {
        let lock = try lock("version create")
        defer { withExtendedLifetime(lock) {} }
        // A killed `version create` may have left a half-written manifest object; its writer is gone.
        removeStaleTemporaryFiles(under: [objects.root])
        let spec = project.splits
        let now = Workspace.now()
        let existing = try catalog.versions()

        let (finalName, replacing, parent, splitsFrom) = try versionTarget(name: name, parent: parentRef, existing: existing)

        // Members: the cleaned set of the latest run, or every sample when nothing was cleaned.
        var candidates = VersionPlanner.candidates(samples: try catalog.allSamples(), cleaned: try catalog.cleanedSet())
        if candidates.isEmpty {
            throw StrataError.project("there are no samples to version", fix: "ingest data first (`strata ingest PATH --source NAME`)")
        }
        // Samples with open findings of the kinds the user asked to leave out (never a default).
        let exclusion = try findingExclusion(kinds: excludeFindings, candidates: Set(candidates.map(\.sample.id)))
        if !exclusion.ids.isEmpty {
            candidates.removeAll { exclusion.ids.contains($0.sample.id) }
            if candidates.isEmpty {
                throw StrataError.usage("--exclude-findings would leave out every sample (\(exclusion.ids.count))",
                                        fix: "review the flagged labels instead: `strata label review --from-findings`")
            }
        }
        let runs = try catalog.cleanedRunIds()

        // Labels, then splits planned from the human (non-pseudo) consensus, so pseudo labels never move a sample
        // between splits; then the pseudo labels the planned splits allow.
        let resolution = try VersionLabels.resolve(self)
        let (splitPlan, pairs) = try planSplits(samples: candidates.map(\.sample), labels: resolution.labels, parent: splitsFrom)
        let pseudo = try VersionLabels.pseudoLabels(self, excluding: resolution, splits: splitPlan.split, spec: spec)

        let (specs, specObjects) = try storeSpecFiles()
        let planner = VersionPlanner(spec: spec, projectName: project.name, parentId: parent?.id, specs: specs, runs: runs,
                                     exclusion: exclusion)
        let plan = planner.plan(candidates: candidates, split: splitPlan.split, moved: splitPlan.moved.count, pairs: pairs,
                                labels: .init(human: resolution.labels, unresolved: resolution.unresolved, pending: resolution.pending,
                                              pseudo: pseudo.labels, pseudoExcludedFromTest: pseudo.excludedFromTest),
                                splitsFrom: splitsFrom?.name)

        var owned = try storeContentSnapshots(plan.members, candidates: candidates) + specObjects
        if let same = existing.first(where: { $0.id == plan.id }) {
            return VersionCreateResult(version: try info(same), replacedDraft: nil, unchanged: true)
        }
        try objects.put(plan.manifest)
        owned.append((plan.id, "manifest"))

        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let row = VersionRow(id: plan.id, name: finalName, state: .draft, parentId: parent?.id, message: message, createdAt: now,
                             sampleCount: plan.members.count, labelSetId: plan.labelSetId,
                             summary: String(decoding: try enc.encode(plan.summary), as: UTF8.self))
        try catalog.insertVersion(row, members: plan.members, objects: owned, replacing: replacing?.id)

        // The leakage check's results join the findings ledger.
        let findings = VersionPlanner.leakageFindings(plan, versionName: finalName, now: now)
        if !findings.isEmpty { try catalog.addFindings(findings) }
        return VersionCreateResult(version: try info(row), replacedDraft: replacing?.id, unchanged: false)
    }

    /// The new version's name, the draft of that name it replaces, its lineage parent (`--parent`, or the latest
    /// active or retired version) and the version its splits stick to.
    func versionTarget(name: String?, parent parentRef: String?, existing: [VersionRow]) throws
        -> (name: String, replacing: VersionRow?, parent: VersionRow?, splitsFrom: VersionRow?) {
        let finalName = try VersionPlanner.name(name, existing: existing.map(\.name))
        var replacing: VersionRow? = nil
        if let same = existing.first(where: { $0.name == finalName }) {
            guard same.state == .draft else {
                throw StrataError.usage("version \(finalName) is \(same.state): its name and content are permanent",
                                        fix: "choose another name (e.g. `strata version create \(finalName)-2`)")
            }
            replacing = same
        }
        let parent: VersionRow?
        if let parentRef {
            parent = try version(parentRef)
        } else {
            parent = existing.last(where: { $0.state != .draft })
        }
        // Splits stick to the latest version of any state (a draft may have been exported and trained on), or to
        // --parent. Lineage keeps naming only active or retired parents: a draft can still be replaced.
        let splitsFrom = parentRef == nil ? Workspace.splitSource(existing) : parent
        return (finalName, replacing, parent, splitsFrom)
    }

    /// The spec files as they are now, stored so the version keeps them: file name -> digest, and the objects.
    func storeSpecFiles() throws -> (specs: [String: String], objects: [(digest: String, kind: String)]) {
        var owned: [(digest: String, kind: String)] = []
        var specs: [String: String] = [:]
        for file in Workspace.specFiles {
            if let bytes = try? FileIO.readAll(root + "/" + file) {
                let d = try objects.put(bytes)
                specs[file] = d
                owned.append((d, "spec"))
            }
        }
        return (specs, owned)
    }

    /// Content: every member's bytes must be readable without the cleaned folder (which the next run replaces), so
    /// cleaned content not yet in the object store is copied there. Returns the objects stored.
    func storeContentSnapshots(_ members: [VersionMemberRow], candidates: [VersionPlanner.Candidate]) throws -> [(digest: String, kind: String)] {
        let candidateOf = Dictionary(uniqueKeysWithValues: candidates.map { ($0.sample.id, $0) })
        var snapshots: [(digest: String, kind: String)] = []
        for m in members {
            let c = candidateOf[m.sampleId]!
            if !objects.contains(c.content) && !(c.content == c.sample.id && c.sample.kind == "file") {
                let bytes = try snapshotContent(c.content, cleanedPath: c.cleanedPath, line: c.cleanedLine)
                try objects.put(bytes, sync: false)
                snapshots.append((c.content, "content"))
            }
        }
        FileIO.syncFileSystem(objects.root)
        return snapshots
    }

    /// The candidates to leave out for `--exclude-findings`: those with an open finding of each kind in the live
    /// project's ledger (findings of a versioned analysis, stage `...@vN`, describe that version and do not count).
    func findingExclusion(kinds: [String], candidates: Set<String>) throws -> VersionPlanner.Exclusion {
        var ids = Set<String>(), byKind: [String: Set<String>] = [:], summary: [ExcludedFindings] = []
        for kind in kinds.reduce(into: [String](), { if !$0.contains($1) { $0.append($1) } }) {
            if kind == FindingKind.leakage.rawValue {
                throw StrataError.usage("--exclude-findings leakage is not supported: leakage is settled while splitting",
                                        fix: "set `leakage: drop` or `leakage: group` in splits.yaml")
            }
            let flagged = Set(try catalog.findings(kind: kind, stage: nil)
                .filter { !$0.row.stage.contains("@") }.compactMap(\.row.sampleId)).intersection(candidates)
            guard !flagged.isEmpty else {
                throw StrataError.usage("no open `\(kind)` findings on samples of the project: nothing to exclude",
                                        fix: kind == "label-issue" ? "run `strata analyze label-issues` first, or leave out --exclude-findings"
                                            : "see the kinds with `strata findings`, or leave out --exclude-findings \(kind)")
            }
            byKind[kind] = flagged
            ids.formUnion(flagged)
            summary.append(ExcludedFindings(kind: kind, samples: flagged.count, reason: "user request"))
        }
        return VersionPlanner.Exclusion(ids: ids, byKind: byKind, summary: summary)
    }

    /// The bytes of cleaned content that is not in the object store: a cleaned file, or the `text` of a cleaned JSONL line.
    func snapshotContent(_ sha: String, cleanedPath: String?, line: Int?) throws -> [UInt8] {
        guard let cleanedPath else {
            throw StrataError(.failure, "content \(sha.prefix(12)) is neither in the object store nor in data/cleaned",
                              fix: "run `strata check`; re-run `strata run` to rebuild the cleaned set")
        }
        let all = try FileIO.readAll(root + "/" + cleanedPath)
        var bytes = all
        if let line {
            var n = 1
            var start = 0
            for (i, b) in all.enumerated() where b == 0x0A {
                if n == line { break }
                n += 1
                start = i + 1
            }
            let end = all[start...].firstIndex(of: 0x0A) ?? all.count
            guard case .success(let obj) = JSONRecord.parseObject(all[start..<end]), case .string(let text)? = obj["text"] else {
                throw StrataError(.failure, "\(cleanedPath):\(line): not a cleaned record with a `text` field", fix: "re-run `strata run`")
            }
            bytes = Array(text.utf8)
        }
        guard FileIO.sha256(bytes) == sha else {
            throw StrataError(.failure, "\(cleanedPath)\(line.map { ":\($0)" } ?? ""): content does not match its recorded hash \(sha.prefix(12))",
                              fix: "data/cleaned was changed by hand; re-run `strata run` to rebuild it")
        }
        return bytes
    }

    static func origin(_ s: SampleRow) -> String {
        s.originPath + (s.originLine.map { ":\($0)" } ?? "")
    }

    /// A sample's value for a metadata path: `source`, `collected`, `modality`, `format`, or a dotted path into
    /// its metadata (`fields.session`, `tags.device`).
    static func metadataValue(_ s: SampleRow, path: String) -> String? {
        switch path {
        case "source": return s.source
        case "collected": return s.collected
        case "modality": return s.modality
        case "format": return s.format
        default:
            guard case .success(let obj) = JSONRecord.parseObject(s.metadata) else { return nil }
            var cur: JSONValue = .object(obj)
            for part in path.split(separator: ".") {
                guard case .object(let o) = cur, let next = o[String(part)] else { return nil }
                cur = next
            }
            switch cur {
            case .null: return nil
            case .string(let t): return t
            default: return cur.canonicalJSON
            }
        }
    }

    public func promoteVersion(_ ref: String) throws -> VersionInfo {
        let lock = try lock("version promote")
        defer { withExtendedLifetime(lock) {} }
        let v = try version(ref)
        guard v.state == .draft else {
            throw StrataError.usage("version \(v.name) is already \(v.state)", fix: v.state == .active ? "nothing to do" : "a retired version cannot come back; create a new version")
        }
        try catalog.setVersionState(v.id, to: .active, at: Workspace.now())
        return try info(try version(v.id))
    }

    public func retireVersion(_ ref: String) throws -> VersionInfo {
        let lock = try lock("version retire")
        defer { withExtendedLifetime(lock) {} }
        let v = try version(ref)
        guard v.state == .active else {
            throw StrataError.usage("version \(v.name) is \(v.state); only an active version can be retired",
                                    fix: v.state == .draft ? "a draft is simply replaced by the next `strata version create \(v.name)`" : "nothing to do")
        }
        try catalog.setVersionState(v.id, to: .retired, at: Workspace.now())
        return try info(try version(v.id))
    }

    public func versionDiff(_ aRef: String, _ bRef: String) throws -> VersionDiff {
        let a = try version(aRef), b = try version(bRef)
        let am = try catalog.versionMembers(a.id), bm = try catalog.versionMembers(b.id)
        let all = Set(am.map(\.sampleId)).union(bm.map(\.sampleId))
        return VersionDiff(from: a.name, members: am, to: b.name, members: bm, samples: try catalog.samples(ids: Array(all)),
                           findingKinds: try catalog.findingKinds(sampleIds: all))
    }

    /// Checks a version without the catalog's help: the manifest's hash is its id, and every content object
    /// (or raw file) still has the bytes the manifest names.
    public func verifyVersion(_ ref: String) throws -> [String] {
        let v = try version(ref)
        var problems: [String] = []
        guard objects.contains(v.id), objects.verify(v.id) else { return ["manifest \(v.id.prefix(12)) is missing or damaged in \(ObjectStore.projectDirectory)"] }
        let bytes = try objects.get(v.id)
        guard case .success(let m) = JSONRecord.parseObject(bytes, maxDepth: 8), case .array(let samples)? = m["samples"] else {
            return ["manifest \(v.id.prefix(12)) is not a version manifest"]
        }
        for case .object(let s) in samples {
            guard case .string(let content)? = s["content"], case .string(let id)? = s["id"] else { continue }
            if objects.contains(content) {
                if !objects.verify(content) { problems.append("\(id.prefix(12)): content object \(content.prefix(12)) is damaged") }
            } else if case .string(let raw)? = s["raw"], content == id {
                let path = root + "/" + raw
                if (try? FileIO.sha256(path).hex) != content { problems.append("\(id.prefix(12)): \(raw) is missing or changed") }
            } else {
                problems.append("\(id.prefix(12)): content \(content.prefix(12)) is missing")
            }
        }
        return problems
    }

    /// Removes objects that versioning stored and no version or model references any more, and exports of
    /// versions that no longer exist. Raw data, record texts and everything else are never touched.
    public func versionGC(dryRun: Bool) throws -> VersionGCResult {
        let lock = try lock("version gc")
        defer { withExtendedLifetime(lock) {} }
        let (owned, referenced) = try catalog.versionObjects()
        // Record texts of samples and the current cleaned set are not versioning's to remove.
        var keep = referenced
        keep.formUnion(try catalog.recordSampleIds())
        keep.formUnion(try catalog.cleanedSet().map(\.contentSha))
        var removed: [String] = []
        var bytes = 0
        for (digest, _) in owned.sorted(by: { $0.key < $1.key }) where !keep.contains(digest) {
            let path = objects.path(for: digest)
            bytes += FileIO.status(path)?.size ?? 0
            if !dryRun { unlink(path) }
            removed.append(digest)
        }
        if !dryRun { try catalog.forgetVersionObjects(removed) }
        // Exports of versions that no longer exist: data/ready/<version>[-<modality>]/<format>/ (and the older
        // data/ready/<version>[-<modality>]/). Only folders Strata exported (its manifest.json names the version),
        // never anything else a user put there.
        let ids = Set(try catalog.versions().map(\.id))
        var exports: [String] = []
        let ready = root + "/data/ready"
        func exportedVersion(_ dir: String) -> String? {
            guard let data = FileManager.default.contents(atPath: dir + "/manifest.json"),
                  let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any], o["strata_export"] != nil,
                  let v = o["version"] as? [String: Any] else { return nil }
            return v["id"] as? String ?? ""
        }
        for top in ((try? FileManager.default.contentsOfDirectory(atPath: ready)) ?? []).sorted() where !top.hasPrefix(".") {
            let topPath = ready + "/" + top
            if let id = exportedVersion(topPath) {
                if !ids.contains(id) {
                    exports.append("data/ready/" + top)
                    if !dryRun { try? FileManager.default.removeItem(atPath: topPath) }
                }
                continue
            }
            for sub in ((try? FileManager.default.contentsOfDirectory(atPath: topPath)) ?? []).sorted() where !sub.hasPrefix(".") {
                guard let id = exportedVersion(topPath + "/" + sub), !ids.contains(id) else { continue }
                exports.append("data/ready/\(top)/\(sub)")
                if !dryRun { try? FileManager.default.removeItem(atPath: topPath + "/" + sub) }
            }
            if !dryRun, ((try? FileManager.default.contentsOfDirectory(atPath: topPath)) ?? []).isEmpty { try? FileManager.default.removeItem(atPath: topPath) }
        }
        return VersionGCResult(removedObjects: removed, removedExports: exports, bytes: bytes, dryRun: dryRun)
    }
}

extension Workspace {
    /// The version new splits stick to: the latest version of any state. A draft counts: it may have been
    /// exported and trained on, and adding data must never move a sample someone has already used.
    static func splitSource(_ versions: [VersionRow]) -> VersionRow? { versions.last }

    /// The split each sample would get in a version created now with these members and labels (the version planner:
    /// sticky to `parent`, grouped, stratified by `labels`), and the duplicate pairs among the members.
    func planSplits(samples: [SampleRow], labels: [String: String], parent: VersionRow?) throws
        -> (plan: SplitPlanner.Result, pairs: [(a: String, b: String, kind: String)]) {
        var previous: [String: String] = [:]
        if let parent { for m in try catalog.versionMembers(parent.id) { previous[m.sampleId] = m.split } }
        return VersionPlanner.assignSplits(samples: samples, labels: labels, spec: project.splits,
                                           duplicates: try catalog.duplicatePairs(), previous: previous)
    }
}
