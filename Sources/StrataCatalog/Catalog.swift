import Foundation
import GRDB
import StrataCore

final class ReadCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

/// The project's index in SQLite (WAL, foreign keys on, versioned migrations).
///
/// The catalog is an index, not the only copy of what the user needs: raw files, quarantine reason records and
/// spec files live on disk in plain formats. Every write that belongs together happens in one transaction.
public final class Catalog: Sendable {
    public let path: String
    let pool: DatabasePool

    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.readonly = readOnly
        config.busyMode = .timeout(30)
        config.label = "strata.catalog"
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA cache_size = -65536")
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw CatalogError.open(path: path, underlying: "\(error)")
        }
        if !readOnly {
            try Catalog.migrator.migrate(pool)
        }
    }

    /// Lets commits skip the WAL fsync (SQLite `synchronous=NORMAL`): a power loss may undo the last commits but
    /// never corrupts the catalog. Bulk ingest uses it because every batch it commits can be redone from the files
    /// it has already synced; commands that acknowledge user work (labels) keep the default FULL.
    public func relaxDurabilityForBulkWrites() throws {
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
    }

    public func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws -> T {
        readCounter.increment()
        return try pool.read(body)
    }

    /// Read transactions since the catalog was opened: lets tests pin that a bulk operation reads per batch,
    /// not per row.
    public var readCount: Int { readCounter.value }
    private let readCounter = ReadCounter()

    public func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws -> T {
        try pool.write(body)
    }

    /// Applied migration identifiers, oldest first.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try Catalog.migrator.appliedMigrations(db) }
    }

    public func integrityCheck() throws -> [String] {
        try pool.read { db in
            try String.fetchAll(db, sql: "PRAGMA integrity_check") + (try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").map { "\($0)" })
        }.filter { $0 != "ok" }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-foundation") { db in
            try db.execute(sql: """
                CREATE TABLE source (
                    name TEXT PRIMARY KEY NOT NULL,
                    createdAt TEXT NOT NULL
                );
                CREATE TABLE ingest (
                    id TEXT PRIMARY KEY NOT NULL,
                    source TEXT NOT NULL REFERENCES source(name),
                    startedAt TEXT NOT NULL,
                    finishedAt TEXT,
                    roots TEXT NOT NULL,
                    options TEXT NOT NULL,
                    counts TEXT
                );
                CREATE TABLE sample (
                    id TEXT PRIMARY KEY NOT NULL,
                    shortId TEXT NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('file', 'record')),
                    modality TEXT NOT NULL,
                    format TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    source TEXT NOT NULL REFERENCES source(name),
                    collected TEXT NOT NULL,
                    rawPath TEXT NOT NULL,
                    rawLine INTEGER,
                    originPath TEXT NOT NULL,
                    originLine INTEGER,
                    externalId TEXT,
                    metadata TEXT NOT NULL DEFAULT '{}',
                    ingestId TEXT NOT NULL REFERENCES ingest(id),
                    createdAt TEXT NOT NULL,
                    rawMtimeNanos INTEGER,
                    rawInode INTEGER
                );
                CREATE TABLE occurrence (
                    sampleId TEXT NOT NULL REFERENCES sample(id),
                    originPath TEXT NOT NULL,
                    originLine INTEGER NOT NULL DEFAULT 0,
                    ingestId TEXT NOT NULL REFERENCES ingest(id),
                    PRIMARY KEY (originPath, originLine, sampleId)
                ) WITHOUT ROWID;
                CREATE INDEX occurrence_sample ON occurrence(sampleId);
                CREATE TABLE rawFile (
                    path TEXT PRIMARY KEY NOT NULL,
                    sha256 TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    mtimeNanos INTEGER NOT NULL,
                    inode INTEGER NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('sample', 'records')),
                    source TEXT NOT NULL REFERENCES source(name)
                ) WITHOUT ROWID;
                CREATE TABLE statCache (
                    path TEXT PRIMARY KEY NOT NULL,
                    size INTEGER NOT NULL,
                    mtimeNanos INTEGER NOT NULL,
                    inode INTEGER NOT NULL,
                    sha256 TEXT NOT NULL,
                    outcome TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE finding (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    key TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL,
                    stage TEXT NOT NULL,
                    sampleId TEXT,
                    origin TEXT,
                    line INTEGER,
                    relatedSampleId TEXT,
                    relatedOrigin TEXT,
                    relatedLine INTEGER,
                    reason TEXT NOT NULL,
                    detail TEXT NOT NULL DEFAULT '{}',
                    runId TEXT,
                    createdAt TEXT NOT NULL
                );
                CREATE INDEX finding_kind ON finding(kind, stage);
                CREATE TABLE quarantine (
                    id TEXT PRIMARY KEY NOT NULL,
                    kind TEXT NOT NULL,
                    stage TEXT NOT NULL,
                    origin TEXT NOT NULL,
                    line INTEGER,
                    reason TEXT NOT NULL,
                    storedPath TEXT,
                    source TEXT,
                    contentSha256 TEXT,
                    detail TEXT NOT NULL DEFAULT '{}',
                    runId TEXT,
                    createdAt TEXT NOT NULL,
                    releasedAt TEXT
                );
                CREATE INDEX quarantine_kind ON quarantine(kind);
                CREATE TABLE labelEvent (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    sampleId TEXT NOT NULL REFERENCES sample(id),
                    status TEXT NOT NULL CHECK (status IN ('label', 'skip', 'unclear')),
                    value TEXT,
                    reason TEXT,
                    annotator TEXT NOT NULL,
                    role TEXT NOT NULL,
                    source TEXT NOT NULL CHECK (source IN ('human', 'import', 'model', 'pseudo')),
                    confidence REAL,
                    rulebookVersion TEXT,
                    answers TEXT,
                    importKey TEXT UNIQUE,
                    createdAt TEXT NOT NULL
                );
                CREATE INDEX labelEvent_sample ON labelEvent(sampleId);
                CREATE TRIGGER labelEvent_append_only_update BEFORE UPDATE ON labelEvent
                BEGIN SELECT RAISE(ABORT, 'label events are append-only: add a correcting event instead'); END;
                CREATE TRIGGER labelEvent_append_only_delete BEFORE DELETE ON labelEvent
                BEGIN SELECT RAISE(ABORT, 'label events are append-only: add a correcting event instead'); END;
                CREATE TABLE projectState (
                    key TEXT PRIMARY KEY NOT NULL,
                    value TEXT NOT NULL
                );
                """)
        }
        m.registerMigration("v2-runs") { db in
            try db.execute(sql: """
                CREATE TABLE run (
                    id TEXT PRIMARY KEY NOT NULL,
                    startedAt TEXT NOT NULL,
                    finishedAt TEXT,
                    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'interrupted')),
                    executor TEXT NOT NULL,
                    pipelineHash TEXT NOT NULL,
                    report TEXT,
                    error TEXT
                );
                CREATE TABLE runStage (
                    runId TEXT NOT NULL REFERENCES run(id),
                    position INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    uses TEXT NOT NULL,
                    inputs INTEGER NOT NULL,
                    kept INTEGER NOT NULL,
                    rejected INTEGER NOT NULL,
                    duplicates INTEGER NOT NULL,
                    reasons TEXT NOT NULL,
                    tasks INTEGER NOT NULL,
                    cachedTasks INTEGER NOT NULL,
                    seconds REAL NOT NULL,
                    PRIMARY KEY (runId, name)
                ) WITHOUT ROWID;
                CREATE TABLE cleanedSample (
                    sampleId TEXT PRIMARY KEY NOT NULL REFERENCES sample(id),
                    contentSha TEXT NOT NULL,
                    path TEXT NOT NULL,
                    line INTEGER,
                    transforms TEXT NOT NULL,
                    score REAL,
                    runId TEXT NOT NULL REFERENCES run(id)
                ) WITHOUT ROWID;
                """)
        }
        registerLabels(&m)
        registerPredictions(&m)
        registerVersions(&m)
        registerTaskers(&m)
        registerServer(&m)
        registerPseudo(&m)
        registerOccurrenceExternalId(&m)
        return m
    }
}

public enum CatalogError: Error, CustomStringConvertible, Sendable {
    case open(path: String, underlying: String)

    public var description: String {
        switch self {
        case .open(let path, let underlying):
            "cannot open the catalog \(path): \(underlying). Check that the file exists and is readable, and that no other program holds it open for writing; restore .strata/ from a backup if it is damaged."
        }
    }
}
