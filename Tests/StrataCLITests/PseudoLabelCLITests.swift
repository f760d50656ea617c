import Foundation
import StrataCore
import XCTest

/// `strata label pseudo` and the `label.pseudo` pipeline stage, driven through the binary.
final class PseudoLabelCLITests: XCTestCase {
    /// A text project: 1,200 labeled and 400 unlabeled messages, and predictions of model m1 for all of them (reliable
    /// when confident on account and billing, never reliable on technical).
    func makeProject(_ dir: TempDir) throws -> String {
        let project = dir.path + "/p"
        XCTAssertEqual(try CLI.run(["init", project, "--modality", "text"]).status, 0)
        let classes = ["account", "billing", "technical"]
        let words = ["invoice", "password", "crash", "refund", "login", "error", "charge", "reset", "screen", "plan", "card", "email"]
        var rng = SplitMix64(seed: 99)
        var labeled = "", unlabeled = "", preds = ""
        for i in 0..<1600 {
            let pred = rng.int(3), p = rng.unit(0.4, 1)
            let rightChance = pred == 2 ? 0.5 * p : min(1, 0.3 + 0.72 * p)
            let t = rng.unit(0, 1) < rightChance ? pred : (pred + 1 + rng.int(2)) % 3
            var v = [Double](repeating: (1 - p) / 2, count: 3)
            v[pred] = p
            let text = (0..<8).map { _ in rng.pick(words) }.joined(separator: " ") + " number \(i)"
            if i < 1200 {
                labeled += "{\"id\": \"m\(i)\", \"text\": \"\(text)\", \"label\": \"\(classes[t])\"}\n"
            } else {
                unlabeled += "{\"id\": \"m\(i)\", \"text\": \"\(text)\"}\n"
            }
            preds += "{\"id\": \"m\(i)\", \"probs\": {\"account\": \(v[0]), \"billing\": \(v[1]), \"technical\": \(v[2])}}\n"
        }
        dir.write("in/labeled.jsonl", Array(labeled.utf8))
        dir.write("in2/unlabeled.jsonl", Array(unlabeled.utf8))
        dir.write("preds.jsonl", Array(preds.utf8))
        var r = try CLI.run(["ingest", dir.path + "/in", "--source", "helpdesk", "--records", "--label-field", "label", "--id-field", "id"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        r = try CLI.run(["ingest", dir.path + "/in2", "--source", "helpdesk", "--records", "--id-field", "id"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        r = try CLI.run(["predictions", "import", dir.path + "/preds.jsonl", "--model", "m1"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        return project
    }

    func testCommandCalibratesRefusesWritesOnceAndSpotChecks() throws {
        let dir = TempDir()
        let project = try makeProject(dir)
        let args = ["label", "pseudo", "--model", "m1", "--target-precision", "0.9", "--spot-check", "0.1"]

        // Dry run, as text: the calibration table and the refusal of `technical`.
        var r = try CLI.run(args + ["--dry-run"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr)
        print(r.stdout)
        XCTAssertTrue(r.stdout.contains("dry run: pseudo labels from model m1"), r.stdout)
        XCTAssertTrue(r.stdout.contains("calibrated on"), r.stdout)
        XCTAssertTrue(r.stdout.contains("note: class `technical`: refused: no threshold reaches precision 0.9"), r.stdout)
        let dry = try XCTUnwrap(try CLI.json(args + ["--dry-run"], cwd: project) as? [String: Any])
        XCTAssertEqual(dry["dry_run"] as? Bool, true)
        let wouldAdd = try XCTUnwrap(dry["added"] as? Int)
        XCTAssertGreaterThan(wouldAdd, 30)
        var exported = try CLI.run(["label", "export", "--format", "jsonl"], cwd: project)
        XCTAssertFalse(exported.stdout.contains("\"pseudo\""), "a dry run writes nothing")

        // The real run: label events with source pseudo, annotator m1, confidence = the probability.
        let run = try XCTUnwrap(try CLI.json(args, cwd: project) as? [String: Any])
        XCTAssertEqual(run["added"] as? Int, wouldAdd)
        let classes = try XCTUnwrap(run["classes"] as? [[String: Any]])
        let technical = try XCTUnwrap(classes.first { $0["label"] as? String == "technical" })
        XCTAssertEqual(technical["status"] as? String, "unreachable")
        XCTAssertEqual(technical["accepted"] as? Int, 0)
        for c in classes where c["status"] as? String == "calibrated" {
            XCTAssertGreaterThanOrEqual(c["precision"] as? Double ?? 0, 0.9)
            XCTAssertNotNil(c["precision_low"] as? Double)
            XCTAssertNotNil(c["threshold"] as? Double)
        }
        XCTAssertGreaterThan(run["spot_checks"] as? Int ?? 0, 0)
        XCTAssertGreaterThan(run["skipped_test"] as? Int ?? 0, 0)
        exported = try CLI.run(["label", "export", "--format", "jsonl"], cwd: project)
        let pseudoLines = exported.stdout.split(separator: "\n").filter { $0.contains("\"source\":\"pseudo\"") }
        XCTAssertEqual(pseudoLines.count, wouldAdd, String(exported.stdout.prefix(400)))
        XCTAssertTrue(pseudoLines.allSatisfy { $0.contains("\"annotator\":\"m1\"") })

        // Again, unchanged: nothing written.
        r = try CLI.run(args, cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("added 0, corrected 0, withdrawn 0, unchanged \(wouldAdd)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("nothing changed: no label event written"), r.stdout)

        // Bad input: clear errors, exit 2 for usage.
        r = try CLI.run(["label", "pseudo", "--model", "nope"], cwd: project)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("no predictions for model `nope`"), r.stderr)
        r = try CLI.run(["label", "pseudo", "--model", "m1", "--class-target", "cat"], cwd: project)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("LABEL=PRECISION"), r.stderr)

        // A version marks the pseudo labels and keeps them out of test.
        let v = try XCTUnwrap(try CLI.json(["version", "create", "v1", "-m", "with pseudo labels"], cwd: project) as? [String: Any])
        let info = try XCTUnwrap((v["version"] as? [String: Any]) ?? v)
        XCTAssertEqual(info["pseudo_labels"] as? Int, wouldAdd)
        XCTAssertEqual(info["pseudo_excluded_from_test"] as? Int, 0)
        r = try CLI.run(["version", "show", "v1"], cwd: project)
        XCTAssertTrue(r.stdout.contains("pseudo labels: \(wouldAdd) (model labels above calibrated thresholds"), r.stdout)
    }

    func testPipelineStageRunsTheSameFunction() throws {
        let dir = TempDir()
        let project = try makeProject(dir)
        func pipeline(_ pseudoParams: String, after: String = "") -> [UInt8] {
            Array("""
                version: 1
                stages:
                  - name: clean-text
                    uses: clean.text
                  - name: pseudo
                    uses: label.pseudo
                    params: {\(pseudoParams)}
                \(after)
                """.utf8)
        }
        // A misspelled parameter is found before any work, with a did-you-mean.
        dir.write("p/pipeline.yaml", pipeline("model: m1, traget_precision: 0.9"))
        var r = try CLI.run(["run"], cwd: project)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("unknown parameter `traget_precision` (did you mean `target_precision`?)"), r.stderr)
        r = try CLI.run(["check"], cwd: project)
        XCTAssertTrue((r.stdout + r.stderr).contains("traget_precision"), r.stdout + r.stderr)
        // Data stages after a label stage are refused.
        dir.write("p/pipeline.yaml", pipeline("model: m1", after: "  - name: late\n    uses: dedup.exact\n"))
        r = try CLI.run(["run"], cwd: project)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("comes after the label stage `pseudo`"), r.stderr)

        dir.write("p/pipeline.yaml", pipeline("model: m1, target_precision: 0.9, spot_check_share: 0.1, min_calibration_samples: 30"))
        r = try CLI.run(["check"], cwd: project)
        XCTAssertFalse((r.stdout + r.stderr).contains("label.pseudo"), r.stdout + r.stderr)
        let report = try XCTUnwrap(try CLI.json(["run"], cwd: project) as? [String: Any])
        let stage = try XCTUnwrap((report["label_stages"] as? [[String: Any]])?.first)
        let added = try XCTUnwrap(stage["added"] as? Int)
        XCTAssertGreaterThan(added, 30)
        XCTAssertEqual(report["nothing_changed"] as? Bool, false)
        // The command sees the stage's work: nothing left to add.
        let cmd = try XCTUnwrap(try CLI.json(["label", "pseudo", "--model", "m1", "--target-precision", "0.9", "--spot-check", "0.1"], cwd: project) as? [String: Any])
        XCTAssertEqual(cmd["added"] as? Int, 0)
        XCTAssertEqual(cmd["unchanged"] as? Int, added)
        // A second run: every task cached, no label written.
        r = try CLI.run(["run"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("pseudo labels (m1): added 0, corrected 0, withdrawn 0"), r.stdout)
        XCTAssertTrue(r.stdout.contains("nothing changed since the last run"), r.stdout)
        // The run log records the stage.
        r = try CLI.run(["runs", "logs"], cwd: project)
        XCTAssertTrue(r.stdout.contains("\"event\":\"label-stage\""), r.stdout)
    }
}
