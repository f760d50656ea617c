import Foundation
import XCTest

/// Issue 18 from the command line: what a new user reads in the first week.
final class FirstWeekCLITests: XCTestCase {
    /// Bug 5: `error: Error: ...` and `--date` suggested for `--label` (ArgumentParser's own pick).
    func testUnknownOptionErrorHasOnePrefixAndSuggestsTheNearestOption() throws {
        let t = TempDir()
        XCTAssertEqual(try CLI.run(["init", t.path + "/p", "--modality", "text"]).status, 0)
        let r = try CLI.run(["ingest", t.path + "/in", "--label", "label", "-C", t.path + "/p"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, """
            error: Unknown option '--label'. Did you mean '--label-field'?
            Usage: strata ingest [<options>] [<paths> ...]
              See 'strata ingest --help' for more information.

            """)
        let far = try CLI.run(["ingest", "-C", t.path + "/p", "--zzzzzz"])
        XCTAssertEqual(far.stderr, """
            error: Unknown option '--zzzzzz'.
            Usage: strata ingest [<options>] [<paths> ...]
              See 'strata ingest --help' for more information.

            """)
    }

    /// Bug 5: `uses: dedup.neer` suggested `dedup.exact` (the first kind sharing `dedup`).
    func testUnknownStageKindSuggestsTheClosestKind() throws {
        let t = TempDir()
        XCTAssertEqual(try CLI.run(["init", t.path + "/p", "--modality", "text"]).status, 0)
        try """
            version: 1
            stages:
              - name: near
                uses: dedup.neer
            """.write(toFile: t.path + "/p/pipeline.yaml", atomically: true, encoding: .utf8)
        let r = try CLI.run(["run", "-C", t.path + "/p"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, """
            error: pipeline.yaml:3: stage `near`: unknown stage kind `dedup.neer` (did you mean `dedup.near`?); known kinds: clean.text, clean.image, clean.audio, dedup.exact, dedup.near, filter.quality, command
              fix: fix the stages' parameters (docs/pipeline.md); `strata check` validates pipeline.yaml

            """)
    }

    /// Bug 2: two files imported by two annotators who never label the same sample. Dawid-Skene overturned 20
    /// unopposed `dog` votes and sent 20 samples to adjudication; now those annotators fall back to their votes,
    /// and the command says so.
    func testDawidSkeneKeepsVotesOfAnnotatorsWhoNeverOverlap() throws {
        let t = TempDir()
        XCTAssertEqual(try CLI.run(["init", t.path + "/p", "--modality", "text"]).status, 0)
        try """
            version: 1
            labels:
              - name: cat
                definition: a text about a cat
              - name: dog
                definition: a text about a dog
              - name: bird
                definition: a text about a bird
            """.write(toFile: t.path + "/p/rulebook.yaml", atomically: true, encoding: .utf8)
        t.write("A.jsonl", Array((0..<100).map { #"{"id": "a\#($0)", "text": "row \#($0) of file A about an animal", "label": "\#($0 < 80 ? "cat" : "dog")"}"# }
            .joined(separator: "\n").utf8) + [0x0A])
        t.write("B.jsonl", Array((0..<20).map { #"{"id": "b\#($0)", "text": "row \#($0) of file B about an animal", "label": "\#($0 < 5 ? "bird" : "dog")"}"# }
            .joined(separator: "\n").utf8) + [0x0A])
        for (file, source) in [("A.jsonl", "a"), ("B.jsonl", "b")] {
            XCTAssertEqual(try CLI.run(["ingest", t.path + "/" + file, "--records", "--label-field", "label", "--id-field", "id",
                                        "--source", source, "-C", t.path + "/p"]).status, 0)
        }
        let r = try CLI.run(["label", "consensus", "--method", "dawid-skene", "-C", t.path + "/p"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.filter { $0.contains("\tdecided\t") }.count, 120)
        XCTAssertEqual(lines.suffix(3).joined(separator: "\n"), """
            120 sample(s) (dawid-skene, 1 annotator(s) per sample, threshold 0.700): decided 120
            dawid-skene: annotators import:A.jsonl, import:B.jsonl share no sample with another annotator: nothing to estimate confusion from, so 120 sample(s) use majority voting (the vote as given)

            """)
    }

    /// Friction: every export replaced data/ready/<version>/, so Parquet and WebDataset could not live side by side.
    func testExportsOfSeveralFormatsLiveSideBySideAndOutRefusesForeignFolders() throws {
        let t = TempDir()
        let project = t.path + "/p"
        XCTAssertEqual(try CLI.run(["init", project, "--modality", "text"]).status, 0)
        t.write("in/rows.jsonl", Array((0..<20).map { #"{"id": "r\#($0)", "text": "message number \#($0) about billing"}"# }.joined(separator: "\n").utf8) + [0x0A])
        XCTAssertEqual(try CLI.run(["ingest", t.path + "/in", "--records", "--id-field", "id", "--source", "s", "-C", project]).status, 0)
        XCTAssertEqual(try CLI.run(["version", "create", "v1", "-C", project]).status, 0)
        for format in ["parquet", "webdataset"] {
            let r = try CLI.run(["export", "v1", "--format", format, "-C", project])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.stdout.split(separator: "\n").first.map(String.init)?.hasSuffix(" to data/ready/v1/\(format)"), true, r.stdout)
        }
        for format in ["parquet", "webdataset"] {
            for file in ["manifest.json", "README.md", "croissant.json"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: "\(project)/data/ready/v1/\(format)/\(file)"), "\(format)/\(file)")
            }
        }
        let foreign = t.path + "/mine"
        t.write("mine/notes.txt", Array("keep me\n".utf8))
        let refused = try CLI.run(["export", "v1", "--format", "jsonl", "--out", foreign, "-C", project])
        XCTAssertEqual(refused.status, 2)
        XCTAssertEqual(refused.stderr, """
            error: --out \(foreign) holds other files (1 entries) and no Strata export manifest.json; exporting there would replace them
              fix: name a new folder, an empty one, or one a previous `strata export` wrote

            """)
        XCTAssertTrue(FileManager.default.fileExists(atPath: foreign + "/notes.txt"))
        let out = t.path + "/exports/v1-jsonl"
        XCTAssertEqual(try CLI.run(["export", "v1", "--format", "jsonl", "--out", out, "-C", project]).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/croissant.json"))
        XCTAssertEqual(try CLI.run(["export", "v1", "--format", "jsonl", "--out", out, "-C", project]).status, 0, "an earlier export is replaced")
    }

    /// Friction: `label import` could address samples only by Strata's id; `--id-field` takes the user's own row id
    /// as ingest recorded it (as `predictions import` resolves external ids).
    func testLabelImportAddressesSamplesByTheUsersOwnId() throws {
        let t = TempDir()
        let project = t.path + "/p"
        XCTAssertEqual(try CLI.run(["init", project, "--modality", "text"]).status, 0)
        try """
            version: 1
            labels:
              - name: billing
                definition: about money
              - name: other
                definition: anything else
            """.write(toFile: project + "/rulebook.yaml", atomically: true, encoding: .utf8)
        t.write("in/rows.jsonl", Array((0..<3).map { #"{"id": "T-\#($0)", "text": "message number \#($0) about an invoice"}"# }.joined(separator: "\n").utf8) + [0x0A])
        XCTAssertEqual(try CLI.run(["ingest", t.path + "/in", "--records", "--id-field", "id", "--source", "s", "-C", project]).status, 0)
        let good = t.write("labels.csv", Array("id,value\nT-0,billing\nT-2,other\n".utf8))
        let r = try CLI.run(["label", "import", good, "--id-field", "id", "-C", project])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "2 label(s) read from \(good): 2 stored, 0 already present\n")
        let jsonl = t.write("more.jsonl", Array(#"{"id": "T-1", "value": "billing"}"#.utf8) + [0x0A])
        XCTAssertEqual(try CLI.run(["label", "import", jsonl, "--id-field", "id", "-C", project]).stdout,
                       "1 label(s) read from \(jsonl): 1 stored, 0 already present\n")
        let bad = t.write("bad.csv", Array("id,value\nT-9,billing\n".utf8))
        let refused = try CLI.run(["label", "import", bad, "--id-field", "id", "-C", project])
        XCTAssertEqual(refused.status, 2)
        XCTAssertEqual(refused.stderr, """
            error: 1 problem(s) in bad.csv; nothing was imported:
              bad.csv line 2: id: no sample was ingested with the id `T-9` (ingest's --id-field)
              fix: correct those rows and import the file again (labels already imported are skipped)

            """)
        let consensus = try XCTUnwrap(try CLI.json(["label", "consensus", "-C", project]) as? [String: Any])
        XCTAssertEqual((consensus["samples"] as? [Any])?.count, 3)
    }
}
