import Foundation
import StrataCatalog
import StrataCore
import XCTest
@testable import Strata

/// Label-issue findings belong to the model that produced them: analysing a second model (say one per source)
/// keeps the first one's, and a new analysis of a model replaces only its own.
final class LabelIssueFindingsTests: XCTestCase {
    func testEachModelKeepsItsOwnLabelIssueFindings() throws {
        let p = try TempProject(modalities: "text")
        let classes = ["account", "billing", "technical"]
        var rows = ""
        for i in 0..<300 { rows += "{\"id\": \"r\(i)\", \"text\": \"message \(i) about \(classes[i % 3])\", \"label\": \"\(classes[i % 3])\"}\n" }
        p.write("rows/rows.jsonl", rows)
        let ws = try p.open()
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/rows"], source: "helpdesk",
                                        records: RecordOptions(textField: "text", labelField: "label", idField: "id")))
        /// Confident, right predictions except for the rows in `flipped`, which the model puts in the next class.
        func predictions(_ name: String, flipped: Set<Int>) throws {
            var out = ""
            for i in 0..<300 {
                var v = [0.05, 0.05, 0.05]
                v[flipped.contains(i) ? (i + 1) % 3 : i % 3] = 0.9
                out += "{\"id\": \"r\(i)\", \"classes\": [\"account\", \"billing\", \"technical\"], \"probs\": \(v)}\n"
            }
            p.write("\(name).jsonl", out)
            _ = try ws.importPredictions(file: p.incoming + "/\(name).jsonl", model: name)
        }
        func flaggedLines(_ model: String) throws -> Set<Int> {
            Set(try ws.findings(kind: "label-issue").filter { $0.reason.contains("model `\(model)`") }.compactMap(\.line))
        }
        try predictions("a", flipped: [3, 40])
        try predictions("b", flipped: [100, 200, 250])
        XCTAssertEqual(try ws.analyzeLabelIssues(model: "a").flagged, 2)
        XCTAssertEqual(try ws.analyzeLabelIssues(model: "b").flagged, 3)
        XCTAssertEqual(try flaggedLines("a"), [4, 41], "b's analysis kept a's findings")
        XCTAssertEqual(try flaggedLines("b"), [101, 201, 251])
        try predictions("a", flipped: [7])
        XCTAssertEqual(try ws.analyzeLabelIssues(model: "a").flagged, 1)
        XCTAssertEqual(try flaggedLines("a"), [8], "a's new analysis replaced its own findings")
        XCTAssertEqual(try flaggedLines("b"), [101, 201, 251], "and only its own")
        XCTAssertEqual(try ws.findings(kind: "label-issue").count, 4)
    }
}
