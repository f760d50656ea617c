import Foundation
import XCTest

/// The version, export, models and lineage commands as a user runs them: output, JSON and exit codes.
final class VersionCLITests: XCTestCase {
    func testVersionLifecycleModelsAndLineageFromTheCommandLine() throws {
        let t = TempDir()
        let project = t.path + "/p"
        XCTAssertEqual(try CLI.run(["init", project, "--modality", "text"]).status, 0)
        let labels = ["billing", "technical", "account"]
        let rows = (0..<60).map { "{\"text\": \"ticket \($0) text\", \"label\": \"\(labels[$0 % 3])\"}" }.joined(separator: "\n")
        t.write("in/a.jsonl", Array((rows + "\n").utf8))
        XCTAssertEqual(try CLI.run(["ingest", t.path + "/in", "--source", "desk", "--records", "--label-field", "label", "-C", project]).status, 0)

        let create = try CLI.run(["version", "create", "-m", "first", "-C", project])
        XCTAssertEqual(create.status, 0, create.stderr)
        XCTAssertTrue(create.stdout.hasPrefix("created draft v1 "), create.stdout)
        XCTAssertTrue(create.stdout.contains("labels:  account 20, billing 20, technical 20"), create.stdout)

        let unknown = try CLI.run(["version", "show", "nope", "-C", project])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.contains("no version `nope`") && unknown.stderr.contains("known versions: v1"), unknown.stderr)

        let draftModel = try CLI.run(["models", "register", "m1", "--version", "v1", "-C", project])
        XCTAssertEqual(draftModel.status, 2)
        XCTAssertTrue(draftModel.stderr.contains("strata version promote v1"), draftModel.stderr)

        XCTAssertEqual(try CLI.run(["version", "promote", "v1", "-C", project]).stdout.hasSuffix("is active\n"), true)
        let again = try CLI.run(["version", "create", "v1", "-C", project])
        XCTAssertEqual(again.status, 2)
        XCTAssertTrue(again.stderr.contains("permanent"), again.stderr)

        let list = try XCTUnwrap(try CLI.json(["version", "list", "-C", project]) as? [[String: Any]])
        XCTAssertEqual(list.map { $0["name"] as? String }, ["v1"])
        XCTAssertEqual(list[0]["state"] as? String, "active")
        XCTAssertEqual(list[0]["splits"] as? [String: Int], ["train": 48, "validation": 6, "test": 6])

        XCTAssertEqual(try CLI.run(["version", "verify", "v1", "-C", project]).status, 0)

        t.write("metrics.json", Array("{\"accuracy\": 0.9}".utf8))
        let reg = try CLI.run(["models", "register", "m1", "--version", "v1", "--metrics", t.path + "/metrics.json", "--code-rev", "abc", "-C", project])
        XCTAssertEqual(reg.status, 0, reg.stderr)
        let lineage = try CLI.run(["lineage", "model", "m1", "-C", project])
        XCTAssertTrue(lineage.stdout.contains("version:  v1 "), lineage.stdout)
        XCTAssertTrue(lineage.stdout.contains("code rev: abc"), lineage.stdout)
        XCTAssertTrue(lineage.stdout.contains("rulebook.yaml"), lineage.stdout)

        let sample = try XCTUnwrap((try CLI.json(["lineage", "version", "v1", "-C", project]) as? [String: Any])?["models"] as? [[String: Any]])
        XCTAssertEqual(sample.first?["name"] as? String, "m1")

        // A second version keeps v1's splits and says what changed.
        let more = (60..<90).map { "{\"text\": \"ticket \($0) text\", \"label\": \"\(labels[$0 % 3])\"}" }.joined(separator: "\n")
        t.write("in2/b.jsonl", Array((more + "\n").utf8))
        XCTAssertEqual(try CLI.run(["ingest", t.path + "/in2", "--source", "desk", "--records", "--label-field", "label", "-C", project]).status, 0)
        XCTAssertEqual(try CLI.run(["version", "create", "v2", "-C", project]).status, 0)
        let diff = try CLI.run(["version", "diff", "v1", "v2", "--limit", "0", "-C", project])
        XCTAssertTrue(diff.stdout.contains("added: 30"), diff.stdout)
        XCTAssertTrue(diff.stdout.contains("moved between splits: 0"), diff.stdout)
        XCTAssertTrue(diff.stdout.contains("billing\t20 -> 30\t(+10)"), diff.stdout)

        let exp = try CLI.run(["export", "v2", "--format", "jsonl", "-C", project])
        XCTAssertEqual(exp.status, 0, exp.stderr)
        XCTAssertTrue(exp.stderr.contains("v2 is a draft"), exp.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: project + "/data/ready/v2/jsonl/README.md"))
        let badFormat = try CLI.run(["export", "v2", "--format", "xml", "-C", project])
        XCTAssertEqual(badFormat.status, 2)

        XCTAssertEqual(try CLI.run(["version", "retire", "v1", "-C", project]).status, 0)
        let gc = try CLI.run(["version", "gc", "-C", project])
        XCTAssertEqual(gc.status, 0)
        XCTAssertTrue(gc.stdout.hasPrefix("removed 0 object(s)"), gc.stdout)
    }
}
