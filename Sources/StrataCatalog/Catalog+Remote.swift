import Foundation
import GRDB

extension Catalog {
    /// Adds what a pull brought from a remote, in one transaction: the sources and ingests its samples name,
    /// the samples (ones already here are kept as they are), and the version with its members in its state.
    /// A parent the project does not have is left out (`parentId` null). Returns false when the version was
    /// already here.
    @discardableResult
    public func importRemoteVersion(_ version: VersionRow, members: [VersionMemberRow], samples: [SampleRow], now: String) throws -> Bool {
        try write { db in
            let src = try db.makeStatement(sql: "INSERT OR IGNORE INTO source(name, createdAt) VALUES (?, ?)")
            let ing = try db.makeStatement(sql: """
                INSERT OR IGNORE INTO ingest(id, source, startedAt, finishedAt, roots, options, counts) VALUES (?, ?, ?, ?, '[]', '{"remote":true}', NULL)
                """)
            let st = try db.makeStatement(sql: """
                INSERT OR IGNORE INTO sample(id, shortId, kind, modality, format, size, source, collected, rawPath, rawLine,
                  originPath, originLine, externalId, metadata, ingestId, createdAt, rawMtimeNanos, rawInode)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for s in samples {
                try src.execute(arguments: [s.source, now])
                try ing.execute(arguments: [s.ingestId, s.source, now, now])
                try st.execute(arguments: [s.id, s.shortId, s.kind, s.modality, s.format, s.size, s.source, s.collected,
                                           s.rawPath, s.rawLine, s.originPath, s.originLine, s.externalId, s.metadata,
                                           s.ingestId, s.createdAt, s.rawMtimeNanos, s.rawInode])
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM datasetVersion WHERE id = ?", arguments: [version.id]) == true { return false }
            let parentKnown = try version.parentId.map { try Bool.fetchOne(db, sql: "SELECT 1 FROM datasetVersion WHERE id = ?", arguments: [$0]) == true } ?? false
            try db.execute(sql: """
                INSERT INTO datasetVersion(id, name, state, parentId, message, createdAt, promotedAt, retiredAt, sampleCount, labelSetId, summary)
                VALUES (?, ?, 'draft', ?, ?, ?, NULL, NULL, ?, ?, ?)
                """, arguments: [version.id, version.name, parentKnown ? version.parentId : nil, version.message, version.createdAt,
                                 version.sampleCount, version.labelSetId, version.summary])
            let ms = try db.makeStatement(sql: "INSERT INTO versionMember(versionId, sampleId, contentSha, label, split, transforms) VALUES (?, ?, ?, ?, ?, ?)")
            for m in members { try ms.execute(arguments: [version.id, m.sampleId, m.contentSha, m.label, m.split, m.transforms]) }
            let ob = try db.makeStatement(sql: "INSERT OR IGNORE INTO versionObject(digest, kind, createdAt) VALUES (?, ?, ?)")
            try ob.execute(arguments: [version.id, "manifest", now])
            if version.state != .draft {
                try db.execute(sql: "UPDATE datasetVersion SET state = 'active', promotedAt = ? WHERE id = ?", arguments: [version.promotedAt ?? now, version.id])
            }
            if version.state == .retired {
                try db.execute(sql: "UPDATE datasetVersion SET state = 'retired', retiredAt = ? WHERE id = ?", arguments: [version.retiredAt ?? now, version.id])
            }
            return true
        }
    }

    /// Ids of the samples that exist among `ids`.
    public func existingSampleIds(_ ids: Set<String>) throws -> Set<String> {
        try read { db in Set(try String.fetchAll(db, sql: "SELECT id FROM sample").filter { ids.contains($0) }) }
    }

    /// Appends label events from a remote (ones whose import key is already here are skipped).
    public func appendRemoteLabelEvents(_ rows: [LabelEventRow]) throws {
        if rows.isEmpty { return }
        try write { db in try Catalog.insertLabels(rows, db) }
    }
}
