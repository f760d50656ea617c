import Foundation
import GRDB

/// A pipeline run as recorded.
public struct RunRow: Codable, Sendable, Equatable, FetchableRecord {
    public var id: String
    public var startedAt: String
    public var finishedAt: String?
    public var status: String
    public var executor: String
    public var pipelineHash: String
    public var report: String?
    public var error: String?
}

/// One stage of a run: its counts by outcome and reason.
public struct RunStageRow: Codable, Sendable, Equatable, FetchableRecord {
    public var runId: String
    public var position: Int
    public var name: String
    public var uses: String
    public var inputs: Int
    public var kept: Int
    public var rejected: Int
    public var duplicates: Int
    public var reasons: String
    public var tasks: Int
    public var cachedTasks: Int
    public var seconds: Double
    public init(runId: String, position: Int, name: String, uses: String, inputs: Int, kept: Int, rejected: Int, duplicates: Int,
                reasons: String, tasks: Int, cachedTasks: Int, seconds: Double) {
        self.runId = runId; self.position = position; self.name = name; self.uses = uses; self.inputs = inputs; self.kept = kept
        self.rejected = rejected; self.duplicates = duplicates; self.reasons = reasons; self.tasks = tasks
        self.cachedTasks = cachedTasks; self.seconds = seconds
    }
}

/// A sample of the cleaned set (the output of the latest successful run) and where its cleaned bytes are.
public struct CleanedSampleRow: Codable, Sendable, Equatable, FetchableRecord {
    public var sampleId: String
    public var contentSha: String
    public var path: String
    public var line: Int?
    public var transforms: String
    public var score: Double?
    public var runId: String
    public init(sampleId: String, contentSha: String, path: String, line: Int?, transforms: String, score: Double?, runId: String) {
        self.sampleId = sampleId; self.contentSha = contentSha; self.path = path; self.line = line; self.transforms = transforms
        self.score = score; self.runId = runId
    }
}

extension Catalog {
    /// Samples in ingest order (the order "first seen" keep policies use).
    /// The columns of a sample a pipeline run needs.
    public struct RunSample: Sendable {
        public var id: String
        public var kind: String
        public var modality: String
        public var format: String
        public var source: String
        public var collected: String
        public var rawPath: String
        public var originPath: String
        public var originLine: Int?
        public var size: Int
    }

    /// Every sample in ingest order (as `samplesInIngestOrder`), made into `T` row by row: only the run's columns
    /// are read, and repeated paths and names share one string, so a large catalog costs little memory.
    public func runSamples<T: Sendable>(_ make: @escaping @Sendable (RunSample) -> T) throws -> [T] {
        try read { db in
            var out: [T] = []
            out.reserveCapacity(try Int.fetchOne(db, sql: "SELECT count(*) FROM sample") ?? 0)
            var shared: [String: String] = [:]
            func intern(_ s: String) -> String {
                if s.utf8.count <= 15 { return s }  // small strings are stored inline anyway
                if let v = shared[s] { return v }
                shared[s] = s
                return s
            }
            let rows = try Row.fetchCursor(db, sql: """
                SELECT id, kind, modality, format, source, collected, rawPath, originPath, originLine, size FROM sample
                ORDER BY createdAt, originPath, coalesce(originLine, 0), id
                """)
            while let row = try rows.next() {
                out.append(make(RunSample(id: row[0], kind: intern(row[1]), modality: intern(row[2]), format: intern(row[3]),
                                          source: intern(row[4]), collected: intern(row[5]), rawPath: intern(row[6]),
                                          originPath: intern(row[7]), originLine: row[8], size: row[9])))
            }
            return out
        }
    }

    /// Frees SQLite's page caches (64 MiB per connection at most) and closes idle reader connections.
    public func releaseMemory() {
        pool.releaseMemory()
    }

    public func samplesInIngestOrder() throws -> [SampleRow] {
        try read { db in try SampleRow.fetchAll(db, sql: "SELECT * FROM sample ORDER BY createdAt, originPath, coalesce(originLine, 0), id") }
    }

    public func startRun(id: String, executor: String, pipelineHash: String, now: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE run SET status = 'interrupted' WHERE status = 'running'")
            try db.execute(sql: "INSERT INTO run(id, startedAt, status, executor, pipelineHash) VALUES (?, ?, 'running', ?, ?)",
                           arguments: [id, now, executor, pipelineHash])
        }
    }

    public func finishRun(id: String, status: String, report: String?, error: String?, now: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE run SET status = ?, report = ?, error = ?, finishedAt = ? WHERE id = ?",
                           arguments: [status, report, error, now, id])
        }
    }

    /// Records one stage's effect in one transaction: its findings, quarantine entries and counts.
    public func mergeStage(_ stage: RunStageRow, findings: [FindingRow], quarantine: [QuarantineRow]) throws {
        try write { db in
            try Catalog.insertFindings(findings, db)
            let st = try db.cachedStatement(sql: """
                INSERT INTO quarantine(id, kind, stage, origin, line, reason, storedPath, source, contentSha256,
                  detail, runId, createdAt, releasedAt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
                  ON CONFLICT(id) DO UPDATE SET releasedAt = NULL, runId = excluded.runId, reason = excluded.reason
                """)
            for q in quarantine {
                try st.execute(arguments: [q.id, q.kind, q.stage, q.origin, q.line, q.reason, q.storedPath, q.source,
                                           q.contentSha256, q.detail, q.runId, q.createdAt])
            }
            try db.execute(sql: """
                INSERT OR REPLACE INTO runStage(runId, position, name, uses, inputs, kept, rejected, duplicates, reasons, tasks, cachedTasks, seconds)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [stage.runId, stage.position, stage.name, stage.uses, stage.inputs, stage.kept, stage.rejected,
                                 stage.duplicates, stage.reasons, stage.tasks, stage.cachedTasks, stage.seconds])
        }
    }

    /// Marks released the open quarantine entries of `stages` that `runId` did not quarantine again: after a run,
    /// a pipeline stage's entries are what its current settings reject (entries of earlier settings are superseded).
    /// Returns how many were superseded.
    @discardableResult
    public func supersedeQuarantine(stages: [String], runId: String, at now: String) throws -> Int {
        guard !stages.isEmpty else { return 0 }
        return try write { db in
            let marks = Array(repeating: "?", count: stages.count).joined(separator: ", ")
            try db.execute(sql: """
                UPDATE quarantine SET releasedAt = ? WHERE releasedAt IS NULL AND runId != ? AND stage IN (\(marks))
                """, arguments: StatementArguments([now, runId] + stages))
            return db.changesCount
        }
    }

    /// Replaces the cleaned set with the output of a finished run (one transaction).
    public func replaceCleanedSet(_ rows: [CleanedSampleRow]) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM cleanedSample")
            let st = try db.cachedStatement(sql: """
                INSERT INTO cleanedSample(sampleId, contentSha, path, line, transforms, score, runId) VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            // In primary-key order: each row lands after the last (full pages, fewer pages written to the WAL than
            // inserting in the random order of content hashes). The table's contents do not depend on it.
            // (The run's publish step passes them sorted; other callers' rows are sorted here.)
            func insert(_ list: some Sequence<CleanedSampleRow>) throws {
                for r in list { try st.execute(arguments: [r.sampleId, r.contentSha, r.path, r.line, r.transforms, r.score, r.runId]) }
            }
            let byKey = { (a: CleanedSampleRow, b: CleanedSampleRow) in a.sampleId.utf8.lexicographicallyPrecedes(b.sampleId.utf8) }
            if zip(rows, rows.dropFirst()).allSatisfy({ !byKey($1, $0) }) { try insert(rows) } else { try insert(rows.sorted(by: byKey)) }
        }
    }

    public func cleanedSet() throws -> [CleanedSampleRow] {
        try read { db in try CleanedSampleRow.fetchAll(db, sql: "SELECT * FROM cleanedSample ORDER BY path, coalesce(line, 0)") }
    }

    public func runs() throws -> [RunRow] {
        try read { db in try RunRow.fetchAll(db, sql: "SELECT * FROM run ORDER BY startedAt DESC, id DESC") }
    }

    public func runStages(runId: String) throws -> [RunStageRow] {
        try read { db in try RunStageRow.fetchAll(db, sql: "SELECT * FROM runStage WHERE runId = ? ORDER BY position", arguments: [runId]) }
    }
}
