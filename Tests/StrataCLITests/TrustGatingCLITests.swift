import Foundation
import XCTest

/// `analyze label-issues` and `analyze errors` with a model too weak to judge labels.
final class TrustGatingCLITests: XCTestCase {
    /// 302 quotes in three topics. The model is sure (0.95) and right on 60 of them and sure but against the label on
    /// 2 (the credible disagreements); on the other 240 it guesses with 0.4-0.5, right one time in three. Accuracy
    /// about 46% against a 33% baseline: too weak. Only the 2 high-confidence disagreements are flagged.
    func testWeakModelSaysTooWeakAndFlagsOnlyHighConfidenceDisagreements() throws {
        let dir = TempDir()
        let project = try weakModelQuoteProject(dir)
        var r: CLI.Result

        r = try CLI.run(["analyze", "label-issues", "--limit", "0"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.prefix(5).joined(separator: "\n"), """
            model `weak`: model accuracy 46.7% out of fold on 302 labeled samples (95% CI 41.1%-52.3%; majority baseline 33.4%, skill 0.12), calibration error 0.09
            model too weak to judge labels:
              - accuracy 46.7% (95% CI from 41.1%) against a majority baseline of 33.4%: skill 0.12 is below 0.50
            flagged only its 2 high-confidence disagreements (other class at >= 90%, where the model is right 96.8% of the time on 62 samples)
            133 more flags withheld: the model is too weak
            """)
        XCTAssertEqual(lines.count, 8, r.stdout)
        guard lines.count == 8 else { return }
        XCTAssertTrue(lines[5].contains("labeled art, likely love (0.03 vs 0.95, right 97% at this confidence)") && lines[5].hasSuffix("quotes.jsonl:61"), lines[5])
        XCTAssertTrue(lines[6].contains("labeled love, likely war (0.03 vs 0.95, right 97% at this confidence)") && lines[6].hasSuffix("quotes.jsonl:62"), lines[6])
        XCTAssertEqual(lines[7], "")
        let findings = try XCTUnwrap(try CLI.json(["findings", "--kind", "label-issue"], cwd: project) as? [[String: Any]])
        XCTAssertEqual(findings.compactMap { $0["line"] as? Int }.sorted(), [61, 62])
        // The credible flags go to people, not to a silent drop.
        r = try CLI.run(["label", "review", "--from-findings"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "queued 2 of 2 flagged samples for review at the front of the labeling queue\n")
        r = try CLI.run(["label", "review"], cwd: project)
        XCTAssertEqual(r.status, 2, r.stderr)  // a usage error

        // errors: the figures next to the verdicts, and no label verdict.
        r = try CLI.run(["analyze", "errors"], cwd: project)
        XCTAssertEqual(r.status, 1, r.stderr)  // the starter intent's success criterion fails with this model
        let head = r.stdout.split(separator: "\n").prefix(5).joined(separator: "\n")
        XCTAssertEqual(head, """
            model `weak`: 302 labeled samples evaluated (0 predicted but unlabeled)
            error rate 53.3% (47.7%-58.9%, n=302) overall; 2 likely label errors
            model accuracy 46.7% out of fold on 302 labeled samples (95% CI 41.1%-52.3%; majority baseline 33.4%, skill 0.12), calibration error 0.09
            model too weak to judge labels: no verdict rests on its view of the labels
              - accuracy 46.7% (95% CI from 41.1%) against a majority baseline of 33.4%: skill 0.12 is below 0.50
            """)
        let json = try XCTUnwrap(try CLI.json(["analyze", "errors"], cwd: project) as? [String: Any])
        let recs = try XCTUnwrap(json["recommendations"] as? [[String: Any]])
        XCTAssertFalse(recs.contains { $0["cause"] as? String == "label-trouble" }, "\(recs)")
        XCTAssertEqual((json["trust"] as? [String: Any])?["trustworthy"] as? Bool, false)
    }
}

/// 302 quotes in three topics with the predictions of a weak model (see
/// `TrustGatingCLITests.testWeakModelSaysTooWeakAndFlagsOnlyHighConfidenceDisagreements`): ingested with labels and
/// ids, predictions imported. Returns the project's path.
func weakModelQuoteProject(_ dir: TempDir) throws -> String {
    let project = dir.path + "/p"
    XCTAssertEqual(try CLI.run(["init", project, "--modality", "text"]).status, 0)
    dir.write("p/rulebook.yaml", Array("""
        version: 1
        labels:
          - {name: art, definition: about art}
          - {name: love, definition: about love}
          - {name: war, definition: about war}
        policies:
          unclear: {action: escalate}
          no_fit: {action: skip}
        annotators_per_sample: 1

        """.utf8))
    let classes = ["art", "love", "war"]
    var records = "", predictions = ""
    func row(_ top: Int, _ p: Double) -> String {
        let rest = (1 - p) / 2
        return "{" + classes.indices.map { "\"\(classes[$0])\": \($0 == top ? p : rest)" }.joined(separator: ", ") + "}"
    }
    for i in 0..<302 {
        let label = i % 3
        records += "{\"id\": \"q\(i)\", \"text\": \"quote number \(i) about \(classes[label])\", \"label\": \"\(classes[label])\"}\n"
        let probs: String
        if i < 60 { probs = row(label, 0.95) }
        else if i < 62 { probs = row((label + 1) % 3, 0.95) }
        else { probs = row((label + i / 3) % 3, i % 2 == 0 ? 0.4 : 0.5) }
        predictions += "{\"id\": \"q\(i)\", \"probs\": \(probs)}\n"
    }
    dir.write("in/quotes.jsonl", Array(records.utf8))
    dir.write("preds.jsonl", Array(predictions.utf8))
    var r = try CLI.run(["ingest", dir.path + "/in", "--source", "quotes", "--records", "--label-field", "label", "--id-field", "id"], cwd: project)
    XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
    r = try CLI.run(["predictions", "import", dir.path + "/preds.jsonl", "--model", "weak"], cwd: project)
    XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
    return project
}
