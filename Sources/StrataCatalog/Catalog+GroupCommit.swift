import Foundation
import GRDB

/// One writer thread that commits concurrent requests together (group commit).
///
/// Callers enqueue small writes and await them. The writer takes everything queued, runs each write in its own
/// savepoint inside one transaction (a failing write rolls back alone and fails alone), commits with
/// `synchronous=FULL` (the WAL is fsynced before the commit returns), and only then resumes the callers. So an
/// acknowledged write survives `kill -9` and power loss, and a burst of N writes costs one fsync instead of N.
public final class GroupCommitQueue: @unchecked Sendable {
    private struct Op {
        let body: (Database) throws -> any Sendable
        let resume: (Result<any Sendable, any Error>) -> Void
    }

    private let catalog: Catalog
    private let condition = NSCondition()
    private var pending: [Op] = []
    private var stopped = false
    private var thread: Thread?
    /// Largest batch committed so far (for the benchmark report).
    public private(set) var largestBatch = 0
    public private(set) var commits = 0

    /// A second connection that checkpoints the WAL off the writer thread (see `checkpointLoop`).
    private let checkpointer: DatabaseQueue?

    /// Switches the catalog's writer connection to `synchronous=FULL` and starts the writer thread.
    ///
    /// WAL checkpoints move off the writer: SQLite's automatic checkpoint runs inside the commit that crosses
    /// 1,000 WAL pages, so under load every few commits one of them also copied the WAL into the database file
    /// and fsynced it while every waiting client stalled. The writer connection turns automatic checkpoints off
    /// and a background thread runs `PRAGMA wal_checkpoint(PASSIVE)` on its own connection after commits (a passive
    /// checkpoint never blocks the writer). Durability is unchanged: commits are durable in the WAL, fsynced by
    /// `synchronous=FULL`, before anyone is acknowledged; the checkpoint only bounds the WAL's size.
    public init(catalog: Catalog) throws {
        self.catalog = catalog
        var config = Configuration()
        config.busyMode = .timeout(5)
        config.label = "strata.checkpoint"
        checkpointer = try? DatabaseQueue(path: catalog.path, configuration: config)
        let autoCheckpoint = checkpointer == nil ? 1000 : 0
        try catalog.pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(autoCheckpoint)")
        }
        let t = Thread { [unowned self] in self.loop() }
        t.name = "strata.group-commit"
        thread = t
        t.start()
        if checkpointer != nil {
            let c = Thread { self.checkpointLoop() }
            c.name = "strata.checkpoint"
            c.start()
        }
    }

    /// Stops the writer after the queued writes are committed (and gives the connection back its automatic
    /// checkpoints).
    public func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
        try? catalog.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 1000") }
    }

    /// Every 50 ms, if something was committed since the last round: a passive checkpoint on the second connection.
    private func checkpointLoop() {
        var seen = 0
        while true {
            Thread.sleep(forTimeInterval: 0.05)
            condition.lock()
            let done = stopped && pending.isEmpty
            let now = commits
            condition.unlock()
            if now != seen, let q = checkpointer {
                seen = now
                try? q.writeWithoutTransaction { db in _ = try db.checkpoint(.passive) }
            }
            if done { return }
        }
    }

    /// Runs `body` inside the next group transaction and returns its result once the transaction is durable.
    func perform<T: Sendable>(_ body: @escaping (Database) throws -> T) async throws -> T {
        let value: any Sendable = try await withCheckedThrowingContinuation { (c: CheckedContinuation<any Sendable, any Error>) in
            condition.lock()
            if stopped {
                condition.unlock()
                c.resume(throwing: CancellationError())
                return
            }
            pending.append(Op(body: { db in try body(db) }, resume: { c.resume(with: $0) }))
            condition.signal()
            condition.unlock()
        }
        return value as! T
    }

    private func loop() {
        while true {
            condition.lock()
            while pending.isEmpty && !stopped { condition.wait() }
            if pending.isEmpty && stopped {
                condition.unlock()
                return
            }
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            condition.unlock()
            commit(batch)
        }
    }

    private func commit(_ batch: [Op]) {
        nonisolated(unsafe) var results: [Result<any Sendable, any Error>] = []
        results.reserveCapacity(batch.count)
        do {
            try catalog.pool.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    // Each write in its own savepoint, with statements SQLite parses once per connection (GRDB's
                    // `inSavepoint` parses its SAVEPOINT and RELEASE text on every call).
                    let begin = try db.cachedStatement(sql: "SAVEPOINT groupWrite")
                    let release = try db.cachedStatement(sql: "RELEASE SAVEPOINT groupWrite")
                    for op in batch {
                        try begin.execute()
                        do {
                            let value = try op.body(db)
                            try release.execute()
                            results.append(.success(value))
                        } catch {
                            // This write alone is undone; the others of the batch stay. (If even that fails, the
                            // whole transaction fails below and every caller gets the error.)
                            try db.execute(sql: "ROLLBACK TRANSACTION TO SAVEPOINT groupWrite; RELEASE SAVEPOINT groupWrite")
                            results.append(.failure(error))
                        }
                    }
                    return .commit
                }
            }
        } catch {
            // The commit itself failed (disk full, I/O error): nothing of the batch is durable.
            for op in batch { op.resume(.failure(error)) }
            return
        }
        condition.lock()
        largestBatch = max(largestBatch, batch.count)
        commits += 1
        condition.unlock()
        for (op, r) in zip(batch, results) { op.resume(r) }
    }
}

extension GroupCommitQueue {
    /// Hands the annotator their next sample (see `Catalog.claimNext`), durably recorded. (The label server decides
    /// claims in memory and uses `recordClaim`; this query-based claim serves callers without that state.)
    public func claimNext(annotator: String, k: Int, goldRate: Double, now: String) async throws -> QueueAssignmentRow? {
        try await perform { db in try Catalog.claimNext(db, annotator: annotator, k: k, goldRate: goldRate, now: now) }
    }

    /// Durably records a claim decided by the caller (see `Catalog.recordClaim`).
    public func recordClaim(sampleId: String, annotator: String, gold: Bool, now: String, k: Int) async throws {
        try await perform { db in try Catalog.recordClaim(db, sampleId: sampleId, annotator: annotator, gold: gold, now: now, k: k) }
    }

    /// Durably gives expired claims back to the queue (see `Catalog.releaseClaims`).
    public func releaseClaims(_ claims: [QueueClaim], k: Int) async throws -> [Bool] {
        try await perform { db in try Catalog.releaseClaims(db, claims, k: k) }
    }

    /// Appends a human answer; returns the event id once it is durable.
    public func appendAnswer(_ e: LabelEventRow, requireAssignment: Bool) async throws -> Int64 {
        try await perform { db in try Catalog.appendAnswer(db, e, requireAssignment: requireAssignment) }
    }
}
