import Foundation
import StrataCatalog
import StrataCore
import StrataStore

/// The labeling server's operations over a workspace: queue, answers, review and progress.
///
/// One desk per server process. It opens the label store once (which reads and versions the rulebook), validates
/// answers with it, and owns the group-commit writer, so every answer it acknowledges is committed with
/// `synchronous=FULL` first.
public final class LabelDesk: Sendable {
    public let workspace: Workspace
    public let store: LabelStore
    public var rulebook: RulebookSpec { store.rulebook }
    /// The rulebook version id (see `RulebookVersion`); every answer records it.
    public var rulebookVersion: String { store.version.id }
    let writer: GroupCommitQueue
    /// The queue's state in memory (claims are decided here, then written).
    let queue: LabelQueue
    /// Where the desk reads the time (claim ages, the claim timeout, the refresh intervals below).
    let clock: any LabelClock
    private let refreshGate = RefreshGate()
    /// At most every 2 seconds, `next` asks whether `strata suggest` stored new priorities since the queue was
    /// loaded (one small query); if so the queue takes the new order without a restart.
    private let priorityGate = RefreshGate()
    /// The label priority signature the queue's order was taken from.
    private let prioritySeen: Locked<String>
    /// The samples handed out last, as shown to annotators: the queue hands each sample to k annotators one after
    /// the other, so most answers to `next` need neither the catalog nor the sample's file. A sample id is the
    /// hash of its content, so what is kept never goes stale.
    private let recentItems = RecentItems(capacity: 256, maxBytes: 8 << 20)

    /// Default claim timeout: an unanswered claim goes back to the queue after 30 minutes.
    public static let defaultClaimTimeout: TimeInterval = 30 * 60

    /// - Parameters:
    ///   - claimTimeout: seconds after which a sample handed to an annotator and not answered goes back to the
    ///     queue for others (nil: claims never expire).
    ///   - clock: the time source (tests pass a `ManualLabelClock` and advance it instead of sleeping).
    public init(workspace: Workspace, claimTimeout: TimeInterval? = LabelDesk.defaultClaimTimeout,
                clock: any LabelClock = SystemLabelClock()) throws {
        self.workspace = workspace
        self.clock = clock
        store = try workspace.labelStore()
        try workspace.catalog.refreshQueue(annotatorsPerSample: store.rulebook.annotatorsPerSample)
        prioritySeen = Locked(try workspace.catalog.labelPrioritySignature())
        queue = LabelQueue(snapshot: try workspace.catalog.queueSnapshot(), k: store.rulebook.annotatorsPerSample,
                           goldRate: store.rulebook.goldRate, claimTimeout: claimTimeout)
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
        try await releaseExpiredClaims()
        if priorityGate.pass(every: 2, now: clock.now()) {
            let signature = try workspace.catalog.labelPrioritySignature()
            let changed = prioritySeen.withLock { seen in
                guard seen != signature else { return false }
                seen = signature
                return true
            }
            if changed {
                try workspace.catalog.refreshQueue(annotatorsPerSample: rulebook.annotatorsPerSample)
                queue.reorder(try workspace.catalog.queueSnapshot())
            }
        }
        var sampleId = try await claim(annotator: tasker.name)
        if sampleId == nil, refreshGate.pass(every: 2, now: clock.now()) {
            // Samples ingested (or made gold) since the server started join the queue.
            try workspace.catalog.refreshQueue(annotatorsPerSample: rulebook.annotatorsPerSample)
            queue.merge(try workspace.catalog.queueSnapshot())
            sampleId = try await claim(annotator: tasker.name)
        }
        guard let sampleId else { return nil }
        return try item(sampleId: sampleId, annotator: tasker.name)
    }

    /// The annotator's open claim, or a new one decided in memory and written before it is returned.
    func claim(annotator: String) async throws -> String? {
        let now = clock.now()
        switch queue.claim(annotator: annotator, now: now) {
        case nil: return nil
        case .existing(let id)?: return id
        case .new(let c)?:
            do {
                try await writer.recordClaim(sampleId: c.sampleId, annotator: annotator, gold: c.gold, now: Workspace.timestamp(now),
                                             k: rulebook.annotatorsPerSample)
            } catch {
                queue.undo(c)
                throw error
            }
            return c.sampleId
        }
    }

    /// Gives claims older than the claim timeout back to the queue (at most one sweep a second).
    func releaseExpiredClaims() async throws {
        let now = clock.now()
        let expired = queue.takeExpired(now: now)
        if expired.isEmpty { return }
        do {
            queue.released(expired, try await writer.releaseClaims(expired, k: rulebook.annotatorsPerSample))
        } catch {
            queue.restore(expired, at: now)
            throw error
        }
    }

    /// The annotator's answered assignments and the samples still open to annotators.
    public func queueCounts(annotator: String) -> (done: Int, remaining: Int) { queue.counts(annotator: annotator) }

    func item(sampleId: String, annotator: String) throws -> QueueItem {
        var item: QueueItem
        if let kept = recentItems.get(sampleId) {
            item = kept
        } else {
            guard let s = try workspace.catalog.labelingSample(id: sampleId) else { throw QueueRefusal.unknownSample(sampleId) }
            var text: String?
            if s.modality == Modality.text.rawValue {
                let bytes = try content(id: s.id, kind: s.kind, rawPath: s.rawPath)
                text = String(decoding: bytes.prefix(1 << 20), as: UTF8.self)
            }
            item = QueueItem(sampleId: s.id, shortId: s.shortId, modality: s.modality, format: s.format, text: text,
                             contentURL: "/api/samples/\(s.id)/content", mediaType: LabelDesk.mediaType(format: s.format),
                             done: 0, remaining: 0)
            recentItems.put(item, bytes: text?.utf8.count ?? 0)
        }
        (item.done, item.remaining) = queue.counts(annotator: annotator)
        return item
    }

    /// The bytes of a sample a tasker may see: taskers only the samples handed to them; reviewers and admins any.
    public func content(sampleId: String, for tasker: Tasker) throws -> (bytes: [UInt8], mediaType: String)? {
        if tasker.role == .tasker, try workspace.catalog.assignment(sampleId: sampleId, annotator: tasker.name) == nil { return nil }
        guard let s = try workspace.catalog.samples(ids: [sampleId])[sampleId] else { return nil }
        return (try content(of: s), LabelDesk.mediaType(format: s.format))
    }

    func content(of s: SampleRow) throws -> [UInt8] { try content(id: s.id, kind: s.kind, rawPath: s.rawPath) }

    func content(id: String, kind: String, rawPath: String) throws -> [UInt8] {
        if kind == "record" { return try workspace.objects.get(id) }
        return try FileIO.readAll(workspace.root + "/" + rawPath)
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
        /// The decision path's answers, in order (they must lead to this outcome).
        public var answers: [String]
        public var confidence: Double?
        public init(sampleId: String, kind: Kind, value: String?, reason: String?, answers: [String] = [], confidence: Double? = nil) {
            self.sampleId = sampleId; self.kind = kind; self.value = value; self.reason = reason; self.answers = answers
            self.confidence = confidence
        }
    }

    /// An answer the queue refuses: the sample was never handed to this annotator, or does not exist.
    public enum QueueRefusal: Error, Sendable, Equatable, CustomStringConvertible {
        case notAssigned(sample: String, annotator: String)
        case unknownSample(String)

        public var description: String {
            switch self {
            case .notAssigned(let s, let a): "sample \(s) is not in the queue of \(a)"
            case .unknownSample(let s): "no sample \(s) in the catalog"
            }
        }

        /// Runs a catalog write, turning the catalog's queue errors into this type.
        static func mapping<T>(_ body: () async throws -> T) async throws -> T {
            do { return try await body() } catch let e as QueueError {
                switch e {
                case .notAssigned(let s, let a): throw QueueRefusal.notAssigned(sample: s, annotator: a)
                case .unknownSample(let s): throw QueueRefusal.unknownSample(s)
                }
            }
        }
    }

    /// A rejected answer: the field and what to do.
    public struct AnswerError: Error, Sendable, CustomStringConvertible {
        public var field: String
        public var message: String
        public var description: String { "\(field): \(message)" }
    }

    /// Checks an answer with the label store's rules (known sample and label, reasons, decision path) and turns it
    /// into the event row to append. Throws `AnswerError` or `LabelInputError`, naming the field.
    func row(_ a: Answer, annotator: String, role: AnnotatorRole) throws -> LabelEventRow {
        if (a.reason?.utf8.count ?? 0) > 2000 { throw AnswerError(field: "reason", message: "keep the reason under 2000 bytes") }
        if a.answers.count > 50 { throw AnswerError(field: "answers", message: "at most 50 decision-path answers") }
        let submission = LabelSubmission(
            sample: a.sampleId, status: LabelStatus(rawValue: a.kind.rawValue) ?? .label, value: a.value, reason: a.reason,
            annotator: annotator, role: role, source: .human, confidence: a.confidence,
            answers: a.answers.isEmpty ? nil : a.answers)
        // A sample the queue handed to this annotator is a full sample id of the catalog: no need to resolve it.
        let known: Set<String> = queue.holds(annotator: annotator, sampleId: a.sampleId) ? [a.sampleId] : []
        guard let row = try store.validate([submission], knownSampleIds: known).first else { throw AnswerError(field: "sample", message: "nothing to store") }
        return row
    }

    /// Appends the answer as a label event once it is durable; returns the event id. The sample must be in the
    /// caller's queue (a tasker cannot label what was not handed to them). Reviewers and admins answering their
    /// queue act as taskers (role `tasker`); their decisions go through `adjudicate`.
    public func submit(_ a: Answer, by tasker: Tasker) async throws -> Int64 {
        let event = try row(a, annotator: tasker.name, role: .tasker)
        let id = try await QueueRefusal.mapping { try await writer.appendAnswer(event, requireAssignment: true) }
        queue.answered(sampleId: event.sampleId, annotator: tasker.name)
        return id
    }

    /// One of a tasker's own answers, as their answer list shows it.
    public struct OwnAnswer: Sendable, Codable, Equatable {
        public var id: Int64
        public var sampleId: String
        /// `label`, `skip` or `unclear`.
        public var status: String
        public var value: String?
        public var reason: String?
        public var createdAt: String
    }

    /// The tasker's own answers, newest first.
    public func answers(of tasker: Tasker, limit: Int = 200) throws -> [OwnAnswer] {
        try workspace.catalog.labelEvents(annotator: tasker.name, limit: limit).map {
            OwnAnswer(id: $0.id ?? 0, sampleId: $0.sampleId, status: $0.status, value: $0.value, reason: $0.reason, createdAt: $0.createdAt)
        }
    }
}

/// A small first-in-first-out memory of queue items by sample id, bounded in count and in text bytes.
struct RecentItems: Sendable {
    private struct Memory: Sendable {
        var items: [String: (item: LabelDesk.QueueItem, bytes: Int)] = [:]
        var order: [String] = []
        var head = 0
        var bytes = 0
    }
    private let capacity: Int
    private let maxBytes: Int
    private let memory = Locked(Memory())

    init(capacity: Int, maxBytes: Int) { self.capacity = capacity; self.maxBytes = maxBytes }

    func get(_ id: String) -> LabelDesk.QueueItem? {
        memory.withLock { $0.items[id]?.item }
    }

    func put(_ item: LabelDesk.QueueItem, bytes n: Int) {
        guard n <= maxBytes / 4 else { return }  // large texts are read again rather than crowding out the rest
        let (capacity, maxBytes) = (self.capacity, self.maxBytes)
        memory.withLock { m in
            guard m.items[item.sampleId] == nil else { return }
            m.items[item.sampleId] = (item, n)
            m.order.append(item.sampleId)
            m.bytes += n
            while m.order.count - m.head > capacity || m.bytes > maxBytes {
                if let old = m.items.removeValue(forKey: m.order[m.head]) { m.bytes -= old.bytes }
                m.head += 1
            }
            if m.head > capacity {
                m.order.removeFirst(m.head)
                m.head = 0
            }
        }
    }
}
