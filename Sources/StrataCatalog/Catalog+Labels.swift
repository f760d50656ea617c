import Foundation
import GRDB

// The label store's tables (migration `v3-labels`) and queries.
//
// `labelEvent` itself comes from `v1-foundation` and is append-only (triggers). This migration adds:
// - `rulebookVersion`: every distinct rulebook the label store has seen, numbered in order, with the hash of each
//   label's definition (so a changed definition can be detected and the labels made under the old one flagged);
// - `goldLabel`: known answers for gold samples (annotator accuracy);
// - indexes for the queries a labeling server runs on every request (per annotator, per sample and status).

/// A recorded version of `rulebook.yaml`.
public struct RulebookVersionRow: Codable, Sendable, Equatable, FetchableRecord {
    /// Hash of the canonical rulebook (16 hex digits).
    public var id: String
    /// 1, 2, 3, ... in the order versions were first seen.
    public var number: Int
    /// JSON object: label name -> hash of its definition and signs.
    public var labelHashes: String
    /// The rulebook's YAML text as it was.
    public var content: String
    public var createdAt: String

    public init(id: String, number: Int, labelHashes: String, content: String, createdAt: String) {
        self.id = id; self.number = number; self.labelHashes = labelHashes; self.content = content; self.createdAt = createdAt
    }
}

/// The known answer of a gold sample.
public struct GoldLabelRow: Codable, Sendable, Equatable, FetchableRecord {
    public var sampleId: String
    public var value: String
    public var note: String?
    public var createdAt: String
    public init(sampleId: String, value: String, note: String? = nil, createdAt: String) {
        self.sampleId = sampleId; self.value = value; self.note = note; self.createdAt = createdAt
    }
}

extension Catalog {
    /// Registers `v3-labels`. Called from `Catalog.migrator` after `v2-runs`.
    static func registerLabels(_ m: inout DatabaseMigrator) {
        m.registerMigration("v3-labels") { db in
            try db.execute(sql: """
                CREATE TABLE rulebookVersion (
                    id TEXT PRIMARY KEY NOT NULL,
                    number INTEGER NOT NULL UNIQUE,
                    labelHashes TEXT NOT NULL,
                    content TEXT NOT NULL,
                    createdAt TEXT NOT NULL
                );
                CREATE TABLE goldLabel (
                    sampleId TEXT PRIMARY KEY NOT NULL REFERENCES sample(id),
                    value TEXT NOT NULL,
                    note TEXT,
                    createdAt TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX labelEvent_annotator ON labelEvent(annotator, sampleId);
                """)
        }
    }

    // MARK: appending

    /// Appends label events in ONE transaction with `synchronous=FULL`: when this returns, the events are on disk
    /// (a crash or `kill -9` right after loses none of them). Either every event is stored or none.
    ///
    /// Events with an `importKey` that is already stored are skipped (their slot in the result is nil), so an import
    /// can be repeated. Every `sampleId` must be a full sample id (the foreign key rejects unknown ones).
    /// - Returns: the new row id of each event, in order; nil for a skipped duplicate import.
    @discardableResult
    public func appendLabelEvents(_ rows: [LabelEventRow]) throws -> [Int64?] {
        if rows.isEmpty { return [] }
        return try pool.writeWithoutTransaction { db in
            // The bulk-ingest path may have relaxed this connection; acknowledged labels must be durable.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            var ids: [Int64?] = []
            try db.inTransaction {
                let st = try db.cachedStatement(sql: """
                    INSERT INTO labelEvent(sampleId, status, value, reason, annotator, role, source, confidence,
                      rulebookVersion, answers, importKey, createdAt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(importKey) DO NOTHING
                    """)
                ids.reserveCapacity(rows.count)
                for l in rows {
                    try st.execute(arguments: [l.sampleId, l.status, l.value, l.reason, l.annotator, l.role, l.source,
                                               l.confidence, l.rulebookVersion, l.answers, l.importKey, l.createdAt])
                    ids.append(db.changesCount > 0 ? db.lastInsertedRowID : nil)
                }
                return .commit
            }
            return ids
        }
    }

    // MARK: reading events

    /// Label events, oldest first, filtered by sample (full id), annotator and/or id (events after `afterId`).
    public func labelEventRows(sampleId: String? = nil, annotator: String? = nil, afterId: Int64? = nil,
                               limit: Int? = nil) throws -> [LabelEventRow] {
        try read { db in
            try LabelEventRow.fetchAll(db, sql: """
                SELECT * FROM labelEvent WHERE (?1 IS NULL OR sampleId = ?1) AND (?2 IS NULL OR annotator = ?2)
                  AND (?3 IS NULL OR id > ?3) ORDER BY id LIMIT ?4
                """, arguments: [sampleId, annotator, afterId, limit ?? -1])
        }
    }

    /// Events by id (for returning what was just stored).
    public func labelEventRows(ids: [Int64]) throws -> [LabelEventRow] {
        if ids.isEmpty { return [] }
        return try read { db in
            let st = try db.cachedStatement(sql: "SELECT * FROM labelEvent WHERE id = ?")
            return try ids.compactMap { try LabelEventRow.fetchOne(st, arguments: [$0]) }
        }
    }

    public func labelEventCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM labelEvent") ?? 0 }
    }

    /// Samples `annotator` has an event on (any status): a queue never hands them the same sample twice.
    public func sampleIdsLabeled(by annotator: String) throws -> Set<String> {
        try read { db in
            Set(try String.fetchAll(db, sql: "SELECT DISTINCT sampleId FROM labelEvent WHERE annotator = ?", arguments: [annotator]))
        }
    }

    /// Sample id -> number of distinct annotators with an event on it (samples without events are absent).
    public func annotatorCountsBySample() throws -> [String: Int] {
        try read { db in
            var out: [String: Int] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT sampleId, count(DISTINCT annotator) AS n FROM labelEvent GROUP BY sampleId") {
                out[r["sampleId"]] = r["n"]
            }
            return out
        }
    }

    // MARK: samples

    /// Full ids for references that are a full id or a short id. References that match no sample, or a prefix
    /// that matches several, are absent from the result.
    public func resolveSampleRefs(_ refs: [String]) throws -> [String: String] {
        if refs.isEmpty { return [:] }
        return try read { db in
            var out: [String: String] = [:]
            let exact = try db.cachedStatement(sql: "SELECT id FROM sample WHERE id = ?")
            let short = try db.cachedStatement(sql: "SELECT id FROM sample WHERE id >= ? AND id < ? AND shortId = ? LIMIT 2")
            for ref in Set(refs) where !ref.isEmpty {
                if let id = try String.fetchOne(exact, arguments: [ref]) { out[ref] = id; continue }
                let ids = try String.fetchAll(short, arguments: [ref, ref + "g", ref])
                if ids.count == 1 { out[ref] = ids[0] }
            }
            return out
        }
    }

    /// Short id of each given sample id.
    public func shortIds(for ids: [String]) throws -> [String: String] {
        try read { db in
            var out: [String: String] = [:]
            let st = try db.cachedStatement(sql: "SELECT shortId FROM sample WHERE id = ?")
            for id in Set(ids) { if let s = try String.fetchOne(st, arguments: [id]) { out[id] = s } }
            return out
        }
    }

    // MARK: rulebook versions

    public func rulebookVersions() throws -> [RulebookVersionRow] {
        try read { db in try RulebookVersionRow.fetchAll(db, sql: "SELECT * FROM rulebookVersion ORDER BY number") }
    }

    public func rulebookVersion(id: String) throws -> RulebookVersionRow? {
        try read { db in try RulebookVersionRow.fetchOne(db, sql: "SELECT * FROM rulebookVersion WHERE id = ?", arguments: [id]) }
    }

    /// Records a rulebook version (if its id is new) and the findings its changes raise, in one transaction.
    /// - Returns: the stored row (the existing one when the id was already recorded) and whether it is new.
    public func recordRulebookVersion(id: String, labelHashes: String, content: String, createdAt: String,
                                      findings: [FindingRow]) throws -> (row: RulebookVersionRow, isNew: Bool) {
        try write { db in
            if let existing = try RulebookVersionRow.fetchOne(db, sql: "SELECT * FROM rulebookVersion WHERE id = ?", arguments: [id]) {
                return (existing, false)
            }
            let number = (try Int.fetchOne(db, sql: "SELECT max(number) FROM rulebookVersion") ?? 0) + 1
            let row = RulebookVersionRow(id: id, number: number, labelHashes: labelHashes, content: content, createdAt: createdAt)
            try db.execute(sql: "INSERT INTO rulebookVersion(id, number, labelHashes, content, createdAt) VALUES (?, ?, ?, ?, ?)",
                           arguments: [row.id, row.number, row.labelHashes, row.content, row.createdAt])
            try Catalog.insertFindings(findings, db)
            return (row, true)
        }
    }

    // MARK: gold

    /// Sets (or replaces) the known answers of gold samples, in one transaction.
    public func setGoldLabels(_ rows: [GoldLabelRow]) throws {
        if rows.isEmpty { return }
        try write { db in
            let st = try db.cachedStatement(sql: "INSERT OR REPLACE INTO goldLabel(sampleId, value, note, createdAt) VALUES (?, ?, ?, ?)")
            for g in rows { try st.execute(arguments: [g.sampleId, g.value, g.note, g.createdAt]) }
        }
    }

    public func goldLabels() throws -> [GoldLabelRow] {
        try read { db in try GoldLabelRow.fetchAll(db, sql: "SELECT * FROM goldLabel ORDER BY sampleId") }
    }
}
