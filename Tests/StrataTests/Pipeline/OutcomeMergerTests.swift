import StrataCatalog
import StrataCore
import StrataEngine
import XCTest
@testable import Strata

/// The merge turns outcomes into catalog rows without a disk or a catalog.
final class OutcomeMergerTests: XCTestCase {
    static func item(_ n: Int, raw: Bool = true, line: Int? = nil) -> WorkItem {
        let sha = String(repeating: String(n % 10), count: 64)
        return WorkItem(id: sha, sample: "s\(n)", source: "web", modality: Modality.text.rawValue, format: "txt",
                        content: raw ? .raw(path: "data/raw/web/f\(n).txt") : .object(sha256: sha),
                        origin: "in/f\(n).txt", line: line, collected: "2026-01-01", size: 10)
    }

    func testRejectsBecomeQuarantineEntriesAndDuplicatesFindings() {
        let a = Self.item(1), b = Self.item(2), c = Self.item(3, raw: false, line: 7)
        let outcomes: [ItemOutcome] = [
            .keep(a),
            .duplicate(b, of: a, kind: FindingKind.duplicate.rawValue, reason: "same bytes as in/f1.txt"),
            .reject(c, kind: "too-short", reason: "3 words (minimum 5)"),
        ]
        var counts = StageCounts()
        for o in outcomes { counts.add(o) }
        let report = StageReport(name: "quality", uses: "filter.quality", counts: counts, tasks: 2, cachedTasks: 1, seconds: 0.5, digest: "d")
        let m = OutcomeMerger.merge(runId: "run-1", position: 2, report: report, outcomes: outcomes, now: "2026-12-08T00:00:00.000Z")

        XCTAssertEqual(m.findings.count, 1)
        let f = m.findings[0]
        XCTAssertEqual([f.kind, f.stage, f.sampleId, f.relatedSampleId, f.origin, f.relatedOrigin, f.reason, f.runId],
                       ["duplicate", "quality", "s2", "s1", "in/f2.txt", "in/f1.txt", "same bytes as in/f1.txt", "run-1"])
        XCTAssertEqual(f.key, Workspace.shortHash("duplicate", "quality", "s2", "s1"))

        XCTAssertEqual(m.quarantine.count, 1)
        let q = m.quarantine[0]
        XCTAssertEqual(q.id, "q-" + String(Workspace.shortHash("quality", "s3", c.id, "too-short").prefix(12)), "the id rule of stage entries")
        XCTAssertEqual(q.stored, ".strata/objects/33/" + String(c.id.dropFirst(2)), "an object's rejected content stays in the store")
        XCTAssertEqual(q.row, QuarantineRow(id: q.id, kind: "too-short", stage: "quality", origin: "in/f3.txt", line: 7,
                                            reason: "3 words (minimum 5)", storedPath: q.stored, source: "web", contentSha256: c.id,
                                            detail: "{}", runId: "run-1", createdAt: "2026-12-08T00:00:00.000Z"))

        XCTAssertEqual(m.stage, RunStageRow(runId: "run-1", position: 2, name: "quality", uses: "filter.quality", inputs: 3, kept: 1,
                                            rejected: 1, duplicates: 1, reasons: Workspace.json(counts.reasons), tasks: 2, cachedTasks: 1, seconds: 0.5))
    }

    func testARawRejectPointsAtItsRawFileAndTheSameRejectKeepsItsId() {
        let x = Self.item(4)
        let report = StageReport(name: "q", uses: "filter.quality", counts: StageCounts(), tasks: 1, cachedTasks: 0, seconds: 0, digest: "")
        let first = OutcomeMerger.merge(runId: "run-1", position: 0, report: report, outcomes: [.reject(x, kind: "empty", reason: "r")], now: "t1")
        let again = OutcomeMerger.merge(runId: "run-2", position: 0, report: report, outcomes: [.reject(x, kind: "empty", reason: "r")], now: "t2")
        XCTAssertEqual(first.quarantine[0].stored, "data/raw/web/f4.txt")
        XCTAssertEqual(first.quarantine[0].id, again.quarantine[0].id)
        XCTAssertEqual(first.findings, [])
        XCTAssertEqual(OutcomeMerger.merge(runId: "r", position: 0, report: report, outcomes: [.keep(x)], now: "t").quarantine, [])
    }
}
