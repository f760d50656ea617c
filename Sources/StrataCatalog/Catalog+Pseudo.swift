import Foundation
import GRDB

// The pseudo-label stage's tables (migration `v8-pseudo`) and its one write.
//
// The label events themselves (source `pseudo`, annotator = the model) are the history and the truth. These tables
// hold what events cannot: which accepted samples were routed to human spot checks, and a log of every pseudo-label
// run (its calibration and counts).

/// The current pseudo label of one sample by one model.
public struct PseudoLabelRow: Codable, Sendable, Equatable, FetchableRecord {
    public var sampleId: String
    public var model: String
    /// The accepted label; nil once withdrawn.
    public var value: String?
    public var confidence: Double
    public var threshold: Double?
    /// The label event that set (or withdrew) it.
    public var eventId: Int64
    /// Routed to a human spot check (the labeling queue serves it first).
    public var spotCheck: Bool
    public var runId: String
    public var updatedAt: String
    public init(sampleId: String, model: String, value: String?, confidence: Double, threshold: Double?, eventId: Int64,
                spotCheck: Bool, runId: String, updatedAt: String) {
        self.sampleId = sampleId; self.model = model; self.value = value; self.confidence = confidence; self.threshold = threshold
        self.eventId = eventId; self.spotCheck = spotCheck; self.runId = runId; self.updatedAt = updatedAt
    }
}

/// One pseudo-label run (`strata label pseudo` or a `label.pseudo` stage).
public struct PseudoRunRow: Codable, Sendable, Equatable, FetchableRecord {
    public var id: String
    public var model: String
    /// The `strata run` that ran the stage, if any.
    public var pipelineRunId: String?
    /// The run's full report (JSON): options, calibration per class, counts.
    public var report: String
    public var accepted: Int
    public var withdrawn: Int
    public var spotChecks: Int
    public var createdAt: String
    public init(id: String, model: String, pipelineRunId: String?, report: String, accepted: Int, withdrawn: Int, spotChecks: Int, createdAt: String) {
        self.id = id; self.model = model; self.pipelineRunId = pipelineRunId; self.report = report; self.accepted = accepted
        self.withdrawn = withdrawn; self.spotChecks = spotChecks; self.createdAt = createdAt
    }
}

/// A pseudo label (or withdrawal) to store: the event and the state it leads to.
public struct PseudoLabelWrite: Sendable {
    public var event: LabelEventRow
    public var confidence: Double
    public var threshold: Double?
    public var spotCheck: Bool
    public init(event: LabelEventRow, confidence: Double, threshold: Double?, spotCheck: Bool) {
        self.event = event; self.confidence = confidence; self.threshold = threshold; self.spotCheck = spotCheck
    }
}

extension Catalog {
    /// Registers `v8-pseudo`. Called from `Catalog.migrator` after the earlier migrations.
    static func registerPseudo(_ m: inout DatabaseMigrator) {
        m.registerMigration("v8-pseudo") { db in
            try db.execute(sql: """
                CREATE TABLE pseudoLabel (
                    sampleId TEXT NOT NULL REFERENCES sample(id),
                    model TEXT NOT NULL,
                    value TEXT,
                    confidence REAL NOT NULL,
                    threshold REAL,
                    eventId INTEGER NOT NULL REFERENCES labelEvent(id),
                    spotCheck INTEGER NOT NULL DEFAULT 0,
                    runId TEXT NOT NULL,
                    updatedAt TEXT NOT NULL,
                    PRIMARY KEY (sampleId, model)
                ) WITHOUT ROWID;
                CREATE INDEX pseudoLabel_spotCheck ON pseudoLabel(spotCheck, sampleId);
                CREATE TABLE pseudoRun (
                    id TEXT PRIMARY KEY NOT NULL,
                    model TEXT NOT NULL,
                    pipelineRunId TEXT,
                    report TEXT NOT NULL,
                    accepted INTEGER NOT NULL,
                    withdrawn INTEGER NOT NULL,
                    spotChecks INTEGER NOT NULL,
                    createdAt TEXT NOT NULL
                ) WITHOUT ROWID;
                """)
        }
    }

    /// Samples the human labeling queue leaves out: they carry an accepted pseudo label and no model routed them to a
    /// spot check (SQL for `queueSample` filters).
    static let pseudoLabeledNotSpotChecked = """
        SELECT sampleId FROM pseudoLabel WHERE value IS NOT NULL
        EXCEPT SELECT sampleId FROM pseudoLabel WHERE spotCheck = 1
        """

    /// Stores one pseudo-label run in ONE durable transaction (`synchronous=FULL`): the label events, each sample's
    /// pseudo-label state, the labeling queue (spot checks move to its front; other accepted samples not yet handed to
    /// anyone leave it), the findings and the run's log row. All or nothing.
    /// - Returns: the stored event ids, in order.
    @discardableResult
    public func applyPseudoLabels(_ writes: [PseudoLabelWrite], model: String, runId: String, findings: [FindingRow],
                                  run: PseudoRunRow) throws -> [Int64] {
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            var ids: [Int64] = []
            try db.inTransaction {
                let insert = try db.cachedStatement(sql: """
                    INSERT INTO labelEvent(sampleId, status, value, reason, annotator, role, source, confidence,
                      rulebookVersion, answers, importKey, createdAt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                let state = try db.cachedStatement(sql: """
                    INSERT INTO pseudoLabel(sampleId, model, value, confidence, threshold, eventId, spotCheck, runId, updatedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(sampleId, model) DO UPDATE SET value = excluded.value, confidence = excluded.confidence,
                      threshold = excluded.threshold, eventId = excluded.eventId,
                      spotCheck = max(pseudoLabel.spotCheck, excluded.spotCheck), runId = excluded.runId, updatedAt = excluded.updatedAt
                    """)
                let front = try db.cachedStatement(sql: """
                    INSERT INTO queueSample(sampleId, seq, taken, open) SELECT id, -rowid, 0, 1 FROM sample WHERE id = ?
                    ON CONFLICT(sampleId) DO UPDATE SET seq = -abs(queueSample.seq)
                    """)
                for w in writes {
                    let l = w.event
                    try insert.execute(arguments: [l.sampleId, l.status, l.value, l.reason, l.annotator, l.role, l.source,
                                                   l.confidence, l.rulebookVersion, l.answers, l.importKey, l.createdAt])
                    let id = db.lastInsertedRowID
                    ids.append(id)
                    try state.execute(arguments: [l.sampleId, model, l.status == "label" ? l.value : nil, w.confidence, w.threshold, id,
                                                  w.spotCheck, runId, l.createdAt])
                    if w.spotCheck && l.status == "label" { try front.execute(arguments: [l.sampleId]) }
                }
                try db.execute(sql: "DELETE FROM queueSample WHERE taken = 0 AND sampleId IN (\(Catalog.pseudoLabeledNotSpotChecked))")
                try Catalog.insertFindings(findings, db)
                try db.execute(sql: """
                    INSERT INTO pseudoRun(id, model, pipelineRunId, report, accepted, withdrawn, spotChecks, createdAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [run.id, run.model, run.pipelineRunId, run.report, run.accepted, run.withdrawn, run.spotChecks, run.createdAt])
                return .commit
            }
            return ids
        }
    }

    /// Every pseudo-label state row (all models).
    public func pseudoLabels(model: String? = nil) throws -> [PseudoLabelRow] {
        try read { db in
            try PseudoLabelRow.fetchAll(db, sql: "SELECT * FROM pseudoLabel WHERE ?1 IS NULL OR model = ?1 ORDER BY sampleId, model",
                                        arguments: [model])
        }
    }

    public func pseudoRuns(model: String? = nil) throws -> [PseudoRunRow] {
        try read { db in
            try PseudoRunRow.fetchAll(db, sql: "SELECT * FROM pseudoRun WHERE ?1 IS NULL OR model = ?1 ORDER BY createdAt, id", arguments: [model])
        }
    }

    /// Each version a sample was in, with its split (for keeping test samples human-only).
    public func splitsBySample() throws -> [String: Set<String>] {
        try read { db in
            var out: [String: Set<String>] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT DISTINCT sampleId, split FROM versionMember") { out[r["sampleId"], default: []].insert(r["split"]) }
            return out
        }
    }

    /// The latest pseudo event of each (sample, model), oldest sample first.
    public func latestPseudoEvents() throws -> [LabelEventRow] {
        try read { db in
            try LabelEventRow.fetchAll(db, sql: """
                SELECT l.* FROM labelEvent l
                JOIN (SELECT max(id) AS id FROM labelEvent WHERE source = 'pseudo' GROUP BY sampleId, annotator) m ON l.id = m.id
                ORDER BY l.sampleId, l.annotator
                """)
        }
    }

    /// Samples with any label event that is not a pseudo label (a person's, an import's or a model import's).
    public func sampleIdsWithNonPseudoEvents() throws -> Set<String> {
        try read { db in Set(try String.fetchAll(db, sql: "SELECT DISTINCT sampleId FROM labelEvent WHERE source != 'pseudo'")) }
    }

    /// The open samples of the labeling queue in the order it serves them (spot checks first).
    public func queueOrder(limit: Int = -1) throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT sampleId FROM queueSample WHERE open = 1 ORDER BY seq LIMIT ?", arguments: [limit]) }
    }
}
