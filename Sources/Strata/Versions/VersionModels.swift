import Foundation
import StrataCatalog
import StrataCore

/// A dataset version as commands show it.
public struct VersionInfo: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var state: VersionState
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

extension VersionDiff {
    /// What changed from version `a` to version `b`: samples added, removed, relabeled, re-cleaned or moved between
    /// splits (by short id), and counts per label, split, source and finding kind on each side. Pure.
    init(from a: String, members aMembers: [VersionMemberRow], to b: String, members bMembers: [VersionMemberRow],
         samples: [String: SampleRow], findingKinds: [(sampleId: String, kind: String)]) {
        let am = Dictionary(uniqueKeysWithValues: aMembers.map { ($0.sampleId, $0) })
        let bm = Dictionary(uniqueKeysWithValues: bMembers.map { ($0.sampleId, $0) })
        let all = Set(am.keys).union(bm.keys)
        func short(_ id: String) -> String { samples[id]?.shortId ?? String(id.prefix(12)) }
        var d = VersionDiff(from: a, to: b, added: [], removed: [], relabeled: [], contentChanged: [], splitChanged: [],
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
                if let s = samples[m.sampleId] { bump(&d.sources, s.source, side) }
            }
        }
        for (id, kind) in findingKinds {
            if am[id] != nil { bump(&d.findings, kind, 0) }
            if bm[id] != nil { bump(&d.findings, kind, 1) }
        }
        self = d
    }
}
