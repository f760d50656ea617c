// The label store: append-only label events, gold answers and the rulebook version they are made under.
// Validation rules are in `LabelSubmissionRules`, consensus and agreement in `LabelConsensusService` (both pure);
// this type reads and writes the catalog around them.

import Foundation
import StrataCatalog
import StrataCore
import StrataStore

/// The label store of one project, bound to the rulebook it was opened with. Thread-safe; open one per process
/// (the server) or per command.
public final class LabelStore: Sendable {
    public let workspace: Workspace
    public let rulebook: RulebookSpec
    public let version: RulebookVersion
    let labelNames: Set<String>

    init(workspace: Workspace) throws {
        self.workspace = workspace
        let (spec, version) = try workspace.recordRulebookVersion()
        rulebook = spec
        self.version = version
        labelNames = Set(spec.labels.map(\.name))
    }

    // MARK: appending

    /// Appends one event durably. Throws `LabelInputError` when it is invalid, or when its import key is stored.
    public func append(_ submission: LabelSubmission) throws -> LabelEvent {
        let result = try append([submission])
        guard let event = result.stored.first else {
            throw LabelInputError(problems: [.init(index: 0, field: "importKey", code: .invalid, message: "this event was already imported")])
        }
        return event
    }

    /// Appends a batch in one durable transaction: all or nothing.
    public func append(_ submissions: [LabelSubmission]) throws -> LabelAppendResult {
        if submissions.isEmpty { return LabelAppendResult(stored: [], duplicates: 0) }
        let rows = try validate(submissions)
        let ids = try workspace.catalog.appendLabelEvents(rows)
        let stored = try events(rows: try workspace.catalog.labelEventRows(ids: ids.compactMap { $0 }))
        return LabelAppendResult(stored: stored, duplicates: ids.count - stored.count)
    }

    /// Appends the valid submissions of a batch in one durable transaction and reports each invalid one, for a
    /// server that gathers concurrent requests into one commit (group commit): one bad submission does not fail
    /// the others. Result `i` belongs to submission `i`: the stored event, or the problems of that submission
    /// (their `index` is 0). A submission whose import key is already stored gets an `invalid` problem on `importKey`.
    public func append(each submissions: [LabelSubmission]) throws -> [Result<LabelEvent, LabelInputError>] {
        if submissions.isEmpty { return [] }
        let (valid, problems) = try check(submissions)
        let order = valid.keys.sorted()
        let ids = try workspace.catalog.appendLabelEvents(order.map { valid[$0]! })
        let stored = try events(rows: try workspace.catalog.labelEventRows(ids: ids.compactMap { $0 }))
        var byId: [Int64: LabelEvent] = [:]
        for e in stored { byId[e.id] = e }
        var out = [Result<LabelEvent, LabelInputError>?](repeating: nil, count: submissions.count)
        for (k, index) in order.enumerated() {
            if let id = ids[k], let e = byId[id] { out[index] = .success(e) } else {
                out[index] = .failure(LabelInputError(problems: [.init(index: 0, field: "importKey", code: .invalid, message: "this event was already imported")]))
            }
        }
        var grouped: [Int: [LabelInputError.Problem]] = [:]
        for var p in problems { let i = p.index; p.index = 0; grouped[i, default: []].append(p) }
        for (i, ps) in grouped { out[i] = .failure(LabelInputError(problems: ps)) }
        return out.map { $0! }
    }

    /// Checks every submission and turns the valid batch into rows; throws every problem at once.
    /// - Parameter knownSampleIds: sample references the caller knows to be full ids of the catalog (the label
    ///   server's queue handed them out); they are not looked up again.
    func validate(_ submissions: [LabelSubmission], knownSampleIds: Set<String> = []) throws -> [LabelEventRow] {
        let (valid, problems) = try check(submissions, knownSampleIds: knownSampleIds)
        if !problems.isEmpty { throw LabelInputError(problems: problems) }
        return valid.keys.sorted().map { valid[$0]! }
    }

    /// Rows for the valid submissions (by index) and the problems of the others: reads what the rules need (the
    /// samples referred to, the recorded rulebook versions when a submission names an older one), then applies
    /// `LabelSubmissionRules`.
    func check(_ submissions: [LabelSubmission], knownSampleIds: Set<String> = []) throws -> (valid: [Int: LabelEventRow], problems: [LabelInputError.Problem]) {
        var resolved = try workspace.catalog.resolveSampleRefs(submissions.map(\.sample).filter { !knownSampleIds.contains($0) })
        for s in submissions where knownSampleIds.contains(s.sample) { resolved[s.sample] = s.sample }
        var knownVersions: Set<String> = [version.id]
        if submissions.contains(where: { $0.rulebookVersion != nil && $0.rulebookVersion != version.id }) {
            knownVersions.formUnion(try workspace.catalog.rulebookVersions().map(\.id))
        }
        let rules = LabelSubmissionRules(rulebook: rulebook, labelNames: labelNames, currentVersion: version.id, resolved: resolved,
                                         knownVersions: knownVersions, now: Workspace.now())
        return rules.check(submissions)
    }

    // MARK: reading

    /// Events oldest first, filtered by sample (full or short id), annotator, and/or events after `afterId`.
    public func events(sample: String? = nil, annotator: String? = nil, afterId: Int64? = nil, limit: Int? = nil) throws -> [LabelEvent] {
        var sampleId: String?
        if let sample {
            guard let id = try workspace.catalog.resolveSampleRefs([sample])[sample] else { return [] }
            sampleId = id
        }
        return try events(rows: try workspace.catalog.labelEventRows(sampleId: sampleId, annotator: annotator, afterId: afterId, limit: limit))
    }

    /// Full ids of the samples `annotator` has any event on.
    public func samplesLabeled(by annotator: String) throws -> Set<String> {
        try workspace.catalog.sampleIdsLabeled(by: annotator)
    }

    /// Sample id -> number of distinct annotators with an event on it.
    public func annotatorCounts() throws -> [String: Int] {
        try workspace.catalog.annotatorCountsBySample()
    }

    func events(rows: [LabelEventRow]) throws -> [LabelEvent] {
        let short = try workspace.catalog.shortIds(for: rows.map(\.sampleId))
        return rows.map { r in
            LabelEvent(
                id: r.id ?? 0, sample: r.sampleId, shortId: short[r.sampleId] ?? String(r.sampleId.prefix(12)),
                status: LabelStatus(rawValue: r.status) ?? .label, value: r.value, reason: r.reason, annotator: r.annotator,
                role: AnnotatorRole(rawValue: r.role) ?? .importer, source: LabelSource(rawValue: r.source) ?? .import,
                confidence: r.confidence, rulebookVersion: r.rulebookVersion,
                answers: r.answers.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) },
                createdAt: r.createdAt)
        }
    }

    // MARK: gold

    /// Sample id -> known answer.
    public func goldLabels() throws -> [String: String] {
        Dictionary(try workspace.catalog.goldLabels().map { ($0.sampleId, $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    /// Sets the known answers of gold samples (replacing earlier ones), all or nothing.
    public func setGold(_ gold: [GoldSubmission]) throws {
        let resolved = try workspace.catalog.resolveSampleRefs(gold.map(\.sample))
        var problems: [LabelInputError.Problem] = []
        var rows: [GoldLabelRow] = []
        let now = Workspace.now()
        for (i, g) in gold.enumerated() {
            guard let id = resolved[g.sample] else {
                problems.append(.init(index: i, field: "sample", code: .unknownSample, message: "no sample has the id or short id `\(g.sample)`"))
                continue
            }
            guard labelNames.contains(g.value) else {
                problems.append(.init(index: i, field: "value", code: .unknownLabel, message: "`\(g.value)` is not a label of rulebook.yaml"))
                continue
            }
            rows.append(GoldLabelRow(sampleId: id, value: g.value, note: g.note, createdAt: now))
        }
        if !problems.isEmpty { throw LabelInputError(problems: problems) }
        try workspace.catalog.setGoldLabels(rows)
    }

    // MARK: consensus and agreement

    /// Consensus per sample; ties, low agreement and unclear samples form the adjudication queue
    /// (decided by `LabelConsensusService.consensus`).
    public func consensus(method: ConsensusMethod = .majority) throws -> ConsensusReport {
        let (votes, adjudicated) = LabelConsensusService.effectiveVotes(try workspace.catalog.labelEventRows())
        let samples = Set(votes.map(\.item)).union(adjudicated.keys)
        return LabelConsensusService.consensus(
            votes: votes, adjudicated: adjudicated, method: method, rulebook: rulebook,
            shortIds: try workspace.catalog.shortIds(for: samples.sorted()), gold: try goldLabels())
    }

    /// Agreement and accuracy on gold (see `LabelConsensusService.agreement`).
    public func agreement() throws -> LabelAgreementReport {
        let (votes, _) = LabelConsensusService.effectiveVotes(try workspace.catalog.labelEventRows())
        return LabelConsensusService.agreement(votes: votes, rulebook: rulebook, rulebookNumber: version.number, gold: try goldLabels())
    }
}
