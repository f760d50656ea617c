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
                  shingle: words
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

    /// A project with an ingested, cleaned and labeled text set (the starting point of the version and export suites).
    func preparedProject(_ t: TempDir) throws -> String {
        makeInputs(t)
        var labeled: [String] = []
        for i in 0..<250 { labeled.append(#"{"id": "r\#(i)", "text": "row \#(i) is about topic \#(i % 17) in plain words", "label": "\#(i % 3 == 0 ? "yes" : "no")"}"#) }
        t.write("in/labeled/rows.jsonl", Array((labeled.joined(separator: "\n") + "\n").utf8))
        let template = t.path + "/template"
        XCTAssertEqual(try CLI.run(["init", template, "--modality", "text"]).status, 0)
        try """
            version: 1
            labels:
              - name: "yes"
                definition: The row says yes.
              - name: "no"
                definition: The row says no.
            annotators_per_sample: 1
            """.write(toFile: template + "/rulebook.yaml", atomically: true, encoding: .utf8)
        // The rows are one template filled in: by the default's character 5-grams they are near duplicates of each
        // other (and the removal guard stops the run); these suites are about kills, so words it is.
        try useWordShingles(template)
        let ingest = try CLI.run(["ingest", t.path + "/in/labeled", "--source", "rows", "--records", "--label-field", "label", "--date", "2026-01-03", "-C", template])
        XCTAssertEqual(ingest.status, 0, ingest.stderr)
        let run = try CLI.run(["run", "-C", template])
        XCTAssertEqual(run.status, 0, run.stderr)
        return template
    }

    func copyProject(_ from: String, _ to: String) throws -> String {
        let p = try Process.run(URL(fileURLWithPath: "/bin/cp"), arguments: ["-a", from, to])
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        return to
    }

    /// Versions (name, id, state, counts) and every exported shard's bytes, by hash.
    func versionSnapshot(_ project: String) throws -> String {
        let list = try XCTUnwrap(try CLI.json(["version", "list", "-C", project]) as? [[String: Any]])
        var lines = list.map { v in ["name", "id", "state", "samples"].map { "\(v[$0] ?? "-")" }.joined(separator: "|") }
        let ready = project + "/data/ready"
        for rel in ((try? FileManager.default.subpathsOfDirectory(atPath: ready)) ?? []).sorted() where !rel.hasSuffix(".gitkeep") {
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: ready + "/" + rel, isDirectory: &isDir)
            if isDir.boolValue { continue }
            let data = try Data(contentsOf: URL(fileURLWithPath: ready + "/" + rel))
            // Shards only: the card and croissant.json carry the version's creation time, which a re-run changes.
            guard rel.contains("/data/") else { continue }
            lines.append("\(rel) \(data.count) \(data.reduce(UInt64(1469598103934665603)) { ($0 ^ UInt64($1)) &* 1099511628211 })")
        }
        return lines.joined(separator: "\n")
    }

    func testVersionCreateAndExportKilledAtManyPointsRecover() throws {
        let t = TempDir()
        let template = try preparedProject(t)
        let reference = try copyProject(template, t.path + "/ref")
        var createTakes = 0, exportTakes = 0
        createTakes = try elapsed { XCTAssertEqual(try CLI.run(["version", "create", "v1", "-C", reference]).status, 0) }
        XCTAssertEqual(try CLI.run(["version", "promote", "v1", "-C", reference]).status, 0)
        exportTakes = try elapsed {
            let r = try CLI.run(["export", "v1", "--format", "parquet", "-C", reference])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let expected = try versionSnapshot(reference)
        XCTAssertTrue(expected.contains("active"), expected)
        try assertConsistent(reference, "reference")
        var rng = Seeded(state: 0x5EED_3)
        for point in 0..<points {
            let project = try copyProject(template, t.path + "/p\(point)")
            let killCreate = point % 2 == 0
            if killCreate {
                let delay = 1_000 + rng.next(below: createTakes)
                try CLI.killed(["version", "create", "v1", "-C", project], afterMicroseconds: delay)
                let again = try CLI.run(["version", "create", "v1", "-C", project])
                XCTAssertEqual(again.status, 0, "point \(point) (create killed after \(delay) us): \(again.stderr)")
                XCTAssertEqual(try CLI.run(["version", "promote", "v1", "-C", project]).status, 0)
                XCTAssertEqual(try CLI.run(["export", "v1", "--format", "parquet", "-C", project]).status, 0)
            } else {
                XCTAssertEqual(try CLI.run(["version", "create", "v1", "-C", project]).status, 0)
                XCTAssertEqual(try CLI.run(["version", "promote", "v1", "-C", project]).status, 0)
                let delay = 1_000 + rng.next(below: exportTakes)
                try CLI.killed(["export", "v1", "--format", "parquet", "-C", project], afterMicroseconds: delay)
                let again = try CLI.run(["export", "v1", "--format", "parquet", "-C", project])
                XCTAssertEqual(again.status, 0, "point \(point) (export killed after \(delay) us): \(again.stderr)")
            }
            XCTAssertEqual(try versionSnapshot(project), expected, "point \(point)")
            let verify = try CLI.run(["version", "verify", "v1", "-C", project])
            XCTAssertEqual(verify.status, 0, "point \(point): \(verify.stdout)")
            try assertConsistent(project, "point \(point)")
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

/// The labeling server killed with SIGKILL at many points while clients submit: every label acknowledged with 201
/// is stored, and the project passes the deep check after each kill.
final class LabelServerCrashTests: XCTestCase {
    func testServerKilledAtManyPointsLosesNoAcknowledgedLabel() throws {
        let points = Int(ProcessInfo.processInfo.environment["STRATA_CRASH_POINTS"] ?? "") ?? 50
        let t = TempDir()
        let names = (0..<6).map { "t\($0)" }
        let e2e = LabelServerE2ETests(name: "project", testClosure: { _ in })
        let (project, tokens) = try e2e.project(t, samples: 4000, k: 6, taskers: names.map { ($0, "tasker") })
        var rng = ReliabilityTests.Seeded(state: 0x5EED_4)
        var ackedTotal = 0
        let acked = Locked<[String: Set<String>]>([:])
        for point in 0..<points {
            let server = try ServerProcess(project: project)
            let stop = Locked(false)
            let group = DispatchGroup()
            for name in names {
                group.enter()
                Thread.detachNewThread {
                    defer { group.leave() }
                    while !stop.value {
                        guard let next = try? HTTP.call("GET", server.url + "/api/queue/next", token: tokens[name]!),
                              let id = ((next.json["sample"] as? [String: Any])?["id"] as? String) else { return }
                        guard let post = try? HTTP.call("POST", server.url + "/api/labels", token: tokens[name]!,
                                                        body: ["sample": id, "value": "neutral"]) else { return }
                        if post.status == 201 { acked.mutate { $0[name, default: []].insert(id) } }
                    }
                }
            }
            // A kill point between 50 ms and 800 ms into the load (seeded).
            Thread.sleep(forTimeInterval: Double(50 + rng.next(below: 750)) / 1000)
            server.kill9()
            stop.mutate { $0 = true }
            XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
            let doctor = try CLI.run(["doctor", "-C", project])
            XCTAssertEqual(doctor.status, 0, "point \(point): \(doctor.stdout)\(doctor.stderr)")
        }
        // Every stored event, from the label store itself (the API lists only an annotator's latest 200).
        let export = try CLI.run(["label", "export", "--format", "jsonl", "-C", project])
        XCTAssertEqual(export.status, 0, export.stderr)
        var stored: [String: Set<String>] = [:]
        for line in export.stdout.split(separator: "\n") {
            guard let row = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let who = row["annotator"] as? String else { continue }
            for key in ["sample", "short_id"] { if let id = row[key] as? String { stored[who, default: []].insert(id) } }
        }
        for name in names {
            let ids = stored[name, default: []]
            let missing = acked.value[name, default: []].subtracting(ids)
            XCTAssertTrue(missing.isEmpty, "\(name): \(missing.count) acknowledged labels lost")
            ackedTotal += acked.value[name, default: []].count
        }
        XCTAssertGreaterThan(ackedTotal, points, "clients got acknowledgements between the kills")
    }
}
