import Foundation
import XCTest

/// `strata ingest --records` as a user runs it: exit codes and the lines printed (issue 18).
final class IngestRecordsCLITests: XCTestCase {
    /// The summary with its timing replaced, so it can be compared whole.
    private func stable(_ text: String) -> String {
        text.replacingOccurrences(of: #" in [0-9]+\.[0-9] s"#, with: " in T s", options: .regularExpression)
    }

    /// Issue 18 bug 7 and bug 11's exit code: an input of which nothing was accepted must not exit 0.
    func testIngestThatAcceptsNothingExitsOne() throws {
        let t = TempDir()
        let project = t.path + "/p"
        XCTAssertEqual(try CLI.run(["init", project, "--modality", "text"]).status, 0)
        t.write("in/rows.csv", Array("id,text\n1,hello there\n".utf8))
        let r = try CLI.run(["ingest", t.path + "/in", "--source", "s", "--records", "-C", project])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(stable(r.stdout), """
            ingested 0 rows from source `s` in T s
              accepted     0
              duplicates   0  (exact; recorded, not stored twice)
              quarantined  1
                format-not-allowed: 1
            see why: strata quarantine list

            """)
        XCTAssertEqual(r.stderr, "ingest records (MiB): 1/1 (100%)\nerror: nothing was accepted: every file or row of the input was quarantined (see why: strata quarantine list)\n")
        // Re-running the same command changes nothing and is not an error (the file is already in quarantine).
        let again = try CLI.run(["ingest", t.path + "/in", "--source", "s", "--records", "-C", project])
        XCTAssertEqual(again.status, 0, again.stderr)
    }

    /// Friction of issue 18: rows with a `label` field ingested without --label-field are reported, with the
    /// command that imports them; that command imports them.
    func testUnimportedLabelFieldIsReportedAndTheAdvisedCommandImportsIt() throws {
        let t = TempDir()
        let project = t.path + "/p"
        XCTAssertEqual(try CLI.run(["init", project, "--modality", "text"]).status, 0)
        try "version: 1\nlabels:\n  - name: x\n    definition: an x\n  - name: y\n    definition: a y\n"
            .write(toFile: project + "/rulebook.yaml", atomically: true, encoding: .utf8)
        let rows = t.write("in/rows.jsonl", Array("""
            {"text": "a first row", "label": "x"}
            {"text": "a second row", "label": "y"}

            """.utf8))
        let r = try CLI.run(["ingest", rows, "--source", "s", "--records", "-C", project])
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.stderr, """
            ingest records (MiB): 1/1 (100%)
            warning: 2 row(s) have a `label` field that was not imported; to import it: strata ingest --records --label-field label --reread \(rows)

            """)
        let second = try CLI.run(["ingest", "--records", "--label-field", "label", "--reread", rows, "--source", "s", "-C", project])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertEqual(stable(second.stdout), """
            ingested 2 rows from source `s` in T s
              accepted     0
              duplicates   0  (exact; recorded, not stored twice)
              unchanged    2  (already ingested)
              quarantined  0
              labels imported  2

            """)
    }

    /// Issue 20: record texts are packed (one pack per batch of 4096 rows), not one object file per row, and
    /// `check --deep` reads them through the packs; a damaged pack index makes it fail.
    func testRecordTextsArePackedAndCheckedThroughThePacks() throws {
        let t = TempDir()
        let project = t.path + "/p"
        XCTAssertEqual(try CLI.run(["init", project, "--modality", "text"]).status, 0)
        let rows = (0..<5000).map { #"{"id": \#($0), "text": "row \#($0) says \#(String(repeating: "hello world ", count: $0 % 20))"}"# }
        let file = t.write("in/rows.jsonl", Array((rows.joined(separator: "\n") + "\n").utf8))
        let r = try CLI.run(["ingest", file, "--source", "s", "--records", "-C", project])
        XCTAssertEqual(r.status, 0, r.stderr)
        let objects = project + "/.strata/objects"
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: objects), ["pack"])
        let packFiles = try FileManager.default.contentsOfDirectory(atPath: objects + "/pack").sorted()
        XCTAssertEqual(packFiles.count, 4, "\(packFiles)")
        XCTAssertEqual(packFiles.filter { $0.hasSuffix(".idx") }.count, 2)
        XCTAssertEqual(packFiles.filter { $0.hasSuffix(".pack") }.count, 2)
        let check = try CLI.run(["check", "--deep", "-C", project])
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertEqual(check.stdout, """
            checked 1 raw files (1 re-hashed), 5000 samples, 5000 objects (deep)

            coverage against intent.yaml:
              GAP scenarios    billing_questions                 0  (  0.0%)  target min 20.0%  -> 1250 more needed
              GAP scenarios    mobile_app                        0  (  0.0%)  target min 200  -> 200 more needed
              GAP edge_cases   several_topics                    0  (  0.0%)  target min 50  -> 50 more needed
              GAP edge_cases   spanish                           0  (  0.0%)  target min 100  -> 100 more needed
              GAP noise        auto_replies                      0  (  0.0%)  target min 30  -> 30 more needed

            no problems found

            """)
        // The smaller pack (904 texts) gets a damaged index: its texts are reported missing and check fails.
        let smaller = try XCTUnwrap(packFiles.filter { $0.hasSuffix(".pack") }
            .min { (fileSize(objects + "/pack/" + $0)) < (fileSize(objects + "/pack/" + $1)) })
        let idx = objects + "/pack/" + (smaller as NSString).deletingPathExtension + ".idx"
        chmod(idx, 0o644)
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: idx))
        try handle.seek(toOffset: 40)
        try handle.write(contentsOf: Data([0xFF]))
        try handle.close()
        let damaged = try CLI.run(["check", "--deep", "-C", project])
        XCTAssertEqual(damaged.status, 1)
        XCTAssertTrue(damaged.stdout.split(separator: "\n").contains("904 problem(s):"), damaged.stdout)
    }

    private func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }
}
