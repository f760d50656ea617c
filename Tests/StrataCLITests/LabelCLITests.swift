import Foundation
import XCTest

/// `strata rulebook` and `strata label` through the built binary.
final class LabelCLITests: XCTestCase {
    static let rulebook = """
        version: 1
        labels:
          - name: billing
            definition: The message is about a charge, an invoice or a refund.
            fits:
              - text: I was charged twice
                why: a duplicate charge
          - name: other
            definition: Anything else.
            fits:
              - text: the app crashes
                why: a bug, not money
        decision_path:
          question: Is it about money?
          answers:
            - answer: "yes"
              label: billing
            - answer: "no"
              label: other
        annotators_per_sample: 2
        agreement_threshold: 0.6

        """

    /// A text project with four messages ingested; returns the project path and the short ids.
    func project(_ t: TempDir) throws -> (String, [String]) {
        let p = t.path + "/p"
        XCTAssertEqual(try CLI.run(["init", p, "--modality", "text"]).status, 0)
        try Self.rulebook.write(toFile: p + "/rulebook.yaml", atomically: true, encoding: .utf8)
        t.write("in/m.jsonl", Array((0..<4).map { "{\"text\": \"message number \($0) for the label tests\"}" }.joined(separator: "\n").utf8))
        let ingest = try CLI.run(["ingest", t.path + "/in", "--source", "chat", "--records", "--text-field", "text", "-C", p])
        XCTAssertEqual(ingest.status, 0, ingest.stderr)
        let export = try CLI.run(["label", "export", "--format", "label-studio", "-C", p])
        XCTAssertEqual(export.status, 0, export.stderr)
        let tasks = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(export.stdout.utf8)) as? [[String: Any]])
        let shorts = tasks.compactMap { ($0["data"] as? [String: Any])?["strata_short_id"] as? String }.sorted()
        XCTAssertEqual(shorts.count, 4)
        return (p, shorts)
    }

    func testImportConsensusAgreementAndExportThroughTheBinary() throws {
        let t = TempDir()
        let (p, ids) = try project(t)
        var csv = "sample,value,annotator,created_at\n"
        for (i, id) in ids.enumerated() {
            csv += "\(id),billing,ana,2026-03-01T00:00:0\(i)Z\n"
            csv += "\(id),\(i == 3 ? "other" : "billing"),ben,2026-03-01T00:01:0\(i)Z\n"
        }
        t.write("labels.csv", Array(csv.utf8))
        let imp = try CLI.run(["label", "import", t.path + "/labels.csv", "-C", p])
        XCTAssertEqual(imp.status, 0, imp.stderr)
        XCTAssertEqual(imp.stdout, "8 label(s) read from \(t.path)/labels.csv: 8 stored, 0 already present\n")
        XCTAssertTrue(try CLI.run(["label", "import", t.path + "/labels.csv", "-C", p]).stdout.contains("0 stored, 8 already present"))

        // Consensus: three decided, one tie waiting for a reviewer.
        let queue = try XCTUnwrap(try CLI.json(["label", "consensus", "--queue", "-C", p]) as? [String: Any])
        let waiting = try XCTUnwrap(queue["samples"] as? [[String: Any]])
        XCTAssertEqual(waiting.count, 1)
        XCTAssertEqual(waiting.first?["short_id"] as? String, ids[3])
        XCTAssertEqual(waiting.first?["reason"] as? String, "tie between billing and other")
        XCTAssertEqual((queue["counts"] as? [String: Int])?["decided"], 3)
        let text = try CLI.run(["label", "consensus", "-C", p])
        XCTAssertTrue(text.stdout.contains("1 sample(s) wait for adjudication"), text.stdout)

        // Agreement: ana and ben agree on 3 of 4; kappa 0 (ana always says billing) -> below 0.6, exit 1.
        let agreement = try CLI.run(["label", "agreement", "-C", p])
        XCTAssertEqual(agreement.status, 1, agreement.stderr)
        XCTAssertTrue(agreement.stdout.contains("4 sample(s), 4 with two or more ratings; 2 annotator(s), 8 rating(s)"), agreement.stdout)
        XCTAssertTrue(agreement.stdout.contains("ana / ben: 0.000 on 4 shared sample(s), 0.750 agreement"), agreement.stdout)
        let json = try XCTUnwrap(try CLI.json(["label", "agreement", "-C", p]) as? [String: Any])
        let a = try XCTUnwrap(json["agreement"] as? [String: Any])
        XCTAssertEqual(try XCTUnwrap(a["percent_agreement"] as? Double), 0.75, accuracy: 1e-12)

        // Export to a file, atomically, in each format; JSONL on stdout by default.
        for (format, ext) in [("csv", "csv"), ("jsonl", "jsonl"), ("label-studio", "json")] {
            let out = t.path + "/out." + ext
            let r = try CLI.run(["label", "export", "--format", format, "--out", out, "-C", p])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(FileManager.default.fileExists(atPath: out))
            XCTAssertEqual(try CLI.run(["label", "import", out, "-C", p]).stdout.contains("0 stored, 8 already present"), true, format)
        }
        let stdout = try CLI.run(["label", "export", "-C", p])
        XCTAssertEqual(stdout.stdout.split(separator: "\n").count, 8)

        // A bad file: exit 2, its lines named, nothing stored.
        t.write("bad.jsonl", Array("{\"sample\": \"\(ids[0])\", \"value\": \"money\"}\nnot json\n".utf8))
        let bad = try CLI.run(["label", "import", t.path + "/bad.jsonl", "-C", p])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("bad.jsonl line 2:"), bad.stderr)
        XCTAssertTrue(try CLI.run(["status", "-C", p]).stdout.contains("8 label events"))
    }

    /// An import is one transaction: killed at any moment, it leaves all of its labels or none.
    func testKilledImportStoresAllOrNothing() throws {
        let t = TempDir()
        let (p, ids) = try project(t)
        var csv = "sample,value,annotator,created_at\n"
        for n in 0..<20_000 { csv += "\(ids[n % 4]),\(n % 3 == 0 ? "other" : "billing"),annotator-\(n),2026-03-01T00:00:00Z\n" }
        t.write("big.csv", Array(csv.utf8))
        for delay in [150_000, 300_000, 450_000, 600_000, 900_000] {
            try CLI.killed(["label", "import", t.path + "/big.csv", "-C", p], afterMicroseconds: delay)
            let events = try XCTUnwrap(try CLI.json(["status", "-C", p]) as? [String: Any])["label_events"] as? Int
            let count = try XCTUnwrap(events)
            XCTAssertTrue(count == 0 || count == 20_000, "after a kill at \(delay) µs: \(count) events")
        }
        // Finishing the import afterwards completes it exactly once.
        let done = try CLI.run(["label", "import", t.path + "/big.csv", "-C", p])
        XCTAssertEqual(done.status, 0, done.stderr)
        let events = try XCTUnwrap(try CLI.json(["status", "-C", p]) as? [String: Any])["label_events"] as? Int
        XCTAssertEqual(events, 20_000)
    }

    func testRulebookCheckAndRender() throws {
        let t = TempDir()
        let (p, _) = try project(t)
        let ok = try CLI.run(["rulebook", "check", "-C", p])
        XCTAssertEqual(ok.status, 0, ok.stdout + ok.stderr)
        XCTAssertTrue(ok.stdout.contains("rulebook.yaml is fine: 2 label(s), version r1"), ok.stdout)

        let render = try CLI.run(["rulebook", "render", "--out", t.path + "/hb", "-C", p])
        XCTAssertEqual(render.status, 0, render.stderr)
        for f in ["handbook.html", "handbook.md", "label-studio.xml"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: t.path + "/hb/" + f), f)
        }

        // Label a sample, then change the definition of billing: the label is flagged for review.
        let imp = try CLI.run(["label", "export", "--format", "label-studio", "-C", p])
        let tasks = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(imp.stdout.utf8)) as? [[String: Any]])
        let id = try XCTUnwrap((tasks[0]["data"] as? [String: Any])?["strata_id"] as? String)
        t.write("one.jsonl", Array("{\"sample\": \"\(id)\", \"value\": \"billing\", \"annotator\": \"ana\"}\n".utf8))
        XCTAssertEqual(try CLI.run(["label", "import", t.path + "/one.jsonl", "-C", p]).status, 0)
        try Self.rulebook.replacingOccurrences(of: "a charge, an invoice or a refund", with: "a charge or an invoice")
            .write(toFile: p + "/rulebook.yaml", atomically: true, encoding: .utf8)
        let changed = try CLI.run(["rulebook", "check", "-C", p])
        XCTAssertEqual(changed.status, 0)
        XCTAssertTrue(changed.stdout.contains("version r2"), changed.stdout)
        XCTAssertTrue(changed.stdout.contains("1 label(s) made under an older definition were flagged for review"), changed.stdout)
        let findings = try CLI.run(["findings", "--kind", "label-definition-changed", "-C", p])
        XCTAssertTrue(findings.stdout.contains("the definition of `billing` changed in r2"), findings.stdout)

        // An unreachable label: exit 1 with the line.
        try (Self.rulebook.replacingOccurrences(of: "decision_path:", with: "  - name: spam\n    definition: junk\ndecision_path:"))
            .write(toFile: p + "/rulebook.yaml", atomically: true, encoding: .utf8)
        let bad = try CLI.run(["rulebook", "check", "-C", p])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stdout.contains("error: rulebook.yaml:13:11 labels[2].name: the label `spam` is not reachable from the decision path"), bad.stdout)
        let noRender = try CLI.run(["rulebook", "render", "-C", p])
        XCTAssertEqual(noRender.status, 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: p + "/handbook"))
    }
}

/// Re-runs Tests/python/agreement_reference.py with the pinned scikit-learn, statsmodels and krippendorff and
/// checks that it still gives the committed numbers (which StrataLabelsTests compares StrataLabels against).
final class AgreementPeerTests: XCTestCase {
    func testReferenceValuesComeFromThePeers() throws {
        var dir = URL(fileURLWithPath: #filePath)
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { dir = dir.deletingLastPathComponent() }
        let script = dir.appendingPathComponent("Tests/python/agreement_reference.py").path
        let r = try PythonPeers.run(script)
        XCTAssertEqual(r.status, 0, r.stderr)
        let fresh = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let committed = try XCTUnwrap(try JSONSerialization.jsonObject(
            with: Data(contentsOf: dir.appendingPathComponent("Tests/Fixtures/agreement-reference.json"))) as? [String: Any])
        let a = try XCTUnwrap(fresh["cases"] as? [[String: Any]]), b = try XCTUnwrap(committed["cases"] as? [[String: Any]])
        XCTAssertEqual(a.count, b.count)
        for (x, y) in zip(a, b) {
            let name = x["name"] as? String ?? "?"
            XCTAssertEqual(name, y["name"] as? String)
            XCTAssertEqual(x["matrix"] as? NSArray, y["matrix"] as? NSArray, name)
            XCTAssertEqual(try XCTUnwrap(x["alpha"] as? Double), try XCTUnwrap(y["alpha"] as? Double), accuracy: 1e-12, name)
            if let f = y["fleiss"] as? Double { XCTAssertEqual(try XCTUnwrap(x["fleiss"] as? Double), f, accuracy: 1e-12, name) }
            let ka = (x["cohen"] as? [[String: Any]] ?? []).compactMap { $0["kappa"] as? Double }
            let kb = (y["cohen"] as? [[String: Any]] ?? []).compactMap { $0["kappa"] as? Double }
            XCTAssertEqual(ka.count, kb.count, name)
            for (p, q) in zip(ka, kb) { XCTAssertEqual(p, q, accuracy: 1e-12, name) }
            let pa = (x["alpha_per_category"] as? [Any] ?? []).map { $0 as? Double }
            let pb = (y["alpha_per_category"] as? [Any] ?? []).map { $0 as? Double }
            XCTAssertEqual(pa.count, pb.count, name)
            for (p, q) in zip(pa, pb) {
                if let p, let q { XCTAssertEqual(p, q, accuracy: 1e-12, name) } else { XCTAssertTrue(p == nil && q == nil, name) }
            }
        }
    }
}
