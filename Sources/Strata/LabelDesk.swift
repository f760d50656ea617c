import Foundation
import StrataCatalog
import StrataCore
import StrataStore

/// The labeling server's operations over a workspace: queue, answers, review and progress.
///
/// One desk per server process. It loads the rulebook once and owns the group-commit writer, so every answer it
/// acknowledges is committed with `synchronous=FULL` first.
public final class LabelDesk: Sendable {
    public let workspace: Workspace
    public let rulebook: RulebookSpec
    /// A short hash of `rulebook.yaml` as read at start; every answer records it.
    public let rulebookVersion: String
    let writer: GroupCommitQueue

    public init(workspace: Workspace) throws {
        self.workspace = workspace
        let text = try workspace.readSpec("rulebook.yaml")
        rulebook = try workspace.rulebook()
        rulebookVersion = String(FileIO.sha256(Array(text.utf8)).prefix(12))
        try workspace.catalog.refreshQueue(annotatorsPerSample: rulebook.annotatorsPerSample)
        writer = try GroupCommitQueue(catalog: workspace.catalog)
    }

    /// Stops the writer after the queued writes are committed.
    public func close() { writer.stop() }

    /// Commits done so far and the largest number of writes one commit carried.
    public var commitStats: (commits: Int, largestBatch: Int) { (writer.commits, writer.largestBatch) }

    // MARK: queue

    /// A sample handed to an annotator.
    public struct QueueItem: Sendable, Codable, Equatable {
        public var sampleId: String
        public var shortId: String
        public var modality: String
        public var format: String
        /// The text of a text sample (nil for media; use the content URL).
        public var text: String?
        public var contentURL: String
        public var mediaType: String
        /// Answers this annotator gave so far (including this one once answered).
        public var done: Int
        /// Samples still waiting for an annotator.
        public var remaining: Int
    }

    /// The annotator's next sample, durably assigned to them, or nil when their queue is empty.
    public func next(for tasker: Tasker) async throws -> QueueItem? {
        var claim = try await writer.claimNext(annotator: tasker.name, k: rulebook.annotatorsPerSample,
                                               goldRate: rulebook.goldRate, now: Workspace.now())
        if claim == nil {
            // Samples ingested since the server started join the queue.
            try workspace.catalog.refreshQueue(annotatorsPerSample: rulebook.annotatorsPerSample)
            claim = try await writer.claimNext(annotator: tasker.name, k: rulebook.annotatorsPerSample,
                                               goldRate: rulebook.goldRate, now: Workspace.now())
        }
        guard let claim else { return nil }
        return try item(sampleId: claim.sampleId, annotator: tasker.name)
    }

    func item(sampleId: String, annotator: String) throws -> QueueItem {
        guard let s = try workspace.catalog.samples(ids: [sampleId])[sampleId] else { throw QueueError.unknownSample(sampleId) }
        let progress = try workspace.catalog.queueCounts(annotator: annotator)
        var text: String?
        if s.modality == "text" {
            let bytes = try content(of: s)
            text = String(decoding: bytes.prefix(1 << 20), as: UTF8.self)
        }
        return QueueItem(sampleId: s.id, shortId: s.shortId, modality: s.modality, format: s.format, text: text,
                         contentURL: "/api/samples/\(s.id)/content", mediaType: LabelDesk.mediaType(format: s.format),
                         done: progress.done, remaining: progress.remaining)
    }

    /// The bytes of a sample a tasker may see: taskers only the samples handed to them; reviewers and admins any.
    public func content(sampleId: String, for tasker: Tasker) throws -> (bytes: [UInt8], mediaType: String)? {
        if tasker.role == .tasker, try workspace.catalog.assignment(sampleId: sampleId, annotator: tasker.name) == nil { return nil }
        guard let s = try workspace.catalog.samples(ids: [sampleId])[sampleId] else { return nil }
        return (try content(of: s), LabelDesk.mediaType(format: s.format))
    }

    func content(of s: SampleRow) throws -> [UInt8] {
        if s.kind == "record" { return try workspace.objects.get(s.id) }
        return try FileIO.readAll(workspace.root + "/" + s.rawPath)
    }

    static func mediaType(format: String) -> String {
        switch format {
        case "jpeg", "jpg": "image/jpeg"
        case "png": "image/png"
        case "webp": "image/webp"
        case "gif": "image/gif"
        case "wav": "audio/wav"
        case "flac": "audio/flac"
        case "mp3": "audio/mpeg"
        case "ogg": "audio/ogg"
        case "txt", "jsonl", "csv", "text": "text/plain; charset=utf-8"
        default: "application/octet-stream"
        }
    }

    // MARK: answers

    /// What a tasker answers for a sample.
    public struct Answer: Sendable, Equatable {
        public enum Kind: String, Sendable { case label, skip, unclear }
        public var sampleId: String
        public var kind: Kind
        public var value: String?
        public var reason: String?
        /// The decision path as answered: (question, answer) pairs in order.
        public var path: [[String: String]]
        public var confidence: Double?
        public init(sampleId: String, kind: Kind, value: String?, reason: String?, path: [[String: String]] = [], confidence: Double? = nil) {
            self.sampleId = sampleId; self.kind = kind; self.value = value; self.reason = reason; self.path = path
            self.confidence = confidence
        }
    }

    /// A rejected answer: the field and what to do.
    public struct AnswerError: Error, Sendable, CustomStringConvertible {
        public var field: String
        public var message: String
        public var description: String { "\(field): \(message)" }
    }

    /// Checks an answer against the rulebook. Throws `AnswerError` naming the field.
    public func validate(_ a: Answer) throws {
        if a.sampleId.isEmpty || a.sampleId.utf8.count > 128 { throw AnswerError(field: "sample", message: "give the sample id from /api/queue/next") }
        switch a.kind {
        case .label:
            guard let v = a.value, !v.isEmpty else { throw AnswerError(field: "value", message: "give a label name") }
            guard rulebook.label(named: v) != nil else {
                throw AnswerError(field: "value", message: "unknown label `\(v)`; the rulebook's labels are: "
                                  + rulebook.labels.map(\.name).joined(separator: ", "))
            }
            if a.reason != nil && a.reason!.utf8.count > 2000 { throw AnswerError(field: "reason", message: "keep the reason under 2000 bytes") }
        case .skip, .unclear:
            if a.value != nil { throw AnswerError(field: "value", message: "a \(a.kind.rawValue) has no value; give `reason` instead") }
            guard let r = a.reason?.trimmingCharacters(in: .whitespacesAndNewlines), !r.isEmpty else {
                throw AnswerError(field: "reason", message: "say why the sample is \(a.kind == .skip ? "skipped" : "unclear")")
            }
            if r.utf8.count > 2000 { throw AnswerError(field: "reason", message: "keep the reason under 2000 bytes") }
        }
        if let c = a.confidence, !(0...1).contains(c) { throw AnswerError(field: "confidence", message: "give a number from 0 to 1") }
        if a.path.count > 50 { throw AnswerError(field: "path", message: "at most 50 decision steps") }
    }

    /// Appends the answer as a label event once it is durable; returns the event id. The sample must be in the
    /// tasker's queue (a tasker cannot label what was not handed to them).
    public func submit(_ a: Answer, by tasker: Tasker) async throws -> Int64 {
        try validate(a)
        let event = LabelEventRow(
            sampleId: a.sampleId, status: a.kind.rawValue, value: a.value, reason: a.reason?.trimmingCharacters(in: .whitespacesAndNewlines),
            annotator: tasker.name, role: tasker.role.rawValue, source: "human", confidence: a.confidence,
            rulebookVersion: rulebookVersion, answers: a.path.isEmpty ? nil : LabelDesk.json(["path": a.path]),
            importKey: nil, createdAt: Workspace.now())
        return try await writer.appendAnswer(event, requireAssignment: true)
    }

    /// The tasker's own answers, newest first.
    public func answers(of tasker: Tasker, limit: Int = 200) throws -> [LabelEventRow] {
        try workspace.catalog.labelEvents(annotator: tasker.name, limit: limit)
    }

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
    }

    /// Samples whose answers disagree (k or more annotators) or that someone found unclear.
    public func reviewQueue(limit: Int = 100) throws -> [ReviewItem] {
        let ids = try workspace.catalog.adjudicationCandidates(k: rulebook.annotatorsPerSample).prefix(limit)
        let samples = try workspace.catalog.samples(ids: Array(ids))
        return try ids.compactMap { id in
            guard let s = samples[id] else { return nil }
            let given = try workspace.catalog.labelEvents(sampleId: id).filter { $0.source == "human" }.map {
                ReviewItem.Given(annotator: $0.annotator, status: $0.status, value: $0.value, reason: $0.reason)
            }
            let text = s.modality == "text" ? String(decoding: try content(of: s).prefix(1 << 20), as: UTF8.self) : nil
            return ReviewItem(sampleId: id, shortId: s.shortId, modality: s.modality, text: text,
                              contentURL: "/api/samples/\(id)/content", mediaType: LabelDesk.mediaType(format: s.format), answers: given)
        }
    }

    /// A reviewer's decision: appended as an event marked as an adjudication (it settles the sample).
    public func adjudicate(_ a: Answer, by reviewer: Tasker) async throws -> Int64 {
        precondition(reviewer.role >= .reviewer)
        try validate(a)
        let event = LabelEventRow(
            sampleId: a.sampleId, status: a.kind.rawValue, value: a.value, reason: a.reason, annotator: reviewer.name,
            role: reviewer.role.rawValue, source: "human", confidence: a.confidence, rulebookVersion: rulebookVersion,
            answers: "{\"adjudication\":true}", importKey: nil, createdAt: Workspace.now())
        return try await writer.appendAnswer(event, requireAssignment: false)
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
            /// Share of this annotator's labels that agree with the other annotators' majority on the same sample.
            public var agreement: Double?
        }
        public var samples: Int
        public var samplesWithAllAnswers: Int
        public var openAssignments: Int
        public var answers: Int
        public var awaitingReview: Int
        public var annotatorsPerSample: Int
        public var goldRate: Double
        /// Share of pairs of annotators on the same sample who chose the same label (observed agreement).
        public var pairwiseAgreement: Double?
        public var annotators: [Annotator]
    }

    public func progress() throws -> Progress {
        let counts = try workspace.catalog.queueProgress()
        let gold = try workspace.catalog.goldAnswers()
        let events = try workspace.catalog.labelEvents().filter { $0.source == "human" && !($0.answers ?? "").hasPrefix("{\"adjudication\":true") }
        // Latest answer per (sample, annotator).
        var latest: [String: [String: LabelEventRow]] = [:]
        for e in events { latest[e.sampleId, default: [:]][e.annotator] = e }
        var agreePairs = 0, pairs = 0
        var agreeOf: [String: (agree: Int, total: Int)] = [:]
        for (sample, byAnnotator) in latest where gold[sample] == nil {
            let labels = byAnnotator.values.filter { $0.status == "label" }.compactMap { e in e.value.map { (e.annotator, $0) } }
            for i in labels.indices {
                for j in labels.indices where j > i {
                    pairs += 1
                    if labels[i].1 == labels[j].1 { agreePairs += 1 }
                }
                let others = labels.enumerated().filter { $0.offset != i }.map(\.element.1)
                guard !others.isEmpty else { continue }
                let counts = Dictionary(others.map { ($0, 1) }, uniquingKeysWith: +)
                let top = counts.values.max()!
                let majority = Set(counts.filter { $0.value == top }.map(\.key))
                var a = agreeOf[labels[i].0] ?? (0, 0)
                a.total += 1
                if majority.contains(labels[i].1) { a.agree += 1 }
                agreeOf[labels[i].0] = a
            }
        }
        var annotators: [Progress.Annotator] = []
        for t in try workspace.taskers() {
            let mine = latest.values.compactMap { $0[t.name] }
            let goldMine = mine.filter { gold[$0.sampleId] != nil }
            let correct = goldMine.filter { $0.status == "label" && $0.value == gold[$0.sampleId] }.count
            let agree = agreeOf[t.name]
            annotators.append(.init(
                name: t.name, role: t.role.rawValue, answers: mine.count, skipped: mine.filter { $0.status == "skip" }.count,
                unclear: mine.filter { $0.status == "unclear" }.count, goldAnswered: goldMine.count, goldCorrect: correct,
                goldAccuracy: goldMine.isEmpty ? nil : Double(correct) / Double(goldMine.count),
                agreement: agree.map { Double($0.agree) / Double($0.total) }))
        }
        return Progress(
            samples: counts.samples, samplesWithAllAnswers: counts.full, openAssignments: counts.open, answers: events.count,
            awaitingReview: try workspace.catalog.adjudicationCandidates(k: rulebook.annotatorsPerSample).count,
            annotatorsPerSample: rulebook.annotatorsPerSample, goldRate: rulebook.goldRate,
            pairwiseAgreement: pairs == 0 ? nil : Double(agreePairs) / Double(pairs), annotators: annotators)
    }

    static func json(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
