import Foundation
import GRDB

/// Queries behind `strata check --deep` and `strata doctor`: every row that points at a file or an object.
extension Catalog {
    /// Content hashes of the cleaned set that live in the object store: every cleaned sample except a file sample
    /// no stage changed, whose content is its raw file (checked with the raw files).
    public func cleanedContentHashes() throws -> [(sampleId: String, contentSha: String)] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.sampleId, c.contentSha FROM cleanedSample c JOIN sample s ON s.id = c.sampleId
                WHERE NOT (s.kind = 'file' AND c.contentSha = s.id) ORDER BY c.sampleId
                """).map { ($0["sampleId"], $0["contentSha"]) }
        }
    }

    /// Quarantine rows (not released) that keep a copy of the rejected input on disk.
    public func storedQuarantinePaths() throws -> [(id: String, path: String)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT id, storedPath FROM quarantine WHERE storedPath IS NOT NULL AND releasedAt IS NULL ORDER BY id")
                .map { ($0["id"], $0["storedPath"]) }
        }
    }

    /// Runs the catalog says are still running (a crashed driver leaves one behind until the next `strata run`).
    public func unfinishedRuns() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT id FROM run WHERE status = 'running' ORDER BY startedAt") }
    }
}
