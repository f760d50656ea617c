import Foundation
import GRDB
@testable import StrataCatalog
import XCTest

/// The catalog's queries against a real SQLite file (the seed of `MigrationTests`, written through a current catalog).
final class CatalogQueryTests: XCTestCase {
    /// The folder of the test's catalog, kept until the test ends.
    private var temp: TempCatalog?

    private func seeded() throws -> Catalog {
        let t = try TempCatalog()
        temp = t
        let c = try Catalog(path: t.path)
        try c.write { db in try MigrationTests.seed(db, upTo: MigrationTests.shipped.count - 1) }
        return c
    }

    func testCountsForStatus() throws {
        let c = try seeded()
        // Given two samples, one extra occurrence, one quarantined row, one finding and one label event
        let counts = try c.counts()
        XCTAssertEqual(counts.samplesBySource, ["helpdesk": ["text": 2]])
        XCTAssertEqual(counts.quarantinedBySource, ["": 1], "an entry without a source (a row of no known source) counts under the empty name")
        XCTAssertEqual(counts.samples, 2)
        XCTAssertEqual(counts.occurrences, 3)
        XCTAssertEqual(counts.quarantined, 1)
        XCTAssertEqual(counts.findings, 1)
        XCTAssertEqual(counts.labelEvents, 1)
        XCTAssertEqual(counts.lastIngest, "2026-01-02T03:04:06.000Z")
    }

    func testResolveSampleByFullIdAndPrefix() throws {
        let c = try seeded()
        XCTAssertEqual(try c.resolveSample("aaaa1111").map(\.id), ["aaaa1111"])
        XCTAssertEqual(try c.resolveSample("bbbb").map(\.id), ["bbbb2222"])
        XCTAssertEqual(try c.resolveSample("cccc").map(\.id), [])
        XCTAssertTrue(try c.isShortIdTaken("aaaa11"))
        XCTAssertFalse(try c.isShortIdTaken("aaab"))
    }

    func testReleasedQuarantineEntriesLeaveTheOpenList() throws {
        let c = try seeded()
        XCTAssertEqual(try c.quarantineMatching("q-0000").map(\.id), ["q-000000000001"])
        XCTAssertEqual(try c.latestQuarantineReason(origin: "/in/x.jsonl", line: 3), "line 3: not JSON")
        // When the entry is released
        try c.markReleased(quarantineId: "q-000000000001", at: "2026-02-01T00:00:00.000Z")
        // Then it leaves the open list and the counts, and stays in the full list with its release time
        XCTAssertEqual(try c.quarantine().map(\.id), [])
        XCTAssertEqual(try c.quarantine(includeReleased: true).map(\.releasedAt), ["2026-02-01T00:00:00.000Z"])
        XCTAssertEqual(try c.counts().quarantined, 0)
        XCTAssertNil(try c.latestQuarantineReason(origin: "/in/x.jsonl", line: 3))
    }

    func testLabelEventsAreAppendOnly() throws {
        let c = try seeded()
        XCTAssertThrowsError(try c.write { db in try db.execute(sql: "UPDATE labelEvent SET value = 'bug-report'") }) { error in
            XCTAssertEqual((error as? DatabaseError)?.message, "label events are append-only: add a correcting event instead")
        }
        XCTAssertThrowsError(try c.write { db in try db.execute(sql: "DELETE FROM labelEvent") })
        XCTAssertEqual(try c.labelEventCount(), 1)
        XCTAssertEqual(try c.labelEvents().map(\.value), ["billing"])
    }

    func testAnActiveVersionNeverChanges() throws {
        let c = try seeded()
        XCTAssertThrowsError(try c.write { db in try db.execute(sql: "UPDATE datasetVersion SET message = 'changed'") }) { error in
            XCTAssertEqual((error as? DatabaseError)?.message,
                           "an active or retired version can never change: create a new version instead")
        }
        XCTAssertThrowsError(try c.write { db in
            try db.execute(sql: "INSERT INTO versionMember (versionId, sampleId, contentSha, split) VALUES ('ver-1', 'bbbb2222', 'sha-b', 'test')")
        })
        // Retiring is the one change allowed
        try c.write { db in try db.execute(sql: "UPDATE datasetVersion SET state = 'retired', retiredAt = '2026-03-01' WHERE id = 'ver-1'") }
        let state = try c.read { db in try String.fetchOne(db, sql: "SELECT state FROM datasetVersion WHERE id = 'ver-1'") }
        XCTAssertEqual(state, "retired")
    }

    func testAMissingFolderIsACatalogErrorNamingThePath() throws {
        let path = NSTemporaryDirectory() + "strata-no-such-folder-" + UUID().uuidString + "/catalog.sqlite"
        XCTAssertThrowsError(try Catalog(path: path)) { error in
            guard case .open(let p, _)? = error as? CatalogError else { return XCTFail("\(error)") }
            XCTAssertEqual(p, path)
        }
    }
}
