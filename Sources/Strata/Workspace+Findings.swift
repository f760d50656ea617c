import Foundation
import StrataCatalog
import StrataCore
import StrataStore

/// One entry of the findings ledger as users and scripts see it.
public struct FindingView: Codable, Sendable, Equatable {
    public var kind: String
    public var stage: String
    public var sample: String?
    public var origin: String?
    public var line: Int?
    public var relatedSample: String?
    public var relatedOrigin: String?
    public var relatedLine: Int?
    public var reason: String
    /// Set when the finding is a quarantined file or row.
    public var quarantineId: String?
}

/// A quarantined file or row.
public struct QuarantineView: Codable, Sendable, Equatable {
    public var id: String
    public var kind: String
    public var stage: String
    public var origin: String
    public var line: Int?
    public var reason: String
    public var stored: String?
    public var source: String?
    public var createdAt: String
    public var releasedAt: String?
}

extension Workspace {
    /// The ledger: findings recorded by every stage plus every quarantined (not released) file or row.
    public func findings(kind: String? = nil, stage: String? = nil) throws -> [FindingView] {
        try catalog.read { db in
            var out: [FindingView] = []
            let rows = try FindingRow.fetchAll(db, sql: """
                SELECT f.* FROM finding f
                WHERE (?1 IS NULL OR f.kind = ?1) AND (?2 IS NULL OR f.stage = ?2)
                ORDER BY f.id
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
            for r in rows {
                out.append(FindingView(kind: r.kind, stage: r.stage, sample: try shortId(r.sampleId), origin: r.origin, line: r.line,
                                       relatedSample: try shortId(r.relatedSampleId), relatedOrigin: r.relatedOrigin,
                                       relatedLine: r.relatedLine, reason: r.reason, quarantineId: nil))
            }
            let q = try QuarantineRow.fetchAll(db, sql: """
                SELECT * FROM quarantine WHERE releasedAt IS NULL AND (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR stage = ?2)
                ORDER BY createdAt, id
                """, arguments: [kind, stage])
            for r in q {
                out.append(FindingView(kind: r.kind, stage: r.stage, sample: nil, origin: r.origin, line: r.line,
                                       relatedSample: nil, relatedOrigin: nil, relatedLine: nil, reason: r.reason, quarantineId: r.id))
            }
            return out
        }
    }

    public func quarantineList(includeReleased: Bool = false) throws -> [QuarantineView] {
        try catalog.read { db in
            try QuarantineRow.fetchAll(db, sql: "SELECT * FROM quarantine WHERE ? OR releasedAt IS NULL ORDER BY createdAt, origin, line",
                                       arguments: [includeReleased]).map(Workspace.view)
        }
    }

    static func view(_ r: QuarantineRow) -> QuarantineView {
        QuarantineView(id: r.id, kind: r.kind, stage: r.stage, origin: r.origin, line: r.line, reason: r.reason,
                       stored: r.storedPath, source: r.source, createdAt: r.createdAt, releasedAt: r.releasedAt)
    }

    public func quarantineEntry(_ id: String) throws -> QuarantineView {
        let matches = try catalog.read { db in
            try QuarantineRow.fetchAll(db, sql: "SELECT * FROM quarantine WHERE id = ? OR id LIKE ? LIMIT 2", arguments: [id, id + "%"])
        }
        guard matches.count == 1 else {
            throw StrataError.usage(matches.isEmpty ? "no quarantine entry `\(id)`" : "`\(id)` matches several quarantine entries",
                                    fix: "see the ids with `strata quarantine list`")
        }
        return Workspace.view(matches[0])
    }

    public struct ReleaseResult: Codable, Sendable {
        public var id: String
        public var released: Bool
        public var reason: String?
        public var ingest: IngestSummary?
    }

    /// Re-admits a quarantined file or row after the user fixed its cause: re-runs the ingest that rejected it
    /// (same source, date, tags and manifest) and marks the entry released if the file or row now passes.
    public func releaseQuarantine(_ ref: String) throws -> ReleaseResult {
        let entry = try quarantineEntry(ref)
        if entry.releasedAt != nil { return ReleaseResult(id: entry.id, released: true, reason: "already released") }
        let ingestId = try catalog.read { db in try String.fetchOne(db, sql: "SELECT runId FROM quarantine WHERE id = ?", arguments: [entry.id]) }
        guard let ingestId, let row = try catalog.read({ db in
            try Row.fetchOne(db, sql: "SELECT source, roots, options FROM ingest WHERE id = ?", arguments: [ingestId])
        }) else {
            throw StrataError.project("the ingest that quarantined \(entry.id) is not recorded", fix: "ingest the fixed file again with `strata ingest`")
        }
        let source: String = row["source"]
        let rootsJSON: String = row["roots"]
        let optionsJSON: String = row["options"]
        guard case .array(let rootValues)? = JSONRecord.parse(Array(rootsJSON.utf8)),
              case .object(let opts)? = JSONRecord.parse(Array(optionsJSON.utf8)) else {
            throw StrataError.project("cannot read the options of ingest \(ingestId)")
        }
        let roots = rootValues.compactMap { if case .string(let s) = $0 { s } else { nil } }
        var tags: [String: String] = [:]
        if case .object(let t)? = opts["tags"] { for (k, v) in t { if case .string(let s) = v { tags[k] = s } } }
        var records: RecordOptions?
        if case .object(let r)? = opts["records"] {
            records = RecordOptions(textField: r["text_field"]?.stringValue ?? "text", labelField: r["label_field"]?.stringValue,
                                    idField: r["id_field"]?.stringValue)
        }
        var options = IngestOptions(paths: roots, source: source, date: opts["date"]?.stringValue, tags: tags,
                                    metaFile: opts["meta"]?.stringValue, records: records)
        options.recheck = [entry.origin]
        let summary = try ingest(options)
        let key = IngestContext.quarantineKey(origin: entry.origin, line: entry.line)
        if summary.quarantinedKeys.contains(key) {
            let again = try catalog.read { db in
                try String.fetchOne(db, sql: """
                    SELECT reason FROM quarantine WHERE origin = ? AND coalesce(line, 0) = ? AND releasedAt IS NULL ORDER BY createdAt DESC LIMIT 1
                    """, arguments: [entry.origin, entry.line ?? 0])
            }
            return ReleaseResult(id: entry.id, released: false, reason: again ?? entry.reason, ingest: summary)
        }
        let now = Workspace.now()
        try catalog.write { db in
            try db.execute(sql: "UPDATE quarantine SET releasedAt = ? WHERE id = ?", arguments: [now, entry.id])
        }
        return ReleaseResult(id: entry.id, released: true, reason: nil, ingest: summary)
    }
}
