import Foundation
import GRDB

// The label server's hot path (migration `v7-server`) and the queue snapshot the server keeps in memory.
//
// The server loads the queue once (`queueSnapshot`), decides every claim in memory, and only writes the decision
// (`recordClaim`, `releaseClaims`, `appendAnswer`) through the group-commit writer, with prepared statements that
// SQLite parses once per connection. The catalog stays the source of truth: a restarted server reloads it.

/// Everything the label server needs to decide claims without a query: the queued samples in handing-out order,
/// every assignment, and the gold samples.
public struct QueueSnapshot: Sendable {
    public struct Sample: Sendable, Equatable {
        public var id: String
        public var seq: Int64
        public var taken: Int
        /// Rank in `labelPriority` (1 = label first), nil when the sample has none.
        public var priority: Int?
    }
    /// Queued samples ordered as the queue hands them out: by `labelPriority.rank` (rank 1 first), then the
    /// samples without a rank in ingest order (`seq`).
    public var samples: [Sample]
    /// Every assignment, oldest first.
    public var assignments: [QueueAssignmentRow]
    /// Gold samples in the order they are mixed in.
    public var gold: [String]
}

/// One sample handed to one annotator.
public struct QueueClaim: Sendable, Equatable {
    public var sampleId: String
    public var annotator: String
    public var gold: Bool
    public init(sampleId: String, annotator: String, gold: Bool) { self.sampleId = sampleId; self.annotator = annotator; self.gold = gold }
}

/// What the label server needs of a sample to show it (a few columns of `sample`).
public struct LabelingSample: Sendable, Equatable {
    public var id: String
    public var shortId: String
    /// `file` or `record`.
    public var kind: String
    public var modality: String
    public var format: String
    public var rawPath: String
}

extension Catalog {
    /// A sample for the label server's queue answer: one primary-key read with a prepared statement, decoded by
    /// column, and without the savepoint `read` opens around its body (a single statement already reads one
    /// consistent snapshot). The label server does this on every `GET /api/queue/next`.
    public func labelingSample(id: String) throws -> LabelingSample? {
        try pool.unsafeRead { db in
            let st = try db.cachedStatement(sql: "SELECT id, shortId, kind, modality, format, rawPath FROM sample WHERE id = ?")
            guard let row = try Row.fetchOne(st, arguments: [id]) else { return nil }
            return LabelingSample(id: row[0], shortId: row[1], kind: row[2], modality: row[3], format: row[4], rawPath: row[5])
        }
    }

    /// `v7-server`: revoked taskers keep their row (their labels name them) but lose their token and sessions.
    static func registerServer(_ m: inout DatabaseMigrator) {
        m.registerMigration("v7-server") { db in
            try db.execute(sql: "ALTER TABLE tasker ADD COLUMN revokedAt TEXT")
        }
    }

    /// Reads the queue in one read transaction (a consistent snapshot).
    public func queueSnapshot() throws -> QueueSnapshot {
        try read { db in
            let samples = try Row.fetchAll(db, sql: """
                SELECT q.sampleId, q.seq, q.taken, p.rank FROM queueSample q LEFT JOIN labelPriority p ON p.sampleId = q.sampleId
                ORDER BY p.rank IS NULL, p.rank, q.seq
                """).map { QueueSnapshot.Sample(id: $0[0], seq: $0[1], taken: $0[2], priority: $0[3]) }
            let assignments = try QueueAssignmentRow.fetchAll(db, sql: "SELECT * FROM queueAssignment ORDER BY assignedAt, sampleId")
            let gold = try String.fetchAll(db, sql: "SELECT sampleId FROM goldLabel ORDER BY createdAt, sampleId")
            return QueueSnapshot(samples: samples, assignments: assignments, gold: gold)
        }
    }

    /// Records a claim the server decided: the assignment row and, for a regular sample, one more `taken`.
    static func recordClaim(_ db: Database, sampleId: String, annotator: String, gold: Bool, now: String, k: Int) throws {
        try db.cachedStatement(sql: "INSERT INTO queueAssignment(sampleId, annotator, gold, assignedAt) VALUES (?, ?, ?, ?)")
            .execute(arguments: [sampleId, annotator, gold, now])
        if !gold {
            try db.cachedStatement(sql: "UPDATE queueSample SET taken = taken + 1, open = (taken + 1 < ?) WHERE sampleId = ?")
                .execute(arguments: [k, sampleId])
        }
    }

    /// Gives expired claims back to the queue: deletes each assignment that is still unanswered and lowers the
    /// sample's `taken`. Returns the pairs actually released (an answer that arrived first keeps its claim).
    static func releaseClaims(_ db: Database, _ claims: [QueueClaim], k: Int) throws -> [Bool] {
        let delete = try db.cachedStatement(sql: "DELETE FROM queueAssignment WHERE sampleId = ? AND annotator = ? AND doneAt IS NULL")
        let lower = try db.cachedStatement(sql: "UPDATE queueSample SET taken = max(taken - 1, 0), open = (max(taken - 1, 0) < ?) WHERE sampleId = ?")
        return try claims.map { c in
            try delete.execute(arguments: [c.sampleId, c.annotator])
            guard db.changesCount > 0 else { return false }
            if !c.gold { try lower.execute(arguments: [k, c.sampleId]) }
            return true
        }
    }

    /// Revokes a tasker: their token stops working and their sessions end, in one transaction. Their labels and
    /// assignments stay. Returns false when there is no such (unrevoked) tasker.
    public func revokeTasker(name: String, now: String) throws -> Bool {
        try write { db in
            try db.execute(sql: "UPDATE tasker SET revokedAt = ? WHERE name = ? AND revokedAt IS NULL", arguments: [now, name])
            guard db.changesCount > 0 else { return false }
            try db.execute(sql: "DELETE FROM taskerSession WHERE tasker = ?", arguments: [name])
            return true
        }
    }

    /// Names of revoked taskers.
    public func revokedTaskers() throws -> Set<String> {
        try read { db in Set(try String.fetchAll(db, sql: "SELECT name FROM tasker WHERE revokedAt IS NOT NULL")) }
    }
}
