import Foundation
import StrataCatalog
import XCTest
@testable import Strata

/// `strata label review --from-findings`: label-issue findings go to the front of the labeling queue, in the order
/// the analysis ranked them, and no label changes.
final class LabelReviewTests: XCTestCase {
    func testLabelIssuesGoToTheFrontOfTheQueueInRankOrder() throws {
        // 300 messages; the model is right and sure on all but 10, whose labels were flipped.
        let project = try TempProject(modalities: "text")
        let classes = PseudoWorld.classes
        var rows = "", preds = ""
        for i in 0..<300 {
            let t = i % 3, given = i % 30 == 7 ? (t + 1) % 3 : t
            rows += "{\"id\": \"m\(i)\", \"text\": \"message \(i)\", \"label\": \"\(classes[given])\"}\n"
            let p = 0.9 + Double(i % 7) / 100
            let v = (0..<3).map { $0 == t ? p : (1 - p) / 2 }
            preds += "{\"id\": \"m\(i)\", \"probs\": [\(v.map { String($0) }.joined(separator: ", "))], \"classes\": [\"account\", \"billing\", \"technical\"]}\n"
        }
        project.write("in/rows.jsonl", rows)
        project.write("preds.jsonl", preds)
        let ws = try project.open()
        _ = try ws.ingest(IngestOptions(paths: [project.incoming + "/in"], source: "helpdesk",
                                        records: RecordOptions(textField: "text", labelField: "label", idField: "id")))
        _ = try ws.importPredictions(file: project.incoming + "/preds.jsonl", model: "m1")
        // No findings yet: a clear error, nothing queued.
        XCTAssertThrowsError(try ws.queueFindingsForReview()) { e in
            XCTAssertTrue("\(e)".contains("run `strata analyze label-issues` first"), "\(e)")
        }
        let report = try ws.analyzeLabelIssues(model: "m1")
        XCTAssertTrue(report.trust.trustworthy, "\(report.trust.shortfalls)")
        XCTAssertFalse(report.issues.isEmpty)
        XCTAssertTrue(report.issues.allSatisfy { $0.given == "technical" && $0.suggested == "billing" }, "\(report.issues)")
        let eventsBefore = try ws.catalog.labelEventCount()
        let r = try ws.queueFindingsForReview()
        XCTAssertEqual(r.findings, report.issues.count)
        XCTAssertEqual(r.queued, report.issues.map(\.sample))
        XCTAssertEqual(r.full, [])
        XCTAssertEqual(try ws.catalog.labelEventCount(), eventsBefore)
        // The queue hands them out first, most likely errors first (the shortest ids of the queue order are mapped
        // back through the findings).
        let order = try ws.catalog.queueOrder(limit: r.queued.count)
        let findings = try ws.catalog.findings(kind: "label-issue", stage: "analyze.label-issues")
        let shortOf = Dictionary(findings.compactMap { f in f.row.sampleId.map { ($0, f.sample ?? $0) } }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(order.map { shortOf[$0] ?? "not a finding: \($0)" }, r.queued)
        // A refresh of the queue (the server starting) keeps them in front.
        try ws.catalog.refreshQueue(annotatorsPerSample: 1)
        XCTAssertEqual(try ws.catalog.queueOrder(limit: r.queued.count), order)
    }
}
