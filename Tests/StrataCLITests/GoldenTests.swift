import Foundation
import XCTest

/// The screens users read most, each compared WHOLE against a file in `Tests/StrataCLITests/Golden/`, on the demo
/// project (generated, deterministic and offline). `STRATA_UPDATE_GOLDEN=1 swift test --filter GoldenTests`
/// rewrites the files; review the diff before committing it.
///
/// What differs between two runs of the demo is replaced before the comparison (`Golden.normalise`): the project's
/// absolute path, ISO-8601 times, run ids, quarantine ids, the version's id (derived from its creation time),
/// the run's result digest, durations in seconds and libvips's own message inside a corrupt image's reason.
/// Nothing else is touched.
final class GoldenTests: XCTestCase {
    // MARK: - Screens

    func testDemoScreen() throws {
        let demo = try Demo.shared.get()
        XCTAssertEqual(demo.output.status, 0, demo.output.stderr)
        try Golden.check("demo", demo.normalise(demo.output.stdout))
        try Golden.check("demo.stderr", demo.normalise(demo.output.stderr))
    }

    func testStatusScreen() throws { try screen("status", ["status"]) }

    func testCheckScreen() throws { try screen("check", ["check"]) }

    func testFindingsScreen() throws { try screen("findings", ["findings"]) }

    func testFindingsOfOneKindScreen() throws { try screen("findings-duplicate", ["findings", "--kind", "duplicate"]) }

    func testQuarantineListScreen() throws { try screen("quarantine-list", ["quarantine", "list"]) }

    func testProfileScreen() throws { try screen("profile", ["profile"]) }

    func testVersionListScreen() throws { try screen("version-list", ["version", "list"]) }

    func testVersionShowScreen() throws { try screen("version-show", ["version", "show", "v1"]) }

    func testLineageScreen() throws { try screen("lineage-version", ["lineage", "version", "v1"]) }

    func testLabelAgreementScreen() throws { try screen("label-agreement", ["label", "agreement"]) }

    func testRulebookCheckScreen() throws { try screen("rulebook-check", ["rulebook", "check"], stderr: true) }

    func testDoctorScreen() throws { try screen("doctor", ["doctor"]) }

    /// `strata run` on the finished demo (every task cached) prints its summary; `strata runs show` shows the
    /// latest run the same way before and after it (a cached run reports what the run it reused reported).
    func testRunSummaryAndRunsShowScreens() throws {
        try screen("runs-show", ["runs", "show"])
        try screen("run", ["run"], stderr: true)
        try screen("runs-show", ["runs", "show"])
    }

    /// Every quarantine entry, in the order `quarantine list` prints them: the most important `contains` checks of
    /// the older tests (reason texts, origins with line numbers) are part of the pinned screen.
    func testQuarantineListNamesEveryRejectedRowWithItsLine() throws {
        let demo = try Demo.shared.get()
        let r = try CLI.run(["quarantine", "list", "-C", demo.path])
        let lines = demo.normalise(r.stdout).split(separator: "\n").map(String.init)
        XCTAssertEqual(Array(lines.prefix(3)), [
            "q-<id>  malformed-row",
            "    <project>/incoming/support/legacy-export.csv:44",
            "    line 44: row has 7 fields, header has 5",
        ])
    }

    // MARK: - Errors: one rendering, exact stderr, unchanged exit codes

    /// Several kinds of error, each printed whole: the project is missing, a spec file does not parse (its own
    /// fix under each problem, then the command's fix), a JSON file the user may edit is broken or has the wrong
    /// shape (no `DecodingError` or other Swift type name), an unknown version, a file that cannot be read, and
    /// a parse error of the command line. No line starts with `Error: `.
    func testErrorsAreRenderedOneWayWithExactText() throws {
        let t = TempDir()
        let p = t.path + "/p"
        XCTAssertEqual(try CLI.run(["init", p, "--modality", "text"]).status, 0)

        try expectError(["status", "-C", t.path + "/nowhere"], """
            error: no Strata project here: no strata.yaml in \(t.path)/nowhere or any folder above it
              fix: run `strata init` to create one, or change into the project folder

            """)

        try expectError(["version", "show", "nope", "-C", p], """
            error: no version `nope`
              fix: create one with `strata version create`

            """)

        try expectError(["label", "import", t.path + "/missing.csv", "-C", p], """
            error: cannot read \(t.path)/missing.csv: cannot open \(t.path)/missing.csv: No such file or directory
              fix: check the path

            """)

        try "{not json".write(toFile: p + "/.strata/remotes.json", atomically: true, encoding: .utf8)
        try expectError(["remote", "list", "-C", p], """
            error: \(p)/.strata/remotes.json is not valid: the given data was not valid JSON
              fix: fix or remove the file, then `strata remote add` again

            """)
        try #"{"remotes": {"origin": 5}}"#.write(toFile: p + "/.strata/remotes.json", atomically: true, encoding: .utf8)
        try expectError(["remote", "list", "-C", p], """
            error: \(p)/.strata/remotes.json is not valid: remotes: expected a list
              fix: fix or remove the file, then `strata remote add` again

            """)
        try FileManager.default.removeItem(atPath: p + "/.strata/remotes.json")

        let yaml = try String(contentsOfFile: p + "/strata.yaml", encoding: .utf8)
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).count
        try (yaml + "formats: [\n").write(toFile: p + "/strata.yaml", atomically: true, encoding: .utf8)
        try expectError(["status", "-C", p], """
            error: strata.yaml: 1 problem
              strata.yaml:\(lines + 1):1: YAML syntax error: did not find expected node content (while parsing a flow node at line \(lines + 1), column 1)
                fix: check the indentation and quoting on this line and the one before it
              fix: fix the lines listed above in strata.yaml (every other command needs a valid strata.yaml)

            """)
        try yaml.write(toFile: p + "/strata.yaml", atomically: true, encoding: .utf8)

        try expectError(["status", "--bogus", "-C", p], """
            error: Unknown option '--bogus'.
            Usage: strata status [--project <project>] [--json]
              See 'strata status --help' for more information.

            """)
    }

    /// The catalog's own error (a `CatalogError`): the path and SQLite's words, then the fix on its own line.
    func testAnUnopenableCatalogIsOneErrorWithItsFix() throws {
        let t = TempDir()
        let p = t.path + "/p"
        XCTAssertEqual(try CLI.run(["init", p, "--modality", "text"]).status, 0)
        let catalog = p + "/.strata/catalog.sqlite"
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: catalog + suffix) }
        try FileManager.default.createDirectory(atPath: catalog, withIntermediateDirectories: false)
        try expectError(["status", "-C", p], """
            error: cannot open the catalog \(catalog): SQLite error 14: unable to open database file
              fix: check that the file exists and is readable, and that no other program holds it open for writing; restore .strata/ from a backup if it is damaged

            """)
    }

    /// A check made inside a command's `run` (not in `validate`) keeps the usage lines, without `Error: `.
    func testValidationErrorFromRunKeepsUsageAndOnePrefix() throws {
        let t = TempDir()
        let p = t.path + "/p"
        XCTAssertEqual(try CLI.run(["init", p, "--modality", "text"]).status, 0)
        try expectError(["quarantine", "release", "-C", p], """
            error: give an entry id (see `strata quarantine list`), or --kind K, --source S, --stage S or --all
            Usage: strata quarantine release [--project <project>] [--json] [<id>] [--kind <kind>] [--source <source>] [--stage <stage>] [--all]
              See 'strata quarantine release --help' for more information.

            """)
    }

    // MARK: - Helpers

    private func expectError(_ args: [String], _ stderr: String, status: Int32 = 2, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try CLI.run(args)
        XCTAssertEqual(r.status, status, "exit code of strata \(args.joined(separator: " "))", file: file, line: line)
        XCTAssertEqual(r.stdout, "", file: file, line: line)
        XCTAssertEqual(r.stderr, stderr, file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Error: "), file: file, line: line)
    }

    private func screen(_ name: String, _ args: [String], status: Int32 = 0, stderr: Bool = false,
                        file: StaticString = #filePath, line: UInt = #line) throws {
        let demo = try Demo.shared.get()
        let r = try CLI.run(args + ["-C", demo.path])
        XCTAssertEqual(r.status, status, "exit code of strata \(args.joined(separator: " ")): \(r.stderr)", file: file, line: line)
        try Golden.check(name, demo.normalise(r.stdout), file: file, line: line)
        if stderr {
            try Golden.check(name + ".stderr", demo.normalise(r.stderr), file: file, line: line)
        } else {
            XCTAssertEqual(r.stderr, "", "strata \(args.joined(separator: " ")) wrote to stderr", file: file, line: line)
        }
    }
}

/// The demo project every screen reads, generated once per test process.
struct Demo: Sendable {
    let dir: TempDir
    let path: String
    let output: CLI.Result
    /// The full id of version v1, which depends on when it was created.
    let versionId: String

    static let shared: Result<Demo, any Error> = Result { try Demo() }

    private init() throws {
        dir = TempDir()
        path = dir.path + "/demo"
        output = try CLI.run(["demo", path], timeout: 900)
        guard output.status == 0 else {
            throw NSError(domain: "Golden", code: 1, userInfo: [NSLocalizedDescriptionKey: "strata demo failed: \(output.stderr)"])
        }
        let show = try CLI.json(["version", "show", "v1", "-C", path]) as? [String: Any]
        guard let id = show?["id"] as? String, id.count == 64 else {
            throw NSError(domain: "Golden", code: 2, userInfo: [NSLocalizedDescriptionKey: "no id in `version show v1 --json`"])
        }
        versionId = id
    }

    func normalise(_ text: String) -> String {
        let s = text.replacingOccurrences(of: versionId, with: "<version-id>")
            .replacingOccurrences(of: String(versionId.prefix(12)), with: "<version>")
        return Golden.normalise(s, project: path)
    }
}

/// Golden files: compare, or rewrite with `STRATA_UPDATE_GOLDEN=1`.
enum Golden {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden").path

    /// The documented replacements (docs/ARCHITECTURE.md, "Tests"), in this order.
    static let rules: [(pattern: String, replacement: String)] = [
        (#"\brun-[0-9]{8}T[0-9]{6}-[0-9a-f]+\b"#, "run-<id>"),
        (#"\b[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z?"#, "<time>"),
        (#"\bq-[0-9a-f]{12}\b"#, "q-<id>"),
        (#"result digest [0-9a-f]{16}"#, "result digest <digest>"),
        (#", [0-9]+(\.[0-9]+)? s\b"#, ", <secs> s"),
        // libvips keeps one error buffer per process: when two corrupt images are decoded at the same time, each
        // reason can carry both C messages (seen in this test; a StrataMedia bug to fix, not a screen to pin).
        (#"\(libvips: [^)]*\)"#, "(libvips: <message>)"),
    ]

    static func normalise(_ text: String, project: String) -> String {
        var s = text.replacingOccurrences(of: project, with: "<project>")
        for rule in rules {
            s = s.replacingOccurrences(of: rule.pattern, with: rule.replacement, options: .regularExpression)
        }
        return s
    }

    static func check(_ name: String, _ actual: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let path = folder + "/" + name + ".txt"
        if ProcessInfo.processInfo.environment["STRATA_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try actual.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOfFile: path, encoding: .utf8) else {
            XCTFail("no golden file \(path); run with STRATA_UPDATE_GOLDEN=1 to create it", file: file, line: line)
            return
        }
        XCTAssertEqual(actual, expected, firstDifference(name, actual, expected), file: file, line: line)
    }

    /// Where the two texts part, for the failure message (the comparison itself is of the whole text).
    static func firstDifference(_ name: String, _ actual: String, _ expected: String) -> String {
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let first = (0..<min(a.count, e.count)).first { a[$0] != e[$0] } ?? min(a.count, e.count)
        let got = first < a.count ? String(a[first]) : "<end>"
        let want = first < e.count ? String(e[first]) : "<end>"
        return "\(name).txt differs at line \(first + 1):\n  expected: \(want)\n  actual:   \(got)\n(STRATA_UPDATE_GOLDEN=1 rewrites the file; check the diff)"
    }
}
