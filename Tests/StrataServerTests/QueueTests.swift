import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import StrataCatalog
import XCTest
@testable import Strata
@testable import StrataServer

/// Revocation, the claim timeout and label priority, through HTTP.
final class LabelServerQueueTests: XCTestCase {
    static func sampleId(_ r: TestResponse) -> String? { (r.json["sample"] as? [String: Any])?["id"] as? String }

    /// A revoked tasker's token and browser session stop working on the next request; their labels stay.
    func testRevokedTaskerIsRefusedAtOnceAndTheirLabelsStay() async throws {
        let f = try ServerFixture(samples: 4, k: 2)
        let app = Application(router: try f.server().makeRouter())
        try await app.test(.router) { client in
            let tara = f.tokens["tara"]!
            let (cookie, csrf) = try await client.signIn(tara)
            let next = try await client.send(.get, "/api/queue/next", token: tara)
            let s = try XCTUnwrap(Self.sampleId(next))
            let post = try await client.send(.post, "/api/labels", token: tara, json: ["sample": s, "value": "positive"])
            XCTAssertEqual(post.status, .created)
            let r1 = try await client.send(.get, "/api/me", cookie: cookie)
            XCTAssertEqual(r1.status, .ok)

            try f.workspace.revokeTasker(name: "tara")

            let byToken = try await client.send(.get, "/api/queue/next", token: tara)
            XCTAssertEqual(byToken.status, .unauthorized, byToken.text)
            let again = try await client.send(.post, "/api/labels", token: tara, json: ["sample": s, "value": "negative"])
            XCTAssertEqual(again.status, .unauthorized)
            let r2 = try await client.send(.get, "/api/me", cookie: cookie)
            XCTAssertEqual(r2.status, .unauthorized)
            let page = try await client.send(.get, "/label", cookie: cookie)
            XCTAssertEqual(page.status, .seeOther, "a revoked session is sent to the login page")
            let viaSession = try await client.send(.post, "/api/labels", cookie: cookie, csrf: csrf, json: ["sample": s, "value": "negative"])
            XCTAssertEqual(viaSession.status, .unauthorized)

            // The label stays, in the store and in the admin's view; nothing new was stored after the revocation.
            let events = try f.workspace.catalog.labelEvents().filter { $0.annotator == "tara" }
            XCTAssertEqual(events.map(\.value), ["positive"])
            let list = try await client.send(.get, "/api/labels?annotator=tara", token: f.tokens["ada"]!)
            XCTAssertEqual((list.json["labels"] as? [[String: Any]])?.count, 1)
            // Other taskers are unaffected; revoking twice is a clear error.
            let r3 = try await client.send(.get, "/api/queue/next", token: f.tokens["tom"]!)
            XCTAssertEqual(r3.status, .ok)
            XCTAssertThrowsError(try f.workspace.revokeTasker(name: "tara")) { XCTAssertTrue("\($0)".contains("already revoked"), "\($0)") }
            XCTAssertThrowsError(try f.workspace.revokeTasker(name: "nobody"))
        }
    }

    /// A claim left unanswered past the timeout goes back to the queue: another tasker gets it, the first tasker
    /// gets a different sample, and a late answer to the expired claim is refused (nothing stored).
    func testUnansweredClaimGoesBackToTheQueueAfterTheTimeout() async throws {
        let f = try ServerFixture(samples: 2, k: 1)
        let clock = ManualLabelClock()
        let app = Application(router: try f.server(claimTimeout: 1.5, clock: clock).makeRouter())
        try await app.test(.router) { client in
            let tara = f.tokens["tara"]!, tom = f.tokens["tom"]!
            let firstResponse = try await client.send(.get, "/api/queue/next", token: tara)
            let first = try XCTUnwrap(Self.sampleId(firstResponse))
            let tomFirstResponse = try await client.send(.get, "/api/queue/next", token: tom)
            let tomFirst = try XCTUnwrap(Self.sampleId(tomFirstResponse))
            XCTAssertNotEqual(first, tomFirst)
            // Tom answers his; with k = 1 both samples are now taken.
            let r4 = try await client.send(.post, "/api/labels", token: tom, json: ["sample": tomFirst, "value": "neutral"])
            XCTAssertEqual(r4.status, .created)
            let empty = try await client.send(.get, "/api/queue/next", token: tom)
            XCTAssertTrue(empty.json["sample"] is NSNull, "before the timeout tara's claim holds the last sample: \(empty.text)")

            clock.advance(by: 1.4)
            let stillHeld = try await client.send(.get, "/api/queue/next", token: tom)
            XCTAssertTrue(stillHeld.json["sample"] is NSNull, "1.4 s after the claim it is still tara's: \(stillHeld.text)")
            clock.advance(by: 0.6)
            let tomSecond = try await client.send(.get, "/api/queue/next", token: tom)
            XCTAssertEqual(Self.sampleId(tomSecond), first, "the expired claim went to another tasker")
            let r5 = try await client.send(.post, "/api/labels", token: tom, json: ["sample": first, "value": "positive"])
            XCTAssertEqual(r5.status, .created)

            let late = try await client.send(.post, "/api/labels", token: tara, json: ["sample": first, "value": "negative"])
            XCTAssertEqual(late.status, .forbidden, late.text)
            XCTAssertEqual(try f.workspace.catalog.labelEvents().filter { $0.annotator == "tara" }.count, 0)
            XCTAssertNil(try f.workspace.catalog.assignment(sampleId: first, annotator: "tara"), "the expired claim left the catalog")
            XCTAssertNotNil(try f.workspace.catalog.assignment(sampleId: first, annotator: "tom"))
        }
        // A restarted server sees the same state: the sample has its one annotator and nothing is open.
        let progress = try f.workspace.catalog.queueProgress()
        XCTAssertEqual(progress.full, 2)
        XCTAssertEqual(progress.open, 0)
    }

    /// Claims within the timeout are kept: asking again returns the same sample.
    func testClaimWithinTheTimeoutIsKept() async throws {
        let f = try ServerFixture(samples: 3, k: 1)
        let app = Application(router: try f.server(claimTimeout: 60).makeRouter())
        try await app.test(.router) { client in
            let a = Self.sampleId(try await client.send(.get, "/api/queue/next", token: f.tokens["tara"]!))
            let b = Self.sampleId(try await client.send(.get, "/api/queue/next", token: f.tokens["tara"]!))
            XCTAssertNotNil(a)
            XCTAssertEqual(a, b)
            let r6 = try await client.send(.get, "/api/queue/next", token: f.tokens["tom"]!)
            XCTAssertNotEqual(Self.sampleId(r6), a)
        }
    }

    /// The queue hands out samples in `labelPriority` order (rank 1 first, as `strata suggest` writes it), then the
    /// samples without a rank in ingest order.
    func testQueueFollowsLabelPriorityThenIngestOrder() async throws {
        let f = try ServerFixture(samples: 6, k: 1)
        try f.workspace.catalog.refreshQueue(annotatorsPerSample: 1)
        let ingestOrder = try f.workspace.catalog.queueSnapshot().samples.map(\.id)  // no priorities yet: ingest order
        XCTAssertEqual(ingestOrder.count, 6)
        // Ranks for three samples, not in ingest order.
        let ranked = [ingestOrder[4], ingestOrder[1], ingestOrder[5]]
        try f.workspace.catalog.replaceLabelPriority(ranked.enumerated().map { i, id in
            LabelPriorityRow(sampleId: id, rank: i + 1, score: 1 - Double(i) / 10, strategy: "margin", model: "m1", createdAt: "2026-11-30T00:00:00Z")
        })
        let app = Application(router: try f.server().makeRouter())
        try await app.test(.router) { client in
            var handed: [String] = []
            while let s = Self.sampleId(try await client.send(.get, "/api/queue/next", token: f.tokens["tara"]!)) {
                handed.append(s)
                let r7 = try await client.send(.post, "/api/labels", token: f.tokens["tara"]!, json: ["sample": s, "value": "neutral"])
                XCTAssertEqual(r7.status, .created)
            }
            XCTAssertEqual(handed, ranked + [ingestOrder[0], ingestOrder[2], ingestOrder[3]])
        }
    }

    /// Issue 18: a running server takes a new `strata suggest` order without a restart (within 2 seconds).
    func testRunningServerTakesNewPrioritiesWithoutARestart() async throws {
        let f = try ServerFixture(samples: 6, k: 1)
        try f.workspace.catalog.refreshQueue(annotatorsPerSample: 1)
        let ingestOrder = try f.workspace.catalog.queueSnapshot().samples.map(\.id)
        let clock = ManualLabelClock()
        let app = Application(router: try f.server(clock: clock).makeRouter())
        try await app.test(.router) { client in
            let r0 = try await client.send(.get, "/api/queue/next", token: f.tokens["tara"]!)
            let first = try XCTUnwrap(Self.sampleId(r0))
            XCTAssertEqual(first, ingestOrder[0])
            _ = try await client.send(.post, "/api/labels", token: f.tokens["tara"]!, json: ["sample": first, "value": "neutral"])
            // New priorities while the server runs: the last two samples first.
            let ranked = [ingestOrder[5], ingestOrder[4]]
            try f.workspace.catalog.replaceLabelPriority(ranked.enumerated().map { i, id in
                LabelPriorityRow(sampleId: id, rank: i + 1, score: 1, strategy: "margin", model: "m1", createdAt: "2026-12-07T00:00:00Z")
            })
            // Within 2 seconds the queue keeps the order it loaded.
            clock.advance(by: 1.9)
            let r1 = try await client.send(.get, "/api/queue/next", token: f.tokens["tara"]!)
            let second = try XCTUnwrap(Self.sampleId(r1))
            XCTAssertEqual(second, ingestOrder[1], "the new order is not asked for before 2 seconds")
            _ = try await client.send(.post, "/api/labels", token: f.tokens["tara"]!, json: ["sample": second, "value": "neutral"])
            clock.advance(by: 0.2)
            var handed: [String] = []
            while let s = Self.sampleId(try await client.send(.get, "/api/queue/next", token: f.tokens["tara"]!)) {
                handed.append(s)
                _ = try await client.send(.post, "/api/labels", token: f.tokens["tara"]!, json: ["sample": s, "value": "neutral"])
            }
            XCTAssertEqual(handed, ranked + [ingestOrder[2], ingestOrder[3]])
        }
    }

    /// The hand-written JSON of the hot answers parses to exactly what `JSONSerialization` writes for them,
    /// including quotes, backslashes, control characters and non-ASCII text.
    func testHandWrittenJSONMatchesJSONSerialization() throws {
        let f = try ServerFixture(samples: 1, k: 1)
        let server = try f.server()
        let text = "He said \"hi\" \\ back\nthen\ttab \u{01} caf\u{E9} \u{1F600} </script>"
        let item = LabelDesk.QueueItem(sampleId: "abc", shortId: "ab", modality: "text", format: "jsonl", text: text,
                                       contentURL: "/api/samples/abc/content", mediaType: "text/plain; charset=utf-8", done: 3, remaining: 17)
        let fast = try JSONSerialization.jsonObject(with: Data(server.queueJSONText(item))) as? NSDictionary
        let slow = try JSONSerialization.jsonObject(with: Data(JSONOut.bytes(server.queueJSON(item)))) as? NSDictionary
        XCTAssertNotNil(fast)
        XCTAssertEqual(fast, slow)
        for a in [LabelDesk.Answer(sampleId: "s\"1", kind: .label, value: "positive", reason: nil),
                  LabelDesk.Answer(sampleId: "s2", kind: .skip, value: nil, reason: "not \\ English\n")] {
            let e1 = try JSONSerialization.jsonObject(with: Data(LabelServer.eventJSONText(id: 42, a, annotator: "tara"))) as? NSDictionary
            let e2 = try JSONSerialization.jsonObject(with: Data(JSONOut.bytes(server.eventJSON(id: 42, a, annotator: "tara")))) as? NSDictionary
            XCTAssertNotNil(e1)
            XCTAssertEqual(e1, e2)
        }
    }
}
