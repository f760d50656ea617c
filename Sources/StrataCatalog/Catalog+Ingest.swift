import Foundation
import GRDB
import StrataCore

extension Catalog {
    /// Registers `v9-occurrence-external-id`: the external id (`--id-field`) of a row ingested as an exact duplicate,
    /// so `predictions import` can resolve it to the sample it repeats. Called from `Catalog.migrator` after the others.
    static func registerOccurrenceExternalId(_ m: inout DatabaseMigrator) {
        m.registerMigration("v9-occurrence-external-id") { db in
            try db.execute(sql: """
                ALTER TABLE occurrence ADD COLUMN externalId TEXT;
                CREATE INDEX occurrence_externalId ON occurrence(externalId) WHERE externalId IS NOT NULL;
                """)
        }
    }

    public func ensureSource(_ name: String, now: String) throws {
        try write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO source(name, createdAt) VALUES (?, ?)", arguments: [name, now])
        }
    }

    public func beginIngest(id: String, source: String, roots: String, options: String, now: String) throws {
        try write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO source(name, createdAt) VALUES (?, ?)", arguments: [source, now])
            try db.execute(
                sql: "INSERT INTO ingest(id, source, startedAt, roots, options) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, source, now, roots, options])
        }
    }

    public func finishIngest(id: String, counts: String, now: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE ingest SET finishedAt = ?, counts = ? WHERE id = ?", arguments: [now, counts, id])
        }
    }

    /// Writes one batch in a single transaction. Inserts are idempotent (a re-run after a crash adds nothing twice).
    public func commit(_ batch: IngestBatch) throws {
        if batch.isEmpty { return }
        try write { db in
            if !batch.samples.isEmpty {
                let st = try db.cachedStatement(sql: """
                    INSERT OR IGNORE INTO sample(id, shortId, kind, modality, format, size, source, collected, rawPath, rawLine,
                      originPath, originLine, externalId, metadata, ingestId, createdAt, rawMtimeNanos, rawInode)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                for s in batch.samples {
                    try st.execute(arguments: [s.id, s.shortId, s.kind, s.modality, s.format, s.size, s.source, s.collected,
                                               s.rawPath, s.rawLine, s.originPath, s.originLine, s.externalId, s.metadata,
                                               s.ingestId, s.createdAt, s.rawMtimeNanos, s.rawInode])
                }
            }
            if !batch.occurrences.isEmpty {
                let st = try db.cachedStatement(sql: """
                    INSERT OR IGNORE INTO occurrence(sampleId, originPath, originLine, ingestId, externalId) VALUES (?, ?, ?, ?, ?)
                    """)
                for o in batch.occurrences {
                    try st.execute(arguments: [o.sampleId, o.originPath, o.originLine, o.ingestId, o.externalId])
                }
            }
            if !batch.rawFiles.isEmpty {
                let st = try db.cachedStatement(sql: """
                    INSERT OR REPLACE INTO rawFile(path, sha256, size, mtimeNanos, inode, kind, source) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """)
                for r in batch.rawFiles {
                    try st.execute(arguments: [r.path, r.sha256, r.size, r.mtimeNanos, r.inode, r.kind, r.source])
                }
            }
            if !batch.statCache.isEmpty {
                let st = try db.cachedStatement(sql: """
                    INSERT OR REPLACE INTO statCache(path, size, mtimeNanos, inode, sha256, outcome) VALUES (?, ?, ?, ?, ?, ?)
                    """)
                for c in batch.statCache {
                    try st.execute(arguments: [c.path, c.size, c.mtimeNanos, c.inode, c.sha256, c.outcome])
                }
            }
            if !batch.findings.isEmpty {
                try Catalog.insertFindings(batch.findings, db)
            }
            if !batch.quarantine.isEmpty {
                let st = try db.cachedStatement(sql: """
                    INSERT OR IGNORE INTO quarantine(id, kind, stage, origin, line, reason, storedPath, source, contentSha256,
                      detail, runId, createdAt, releasedAt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                for q in batch.quarantine {
                    try st.execute(arguments: [q.id, q.kind, q.stage, q.origin, q.line, q.reason, q.storedPath, q.source,
                                               q.contentSha256, q.detail, q.runId, q.createdAt, q.releasedAt])
                }
            }
            if !batch.labels.isEmpty {
                try Catalog.insertLabels(batch.labels, db)
            }
        }
    }

    static func insertFindings(_ findings: [FindingRow], _ db: Database) throws {
        let st = try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO finding(key, kind, stage, sampleId, origin, line, relatedSampleId, relatedOrigin,
              relatedLine, reason, detail, runId, createdAt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for f in findings {
            try st.execute(arguments: [f.key, f.kind, f.stage, f.sampleId, f.origin, f.line, f.relatedSampleId,
                                       f.relatedOrigin, f.relatedLine, f.reason, f.detail, f.runId, f.createdAt])
        }
    }

    static func insertLabels(_ labels: [LabelEventRow], _ db: Database) throws {
        let st = try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO labelEvent(sampleId, status, value, reason, annotator, role, source, confidence,
              rulebookVersion, answers, importKey, createdAt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for l in labels {
            try st.execute(arguments: [l.sampleId, l.status, l.value, l.reason, l.annotator, l.role, l.source,
                                       l.confidence, l.rulebookVersion, l.answers, l.importKey, l.createdAt])
        }
    }

    // MARK: lookups used while ingesting

    /// Stat-cache rows of these paths (only those that exist). Long lists are looked up in one query per 4096 keys
    /// (the keys travel as one JSON array), not one query per path.
    public func statCache(paths: [String]) throws -> [String: StatCacheRow] {
        if paths.isEmpty { return [:] }
        return try read { db in
            var out: [String: StatCacheRow] = [:]
            if paths.count < Catalog.batchLookupThreshold {
                let st = try db.cachedStatement(sql: "SELECT * FROM statCache WHERE path = ?")
                for p in paths {
                    if let row = try StatCacheRow.fetchOne(st, arguments: [p]) { out[p] = row }
                }
                return out
            }
            let st = try db.cachedStatement(sql: """
                SELECT path, size, mtimeNanos, inode, sha256, outcome FROM statCache
                WHERE path IN (SELECT value FROM json_each(?))
                """)
            for chunk in Catalog.chunks(paths) {
                let rows = try Row.fetchCursor(st, arguments: [Catalog.jsonArray(chunk)])
                while let r = try rows.next() {
                    let path: String = r[0]
                    out[path] = StatCacheRow(path: path, size: r[1], mtimeNanos: r[2], inode: r[3], sha256: r[4], outcome: r[5])
                }
            }
            return out
        }
    }

    /// Lists at least this long are looked up with one `json_each` query per chunk instead of a query per key.
    static let batchLookupThreshold = 16

    static func chunks(_ keys: [String], size: Int = 4096) -> [ArraySlice<String>] {
        stride(from: 0, to: keys.count, by: size).map { keys[$0..<min($0 + size, keys.count)] }
    }

    /// A JSON array of strings, for `json_each(?)`.
    static func jsonArray(_ keys: ArraySlice<String>) -> String {
        JSONValue.array(keys.map { .string($0) }).canonicalJSON
    }

    /// The stat recorded for every input path, without hashes (what `status` compares a walk with; the hash of a
    /// file whose stat changed is looked up with `statCache(paths:)`). Two strings fewer per row than `allStatCache`.
    public func allCachedStats() throws -> [String: CachedStat] {
        try read { db in
            var out: [String: CachedStat] = [:]
            out.reserveCapacity(try Int.fetchOne(db, sql: "SELECT count(*) FROM statCache") ?? 0)
            let rows = try Row.fetchCursor(db, sql: "SELECT path, size, mtimeNanos, inode FROM statCache")
            while let r = try rows.next() {
                out[r[0]] = CachedStat(size: r[1], mtimeNanos: r[2], inode: r[3])
            }
            return out
        }
    }

    public func allStatCache() throws -> [String: StatCacheRow] {
        try read { db in
            // Column access by index on a cursor: several times faster than Codable decoding for large projects.
            var out: [String: StatCacheRow] = [:]
            out.reserveCapacity(try Int.fetchOne(db, sql: "SELECT count(*) FROM statCache") ?? 0)
            let rows = try Row.fetchCursor(db, sql: "SELECT path, size, mtimeNanos, inode, sha256, outcome FROM statCache")
            while let r = try rows.next() {
                let path: String = r[0]
                out[path] = StatCacheRow(path: path, size: r[1], mtimeNanos: r[2], inode: r[3], sha256: r[4], outcome: r[5])
            }
            return out
        }
    }

    /// Samples by content id (only those that exist); long lists in one query per chunk of ids.
    public func samples(ids: [String]) throws -> [String: SampleRow] {
        if ids.isEmpty { return [:] }
        return try read { db in
            var out: [String: SampleRow] = [:]
            if ids.count < Catalog.batchLookupThreshold {
                let st = try db.cachedStatement(sql: "SELECT * FROM sample WHERE id = ?")
                for id in ids where out[id] == nil {
                    if let row = try SampleRow.fetchOne(st, arguments: [id]) { out[id] = row }
                }
                return out
            }
            let st = try db.cachedStatement(sql: "SELECT * FROM sample WHERE id IN (SELECT value FROM json_each(?))")
            for chunk in Catalog.chunks(ids) {
                for row in try SampleRow.fetchAll(st, arguments: [Catalog.jsonArray(chunk)]) { out[row.id] = row }
            }
            return out
        }
    }

    public func sample(id: String) throws -> SampleRow? {
        try read { db in try SampleRow.fetchOne(db, sql: "SELECT * FROM sample WHERE id = ?", arguments: [id]) }
    }

    /// Resolves a sample by full id, short id or unique id prefix.
    public func resolveSample(_ ref: String) throws -> [SampleRow] {
        try read { db in
            try SampleRow.fetchAll(db, sql: "SELECT * FROM sample WHERE id = ? OR (id >= ? AND id < ?) LIMIT 5",
                                   arguments: [ref, ref, ref + "g"])
        }
    }

    public func isShortIdTaken(_ shortId: String) throws -> Bool {
        try read { db in
            // Short ids are prefixes of content ids: a prefix is taken when any id starts with it (a range on the key).
            try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM sample WHERE id >= ? AND id < ?)", arguments: [shortId, shortId + "g"]) ?? false
        }
    }

    public func occurrenceExists(originPath: String, line: Int, sampleId: String) throws -> Bool {
        try read { db in
            try Bool.fetchOne(db, sql: """
                SELECT EXISTS(SELECT 1 FROM occurrence WHERE originPath = ?1 AND originLine = ?2 AND sampleId = ?3)
                    OR EXISTS(SELECT 1 FROM sample WHERE id = ?3 AND originPath = ?1 AND coalesce(originLine, 0) = ?2)
                """, arguments: [originPath, line, sampleId]) ?? false
        }
    }

    /// Which of these label import keys an earlier ingest already stored (one query per chunk of keys).
    public func existingImportKeys(_ keys: [String]) throws -> Set<String> {
        if keys.isEmpty { return [] }
        return try read { db in
            var out = Set<String>()
            let st = try db.cachedStatement(sql: "SELECT importKey FROM labelEvent WHERE importKey IN (SELECT value FROM json_each(?))")
            for chunk in Catalog.chunks(keys) {
                out.formUnion(try String.fetchAll(st, arguments: [Catalog.jsonArray(chunk)]))
            }
            return out
        }
    }

    /// The label values (`status = 'label'`, oldest first) these samples already have, with each sample's first
    /// origin: what an ingest compares new labels with to report conflicts. One query per chunk of ids.
    public func labelValues(sampleIds: [String]) throws -> [String: (values: [String], originPath: String, originLine: Int?)] {
        if sampleIds.isEmpty { return [:] }
        return try read { db in
            var out: [String: (values: [String], originPath: String, originLine: Int?)] = [:]
            let st = try db.cachedStatement(sql: """
                SELECT l.sampleId, l.value, s.originPath, s.originLine FROM labelEvent l JOIN sample s ON s.id = l.sampleId
                WHERE l.sampleId IN (SELECT value FROM json_each(?)) AND l.status = 'label' AND l.value IS NOT NULL
                ORDER BY l.id
                """)
            for chunk in Catalog.chunks(sampleIds) {
                let rows = try Row.fetchCursor(st, arguments: [Catalog.jsonArray(chunk)])
                while let r = try rows.next() {
                    let id: String = r[0]
                    out[id, default: ([], r[2], r[3])].values.append(r[1])
                }
            }
            return out
        }
    }

    public func quarantineEntry(id: String) throws -> QuarantineRow? {
        try read { db in try QuarantineRow.fetchOne(db, sql: "SELECT * FROM quarantine WHERE id = ?", arguments: [id]) }
    }
}
