import Foundation
import StrataCatalog
import StrataCore

/// The label server's queue, decided in memory.
///
/// Loaded once from the catalog (`Catalog.queueSnapshot`) when the server starts; every claim is then decided
/// here under a lock in O(samples skipped) without a query, and only the decision is written (durably, through
/// the group-commit writer) before the tasker sees it. The rules live in `QueueState` (no lock, no I/O).
///
/// One server per project holds this state; the catalog stays the source of truth (a restart reloads it).
final class LabelQueue: Sendable {
    private let state: Locked<QueueState>

    init(snapshot: QueueSnapshot, k: Int, goldRate: Double, claimTimeout: TimeInterval?) {
        state = Locked(QueueState(snapshot: snapshot, k: k, goldRate: goldRate, claimTimeout: claimTimeout))
    }

    /// Decides the annotator's next sample and marks it taken; nil when nothing is left for them.
    func claim(annotator: String, now: Date) -> QueueState.Decision? { state.withLock { $0.claim(annotator: annotator, now: now) } }
    /// Undoes a claim whose write failed (nothing of it is stored).
    func undo(_ c: QueueClaim) { state.withLock { $0.forget(c) } }
    /// Records that the annotator's answer for the sample is durable (its claim is done).
    func answered(sampleId: String, annotator: String) { state.withLock { $0.answered(sampleId: sampleId, annotator: annotator) } }
    /// See `QueueState.takeExpired`.
    func takeExpired(now: Date) -> [QueueClaim] { state.withLock { $0.takeExpired(now: now) } }
    /// See `QueueState.released`.
    func released(_ claims: [QueueClaim], _ released: [Bool]) { state.withLock { $0.released(claims, released) } }
    /// Puts claims back whose release could not be written.
    func restore(_ claims: [QueueClaim], at date: Date) { state.withLock { $0.restore(claims, at: date) } }
    /// See `QueueState.merge`.
    func merge(_ snapshot: QueueSnapshot) { state.withLock { $0.merge(snapshot) } }
    /// See `QueueState.reorder`.
    func reorder(_ snapshot: QueueSnapshot) { state.withLock { $0.reorder(snapshot) } }
    /// Whether the sample was ever handed to the annotator (then it is a full sample id of the catalog).
    func holds(annotator: String, sampleId: String) -> Bool { state.withLock { $0.holds(annotator: annotator, sampleId: sampleId) } }
    /// The annotator's answered assignments and the samples still open to annotators.
    func counts(annotator: String) -> (done: Int, remaining: Int) { state.withLock { $0.counts(annotator: annotator) } }
}

/// The queue's state and its rules, as a plain value: no lock, no clock of its own, no catalog (the caller passes
/// the time and writes the decisions). The rules are the catalog's (`Catalog.claimNext`): the annotator's
/// unanswered claim first; a gold sample when the gold rate steps up; else the first sample in queue order (label
/// priority, then ingest order) that fewer than `k` annotators hold and this annotator never had. Claims left
/// unanswered longer than the claim timeout go back to the queue.
struct QueueState: Sendable {
    struct OpenClaim: Sendable {
        var sampleId: String
        var gold: Bool
        var at: Date
    }

    struct Annotator: Sendable {
        /// Every sample ever handed to them (regular and gold), so nothing is handed twice.
        var held: Set<String> = []
        /// Unanswered claims, oldest first.
        var open: [OpenClaim] = []
        /// Assignments (answered or not): the gold rate counts these.
        var handed = 0
        /// Answered assignments.
        var done = 0
    }

    /// The samples in queue order and how many annotators hold each.
    struct Order: Sendable {
        let k: Int
        var ids: [String] = []
        var position: [String: Int] = [:]
        var taken: [Int] = []
        /// Every position before this one is full (taken == k).
        var firstOpen = 0
        var openSamples = 0

        mutating func append(sample id: String, taken t: Int) {
            guard position[id] == nil else { return }
            position[id] = ids.count
            ids.append(id)
            taken.append(t)
            if t < k { openSamples += 1 }
        }

        mutating func advance() {
            while firstOpen < ids.count && taken[firstOpen] >= k { firstOpen += 1 }
        }
    }

    /// What `claim` decided.
    enum Decision: Equatable, Sendable {
        /// The annotator's unanswered claim (already durable).
        case existing(String)
        /// A new claim to record before handing it out.
        case new(QueueClaim)
    }

    let k: Int
    let goldRate: Double
    /// Seconds after which an unanswered claim goes back to the queue (nil: never).
    let claimTimeout: TimeInterval?

    private(set) var order: Order
    private var gold: [String] = []
    private var goldSet: Set<String> = []
    private var annotators: [String: Annotator] = [:]
    private var lastSweep = Date.distantPast

    init(snapshot: QueueSnapshot, k: Int, goldRate: Double, claimTimeout: TimeInterval?) {
        self.k = max(k, 1)
        self.goldRate = goldRate
        self.claimTimeout = claimTimeout
        order = Order(k: self.k)
        let parser = TimestampParser()
        for s in snapshot.samples { order.append(sample: s.id, taken: s.taken) }
        gold = snapshot.gold
        goldSet = Set(gold)
        for a in snapshot.assignments {
            // Mutated in place (a copy would copy `held`, making the load quadratic).
            Self.update(&annotators[a.annotator, default: Annotator()]) { st in
                st.held.insert(a.sampleId)
                st.handed += 1
                if a.doneAt == nil {
                    st.open.append(OpenClaim(sampleId: a.sampleId, gold: a.gold, at: parser.date(a.assignedAt) ?? Date()))
                } else {
                    st.done += 1
                }
            }
        }
        order.advance()
    }

    private static func update(_ st: inout Annotator, _ body: (inout Annotator) -> Void) { body(&st) }

    /// Decides the annotator's next sample and marks it taken; nil when nothing is left for them.
    mutating func claim(annotator: String, now: Date) -> Decision? {
        // The annotator's state is changed in place: copying it out and back would copy `held` (every sample they
        // ever had) on each claim.
        Self.decide(&annotators[annotator, default: Annotator()], order: &order, gold: gold, goldRate: goldRate,
                    annotator: annotator, now: now)
    }

    private static func decide(_ st: inout Annotator, order: inout Order, gold: [String], goldRate: Double,
                               annotator: String, now: Date) -> Decision? {
        if let open = st.open.first { return .existing(open.sampleId) }
        if goldRate > 0, Int(Double(st.handed + 1) * goldRate) > Int(Double(st.handed) * goldRate),
           let g = gold.first(where: { !st.held.contains($0) }) {
            st.held.insert(g)
            st.handed += 1
            st.open.append(OpenClaim(sampleId: g, gold: true, at: now))
            return .new(QueueClaim(sampleId: g, annotator: annotator, gold: true))
        }
        order.advance()
        var i = order.firstOpen
        while i < order.ids.count {
            if order.taken[i] < order.k && !st.held.contains(order.ids[i]) {
                order.taken[i] += 1
                if order.taken[i] == order.k { order.openSamples -= 1 }
                order.advance()
                st.held.insert(order.ids[i])
                st.handed += 1
                st.open.append(OpenClaim(sampleId: order.ids[i], gold: false, at: now))
                return .new(QueueClaim(sampleId: order.ids[i], annotator: annotator, gold: false))
            }
            i += 1
        }
        return nil
    }

    /// Forgets a claim: the annotator no longer holds it and a regular sample's slot is free again.
    mutating func forget(_ c: QueueClaim) {
        guard annotators[c.annotator] != nil else { return }
        Self.update(&annotators[c.annotator, default: Annotator()]) { st in
            st.held.remove(c.sampleId)
            st.handed -= 1
            st.open.removeAll { $0.sampleId == c.sampleId }
        }
        if !c.gold, let i = order.position[c.sampleId] {
            if order.taken[i] == k { order.openSamples += 1 }
            order.taken[i] = max(order.taken[i] - 1, 0)
            order.firstOpen = min(order.firstOpen, i)
        }
    }

    /// Records that the annotator's answer for the sample is durable (its claim is done).
    mutating func answered(sampleId: String, annotator: String) {
        guard let i = annotators[annotator]?.open.firstIndex(where: { $0.sampleId == sampleId }) else { return }
        annotators[annotator]?.open.remove(at: i)
        annotators[annotator]?.done += 1
    }

    /// Unanswered claims older than the timeout, taken out of their annotators' open claims (so they are not handed
    /// out again while they are being released). At most one sweep per interval (a quarter of the timeout, at most a
    /// second). Pass them to `released` once the release is written.
    mutating func takeExpired(now: Date) -> [QueueClaim] {
        guard let timeout = claimTimeout else { return [] }
        guard now.timeIntervalSince(lastSweep) >= min(1, timeout / 4) else { return [] }
        lastSweep = now
        var out: [QueueClaim] = []
        for (name, st) in annotators where st.open.contains(where: { now.timeIntervalSince($0.at) >= timeout }) {
            var s = st
            s.open.removeAll { c in
                guard now.timeIntervalSince(c.at) >= timeout else { return false }
                out.append(QueueClaim(sampleId: c.sampleId, annotator: name, gold: c.gold))
                return true
            }
            annotators[name] = s
        }
        return out
    }

    /// Applies a written release: a released claim leaves the annotator and frees its slot; a claim that was
    /// answered before the release (`released[i] == false`) counts as done.
    mutating func released(_ claims: [QueueClaim], _ released: [Bool]) {
        for (c, r) in zip(claims, released) {
            if r {
                forget(c)
            } else {
                annotators[c.annotator]?.done += 1
            }
        }
    }

    /// Puts claims back whose release could not be written.
    mutating func restore(_ claims: [QueueClaim], at date: Date) {
        for c in claims { annotators[c.annotator]?.open.append(OpenClaim(sampleId: c.sampleId, gold: c.gold, at: date)) }
    }

    /// Adds samples and gold samples that joined the catalog's queue after the snapshot (new ones only: their
    /// `taken` is 0 and nobody holds them).
    mutating func merge(_ snapshot: QueueSnapshot) {
        for s in snapshot.samples where order.position[s.id] == nil { order.append(sample: s.id, taken: s.taken) }
        addGold(snapshot.gold)
    }

    private mutating func addGold(_ ids: [String]) {
        for g in ids where !goldSet.contains(g) {
            gold.append(g)
            goldSet.insert(g)
        }
    }

    /// Takes the catalog's queue order again (after `strata suggest` stored new priorities), adding samples that joined
    /// since. What is taken stays as this queue decided it (every claim it decided is written before it is handed
    /// out), so nothing is handed out twice; only the order of what is left changes.
    mutating func reorder(_ snapshot: QueueSnapshot) {
        let known = Dictionary(uniqueKeysWithValues: order.ids.indices.map { (order.ids[$0], order.taken[$0]) })
        let previous = order.ids
        order = Order(k: k)
        for s in snapshot.samples { order.append(sample: s.id, taken: known[s.id] ?? s.taken) }
        for id in previous where order.position[id] == nil { order.append(sample: id, taken: known[id]!) }
        addGold(snapshot.gold)
        order.advance()
    }

    /// Whether the sample was ever handed to the annotator (then it is a full sample id of the catalog).
    func holds(annotator: String, sampleId: String) -> Bool {
        annotators[annotator]?.held.contains(sampleId) ?? false
    }

    /// The annotator's answered assignments and the samples still open to annotators.
    func counts(annotator: String) -> (done: Int, remaining: Int) {
        (annotators[annotator]?.done ?? 0, order.openSamples)
    }
}

/// Parses the catalog's ISO 8601 timestamps (with or without fractional seconds), reusing two formatters.
struct TimestampParser {
    private let fractional: ISO8601DateFormatter
    private let plain: ISO8601DateFormatter
    init() {
        fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
    }
    func date(_ s: String) -> Date? { fractional.date(from: s) ?? plain.date(from: s) }
}
