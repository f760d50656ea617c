// The label store: append-only label events, gold answers, rulebook versions, consensus and agreement.
//
// API (names are stable; the labeling server builds on them):
//
//   let store = try workspace.labelStore()        // reads rulebook.yaml once, records its version if new
//   store.rulebook, store.version                   // RulebookSpec and RulebookVersion (id, number, labelHashes)
//   try store.append(LabelSubmission(sample: "3f2a9c", value: "billing", annotator: "ana"))   -> LabelEvent
//   try store.append([sub1, sub2, ...])             -> LabelAppendResult (stored events, skipped duplicate imports)
//       One transaction with synchronous=FULL: when append returns, the events are durable (kill -9 loses none).
//       All or nothing: any invalid submission throws LabelInputError (problems with index, field, code) and
//       nothing is stored.
//   try store.append(each: [sub1, sub2, ...])       -> [Result<LabelEvent, LabelInputError>]: the valid ones stored in
//       one durable transaction, the invalid ones reported one by one (group commit for a server).
//       In every append: `sample` may be a full id or a short id. skip/unclear need a `reason`, labels a `value`
//       that the rulebook defines; `answers` (decision-path answers, in order) must lead to the submitted outcome.
//   try store.events(sample: ref?, annotator: name?, afterId: id?, limit: n?) -> [LabelEvent]   (oldest first)
//   try store.samplesLabeled(by: annotator)         -> Set<String> full sample ids (never queue one twice)
//   try store.annotatorCounts()                     -> [sampleId: distinct annotators]
//   try store.goldLabels()                          -> [sampleId: value]
//   try store.setGold([GoldSubmission])             known answers for gold samples (replace)
//   try store.consensus(method: .majority | .dawidSkene)  -> ConsensusReport (per sample; `adjudication` queue)
//   try store.agreement()                           -> LabelAgreementReport (kappas, alpha, per label and annotator, gold)
//
// Conventions: per (sample, annotator) the LATEST event counts (corrections are new events); an event by a
// `reviewer` or `admin` whose status is `label` is an adjudication and decides the sample's consensus.
// Workspace shortcuts: `workspace.appendLabels(_:)`, `workspace.labelEvents(sample:annotator:)`,
// `workspace.recordRulebookVersion()`.

import Foundation
import StrataCatalog
import StrataCore
import StrataStore
@_exported import StrataLabels

/// What an event says about its sample.
public enum LabelStatus: String, Codable, Sendable, CaseIterable {
    /// The sample has the label in `value`.
    case label
    /// The annotator skipped the sample (with a reason: no label fits, must not be labeled, ...).
    case skip
    /// The annotator could not decide (with a reason); such samples go to adjudication.
    case unclear
}

/// Who or what produced an event.
public enum LabelSource: String, Codable, Sendable, CaseIterable {
    case human
    case `import`
    case model
    case pseudo
}

/// The role an annotator acted in. Events by a `reviewer` or `admin` are adjudications.
public enum AnnotatorRole: String, Codable, Sendable, CaseIterable {
    case tasker, reviewer, admin, importer, model

    public var adjudicates: Bool { self == .reviewer || self == .admin }
}

/// A label event to append.
public struct LabelSubmission: Codable, Sendable, Equatable {
    /// A sample's full id or short id.
    public var sample: String
    public var status: LabelStatus
    /// The label, for status `label`; must be a label of the rulebook.
    public var value: String?
    /// Why the sample was skipped or is unclear (required for those); optional note for a label.
    public var reason: String?
    public var annotator: String
    public var role: AnnotatorRole
    public var source: LabelSource
    /// 0...1, for model or pseudo labels (optional).
    public var confidence: Double?
    /// The answers given on the decision path, in order (optional).
    public var answers: [String]?
    /// The rulebook version id the label was made under; nil = the current one. An import may name an older
    /// recorded version.
    public var rulebookVersion: String?
    /// ISO 8601 time; nil = now.
    public var createdAt: String?
    /// A key that makes an import idempotent: a second event with the same key is skipped.
    public var importKey: String?

    public init(sample: String, status: LabelStatus = .label, value: String? = nil, reason: String? = nil,
                annotator: String, role: AnnotatorRole = .tasker, source: LabelSource = .human,
                confidence: Double? = nil, answers: [String]? = nil, rulebookVersion: String? = nil,
                createdAt: String? = nil, importKey: String? = nil) {
        self.sample = sample; self.status = status; self.value = value; self.reason = reason
        self.annotator = annotator; self.role = role; self.source = source; self.confidence = confidence
        self.answers = answers; self.rulebookVersion = rulebookVersion; self.createdAt = createdAt; self.importKey = importKey
    }
}

/// A stored label event.
public struct LabelEvent: Codable, Sendable, Equatable {
    public var id: Int64
    /// The sample's full id.
    public var sample: String
    public var shortId: String
    public var status: LabelStatus
    public var value: String?
    public var reason: String?
    public var annotator: String
    public var role: AnnotatorRole
    public var source: LabelSource
    public var confidence: Double?
    public var rulebookVersion: String?
    public var answers: [String]?
    public var createdAt: String
}

/// The outcome of appending a batch.
public struct LabelAppendResult: Codable, Sendable, Equatable {
    /// The events stored, in submission order.
    public var stored: [LabelEvent]
    /// Submissions skipped because their import key was already stored.
    public var duplicates: Int
}

/// Bad submissions: nothing of the batch was stored.
public struct LabelInputError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable, Codable {
        /// No sample has this id or short id.
        case unknownSample = "unknown-sample"
        /// The value is not a label of the rulebook.
        case unknownLabel = "unknown-label"
        /// Any other invalid field.
        case invalid
    }
    public struct Problem: Sendable, Equatable, Codable {
        /// Position of the submission in the batch (0-based).
        public var index: Int
        public var field: String
        public var code: Code
        public var message: String
    }
    public var problems: [Problem]

    public var description: String {
        let shown = problems.prefix(20).map { "  submission \($0.index + 1), \($0.field): \($0.message)" }
        let more = problems.count > 20 ? ["  ... and \(problems.count - 20) more"] : []
        return (["\(problems.count) invalid label submission(s); nothing was stored:"] + shown + more).joined(separator: "\n")
    }
}

/// A recorded rulebook version.
public struct RulebookVersion: Codable, Sendable, Equatable {
    /// Hash of the canonical rulebook (16 hex digits); stored on every event made under it.
    public var id: String
    /// 1, 2, 3, ... in the order versions were first seen (`r1`, `r2`, ...).
    public var number: Int
    /// Label name -> hash of its definition and signs.
    public var labelHashes: [String: String]
    public var createdAt: String
}

/// A known answer for a gold sample.
public struct GoldSubmission: Codable, Sendable, Equatable {
    public var sample: String
    public var value: String
    public var note: String?
    public init(sample: String, value: String, note: String? = nil) { self.sample = sample; self.value = value; self.note = note }
}

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
    /// `trimmingCharacters(in: .whitespaces or .whitespacesAndNewlines)`, skipping Foundation when both ends are
    /// visible ASCII (nothing to trim; the common case, and the label server checks every answer).
    static func trimmed(_ s: String, newlines: Bool) -> String {
        if let f = s.utf8.first, let l = s.utf8.last, f > 0x20, f < 0x7F, l > 0x20, l < 0x7F { return s }
        return s.trimmingCharacters(in: newlines ? .whitespacesAndNewlines : .whitespaces)
    }

    /// - Parameter knownSampleIds: sample references the caller knows to be full ids of the catalog (the label
    ///   server's queue handed them out); they are not looked up again.
    func validate(_ submissions: [LabelSubmission], knownSampleIds: Set<String> = []) throws -> [LabelEventRow] {
        let (valid, problems) = try check(submissions, knownSampleIds: knownSampleIds)
        if !problems.isEmpty { throw LabelInputError(problems: problems) }
        return valid.keys.sorted().map { valid[$0]! }
    }

    /// Rows for the valid submissions (by index) and the problems of the others.
    func check(_ submissions: [LabelSubmission], knownSampleIds: Set<String> = []) throws -> (valid: [Int: LabelEventRow], problems: [LabelInputError.Problem]) {
        var resolved = try workspace.catalog.resolveSampleRefs(submissions.map(\.sample).filter { !knownSampleIds.contains($0) })
        for s in submissions where knownSampleIds.contains(s.sample) { resolved[s.sample] = s.sample }
        var knownVersions: Set<String> = [version.id]
        if submissions.contains(where: { $0.rulebookVersion != nil && $0.rulebookVersion != version.id }) {
            knownVersions.formUnion(try workspace.catalog.rulebookVersions().map(\.id))
        }
        let now = Workspace.now()
        var problems: [LabelInputError.Problem] = []
        var rows: [Int: LabelEventRow] = [:]
        rows.reserveCapacity(submissions.count)
        for (i, s) in submissions.enumerated() {
            let problemsBefore = problems.count
            func problem(_ field: String, _ code: LabelInputError.Code, _ message: String) {
                problems.append(.init(index: i, field: field, code: code, message: message))
            }
            let sampleId = resolved[s.sample]
            if sampleId == nil {
                problem("sample", .unknownSample, s.sample.isEmpty ? "the sample is empty" : "no sample has the id or short id `\(s.sample)`")
            }
            let annotator = Self.trimmed(s.annotator, newlines: false)
            if annotator.isEmpty || annotator.count > 200 || annotator.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                problem("annotator", .invalid, "the annotator must be a name of 1 to 200 characters without control characters")
            }
            let reason = s.reason.map { Self.trimmed($0, newlines: true) }.flatMap { $0.isEmpty ? nil : $0 }
            switch s.status {
            case .label:
                if let v = s.value, !v.isEmpty {
                    if !labelNames.contains(v) {
                        let names = rulebook.labels.map(\.name)
                        problem("value", .unknownLabel, "`\(v)` is not a label of rulebook.yaml (labels: \(names.joined(separator: ", ")))")
                    }
                } else {
                    problem("value", .invalid, "a label event needs a `value` (one of the rulebook's labels)")
                }
            case .skip, .unclear:
                if s.value != nil { problem("value", .invalid, "a \(s.status.rawValue) event has no value; put the explanation in `reason`") }
                if reason == nil { problem("reason", .invalid, "a \(s.status.rawValue) event needs a `reason`") }
            }
            if let c = s.confidence, !(c >= 0 && c <= 1) { problem("confidence", .invalid, "confidence must be between 0 and 1, got \(c)") }
            if let v = s.rulebookVersion, !knownVersions.contains(v) {
                problem("rulebookVersion", .invalid, "`\(v)` is not a recorded rulebook version")
            }
            if let answers = s.answers, !answers.isEmpty {
                if let message = pathProblem(answers, status: s.status, value: s.value) { problem("answers", .invalid, message) }
            }
            if let t = s.createdAt, !Workspace.isISO8601(t) {
                problem("createdAt", .invalid, "`\(t)` is not an ISO 8601 time such as 2026-01-31T12:00:00Z")
            }
            guard let sampleId, problems.count == problemsBefore else { continue }
            let answersJSON = s.answers.flatMap { $0.isEmpty ? nil : JSONValue.array($0.map(JSONValue.string)).canonicalJSON }
            rows[i] = (LabelEventRow(
                sampleId: sampleId, status: s.status.rawValue, value: s.status == .label ? s.value : nil, reason: reason,
                annotator: annotator, role: s.role.rawValue, source: s.source.rawValue, confidence: s.confidence,
                rulebookVersion: s.rulebookVersion ?? version.id, answers: answersJSON, importKey: s.importKey,
                createdAt: s.createdAt ?? now))
        }
        return (rows, problems)
    }

    /// Why `answers` do not lead to the submitted outcome, or nil when they do.
    func pathProblem(_ answers: [String], status: LabelStatus, value: String?) -> String? {
        guard let result = rulebook.follow(answers) else { return "the rulebook has no decision path; send no answers" }
        switch result {
        case .invalid(let index, let answer, let question, let expected):
            return "answer \(index + 1) `\(answer)` is not an answer to \"\(question)\" (answers: \(expected.joined(separator: ", ")))"
        case .incomplete(let question):
            return "the answers stop before a decision; the next question is \"\(question)\""
        case .tooMany(let used):
            return "the decision path ends after \(used) answer(s); \(answers.count) were sent"
        case .outcome(let outcome):
            switch (outcome, status) {
            case (.label(let l), .label) where l == value: return nil
            case (.skip, .skip), (.escalate, .unclear): return nil
            case (.label(let l), _): return "the answers lead to the label `\(l)`, not to this \(status == .label ? "label" : status.rawValue)"
            case (.skip, _): return "the answers lead to skip, not to this \(status.rawValue)"
            case (.escalate, _): return "the answers lead to escalate (status unclear), not to this \(status.rawValue)"
            case (.next, _): return "the answers stop before a decision"
            }
        }
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
}

/// The consensus of one sample.
public struct SampleConsensus: Codable, Sendable, Equatable {
    public var sample: String
    public var shortId: String
    public var state: ItemConsensus.State
    public var label: String?
    public var support: Double
    /// Vote key (label, `(skip)` or `(unclear)`) -> count, one vote per annotator (their latest event).
    public var votes: [String: Int]
    public var annotators: Int
    public var reason: String?
    /// Gold answer, when the sample is a gold sample.
    public var gold: String?
}

/// A number per annotator (a list rather than a dictionary, so JSON keys never depend on annotator names).
public struct AnnotatorScore: Codable, Sendable, Equatable {
    public var annotator: String
    public var value: Double

    static func list(_ d: [String: Double]) -> [AnnotatorScore] {
        d.sorted { $0.key < $1.key }.map { AnnotatorScore(annotator: $0.key, value: $0.value) }
    }
}

/// Consensus over every labeled sample.
public struct ConsensusReport: Codable, Sendable, Equatable {
    public var method: ConsensusMethod
    public var annotatorsPerSample: Int
    public var threshold: Double
    public var samples: [SampleConsensus]
    /// The samples a reviewer must settle (state `adjudicate`), in sample order.
    public var adjudication: [SampleConsensus]
    /// State -> number of samples.
    public var counts: [String: Int]
    /// Dawid-Skene's estimate of each annotator's accuracy (only with that method), by annotator name.
    public var estimatedAccuracy: [AnnotatorScore]?
    /// With Dawid-Skene: the annotators who share no sample with another annotator, whose samples were decided by
    /// majority voting (their vote as given) because there is nothing to estimate their confusion from.
    public var dawidSkeneFallback: DawidSkeneFallback?
}

/// Annotators left out of the Dawid-Skene fit (they never overlap with anyone) and how many samples they decide.
public struct DawidSkeneFallback: Codable, Sendable, Equatable {
    public var annotators: [String]
    public var samples: Int

    /// The line `strata label consensus` prints.
    public var message: String {
        let who = annotators.count == 1 ? "annotator \(annotators[0]) shares" : "annotators \(annotators.joined(separator: ", ")) share"
        return "dawid-skene: \(who) no sample with another annotator: nothing to estimate confusion from, so \(samples) sample(s) use majority voting (the vote as given)"
    }
}

/// Agreement of the project's annotators.
public struct LabelAgreementReport: Codable, Sendable, Equatable {
    public var rulebookVersion: Int
    /// The rulebook's agreement threshold.
    public var threshold: Double
    public var agreement: AgreementReport
    /// Labels whose one-vs-rest Krippendorff's alpha is below the threshold.
    public var labelsBelowThreshold: [String]
    /// Dawid-Skene's estimate of each annotator's accuracy, by annotator name.
    public var estimatedAccuracy: [AnnotatorScore]
}

extension LabelStore {
    /// Per sample, the latest event of each annotator (adjudicating roles excluded), and the latest adjudication.
    /// Pseudo labels (source `pseudo`) are not votes: consensus and agreement are about people (and imported or model
    /// labels), and a pseudo label counts only where no such event exists (see `VersionLabels`).
    func effectiveVotes() throws -> (votes: [(item: String, annotator: String, vote: Vote)], adjudicated: [String: Vote]) {
        var latest: [String: [String: LabelEventRow]] = [:]
        var adjudicated: [String: Vote] = [:]
        for e in try workspace.catalog.labelEventRows() where e.source != LabelSource.pseudo.rawValue {
            let role = AnnotatorRole(rawValue: e.role) ?? .importer
            if role.adjudicates {
                switch e.status {
                case "label": if let v = e.value { adjudicated[e.sampleId] = .label(v) }
                case "skip": adjudicated[e.sampleId] = .skip
                default: break  // a reviewer who cannot decide leaves the sample in the queue
                }
                continue
            }
            latest[e.sampleId, default: [:]][e.annotator] = e
        }
        var votes: [(item: String, annotator: String, vote: Vote)] = []
        for (sample, byAnnotator) in latest {
            for (annotator, e) in byAnnotator {
                let vote: Vote = switch e.status {
                case "label": .label(e.value ?? "")
                case "skip": .skip
                default: .unclear
                }
                votes.append((sample, annotator, vote))
            }
        }
        votes.sort { ($0.item, $0.annotator) < ($1.item, $1.annotator) }
        return (votes, adjudicated)
    }

    /// Consensus per sample; ties, low agreement and unclear samples form the adjudication queue.
    public func consensus(method: ConsensusMethod = .majority) throws -> ConsensusReport {
        let (votes, adjudicated) = try effectiveVotes()
        let options = ConsensusOptions(method: method, minAnnotators: rulebook.annotatorsPerSample, threshold: rulebook.agreementThreshold)
        let items = Consensus.decide(votes: votes, adjudicated: adjudicated, options: options)
        let short = try workspace.catalog.shortIds(for: items.map(\.item))
        let gold = try goldLabels()
        let samples = items.map { c in
            SampleConsensus(sample: c.item, shortId: short[c.item] ?? String(c.item.prefix(12)), state: c.state, label: c.label,
                            support: c.support, votes: c.votes, annotators: c.annotators, reason: c.reason, gold: gold[c.item])
        }
        var counts: [String: Int] = [:]
        for s in samples { counts[s.state.rawValue, default: 0] += 1 }
        // Annotators who share a sample with another one: Dawid-Skene can only estimate their accuracy. The others'
        // samples fall back to majority voting, and the report says so.
        var fallback: DawidSkeneFallback?
        var estimated: [AnnotatorScore]?
        if method == .dawidSkene {
            let isolated = DawidSkene.isolatedAnnotators(votes: votes)
            estimated = AnnotatorScore.list(DawidSkene.fit(votes: votes.filter { !isolated.contains($0.annotator) }).accuracy)
            if !isolated.isEmpty {
                let items = Set(votes.filter { isolated.contains($0.annotator) }.map(\.item)).subtracting(adjudicated.keys)
                fallback = DawidSkeneFallback(annotators: isolated.sorted(), samples: items.count)
            }
        }
        return ConsensusReport(
            method: method, annotatorsPerSample: options.minAnnotators, threshold: options.threshold, samples: samples,
            adjudication: samples.filter { $0.state == .adjudicate }, counts: counts,
            estimatedAccuracy: estimated, dawidSkeneFallback: fallback)
    }

    /// Agreement (Cohen's kappa per pair, Fleiss' kappa, Krippendorff's alpha; per label and per annotator) and
    /// annotator accuracy on gold samples. Ratings are each annotator's latest `label` event per sample; skip and
    /// unclear are missing ratings; adjudications (reviewer and admin events) are not ratings.
    public func agreement() throws -> LabelAgreementReport {
        let (votes, _) = try effectiveVotes()
        var ratings: [(item: String, annotator: String, category: String)] = []
        for v in votes { if case .label(let l) = v.vote { ratings.append((v.item, v.annotator, l)) } }
        let table = RatingTable(ratings: ratings, categories: rulebook.labels.map(\.name))
        let report = AgreementReport.compute(table, gold: try goldLabels())
        return LabelAgreementReport(
            rulebookVersion: version.number, threshold: rulebook.agreementThreshold, agreement: report,
            labelsBelowThreshold: report.labels.filter { ($0.krippendorffAlpha ?? 1) < rulebook.agreementThreshold && $0.ratings > 0 }.map(\.label),
            // Dawid-Skene needs items rated by several annotators; without any, its estimate means nothing.
            // Only annotators who share samples with others get one.
            // Annotators who never overlap with anyone are left out of the fit (as in `consensus`).
            estimatedAccuracy: AnnotatorScore.list(DawidSkene.fit(votes: {
                let labels = votes.filter { if case .label = $0.vote { true } else { false } }
                let isolated = DawidSkene.isolatedAnnotators(votes: labels)
                return labels.filter { !isolated.contains($0.annotator) }
            }()).accuracy.filter { a in report.annotatorStats.contains { $0.annotator == a.key && $0.agreement != nil } }))
    }
}

extension Workspace {
    /// Opens the label store (reads and versions `rulebook.yaml`).
    public func labelStore() throws -> LabelStore { try LabelStore(workspace: self) }

    /// Appends label events durably in one transaction (see `LabelStore.append`).
    @discardableResult
    public func appendLabels(_ submissions: [LabelSubmission]) throws -> LabelAppendResult {
        try labelStore().append(submissions)
    }

    /// Label events, oldest first.
    public func labelEvents(sample: String? = nil, annotator: String? = nil) throws -> [LabelEvent] {
        try labelStore().events(sample: sample, annotator: annotator)
    }

    /// Every recorded rulebook version, oldest first.
    public func rulebookVersions() throws -> [RulebookVersion] {
        try catalog.rulebookVersions().map(Workspace.version)
    }

    static func version(_ r: RulebookVersionRow) -> RulebookVersion {
        let hashes = (try? JSONDecoder().decode([String: String].self, from: Data(r.labelHashes.utf8))) ?? [:]
        return RulebookVersion(id: r.id, number: r.number, labelHashes: hashes, createdAt: r.createdAt)
    }

    /// Hash of a label's definition and signs (16 hex digits).
    public static func definitionHash(_ label: RulebookSpec.Label) -> String {
        String(FileIO.sha256(Array(RulebookSpec.definitionText(label).utf8)).prefix(16))
    }

    /// Reads `rulebook.yaml` and records its version in the catalog if it is new. When a label's definition
    /// changed (or a label was removed) since the version its events were made under, each such `label` event
    /// gets a finding for review: kind `label-definition-changed` (or `label-removed`), stage `rulebook`.
    @discardableResult
    public func recordRulebookVersion() throws -> (spec: RulebookSpec, version: RulebookVersion) {
        let text = try readSpec("rulebook.yaml")
        let spec: RulebookSpec
        do { spec = try RulebookSpec.decode(yaml: text, file: "rulebook.yaml") } catch {
            throw StrataError(.project, wrapping: error, fix: "fix rulebook.yaml (see `strata rulebook check`)")
        }
        let id = String(FileIO.sha256(Array(spec.canonicalText.utf8)).prefix(16))
        if let existing = try catalog.rulebookVersion(id: id) { return (spec, Workspace.version(existing)) }

        var hashes: [String: String] = [:]
        for l in spec.labels { hashes[l.name] = Workspace.definitionHash(l) }
        let versions = try catalog.rulebookVersions().map(Workspace.version)
        let now = Workspace.now()
        var findings: [FindingRow] = []
        if let latest = versions.last {
            let byId = Dictionary(versions.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            let newNumber = latest.number + 1
            // An event without a version (labels imported by `strata ingest`) counts as made under the version that
            // was current at its time, or the first one when it is older than every version.
            let formatter = Workspace.timeParser()
            let times = versions.map { Workspace.parseTime($0.createdAt, formatter) ?? .distantPast }
            func versionAt(_ time: String) -> RulebookVersion {
                guard let t = Workspace.parseTime(time, formatter), let i = times.lastIndex(where: { $0 <= t }) else { return versions[0] }
                return versions[i]
            }
            for e in try catalog.labelEventRows() where e.status == "label" {
                guard let value = e.value else { continue }
                let made = e.rulebookVersion.flatMap { byId[$0] } ?? versionAt(e.createdAt)
                guard let old = made.labelHashes[value], old != hashes[value] else { continue }
                let removed = hashes[value] == nil
                let kind = removed ? "label-removed" : "label-definition-changed"
                let reason = removed
                    ? "labeled `\(value)` by \(e.annotator) under rulebook r\(made.number); `\(value)` is no longer a label in r\(newNumber): relabel the sample"
                    : "labeled `\(value)` by \(e.annotator) under rulebook r\(made.number); the definition of `\(value)` changed in r\(newNumber): review the label"
                findings.append(FindingRow(
                    key: Workspace.shortHash(kind, "\(e.id ?? 0)", hashes[value] ?? "-"), kind: kind, stage: "rulebook",
                    sampleId: e.sampleId, origin: nil, line: nil, reason: reason,
                    detail: JSONValue.object(["event": .int(e.id ?? 0), "label": .string(value), "annotator": .string(e.annotator),
                                              "madeUnder": .string(made.id), "current": .string(id)]).canonicalJSON,
                    runId: nil, createdAt: now))
            }
        }
        let hashesJSON = JSONValue.object(hashes.mapValues(JSONValue.string)).canonicalJSON
        let (row, _) = try catalog.recordRulebookVersion(id: id, labelHashes: hashesJSON, content: text, createdAt: now, findings: findings)
        return (spec, Workspace.version(row))
    }

    static func timeParser() -> ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }

    static func parseTime(_ s: String, _ f: ISO8601DateFormatter) -> Date? {
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s)
    }

    /// Whether `s` is an ISO 8601 / RFC 3339 time such as `2026-01-31T12:00:00Z` or `2026-01-31T12:00:00.123+02:00`
    /// (checked by hand: creating a date formatter per row costs more than the rest of an import).
    static func isISO8601(_ s: String) -> Bool {
        let b = Array(s.utf8)
        func digits(_ from: Int, _ n: Int) -> Int? {
            guard from + n <= b.count else { return nil }
            var v = 0
            for i in from..<(from + n) {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard b.count >= 20, let _ = digits(0, 4), b[4] == 45, let month = digits(5, 2), b[7] == 45, let day = digits(8, 2),
              b[10] == 84 || b[10] == 116 || b[10] == 32, let hour = digits(11, 2), b[13] == 58, let minute = digits(14, 2),
              b[16] == 58, let second = digits(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return false }
        var i = 19
        if i < b.count, b[i] == 46 {
            i += 1
            let start = i
            while i < b.count, b[i] >= 48 && b[i] <= 57 { i += 1 }
            if i == start { return false }
        }
        guard i < b.count else { return false }
        if b[i] == 90 || b[i] == 122 { return i + 1 == b.count }
        guard b[i] == 43 || b[i] == 45, let oh = digits(i + 1, 2), i + 3 < b.count, b[i + 3] == 58, let om = digits(i + 4, 2) else { return false }
        return oh < 24 && om < 60 && i + 6 == b.count
    }
}
