import Foundation
import GRDB

/// A model's imported predictions: its classes and where they came from.
public struct PredictionSetRow: Codable, Sendable, Equatable, FetchableRecord {
    public var model: String
    /// JSON array of class names, in the order of every `probs` vector.
    public var classes: String
    public var hasProbs: Bool
    public var embeddingDim: Int?
    public var sourceFile: String
    public var count: Int
    public var importedAt: String
}

/// One model output for one sample.
public struct PredictionRow: Sendable, Equatable {
    public var sampleId: String
    public var label: String
    /// Probabilities in the order of the model's classes (nil when only a label was given).
    public var probs: [Double]?
    public var embedding: [Float]?
    /// Line of the imported file.
    public var line: Int
    public init(sampleId: String, label: String, probs: [Double]?, embedding: [Float]?, line: Int) {
        self.sampleId = sampleId; self.label = label; self.probs = probs; self.embedding = embedding; self.line = line
    }
}

/// A sample's place in the labeling queue's active-learning order.
public struct LabelPriorityRow: Codable, Sendable, Equatable, FetchableRecord {
    public var sampleId: String
    public var rank: Int
    public var score: Double
    public var strategy: String
    public var model: String
    public var createdAt: String
    public init(sampleId: String, rank: Int, score: Double, strategy: String, model: String, createdAt: String) {
        self.sampleId = sampleId; self.rank = rank; self.score = score; self.strategy = strategy; self.model = model; self.createdAt = createdAt
    }
}

/// What an import needs to resolve the `id` of a prediction line.
public struct SampleKeyRow: Sendable {
    public var id: String
    public var shortId: String
    public var externalId: String?
    /// The external id is that of a row ingested as an exact duplicate of this sample (from `occurrence`).
    public var ofDuplicateRow = false
}

/// A sample's latest label event from one annotator (what consensus is computed from).
public struct LatestLabelRow: Sendable, Equatable {
    public var sampleId: String
    public var annotator: String
    public var status: String
    public var value: String?
    public var source: String
}

extension Catalog {
    /// `v6-predictions`: model predictions per sample and the active-learning order of the labeling queue.
    static func registerPredictions(_ m: inout DatabaseMigrator) {
        m.registerMigration("v6-predictions") { db in
            try db.execute(sql: """
                CREATE TABLE predictionSet (
                    model TEXT PRIMARY KEY NOT NULL,
                    classes TEXT NOT NULL,
                    hasProbs INTEGER NOT NULL,
                    embeddingDim INTEGER,
                    sourceFile TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    importedAt TEXT NOT NULL
                );
                CREATE TABLE prediction (
                    model TEXT NOT NULL REFERENCES predictionSet(model) ON DELETE CASCADE,
                    sampleId TEXT NOT NULL REFERENCES sample(id),
                    label TEXT NOT NULL,
                    probs BLOB,
                    embedding BLOB,
                    line INTEGER NOT NULL,
                    PRIMARY KEY (model, sampleId)
                ) WITHOUT ROWID;
                CREATE TABLE labelPriority (
                    sampleId TEXT PRIMARY KEY NOT NULL REFERENCES sample(id),
                    rank INTEGER NOT NULL,
                    score REAL NOT NULL,
                    strategy TEXT NOT NULL,
                    model TEXT NOT NULL,
                    createdAt TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX labelPriority_rank ON labelPriority(rank);
                """)
        }
    }

    /// Every sample's id, short id and external id (to resolve the ids users give).
    public func sampleKeys() throws -> [SampleKeyRow] {
        try read { db in
            // Rows ingested as exact duplicates keep their own external id in `occurrence`: it names the sample they repeat.
            try Row.fetchAll(db, sql: """
                SELECT id, shortId, externalId, 0 AS dup FROM sample
                UNION ALL
                SELECT o.sampleId, s.shortId, o.externalId, 1 FROM occurrence o JOIN sample s ON s.id = o.sampleId
                WHERE o.externalId IS NOT NULL
                """).map {
                SampleKeyRow(id: $0["id"], shortId: $0["shortId"], externalId: $0["externalId"], ofDuplicateRow: $0["dup"])
            }
        }
    }

    /// Replaces a model's predictions in one transaction (an import is a snapshot of the model's outputs).
    public func replacePredictions(model: String, classes: [String], hasProbs: Bool, embeddingDim: Int?, sourceFile: String,
                                   rows: [PredictionRow], at now: String) throws {
        let classesJSON = String(decoding: try JSONEncoder().encode(classes), as: UTF8.self)
        try write { db in
            try db.execute(sql: "DELETE FROM prediction WHERE model = ?", arguments: [model])
            try db.execute(sql: """
                INSERT OR REPLACE INTO predictionSet(model, classes, hasProbs, embeddingDim, sourceFile, count, importedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [model, classesJSON, hasProbs, embeddingDim, sourceFile, rows.count, now])
            let st = try db.cachedStatement(sql: "INSERT INTO prediction(model, sampleId, label, probs, embedding, line) VALUES (?, ?, ?, ?, ?, ?)")
            for r in rows {
                try st.execute(arguments: [model, r.sampleId, r.label, r.probs.map(Catalog.blob), r.embedding.map(Catalog.blob), r.line])
            }
        }
    }

    public func predictionSets() throws -> [PredictionSetRow] {
        try read { db in try PredictionSetRow.fetchAll(db, sql: "SELECT * FROM predictionSet ORDER BY importedAt, model") }
    }

    /// How many of `model`'s predictions fall on each split of version `versionId` (samples outside the version
    /// are not counted).
    public func predictionSplits(model: String, versionId: String) throws -> [String: Int] {
        try read { db in
            var out: [String: Int] = [:]
            for r in try Row.fetchAll(db, sql: """
                SELECT m.split AS split, COUNT(*) AS n FROM prediction p
                JOIN versionMember m ON m.versionId = ? AND m.sampleId = p.sampleId
                WHERE p.model = ? GROUP BY m.split
                """, arguments: [versionId, model]) {
                out[r["split"]] = r["n"]
            }
            return out
        }
    }

    public func predictions(model: String) throws -> [PredictionRow] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT sampleId, label, probs, embedding, line FROM prediction WHERE model = ? ORDER BY line",
                             arguments: [model]).map { r in
                PredictionRow(sampleId: r["sampleId"], label: r["label"], probs: (r["probs"] as Data?).map(Catalog.doubles),
                              embedding: (r["embedding"] as Data?).map(Catalog.floats), line: r["line"])
            }
        }
    }

    /// The latest event of each (sample, annotator), oldest sample first.
    public func latestLabelEvents() throws -> [LatestLabelRow] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT l.sampleId, l.annotator, l.status, l.value, l.source FROM labelEvent l
                JOIN (SELECT max(id) AS id FROM labelEvent GROUP BY sampleId, annotator) m ON l.id = m.id
                ORDER BY l.sampleId, l.annotator
                """).map { LatestLabelRow(sampleId: $0["sampleId"], annotator: $0["annotator"], status: $0["status"], value: $0["value"], source: $0["source"]) }
        }
    }

    /// Replaces the labeling queue's priority order.
    public func replaceLabelPriority(_ rows: [LabelPriorityRow]) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM labelPriority")
            let st = try db.cachedStatement(sql: "INSERT INTO labelPriority(sampleId, rank, score, strategy, model, createdAt) VALUES (?, ?, ?, ?, ?, ?)")
            for r in rows { try st.execute(arguments: [r.sampleId, r.rank, r.score, r.strategy, r.model, r.createdAt]) }
        }
    }

    /// Changes whenever `strata suggest` stores a new order (row count and newest time), read in one small query,
    /// so a running label server can notice new priorities without reloading its queue each time.
    public func labelPrioritySignature() throws -> String {
        try read { db in
            // The table is WITHOUT ROWID: count, newest time and a rank-weighted sum of scores tell orders apart.
            let row = try Row.fetchOne(db, sql: "SELECT count(*) AS n, max(createdAt) AS t, total(rank * score) AS w FROM labelPriority")
            let n: Int = row?["n"] ?? 0
            let t: String? = row?["t"]
            let w: Double = row?["w"] ?? 0
            return "\(n)|\(t ?? "")|\(w)"
        }
    }

    public func labelPriority() throws -> [LabelPriorityRow] {
        try read { db in try LabelPriorityRow.fetchAll(db, sql: "SELECT * FROM labelPriority ORDER BY rank") }
    }

    /// Replaces the findings one analysis recorded before (by stage) with its new findings, in one transaction,
    /// so the ledger shows the latest result of each analysis.
    /// Replaces the findings of `stage`; with `model`, only that model's (findings whose `detail.model` is the
    /// model, or that name no model), so analyses of two models keep each other's findings.
    public func replaceFindings(stage: String, model: String? = nil, with findings: [FindingRow]) throws {
        try write { db in
            if let model {
                try db.execute(sql: """
                    DELETE FROM finding WHERE stage = ?
                    AND coalesce(CASE WHEN json_valid(detail) THEN json_extract(detail, '$.model') END, ?) = ?
                    """, arguments: [stage, model, model])
            } else {
                try db.execute(sql: "DELETE FROM finding WHERE stage = ?", arguments: [stage])
            }
            try Catalog.insertFindings(findings, db)
        }
    }

    /// Counts of findings and quarantine entries by kind (for the report).
    public func ledgerCounts() throws -> (findings: [String: Int], quarantine: [String: Int]) {
        try read { db in
            var f: [String: Int] = [:], q: [String: Int] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT kind, count(*) AS n FROM finding GROUP BY kind") { f[r["kind"]] = r["n"] }
            for r in try Row.fetchAll(db, sql: "SELECT kind, count(*) AS n FROM quarantine WHERE releasedAt IS NULL GROUP BY kind") { q[r["kind"]] = r["n"] }
            return (f, q)
        }
    }

    static func blob(_ v: [Double]) -> Data { v.withUnsafeBufferPointer { Data(buffer: $0) } }
    static func blob(_ v: [Float]) -> Data { v.withUnsafeBufferPointer { Data(buffer: $0) } }
    static func doubles(_ d: Data) -> [Double] {
        d.withUnsafeBytes { raw in (0..<(d.count / 8)).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self) } }
    }
    static func floats(_ d: Data) -> [Float] {
        d.withUnsafeBytes { raw in (0..<(d.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
    }
}

/// A sample's identity and origin, for analyses and their findings.
public struct SampleOriginRow: Sendable {
    public var id: String
    public var shortId: String
    public var kind: String
    public var ingestId: String
    public var originPath: String
    public var originLine: Int?
    public var size: Int
}

extension Catalog {
    public func sampleOrigins() throws -> [String: SampleOriginRow] {
        try read { db in
            var out: [String: SampleOriginRow] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT id, shortId, kind, ingestId, originPath, originLine, size FROM sample") {
                let row = SampleOriginRow(id: r["id"], shortId: r["shortId"], kind: r["kind"], ingestId: r["ingestId"],
                                          originPath: r["originPath"], originLine: r["originLine"], size: r["size"])
                out[row.id] = row
            }
            return out
        }
    }

    /// Ingest ids, oldest first.
    public func ingestOrder() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT id FROM ingest ORDER BY startedAt, id") }
    }
}
