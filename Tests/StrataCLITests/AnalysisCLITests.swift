import Foundation
import StrataCore
import XCTest

/// Writes a NumPy .npy file (float64 2-D or int64 1-D, C order).
enum NPYWriter {
    static func write(_ path: String, float64 values: [Double], shape: [Int]) throws {
        try write(path, descr: "<f8", shape: shape, body: values.withUnsafeBufferPointer { Data(buffer: $0) })
    }
    static func write(_ path: String, int64 values: [Int64]) throws {
        try write(path, descr: "<i8", shape: [values.count], body: values.withUnsafeBufferPointer { Data(buffer: $0) })
    }
    static func write(_ path: String, descr: String, shape: [Int], body: Data) throws {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data += Data(header.utf8) + body
        try data.write(to: URL(fileURLWithPath: path))
    }
}

/// Noisy-label data: `n` samples over `k` classes; a share of labels flipped; out-of-sample-like probabilities.
struct NoisyData {
    var probs: [Double] = []
    var labels: [Int64] = []
    var truth: [Int] = []

    init(n: Int, k: Int, flipRate: Double, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<n {
            let t = rng.int(k)
            var row = (0..<k).map { _ in rng.unit(0.01, 1) }
            // The model is usually right, with varying confidence; sometimes confused.
            let confused = rng.unit(0, 1) < 0.15
            row[t] += confused ? rng.unit(0, 1.5) : rng.unit(2, 12)
            if confused { row[rng.int(k)] += rng.unit(0.5, 3) }
            let s = row.reduce(0, +)
            probs += row.map { $0 / s }
            var given = t
            if rng.unit(0, 1) < flipRate { given = (t + 1 + rng.int(k - 1)) % k }
            labels.append(Int64(given))
            truth.append(t)
        }
    }
}

func jaccard(_ a: Set<Int>, _ b: Set<Int>) -> Double {
    a.isEmpty && b.isEmpty ? 1 : Double(a.intersection(b).count) / Double(a.union(b).count)
}

final class AnalysisCLITests: XCTestCase {
    /// Confident learning in Strata against cleanlab.filter.find_label_issues on the same arrays.
    func testLabelIssuesAgreeWithCleanlab() throws {
        _ = try PythonPeers.interpreter()
        let dir = TempDir()
        for (n, k, flip, seed) in [(3000, 3, 0.1, UInt64(1)), (20000, 10, 0.05, 2), (5000, 4, 0.2, 3), (800, 7, 0.3, 4)] {
            let d = NoisyData(n: n, k: k, flipRate: flip, seed: seed)
            let p = dir.path + "/p\(seed).npy", l = dir.path + "/l\(seed).npy"
            try NPYWriter.write(p, float64: d.probs, shape: [n, k])
            try NPYWriter.write(l, int64: d.labels)
            let strata = try CLI.run(["analyze", "label-issues", "--probs-npy", p, "--labels-npy", l])
            XCTAssertEqual(strata.status, 0, strata.stderr)
            let reference = try PythonPeers.run(PythonPeers.scriptsDir + "/cleanlab_label_issues.py", [p, l])
            XCTAssertEqual(reference.status, 0, reference.stderr)
            let ours = Set(strata.stdout.split(separator: "\n").compactMap { Int($0) })
            let theirs = Set(reference.stdout.split(separator: "\n").compactMap { Int($0) })
            XCTAssertGreaterThan(theirs.count, 0)
            let j = jaccard(ours, theirs)
            print("n=\(n) k=\(k) flip=\(flip): strata \(ours.count), cleanlab \(theirs.count), jaccard \(j)")
            XCTAssertGreaterThanOrEqual(j, 0.95, "n=\(n) k=\(k): strata \(ours.count) vs cleanlab \(theirs.count)")
        }
    }

    /// A generated support-ticket project with one under-sampled scenario (phone) and one scenario with noisy labels
    /// (forum): the recommendations name each with its true cause, label issues match cleanlab, suggest stores a queue
    /// order, and the report renders in a real browser with no console errors.
    func testRecommendationsNameTheTrueCauseOfEachScenario() throws {
        let dir = TempDir()
        let project = dir.path + "/p"
        XCTAssertEqual(try CLI.run(["init", project, "--modality", "text"]).status, 0)
        dir.write("p/intent.yaml", Array("""
            version: 1
            use_case: route support messages to the right team
            max_age_days: 3650
            success_criteria:
              - {metric: error_rate, max: 0.05}
            unacceptable_mistakes:
              - {truth: account, predicted: billing, max_rate: 0.05}
            requirements:
              scenarios:
                - {name: email, where: {channel: email}, min_samples: 100}
                - {name: chat, where: {channel: chat}, min_samples: 100}
                - {name: phone, where: {channel: phone}, min_samples: 100}
                - {name: forum, where: {channel: forum}, min_samples: 100}

            """.utf8))
        dir.write("p/rulebook.yaml", Array("""
            version: 1
            labels:
              - {name: billing, definition: charges and invoices}
              - {name: bug, definition: something does not work}
              - {name: account, definition: cannot sign in}
            policies:
              unclear: {action: escalate}
              no_fit: {action: skip}
            annotators_per_sample: 1

            """.utf8))
        let classes = ["billing", "bug", "account"]
        var rng = SplitMix64(seed: 42)
        var records = "", predictions = "", probs: [Double] = [], given: [Int64] = [], unlabeled = ""
        var n = 0
        for (channel, count) in [("email", 400), ("chat", 400), ("phone", 20), ("forum", 300)] {
            for _ in 0..<count {
                n += 1
                let t = rng.int(3)
                var label = t
                if channel == "forum" && rng.unit(0, 1) < 0.3 { label = (t + 1 + rng.int(2)) % 3 }
                var row = [rng.unit(0.02, 0.1), rng.unit(0.02, 0.1), rng.unit(0.02, 0.1)]
                if channel == "phone" && rng.unit(0, 1) < 0.3 {
                    // The model is unsure on the rare channel: wrong, but not confidently.
                    row[(t + 1) % 3] += 0.45; row[t] += 0.35
                } else if rng.unit(0, 1) < 0.03 {
                    row[(t + 2) % 3] += 0.4; row[t] += 0.35
                } else {
                    row[t] += rng.unit(0.75, 0.95)
                }
                let s = row.reduce(0, +)
                row = row.map { $0 / s }
                records += "{\"id\": \"m\(n)\", \"text\": \"message \(n) about \(classes[t]) sent by \(channel)\", \"label\": \"\(classes[label])\", \"channel\": \"\(channel)\"}\n"
                predictions += "{\"id\": \"m\(n)\", \"probs\": {\"billing\": \(row[0]), \"bug\": \(row[1]), \"account\": \(row[2])}, \"embedding\": [\(row[0]), \(row[1]), \(Double(t))]}\n"
                probs += row
                given.append(Int64(label))
            }
        }
        // Unlabeled samples for suggest.
        for i in 0..<60 {
            let a = rng.unit(0.3, 0.6)
            unlabeled += "{\"id\": \"u\(i)\", \"text\": \"unlabeled message \(i)\", \"channel\": \"\(i % 2 == 0 ? "phone" : "email")\"}\n"
            predictions += "{\"id\": \"u\(i)\", \"probs\": [\(a), \(1 - a), 0], \"classes\": [\"billing\", \"bug\", \"account\"], \"embedding\": [\(a), \(1 - a), \(Double(i % 3))]}\n"
        }
        dir.write("in/tickets.jsonl", Array(records.utf8))
        dir.write("in2/new.jsonl", Array(unlabeled.utf8))
        dir.write("preds.jsonl", Array(predictions.utf8))
        var r = try CLI.run(["ingest", dir.path + "/in", "--source", "helpdesk", "--records", "--label-field", "label", "--id-field", "id"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        r = try CLI.run(["ingest", dir.path + "/in2", "--source", "helpdesk", "--records", "--id-field", "id"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        r = try CLI.run(["predictions", "import", dir.path + "/preds.jsonl", "--model", "bert-v1"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        XCTAssertTrue(r.stdout.contains("imported \(n + 60) predictions"), r.stdout)

        // errors: exit 1 (the error-rate criterion fails), recommendations name the causes.
        r = try CLI.run(["analyze", "errors", "--json"], cwd: project)
        XCTAssertEqual(r.status, 1, r.stderr)
        let errors = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let recs = try XCTUnwrap(errors["recommendations"] as? [[String: Any]])
        func causes(_ slice: String) -> Set<String> {
            Set(recs.filter { $0["kind"] as? String == "scenarios" && $0["slice"] as? String == slice }.compactMap { $0["cause"] as? String })
        }
        XCTAssertEqual(causes("phone"), ["too-few-samples"], "\(recs)")
        XCTAssertEqual(causes("forum"), ["label-trouble"], "\(recs)")
        XCTAssertEqual(causes("email"), ["fine"])
        XCTAssertEqual(causes("chat"), ["fine"])
        let phone = try XCTUnwrap(recs.first { $0["slice"] as? String == "phone" && $0["kind"] as? String == "scenarios" })
        XCTAssertGreaterThanOrEqual(phone["collect"] as? Int ?? 0, 50)
        let checks = try XCTUnwrap(errors["checks"] as? [[String: Any]])
        XCTAssertEqual(checks.first?["verdict"] as? String, "fail")
        XCTAssertEqual(errors["evaluated"] as? Int, n)
        XCTAssertEqual(errors["unlabeled"] as? Int, 60)

        // label-issues: the same flagged set as cleanlab on the same inputs, and in the findings ledger with origins.
        r = try CLI.run(["analyze", "label-issues", "--json"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr)
        let li = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let issues = try XCTUnwrap(li["issues"] as? [[String: Any]])
        let ourLines = Set(issues.compactMap { $0["line"] as? Int })
        XCTAssertEqual(ourLines.count, issues.count)
        let findings = try XCTUnwrap(try CLI.json(["findings", "--kind", "label-issue"], cwd: project) as? [[String: Any]])
        XCTAssertEqual(findings.count, issues.count)
        XCTAssertTrue(findings.allSatisfy { ($0["origin"] as? String)?.hasSuffix("tickets.jsonl") == true && $0["line"] is Int })
        if let _ = try? PythonPeers.interpreter() {
            try NPYWriter.write(dir.path + "/p.npy", float64: probs, shape: [n, 3])
            try NPYWriter.write(dir.path + "/l.npy", int64: given)
            // Strata's classes are sorted (account, billing, bug); the arrays above use (billing, bug, account):
            // confident learning does not depend on the order of the classes.
            let ref = try PythonPeers.run(PythonPeers.scriptsDir + "/cleanlab_label_issues.py", [dir.path + "/p.npy", dir.path + "/l.npy"])
            XCTAssertEqual(ref.status, 0, ref.stderr)
            let theirs = Set(ref.stdout.split(separator: "\n").compactMap { Int($0) }.map { $0 + 1 })
            XCTAssertGreaterThanOrEqual(jaccard(ourLines, theirs), 0.95, "strata \(ourLines.count) vs cleanlab \(theirs.count)")
        }

        // coverage, freshness, drift.
        let coverage = try XCTUnwrap(try CLI.json(["analyze", "coverage"], cwd: project) as? [[String: Any]])
        // 20 labeled + 30 unlabeled phone messages against 100 required.
        XCTAssertEqual(coverage.first { $0["name"] as? String == "phone" }?["gap"] as? Int, 50)
        r = try CLI.run(["analyze", "freshness"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try CLI.run(["analyze", "drift", "--json"], cwd: project)
        XCTAssertTrue(r.status == 0 || r.status == 1, r.stderr)
        let drift = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(drift["current_count"] as? Int, 60)
        let fields = try XCTUnwrap(drift["fields"] as? [[String: Any]])
        XCTAssertEqual(fields.first { $0["field"] as? String == "channel" }?["drifted"] as? Bool, true)
        XCTAssertNotNil(fields.first { $0["kind"] as? String == "embedding" })

        // suggest: the most uncertain unlabeled samples, spread over slices; stored for the labeling queue.
        r = try CLI.run(["suggest", "--budget", "10", "--strategy", "margin", "--diversity", "per-slice", "--json"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr)
        let suggest = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let picks = try XCTUnwrap(suggest["picks"] as? [[String: Any]])
        XCTAssertEqual(picks.count, 10)
        XCTAssertEqual(suggest["candidates"] as? Int, 60)
        XCTAssertEqual(Set(picks.compactMap { $0["slice"] as? String }), ["scenarios:phone", "scenarios:email"])
        r = try CLI.run(["suggest", "--budget", "5", "--diversity", "kcenter"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr)

        // report: one self-contained file, and a real browser renders it without console errors.
        r = try CLI.run(["report", "--out", dir.path + "/report.html"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr)
        let html = try String(contentsOfFile: dir.path + "/report.html", encoding: .utf8)
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.contains("http://") && !html.contains("http://www.w3.org/2000/svg"))
        let top = html.range(of: "Recommendations")!.lowerBound
        XCTAssertLessThan(top, html.range(of: "<svg")!.lowerBound)
        XCTAssertTrue(html.contains("<code>phone</code>") && html.contains("<code>forum</code>"))
        if let _ = try? PythonPeers.interpreter() {
            let shot = dir.path + "/report.png"
            let b = try PythonPeers.run(PythonPeers.scriptsDir + "/report_screenshot.py", [dir.path + "/report.html", shot], timeout: 180)
            XCTAssertEqual(b.status, 0, b.stderr)
            let page = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(b.stdout.utf8)) as? [String: Any], b.stdout + b.stderr)
            XCTAssertEqual((page["severe"] as? [Any])?.count, 0, "\(page)")
            XCTAssertGreaterThanOrEqual(page["charts"] as? Int ?? 0, 7)
            XCTAssertEqual(page["empty_charts"] as? Int, 0, "\(page)")
            XCTAssertGreaterThanOrEqual(page["recommendations"] as? Int ?? 0, 2)
            XCTAssertGreaterThan((try? FileManager.default.attributesOfItem(atPath: shot)[.size] as? Int) ?? 0, 20_000)
            if let keep = ProcessInfo.processInfo.environment["STRATA_KEEP_SCREENSHOT"] { try? FileManager.default.copyItem(atPath: shot, toPath: keep) }
        }
    }

    /// `--version V` analyses exactly the version's samples and frozen labels; `drift --from V1 --to V2` compares two
    /// versions; a contested sample (a tie waiting for a reviewer) has no label live, but keeps the one frozen in a
    /// version made before the dispute; the report draws the version history.
    func testVersionScopedAnalysesAndDriftBetweenVersions() throws {
        let dir = TempDir()
        let project = dir.path + "/p"
        XCTAssertEqual(try CLI.run(["init", project, "--modality", "text"]).status, 0)
        dir.write("p/intent.yaml", Array("""
            version: 1
            use_case: route support messages
            requirements:
              scenarios:
                - {name: email, where: {channel: email}, min_samples: 50}
                - {name: forum, where: {channel: forum}, min_samples: 50}

            """.utf8))
        dir.write("p/rulebook.yaml", Array("""
            version: 1
            labels:
              - {name: billing, definition: charges and invoices}
              - {name: bug, definition: something does not work}
            policies:
              unclear: {action: escalate}
              no_fit: {action: skip}
            annotators_per_sample: 1

            """.utf8))
        var rng = SplitMix64(seed: 7)
        var first = "", second = "", preds = ""
        for i in 0..<200 {
            // Batch 1: email, mostly billing, short texts.
            let label = rng.unit(0, 1) < 0.8 ? "billing" : "bug"
            first += "{\"id\": \"a\(i)\", \"text\": \"short note \(i) on \(label)\", \"label\": \"\(label)\", \"channel\": \"email\"}\n"
            let p = label == "billing" ? rng.unit(0.7, 0.95) : rng.unit(0.05, 0.3)
            preds += "{\"id\": \"a\(i)\", \"probs\": {\"billing\": \(p), \"bug\": \(1 - p)}}\n"
        }
        for i in 0..<150 {
            // Batch 2: forum, mostly bug, long texts.
            let label = rng.unit(0, 1) < 0.8 ? "bug" : "billing"
            second += "{\"id\": \"b\(i)\", \"text\": \"a much longer forum post number \(i) describing in detail a problem with \(label) that keeps coming back\", \"label\": \"\(label)\", \"channel\": \"forum\"}\n"
            let p = label == "billing" ? rng.unit(0.7, 0.95) : rng.unit(0.05, 0.3)
            preds += "{\"id\": \"b\(i)\", \"probs\": {\"billing\": \(p), \"bug\": \(1 - p)}}\n"
        }
        dir.write("in1/a.jsonl", Array(first.utf8))
        dir.write("in2/b.jsonl", Array(second.utf8))
        dir.write("preds.jsonl", Array(preds.utf8))
        var r = try CLI.run(["ingest", dir.path + "/in1", "--source", "desk", "--records", "--label-field", "label", "--id-field", "id"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        r = try CLI.run(["version", "create", "v1", "-m", "first batch"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        XCTAssertEqual(try CLI.run(["version", "promote", "v1"], cwd: project).status, 0)
        r = try CLI.run(["ingest", dir.path + "/in2", "--source", "desk", "--records", "--label-field", "label", "--id-field", "id"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        // A second annotator disputes 20 labels: ties, waiting for a reviewer.
        r = try CLI.run(["label", "export", "--format", "jsonl"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr)
        var csv = "sample,value,annotator,created_at\n"
        for (n, line) in r.stdout.split(separator: "\n").prefix(20).enumerated() {
            let event = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let sample = try XCTUnwrap(event["sample"] as? String), value = event["value"] as? String
            csv += "\(sample),\(value == "bug" ? "billing" : "bug"),rev,2026-03-01T00:00:\(10 + n)Z\n"
        }
        dir.write("dispute.csv", Array(csv.utf8))
        r = try CLI.run(["label", "import", dir.path + "/dispute.csv"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        r = try CLI.run(["version", "create", "v2", "-m", "second batch"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        let v2 = try XCTUnwrap(try CLI.json(["version", "show", "v2"], cwd: project) as? [String: Any])
        let disputed = try XCTUnwrap(v2["unresolved_labels"] as? Int)
        XCTAssertGreaterThan(disputed, 0)
        r = try CLI.run(["predictions", "import", dir.path + "/preds.jsonl", "--model", "m"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)

        // errors and label issues: v1 evaluates its 200 frozen labels; live leaves the disputed samples out, as v2 does.
        let e1 = try XCTUnwrap(try CLI.json(["analyze", "errors", "--version", "v1"], cwd: project) as? [String: Any])
        XCTAssertEqual(e1["version"] as? String, "v1")
        XCTAssertEqual(e1["evaluated"] as? Int, 200)
        let live = try XCTUnwrap(try CLI.json(["analyze", "errors"], cwd: project) as? [String: Any])
        XCTAssertNil(live["version"] as? String)
        XCTAssertEqual(live["evaluated"] as? Int, 350 - disputed)
        let e2 = try XCTUnwrap(try CLI.json(["analyze", "errors", "--version", "v2"], cwd: project) as? [String: Any])
        XCTAssertEqual(e2["evaluated"] as? Int, 350 - disputed)
        let li = try XCTUnwrap(try CLI.json(["analyze", "label-issues", "--version", "v1"], cwd: project) as? [String: Any])
        XCTAssertEqual(li["examined"] as? Int, 200)
        XCTAssertEqual(li["version"] as? String, "v1")
        // Findings of a versioned run go to their own stage.
        let versionedFindings = try XCTUnwrap(try CLI.json(["findings", "--stage", "analyze.label-issues@v1"], cwd: project) as? [[String: Any]])
        XCTAssertEqual(versionedFindings.count, li["flagged"] as? Int)

        // coverage and freshness: v1 has no forum samples, the project has 150.
        let c1 = try XCTUnwrap(try CLI.json(["analyze", "coverage", "--version", "v1"], cwd: project) as? [[String: Any]])
        XCTAssertEqual(c1.first { $0["name"] as? String == "forum" }?["count"] as? Int, 0)
        XCTAssertEqual(c1.first { $0["name"] as? String == "email" }?["count"] as? Int, 200)
        let cLive = try XCTUnwrap(try CLI.json(["analyze", "coverage"], cwd: project) as? [[String: Any]])
        XCTAssertEqual(cLive.first { $0["name"] as? String == "forum" }?["count"] as? Int, 150)
        let f1 = try XCTUnwrap(try CLI.json(["analyze", "freshness", "--version", "v1"], cwd: project) as? [[String: Any]])
        XCTAssertEqual(f1.first?["count"] as? Int, 200)

        // drift between the two versions: channel, labels and text length all moved.
        r = try CLI.run(["analyze", "drift", "--from", "v1", "--to", "v2", "--json"], cwd: project)
        XCTAssertEqual(r.status, 1, r.stderr)
        let d = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(d["reference_count"] as? Int, 200)
        XCTAssertEqual(d["current_count"] as? Int, 350)
        XCTAssertEqual(d["reference"] as? String, "version v1")
        let fields = try XCTUnwrap(d["fields"] as? [[String: Any]])
        func drifted(_ name: String) -> Bool? { fields.first { $0["field"] as? String == name }?["drifted"] as? Bool }
        XCTAssertEqual(drifted("channel"), true)
        XCTAssertEqual(drifted("label"), true)
        XCTAssertEqual(drifted("text words"), true)
        let driftFindings = try XCTUnwrap(try CLI.json(["findings", "--stage", "analyze.drift@v1..v2"], cwd: project) as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(driftFindings.count, 3)
        // v1 against the batch added since: the 150 forum posts.
        let since = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try CLI.run(["analyze", "drift", "--from", "v1", "--json"], cwd: project).stdout.utf8)) as? [String: Any])
        XCTAssertEqual(since["current_count"] as? Int, 150)
        // Within one version, by split.
        r = try CLI.run(["analyze", "drift", "--version", "v2", "--reference", "split=train", "--current", "split=test", "--json"], cwd: project)
        XCTAssertTrue(r.status == 0 || r.status == 1, r.stderr)
        let bySplit = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertGreaterThan(bySplit["current_count"] as? Int ?? 0, 0)
        XCTAssertEqual((bySplit["reference_count"] as? Int ?? 0) + (bySplit["current_count"] as? Int ?? 0) < 350, true)
        // Clear errors.
        r = try CLI.run(["analyze", "drift", "--to", "v2"], cwd: project)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("needs --from"), r.stderr)
        r = try CLI.run(["analyze", "errors", "--version", "nope"], cwd: project)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("no version `nope`") && r.stderr.contains("v1, v2"), r.stderr)

        // The report on v2: its samples, drift from its parent, and the version history drawn.
        r = try CLI.run(["report", "--version", "v2", "--out", dir.path + "/report.html"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr)
        let html = try String(contentsOfFile: dir.path + "/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("dataset version <code>v2</code>"))
        XCTAssertTrue(html.contains("Samples per split over versions") && html.contains("Labels per version"))
        XCTAssertTrue(html.contains("Drift: version v1 to v2"))
        XCTAssertTrue(html.contains("state-active") && html.contains("state-draft"))
        if let _ = try? PythonPeers.interpreter() {
            let b = try PythonPeers.run(PythonPeers.scriptsDir + "/report_screenshot.py", [dir.path + "/report.html", dir.path + "/report.png"], timeout: 180)
            XCTAssertEqual(b.status, 0, b.stderr)
            let page = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(b.stdout.utf8)) as? [String: Any], b.stdout + b.stderr)
            XCTAssertEqual((page["severe"] as? [Any])?.count, 0, "\(page)")
            XCTAssertEqual(page["empty_charts"] as? Int, 0, "\(page)")
        }
    }

    func testPredictionImportErrorsNameTheLineAndImportNothing() throws {
        let dir = TempDir()
        let project = dir.path + "/p"
        XCTAssertEqual(try CLI.run(["init", project, "--modality", "text"]).status, 0)
        dir.write("in/a.jsonl", Array("{\"id\": \"a1\", \"text\": \"first\"}\n{\"id\": \"a2\", \"text\": \"second\"}\n".utf8))
        XCTAssertEqual(try CLI.run(["ingest", dir.path + "/in", "--source", "s", "--records", "--id-field", "id"], cwd: project).status, 0)
        dir.write("bad.jsonl", Array("""
            {"id": "a1", "probs": {"x": 0.5, "y": 0.6}}
            {"id": "nope", "probs": {"x": 0.5, "y": 0.5}}
            {"id": "a2", "classes": ["x", "y"], "probs": [1.0], "embedding": [1, 2]}

            """.utf8))
        let r = try CLI.run(["predictions", "import", dir.path + "/bad.jsonl", "--model", "m"], cwd: project)
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("bad.jsonl line 1: probabilities sum to 1.1"), r.stderr)
        XCTAssertTrue(r.stderr.contains("bad.jsonl line 2: unknown id `nope`"), r.stderr)
        XCTAssertTrue(r.stderr.contains("bad.jsonl line 3: `probs` has 1 values but there are 2 classes"), r.stderr)
        XCTAssertTrue(r.stderr.contains("nothing was imported"), r.stderr)
        dir.write("emb.jsonl", Array("{\"id\": \"a1\", \"label\": \"x\", \"embedding\": [1, 2]}\n{\"id\": \"a2\", \"label\": \"y\", \"embedding\": [1]}\n".utf8))
        let e = try CLI.run(["predictions", "import", dir.path + "/emb.jsonl", "--model", "m"], cwd: project)
        XCTAssertEqual(e.status, 2)
        XCTAssertTrue(e.stderr.contains("emb.jsonl line 2: `embedding` has 1 values, but earlier lines have 2"), e.stderr)
        let list = try XCTUnwrap(try CLI.json(["predictions", "list"], cwd: project) as? [Any])
        XCTAssertEqual(list.count, 0)
        // A label-only import works for errors but not for label issues.
        dir.write("ok.jsonl", Array("{\"id\": \"a1\", \"label\": \"x\"}\n{\"id\": \"a2\", \"label\": \"y\"}\n".utf8))
        XCTAssertEqual(try CLI.run(["predictions", "import", dir.path + "/ok.jsonl", "--model", "m"], cwd: project).status, 0)
        let li = try CLI.run(["analyze", "label-issues", "--model", "m"], cwd: project)
        XCTAssertEqual(li.status, 2)
        XCTAssertTrue(li.stderr.contains("no probabilities"), li.stderr)
    }
}
