import Foundation
import GRDB
import StrataCore

/// A dataset version: an immutable manifest (stored in the object store, named by its hash) and its index rows.
public struct VersionRow: Codable, Sendable, Equatable, FetchableRecord {
    /// The SHA-256 of the manifest's canonical JSON (also the manifest's object name).
    public var id: String
    public var name: String
    /// Stored as its text (`draft`, `active` or `retired`), the column's spelling since the first schema.
    public var state: VersionState
    public var parentId: String?
    public var message: String
    public var createdAt: String
    public var promotedAt: String?
    public var retiredAt: String?
    public var sampleCount: Int
    public var labelSetId: String
    /// Counts per split, label and slice, leakage and label notes (JSON), for `show`, `diff` and the card.
    public var summary: String

    public init(id: String, name: String, state: VersionState, parentId: String?, message: String, createdAt: String,
                promotedAt: String? = nil, retiredAt: String? = nil, sampleCount: Int, labelSetId: String, summary: String) {
        self.id = id; self.name = name; self.state = state; self.parentId = parentId; self.message = message
        self.createdAt = createdAt; self.promotedAt = promotedAt; self.retiredAt = retiredAt
        self.sampleCount = sampleCount; self.labelSetId = labelSetId; self.summary = summary
    }
}

/// A version's state reads from and binds to the catalog as its text.
extension VersionState: DatabaseValueConvertible {}

/// One sample of a version: the raw sample, the exact bytes exported (cleaned or raw), its label and split.
public struct VersionMemberRow: Codable, Sendable, Equatable, FetchableRecord {
    public var versionId: String
    public var sampleId: String
    public var contentSha: String
    public var label: String?
    public var split: String
    /// The transform chain from the raw sample to `contentSha` (JSON array; empty for raw content).
    public var transforms: String

    public init(versionId: String, sampleId: String, contentSha: String, label: String?, split: String, transforms: String) {
        self.versionId = versionId; self.sampleId = sampleId; self.contentSha = contentSha; self.label = label
        self.split = split; self.transforms = transforms
    }
}

/// A trained model registered against a version: what data trained it.
public struct ModelRow: Codable, Sendable, Equatable, FetchableRecord {
    public var name: String
    public var versionId: String
    /// Metrics as JSON (the file given to `models register --metrics`), if any.
    public var metrics: String?
    public var metricsObject: String?
    public var predictionsObject: String?
    public var codeRev: String?
    public var createdAt: String

    public init(name: String, versionId: String, metrics: String?, metricsObject: String?, predictionsObject: String?,
                codeRev: String?, createdAt: String) {
        self.name = name; self.versionId = versionId; self.metrics = metrics; self.metricsObject = metricsObject
        self.predictionsObject = predictionsObject; self.codeRev = codeRev; self.createdAt = createdAt
    }
}

public enum VersionCatalogError: Error, CustomStringConvertible, Sendable {
    case frozen(String)
    public var description: String {
        switch self { case .frozen(let m): m }
    }
}

extension Catalog {
    /// Migration `v5-versions`: versions, their members, models, and the objects versioning stored.
    static func registerVersions(_ m: inout DatabaseMigrator) {
        m.registerMigration("v5-versions") { db in
            try db.execute(sql: """
                CREATE TABLE datasetVersion (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL UNIQUE,
                    state TEXT NOT NULL CHECK (state IN ('draft', 'active', 'retired')),
                    parentId TEXT REFERENCES datasetVersion(id),
                    message TEXT NOT NULL DEFAULT '',
                    createdAt TEXT NOT NULL,
                    promotedAt TEXT,
                    retiredAt TEXT,
                    sampleCount INTEGER NOT NULL,
                    labelSetId TEXT NOT NULL,
                    summary TEXT NOT NULL DEFAULT '{}'
                );
                CREATE TABLE versionMember (
                    versionId TEXT NOT NULL REFERENCES datasetVersion(id),
                    sampleId TEXT NOT NULL REFERENCES sample(id),
                    contentSha TEXT NOT NULL,
                    label TEXT,
                    split TEXT NOT NULL,
                    transforms TEXT NOT NULL DEFAULT '[]',
                    PRIMARY KEY (versionId, sampleId)
                ) WITHOUT ROWID;
                CREATE INDEX versionMember_sample ON versionMember(sampleId);
                CREATE TABLE model (
                    name TEXT PRIMARY KEY NOT NULL,
                    versionId TEXT NOT NULL REFERENCES datasetVersion(id),
                    metrics TEXT,
                    metricsObject TEXT,
                    predictionsObject TEXT,
                    codeRev TEXT,
                    createdAt TEXT NOT NULL
                );
                CREATE INDEX model_version ON model(versionId);
                CREATE TABLE versionObject (
                    digest TEXT PRIMARY KEY NOT NULL,
                    kind TEXT NOT NULL,
                    createdAt TEXT NOT NULL
                ) WITHOUT ROWID;

                -- An active or retired version never changes: the only change allowed is active -> retired.
                CREATE TRIGGER datasetVersion_frozen_update BEFORE UPDATE ON datasetVersion
                WHEN OLD.state <> 'draft' AND (
                    OLD.state = 'retired' OR NEW.state <> 'retired'
                    OR NEW.id IS NOT OLD.id OR NEW.name IS NOT OLD.name OR NEW.parentId IS NOT OLD.parentId
                    OR NEW.message IS NOT OLD.message OR NEW.createdAt IS NOT OLD.createdAt
                    OR NEW.promotedAt IS NOT OLD.promotedAt OR NEW.sampleCount IS NOT OLD.sampleCount
                    OR NEW.labelSetId IS NOT OLD.labelSetId OR NEW.summary IS NOT OLD.summary)
                BEGIN SELECT RAISE(ABORT, 'an active or retired version can never change: create a new version instead'); END;
                CREATE TRIGGER datasetVersion_frozen_delete BEFORE DELETE ON datasetVersion
                WHEN OLD.state <> 'draft'
                BEGIN SELECT RAISE(ABORT, 'an active or retired version can never be deleted'); END;
                CREATE TRIGGER versionMember_frozen_insert BEFORE INSERT ON versionMember
                WHEN (SELECT state FROM datasetVersion WHERE id = NEW.versionId) <> 'draft'
                BEGIN SELECT RAISE(ABORT, 'an active or retired version can never change: create a new version instead'); END;
                CREATE TRIGGER versionMember_frozen_update BEFORE UPDATE ON versionMember
                WHEN (SELECT state FROM datasetVersion WHERE id = OLD.versionId) <> 'draft'
                  OR (SELECT state FROM datasetVersion WHERE id = NEW.versionId) <> 'draft'
                BEGIN SELECT RAISE(ABORT, 'an active or retired version can never change: create a new version instead'); END;
                CREATE TRIGGER versionMember_frozen_delete BEFORE DELETE ON versionMember
                WHEN (SELECT state FROM datasetVersion WHERE id = OLD.versionId) <> 'draft'
                BEGIN SELECT RAISE(ABORT, 'an active or retired version can never change: create a new version instead'); END;
                -- A model record is lineage: never rewritten.
                CREATE TRIGGER model_append_only_update BEFORE UPDATE ON model
                BEGIN SELECT RAISE(ABORT, 'model records never change: register the model under a new name'); END;
                CREATE TRIGGER model_append_only_delete BEFORE DELETE ON model
                BEGIN SELECT RAISE(ABORT, 'model records never change: register the model under a new name'); END;
                """)
        }
    }

    /// Adds a draft version with its members (replacing the draft `replacing`, if given), in one transaction.
    public func insertVersion(_ version: VersionRow, members: [VersionMemberRow], objects: [(digest: String, kind: String)],
                              replacing: String?) throws {
        try write { db in
            if let old = replacing {
                try db.execute(sql: "DELETE FROM versionMember WHERE versionId = ?", arguments: [old])
                try db.execute(sql: "DELETE FROM datasetVersion WHERE id = ? AND state = 'draft'", arguments: [old])
            }
            try db.execute(sql: """
                INSERT INTO datasetVersion(id, name, state, parentId, message, createdAt, promotedAt, retiredAt, sampleCount, labelSetId, summary)
                VALUES (?, ?, 'draft', ?, ?, ?, NULL, NULL, ?, ?, ?)
                """, arguments: [version.id, version.name, version.parentId, version.message, version.createdAt,
                                 version.sampleCount, version.labelSetId, version.summary])
            let st = try db.makeStatement(sql: """
                INSERT INTO versionMember(versionId, sampleId, contentSha, label, split, transforms) VALUES (?, ?, ?, ?, ?, ?)
                """)
            for m in members {
                try st.execute(arguments: [m.versionId, m.sampleId, m.contentSha, m.label, m.split, m.transforms])
            }
            let ob = try db.makeStatement(sql: "INSERT OR IGNORE INTO versionObject(digest, kind, createdAt) VALUES (?, ?, ?)")
            for o in objects { try ob.execute(arguments: [o.digest, o.kind, version.createdAt]) }
        }
    }

    public func versions() throws -> [VersionRow] {
        try read { db in try VersionRow.fetchAll(db, sql: "SELECT * FROM datasetVersion ORDER BY createdAt, name") }
    }

    /// Versions whose name equals `ref` or whose id starts with it (at most two, to detect ambiguity).
    public func versionsMatching(_ ref: String) throws -> [VersionRow] {
        try read { db in
            if let v = try VersionRow.fetchOne(db, sql: "SELECT * FROM datasetVersion WHERE name = ?", arguments: [ref]) { return [v] }
            guard ref.count >= 4 else { return [] }
            return try VersionRow.fetchAll(db, sql: "SELECT * FROM datasetVersion WHERE id LIKE ? LIMIT 2", arguments: [ref + "%"])
        }
    }

    public func versionMembers(_ versionId: String) throws -> [VersionMemberRow] {
        try read { db in
            try VersionMemberRow.fetchAll(db, sql: "SELECT * FROM versionMember WHERE versionId = ? ORDER BY sampleId", arguments: [versionId])
        }
    }

    /// Draft -> active or active -> retired (the triggers refuse anything else on a frozen version).
    public func setVersionState(_ id: String, to state: VersionState, at now: String) throws {
        try write { db in
            let column = state == .active ? "promotedAt" : "retiredAt"
            try db.execute(sql: "UPDATE datasetVersion SET state = ?, \(column) = ? WHERE id = ?", arguments: [state.rawValue, now, id])
        }
    }

    public func insertModel(_ model: ModelRow, objects: [(digest: String, kind: String)]) throws {
        try write { db in
            try db.execute(sql: """
                INSERT INTO model(name, versionId, metrics, metricsObject, predictionsObject, codeRev, createdAt) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [model.name, model.versionId, model.metrics, model.metricsObject, model.predictionsObject,
                                 model.codeRev, model.createdAt])
            let ob = try db.makeStatement(sql: "INSERT OR IGNORE INTO versionObject(digest, kind, createdAt) VALUES (?, ?, ?)")
            for o in objects { try ob.execute(arguments: [o.digest, o.kind, model.createdAt]) }
        }
    }

    public func models(versionId: String? = nil) throws -> [ModelRow] {
        try read { db in
            try ModelRow.fetchAll(db, sql: "SELECT * FROM model WHERE ?1 IS NULL OR versionId = ?1 ORDER BY createdAt, name", arguments: [versionId])
        }
    }

    public func model(named name: String) throws -> ModelRow? {
        try read { db in try ModelRow.fetchOne(db, sql: "SELECT * FROM model WHERE name = ?", arguments: [name]) }
    }

    /// The versions a sample is in, with its label and split in each.
    public func versionsContaining(sampleId: String) throws -> [(version: VersionRow, member: VersionMemberRow)] {
        try read { db in
            let members = try VersionMemberRow.fetchAll(db, sql: "SELECT * FROM versionMember WHERE sampleId = ?", arguments: [sampleId])
            return try members.compactMap { m in
                try VersionRow.fetchOne(db, sql: "SELECT * FROM datasetVersion WHERE id = ?", arguments: [m.versionId]).map { ($0, m) }
            }.sorted { $0.version.createdAt < $1.version.createdAt }
        }
    }

    /// Objects that versioning stored (manifests, content snapshots, specs, model files) and are still referenced.
    public func versionObjects() throws -> (owned: [String: String], referenced: Set<String>) {
        try read { db in
            var owned: [String: String] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT digest, kind FROM versionObject") { owned[r["digest"]] = r["kind"] }
            var referenced = Set(try String.fetchAll(db, sql: "SELECT id FROM datasetVersion"))
            referenced.formUnion(try String.fetchAll(db, sql: "SELECT DISTINCT contentSha FROM versionMember"))
            referenced.formUnion(try String.fetchAll(db, sql: "SELECT metricsObject FROM model WHERE metricsObject IS NOT NULL"))
            referenced.formUnion(try String.fetchAll(db, sql: "SELECT predictionsObject FROM model WHERE predictionsObject IS NOT NULL"))
            // Spec snapshots are referenced from the summary of each version.
            for s in try String.fetchAll(db, sql: "SELECT summary FROM datasetVersion") {
                if let data = s.data(using: .utf8), let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                   let specs = o["specs"] as? [String: String] {
                    referenced.formUnion(specs.values)
                }
            }
            return (owned, referenced)
        }
    }

    /// Forgets objects that `version gc` removed.
    public func forgetVersionObjects(_ digests: [String]) throws {
        try write { db in
            let st = try db.makeStatement(sql: "DELETE FROM versionObject WHERE digest = ?")
            for d in digests { try st.execute(arguments: [d]) }
        }
    }

    /// Drops a draft version and its members (used when a draft is replaced by `version create` under its name).
    public func dropDraft(_ id: String) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM versionMember WHERE versionId = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM datasetVersion WHERE id = ? AND state = 'draft'", arguments: [id])
        }
    }

    /// Samples whose id or short id starts with `ref` (at most two).
    public func samplesMatching(_ ref: String) throws -> [SampleRow] {
        try read { db in
            if let s = try SampleRow.fetchOne(db, sql: "SELECT * FROM sample WHERE id = ? OR shortId = ?", arguments: [ref, ref]) { return [s] }
            guard ref.count >= 4 else { return [] }
            return try SampleRow.fetchAll(db, sql: "SELECT * FROM sample WHERE id >= ? AND id < ? LIMIT 2", arguments: [ref, ref + "g"])
        }
    }

    /// Duplicate and near-duplicate findings between two samples (for the leakage check).
    public func duplicatePairs() throws -> [(a: String, b: String, kind: String)] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT sampleId, relatedSampleId, kind FROM finding
                WHERE sampleId IS NOT NULL AND relatedSampleId IS NOT NULL AND kind IN ('duplicate', 'near-duplicate', 'duplicate-row')
                """).map { (a: $0["sampleId"], b: $0["relatedSampleId"], kind: $0["kind"]) }
        }
    }

    /// Findings about these samples (for `version diff`), as (sampleId, kind).
    public func findingKinds(sampleIds: Set<String>) throws -> [(sampleId: String, kind: String)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT DISTINCT sampleId, kind FROM finding WHERE sampleId IS NOT NULL").compactMap { r in
                let id: String = r["sampleId"]
                return sampleIds.contains(id) ? (id, r["kind"]) : nil
            }
        }
    }

    /// Adds findings (ignoring ones already recorded), in one transaction.
    public func addFindings(_ rows: [FindingRow]) throws {
        try write { db in
            let st = try db.makeStatement(sql: """
                INSERT OR IGNORE INTO finding(key, kind, stage, sampleId, origin, line, relatedSampleId, relatedOrigin, relatedLine, reason, detail, runId, createdAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for f in rows {
                try st.execute(arguments: [f.key, f.kind, f.stage, f.sampleId, f.origin, f.line, f.relatedSampleId, f.relatedOrigin,
                                           f.relatedLine, f.reason, f.detail, f.runId, f.createdAt])
            }
        }
    }

    /// The latest finished run's id (the one whose cleaned set is current).
    public func cleanedRunIds() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT DISTINCT runId FROM cleanedSample ORDER BY runId") }
    }
}
