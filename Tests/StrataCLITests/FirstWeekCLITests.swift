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
            error: pipeline.yaml: stage `near`: unknown stage kind `dedup.neer` (did you mean `dedup.near`?); known kinds: clean.text, clean.image, clean.audio, dedup.exact, dedup.near, filter.quality, command
              fix: fix the stage's parameters; `strata check` validates pipeline.yaml

            """)
    }
}
