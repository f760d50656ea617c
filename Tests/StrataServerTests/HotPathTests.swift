import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import StrataCatalog
import XCTest
@testable import Strata
@testable import StrataServer

/// What the label server does to answer quickly (bench/label-server) must not change what it answers: the bearer
/// token cache honours revocations at once, the strict answer reader agrees with JSONSerialization, and a failing
/// write in a group commit still fails alone.
final class LabelServerHotPathTests: XCTestCase {
    /// The second request with a token does not ask the catalog; a revocation empties the cache, so the revoked
    /// token is refused on its very next request and the others are looked up once more.
    func testBearerTokensAreCachedAndARevocationEndsThemAtOnce() async throws {
        let f = try ServerFixture(samples: 4, k: 2)
        let server = try f.server()
        let app = Application(router: server.makeRouter())
        try await app.test(.router) { client in
            let tara = f.tokens["tara"]!, tom = f.tokens["tom"]!
            for _ in 0..<3 { try await Self.expect(client, .get, "/api/me", token: tara, .ok) }
            XCTAssertEqual(server.tokens.lookups, 1, "one catalog lookup, then from memory")
            try await Self.expect(client, .get, "/api/me", token: tom, .ok)
            XCTAssertEqual(server.tokens.lookups, 2)

            try f.workspace.revokeTasker(name: "tara")

            let refused = try await client.send(.get, "/api/queue/next", token: tara)
            XCTAssertEqual(refused.status, .unauthorized, refused.text)
            try await Self.expect(client, .get, "/api/me", token: tom, .ok)
            try await Self.expect(client, .get, "/api/me", token: tom, .ok)
            XCTAssertEqual(server.tokens.lookups, 4, "after the revocation: tara once (refused, not kept), tom once (kept again)")
            try await Self.expect(client, .get, "/api/me", token: tara, .unauthorized)
        }
    }

    /// A revocation through another catalog connection (as the CLI does from its own process) is seen on the next
    /// request, also when the counter file was deleted in between.
    func testRevocationFromAnotherConnectionIsSeenEvenAfterTheCounterFileWasDeleted() async throws {
        let f = try ServerFixture(samples: 4, k: 2)
        let server = try f.server()
        let other = try Workspace.open(at: f.root)
        let app = Application(router: server.makeRouter())
        try await app.test(.router) { client in
            let tara = f.tokens["tara"]!, tom = f.tokens["tom"]!
            try await Self.expect(client, .get, "/api/me", token: tara, .ok)
            try await Self.expect(client, .get, "/api/me", token: tom, .ok)
            try other.revokeTasker(name: "tara")
            try await Self.expect(client, .get, "/api/me", token: tara, .unauthorized)
            try await Self.expect(client, .get, "/api/me", token: tom, .ok)

            let counter = f.root + "/.strata/taskers.generation"
            XCTAssertTrue(FileManager.default.fileExists(atPath: counter))
            try FileManager.default.removeItem(atPath: counter)
            try await Self.expect(client, .get, "/api/me", token: tom, .ok)
            try other.revokeTasker(name: "tom")
            try await Self.expect(client, .get, "/api/me", token: tom, .unauthorized)
        }
    }

    /// Tokens of taskers added after the server started work at once (unknown tokens are never kept), and tokens
    /// not shaped like ours are refused without a lookup.
    func testNewTaskersSignInAtOnceAndMalformedTokensAreNotLookedUp() async throws {
        let f = try ServerFixture(samples: 2, k: 1)
        let server = try f.server()
        let app = Application(router: server.makeRouter())
        try await app.test(.router) { client in
            try await Self.expect(client, .get, "/api/me", token: "stk_" + String(repeating: "0", count: 48), .unauthorized)
            let lookups = server.tokens.lookups
            try await Self.expect(client, .get, "/api/me", token: "not-a-token", .unauthorized)
            XCTAssertEqual(server.tokens.lookups, lookups)
            let token = try f.workspace.addTasker(name: "nia", role: .tasker).token
            let me = try await client.send(.get, "/api/me", token: token)
            XCTAssertEqual(me.status, .ok)
            XCTAssertEqual(me.json["name"] as? String, "nia")
        }
    }

    /// Whatever the strict reader accepts, JSONSerialization reads to the same object (and the same answer); what it
    /// does not accept it leaves to JSONSerialization (nil), including every invalid text.
    func testStrictAnswerReaderAgreesWithJSONSerialization() throws {
        let accepted: [String] = [
            #"{"sample":"abc","value":"neutral"}"#,
            #"  { "sample" : "abc" , "value" : "positive" }  "#,
            "{\n\t\"sample\": \"abc\",\r\n\"status\": \"skip\", \"reason\": \"not English\"}",
            #"{"sample":"a\"b\\c\/d","reason":"line\nbreak\ttab\r\b\f","status":"unclear"}"#,
            #"{"sample":"caf\u00e9 \ud83d\ude00 \u0041","value":"neutral"}"#,
            "{\"sample\":\"café 😀 直\",\"value\":\"neutral\"}",
            #"{"sample":"abc","value":null,"status":"skip","reason":"x","answers":null,"confidence":null}"#,
            #"{"sample":"abc","value":"positive","answers":["yes","yes"],"confidence":0.75}"#,
            #"{"sample":"abc","value":"positive","answers":[],"confidence":1}"#,
            #"{"sample":"abc","value":"positive","confidence":0}"#,
            #"{"sample":"abc","value":"positive","confidence":1.0}"#,
            #"{"sample":"abc","value":"positive","confidence":-0.5e-1}"#,
            #"{"sample":"abc","value":"positive","confidence":2E+0}"#,
            #"{"sample":"abc","extra":"field"}"#,
            "{}",
        ]
        for text in accepted {
            let fast = try XCTUnwrap(Self.fast(text), "the strict reader should take \(text)")
            let slow = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            XCTAssertEqual(fast as NSDictionary, slow as NSDictionary, text)
            // And the answer built from either is the same (or fails the same way).
            switch (Result { try LabelServer.answer(from: fast) }, Result { try LabelServer.answer(from: slow) }) {
            case (.success(let a), .success(let b)): XCTAssertEqual(a, b, text)
            case (.failure(let a), .failure(let b)): XCTAssertEqual("\(a)", "\(b)", text)
            default: XCTFail("the answers differ for \(text)")
            }
        }
        let left: [String] = [
            "", "   ", "[]", "\"abc\"", "{", "}", #"{"sample":"abc""#, #"{"sample":"abc",}"#, #"{"sample" "abc"}"#,
            #"{"sample":"abc"} x"#, #"{"sample":"abc"}{}"#, #"{"sample":'abc'}"#, #"{sample:"abc"}"#,
            "{\"sample\":\"a\u{01}b\"}", "{\"sample\":\"a\nb\"}", #"{"sample":"\x41"}"#, #"{"sample":"\u12"}"#,
            #"{"sample":"\ud83d"}"#, #"{"sample":"\ude00"}"#, #"{"sample":"\ud83d\u0041"}"#,
            #"{"sample":"abc","sample":"def"}"#, #"{"sample":"abc","value":true}"#, #"{"sample":{"id":"abc"}}"#,
            #"{"answers":["yes",1]}"#, #"{"answers":["yes",]}"#, #"{"confidence":01}"#, #"{"confidence":.5}"#,
            #"{"confidence":1.}"#, #"{"confidence":-}"#, #"{"confidence":1e}"#, #"{"confidence":+1}"#, #"{"confidence":NaN}"#,
            #"{"confidence":1e999}"#, #"{"value":nul}"#,
        ]
        for text in left { XCTAssertNil(Self.fast(text), "the strict reader should leave \(text) to JSONSerialization") }
        // Invalid UTF-8 inside a string.
        var bytes = Array(#"{"sample":"ab"#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        XCTAssertNil(bytes.withUnsafeMutableBytes { AnswerJSON.object(UnsafeRawBufferPointer($0)) })
        bytes = Array(#"{"sample":"ab"#.utf8) + [0xC3, 0xA9] + Array(#""}"#.utf8)
        XCTAssertEqual(bytes.withUnsafeMutableBytes { AnswerJSON.object(UnsafeRawBufferPointer($0)) }?["sample"] as? String, "abé")
    }

    /// Found by the fuzz target `fuzz-bodies`: with JSONSerialization as the general reader, a number could be read
    /// one ulp apart depending on which reader took the body. Both readers now use Swift's conversion.
    func testBothBodyReadersReadNumbersTheSameWay() throws {
        for number in ["13333333.33323333332", "0.1", "0.30000000000000004", "1e-7", "0.9999999999999999", "-0"] {
            let text = #"{"sample":"s","confidence":"# + number + "}"
            let bytes = Array(text.utf8)
            let strict = try XCTUnwrap(bytes.withUnsafeBytes { LabelRequestBody.strictObject($0) }, text)
            let general = try bytes.withUnsafeBytes { raw in try LabelRequestBody.generalObject(raw) }
            XCTAssertEqual((strict["confidence"] as? NSNumber)?.doubleValue, (general["confidence"] as? NSNumber)?.doubleValue, text)
            XCTAssertEqual((strict["confidence"] as? NSNumber)?.doubleValue, Double(number), text)
        }
        // A body only the general reader takes (a nested value) means the same number.
        let nested = Array(#"{"sample":"s","confidence":13333333.33323333332,"x":{"y":[1]}}"#.utf8)
        let general = try nested.withUnsafeBytes { raw in try LabelRequestBody.object(raw) }
        XCTAssertEqual((general["confidence"] as? NSNumber)?.doubleValue, Double("13333333.33323333332"))
    }

    static func expect(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, token: String,
                       _ status: HTTPResponse.Status, file: StaticString = #filePath, line: UInt = #line) async throws {
        let r = try await client.send(method, uri, token: token)
        XCTAssertEqual(r.status, status, r.text, file: file, line: line)
    }

    static func fast(_ text: String) -> [String: Any]? {
        Array(text.utf8).withUnsafeBytes { AnswerJSON.object($0) }
    }

    /// Malformed bodies still get JSONSerialization's message (with the position) and nothing is stored.
    func testMalformedAnswerBodiesStillNameTheProblem() async throws {
        let f = try ServerFixture(samples: 2, k: 1)
        let app = Application(router: try f.server().makeRouter())
        try await app.test(.router) { client in
            let tara = f.tokens["tara"]!
            let next = try await client.send(.get, "/api/queue/next", token: tara)
            let s = try XCTUnwrap((next.json["sample"] as? [String: Any])?["id"] as? String)
            let bad = try await client.send(.post, "/api/labels", token: tara, raw: "{\"sample\":\"\(s)\",\"value\":\"neutral\"", contentType: "application/json")
            XCTAssertEqual(bad.status, .badRequest)
            XCTAssertTrue(bad.errorMessage.hasPrefix("the body is not valid JSON"), bad.errorMessage)
            let dup = try await client.send(.post, "/api/labels", token: tara, raw: "{\"sample\":\"\(s)\",\"value\":\"neutral\",\"value\":\"x\"}",
                                            contentType: "application/json")
            XCTAssertNotEqual(dup.status, .created, "a duplicated key is read by JSONSerialization, which keeps one value")
            let flag = try await client.send(.post, "/api/labels", token: tara, raw: "{\"sample\":\"\(s)\",\"value\":\"neutral\",\"confidence\":true}",
                                             contentType: "application/json")
            XCTAssertEqual(flag.status, .badRequest)
            XCTAssertEqual((flag.json["error"] as? [String: Any])?["field"] as? String, "confidence")
            XCTAssertEqual(try f.labelEventCount(), 0)
            let ok = try await client.send(.post, "/api/labels", token: tara, raw: "{\"sample\":\"\(s)\",\"value\":\"neutral\",\"confidence\":0.5}",
                                           contentType: "application/json")
            XCTAssertEqual(ok.status, .created, ok.text)
            XCTAssertEqual(try f.workspace.catalog.labelEvents().first?.confidence, 0.5)
        }
    }

    /// Writes committed together: one whose second statement fails (a CHECK constraint, after its first statement
    /// changed a row) is undone alone, and every other write of the same commits is stored.
    func testAWriteFailingHalfwayInAGroupCommitIsUndoneAlone() async throws {
        let f = try ServerFixture(samples: 30, k: 1)
        let desk = try LabelDesk(workspace: f.workspace)
        defer { desk.close() }
        var names: [String] = []
        for i in 0..<10 {
            names.append("w\(i)")
            _ = try f.workspace.addTasker(name: "w\(i)", role: .tasker)
        }
        var claimed: [(String, String)] = []
        for n in names {
            for _ in 0..<3 {
                let item = try await desk.next(for: Tasker(name: n, role: .tasker, createdAt: ""))
                claimed.append((n, try XCTUnwrap(item).sampleId))
                // Answer the claim so the next one is a new sample (the claim of an unanswered sample is reused).
                if claimed.count % 3 != 0 { _ = try await desk.submit(.init(sampleId: claimed.last!.1, kind: .label, value: "neutral", reason: nil), by: Tasker(name: n, role: .tasker, createdAt: "")) }
            }
        }
        // The open claims: the third of each tasker. Half are answered with a status the catalog refuses.
        let open = stride(from: 2, to: claimed.count, by: 3).map { claimed[$0] }
        let version = desk.rulebookVersion
        let results = await withTaskGroup(of: (Int, Bool).self) { group in
            for (i, c) in open.enumerated() {
                group.addTask {
                    let e = LabelEventRow(sampleId: c.1, status: i % 2 == 0 ? "label" : "bogus", value: "neutral", reason: nil, annotator: c.0,
                                          role: "tasker", source: "human", confidence: nil, rulebookVersion: version, answers: nil,
                                          importKey: nil, createdAt: Workspace.now())
                    do { _ = try await desk.writer.appendAnswer(e, requireAssignment: true); return (i, true) } catch { return (i, false) }
                }
            }
            var out: [Int: Bool] = [:]
            for await (i, ok) in group { out[i] = ok }
            return out
        }
        for (i, c) in open.enumerated() {
            XCTAssertEqual(results[i], i % 2 == 0, "write \(i)")
            let assignment = try XCTUnwrap(try f.workspace.catalog.assignment(sampleId: c.1, annotator: c.0))
            if i % 2 == 0 {
                XCTAssertNotNil(assignment.doneAt, "stored answer marks its claim done")
            } else {
                XCTAssertNil(assignment.doneAt, "the failed write's first statement is undone too")
            }
        }
        let events = try f.workspace.catalog.labelEvents()
        XCTAssertEqual(events.count, 20 + open.count / 2)
        XCTAssertFalse(events.contains { $0.status == "bogus" })
    }
}
