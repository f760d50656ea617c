import Foundation
import StrataCatalog
import StrataCore
import StrataStore

/// Plans a dataset version from plain values read from the catalog: which samples are members, the split and
/// label of each, the leakage pairs and what the leakage policy did with them, the summary, the manifest and its
/// id. Pure: no disk, no database, no clock (the executor, `Workspace.createVersion`, reads the inputs and writes
/// the plan).
struct VersionPlanner {
    /// A sample that may become a member, with the bytes it would carry (cleaned content or the raw sample).
    struct Candidate: Equatable, Sendable {
        var sample: SampleRow
        /// SHA-256 of the member's bytes (the sample id when nothing was cleaned).
        var content: String
        /// The cleaning transforms (JSON array).
        var transforms: String
        /// Where the cleaned bytes are (project-relative), for content not yet in the object store.
        var cleanedPath: String?
        var cleanedLine: Int?
    }

    /// Samples left out at the user's request (`--exclude-findings`).
    struct Exclusion: Sendable {
        var ids: Set<String> = []
        var byKind: [String: Set<String>] = [:]
        var summary: [ExcludedFindings] = []
    }

    /// A duplicate pair from the findings ledger (`duplicate`, `duplicate-row`, `near-duplicate`).
    typealias Pair = (a: String, b: String, kind: String)

    /// The labels a version gives its members.
    struct Labels: Sendable {
        /// Human (or imported) consensus labels.
        var human: [String: String] = [:]
        /// Samples waiting for adjudication: no label.
        var unresolved: Set<String> = []
        /// Labeled by fewer annotators than the rulebook asks (all agreeing).
        var pending: Set<String> = []
        /// Pseudo labels of samples without a human label.
        var pseudo: [String: String] = [:]
        /// Test-split samples whose pseudo label was left out.
        var pseudoExcludedFromTest: Set<String> = []
    }

    var spec: SplitSpec
    var projectName: String
    /// The lineage parent (an active or retired version), if any.
    var parentId: String?
    /// The spec files as they are now: file name -> object digest.
    var specs: [String: String]
    /// The runs that produced the cleaned set.
    var runs: [String]
    var exclusion: Exclusion

    /// What `plan` decides.
    struct Plan: Sendable {
        /// The manifest's SHA-256: the version's id.
        var id: String
        var manifest: [UInt8]
        /// Members in sample-id order, `versionId` set to `id`.
        var members: [VersionMemberRow]
        var labelSetId: String
        var summary: VersionSummary
        var leakage: [LeakagePair]
    }

    // MARK: Members

    /// The candidates: the cleaned set of the latest run, or every sample when nothing was cleaned; sorted by id.
    static func candidates(samples: [SampleRow], cleaned: [CleanedSampleRow]) -> [Candidate] {
        var out: [Candidate] = []
        if cleaned.isEmpty {
            out = samples.map { Candidate(sample: $0, content: $0.id, transforms: "[]", cleanedPath: nil, cleanedLine: nil) }
        } else {
            let byId = Dictionary(uniqueKeysWithValues: samples.map { ($0.id, $0) })
            for c in cleaned {
                guard let s = byId[c.sampleId] else { continue }
                out.append(Candidate(sample: s, content: c.contentSha, transforms: c.transforms, cleanedPath: c.path, cleanedLine: c.line))
            }
        }
        out.sort { $0.sample.id < $1.sample.id }
        return out
    }

    /// The version name: the one given, or the first free `vN` from the number of versions on.
    static func name(_ given: String?, existing: [String]) throws -> String {
        if let name = given {
            guard !name.isEmpty, name.utf8.count <= 64,
                  name.unicodeScalars.allSatisfy({ isAlphanumeric($0) || "-_.".unicodeScalars.contains($0) }),
                  name.unicodeScalars.first.map({ isAlphanumeric($0) }) == true
            else {
                throw StrataError.usage("invalid version name `\(name)`", fix: "use letters, digits, `-`, `_` and `.`, starting with a letter or digit (e.g. v3, 2026-11-baseline)")
            }
            return name
        }
        var n = existing.count + 1
        while existing.contains("v\(n)") { n += 1 }
        return "v\(n)"
    }

    private static func isAlphanumeric(_ u: Unicode.Scalar) -> Bool { CharacterSet.alphanumerics.contains(u) }

    // MARK: Splits

    /// The split of each sample (sticky to `previous`, grouped by `spec.groupBy` and, under `leakage: group`, by
    /// duplicate pairs, stratified by `labels`), and the duplicate pairs among `samples`.
    static func assignSplits(samples: [SampleRow], labels: [String: String], spec: SplitSpec, duplicates: [Pair],
                             previous: [String: String]) -> (plan: SplitPlanner.Result, pairs: [Pair]) {
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
        let pairs = duplicates.filter { memberIds.contains($0.a) && memberIds.contains($0.b) }
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
        return (SplitPlanner.assign(units: units, previous: previous, spec: spec), pairs)
    }

    /// Duplicates that still span splits, and what the leakage policy did with them: under `drop` and `group` the
    /// sample in the later split is left out (train is kept; between splits of equal rank, the larger id).
    static func leakage(pairs: [Pair], split: [String: String], spec: SplitSpec) -> (pairs: [LeakagePair], dropped: Set<String>) {
        var dropped = Set<String>()
        var leakage: [LeakagePair] = []
        let order = spec.ratios.map(\.name)
        for p in pairs.sorted(by: { ($0.a, $0.b) < ($1.a, $1.b) }) {
            guard let sa = split[p.a], let sb = split[p.b], sa != sb,
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
        return (leakage, dropped)
    }

    // MARK: The plan

    /// Members, summary and manifest of the version made of `candidates` with these splits and labels.
    /// `moved`: the samples the split assignment moved to keep groups together.
    func plan(candidates: [Candidate], split: [String: String], moved: Int, pairs: [Pair], labels: Labels,
              splitsFrom: String?) -> Plan {
        let (leakage, dropped) = Self.leakage(pairs: pairs, split: split, spec: spec)
        let firstSplit = spec.ratios.map(\.name)[0]
        var members: [VersionMemberRow] = []
        var manifestSamples: [JSONValue] = []
        var summary = VersionSummary()
        for c in candidates where !dropped.contains(c.sample.id) {
            let s = c.sample
            let split = split[s.id] ?? firstSplit
            let label = labels.human[s.id] ?? labels.pseudo[s.id]
            let isPseudo = labels.human[s.id] == nil && label != nil
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
            if labels.pseudoExcludedFromTest.contains(s.id) { summary.pseudoExcludedFromTest = (summary.pseudoExcludedFromTest ?? 0) + 1 }
            manifestSamples.append(.object(entry))
            summary.splits[split, default: 0] += 1
            summary.labels[label ?? "(none)", default: 0] += 1
            summary.splitLabels[split, default: [:]][label ?? "(none)", default: 0] += 1
            summary.sources[s.source, default: 0] += 1
            summary.modalities[s.modality, default: 0] += 1
            if labels.unresolved.contains(s.id) { summary.unresolvedLabels += 1 }
            if labels.pending.contains(s.id) { summary.pendingLabels = (summary.pendingLabels ?? 0) + 1 }
        }

        let labelPairs = members.map { m -> JSONValue in
            let pair: [JSONValue] = [.string(m.sampleId), m.label.map { .string($0) } ?? .null]
            return .array(labels.human[m.sampleId] == nil && m.label != nil ? pair + [.string("pseudo")] : pair)
        }
        let labelSetId = FileIO.sha256(JSONValue.object(["method": .string(VersionLabels.method), "labels": .array(labelPairs)]).serialize())

        var manifestFields: [String: JSONValue] = [
            "format": .string(Workspace.manifestFormat),
            "parent": parentId.map { .string($0) } ?? .null,
            "project": .string(projectName),
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
        let manifest = JSONValue.object(manifestFields).serialize()
        let id = FileIO.sha256(manifest)
        for i in members.indices { members[i].versionId = id }

        summary.leakage = leakage
        summary.movedForGroups = moved
        summary.splitsFrom = splitsFrom
        summary.specs = specs
        summary.runs = runs
        if !exclusion.summary.isEmpty { summary.excludedFindings = exclusion.summary }
        return Plan(id: id, manifest: manifest, members: members, labelSetId: labelSetId, summary: summary, leakage: leakage)
    }

    /// The leakage check's results as findings-ledger rows (stage `version`).
    static func leakageFindings(_ plan: Plan, versionName: String, now: String) -> [FindingRow] {
        plan.leakage.map { p in
            FindingRow(key: Workspace.shortHash(FindingKind.leakage.rawValue, plan.id, p.a, p.b), kind: FindingKind.leakage.rawValue,
                       stage: "version", sampleId: p.a, origin: nil, line: nil, relatedSampleId: p.b,
                       reason: "\(p.kind) across splits \(p.splits.joined(separator: "/")) in version \(versionName): \(p.resolution)",
                       runId: nil, createdAt: now)
        }
    }
}
