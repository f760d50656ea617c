import Foundation
import StrataCatalog
import StrataCore
import StrataStore

/// A dataset version as commands show it.
public struct VersionInfo: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var state: String
    public var parent: String?
    public var message: String
    public var created: String
    public var promoted: String?
    public var retired: String?
    public var samples: Int
    public var labelSet: String
    public var splits: [String: Int]
    public var labels: [String: Int]
    public var unresolvedLabels: Int
    /// Labeled by fewer annotators than the rulebook asks (all agreeing).
    public var pendingLabels: Int
    /// Labeled by a pseudo label only (no human label).
    public var pseudoLabels: Int
    /// Test-split members whose pseudo label was left out.
    public var pseudoExcludedFromTest: Int
    public var leakage: [LeakagePair]
    public var movedForGroups: Int
    /// The version whose split assignments this one kept: the latest version of any state when it was created
    /// (a draft too), or `--parent`. Nil for the first version.
    public var splitsFrom: String?
    public var specs: [String: String]
    public var runs: [String]
    /// Samples left out at the user's request (`--exclude-findings KIND`), per finding kind.
    public var excludedFindings: [ExcludedFindings]

    init(_ r: VersionRow, parentName: String?) {
        id = r.id; name = r.name; state = r.state; parent = parentName; message = r.message; created = r.createdAt
        promoted = r.promotedAt; retired = r.retiredAt; samples = r.sampleCount; labelSet = r.labelSetId
        let s = (try? JSONDecoder().decode(VersionSummary.self, from: Data(r.summary.utf8))) ?? VersionSummary()
        splits = s.splits; labels = s.labels; unresolvedLabels = s.unresolvedLabels; pendingLabels = s.pendingLabels ?? 0; leakage = s.leakage
        pseudoLabels = s.pseudoLabels ?? 0; pseudoExcludedFromTest = s.pseudoExcludedFromTest ?? 0
        movedForGroups = s.movedForGroups; splitsFrom = s.splitsFrom; specs = s.specs; runs = s.runs
        excludedFindings = s.excludedFindings ?? []
    }
}

/// The samples a version left out because they had open findings of one kind, at the user's request
/// (`strata version create --exclude-findings KIND`). The version manifest lists their ids under `excluded`.
public struct ExcludedFindings: Codable, Sendable, Equatable {
    public var kind: String
    /// Candidates (samples that would otherwise have been members) with an open finding of this kind.
    public var samples: Int
    /// Always `user request`: Strata never drops flagged samples on its own.
    public var reason: String
}

/// Two samples in different splits that are exact or near duplicates.
public struct LeakagePair: Codable, Sendable, Equatable {
    public var a: String
    public var b: String
    public var kind: String
    public var splits: [String]
    /// `grouped` (kept together), `dropped:<sample>` or `reported`.
    public var resolution: String
}

/// What a version's `summary` column holds.
struct VersionSummary: Codable {
    var splits: [String: Int] = [:]
    var labels: [String: Int] = [:]
    var splitLabels: [String: [String: Int]] = [:]
    var sources: [String: Int] = [:]
    var modalities: [String: Int] = [:]
    var unresolvedLabels = 0
    var pendingLabels: Int? = 0
    /// Members whose label is a pseudo label (no human label; see `VersionLabels`).
    var pseudoLabels: Int?
    /// Members of a test split whose pseudo label was left out (test samples stay human-only).
    var pseudoExcludedFromTest: Int?
    var leakage: [LeakagePair] = []
    var movedForGroups = 0
    /// The version whose splits this one kept (the latest version of any state, or --parent).
    var splitsFrom: String?
    var specs: [String: String] = [:]
    var runs: [String] = []
    var excludedFindings: [ExcludedFindings]?
}

public struct VersionCreateResult: Codable, Sendable {
    public var version: VersionInfo
    /// The draft this one replaced (same name), if any.
    public var replacedDraft: String?
    /// True when the content equals an existing version's: nothing new was recorded.
    public var unchanged: Bool
}

public struct VersionDiff: Codable, Sendable {
    public struct Relabel: Codable, Sendable { public var sample: String; public var from: String?; public var to: String? }
    public var from: String
    public var to: String
    public var added: [String]
    public var removed: [String]
    public var relabeled: [Relabel]
    public var contentChanged: [String]
    public var splitChanged: [String]
    /// label -> [count in A, count in B]
    public var labels: [String: [Int]]
    public var splits: [String: [Int]]
    public var sources: [String: [Int]]
    /// finding kind -> [samples with it in A, in B]
    public var findings: [String: [Int]]
}

public struct VersionGCResult: Codable, Sendable {
    public var removedObjects: [String]
    public var removedExports: [String]
    public var bytes: Int
    public var dryRun: Bool
}

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

    /// Creates (or replaces, for a draft of the same name) a draft version from the current catalog.
    public func createVersion(name: String?, message: String, parent parentRef: String? = nil,
                              excludeFindings: [String] = []) throws -> VersionCreateResult {
        let lock = try lock("version create")
        defer { withExtendedLifetime(lock) {} }
        // A killed `version create` may have left a half-written manifest object; its writer is gone.
        removeStaleTemporaryFiles(under: [strataDir + "/objects"])
        let spec = project.splits
        let now = Workspace.now()
        let existing = try catalog.versions()

        // Name and parent.
        if let name {
            guard !name.isEmpty, name.utf8.count <= 64,
                  name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }),
                  name.unicodeScalars.first.map({ CharacterSet.alphanumerics.contains($0) }) == true
            else {
                throw StrataError.usage("invalid version name `\(name)`", fix: "use letters, digits, `-`, `_` and `.`, starting with a letter or digit (e.g. v3, 2026-11-baseline)")
            }
        }
        let finalName = name ?? {
            var n = existing.count + 1
            while existing.contains(where: { $0.name == "v\(n)" }) { n += 1 }
            return "v\(n)"
        }()
        var replacing: VersionRow? = nil
        if let same = existing.first(where: { $0.name == finalName }) {
            guard same.state == "draft" else {
                throw StrataError.usage("version \(finalName) is \(same.state): its name and content are permanent",
                                        fix: "choose another name (e.g. `strata version create \(finalName)-2`)")
            }
            replacing = same
        }
        let parent: VersionRow?
        if let parentRef {
            parent = try version(parentRef)
        } else {
            parent = existing.last(where: { $0.state != "draft" })
        }
        // Splits stick to the latest version of any state (a draft may have been exported and trained on), or to
        // --parent. Lineage keeps naming only active or retired parents: a draft can still be replaced.
        let splitsFrom = parentRef == nil ? Workspace.splitSource(existing) : parent

        // Members: the cleaned set of the latest run, or every sample when nothing was cleaned.
        let samples = try catalog.allSamples()
        let byId = Dictionary(uniqueKeysWithValues: samples.map { ($0.id, $0) })
        let cleaned = try catalog.cleanedSet()
        struct Candidate { var sample: SampleRow; var content: String; var transforms: String; var cleanedPath: String?; var cleanedLine: Int? }
        var candidates: [Candidate] = []
        if cleaned.isEmpty {
            candidates = samples.map { Candidate(sample: $0, content: $0.id, transforms: "[]", cleanedPath: nil, cleanedLine: nil) }
        } else {
            for c in cleaned {
                guard let s = byId[c.sampleId] else { continue }
                candidates.append(Candidate(sample: s, content: c.contentSha, transforms: c.transforms, cleanedPath: c.path, cleanedLine: c.line))
            }
        }
        candidates.sort { $0.sample.id < $1.sample.id }
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

        // Labels.
        let resolution = try VersionLabels.resolve(self)
        let labels = resolution.labels, unresolved = resolution.unresolved

        // Splits: planned from the human (non-pseudo) consensus, so pseudo labels never move a sample between splits.
        let (plan, pairs) = try planSplits(samples: candidates.map(\.sample), labels: labels, parent: splitsFrom)
        let pseudo = try VersionLabels.pseudoLabels(self, excluding: resolution, splits: plan.split, spec: spec)

        // Leakage: duplicates that still span splits.
        var dropped = Set<String>()
        var leakage: [LeakagePair] = []
        let order = spec.ratios.map(\.name)
        for p in pairs.sorted(by: { ($0.a, $0.b) < ($1.a, $1.b) }) {
            guard let sa = plan.split[p.a], let sb = plan.split[p.b], sa != sb,
                  !dropped.contains(p.a), !dropped.contains(p.b) else { continue }
            var resolution = "reported"
            if spec.leakage == .drop || spec.leakage == .group {
                // Drop the one in the later split (train is kept): test data must not have a twin in train.
                let ia = order.firstIndex(of: sa) ?? 0, ib = order.firstIndex(of: sb) ?? 0
                let victim = ia > ib ? p.a : (ib > ia ? p.b : max(p.a, p.b))
                dropped.insert(victim)
                resolution = "dropped:" + victim
            }
            leakage.append(LeakagePair(a: p.a, b: p.b, kind: p.kind, splits: [sa, sb], resolution: resolution))
        }

        // Content: every member's bytes must be readable without the cleaned folder (which the next run replaces).
        var owned: [(digest: String, kind: String)] = []
        var members: [VersionMemberRow] = []
        var manifestSamples: [JSONValue] = []
        var summary = VersionSummary()
        for c in candidates where !dropped.contains(c.sample.id) {
            let s = c.sample
            if !objects.contains(c.content) && !(c.content == s.id && s.kind == "file") {
                let bytes = try snapshotContent(c.content, cleanedPath: c.cleanedPath, line: c.cleanedLine)
                try objects.put(bytes, sync: false)
                owned.append((c.content, "content"))
            }
            let split = plan.split[s.id] ?? order[0]
            let label = labels[s.id] ?? pseudo.labels[s.id]
            let isPseudo = labels[s.id] == nil && label != nil
            members.append(VersionMemberRow(versionId: "", sampleId: s.id, contentSha: c.content, label: label, split: split, transforms: c.transforms))
            var entry: [String: JSONValue] = [
                "id": .string(s.id), "content": .string(c.content), "split": .string(split),
                "origin": .string(Workspace.origin(s)), "raw": .string(s.rawPath + (s.rawLine.map { ":\($0)" } ?? "")),
                "transforms": (try? JSONRecord.parseValue(c.transforms).get()) ?? .array([]),
            ]
            entry["label"] = label.map { .string($0) } ?? .null
            if isPseudo {
                entry["label_source"] = .string("pseudo")
                summary.pseudoLabels = (summary.pseudoLabels ?? 0) + 1
            }
            if pseudo.excludedFromTest.contains(s.id) { summary.pseudoExcludedFromTest = (summary.pseudoExcludedFromTest ?? 0) + 1 }
            manifestSamples.append(.object(entry))
            summary.splits[split, default: 0] += 1
            summary.labels[label ?? "(none)", default: 0] += 1
            summary.splitLabels[split, default: [:]][label ?? "(none)", default: 0] += 1
            summary.sources[s.source, default: 0] += 1
            summary.modalities[s.modality, default: 0] += 1
            if unresolved.contains(s.id) { summary.unresolvedLabels += 1 }
            if resolution.pending.contains(s.id) { summary.pendingLabels = (summary.pendingLabels ?? 0) + 1 }
        }
        FileIO.syncFileSystem(objects.root)

        // Specs as they are now, stored so the version keeps them.
        var specs: [String: String] = [:]
        for file in Workspace.specFiles {
            if let bytes = try? FileIO.readAll(root + "/" + file) {
                let d = try objects.put(bytes)
                specs[file] = d
                owned.append((d, "spec"))
            }
        }
        let labelPairs = members.map { m -> JSONValue in
            let pair: [JSONValue] = [.string(m.sampleId), m.label.map { .string($0) } ?? .null]
            return .array(labels[m.sampleId] == nil && m.label != nil ? pair + [.string("pseudo")] : pair)
        }
        let labelSetId = FileIO.sha256(JSONValue.object(["method": .string(VersionLabels.method), "labels": .array(labelPairs)]).serialize())

        var manifestFields: [String: JSONValue] = [
            "format": .string(Workspace.manifestFormat),
            "parent": parent.map { .string($0.id) } ?? .null,
            "project": .string(project.name),
            "specs": .object(specs.mapValues { .string($0) }),
            "labels": .object(["id": .string(labelSetId), "method": .string(VersionLabels.method)]),
            "splits": spec.json,
            "runs": .array(runs.map { .string($0) }),
            "samples": .array(manifestSamples),
        ]
        // Only when asked for, so versions made without the option keep their ids.
        if !exclusion.summary.isEmpty {
            manifestFields["excluded"] = .array(exclusion.summary.map { e in
                .object(["kind": .string(e.kind), "reason": .string(e.reason),
                         "samples": .array((exclusion.byKind[e.kind] ?? []).sorted().map { .string($0) })])
            })
        }
        let manifest: JSONValue = .object(manifestFields)
        let manifestBytes = manifest.serialize()
        let id = FileIO.sha256(manifestBytes)
        if let same = existing.first(where: { $0.id == id }) {
            return VersionCreateResult(version: try info(same), replacedDraft: nil, unchanged: true)
        }
        try objects.put(manifestBytes)
        owned.append((id, "manifest"))

        summary.leakage = leakage
        summary.movedForGroups = plan.moved.count
        summary.splitsFrom = splitsFrom?.name
        summary.specs = specs
        summary.runs = runs
        if !exclusion.summary.isEmpty { summary.excludedFindings = exclusion.summary }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let row = VersionRow(id: id, name: finalName, state: "draft", parentId: parent?.id, message: message, createdAt: now,
                             sampleCount: members.count, labelSetId: labelSetId,
                             summary: String(decoding: try enc.encode(summary), as: UTF8.self))
        for i in members.indices { members[i].versionId = id }
        try catalog.insertVersion(row, members: members, objects: owned, replacing: replacing?.id)

        // The leakage check's results join the findings ledger.
        let findings = leakage.map { p in
            FindingRow(key: Workspace.shortHash("leakage", id, p.a, p.b), kind: "leakage", stage: "version", sampleId: p.a, origin: nil, line: nil,
                       relatedSampleId: p.b, reason: "\(p.kind) across splits \(p.splits.joined(separator: "/")) in version \(finalName): \(p.resolution)",
                       runId: nil, createdAt: now)
        }
        if !findings.isEmpty { try catalog.addFindings(findings) }
        return VersionCreateResult(version: try info(row), replacedDraft: replacing?.id, unchanged: false)
    }

    /// The candidates to leave out for `--exclude-findings`: those with an open finding of each kind in the live
    /// project's ledger (findings of a versioned analysis, stage `...@vN`, describe that version and do not count).
    func findingExclusion(kinds: [String], candidates: Set<String>) throws
        -> (ids: Set<String>, byKind: [String: Set<String>], summary: [ExcludedFindings]) {
        var ids = Set<String>(), byKind: [String: Set<String>] = [:], summary: [ExcludedFindings] = []
        for kind in kinds.reduce(into: [String](), { if !$0.contains($1) { $0.append($1) } }) {
            if kind == "leakage" {
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
        return (ids, byKind, summary)
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
        guard v.state == "draft" else {
            throw StrataError.usage("version \(v.name) is already \(v.state)", fix: v.state == "active" ? "nothing to do" : "a retired version cannot come back; create a new version")
        }
        try catalog.setVersionState(v.id, to: "active", at: Workspace.now())
        return try info(try version(v.id))
    }

    public func retireVersion(_ ref: String) throws -> VersionInfo {
        let lock = try lock("version retire")
        defer { withExtendedLifetime(lock) {} }
        let v = try version(ref)
        guard v.state == "active" else {
            throw StrataError.usage("version \(v.name) is \(v.state); only an active version can be retired",
                                    fix: v.state == "draft" ? "a draft is simply replaced by the next `strata version create \(v.name)`" : "nothing to do")
        }
        try catalog.setVersionState(v.id, to: "retired", at: Workspace.now())
        return try info(try version(v.id))
    }

    public func versionDiff(_ aRef: String, _ bRef: String) throws -> VersionDiff {
        let a = try version(aRef), b = try version(bRef)
        let am = Dictionary(uniqueKeysWithValues: try catalog.versionMembers(a.id).map { ($0.sampleId, $0) })
        let bm = Dictionary(uniqueKeysWithValues: try catalog.versionMembers(b.id).map { ($0.sampleId, $0) })
        let all = Set(am.keys).union(bm.keys)
        let sampleRows = try catalog.samples(ids: Array(all))
        func short(_ id: String) -> String { sampleRows[id]?.shortId ?? String(id.prefix(12)) }
        var d = VersionDiff(from: a.name, to: b.name, added: [], removed: [], relabeled: [], contentChanged: [], splitChanged: [],
                            labels: [:], splits: [:], sources: [:], findings: [:])
        for id in all.sorted() {
            switch (am[id], bm[id]) {
            case (nil, .some): d.added.append(short(id))
            case (.some, nil): d.removed.append(short(id))
            case (let x?, let y?):
                if x.label != y.label { d.relabeled.append(.init(sample: short(id), from: x.label, to: y.label)) }
                if x.contentSha != y.contentSha { d.contentChanged.append(short(id)) }
                if x.split != y.split { d.splitChanged.append(short(id)) }
            default: break
            }
        }
        func bump(_ dict: inout [String: [Int]], _ key: String, _ side: Int) {
            var v = dict[key] ?? [0, 0]; v[side] += 1; dict[key] = v
        }
        for (side, members) in [am, bm].enumerated() {
            for m in members.values {
                bump(&d.labels, m.label ?? "(none)", side)
                bump(&d.splits, m.split, side)
                if let s = sampleRows[m.sampleId] { bump(&d.sources, s.source, side) }
            }
        }
        let kinds = try catalog.findingKinds(sampleIds: all)
        for (id, kind) in kinds {
            if am[id] != nil { bump(&d.findings, kind, 0) }
            if bm[id] != nil { bump(&d.findings, kind, 1) }
        }
        return d
    }

    /// Checks a version without the catalog's help: the manifest's hash is its id, and every content object
    /// (or raw file) still has the bytes the manifest names.
    public func verifyVersion(_ ref: String) throws -> [String] {
        let v = try version(ref)
        var problems: [String] = []
        guard objects.contains(v.id), objects.verify(v.id) else { return ["manifest \(v.id.prefix(12)) is missing or damaged in .strata/objects"] }
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
        let spec = project.splits
        // Units: group key, joined with duplicates when the policy says so.
        let memberIds = Set(samples.map(\.id))
        var keyOf: [String: String] = [:]
        for c in samples {
            if let g = spec.groupBy, let value = Workspace.metadataValue(c, path: g) {
                keyOf[c.id] = "group:" + value
            } else {
                keyOf[c.id] = c.id
            }
        }
        let pairs = try catalog.duplicatePairs().filter { memberIds.contains($0.a) && memberIds.contains($0.b) }
        var parentOfKey: [String: String] = [:]
        func find(_ k: String) -> String {
            var k = k
            while let p = parentOfKey[k], p != k { parentOfKey[k] = parentOfKey[p] ?? p; k = p }
            return k
        }
        if spec.leakage == .group {
            for p in pairs {
                let a = find(keyOf[p.a]!), b = find(keyOf[p.b]!)
                if a != b { if a < b { parentOfKey[b] = a } else { parentOfKey[a] = b } }
            }
        }
        var unitMembers: [String: [String]] = [:]
        for c in samples { unitMembers[find(keyOf[c.id]!), default: []].append(c.id) }
        let units = unitMembers.map { key, members -> SplitPlanner.Unit in
            var votes: [String: Int] = [:]
            for m in members { if let l = labels[m] { votes[l, default: 0] += 1 } }
            let label = votes.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key ?? ""
            return SplitPlanner.Unit(key: key, members: members.sorted(), label: label)
        }.sorted { $0.key < $1.key }
        var previous: [String: String] = [:]
        if let parent { for m in try catalog.versionMembers(parent.id) { previous[m.sampleId] = m.split } }
        let plan = SplitPlanner.assign(units: units, previous: previous, spec: spec)
        return (plan, pairs)
    }
}
