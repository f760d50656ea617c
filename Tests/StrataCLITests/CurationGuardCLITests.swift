import Foundation
import StrataMedia
import XCTest

/// The data profile, the removal guard and `run --preview` through the binary (issue 16): a deliberately wrong
/// setting stops the run before anything is published, with the stage, the reason, counts, examples and the two ways
/// on; the ledger and data/cleaned stay as they were; a preview writes nothing.
final class CurationGuardCLITests: XCTestCase {
    /// 20 six-word notes, 20 fifteen-word notes and one line of symbol soup.
    func makeProject(_ t: TempDir) throws -> String {
        let project = t.path + "/p"
        XCTAssertEqual(try CLI.run(["init", project, "--modality", "text,image"]).status, 0)
        // "Pump N in hall A works." is one template filled in: near duplicates by the default's character 5-grams.
        // These tests are about the quality rules and the guard on them, so near duplicates use word 5-grams.
        try useWordShingles(project)
        var lines: [String] = []
        for i in 0..<40 {
            let text = i % 2 == 0 ? "Pump \(i) in hall A works." : "The pump number \(i) in the north hall was checked today and it works fine."
            lines.append("{\"text\": \"\(text)\"}")
        }
        lines.append("{\"text\": \":^^-=:5}{ ~_(4 *2;}]*$5{*&46^|&^(~ ~7#^[<<__5{){48+@_]2[5@71}?()51+}&(+9?05/9_2]?78\"}")
        t.write("in/notes.jsonl", Array((lines.joined(separator: "\n") + "\n").utf8))
        let ingest = try CLI.run(["ingest", t.path + "/in/notes.jsonl", "--source", "notes", "--records", "--text-field", "text", "-C", project])
        XCTAssertEqual(ingest.status, 0, ingest.stderr)
        return project
    }

    /// What a user can see of the project's state: the quarantine ledger, data/cleaned, the status summary.
    func state(_ project: String) throws -> String {
        let q = try CLI.run(["quarantine", "list", "-C", project]).stdout
        let files = (FileManager.default.enumerator(atPath: project + "/data/cleaned")?.allObjects as? [String] ?? []).sorted()
        let status = try CLI.run(["status", "-C", project]).stdout
        return q + "\n" + files.joined(separator: "\n") + "\n" + status
    }

    func normalized(_ s: String, _ t: TempDir) -> String {
        s.replacingOccurrences(of: t.path, with: "TMP")
            .replacingOccurrences(of: #"run-[0-9]{8}T[0-9]{6}-[0-9a-f]+"#, with: "RUN", options: .regularExpression)
    }

    func setQuality(_ project: String, _ params: String, guardLines: String = "") throws {
        let path = project + "/pipeline.yaml"
        var yaml = try String(contentsOfFile: path, encoding: .utf8)
        let stage = "    uses: filter.quality\n    params: {"
        if yaml.contains(stage) {
            yaml = yaml.replacingOccurrences(of: stage, with: stage + params.dropFirst().dropLast() + ", ")
        } else {
            yaml = yaml.replacingOccurrences(of: "    uses: filter.quality\n", with: "    uses: filter.quality\n    params: \(params)\n")
        }
        try (yaml + guardLines).write(toFile: path, atomically: true, encoding: .utf8)
    }

    func testTheGuardStopsAWrongSettingBeforePublishingAndPreviewWritesNothing() throws {
        let t = TempDir()
        let project = try makeProject(t)
        // The default pipeline keeps every note and quarantines the symbol soup.
        let first = try CLI.run(["run", "-C", project])
        XCTAssertEqual(first.status, 0, first.stderr)
        let before = try state(project)
        XCTAssertTrue(before.contains("1 entry"), before)

        // A deliberately wrong setting: 12 words minimum takes every short note.
        try setQuality(project, "{min_words: 12}")
        let stopped = try CLI.run(["run", "-C", project])
        XCTAssertEqual(stopped.status, 2)
        XCTAssertEqual(stopped.stdout, "")
        let stderr = normalized(stopped.stderr, t).split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("[") }.joined(separator: "\n")
        XCTAssertEqual(stderr, """
            error: run RUN stopped: the removal guard stopped the run at stage `quality` (filter.quality):
              source `notes`: would quarantine 21 of 41 samples (51.2%), above guard.max_removed 20%
                by reason: too-few-words 21
                e.g. TMP/in/notes.jsonl:1: too-few-words: 6 words, minimum 12
                e.g. TMP/in/notes.jsonl:3: too-few-words: 6 words, minimum 12
                e.g. TMP/in/notes.jsonl:5: too-few-words: 6 words, minimum 12
            nothing was published: data/cleaned, the cleaned set and the quarantine ledger are as they were
              fix: either adjust the parameter of stage `quality` in pipeline.yaml (too-few-words: min_words; or `disable: [too-few-words]`) and check with `strata run --preview`,
                   or accept these removals: `strata run --accept-removals quality`, or `guard: {accept: [quality]}` in pipeline.yaml

            """)
        XCTAssertEqual(try state(project), before, "the ledger and data/cleaned stay as they were")
        let runs = try XCTUnwrap(try CLI.json(["runs", "list", "-C", project]) as? [[String: Any]])
        XCTAssertEqual(runs.first?["status"] as? String, "failed")

        // The preview shows the same and writes nothing.
        let preview = try CLI.run(["run", "--preview", "-C", project])
        XCTAssertEqual(preview.status, 0, preview.stderr)
        XCTAssertEqual(normalized(preview.stdout, t), """
            preview (nothing written): 41 samples in
            clean-text (clean.text):
              removes nothing
            clean-images (clean.image):
              removes nothing
            quality (filter.quality):
              source `notes`: 21 of 41 (51.2%): too-few-words 21
                e.g. TMP/in/notes.jsonl:1: too-few-words: 6 words, minimum 12
                e.g. TMP/in/notes.jsonl:3: too-few-words: 6 words, minimum 12
                e.g. TMP/in/notes.jsonl:5: too-few-words: 6 words, minimum 12
              GUARD: source `notes` above guard.max_removed 20%
            exact-dups (dedup.exact):
              removes nothing
            near-dups (dedup.near):
              removes nothing
            would publish 20 samples to data/cleaned/

            """)
        XCTAssertEqual(try state(project), before, "a preview writes nothing")
        XCTAssertEqual((try CLI.json(["runs", "list", "-C", project]) as? [[String: Any]])?.count, runs.count, "a preview records no run")

        // Accepting the removals lets the run through.
        let accepted = try CLI.run(["run", "--accept-removals", "quality", "-C", project])
        XCTAssertEqual(accepted.status, 0, accepted.stderr)
        // The ledger shows what the current settings reject: the soup's `mostly-symbols` entry of the first run is
        // superseded by its `too-few-words` entry.
        XCTAssertTrue(accepted.stdout.contains("\nquarantine: 1 entry of earlier settings superseded (released)\n"), accepted.stdout)
        let ledger = try XCTUnwrap(try CLI.json(["quarantine", "list", "-C", project]) as? [[String: Any]])
        XCTAssertEqual(ledger.count, 21)
        XCTAssertEqual(Set(ledger.compactMap { $0["kind"] as? String }), ["too-few-words"])
        // Back to the defaults: the short notes' entries are superseded, the soup's `mostly-symbols` entry is open again.
        try String(contentsOfFile: project + "/pipeline.yaml", encoding: .utf8).replacingOccurrences(of: "min_words: 12, ", with: "")
            .write(toFile: project + "/pipeline.yaml", atomically: true, encoding: .utf8)
        let back = try CLI.run(["run", "-C", project])
        XCTAssertEqual(back.status, 0, back.stderr)
        XCTAssertTrue(back.stdout.contains("\nquarantine: 21 entries of earlier settings superseded (released)\n"), back.stdout)
        XCTAssertEqual(try state(project), before, "the ledger, data/cleaned and status are those of the first run again")

        // Unknown stage names are refused, on the command line and in `guard:` (with the line).
        let unknown = try CLI.run(["run", "--accept-removals", "qualty", "-C", project])
        XCTAssertEqual(unknown.status, 2)
        let path = project + "/pipeline.yaml"
        try (try String(contentsOfFile: path, encoding: .utf8) + "guard:\n  max_removed: 1.5\n  accept: [qualty]\n").write(toFile: path, atomically: true, encoding: .utf8)
        let bad = try CLI.run(["run", "-C", project])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("pipeline.yaml:") && bad.stderr.contains("max_removed") && bad.stderr.contains("`qualty` is not a stage"), bad.stderr)
    }

    func testProfileIsPrintedAndKeptWithTheRun() throws {
        let t = TempDir()
        let project = try makeProject(t)
        // 28x28 digits-like images beside the notes.
        for i in 0..<5 {
            let png = try Encode.png(Synth.shape(.circle, size: 28, night: false, blur: 0, seed: UInt64(i + 1)))
            t.write("img/d\(i).png", png)
        }
        XCTAssertEqual(try CLI.run(["ingest", t.path + "/img", "--source", "digits", "-C", project]).status, 0)
        let profile = try CLI.run(["profile", "-C", project])
        XCTAssertEqual(profile.status, 0, profile.stderr)
        XCTAssertEqual(profile.stdout, """
            digits (image): 5 samples
              width: median 28 px (5% 28, 95% 28)
              height: median 28 px (5% 28, 95% 28)
              shorter side: median 28 px (5% 28, 95% 28)
              channels: 3 5; with alpha: 0
            notes (text): 41 samples
              characters: median 72 (5% 23, 95% 73)
              words: median 6 (5% 6, 95% 15)
              scripts: latin 40, none 1
              without spaces between words: 0; technical: 1

            """)
        let json = try XCTUnwrap(try CLI.json(["profile", "-C", project]) as? [String: Any])
        XCTAssertEqual((json["sources"] as? [Any])?.count, 2)
        // The run keeps it; the 28 px images are kept (they are this source's typical size).
        let run = try CLI.run(["run", "--accept-removals", "quality", "-C", project])
        XCTAssertEqual(run.status, 0, run.stderr)
        let shown = try CLI.run(["runs", "show", "-C", project]).stdout
        XCTAssertTrue(shown.contains("data profile:\n  digits (image): 5 samples\n    width: median 28 px"), shown)
        XCTAssertFalse(try CLI.run(["quarantine", "list", "-C", project]).stdout.contains("too-small"))
    }

    /// Parameter problems of every stage are reported at once, each with its line in pipeline.yaml.
    func testStageParameterProblemsAreReportedTogetherWithTheirLines() throws {
        let t = TempDir()
        let project = t.path + "/p"
        XCTAssertEqual(try CLI.run(["init", project, "--modality", "text"]).status, 0)
        try "version: 1\nstages:\n  - name: clean\n    uses: clean.text\n    params: {normalize: nfd}\n  - name: quality\n    uses: filter.quality\n    params: {disable: [repetitive-ngram]}\n"
            .write(toFile: project + "/pipeline.yaml", atomically: true, encoding: .utf8)
        let r = try CLI.run(["run", "-C", project])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, """
            error: 2 problems in pipeline.yaml:
              pipeline.yaml:3: stage `clean`: params.normalize is `nfd`; allowed: nfc, nfkc, none
              pipeline.yaml:6: stage `quality`: params.disable names `repetitive-ngram`, not a rule; rules: too-few-words, too-many-words, mostly-symbols, mean-word-length, symbol-heavy, bullet-heavy, ellipsis-heavy, low-alpha, few-stopwords, line-too-long, repetitive-lines, repetitive-paragraphs, repetitive-ngrams, too-small, extreme-aspect-ratio, near-uniform, blurry, too-short, mostly-silence, clipping
              fix: fix the stages' parameters (docs/pipeline.md); `strata check` validates pipeline.yaml

            """)
    }
}
