import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The crash, disk-full and read-only suites of docs/RELIABILITY.md. Every case ends with `strata doctor`, the deep
/// consistency check (exit 0 only when every catalog row has its file or object with the right hash, no
/// half-written file is visible and raw data is unchanged).
final class ReliabilityTests: XCTestCase {
    /// Kill points per command (STRATA_CRASH_POINTS, default 50, as the reliability issue asks).
    let points = Int(ProcessInfo.processInfo.environment["STRATA_CRASH_POINTS"] ?? "") ?? 50

    /// A seeded generator, so a failing kill point can be replayed.
    struct Seeded {
        var state: UInt64
        mutating func next(below n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(max(1, n)))
        }
    }

    func makeInputs(_ t: TempDir) {
        for i in 0..<300 { t.write("in/files/\(i % 8)/\(i).txt", Array("note \(i) about subject \(i % 41), filed under \(i % 7)\n".utf8)) }
        for i in 0..<20 { t.write("in/files/dups/\(i).txt", Array("note \(i) about subject \(i % 41), filed under \(i % 7)\n".utf8)) }
        t.write("in/files/bad/latin1.txt", [0x63, 0x61, 0x66, 0xE9, 0x0A])
        var rows: [String] = []
        for i in 0..<250 { rows.append(#"{"id": "r\#(i)", "text": "row \#(i % 210) says something about topic \#(i % 17) in plain words"}"#) }
        rows.insert("{not json", at: 50)
        t.write("in/rows/rows.jsonl", Array((rows.joined(separator: "\n") + "\n").utf8))
    }

    func ingestArgs(_ t: TempDir, _ project: String) -> [[String]] {
        [["ingest", t.path + "/in/files", "--source", "notes", "--date", "2026-01-01", "-C", project],
         ["ingest", t.path + "/in/rows", "--source", "rows", "--records", "--date", "2026-01-02", "-C", project]]
    }

    /// Findings, raw files, counts and the cleaned set: what an uninterrupted command sequence leaves.
    func snapshot(_ project: String) throws -> String {
        let findings = try XCTUnwrap(try CLI.json(["findings", "-C", project]) as? [[String: Any]])
        let lines = findings.map { f in
            ["kind", "stage", "origin", "line", "related_origin", "related_line", "reason"].map { "\(f[$0] ?? "-")" }.joined(separator: "|")
        }.sorted()
        let fm = FileManager.default
        let raw = try fm.subpathsOfDirectory(atPath: project + "/data/raw").filter { !$0.hasSuffix(".gitkeep") }.sorted()
        let cleaned = try fm.subpathsOfDirectory(atPath: project + "/data/cleaned").filter { !$0.hasSuffix(".gitkeep") }.sorted()
        let status = try XCTUnwrap(try CLI.json(["status", "-C", project]) as? [String: Any])
        let counts = ["samples", "occurrences", "quarantined", "findings", "label_events"].map { "\($0)=\(status[$0] ?? "-")" }
        return (lines + raw + cleaned + counts).joined(separator: "\n")
    }

    func assertConsistent(_ project: String, _ context: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let doctor = try CLI.run(["doctor", "-C", project])
        XCTAssertEqual(doctor.status, 0, "\(context): deep check found problems:\n\(doctor.stdout)\(doctor.stderr)", file: file, line: line)
    }

    func elapsed(_ body: () throws -> Void) rethrows -> Int {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Int((DispatchTime.now().uptimeNanoseconds - start) / 1000)
    }

    func testIngestKilledAtManyPointsRecoversToTheUninterruptedState() throws {
        let t = TempDir()
        makeInputs(t)
        let reference = t.path + "/ref"
        XCTAssertEqual(try CLI.run(["init", reference, "--modality", "text"]).status, 0)
        var duration = 0
        for args in ingestArgs(t, reference) {
            duration += try elapsed { XCTAssertEqual(try CLI.run(args).status, 0) }
        }
        let expected = try snapshot(reference)
        try assertConsistent(reference, "reference")
        var rng = Seeded(state: 0x5EED_1)
        for point in 0..<points {
            let project = t.path + "/p\(point)"
            XCTAssertEqual(try CLI.run(["init", project, "--modality", "text"]).status, 0)
            // A kill point anywhere in the two ingests: the first, or the second after the first finished.
            let delay = 1_000 + rng.next(below: duration)
            let commands = ingestArgs(t, project)
            let firstTakes = duration / 2
            if delay > firstTakes {
                XCTAssertEqual(try CLI.run(commands[0]).status, 0)
                try CLI.killed(commands[1], afterMicroseconds: delay - firstTakes)
            } else {
                try CLI.killed(commands[0], afterMicroseconds: delay)
            }
            for args in commands {
                let r = try CLI.run(args)
                XCTAssertEqual(r.status, 0, "point \(point) (\(delay) us): \(r.stderr)")
            }
            XCTAssertEqual(try snapshot(project), expected, "point \(point): killed after \(delay) us")
            try assertConsistent(project, "point \(point) (\(delay) us)")
            try? FileManager.default.removeItem(atPath: project)
        }
    }

    func testRunKilledAtManyPointsRecoversToTheUninterruptedResult() throws {
        let t = TempDir()
        makeInputs(t)
        let pipeline = """
            version: 1
            stages:
              - name: clean
                uses: clean.text
              - name: exact
                uses: dedup.exact
              - name: quality
                uses: filter.quality
                params:
                  min_words: 3
              - name: near
                uses: dedup.near
                params:
                  threshold: 0.75
            """
        let template = t.path + "/template"
        XCTAssertEqual(try CLI.run(["init", template, "--modality", "text"]).status, 0)
        try pipeline.write(toFile: template + "/pipeline.yaml", atomically: true, encoding: .utf8)
        for args in ingestArgs(t, template) { XCTAssertEqual(try CLI.run(args).status, 0) }
        func copy(_ name: String) throws -> String {
            let dest = t.path + "/" + name
            let p = try Process.run(URL(fileURLWithPath: "/bin/cp"), arguments: ["-a", template, dest])
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0)
            return dest
        }
        let reference = try copy("ref")
        var duration = 0
        duration = try elapsed {
            let r = try CLI.run(["run", "--shard-size", "50", "-C", reference])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let expected = try snapshot(reference)
        XCTAssertTrue(expected.contains("near-duplicate") || expected.contains("duplicate"), "the pipeline removes duplicates")
        try assertConsistent(reference, "reference")
        var rng = Seeded(state: 0x5EED_2)
        for point in 0..<points {
            let project = try copy("p\(point)")
            let delay = 1_000 + rng.next(below: duration)
            try CLI.killed(["run", "--shard-size", "50", "-C", project], afterMicroseconds: delay)
            let r = try CLI.run(["run", "--shard-size", "50", "-C", project])
            XCTAssertEqual(r.status, 0, "point \(point) (\(delay) us): \(r.stderr)")
            XCTAssertEqual(try snapshot(project), expected, "point \(point): killed after \(delay) us")
            try assertConsistent(project, "point \(point) (\(delay) us)")
            try? FileManager.default.removeItem(atPath: project)
        }
    }

    // MARK: - Disk full and read-only file systems (a small tmpfs; needs root, as in CI)

    /// Mounts a tmpfs of `megabytes` at a new folder, or skips when this machine does not allow mounting.
    func mountTmpfs(_ t: TempDir, megabytes: Int) throws -> String {
        let dir = t.path + "/mnt"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        guard sh("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", dir]) == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (needs root)")
        }
        addTeardownBlock { _ = self.sh("/bin/umount", ["-l", dir]) }
        return dir
    }

    @discardableResult
    func sh(_ tool: String, _ args: [String]) -> Int32 {
        guard let p = try? Process.run(URL(fileURLWithPath: tool), arguments: args) else { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }

    func testDiskFullDuringIngestFailsClearlyCorruptsNothingAndTheNextRunSucceeds() throws {
        let t = TempDir()
        // 300 files of 16 KiB of distinct text: about 5 MB, far more than the 2 MB the project gets.
        for i in 0..<300 {
            var text = ""
            while text.utf8.count < 16_000 { text += "line \(text.utf8.count) of document \(i) with words \(i * 7919 % 1000)\n" }
            t.write("in/\(i).txt", Array(text.utf8))
        }
        let reference = t.path + "/ref"
        XCTAssertEqual(try CLI.run(["init", reference, "--modality", "text"]).status, 0)
        XCTAssertEqual(try CLI.run(["ingest", t.path + "/in", "--source", "s", "--date", "2026-01-01", "-C", reference]).status, 0)
        let expected = try snapshot(reference)

        let mnt = try mountTmpfs(t, megabytes: 2)
        let project = mnt + "/p"
        XCTAssertEqual(try CLI.run(["init", project, "--modality", "text"]).status, 0)
        let full = try CLI.run(["ingest", t.path + "/in", "--source", "s", "--date", "2026-01-01", "-C", project])
        XCTAssertEqual(full.status, 2, "a full disk is an error: \(full.stdout)")
        XCTAssertTrue(full.stderr.lowercased().contains("no space left"), "the error says why: \(full.stderr)")
        // Nothing half-done is visible: the catalog is sound and every row it has points at a complete file.
        let doctor = try CLI.run(["doctor", "-C", project])
        XCTAssertFalse(doctor.stdout.contains("[raw]") || doctor.stdout.contains("[catalog]") || doctor.stdout.contains("[objects]"),
                       "after ENOSPC: \(doctor.stdout)")
        // Free space (grow the file system), run again: the result equals an uninterrupted ingest.
        XCTAssertEqual(sh("/bin/mount", ["-o", "remount,size=64m", mnt]), 0)
        let again = try CLI.run(["ingest", t.path + "/in", "--source", "s", "--date", "2026-01-01", "-C", project])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try snapshot(project), expected)
        try assertConsistent(project, "after freeing space")
    }

    func testReadOnlyProjectFailsClearlyAndChangesNothing() throws {
        let t = TempDir()
        for i in 0..<50 { t.write("in/a/\(i).txt", Array("first batch \(i)\n".utf8)) }
        for i in 0..<50 { t.write("in/b/\(i).txt", Array("second batch \(i)\n".utf8)) }
        let mnt = try mountTmpfs(t, megabytes: 64)
        let project = mnt + "/p"
        XCTAssertEqual(try CLI.run(["init", project, "--modality", "text"]).status, 0)
        XCTAssertEqual(try CLI.run(["ingest", t.path + "/in/a", "--source", "a", "--date", "2026-01-01", "-C", project]).status, 0)
        let before = try snapshot(project)
        XCTAssertEqual(sh("/bin/mount", ["-o", "remount,ro", mnt]), 0)
        let r = try CLI.run(["ingest", t.path + "/in/b", "--source", "b", "--date", "2026-01-01", "-C", project])
        XCTAssertEqual(r.status, 2, r.stdout)
        XCTAssertTrue(r.stderr.lowercased().contains("read-only"), "the error says why: \(r.stderr)")
        let run = try CLI.run(["run", "-C", project])
        XCTAssertEqual(run.status, 2, run.stdout)
        XCTAssertEqual(sh("/bin/mount", ["-o", "remount,rw", mnt]), 0)
        XCTAssertEqual(try snapshot(project), before, "a failing command changed nothing")
        try assertConsistent(project, "after the read-only period")
        XCTAssertEqual(try CLI.run(["ingest", t.path + "/in/b", "--source", "b", "--date", "2026-01-01", "-C", project]).status, 0)
        try assertConsistent(project, "after the next ingest")
    }
}
