import Foundation
import StrataMedia
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class CLITests: XCTestCase {
    func testHelpListsTheCommands() throws {
        let r = try CLI.run(["--help"])
        XCTAssertEqual(r.status, 0)
        for c in ["init", "demo", "ingest", "status", "check", "findings", "quarantine"] {
            XCTAssertTrue(r.stdout.contains(c), "help mentions \(c)")
        }
    }

    func testUsageErrorsExitWithTwoAndExplain() throws {
        let t = TempDir()
        XCTAssertEqual(try CLI.run(["init", t.path + "/p", "--modality", "text"]).status, 0)
        t.write("in/a.txt", Array("hello\n".utf8))
        let r = try CLI.run(["ingest", t.path + "/in", "--source", "../../x", "-C", t.path + "/p"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("error: invalid --source `../../x`"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: t.path + "/x"))
        let missing = try CLI.run(["ingest", "--source", "s", "-C", t.path + "/p"])
        XCTAssertEqual(missing.status, 2)
        let noProject = try CLI.run(["status", "-C", t.path])
        XCTAssertEqual(noProject.status, 2)
        XCTAssertTrue(noProject.stderr.contains("strata init"), noProject.stderr)
        let noSource = try CLI.run(["ingest", t.path + "/in", "-C", t.path + "/p"])
        XCTAssertEqual(noSource.status, 2)
        XCTAssertTrue(noSource.stderr.contains("no --source given"), noSource.stderr)
        let yaml = try String(contentsOfFile: t.path + "/p/strata.yaml", encoding: .utf8)
            .replacingOccurrences(of: "defaults:\n", with: "defaults:\n  source: field-team\n")
        try yaml.write(toFile: t.path + "/p/strata.yaml", atomically: true, encoding: .utf8)
        let withDefault = try CLI.run(["ingest", t.path + "/in", "-C", t.path + "/p"])
        XCTAssertEqual(withDefault.status, 0, withDefault.stderr)
        XCTAssertTrue(withDefault.stdout.contains("source `field-team`"), withDefault.stdout)
        let badModality = try CLI.run(["init", t.path + "/q", "--modality", "video"])
        XCTAssertEqual(badModality.status, 2)
        XCTAssertTrue(badModality.stderr.contains("unknown modality `video`"), badModality.stderr)
    }

    func testInitIngestFindingsJSONAndCheckExitCodes() throws {
        let t = TempDir()
        let project = t.path + "/p"
        XCTAssertEqual(try CLI.run(["init", project, "--modality", "text,image"]).status, 0)
        for f in ["strata.yaml", "intent.yaml", "rulebook.yaml", "pipeline.yaml", ".gitignore", "data/raw", "data/cleaned", "data/labeled", "data/ready", "quarantine", ".strata"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: project + "/" + f), f)
        }
        let png = try Encode.png(Synth.shape(.circle, size: 32, night: false, blur: 0, seed: 1))
        t.write("in/a.png", png)
        t.write("in/b.png", png)
        t.write("in/broken.png", Array(png.prefix(40)))
        let summary = try XCTUnwrap(try CLI.json(["ingest", t.path + "/in", "--source", "cam", "-C", project]) as? [String: Any])
        XCTAssertEqual(summary["accepted"] as? Int, 1)
        XCTAssertEqual(summary["duplicates"] as? Int, 1)
        XCTAssertEqual(summary["quarantined"] as? Int, 1)
        let findings = try XCTUnwrap(try CLI.json(["findings", "-C", project]) as? [[String: Any]])
        let dup = try XCTUnwrap(findings.first { $0["kind"] as? String == "duplicate" })
        XCTAssertEqual(dup["origin"] as? String, t.path + "/in/b.png")
        XCTAssertEqual(dup["related_origin"] as? String, t.path + "/in/a.png")
        XCTAssertEqual(dup["stage"] as? String, "ingest")
        XCTAssertNotNil(dup["reason"] as? String)
        let corrupt = try XCTUnwrap(findings.first { $0["kind"] as? String == "corrupt" })
        XCTAssertEqual(corrupt["origin"] as? String, t.path + "/in/broken.png")
        let q = try XCTUnwrap(try CLI.json(["quarantine", "list", "-C", project]) as? [[String: Any]])
        XCTAssertEqual(q.count, 1)
        XCTAssertEqual(q[0]["kind"] as? String, "corrupt")
        // A clean project checks with exit 0; a tampered raw file gives exit 1.
        let ok = try CLI.run(["check", "-C", project])
        XCTAssertEqual(ok.status, 0, ok.stdout + ok.stderr)
        let raw = project + "/data/raw/cam/" + (try FileManager.default.contentsOfDirectory(atPath: project + "/data/raw/cam")[0])
        chmod(raw, 0o644)
        _ = FileManager.default.createFile(atPath: raw, contents: Data([1, 2, 3]))
        let bad = try CLI.run(["check", "-C", project])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stdout.contains("raw file changed"), bad.stdout)
    }

    func testTwoIngestsAtOnceBothFinishAndTheCatalogStaysConsistent() throws {
        let t = TempDir()
        let project = t.path + "/p"
        XCTAssertEqual(try CLI.run(["init", project, "--modality", "text"]).status, 0)
        for i in 0..<300 { t.write("a/\(i).txt", Array("first set message \(i)\n".utf8)) }
        for i in 0..<300 { t.write("b/\(i).txt", Array("second set message \(i)\n".utf8)) }
        nonisolated(unsafe) var results: [CLI.Result?] = [nil, nil]
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            results[i] = try? CLI.run(["ingest", t.path + (i == 0 ? "/a" : "/b"), "--source", i == 0 ? "one" : "two", "-C", project])
        }
        XCTAssertEqual(results[0]?.status, 0, results[0]?.stderr ?? "")
        XCTAssertEqual(results[1]?.status, 0, results[1]?.stderr ?? "")
        let check = try CLI.run(["check", "-C", project, "--deep"])
        XCTAssertEqual(check.status, 0, check.stdout)
        let status = try XCTUnwrap(try CLI.json(["status", "-C", project]) as? [String: Any])
        XCTAssertEqual(status["samples"] as? Int, 600)
    }

    func testKilledIngestResumesToTheSameStateAsAnUninterruptedRun() throws {
        let t = TempDir()
        for i in 0..<1500 { t.write("in/\(i % 10)/\(i).txt", Array("message number \(i) about topic \(i % 37)\n".utf8)) }
        for i in 0..<30 { t.write("in/dups/\(i).txt", Array("message number \(i) about topic \(i % 37)\n".utf8)) }
        t.write("in/bad/latin.txt", [0x63, 0xE9, 0x0A])
        let reference = t.path + "/ref"
        XCTAssertEqual(try CLI.run(["init", reference, "--modality", "text"]).status, 0)
        XCTAssertEqual(try CLI.run(["ingest", t.path + "/in", "--source", "s", "--date", "2026-01-01", "-C", reference]).status, 0)
        let expected = try snapshot(reference)
        var seed: UInt64 = 42
        for round in 0..<5 {
            let project = t.path + "/crash\(round)"
            XCTAssertEqual(try CLI.run(["init", project, "--modality", "text"]).status, 0)
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let delay = 20_000 + Int(seed >> 33) % 400_000  // 20-420 ms
            try CLI.killed(["ingest", t.path + "/in", "--source", "s", "--date", "2026-01-01", "-C", project], afterMicroseconds: delay)
            let rerun = try CLI.run(["ingest", t.path + "/in", "--source", "s", "--date", "2026-01-01", "-C", project])
            XCTAssertEqual(rerun.status, 0, rerun.stderr)
            XCTAssertEqual(try snapshot(project), expected, "round \(round), killed after \(delay / 1000) ms")
            let check = try CLI.run(["check", "--deep", "-C", project])
            XCTAssertFalse(check.stdout.contains("[raw]") || check.stdout.contains("[catalog]") || check.stdout.contains("[names]"), check.stdout)
        }
    }

    func testOversizedLineUsesBoundedMemory() throws {
        // Two ingests in the same environment: one whose oversized line is just over the 1 MiB limit (the baseline:
        // the binary, its libraries and one chunk buffer) and one whose line is 200 MiB. A reader that buffered the
        // line would add at least 200 MiB; a streaming one adds nothing. Comparing with the baseline rather than a
        // fixed figure keeps the test independent of how much a debug binary costs on a given machine.
        let t = TempDir()
        try FileManager.default.createDirectory(atPath: t.path + "/in", withIntermediateDirectories: true)
        func writeFile(_ name: String, lineMiB: Int) -> String {
            let path = t.path + "/in/" + name
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            _ = "{\"text\": \"ok\"}\n{\"text\": \"".withCString { write(fd, $0, strlen($0)) }
            let block = [UInt8](repeating: 0x62, count: 1 << 20)
            for _ in 0..<lineMiB { _ = block.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
            _ = "\"}\n{\"text\": \"fine\"}\n".withCString { write(fd, $0, strlen($0)) }
            close(fd)
            return path
        }
        var peaks: [Int] = []
        for (name, mib) in [("small.jsonl", 2), ("big.jsonl", 200)] {
            let project = t.path + "/p-" + name
            XCTAssertEqual(try CLI.run(["init", project, "--modality", "text"]).status, 0)
            // The peak of this one child (wait4), not RUSAGE_CHILDREN: that is the maximum over every child the test
            // process ever waited for, Python peers of earlier tests included.
            let output = t.path + "/ingest-\(name).out"
            peaks.append(try peakMemoryKiB(of: ["ingest", writeFile(name, lineMiB: mib), "--source", "s", "--records", "-C", project],
                                           stdout: output))
            let stdout = try String(contentsOfFile: output, encoding: .utf8)
            XCTAssertTrue(stdout.contains("accepted     2"), stdout)
            XCTAssertTrue(stdout.contains("too-large: 1"), stdout)
        }
        XCTAssertLessThan(peaks[1] - peaks[0], 64 * 1024,
                          "a 200 MiB line must not raise the ingest's peak memory (KiB: \(peaks[0]) with a 2 MiB line, \(peaks[1]) with 200 MiB)")
    }

    /// Runs the strata binary (stdout to a file, stderr discarded) and returns that child's peak resident memory from wait4.
    func peakMemoryKiB(of args: [String], stdout: String) throws -> Int {
        var pid: pid_t = 0
        let argv = ([CLI.binary] + args).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        guard posix_spawn(&pid, CLI.binary, &actions, nil, argv, environ) == 0 else { throw NSError(domain: "spawn", code: 1) }
        var status: Int32 = 0
        var usage = rusage()
        guard wait4(pid, &status, 0, &usage) == pid else { throw NSError(domain: "wait4", code: 2) }
        XCTAssertEqual(status, 0, "strata \(args) exited with status \(status)")
        return usage.ru_maxrss
    }

    func testDemoRunsEndToEndAndFindsThePlantedFlaws() throws {
        let t = TempDir()
        let report = try XCTUnwrap(try CLI.json(["demo", t.path + "/demo"]) as? [String: Any])
        let byKind = try XCTUnwrap(report["findings_by_kind"] as? [String: Int])
        XCTAssertGreaterThanOrEqual(byKind["duplicate"] ?? 0, 8 + 4 + 2)
        XCTAssertEqual(byKind["corrupt"], 3)
        XCTAssertEqual(byKind["format-not-allowed"], 1)
        XCTAssertEqual(byKind["wrong-extension"], 1)
        XCTAssertEqual(byKind["not-media"], 1)
        XCTAssertEqual(byKind["missing-file"], 1)
        XCTAssertEqual(byKind["unsafe-path"], 1)
        XCTAssertEqual(byKind["invalid-label"], 1)
        XCTAssertEqual(byKind["unlisted-file"], 1)
        XCTAssertEqual(byKind["invalid-utf8"], 1)
        XCTAssertEqual(byKind["duplicate-id"], 1)
        // The media stages: low-value images and clips with named reasons, and the planted near duplicates
        // (4 image variants, 3 audio variants) on top of the templated text messages.
        for kind in ["near-uniform", "too-small", "extreme-aspect-ratio", "mostly-silence", "clipping", "too-short"] {
            XCTAssertEqual(byKind[kind], 1, kind)
        }
        XCTAssertNil(byKind["blurry"], "the demo's pipeline turns the blur rule off (its intent wants blurred photos)")
        let near = try XCTUnwrap(try CLI.json(["findings", "-C", t.path + "/demo", "--kind", "near-duplicate"]) as? [[String: Any]])
        let media = near.compactMap { $0["origin"] as? String }.filter { $0.contains("/camera/") || $0.contains("/voice/") }
        XCTAssertEqual(Set(media.map { ($0 as NSString).lastPathComponent }),
                       // brighter_002.jpg (gain 1.1 and +15, saturating the shape's highlights: pixel correlation 0.92)
                       // is not merged under the camera source's relative limit, so copy_00.png (img_001's bytes) is
                       // the cluster's first member and is kept.
                       ["recompressed_000.jpg", "resized_001.png", "cropped_003.png", "clip_quiet_003.wav",
                        "clip_trimmed_004.wav", "clip_reencoded_005.flac"])
        XCTAssertEqual(report["second_ingest_added"] as? Int, 0)
        let check = try XCTUnwrap(report["check"] as? [String: Any])
        let coverage = try XCTUnwrap(check["coverage"] as? [[String: Any]])
        XCTAssertTrue(coverage.contains { ($0["met"] as? Bool) == false }, "the demo has an under-covered scenario")
        let problems = try XCTUnwrap(check["problems"] as? [[String: Any]])
        XCTAssertEqual(problems.filter { $0["category"] as? String != "coverage" }.count, 0, "\(problems)")
        // Running the demo again rebuilds it deterministically.
        let again = try XCTUnwrap(try CLI.json(["demo", t.path + "/demo"]) as? [String: Any])
        XCTAssertEqual(again["findings_by_kind"] as? [String: Int], byKind)
    }

    /// Samples, names, findings and quarantine of a project, without timestamps or run ids.
    func snapshot(_ project: String) throws -> String {
        let samples = try XCTUnwrap(try CLI.json(["findings", "-C", project]) as? [[String: Any]])
        let lines = samples.map { f in
            ["kind", "origin", "line", "related_origin", "related_line", "reason"].map { "\(f[$0] ?? "-")" }.joined(separator: "|")
        }.sorted()
        let raw = try FileManager.default.subpathsOfDirectory(atPath: project + "/data/raw").filter { !$0.hasSuffix(".gitkeep") }.sorted()
        let status = try XCTUnwrap(try CLI.json(["status", "-C", project]) as? [String: Any])
        let counts = ["samples", "occurrences", "quarantined", "findings", "label_events"].map { "\($0)=\(status[$0] ?? "-")" }
        return (lines + raw + counts).joined(separator: "\n")
    }

    func testKilledRunResumesToTheSameResultAsAnUninterruptedRun() throws {
        let t = TempDir()
        var rows: [String] = []
        for i in 0..<240 { rows.append(#"{"id": "r\#(i)", "text": "message \#(i % 200) about topic \#(i % 13) and more words here"}"#) }
        t.write("in/rows.jsonl", Array((rows.joined(separator: "\n") + "\n").utf8))
        let script = """
            import json, sys, time
            time.sleep(0.15)
            for line in sys.stdin:
                item = json.loads(line)
                if item["text"].startswith("message 7 "):
                    print(json.dumps({"id": item["id"], "drop": "seven"}))
                else:
                    print(json.dumps({"id": item["id"], "text": item["text"] + " (checked)"}))
            """
        let pipeline = """
            version: 1
            stages:
              - name: exact
                uses: dedup.exact
              - name: slow
                uses: command
                command: "python3 slow.py"
              - name: near
                uses: dedup.near
                params: {shingle: words}
            """
        func project(_ name: String) throws -> String {
            let dir = t.path + "/" + name
            XCTAssertEqual(try CLI.run(["init", dir, "--modality", "text"]).status, 0)
            try pipeline.write(toFile: dir + "/pipeline.yaml", atomically: true, encoding: .utf8)
            try script.write(toFile: dir + "/slow.py", atomically: true, encoding: .utf8)
            XCTAssertEqual(try CLI.run(["ingest", t.path + "/in", "--source", "s", "--records", "--date", "2026-01-01", "-C", dir]).status, 0)
            return dir
        }
        func outcome(_ dir: String) throws -> String {
            let findings = try XCTUnwrap(try CLI.json(["findings", "-C", dir]) as? [[String: Any]])
            let lines = findings.map { f in ["kind", "stage", "line", "related_line", "reason"].map { "\(f[$0] ?? "-")" }.joined(separator: "|") }.sorted()
            let cleaned = try FileManager.default.subpathsOfDirectory(atPath: dir + "/data/cleaned").filter { !$0.hasSuffix(".gitkeep") }.sorted()
            return (lines + cleaned).joined(separator: "\n")
        }
        let reference = try project("ref")
        let r = try CLI.run(["run", "--shard-size", "20", "-C", reference])
        XCTAssertEqual(r.status, 0, r.stderr)
        let expected = try outcome(reference)
        XCTAssertTrue(expected.contains("dropped-by-command"))
        for (round, delay) in [300_000, 900_000, 1_600_000].enumerated() {
            let dir = try project("crash\(round)")
            try CLI.killed(["run", "--shard-size", "20", "-C", dir], afterMicroseconds: delay)
            let rerun = try CLI.run(["run", "--shard-size", "20", "-C", dir])
            XCTAssertEqual(rerun.status, 0, rerun.stderr)
            XCTAssertEqual(try outcome(dir), expected, "killed after \(delay / 1000) ms")
            let runs = try XCTUnwrap(try CLI.json(["runs", "list", "-C", dir]) as? [[String: Any]])
            XCTAssertEqual(runs.first?["status"] as? String, "done")
        }
    }
}
