import Foundation
import StrataCatalog
import StrataCore

// The desk's reviewer and admin views: the adjudication queue, adjudications, and progress.
extension LabelDesk {
    // MARK: review

    /// A sample waiting for a reviewer, with every human answer given so far.
    public struct ReviewItem: Sendable, Codable, Equatable {
        public struct Given: Sendable, Codable, Equatable {
            public var annotator: String
            public var status: String
            public var value: String?
            public var reason: String?
        }
        public var sampleId: String
        public var shortId: String
        public var modality: String
        public var text: String?
        public var contentURL: String
        public var mediaType: String
        public var answers: [Given]
        /// Why it needs a reviewer (tie, low agreement, unclear).
        public var why: String?
    }

    /// The label store's adjudication queue: ties, agreement below the threshold, unclear answers; with every
    /// annotator's latest answer.
    public func reviewQueue(limit: Int = 100) throws -> [ReviewItem] {
        let pending = try store.consensus().adjudication.prefix(limit)
        let samples = try workspace.catalog.samples(ids: pending.map(\.sample))
        return try pending.compactMap { c in
            guard let s = samples[c.sample] else { return nil }
            var latest: [String: LabelEventRow] = [:]
            for e in try workspace.catalog.labelEvents(sampleId: c.sample) where !(AnnotatorRole(rawValue: e.role)?.adjudicates ?? false) {
                latest[e.annotator] = e
            }
            let given = latest.values.sorted { $0.annotator < $1.annotator }.map {
                ReviewItem.Given(annotator: $0.annotator, status: $0.status, value: $0.value, reason: $0.reason)
            }
            let text = s.modality == Modality.text.rawValue ? String(decoding: try content(of: s).prefix(1 << 20), as: UTF8.self) : nil
            return ReviewItem(sampleId: c.sample, shortId: s.shortId, modality: s.modality, text: text, contentURL: "/api/samples/\(c.sample)/content",
                              mediaType: LabelDesk.mediaType(format: s.format), answers: given, why: c.reason)
        }
    }

    /// A reviewer's (or admin's) decision: an event in their role, which settles the sample's consensus.
    public func adjudicate(_ a: Answer, by reviewer: Tasker) async throws -> Int64 {
        guard reviewer.role >= .reviewer, let role = AnnotatorRole(rawValue: reviewer.role.rawValue) else {
            throw AnswerError(field: "role", message: "only reviewers and admins adjudicate")
        }
        let event = try row(a, annotator: reviewer.name, role: role)
        return try await QueueRefusal.mapping { try await writer.appendAnswer(event, requireAssignment: false) }
    }

    // MARK: admin

    public struct Progress: Sendable, Codable, Equatable {
        public struct Annotator: Sendable, Codable, Equatable {
            public var name: String
            public var role: String
            public var answers: Int
            public var skipped: Int
            public var unclear: Int
            public var goldAnswered: Int
            public var goldCorrect: Int
            /// goldCorrect / goldAnswered, nil before the first gold answer.
            public var goldAccuracy: Double?
            /// Share of this annotator's labels that match the other annotators' on the same samples.
            public var agreement: Double?
            public var meanCohenKappa: Double?
        }
        public var samples: Int
        public var samplesWithAllAnswers: Int
        public var openAssignments: Int
        public var answers: Int
        public var awaitingReview: Int
        public var annotatorsPerSample: Int
        public var goldRate: Double
        public var agreementThreshold: Double
        public var percentAgreement: Double?
        public var fleissKappa: Double?
        public var krippendorffAlpha: Double?
        public var meanCohenKappa: Double?
        /// Labels whose Krippendorff's alpha is below the rulebook's threshold.
        public var labelsBelowThreshold: [String]
        public var annotators: [Annotator]
    }

    /// Queue progress, agreement (the label store's report) and accuracy on gold per annotator.
    public func progress() throws -> Progress {
        Progress.make(queue: try workspace.catalog.queueProgress(), agreement: try store.agreement(), consensus: try store.consensus(),
                      events: try workspace.catalog.labelEvents(), taskers: try workspace.taskers(), rulebook: rulebook)
    }
}

extension LabelDesk.Progress {
    /// The progress figures from what the desk read (pure).
    /// - Parameters:
    ///   - queue: the catalog's queue counters.
    ///   - events: every label event, oldest first.
    static func make(queue counts: (samples: Int, full: Int, open: Int, done: Int), agreement report: LabelAgreementReport,
                     consensus: ConsensusReport, events: [LabelEventRow], taskers: [Tasker], rulebook: RulebookSpec) -> LabelDesk.Progress {
        var latest: [String: [String: LabelEventRow]] = [:]  // annotator -> sample -> latest answer
        var answers = 0
        for e in events where !(AnnotatorRole(rawValue: e.role)?.adjudicates ?? false) {
            latest[e.annotator, default: [:]][e.sampleId] = e
            answers += 1
        }
        let stats = Dictionary(report.agreement.annotatorStats.map { ($0.annotator, $0) }, uniquingKeysWith: { a, _ in a })
        let annotators = taskers.map { t -> Annotator in
            let mine = Array(latest[t.name, default: [:]].values)
            let st = stats[t.name]
            return Annotator(
                name: t.name, role: t.role.rawValue, answers: mine.count, skipped: mine.filter { $0.status == "skip" }.count,
                unclear: mine.filter { $0.status == "unclear" }.count, goldAnswered: st?.goldItems ?? 0, goldCorrect: st?.goldCorrect ?? 0,
                goldAccuracy: st?.goldAccuracy, agreement: st?.agreement, meanCohenKappa: st?.meanCohenKappa)
        }
        let a = report.agreement
        return LabelDesk.Progress(
            samples: counts.samples, samplesWithAllAnswers: counts.full, openAssignments: counts.open, answers: answers,
            awaitingReview: consensus.adjudication.count, annotatorsPerSample: rulebook.annotatorsPerSample, goldRate: rulebook.goldRate,
            agreementThreshold: rulebook.agreementThreshold, percentAgreement: a.percentAgreement, fleissKappa: a.fleissKappa,
            krippendorffAlpha: a.krippendorffAlpha, meanCohenKappa: a.meanCohenKappa, labelsBelowThreshold: report.labelsBelowThreshold,
            annotators: annotators)
    }
}
