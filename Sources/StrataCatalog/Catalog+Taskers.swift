import Foundation
import GRDB

/// A person (or API client) allowed to use the labeling server. Only the SHA-256 of the token is stored.
public struct TaskerRow: Codable, Sendable, Equatable, FetchableRecord {
    public var name: String
    /// `tasker`, `reviewer` or `admin`.
    public var role: String
    public var tokenHash: String
    public var createdAt: String
    public init(name: String, role: String, tokenHash: String, createdAt: String) {
        self.name = name; self.role = role; self.tokenHash = tokenHash; self.createdAt = createdAt
    }
}

/// A browser sign-in. The cookie carries a random id; the catalog keeps its SHA-256 only, and the CSRF token
/// that forms and the page's API calls must echo.
public struct TaskerSessionRow: Codable, Sendable, Equatable, FetchableRecord {
    public var idHash: String
    public var tasker: String
    public var csrf: String
    public var createdAt: String
    public var expiresAt: String
    public init(idHash: String, tasker: String, csrf: String, createdAt: String, expiresAt: String) {
        self.idHash = idHash; self.tasker = tasker; self.csrf = csrf; self.createdAt = createdAt; self.expiresAt = expiresAt
    }
}

/// A sample handed to an annotator by the queue. `doneAt` is set by the annotator's first answer.
public struct QueueAssignmentRow: Codable, Sendable, Equatable, FetchableRecord {
    public var sampleId: String
    public var annotator: String
    public var gold: Bool
    public var assignedAt: String
    public var doneAt: String?
}

/// Why the queue refused a write.
public enum QueueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The sample is not in this annotator's queue (never handed out to them).
    case notAssigned(sample: String, annotator: String)
    case unknownSample(String)

    public var description: String {
        switch self {
        case .notAssigned(let s, let a): "sample \(s) is not in the queue of \(a)"
        case .unknownSample(let s): "no sample \(s) in the catalog"
        }
    }
}

extension Catalog {
    /// The `v4-taskers` migration: taskers, sign-in sessions, queue assignments and the queue's per-sample counters.
    /// (Gold answers live in `goldLabel` of `v3-labels`.)
    static func registerTaskers(_ m: inout DatabaseMigrator) {
        m.registerMigration("v4-taskers") { db in
            try db.execute(sql: """
                CREATE TABLE tasker (
                    name TEXT PRIMARY KEY NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('tasker', 'reviewer', 'admin')),
                    tokenHash TEXT NOT NULL UNIQUE,
                    createdAt TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE taskerSession (
                    idHash TEXT PRIMARY KEY NOT NULL,
                    tasker TEXT NOT NULL REFERENCES tasker(name),
                    csrf TEXT NOT NULL,
                    createdAt TEXT NOT NULL,
                    expiresAt TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE queueSample (
                    sampleId TEXT PRIMARY KEY NOT NULL REFERENCES sample(id),
                    seq INTEGER NOT NULL,
                    taken INTEGER NOT NULL DEFAULT 0,
                    open INTEGER NOT NULL DEFAULT 1
                ) WITHOUT ROWID;
                CREATE INDEX queueSample_open ON queueSample(open, seq);
                CREATE TABLE queueAssignment (
                    sampleId TEXT NOT NULL REFERENCES sample(id),
                    annotator TEXT NOT NULL REFERENCES tasker(name),
                    gold INTEGER NOT NULL DEFAULT 0,
                    assignedAt TEXT NOT NULL,
                    doneAt TEXT,
                    PRIMARY KEY (sampleId, annotator)
                ) WITHOUT ROWID;
                CREATE INDEX queueAssignment_annotator ON queueAssignment(annotator, doneAt);
                """)
        }
    }

    // MARK: taskers and sessions

    public func addTasker(_ row: TaskerRow) throws {
        try write { db in
            try db.execute(sql: "INSERT INTO tasker(name, role, tokenHash, createdAt) VALUES (?, ?, ?, ?)",
                           arguments: [row.name, row.role, row.tokenHash, row.createdAt])
        }
    }

    public func taskers() throws -> [TaskerRow] {
        try read { db in try TaskerRow.fetchAll(db, sql: "SELECT * FROM tasker ORDER BY name") }
    }

    public func tasker(named name: String) throws -> TaskerRow? {
        try read { db in try TaskerRow.fetchOne(db, sql: "SELECT * FROM tasker WHERE name = ?", arguments: [name]) }
    }

    public func tasker(tokenHash: String) throws -> TaskerRow? {
        try read { db in try TaskerRow.fetchOne(db.cachedStatement(sql: "SELECT * FROM tasker WHERE tokenHash = ? AND revokedAt IS NULL"), arguments: [tokenHash]) }
    }

    public func addSession(_ row: TaskerSessionRow) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM taskerSession WHERE expiresAt < ?", arguments: [row.createdAt])
            try db.execute(sql: "INSERT INTO taskerSession(idHash, tasker, csrf, createdAt, expiresAt) VALUES (?, ?, ?, ?, ?)",
                           arguments: [row.idHash, row.tasker, row.csrf, row.createdAt, row.expiresAt])
        }
    }

    /// The session with this id hash and its tasker, if it has not expired at `now`.
    public func session(idHash: String, now: String) throws -> (TaskerSessionRow, TaskerRow)? {
        try read { db in
            guard let s = try TaskerSessionRow.fetchOne(db, sql: "SELECT * FROM taskerSession WHERE idHash = ? AND expiresAt > ?",
                                                        arguments: [idHash, now]),
                  let t = try TaskerRow.fetchOne(db, sql: "SELECT * FROM tasker WHERE name = ? AND revokedAt IS NULL", arguments: [s.tasker])
            else { return nil }
            return (s, t)
        }
    }

    public func deleteSession(idHash: String) throws {
        try write { db in try db.execute(sql: "DELETE FROM taskerSession WHERE idHash = ?", arguments: [idHash]) }
    }

    // MARK: queue

    /// Adds the samples not yet queued (all samples, or only the cleaned set once a run produced one) and re-opens
    /// or closes samples for the current number of annotators per sample `k`.
    public func refreshQueue(annotatorsPerSample k: Int) throws {
        try write { db in
            let cleaned = try Int.fetchOne(db, sql: "SELECT count(*) FROM cleanedSample") ?? 0
            let from = cleaned > 0 ? "cleanedSample c JOIN sample s ON s.id = c.sampleId" : "sample s"
            try db.execute(sql: """
                INSERT OR IGNORE INTO queueSample(sampleId, seq, taken, open)
                SELECT s.id, s.rowid, 0, 1 FROM \(from) WHERE s.id NOT IN (SELECT sampleId FROM goldLabel)
                  AND s.id NOT IN (\(Catalog.pseudoLabeledNotSpotChecked))
                """)
            // Samples that became gold after they were queued leave the regular queue.
            try db.execute(sql: "DELETE FROM queueSample WHERE taken = 0 AND sampleId IN (SELECT sampleId FROM goldLabel)")
            // So do pseudo-labeled samples (the pseudo-label stage); those routed to spot checks stay (at the front).
            try db.execute(sql: "DELETE FROM queueSample WHERE taken = 0 AND sampleId IN (\(Catalog.pseudoLabeledNotSpotChecked))")
            try db.execute(sql: "UPDATE queueSample SET open = (taken < ?) WHERE open != (taken < ?)", arguments: [k, k])
        }
    }

    /// The annotator's assignments, newest first.
    public func assignments(annotator: String) throws -> [QueueAssignmentRow] {
        try read { db in
            try QueueAssignmentRow.fetchAll(db, sql: "SELECT * FROM queueAssignment WHERE annotator = ? ORDER BY assignedAt DESC",
                                            arguments: [annotator])
        }
    }

    public func assignment(sampleId: String, annotator: String) throws -> QueueAssignmentRow? {
        try read { db in
            try QueueAssignmentRow.fetchOne(db, sql: "SELECT * FROM queueAssignment WHERE sampleId = ? AND annotator = ?",
                                            arguments: [sampleId, annotator])
        }
    }

    /// The annotator's answered assignments and the samples still open to annotators.
    public func queueCounts(annotator: String) throws -> (done: Int, remaining: Int) {
        try read { db in
            let done = try Int.fetchOne(db, sql: "SELECT count(*) FROM queueAssignment WHERE annotator = ? AND doneAt IS NOT NULL",
                                        arguments: [annotator]) ?? 0
            let remaining = try Int.fetchOne(db, sql: "SELECT count(*) FROM queueSample WHERE open = 1") ?? 0
            return (done, remaining)
        }
    }

    /// One annotator's label events, newest first.
    public func labelEvents(annotator: String, limit: Int) throws -> [LabelEventRow] {
        try read { db in
            try LabelEventRow.fetchAll(db, sql: "SELECT * FROM labelEvent WHERE annotator = ? ORDER BY id DESC LIMIT ?",
                                       arguments: [annotator, limit])
        }
    }

    /// Counts for progress: queued samples, how many reached `k` answers, assignments open and done.
    public func queueProgress() throws -> (samples: Int, full: Int, open: Int, done: Int) {
        try read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT (SELECT count(*) FROM queueSample),
                       (SELECT count(*) FROM queueSample WHERE open = 0),
                       (SELECT count(*) FROM queueAssignment WHERE doneAt IS NULL),
                       (SELECT count(*) FROM queueAssignment WHERE doneAt IS NOT NULL)
                """)!
            return (row[0], row[1], row[2], row[3])
        }
    }

    /// Claims the annotator's next sample inside a write transaction: the open assignment if there is one, else a
    /// gold sample when the gold rate says so, else the first queued sample that fewer than `k` annotators took and
    /// that this annotator never had, in label-priority order (rank 1 first), then ingest order. Returns nil when the queue has nothing left for them.
    static func claimNext(_ db: Database, annotator: String, k: Int, goldRate: Double, now: String) throws -> QueueAssignmentRow? {
        if let open = try QueueAssignmentRow.fetchOne(db, sql: """
            SELECT * FROM queueAssignment WHERE annotator = ? AND doneAt IS NULL ORDER BY assignedAt LIMIT 1
            """, arguments: [annotator]) {
            return open
        }
        // Gold at the configured rate, spread evenly: the n-th sample is gold when floor(n*rate) steps up.
        if goldRate > 0,
           let handed = try Int.fetchOne(db, sql: "SELECT count(*) FROM queueAssignment WHERE annotator = ?", arguments: [annotator]),
           Int(Double(handed + 1) * goldRate) > Int(Double(handed) * goldRate),
           let gold = try String.fetchOne(db, sql: """
               SELECT g.sampleId FROM goldLabel g
               WHERE NOT EXISTS (SELECT 1 FROM queueAssignment q WHERE q.sampleId = g.sampleId AND q.annotator = ?)
               ORDER BY g.createdAt, g.sampleId LIMIT 1
               """, arguments: [annotator]) {
            try db.execute(sql: "INSERT INTO queueAssignment(sampleId, annotator, gold, assignedAt) VALUES (?, ?, 1, ?)",
                           arguments: [gold, annotator, now])
            return QueueAssignmentRow(sampleId: gold, annotator: annotator, gold: true, assignedAt: now, doneAt: nil)
        }
        guard let sample = try String.fetchOne(db, sql: """
            SELECT s.sampleId FROM queueSample s LEFT JOIN labelPriority p ON p.sampleId = s.sampleId
            WHERE s.open = 1
              AND NOT EXISTS (SELECT 1 FROM queueAssignment q WHERE q.sampleId = s.sampleId AND q.annotator = ?)
            ORDER BY p.rank IS NULL, p.rank, s.seq LIMIT 1
            """, arguments: [annotator]) else { return nil }
        try db.execute(sql: "INSERT INTO queueAssignment(sampleId, annotator, gold, assignedAt) VALUES (?, ?, 0, ?)",
                       arguments: [sample, annotator, now])
        try db.execute(sql: "UPDATE queueSample SET taken = taken + 1, open = (taken + 1 < ?) WHERE sampleId = ?", arguments: [k, sample])
        return QueueAssignmentRow(sampleId: sample, annotator: annotator, gold: false, assignedAt: now, doneAt: nil)
    }

    /// Appends a human answer for an assigned sample and closes the assignment (a later answer by the same
    /// annotator is a correction: a new event, the assignment stays done).
    static func appendAnswer(_ db: Database, _ e: LabelEventRow, requireAssignment: Bool) throws -> Int64 {
        if requireAssignment {
            guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM queueAssignment WHERE sampleId = ? AND annotator = ?"),
                                    arguments: [e.sampleId, e.annotator]) == true else {
                throw QueueError.notAssigned(sample: e.sampleId, annotator: e.annotator)
            }
            try db.cachedStatement(sql: "UPDATE queueAssignment SET doneAt = ? WHERE sampleId = ? AND annotator = ? AND doneAt IS NULL")
                .execute(arguments: [e.createdAt, e.sampleId, e.annotator])
        } else {
            guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM sample WHERE id = ?"), arguments: [e.sampleId]) == true else {
                throw QueueError.unknownSample(e.sampleId)
            }
        }
        try db.cachedStatement(sql: """
            INSERT INTO labelEvent(sampleId, status, value, reason, annotator, role, source, confidence, rulebookVersion, answers,
              importKey, createdAt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [e.sampleId, e.status, e.value, e.reason, e.annotator, e.role, e.source, e.confidence,
                             e.rulebookVersion, e.answers, e.importKey, e.createdAt])
        return db.lastInsertedRowID
    }
}

extension Catalog {
    /// Moves samples to the front of the labeling queue for a human second look (queueing them when they are not
    /// yet), in the given order. A sample every annotator slot of which is already taken (`taken >= k`) is not
    /// reopened: it is returned as full, for a reviewer to settle.
    /// - Returns: the samples queued or moved, and the full ones.
    public func queueForReview(_ sampleIds: [String], annotatorsPerSample k: Int) throws -> (queued: [String], full: [String]) {
        try write { db in
            var queued: [String] = [], full: [String] = []
            // Review order: the first id gets the most negative position (front of the queue).
            let base = -(try Int.fetchOne(db, sql: "SELECT max(abs(seq)) FROM queueSample") ?? 0) - Int(sampleIds.count) - 1
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO queueSample(sampleId, seq, taken, open) VALUES (?, ?, 0, 1)
                ON CONFLICT(sampleId) DO UPDATE SET seq = excluded.seq
                """)
            for (n, id) in sampleIds.enumerated() {
                let taken = try Int.fetchOne(db, sql: "SELECT taken FROM queueSample WHERE sampleId = ?", arguments: [id]) ?? 0
                if taken >= k { full.append(id); continue }
                try upsert.execute(arguments: [id, base + n])
                queued.append(id)
            }
            return (queued, full)
        }
    }
}
