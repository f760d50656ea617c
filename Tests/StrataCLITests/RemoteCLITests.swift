import Foundation
import StrataCore
import StrataRemote
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Team remotes from the command line: two project folders stand for two machines.
final class RemoteCLITests: XCTestCase {
    /// A text project with `count` labeled records, version v1 promoted.
    func project(_ t: TempDir, _ name: String, count: Int = 60, salt: String = "") throws -> String {
        let dir = t.path + "/" + name
        XCTAssertEqual(try CLI.run(["init", dir, "--modality", "text"]).status, 0)
        let labels = ["billing", "technical", "account"]
        let rows = (0..<count).map { "{\"text\": \"ticket \($0)\(salt) about something specific number \($0 * 7)\", \"label\": \"\(labels[$0 % 3])\"}" }
        t.write("in-\(name)/a.jsonl", Array((rows.joined(separator: "\n") + "\n").utf8))
        let ingest = try CLI.run(["ingest", t.path + "/in-\(name)", "--source", "desk", "--records", "--label-field", "label", "-C", dir])
        XCTAssertEqual(ingest.status, 0, ingest.stderr)
        XCTAssertEqual(try CLI.run(["version", "create", "v1", "-m", "first", "-C", dir]).status, 0)
        XCTAssertEqual(try CLI.run(["version", "promote", "v1", "-C", dir]).status, 0)
        return dir
    }

    func exportLines(_ dir: String) throws -> [String] {
        let r = try CLI.run(["export", "v1", "--format", "jsonl", "-C", dir])
        XCTAssertEqual(r.status, 0, r.stderr)
        let file = try XCTUnwrap(try FileManager.default.subpathsOfDirectory(atPath: dir + "/data/ready").first { $0.hasSuffix(".jsonl") })
        return try String(contentsOfFile: dir + "/data/ready/" + file, encoding: .utf8).split(separator: "\n").map(String.init).sorted()
    }

    func labelEvents(_ dir: String) throws -> [String] {
        let r = try CLI.run(["label", "export", "--format", "csv", "-C", dir])
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout.split(separator: "\n").dropFirst().map(String.init).sorted()
    }

    /// Push from one folder, clone into another, label in both, and both see the union of the labels.
    func teamWorkflow(url: String, remoteDir: String?) throws {
        let t = TempDir()
        let a = try project(t, "a")
        let add = try CLI.run(["remote", "add", "team", url, "-C", a])
        XCTAssertEqual(add.stdout, "added remote team \(url) (default)\n")
        XCTAssertEqual(try CLI.run(["remote", "list", "-C", a]).stdout, "team\t\(url)\t(default)\n")

        let push = try CLI.json(["push", "-C", a]) as? [String: Any]
        XCTAssertEqual(push?["versions"] as? [String], ["v1"])
        let sent = try XCTUnwrap(push?["objects_uploaded"] as? Int)
        XCTAssertEqual(sent, 65, "the manifest, four spec snapshots and 60 record texts, each once")
        XCTAssertEqual(push?["label_events_uploaded"] as? Int, 60)
        // Nothing is sent twice.
        let again = try CLI.run(["push", "-C", a])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(again.stdout, "pushed v1 to team\nobjects: 0 sent in 0 packs and 0 loose, \(sent) already there\nbytes:   0\nlabels:  0 new events\n")

        let b = t.path + "/b"
        let clone = try CLI.run(["clone", url, b])
        XCTAssertEqual(clone.status, 0, clone.stderr)
        XCTAssertTrue(clone.stdout.hasPrefix("cloned \(url) into \(b)\npulled v1 "), clone.stdout)
        XCTAssertTrue(clone.stdout.hasSuffix(" from origin: 60 of 60 samples\nobjects: \(sent) downloaded, 0 already here\nbytes:   \(push?["bytes_uploaded"] as? Int ?? -1)\nlabels:  60 new events\n"), clone.stdout)
        let check = try CLI.run(["check", "--deep", "-C", b])
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
        XCTAssertEqual(try CLI.run(["version", "verify", "v1", "-C", b]).stdout, "ok: manifest and contents match their hashes\n")
        XCTAssertEqual(try exportLines(a), try exportLines(b), "the clone exports the same bytes")

        // Alice labels in a, Bob in b; both push and fetch: the union everywhere.
        let samples = try XCTUnwrap(try CLI.json(["version", "show", "v1", "-C", a]) as? [String: Any])
        XCTAssertEqual(samples["samples"] as? Int, 60)
        let ids = try labelEvents(a).compactMap { $0.split(separator: ",").first.map(String.init) }
        XCTAssertEqual(ids.count, 60)
        t.write("alice.csv", Array("sample,value,annotator\n\(ids[0]),account,alice\n\(ids[1]),account,alice\n".utf8))
        t.write("bob.csv", Array("sample,value,annotator\n\(ids[0]),billing,bob\n\(ids[2]),technical,bob\n\(ids[3]),billing,bob\n".utf8))
        XCTAssertEqual(try CLI.run(["label", "import", t.path + "/alice.csv", "-C", a]).status, 0)
        XCTAssertEqual(try CLI.run(["label", "import", t.path + "/bob.csv", "-C", b]).status, 0)
        XCTAssertEqual((try CLI.json(["push", "-C", b]) as? [String: Any])?["label_events_uploaded"] as? Int, 3)
        XCTAssertEqual((try CLI.json(["push", "-C", a]) as? [String: Any])?["label_events_uploaded"] as? Int, 2)
        let fetchA = try CLI.run(["fetch", "-C", a])
        let idA = try XCTUnwrap(samples["id"] as? String)
        XCTAssertEqual(fetchA.stdout, "fetched team: 1 versions, 3 new label events\nv1\t\(idA.prefix(12))\tactive\t60 samples\there\n")
        XCTAssertEqual((try CLI.json(["fetch", "-C", b]) as? [String: Any])?["label_events_added"] as? Int, 2)
        XCTAssertEqual((try CLI.json(["fetch", "-C", b]) as? [String: Any])?["label_events_added"] as? Int, 0, "a second fetch adds nothing")
        let eventsA = try labelEvents(a), eventsB = try labelEvents(b)
        XCTAssertEqual(eventsA.count, 65)
        XCTAssertEqual(eventsA, eventsB, "both folders hold the same 65 events")
        XCTAssertEqual(eventsA.filter { $0.contains(",alice,") }.count, 2)
        XCTAssertEqual(eventsA.filter { $0.contains(",bob,") }.count, 3)
        if let remoteDir {
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: remoteDir + "/labels").count, 3, "three batches: a's first, b's, a's second")
        }
    }

    func testTeamWorkflowOverASharedFolder() throws {
        let t = TempDir()
        let remote = t.path + "/shared"
        try FileManager.default.createDirectory(atPath: remote, withIntermediateDirectories: true)
        try teamWorkflow(url: "file://" + remote, remoteDir: remote)
    }

    func testTeamWorkflowOverS3() throws {
        let env = try RemoteServices.s3()
        let bucket = "strata-cli-\(UInt32.random(in: 0...UInt32.max))"
        try S3Backend(bucket: bucket, prefix: "", config: try S3Config.resolve(environment: env)).createBucket()
        try RemoteServices.with(env) { try teamWorkflow(url: "s3://\(bucket)/team", remoteDir: nil) }
    }

    func testTeamWorkflowOverSSH() throws {
        let env = try RemoteServices.sshd()
        let t = TempDir()
        try FileManager.default.createDirectory(atPath: t.path + "/srv", withIntermediateDirectories: true)
        try RemoteServices.with(env) {
            try teamWorkflow(url: "ssh://\(env["STRATA_SSHD_USER"]!)@127.0.0.1:\(env["STRATA_SSHD_PORT"]!)\(t.path)/srv", remoteDir: t.path + "/srv")
        }
    }

    func testPartialCloneFetchesOneSplitAndPullAddsTheRest() throws {
        let t = TempDir()
        let a = try project(t, "a", count: 90)
        let remote = t.path + "/shared"
        try FileManager.default.createDirectory(atPath: remote, withIntermediateDirectories: true)
        XCTAssertEqual(try CLI.run(["remote", "add", "team", "file://" + remote, "-C", a]).status, 0)
        XCTAssertEqual(try CLI.run(["push", "-C", a]).status, 0)
        let splits = try XCTUnwrap((try CLI.json(["version", "show", "v1", "-C", a]) as? [String: Any])?["splits"] as? [String: Int])
        let train = try XCTUnwrap(splits["train"])
        let b = t.path + "/b"
        let clone = try XCTUnwrap(try CLI.json(["clone", "file://" + remote, b, "--split", "train"]) as? [String: Any])
        XCTAssertEqual(clone["selected"] as? Int, train)
        XCTAssertEqual(clone["objects_downloaded"] as? Int, train + 5, "the train split's texts, the manifest and four spec files: nothing else")
        let rest = try XCTUnwrap(try CLI.json(["pull", "v1", "-C", b]) as? [String: Any])
        XCTAssertEqual(rest["objects_downloaded"] as? Int, 90 - train)
        XCTAssertEqual(rest["objects_already_here"] as? Int, train + 5)
        XCTAssertEqual(try CLI.run(["check", "--deep", "-C", b]).status, 0)
        XCTAssertEqual(try exportLines(a), try exportLines(b))
    }

    func testCorruptedRemoteObjectIsNamedOnPullAndNothingDamagedIsKept() throws {
        let t = TempDir()
        let a = try project(t, "a")
        let remote = t.path + "/shared"
        try FileManager.default.createDirectory(atPath: remote, withIntermediateDirectories: true)
        XCTAssertEqual(try CLI.run(["remote", "add", "team", "file://" + remote, "-C", a]).status, 0)
        XCTAssertEqual(try CLI.run(["push", "-C", a]).status, 0)
        // Damage one record text inside the pack (not the manifest or a spec file).
        let info = try XCTUnwrap(try CLI.json(["version", "show", "v1", "-C", a]) as? [String: Any])
        var skip = Set((info["specs"] as? [String: String] ?? [:]).values)
        skip.insert(try XCTUnwrap(info["id"] as? String))
        let idxName = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: remote + "/packs").first { $0.hasSuffix(".idx") })
        let idx = try String(contentsOfFile: remote + "/packs/" + idxName, encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: " ").map(String.init) }
        let victim = try XCTUnwrap(idx.last { !skip.contains($0[0]) })
        let packPath = remote + "/packs/" + idxName.replacingOccurrences(of: ".idx", with: ".pack")
        var pack = [UInt8](try Data(contentsOf: URL(fileURLWithPath: packPath)))
        let offset = Int(victim[1])!, length = Int(victim[2])!
        pack[offset] ^= 0x20
        chmod(packPath, 0o644)
        try Data(pack).write(to: URL(fileURLWithPath: packPath))
        let actual = try sha256(Array(pack[offset..<(offset + length)]), t)

        let b = t.path + "/b"
        let clone = try CLI.run(["clone", "file://" + remote, b])
        XCTAssertEqual(clone.status, 2)
        XCTAssertEqual(errorLines(clone.stderr), """
            error: file://\(remote): corrupted object in packs/\(idxName.replacingOccurrences(of: ".idx", with: ".pack")): expected sha256 \(victim[0]), found \(actual); it was not stored
              fix: push the version again from a project with a good copy (`strata push` re-sends what is damaged after `strata remote gc`), or restore the remote file

            """)
        XCTAssertEqual(try CLI.run(["version", "list", "-C", b]).stdout, "no versions yet: `strata version create` records one\n",
                       "a failed pull records no version")
        XCTAssertFalse(FileManager.default.fileExists(atPath: b + "/.strata/objects/\(victim[0].prefix(2))/\(victim[0].dropFirst(2))"))
    }

    func testConcurrentPushesOfOneNameAreDetectedAndDifferentNamesBothSurvive() throws {
        let t = TempDir()
        let a = try project(t, "a", count: 30)
        let b = try project(t, "b", count: 30, salt: " from b")
        let remote = t.path + "/shared"
        try FileManager.default.createDirectory(atPath: remote, withIntermediateDirectories: true)
        for p in [a, b] { XCTAssertEqual(try CLI.run(["remote", "add", "team", "file://" + remote, "-C", p]).status, 0) }
        let idA = try XCTUnwrap((try CLI.json(["version", "show", "v1", "-C", a]) as? [String: Any])?["id"] as? String)
        let idB = try XCTUnwrap((try CLI.json(["version", "show", "v1", "-C", b]) as? [String: Any])?["id"] as? String)
        XCTAssertNotEqual(idA, idB)

        // Both push their own `v1` at the same time: one wins, the other is told, nothing is overwritten.
        let results = Slots<CLI.Result?>(count: 2)
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            results.set(i, try? CLI.run(["push", "-C", i == 0 ? a : b]))
        }
        let ra = try XCTUnwrap(results.get(0)), rb = try XCTUnwrap(results.get(1))
        XCTAssertEqual([ra.status, rb.status].sorted(), [0, 1], ra.stderr + rb.stderr)
        let winner = ra.status == 0 ? idA : idB, loser = ra.status == 0 ? idB : idA
        let lost = ra.status == 0 ? rb : ra
        XCTAssertTrue(lost.stdout.hasSuffix("conflict: v1: the remote's v1 is \(winner.prefix(12)), this project's is \(loser.prefix(12))\n"), lost.stdout)
        XCTAssertEqual(errorLines(lost.stderr), "error: 1 version name(s) already point at other versions on team; nothing was overwritten\n  fix: rename the version here (`strata version create NEW-NAME`) or pull the remote's\n")
        XCTAssertEqual(try String(contentsOfFile: remote + "/refs/versions/v1", encoding: .utf8), winner + "\n")
        // The loser's data is on the remote too; under another name it is pushed and both versions survive.
        let loserDir = ra.status == 0 ? b : a
        XCTAssertEqual(try CLI.run(["version", "create", "v1-b", "-C", loserDir]).status, 0)
        let push = try CLI.run(["push", "v1-b", "-C", loserDir])
        XCTAssertEqual(push.status, 0, push.stderr)
        let fetch = try XCTUnwrap(try CLI.json(["fetch", "-C", a]) as? [String: Any])
        XCTAssertEqual((fetch["versions"] as? [[String: Any]])?.compactMap { $0["name"] as? String }, ["v1", "v1-b"])
    }

    func testKilledPushResumesAndTheCloneIsWhole() throws {
        let t = TempDir()
        let a = try project(t, "a", count: 400)
        let remote = t.path + "/shared"
        try FileManager.default.createDirectory(atPath: remote, withIntermediateDirectories: true)
        XCTAssertEqual(try CLI.run(["remote", "add", "team", "file://" + remote, "-C", a]).status, 0)
        setenv("STRATA_PACK_BYTES", "2000", 1)  // many small packs, so a kill lands between them
        defer { unsetenv("STRATA_PACK_BYTES") }
        var rng = RemoteSeeds(seed: 21)
        for _ in 0..<4 {
            try CLI.killed(["push", "-C", a], afterMicroseconds: 300_000 + Int(rng.next() % 1_500_000))
        }
        let resumed = try XCTUnwrap(try CLI.json(["push", "-C", a]) as? [String: Any])
        XCTAssertEqual(resumed["conflicts"] as? [String], [])
        let total = 1 + 4 + 400  // manifest, specs, record texts (raw = exported content for records)
        XCTAssertEqual((resumed["objects_uploaded"] as? Int ?? -1) + (resumed["objects_already_there"] as? Int ?? -1), total)
        XCTAssertGreaterThan(resumed["objects_already_there"] as? Int ?? -1, 0, "the killed pushes left finished packs that the resumed push kept")
        let b = t.path + "/b"
        let clone = try CLI.run(["clone", "file://" + remote, b])
        XCTAssertEqual(clone.status, 0, clone.stderr)
        XCTAssertEqual(try CLI.run(["check", "--deep", "-C", b]).status, 0)
        XCTAssertEqual(try exportLines(a), try exportLines(b))
    }

    /// stderr without the progress lines (they depend on timing).
    func errorLines(_ stderr: String) -> String {
        stderr.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !($0.hasPrefix("pushing ") || $0.hasPrefix("pulling ") || $0.hasPrefix("pushed ") || $0.hasPrefix("pulled ")
                      || $0.contains(" bytes in ")) }
            .joined(separator: "\n")
    }

    func testKilledCloneAndPullResumeWithAPull() throws {
        let t = TempDir()
        let a = try project(t, "a", count: 300)
        let remote = t.path + "/shared"
        try FileManager.default.createDirectory(atPath: remote, withIntermediateDirectories: true)
        XCTAssertEqual(try CLI.run(["remote", "add", "team", "file://" + remote, "-C", a]).status, 0)
        setenv("STRATA_PACK_BYTES", "2000", 1)
        XCTAssertEqual(try CLI.run(["push", "-C", a]).status, 0)
        unsetenv("STRATA_PACK_BYTES")
        var rng = RemoteSeeds(seed: 7)
        for i in 0..<3 {
            let b = t.path + "/b\(i)"
            try CLI.killed(["clone", "file://" + remote, b], afterMicroseconds: 100_000 + Int(rng.next() % 900_000))
            // A clone killed after it wrote the project resumes with `pull`; one killed before starts again.
            if FileManager.default.fileExists(atPath: b + "/.strata/remotes.json") {
                try CLI.killed(["pull", "v1", "-C", b], afterMicroseconds: 50_000 + Int(rng.next() % 300_000))
                let pull = try CLI.run(["pull", "v1", "-C", b])
                XCTAssertEqual(pull.status, 0, pull.stderr)
            } else {
                try? FileManager.default.removeItem(atPath: b)
                XCTAssertEqual(try CLI.run(["clone", "file://" + remote, b]).status, 0)
            }
            let check = try CLI.run(["check", "--deep", "-C", b])
            XCTAssertEqual(check.status, 0, check.stdout)
            XCTAssertEqual(try exportLines(a), try exportLines(b))
        }
    }

    func testFindingsTravelAndMergeByKey() throws {
        let t = TempDir()
        let a = t.path + "/a"
        XCTAssertEqual(try CLI.run(["init", a, "--modality", "text"]).status, 0)
        let rows = (0..<6).map { "{\"text\": \"ticket \($0) about a thing\", \"label\": \"billing\"}" } + ["{\"text\": \"ticket 1 about a thing\", \"label\": \"billing\"}"]
        t.write("in/a.jsonl", Array((rows.joined(separator: "\n") + "\n").utf8))
        XCTAssertEqual(try CLI.run(["ingest", t.path + "/in", "--source", "desk", "--records", "--label-field", "label", "-C", a]).status, 0)
        XCTAssertEqual(try CLI.run(["version", "create", "v1", "-C", a]).status, 0)
        XCTAssertEqual(try CLI.run(["version", "promote", "v1", "-C", a]).status, 0)
        let remote = t.path + "/shared"
        try FileManager.default.createDirectory(atPath: remote, withIntermediateDirectories: true)
        XCTAssertEqual(try CLI.run(["remote", "add", "team", "file://" + remote, "-C", a]).status, 0)
        XCTAssertEqual((try CLI.json(["push", "-C", a]) as? [String: Any])?["findings_uploaded"] as? Int, 1)
        XCTAssertEqual((try CLI.json(["push", "-C", a]) as? [String: Any])?["findings_uploaded"] as? Int, 0, "sent once")
        let b = t.path + "/b"
        let clone = try XCTUnwrap(try CLI.json(["clone", "file://" + remote, b]) as? [String: Any])
        XCTAssertEqual(clone["findings_added"] as? Int, 1)
        let fa = try XCTUnwrap(try CLI.json(["findings", "-C", a]) as? [[String: Any]])
        let fb = try XCTUnwrap(try CLI.json(["findings", "-C", b]) as? [[String: Any]])
        XCTAssertEqual(fb.count, 1)
        XCTAssertEqual(fb.first?["kind"] as? String, "duplicate")
        XCTAssertEqual(fb.first?["reason"] as? String, fa.first?["reason"] as? String)
        XCTAssertEqual((try CLI.json(["fetch", "-C", b]) as? [String: Any])?["findings_added"] as? Int, 0)
    }

    /// Parallel transfers change nothing on the remote or in the clone: one request at a time and sixteen at once
    /// write the same keys, and a clone with three at once passes `check --deep`.
    func testJobsCountChangesNothingButSpeed() throws {
        let t = TempDir()
        let a = try project(t, "a", count: 40)
        var listings: [[String]] = []
        for (name, jobs) in [("one", "1"), ("many", "16")] {
            let remote = t.path + "/" + name
            try FileManager.default.createDirectory(atPath: remote, withIntermediateDirectories: true)
            XCTAssertEqual(try CLI.run(["remote", "add", name, "file://" + remote, "-C", a]).status, 0)
            setenv("STRATA_PACK_BYTES", "2000", 1)
            defer { unsetenv("STRATA_PACK_BYTES") }
            let push = try CLI.json(["push", "-r", name, "--jobs", jobs, "-C", a]) as? [String: Any]
            XCTAssertGreaterThanOrEqual(push?["packs_uploaded"] as? Int ?? 0, 8, "many packs, so several travel at once")
            listings.append(try FileManager.default.subpathsOfDirectory(atPath: remote).filter { !$0.hasPrefix("labels") }.sorted())
        }
        XCTAssertEqual(listings[0], listings[1])
        let b = t.path + "/b"
        let clone = try CLI.run(["clone", "file://" + t.path + "/many", b, "--jobs", "3"])
        XCTAssertEqual(clone.status, 0, clone.stderr)
        XCTAssertEqual(try CLI.run(["check", "--deep", "-C", b]).status, 0)
        XCTAssertEqual(try exportLines(a), try exportLines(b))
        let bad = try CLI.run(["push", "-r", "one", "--jobs", "0", "-C", a])
        XCTAssertEqual(bad.status, 2)
        XCTAssertEqual(bad.stderr, "error: --jobs 0 is out of range\n  fix: give 1 to 64 requests at once (default 8)\n")
    }

    func testRemoteGCRemovesWhatNoVersionReferencesOnASharedFolder() throws {
        let t = TempDir()
        let remote = t.path + "/shared"
        try FileManager.default.createDirectory(atPath: remote, withIntermediateDirectories: true)
        try remoteGC(url: "file://" + remote, t: t, put: { key, bytes in t.write("shared/" + key, bytes) },
                     exists: { FileManager.default.fileExists(atPath: remote + "/" + $0) })
    }

    func testRemoteGCRemovesWhatNoVersionReferencesOnS3() throws {
        let env = try RemoteServices.s3()
        let bucket = "strata-gc-\(UInt32.random(in: 0...UInt32.max))"
        let backend = try S3Backend(bucket: bucket, prefix: "team", config: try S3Config.resolve(environment: env))
        try backend.createBucket()
        let t = TempDir()
        try RemoteServices.with(env) {
            try remoteGC(url: "s3://\(bucket)/team", t: t, put: { try backend.put($0, $1) }, exists: { try backend.get($0) != nil })
        }
    }

    /// Push a version, add what a killed push or a dropped version leaves (a pack no version references, a pack
    /// without an index, a loose object), then: the default grace period keeps all of it, `--dry-run` lists it,
    /// `gc` removes exactly it, and a clone of the version still passes `check --deep`.
    func remoteGC(url: String, t: TempDir, put: (String, [UInt8]) throws -> Void, exists: (String) throws -> Bool) throws {
        let a = try project(t, "a", count: 20)
        XCTAssertEqual(try CLI.run(["remote", "add", "team", url, "-C", a]).status, 0)
        XCTAssertEqual(try CLI.run(["push", "-C", a]).status, 0)
        let blob = Array("stray object".utf8)
        let packId = try sha256(blob, t)
        let noIndex = String(repeating: "e", count: 64)
        let looseBlob = Array("stray loose object".utf8)
        let loose = try sha256(looseBlob, t)
        let looseKey = "objects/\(loose.prefix(2))/\(loose.dropFirst(2))"
        try put("packs/\(packId).pack", blob)
        try put("packs/\(packId).idx", Array("strata.pack/1 \(packId) \(blob.count)\n\(packId) 0 \(blob.count)\n".utf8))
        try put("packs/\(noIndex).pack", [1, 2, 3])
        try put(looseKey, looseBlob)
        let kept = try CLI.run(["remote", "gc", "-C", a])
        XCTAssertEqual(kept.status, 0, kept.stderr)
        XCTAssertEqual(kept.stdout, """
            team: 1 versions
            unreferenced packs: 0 (0 bytes)
            packs without an index (a killed push): 0
            unreferenced loose objects: 0
            unreferenced bytes inside kept packs: 0
            kept, written in the last 24 hours (a push may still need them): 3
            removed 0 keys

            """)
        let plan = """
            team: 1 versions
            unreferenced packs: 1 (12 bytes)
              packs/\(packId).pack
            packs without an index (a killed push): 1
              packs/\(noIndex).pack
            unreferenced loose objects: 1
              \(looseKey)
            unreferenced bytes inside kept packs: 0
            kept, written in the last 0 hours (a push may still need them): 0

            """
        let dry = try CLI.run(["remote", "gc", "--dry-run", "--grace-hours", "0", "-C", a])
        XCTAssertEqual(dry.stdout, plan + "nothing was removed (dry run)\n")
        XCTAssertTrue(try exists("packs/\(packId).pack"))
        let real = try CLI.run(["remote", "gc", "--grace-hours", "0", "-C", a])
        XCTAssertEqual(real.status, 0, real.stderr)
        XCTAssertEqual(real.stdout, plan + "removed 4 keys\n")
        for key in ["packs/\(packId).pack", "packs/\(packId).idx", "packs/\(noIndex).pack", looseKey] {
            XCTAssertFalse(try exists(key), key)
        }
        let again = try CLI.json(["remote", "gc", "--grace-hours", "0", "-C", a]) as? [String: Any]
        XCTAssertEqual(again?["removed"] as? Int, 0, "a second gc finds nothing")
        let b = t.path + "/b"
        let clone = try CLI.run(["clone", url, b])
        XCTAssertEqual(clone.status, 0, clone.stderr)
        let check = try CLI.run(["check", "--deep", "-C", b])
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
        XCTAssertEqual(try exportLines(a), try exportLines(b), "what the version references was kept")
    }

    func sha256(_ bytes: [UInt8], _ t: TempDir) throws -> String {
        let p = t.write("hash-input", bytes)
        let r = try CLI.runProgram("/usr/bin/sha256sum", [p], timeout: 30)
        return String(r.stdout.prefix(64))
    }
}

struct RemoteSeeds {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
