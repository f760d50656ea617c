import Foundation
import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// `strata label serve` as a user runs it: the built binary on a free port in a temporary project.
final class LabelServerE2ETests: XCTestCase {
    static let rulebook = """
        version: 1
        labels:
          - name: positive
            definition: The writer is pleased.
            signs: [praise]
          - name: negative
            definition: The writer is unhappy.
          - name: neutral
            definition: No feeling either way.
        decision_path:
          question: Does the text express a feeling?
          answers:
            - answer: "yes"
              next:
                question: Is the feeling good?
                answers:
                  - {answer: "yes", label: positive}
                  - {answer: "no", label: negative}
            - {answer: "no", label: neutral}
            - {answer: "not English", skip: not English}
        annotators_per_sample: K
        gold_rate: 0

        """

    /// A project with `samples` text records and the given taskers; returns (project, tokens).
    func project(_ t: TempDir, samples: Int, k: Int, taskers: [(String, String)]) throws -> (String, [String: String]) {
        let project = t.path + "/p"
        XCTAssertEqual(try CLI.run(["init", project, "--modality", "text"]).status, 0)
        try LabelServerE2ETests.rulebook.replacingOccurrences(of: "K", with: "\(k)")
            .write(toFile: project + "/rulebook.yaml", atomically: true, encoding: .utf8)
        let lines = (0..<samples).map { "{\"text\": \"Review \($0): the delivery took \($0 % 9 + 1) days and the box was \($0 % 2 == 0 ? "fine" : "dented").\"}" }
        t.write("in/reviews.jsonl", Array((lines.joined(separator: "\n") + "\n").utf8))
        let ingest = try CLI.run(["ingest", t.path + "/in", "--source", "reviews", "--records", "-C", project])
        XCTAssertEqual(ingest.status, 0, ingest.stderr)
        var tokens: [String: String] = [:]
        for (name, role) in taskers {
            let out = try XCTUnwrap(try CLI.json(["label", "taskers", "add", name, "--role", role, "-C", project]) as? [String: Any])
            tokens[name] = try XCTUnwrap(out["token"] as? String)
        }
        return (project, tokens)
    }

    func testTaskersAddPrintsTheTokenOnceAndListNeverShowsIt() throws {
        let t = TempDir()
        let (project, tokens) = try project(t, samples: 1, k: 1, taskers: [("ana", "tasker")])
        let list = try CLI.run(["label", "taskers", "list", "-C", project])
        XCTAssertEqual(list.status, 0)
        XCTAssertTrue(list.stdout.contains("ana\ttasker"), list.stdout)
        XCTAssertFalse(list.stdout.contains(tokens["ana"]!))
        let bad = try CLI.run(["label", "taskers", "add", "bo", "--role", "boss", "-C", project])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("unknown role `boss`"), bad.stderr)
        let dup = try CLI.run(["label", "taskers", "add", "ana", "-C", project])
        XCTAssertEqual(dup.status, 2)
        XCTAssertTrue(dup.stderr.contains("already exists"), dup.stderr)
    }

    func testTaskersRevokeMarksTheTaskerAndRefusesUnknownOrTwice() throws {
        let t = TempDir()
        let (project, _) = try project(t, samples: 1, k: 1, taskers: [("ana", "tasker"), ("bob", "tasker")])
        let revoke = try CLI.run(["label", "taskers", "revoke", "ana", "-C", project])
        XCTAssertEqual(revoke.status, 0, revoke.stderr)
        XCTAssertTrue(revoke.stdout.contains("revoked ana"), revoke.stdout)
        let list = try XCTUnwrap(try CLI.json(["label", "taskers", "list", "-C", project]) as? [[String: Any]])
        XCTAssertEqual(list.first { $0["name"] as? String == "ana" }?["revoked"] as? Bool, true)
        XCTAssertEqual(list.first { $0["name"] as? String == "bob" }?["revoked"] as? Bool, false)
        let again = try CLI.run(["label", "taskers", "revoke", "ana", "-C", project])
        XCTAssertEqual(again.status, 2)
        XCTAssertTrue(again.stderr.contains("already revoked"), again.stderr)
        let unknown = try CLI.run(["label", "taskers", "revoke", "zed", "-C", project])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.contains("no tasker named `zed`"), unknown.stderr)
    }

    /// The server keeps bearer tokens in memory, yet `strata label taskers revoke` in another process ends a token
    /// at once: the very next request gets 401, while other taskers go on.
    func testRevokingThroughTheCLIStopsTheTokenOfARunningServer() throws {
        let t = TempDir()
        let (project, tokens) = try project(t, samples: 10, k: 2, taskers: [("ana", "tasker"), ("bob", "tasker")])
        let server = try ServerProcess(project: project)
        defer { server.kill9() }
        for _ in 0..<3 {
            // Several answers, so the token is served from the server's memory by now.
            let next = try HTTP.call("GET", server.url + "/api/queue/next", token: tokens["ana"]!)
            XCTAssertEqual(next.status, 200)
            let id = try XCTUnwrap((next.json["sample"] as? [String: Any])?["id"] as? String)
            XCTAssertEqual(try HTTP.call("POST", server.url + "/api/labels", token: tokens["ana"]!, body: ["sample": id, "value": "neutral"]).status, 201)
        }
        XCTAssertEqual(try HTTP.call("GET", server.url + "/api/me", token: tokens["bob"]!).status, 200)

        let revoke = try CLI.run(["label", "taskers", "revoke", "ana", "-C", project])
        XCTAssertEqual(revoke.status, 0, revoke.stderr)

        XCTAssertEqual(try HTTP.call("GET", server.url + "/api/queue/next", token: tokens["ana"]!).status, 401)
        XCTAssertEqual(try HTTP.call("GET", server.url + "/api/me", token: tokens["ana"]!).status, 401)
        XCTAssertEqual(try HTTP.call("GET", server.url + "/api/me", token: tokens["bob"]!).status, 200)
        // A tasker added while the server runs can sign in at once (unknown tokens are never kept).
        let added = try XCTUnwrap(try CLI.json(["label", "taskers", "add", "cy", "--role", "tasker", "-C", project]) as? [String: Any])
        XCTAssertEqual(try HTTP.call("GET", server.url + "/api/me", token: try XCTUnwrap(added["token"] as? String)).status, 200)
    }

    /// Labels acknowledged with 201 are all there after `kill -9` of the server in the middle of submissions.
    func testAcknowledgedLabelsSurviveKill9() throws {
        let t = TempDir()
        let names = (0..<8).map { "t\($0)" }
        let (project, tokens) = try project(t, samples: 2000, k: 1, taskers: names.map { ($0, "tasker") })
        let server = try ServerProcess(project: project)
        let acked = Locked<[String: Set<String>]>([:])
        let stop = Locked(false)
        let group = DispatchGroup()
        for name in names {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                while !stop.value {
                    guard let next = try? HTTP.call("GET", server.url + "/api/queue/next", token: tokens[name]!),
                          let id = ((next.json["sample"] as? [String: Any])?["id"] as? String) else { return }
                    guard let post = try? HTTP.call("POST", server.url + "/api/labels", token: tokens[name]!, body: ["sample": id, "value": "neutral"])
                    else { return }
                    if post.status == 201 { acked.mutate { $0[name, default: []].insert(id) } }
                }
            }
        }
        // Let the clients work, then kill the server while requests are in flight.
        Thread.sleep(forTimeInterval: 2.0)
        server.kill9()
        stop.mutate { $0 = true }
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
        let ackedCount = acked.value.values.map(\.count).reduce(0, +)
        XCTAssertGreaterThan(ackedCount, 20, "the clients got answers before the kill")

        let again = try ServerProcess(project: project)
        defer { again.kill9() }
        var stored = 0
        for name in names {
            let r = try HTTP.call("GET", again.url + "/api/labels", token: tokens[name]!)
            let ids = Set(((r.json["labels"] as? [[String: Any]]) ?? []).compactMap { $0["sample"] as? String })
            let missing = acked.value[name, default: []].subtracting(ids)
            XCTAssertTrue(missing.isEmpty, "\(name): \(missing.count) acknowledged labels lost")
            stored += ids.count
        }
        XCTAssertGreaterThanOrEqual(stored, ackedCount)
    }

    /// A tasker labels three samples in Chromium (decision path by clicks, by keys, a skip with a reason), then a
    /// reviewer settles a disagreement. Screenshots: .build/artifacts/label-browser/.
    func testBrowserTaskerAndReviewer() throws {
        _ = try PythonPeers.interpreter()
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] where !FileManager.default.isExecutableFile(atPath: tool) {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("\(tool) is missing (apt-get install chromium chromium-driver)") }
            throw XCTSkip("\(tool) is missing: apt-get install chromium chromium-driver")
        }
        let t = TempDir()
        let (project, tokens) = try project(t, samples: 5, k: 2, taskers: [("ana", "tasker"), ("bob", "tasker"), ("rev", "reviewer")])
        let server = try ServerProcess(project: project)
        defer { server.kill9() }
        let shots = LabelServerE2ETests.artifacts + "/label-browser"
        try? FileManager.default.removeItem(atPath: shots)
        let r = try PythonPeers.run(PythonPeers.scriptsDir + "/label_browser.py",
                                    ["--url", server.url, "--tasker", tokens["ana"]!, "--other", tokens["bob"]!,
                                     "--reviewer", tokens["rev"]!, "--shots", shots], timeout: 300)
        XCTAssertEqual(r.status, 0, "stdout: \(r.stdout)\nstderr: \(r.stderr.suffix(3000))")
        for shot in ["1-tasker-first-sample", "3-tasker-after-keyboard", "5-tasker-progress", "6-reviewer-queue", "7-reviewer-decided"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(shots)/\(shot).png"), shot)
        }
    }

    static let artifacts: String = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent(".build/artifacts").path
    }()
}

/// The built `strata label serve --port 0` in a project; `url` once it listens.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let url: String

    init(project: String) throws {
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["label", "serve", "--port", "0", "--json", "-C", project]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The first stdout line is {"listening": URL, "port": N}.
        var line = Data()
        let deadline = Date().addingTimeInterval(60)
        while !line.contains(UInt8(ascii: "\n")) && Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let obj = try? JSONSerialization.jsonObject(with: line.split(separator: UInt8(ascii: "\n")).first ?? Data()) as? [String: Any],
              let u = obj["listening"] as? String else {
            process.terminate()
            throw NSError(domain: "ServerProcess", code: 1, userInfo: [NSLocalizedDescriptionKey: "server did not start: \(String(decoding: line, as: UTF8.self))"])
        }
        url = u
    }

    func kill9() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

enum HTTP {
    struct Reply { var status: Int; var json: [String: Any] }

    static let session: URLSession = {
        let c = URLSessionConfiguration.ephemeral
        c.timeoutIntervalForRequest = 30
        c.httpMaximumConnectionsPerHost = 64
        return URLSession(configuration: c)
    }()

    static func call(_ method: String, _ url: String, token: String, body: [String: Any]? = nil) throws -> Reply {
        var req = URLRequest(url: URL(string: url)!)
        req.httpMethod = method
        req.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let body {
            req.httpBody = try JSONSerialization.data(withJSONObject: body)
            req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<Reply, any Error> = .failure(URLError(.unknown))
        session.dataTask(with: req) { data, response, error in
            if let error { result = .failure(error) } else {
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                let json = (data.flatMap { try? JSONSerialization.jsonObject(with: $0) } as? [String: Any]) ?? [:]
                result = .success(Reply(status: status, json: json))
            }
            done.signal()
        }.resume()
        done.wait()
        return try result.get()
    }
}

final class Locked<T>: @unchecked Sendable {
    private var v: T
    private let lock = NSLock()
    init(_ v: T) { self.v = v }
    var value: T { lock.lock(); defer { lock.unlock() }; return v }
    func mutate(_ f: (inout T) -> Void) { lock.lock(); f(&v); lock.unlock() }
}
