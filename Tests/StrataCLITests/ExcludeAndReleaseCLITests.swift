import Foundation
import XCTest

/// `strata version create --exclude-findings KIND` (issue 19's follow-up) and `strata quarantine release` in bulk
/// (issue 16, part 3).
final class ExcludeAndReleaseCLITests: XCTestCase {
    /// The 302-quote project of `TrustGatingCLITests`: a weak model whose only credible flags are two label issues
    /// (quotes.jsonl lines 61 and 62).
    private func flaggedProject(_ dir: TempDir) throws -> String {
        let project = try weakModelQuoteProject(dir)
        let r = try CLI.run(["analyze", "label-issues", "--limit", "0"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr)
        return project
    }

    func testVersionExcludesOpenLabelIssuesAndRecordsWhy() throws {
        let dir = TempDir()
        let project = try flaggedProject(dir)
        let flagged = try XCTUnwrap(try CLI.json(["findings", "--kind", "label-issue"], cwd: project) as? [[String: Any]])
        let flaggedShort = flagged.compactMap { $0["sample"] as? String }.sorted()
        XCTAssertEqual(flaggedShort.count, 2)

        // A kind with no open findings excludes nothing: an error, not a silent no-op.
        var r = try CLI.run(["version", "create", "v1", "--exclude-findings", "corrupt"], cwd: project)
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, """
            error: no open `corrupt` findings on samples of the project: nothing to exclude
              fix: see the kinds with `strata findings`, or leave out --exclude-findings corrupt

            """)
        r = try CLI.run(["version", "create", "v1", "--exclude-findings", "leakage"], cwd: project)
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.hasPrefix("error: --exclude-findings leakage is not supported"), r.stderr)

        r = try CLI.run(["version", "create", "v1", "-m", "flagged left out", "--exclude-findings", "label-issue"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr)
        let show = try XCTUnwrap(try CLI.json(["version", "show", "v1"], cwd: project) as? [String: Any])
        let id = try XCTUnwrap(show["id"] as? String), created = try XCTUnwrap(show["created"] as? String)
        r = try CLI.run(["version", "show", "v1"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.prefix(10).joined(separator: "\n"), """
            version: v1
            id:      \(id)
            state:   draft
            parent:  -
            created: \(created)
            message: flagged left out
            samples: 300
            splits:  test 30, train 240, validation 30
            labels:  art 100, love 100, war 100
            excluded: 2 sample(s) with an open `label-issue` finding, at the user's request (--exclude-findings label-issue)
            """)
        XCTAssertEqual(lines.dropFirst(10).filter { !$0.hasPrefix("spec:    ") }, [], r.stdout)
        let excluded = try XCTUnwrap(show["excluded_findings"] as? [[String: Any]])
        XCTAssertEqual(excluded.count, 1)
        XCTAssertEqual(excluded.first?["kind"] as? String, "label-issue")
        XCTAssertEqual(excluded.first?["samples"] as? Int, 2)
        XCTAssertEqual(excluded.first?["reason"] as? String, "user request")

        // The manifest keeps the excluded ids, so the version is reproducible; none of them is a member.
        let manifestPath = project + "/.strata/objects/" + id.prefix(2) + "/" + id.dropFirst(2)
        let manifestData = try XCTUnwrap(FileManager.default.contents(atPath: manifestPath), manifestPath)
        let manifest = try XCTUnwrap(try JSONSerialization.jsonObject(with: manifestData) as? [String: Any])
        let entries = try XCTUnwrap(manifest["excluded"] as? [[String: Any]])
        XCTAssertEqual(entries.count, 1)
        XCTAssertEqual(entries.first?["kind"] as? String, "label-issue")
        XCTAssertEqual(entries.first?["reason"] as? String, "user request")
        let excludedIds = try XCTUnwrap(entries.first?["samples"] as? [String])
        XCTAssertEqual(excludedIds.count, 2)
        XCTAssertEqual(excludedIds.map { String($0.prefix(flaggedShort[0].count)) }.sorted(), flaggedShort)
        let memberIds = Set((manifest["samples"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
        XCTAssertEqual(memberIds.count, 300)
        XCTAssertTrue(memberIds.isDisjoint(with: excludedIds))

        // The same request on the same data gives the same version; without it, the flagged samples are back.
        r = try CLI.run(["version", "create", "v1", "-m", "flagged left out", "--exclude-findings", "label-issue"], cwd: project)
        XCTAssertEqual(r.stdout, "nothing changed: the content equals version v1 (\(id.prefix(12)))\n")
        r = try CLI.run(["version", "create", "v2", "-m", "all"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr)
        let all = try XCTUnwrap(try CLI.json(["version", "show", "v2"], cwd: project) as? [String: Any])
        XCTAssertEqual(all["samples"] as? Int, 302)
        XCTAssertEqual((all["excluded_findings"] as? [Any])?.count, 0)

        // The dataset card says what was left out and why.
        r = try CLI.run(["export", "v1", "--format", "jsonl"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr)
        let card = String(decoding: try XCTUnwrap(FileManager.default.contents(atPath: project + "/data/ready/v1/jsonl/README.md")), as: UTF8.self)
        let section = try XCTUnwrap(card.range(of: "## Excluded samples\n").map { card[$0.lowerBound...] }.flatMap { s in
            s.range(of: "## Lineage").map { String(s[..<$0.lowerBound]) } })
        XCTAssertEqual(section, """
            ## Excluded samples

            - 2 sample(s) with an open `label-issue` finding were left out at the user's request (`strata version create --exclude-findings label-issue`); their ids are under `excluded` in the version manifest.

            Leaving flagged samples out removes them from every split, test included, so scores on this version are not comparable with a version that kept them.


            """)
        let v2 = try CLI.run(["export", "v2", "--format", "jsonl"], cwd: project)
        XCTAssertEqual(v2.status, 0, v2.stderr)
        let card2 = String(decoding: FileManager.default.contents(atPath: project + "/data/ready/v2/jsonl/README.md") ?? Data(), as: UTF8.self)
        XCTAssertFalse(card2.isEmpty)
        XCTAssertFalse(card2.contains("## Excluded samples"))
    }

    func testBulkReleaseByKindSourceAndAll() throws {
        let dir = TempDir()
        let project = dir.path + "/p"
        XCTAssertEqual(try CLI.run(["init", project, "--modality", "text"]).status, 0)
        dir.write("in/r.jsonl", Array("""
            {"id":"a","text":"hello there"}
            {"id":"b","text":"bad
            {"id":"c","text":"third row of the text"}
            {"id":"d"}

            """.utf8))
        dir.write("in/s.jsonl", Array("{\"id\":\"e\",\"text\":\"other file row\"}\nnot json\n".utf8))
        var r = try CLI.run(["ingest", dir.path + "/in", "--source", "web", "--records", "--id-field", "id"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr)
        let before = try XCTUnwrap(try CLI.json(["quarantine", "list"], cwd: project) as? [[String: Any]])
        XCTAssertEqual(before.compactMap { $0["kind"] as? String }.sorted(), ["malformed-row", "malformed-row", "missing-field"])

        // Neither an id with a filter nor nothing at all.
        XCTAssertEqual(try CLI.run(["quarantine", "release"], cwd: project).status, 2)
        XCTAssertEqual(try CLI.run(["quarantine", "release", "q-1", "--all"], cwd: project).status, 2)

        // Fix the two malformed rows (not the row without text) and release them in one call.
        dir.write("in/r.jsonl", Array("""
            {"id":"a","text":"hello there"}
            {"id":"b","text":"bad row, fixed by now"}
            {"id":"c","text":"third row of the text"}
            {"id":"d"}

            """.utf8))
        dir.write("in/s.jsonl", Array("{\"id\":\"e\",\"text\":\"other file row\"}\n{\"id\":\"f\",\"text\":\"the second row, fixed\"}\n".utf8))
        r = try CLI.run(["quarantine", "release", "--kind", "malformed-row"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "released 2 of 2 entries\n")
        let status = try XCTUnwrap(try CLI.json(["status"], cwd: project) as? [String: Any])
        XCTAssertEqual(status["samples"] as? Int, 5, "\(status)")

        // Nothing left of that kind: exit 1 with a clear message.
        r = try CLI.run(["quarantine", "release", "--kind", "malformed-row"], cwd: project)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdout, "")
        XCTAssertEqual(r.stderr, """
            error: no quarantined entries to release with kind `malformed-row`
              fix: see what is quarantined with `strata quarantine list` (released ones with `--all`)

            """)

        // An entry whose cause is not fixed stays quarantined: exit 1, with its reason.
        r = try CLI.run(["quarantine", "release", "--source", "web"], cwd: project)
        XCTAssertEqual(r.status, 1)
        let missing = try XCTUnwrap(before.first { $0["kind"] as? String == "missing-field" }?["id"] as? String)
        XCTAssertEqual(r.stdout, """
            released 0 of 1 entry; 1 still fails
              \(missing): the row has no field `text` (it has: id); set the text field with --text-field
            fix the files at their origin and try again

            """)

        // Pipeline entries: a stricter minimum length quarantines two rows in `clean-text`. Release refuses them
        // (the stage would reject them again) and says what to do instead; `--all` releases the ingest entries only.
        let pipeline = project + "/pipeline.yaml"
        let yaml = String(decoding: try XCTUnwrap(FileManager.default.contents(atPath: pipeline)), as: UTF8.self)
        XCTAssertTrue(yaml.contains("min_length: 1}"))
        dir.write("p/pipeline.yaml", Array(yaml.replacingOccurrences(of: "min_length: 1}", with: "min_length: 20}").utf8))
        r = try CLI.run(["run"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try CLI.run(["quarantine", "release", "--stage", "clean-text"], cwd: project)
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, """
            error: 2 entries were quarantined by pipeline stage `clean-text`, not by ingest: release re-admits only ingest entries
              fix: the stage rejects them again on the next `strata run` unless its rule changes: change the stage's parameter in pipeline.yaml, or disable the rule (`disable: [RULE]`), then `strata run` (entries it no longer rejects are released as superseded)

            """)
        dir.write("in/r.jsonl", Array("""
            {"id":"a","text":"hello there"}
            {"id":"b","text":"bad row, fixed by now"}
            {"id":"c","text":"third row of the text"}
            {"id":"d","text":"the fourth row has text"}

            """.utf8))
        r = try CLI.run(["quarantine", "release", "--all"], cwd: project)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, """
            released 1 of 1 entry
            skipped 2 entries of pipeline stage `clean-text`: change its parameter or disable the rule in pipeline.yaml, then `strata run`

            """)
        let left = try XCTUnwrap(try CLI.json(["quarantine", "list"], cwd: project) as? [[String: Any]])
        XCTAssertEqual(left.compactMap { $0["stage"] as? String }, ["clean-text", "clean-text"])
    }
}
