import Foundation
import GRDB
@testable import StrataCatalog
import XCTest

/// Catalogs written by every older schema version open with today's `Catalog`, which migrates them to the
/// current schema with their rows intact.
///
/// Each older catalog is built through GRDB with the shipped migrations up to that version (shipped migrations
/// never change, see docs/ARCHITECTURE.md) and filled with rows by plain SQL in the shape that version had, the
/// way the `strata` of that time wrote them. Then `Catalog(path:)` opens it.
final class MigrationTests: XCTestCase {
    /// The shipped migrations in the order they run (which is not the order of their numbers: v6 and v5 were
    /// registered before v4). A migration is never renamed, removed or reordered: a catalog records the names it
    /// has applied, and an older catalog gets the missing ones in this order.
    static let shipped = [
        "v1-foundation", "v2-runs", "v3-labels", "v6-predictions", "v5-versions", "v4-taskers", "v7-server",
        "v8-pseudo", "v9-occurrence-external-id",
    ]

    /// The migrations applied to a catalog built up to `shipped[index]`.
    static func applied(upTo index: Int) -> Set<String> { Set(shipped.prefix(index + 1)) }

    func testShippedMigrationsKeepTheirNamesAndOrder() {
        XCTAssertEqual(Catalog.migrator.migrations, MigrationTests.shipped)
    }

    /// For every schema version before the current one: build it, fill it, open it with `Catalog`.
    func testEveryOlderSchemaMigratesToTheCurrentOneWithDataIntact() throws {
        let current = try TempCatalog()
        let fresh = try Catalog(path: current.path)
        let expectedSchema = try schema(of: fresh)
        for (index, version) in MigrationTests.shipped.dropLast().enumerated() {
            let t = try TempCatalog()
            try t.queue { queue in
                try Catalog.migrator.migrate(queue, upTo: version)
                try queue.write { db in try MigrationTests.seed(db, upTo: index) }
            }
            let catalog = try Catalog(path: t.path)
            XCTAssertEqual(try catalog.appliedMigrations(), MigrationTests.shipped, "from \(version)")
            XCTAssertEqual(try schema(of: catalog), expectedSchema, "from \(version): the schema differs from a new catalog's")
            XCTAssertEqual(try catalog.integrityCheck(), [], "from \(version)")
            try MigrationTests.checkSeed(catalog, upTo: index, from: version)
        }
    }

    /// A current catalog opened again is left as it is (no migration runs twice).
    func testOpeningACurrentCatalogAgainChangesNothing() throws {
        let t = try TempCatalog()
        do {
            let c = try Catalog(path: t.path)
            try c.write { db in try MigrationTests.seed(db, upTo: MigrationTests.shipped.count - 1) }
        }
        let before = try schema(of: try Catalog(path: t.path))
        let again = try Catalog(path: t.path)
        XCTAssertEqual(try schema(of: again), before)
        try MigrationTests.checkSeed(again, upTo: MigrationTests.shipped.count - 1, from: "current")
    }

    // MARK: - Rows per schema version

    /// Rows for the tables that exist after migration `shipped[index]`, written as that version did.
    static func seed(_ db: Database, upTo index: Int) throws {
        let applied = applied(upTo: index)
        try db.execute(sql: """
            INSERT INTO source (name, createdAt) VALUES ('helpdesk', '2026-01-02T03:04:05.000Z');
            INSERT INTO ingest (id, source, startedAt, finishedAt, roots, options, counts)
                VALUES ('ing-1', 'helpdesk', '2026-01-02T03:04:05.000Z', '2026-01-02T03:04:06.000Z', '["/in"]', '{}', '{"accepted":2}');
            INSERT INTO sample (id, shortId, kind, modality, format, size, source, collected, rawPath, rawLine, originPath,
                                originLine, externalId, metadata, ingestId, createdAt)
                VALUES ('aaaa1111', 'aaaa11', 'record', 'text', 'jsonl', 12, 'helpdesk', '2026-01-01', 'data/raw/x.jsonl', 1,
                        '/in/x.jsonl', 1, 't-1', '{"lang":"en"}', 'ing-1', '2026-01-02T03:04:05.000Z'),
                       ('bbbb2222', 'bbbb22', 'record', 'text', 'jsonl', 15, 'helpdesk', '2026-01-01', 'data/raw/x.jsonl', 2,
                        '/in/x.jsonl', 2, NULL, '{}', 'ing-1', '2026-01-02T03:04:05.000Z');
            INSERT INTO occurrence (sampleId, originPath, originLine, ingestId) VALUES ('aaaa1111', '/in/x.jsonl', 1, 'ing-1');
            INSERT INTO quarantine (id, kind, stage, origin, line, reason, createdAt)
                VALUES ('q-000000000001', 'malformed-row', 'ingest', '/in/x.jsonl', 3, 'line 3: not JSON', '2026-01-02T03:04:05.000Z');
            INSERT INTO finding (key, kind, stage, sampleId, origin, line, reason, createdAt)
                VALUES ('dup:1', 'duplicate', 'ingest', 'aaaa1111', '/in/x.jsonl', 4, 'exact duplicate', '2026-01-02T03:04:05.000Z');
            INSERT INTO labelEvent (sampleId, status, value, annotator, role, source, createdAt)
                VALUES ('aaaa1111', 'label', 'billing', 'ana', 'tasker', 'human', '2026-01-02T03:04:07.000Z');
            """)
        if applied.contains("v2-runs") {
            try db.execute(sql: """
                INSERT INTO run (id, startedAt, finishedAt, status, executor, pipelineHash, report)
                    VALUES ('run-1', '2026-01-03T00:00:00.000Z', '2026-01-03T00:00:01.000Z', 'done', 'local', 'abc', '{}');
                """)
        }
        if applied.contains("v4-taskers") {
            try db.execute(sql: """
                INSERT INTO tasker (name, role, tokenHash, createdAt) VALUES ('ana', 'tasker', 'hash-1', '2026-01-04T00:00:00.000Z');
                """)
        }
        if applied.contains("v5-versions") {
            try db.execute(sql: """
                INSERT INTO datasetVersion (id, name, state, message, createdAt, promotedAt, sampleCount, labelSetId)
                    VALUES ('ver-1', 'v1', 'draft', 'first', '2026-01-05T00:00:00.000Z', NULL, 1, 'labels-1');
                INSERT INTO versionMember (versionId, sampleId, contentSha, label, split)
                    VALUES ('ver-1', 'aaaa1111', 'sha-a', 'billing', 'train');
                UPDATE datasetVersion SET state = 'active', promotedAt = '2026-01-05T00:00:01.000Z' WHERE id = 'ver-1';
                """)
        }
    }

    /// The seeded rows read back through the catalog's own queries after the migration.
    static func checkSeed(_ catalog: Catalog, upTo index: Int, from version: String,
                          file: StaticString = #filePath, line: UInt = #line) throws {
        let applied = applied(upTo: index)
        XCTAssertEqual(try catalog.sampleCount(), 2, "from \(version)", file: file, line: line)
        let samples = try catalog.samples(ids: ["aaaa1111", "bbbb2222"])
        XCTAssertEqual(samples["aaaa1111"]?.externalId, "t-1", "from \(version)", file: file, line: line)
        XCTAssertEqual(samples["aaaa1111"]?.metadata, #"{"lang":"en"}"#, "from \(version)", file: file, line: line)
        XCTAssertEqual(samples["bbbb2222"]?.originLine, 2, "from \(version)", file: file, line: line)
        XCTAssertEqual(try catalog.ingests(), [IngestRecord(id: "ing-1", source: "helpdesk", roots: #"["/in"]"#, options: "{}")],
                       "from \(version)", file: file, line: line)
        XCTAssertTrue(try catalog.occurrenceExists(originPath: "/in/x.jsonl", line: 1, sampleId: "aaaa1111"), file: file, line: line)
        // v9 added occurrence.externalId: existing rows have none.
        let occurrenceIds = try catalog.read { db in try String?.fetchAll(db, sql: "SELECT externalId FROM occurrence") }
        XCTAssertEqual(occurrenceIds, [nil], "from \(version)", file: file, line: line)
        XCTAssertEqual(try catalog.quarantine().map(\.id), ["q-000000000001"], "from \(version)", file: file, line: line)
        XCTAssertEqual(try catalog.findings(kind: nil, stage: nil).map(\.row.key), ["dup:1"], "from \(version)", file: file, line: line)
        let events = try catalog.labelEvents(sampleId: "aaaa1111")
        XCTAssertEqual(events.map(\.value), ["billing"], "from \(version)", file: file, line: line)
        XCTAssertEqual(events.map(\.annotator), ["ana"], "from \(version)", file: file, line: line)
        if applied.contains("v2-runs") {
            let runs = try catalog.read { db in try String.fetchAll(db, sql: "SELECT id || ':' || status FROM run") }
            XCTAssertEqual(runs, ["run-1:done"], "from \(version)", file: file, line: line)
        }
        if applied.contains("v4-taskers") {
            // v7 added tasker.revokedAt: a tasker from before is not revoked.
            let taskers = try catalog.read { db in
                try String.fetchAll(db, sql: "SELECT name || ':' || coalesce(revokedAt, 'not revoked') FROM tasker")
            }
            XCTAssertEqual(taskers, ["ana:not revoked"], "from \(version)", file: file, line: line)
        }
        if applied.contains("v5-versions") {
            let members = try catalog.read { db in
                try String.fetchAll(db, sql: "SELECT versionId || ':' || sampleId || ':' || split FROM versionMember")
            }
            XCTAssertEqual(members, ["ver-1:aaaa1111:train"], "from \(version)", file: file, line: line)
        }
    }

    /// Every table, index and trigger with its SQL, as SQLite keeps it.
    private func schema(of catalog: Catalog) throws -> [String] {
        try catalog.read { db in
            try String.fetchAll(db, sql: """
                SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master
                WHERE name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations' ORDER BY type, name
                """)
        }
    }
}

/// A catalog file in a fresh temporary folder, removed at the end of the test.
final class TempCatalog: Sendable {
    let folder: String
    var path: String { folder + "/catalog.sqlite" }

    init() throws {
        folder = NSTemporaryDirectory() + "strata-catalog-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    /// Opens the file with a plain GRDB queue (as an older strata would have), runs the body, closes it.
    func queue(_ body: (DatabaseQueue) throws -> Void) throws {
        var config = Configuration()
        config.foreignKeysEnabled = true
        let queue = try DatabaseQueue(path: path, configuration: config)
        try body(queue)
        try queue.close()
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }
}
