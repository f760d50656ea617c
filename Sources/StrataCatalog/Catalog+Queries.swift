import Foundation
import GRDB

/// A recorded ingest: what was read, from where, with which options (JSON).
public struct IngestRecord: Sendable, Equatable {
    public var id: String
    public var source: String
    public var roots: String
    public var options: String
}

/// Counts for `strata status`.
public struct CatalogCounts: Sendable, Equatable {
    public var samplesBySource: [String: [String: Int]]
    public var quarantinedBySource: [String: Int]
    public var samples: Int
    public var occurrences: Int
    public var quarantined: Int
    public var findings: Int
    public var labelEvents: Int
    public var lastIngest: String?
}

/// What a selector can see of a sample (see `Workspace.coverage`).
public struct SampleFactsRow: Sendable {
    public var id: String
    public var source: String
    public var modality: String
    public var format: String
    public var collected: String
    public var metadata: String
    public var majorityLabel: String?
}

extension Catalog {
    /// Every file under data/raw: file samples (from their sample rows) and record containers.
    static let allRawFilesSQL = """
        SELECT rawPath AS path, id AS sha256, size, coalesce(rawMtimeNanos, 0) AS mtimeNanos, coalesce(rawInode, 0) AS inode,
               'sample' AS kind, source FROM sample WHERE kind = 'file'
        UNION ALL SELECT path, sha256, size, mtimeNanos, inode, kind, source FROM rawFile
        """

    public func ingests() throws -> [IngestRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT id, source, roots, options FROM ingest ORDER BY startedAt").map {
                IngestRecord(id: $0["id"], source: $0["source"], roots: $0["roots"], options: $0["options"])
            }
        }
    }

    public func ingest(id: String) throws -> IngestRecord? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT id, source, roots, options FROM ingest WHERE id = ?", arguments: [id]).map {
                IngestRecord(id: $0["id"], source: $0["source"], roots: $0["roots"], options: $0["options"])
            }
        }
    }

    public func counts() throws -> CatalogCounts {
        try read { db in
            var s: [String: [String: Int]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT source, modality, count(*) AS n FROM sample GROUP BY source, modality") {
                s[row["source"], default: [:]][row["modality"]] = row["n"]
            }
            var q: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT coalesce(source, '') AS source, count(*) AS n FROM quarantine WHERE releasedAt IS NULL GROUP BY source") {
                q[row["source"]] = row["n"]
            }
            return CatalogCounts(
                samplesBySource: s, quarantinedBySource: q,
                samples: try Int.fetchOne(db, sql: "SELECT count(*) FROM sample") ?? 0,
                occurrences: try Int.fetchOne(db, sql: "SELECT (SELECT count(*) FROM occurrence) + (SELECT count(*) FROM sample)") ?? 0,
                quarantined: try Int.fetchOne(db, sql: "SELECT count(*) FROM quarantine WHERE releasedAt IS NULL") ?? 0,
                findings: try Int.fetchOne(db, sql: "SELECT count(*) FROM finding") ?? 0,
                labelEvents: try Int.fetchOne(db, sql: "SELECT count(*) FROM labelEvent") ?? 0,
                lastIngest: try String.fetchOne(db, sql: "SELECT max(finishedAt) FROM ingest"))
        }
    }

    public func rawFiles() throws -> [RawFileRow] {
        try read { db in try RawFileRow.fetchAll(db, sql: Catalog.allRawFilesSQL + " ORDER BY path") }
    }

    public func rawFilePaths() throws -> Set<String> {
        try read { db in Set(try String.fetchAll(db, sql: "SELECT path FROM (\(Catalog.allRawFilesSQL))")) }
    }

    public func recordsContainer(sha256: String) throws -> String? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT path FROM rawFile WHERE sha256 = ? AND kind = 'records'", arguments: [sha256])
        }
    }

    /// Project-relative raw path -> format, for file samples.
    public func fileSampleFormats() throws -> [String: String] {
        try read { db in
            var out: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT rawPath, format FROM sample WHERE kind = 'file'") { out[row["rawPath"]] = row["format"] }
            return out
        }
    }

    public func formatCounts() throws -> [(modality: String, format: String, count: Int)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT modality, format, count(*) AS n FROM sample GROUP BY modality, format ORDER BY 1, 2")
                .map { (modality: $0["modality"] as String, format: $0["format"] as String, count: $0["n"] as Int) }
        }
    }

    public func recordSampleIds() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT id FROM sample WHERE kind = 'record' ORDER BY id") }
    }

    public func sampleCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sample") ?? 0 }
    }

    public func allSamples() throws -> [SampleRow] {
        try read { db in try SampleRow.fetchAll(db, sql: "SELECT * FROM sample ORDER BY id") }
    }

    public func labelEvents(sampleId: String? = nil) throws -> [LabelEventRow] {
        try read { db in
            // Two statements, not `?1 IS NULL OR sampleId = ?1`: SQLite plans that as a scan of the whole table (the
            // index on sampleId goes unused), which made labels at ingest quadratic in rows.
            if let sampleId {
                return try LabelEventRow.fetchAll(db, sql: "SELECT * FROM labelEvent WHERE sampleId = ? ORDER BY id", arguments: [sampleId])
            }
            return try LabelEventRow.fetchAll(db, sql: "SELECT * FROM labelEvent ORDER BY id")
        }
    }

    /// Every sample with its majority label (ties broken by label name).
    public func sampleFacts() throws -> [SampleFactsRow] {
        try read { db in
            var labels: [String: String] = [:]
            for r in try Row.fetchAll(db, sql: """
                SELECT sampleId, value, count(*) AS n FROM labelEvent WHERE status = 'label' AND value IS NOT NULL
                GROUP BY sampleId, value ORDER BY sampleId, n DESC, value
                """) {
                let id: String = r["sampleId"]
                if labels[id] == nil { labels[id] = r["value"] }
            }
            return try Row.fetchAll(db, sql: "SELECT id, source, modality, format, collected, metadata FROM sample").map { r in
                let id: String = r["id"]
                return SampleFactsRow(id: id, source: r["source"], modality: r["modality"], format: r["format"],
                                      collected: r["collected"], metadata: r["metadata"], majorityLabel: labels[id])
            }
        }
    }

    /// Findings filtered by kind and stage, oldest first, with the short ids of their samples.
    public func findings(kind: String?, stage: String?) throws -> [(row: FindingRow, sample: String?, related: String?)] {
        try read { db in
            let rows = try FindingRow.fetchAll(db, sql: """
                SELECT * FROM finding WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR stage = ?2) ORDER BY id
                """, arguments: [kind, stage])
            var short: [String: String] = [:]
            let st = try db.cachedStatement(sql: "SELECT shortId FROM sample WHERE id = ?")
            func shortId(_ id: String?) throws -> String? {
                guard let id else { return nil }
                if let s = short[id] { return s }
                let s = try String.fetchOne(st, arguments: [id]) ?? String(id.prefix(12))
                short[id] = s
                return s
            }
            return try rows.map { ($0, try shortId($0.sampleId), try shortId($0.relatedSampleId)) }
        }
    }

    public func quarantine(kind: String? = nil, stage: String? = nil, includeReleased: Bool = false) throws -> [QuarantineRow] {
        try read { db in
            try QuarantineRow.fetchAll(db, sql: """
                SELECT * FROM quarantine WHERE (?1 OR releasedAt IS NULL) AND (?2 IS NULL OR kind = ?2) AND (?3 IS NULL OR stage = ?3)
                ORDER BY createdAt, origin, line, id
                """, arguments: [includeReleased, kind, stage])
        }
    }

    /// Entries whose id equals or starts with `ref` (at most two, to detect ambiguity).
    public func quarantineMatching(_ ref: String) throws -> [QuarantineRow] {
        try read { db in
            try QuarantineRow.fetchAll(db, sql: "SELECT * FROM quarantine WHERE id = ? OR id LIKE ? LIMIT 2", arguments: [ref, ref + "%"])
        }
    }

    /// The latest unreleased reason recorded for an origin and line.
    public func latestQuarantineReason(origin: String, line: Int?) throws -> String? {
        try read { db in
            try String.fetchOne(db, sql: """
                SELECT reason FROM quarantine WHERE origin = ? AND coalesce(line, 0) = ? AND releasedAt IS NULL ORDER BY createdAt DESC LIMIT 1
                """, arguments: [origin, line ?? 0])
        }
    }

    public func markReleased(quarantineId: String, at now: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE quarantine SET releasedAt = ? WHERE id = ?", arguments: [now, quarantineId])
        }
    }
}

extension Catalog {
    public func labelImportKeyExists(_ key: String) throws -> Bool {
        try read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM labelEvent WHERE importKey = ?)", arguments: [key]) ?? false
        }
    }
}

extension Catalog {
    /// Where each raw file came from: project-relative raw path -> original path (with `:line` for record containers).
    public func originsByRawPath() throws -> [String: String] {
        try read { db in
            var out: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT rawPath, originPath FROM sample GROUP BY rawPath") {
                out[row["rawPath"]] = row["originPath"]
            }
            return out
        }
    }
}

extension Catalog {
    /// Which of these short ids belong to samples already (one query).
    public func takenShortIds(_ candidates: [String]) throws -> Set<String> {
        if candidates.isEmpty { return [] }
        return try read { db in
            var out = Set<String>()
            let st = try db.cachedStatement(sql: "SELECT 1 FROM sample WHERE id >= ? AND id < ? LIMIT 1")
            for c in candidates where try Int.fetchOne(st, arguments: [c, c + "g"]) != nil { out.insert(c) }
            return out
        }
    }
}
