import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import StrataCatalog
import StrataMedia
import XCTest
@testable import Strata
@testable import StrataServer

final class LabelServerRouteTests: XCTestCase {
    // MARK: authorization

    /// Every identity against every endpoint: anonymous, a wrong token, and each role.
    func testAuthorizationMatrix() async throws {
        let f = try ServerFixture(samples: 8, k: 2)
        let server = try f.server(maxLoginFailures: 1000)  // the bad-token column must not lock the others out
        let app = Application(router: server.makeRouter())
        let anySample = try XCTUnwrap(f.workspace.catalog.allSamples().first?.id)
        try await app.test(.router) { client in
            enum Who: String, CaseIterable { case anonymous, badToken, tara, rita, ada }
            func token(_ w: Who) -> String? {
                switch w {
                case .anonymous: nil
                case .badToken: "stk_0000000000000000000000000000000000000000000000"
                default: f.tokens[w.rawValue]
                }
            }
            // Each identity's own sample (from its queue) for the endpoints that need one.
            var own: [Who: String] = [:]
            for w in [Who.tara, .rita, .ada] {
                let r = try await client.send(.get, "/api/queue/next", token: token(w))
                own[w] = try XCTUnwrap((r.json["sample"] as? [String: Any])?["id"] as? String)
            }
            struct Endpoint { var method: HTTPRequest.Method; var path: (Who) -> String; var body: ((Who) -> Any)?; var minRole: TaskerRole; var page: Bool; var ok: HTTPResponse.Status }
            let endpoints: [Endpoint] = [
                .init(method: .get, path: { _ in "/api/me" }, body: nil, minRole: .tasker, page: false, ok: .ok),
                .init(method: .get, path: { _ in "/api/rulebook" }, body: nil, minRole: .tasker, page: false, ok: .ok),
                .init(method: .get, path: { _ in "/api/queue/next" }, body: nil, minRole: .tasker, page: false, ok: .ok),
                .init(method: .post, path: { _ in "/api/labels" }, body: { w in ["sample": own[w] ?? anySample, "value": "neutral"] }, minRole: .tasker, page: false, ok: .created),
                .init(method: .get, path: { _ in "/api/labels" }, body: nil, minRole: .tasker, page: false, ok: .ok),
                .init(method: .get, path: { w in "/api/samples/\(own[w] ?? anySample)/content" }, body: nil, minRole: .tasker, page: false, ok: .ok),
                .init(method: .get, path: { _ in "/api/review/queue" }, body: nil, minRole: .reviewer, page: false, ok: .ok),
                .init(method: .post, path: { _ in "/api/review/decisions" }, body: { _ in ["sample": anySample, "value": "positive"] }, minRole: .reviewer, page: false, ok: .created),
                .init(method: .get, path: { _ in "/api/admin/progress" }, body: nil, minRole: .admin, page: false, ok: .ok),
                .init(method: .get, path: { _ in "/api/admin/taskers" }, body: nil, minRole: .admin, page: false, ok: .ok),
                .init(method: .get, path: { _ in "/label" }, body: nil, minRole: .tasker, page: true, ok: .ok),
                .init(method: .get, path: { _ in "/review" }, body: nil, minRole: .reviewer, page: true, ok: .ok),
                .init(method: .get, path: { _ in "/admin" }, body: nil, minRole: .admin, page: true, ok: .ok),
            ]
            let roles: [Who: TaskerRole] = [.tara: .tasker, .rita: .reviewer, .ada: .admin]
            var checked = 0
            for e in endpoints {
                for w in Who.allCases {
                    let path = e.path(w)
                    let r = try await client.send(e.method, path, token: token(w), json: e.body?(w))
                    let expected: HTTPResponse.Status
                    switch w {
                    case .anonymous: expected = e.page ? .seeOther : .unauthorized
                    case .badToken: expected = .unauthorized
                    default: expected = roles[w]! >= e.minRole ? e.ok : .forbidden
                    }
                    XCTAssertEqual(r.status, expected, "\(w) \(e.method) \(path): \(r.text.prefix(300))")
                    if expected == .unauthorized { XCTAssertNotNil(r.headers[.wwwAuthenticate], "\(w) \(path)") }
                    if w == .anonymous && e.page { XCTAssertEqual(r.headers[.location], "/login") }
                    checked += 1
                }
            }
            XCTAssertEqual(checked, endpoints.count * Who.allCases.count)
        }
    }

    /// A tasker sees only their own queue, samples and labels.
    func testTaskerSeesOnlyTheirOwnQueue() async throws {
        let f = try ServerFixture(samples: 6, k: 1)
        let app = Application(router: try f.server().makeRouter())
        try await app.test(.router) { client in
            let tara = f.tokens["tara"]!, tom = f.tokens["tom"]!
            let a = try await client.send(.get, "/api/queue/next", token: tara)
            let taraSample = try XCTUnwrap((a.json["sample"] as? [String: Any])?["id"] as? String)
            // Tom (k = 1) gets another sample, cannot read Tara's, cannot label it.
            let b = try await client.send(.get, "/api/queue/next", token: tom)
            let tomSample = try XCTUnwrap((b.json["sample"] as? [String: Any])?["id"] as? String)
            XCTAssertNotEqual(taraSample, tomSample)
            let content = try await client.send(.get, "/api/samples/\(taraSample)/content", token: tom)
            XCTAssertEqual(content.status, .notFound)
            let before = try f.labelEventCount()
            let steal = try await client.send(.post, "/api/labels", token: tom, json: ["sample": taraSample, "value": "positive"])
            XCTAssertEqual(steal.status, .forbidden)
            XCTAssertTrue(steal.errorMessage.contains("not in your queue"), steal.errorMessage)
            XCTAssertEqual(try f.labelEventCount(), before)
            // Tara's labels are hers only.
            let ok = try await client.send(.post, "/api/labels", token: tara, json: ["sample": taraSample, "value": "positive"])
            XCTAssertEqual(ok.status, .created)
            let tomsView = try await client.send(.get, "/api/labels?annotator=tara", token: tom)
            XCTAssertEqual(tomsView.status, .forbidden)
            let tomsOwn = try await client.send(.get, "/api/labels", token: tom)
            XCTAssertEqual((tomsOwn.json["labels"] as? [Any])?.count, 0)
            let reviewerView = try await client.send(.get, "/api/labels?annotator=tara", token: f.tokens["rita"]!)
            XCTAssertEqual((reviewerView.json["labels"] as? [[String: Any]])?.first?["value"] as? String, "positive")
        }
    }

    func testBadTokensAreRefusedWithWWWAuthenticate() async throws {
        let f = try ServerFixture(samples: 2)
        let app = Application(router: try f.server().makeRouter())
        try await app.test(.router) { client in
            for header in ["Basic dGFyYTpwdw==", "Bearer", "Bearer stk_nothing", "Bearer " + f.tokens["tara"]! + "x", "bearer  "] {
                let r = try await client.execute(uri: "/api/queue/next", method: .get, headers: [.authorization: header])
                XCTAssertEqual(r.status, .unauthorized, header)
                XCTAssertNotNil(r.headers[.wwwAuthenticate], header)
                XCTAssertFalse(r.errorMessage.isEmpty, header)
            }
            XCTAssertEqual(try f.workspace.catalog.queueProgress().open, 0, "no sample was handed out")
        }
    }

    // MARK: sessions and CSRF

    func testLoginSessionAndCSRF() async throws {
        let f = try ServerFixture(samples: 4)
        let app = Application(router: try f.server().makeRouter())
        try await app.test(.router) { client in
            // The login form refuses a post without its CSRF cookie.
            let forged = try await client.send(.post, "/login", raw: "csrf=abc&token=\(f.tokens["tara"]!)",
                                               contentType: "application/x-www-form-urlencoded")
            XCTAssertEqual(forged.status, .forbidden)
            XCTAssertNil(forged.headers[values: .setCookie].first { $0.hasPrefix("strata_session=") && !$0.hasPrefix("strata_session=;") })

            let (cookie, csrf) = try await client.signIn(f.tokens["tara"]!)
            let page = try await client.send(.get, "/label", cookie: cookie)
            XCTAssertEqual(page.status, .ok)
            XCTAssertTrue(page.text.contains("Does the text express a feeling?"), "the decision path is on the page")
            XCTAssertTrue(page.text.contains("The writer is pleased."), "the rulebook is beside the sample")
            let sample = try XCTUnwrap(page.text.firstMatch(of: /data-id="([0-9a-f]{64})"/)?.1).description

            let before = try f.labelEventCount()
            let noToken = try await client.send(.post, "/api/labels", cookie: cookie, json: ["sample": sample, "value": "neutral"])
            XCTAssertEqual(noToken.status, .forbidden)
            XCTAssertTrue(noToken.errorMessage.contains("CSRF"))
            let wrong = try await client.send(.post, "/api/labels", cookie: cookie, csrf: String(repeating: "0", count: 64),
                                              json: ["sample": sample, "value": "neutral"])
            XCTAssertEqual(wrong.status, .forbidden)
            XCTAssertEqual(try f.labelEventCount(), before, "nothing stored without the CSRF token")
            let right = try await client.send(.post, "/api/labels", cookie: cookie, csrf: csrf, json: ["sample": sample, "value": "neutral"])
            XCTAssertEqual(right.status, .created, right.text)
            XCTAssertEqual(try f.labelEventCount(), before + 1)

            // Sign-out is a form: it needs the token too, then the session is gone.
            let badLogout = try await client.send(.post, "/logout", cookie: cookie, raw: "csrf=nope", contentType: "application/x-www-form-urlencoded")
            XCTAssertEqual(badLogout.status, .forbidden)
            let logout = try await client.send(.post, "/logout", cookie: cookie, raw: "csrf=\(csrf)", contentType: "application/x-www-form-urlencoded")
            XCTAssertEqual(logout.status, .seeOther)
            let after = try await client.send(.get, "/label", cookie: cookie)
            XCTAssertEqual(after.status, .seeOther)
            XCTAssertEqual(after.headers[.location], "/login")
            let api = try await client.send(.get, "/api/me", cookie: cookie)
            XCTAssertEqual(api.status, .unauthorized)
        }
    }

    func testSessionCookieAttributes() async throws {
        let f = try ServerFixture(samples: 1)
        let app = Application(router: try f.server().makeRouter())
        try await app.test(.router) { client in
            let form = try await client.send(.get, "/login")
            let login = try XCTUnwrap(form.headers[values: .setCookie].first { $0.hasPrefix("strata_login=") })
            let value = String(login.dropFirst("strata_login=".count).prefix { $0 != ";" })
            let r = try await client.send(.post, "/login", cookie: "strata_login=\(value)", raw: "csrf=\(value)&token=\(f.tokens["ada"]!)",
                                          contentType: "application/x-www-form-urlencoded")
            XCTAssertEqual(r.headers[.location], "/admin")
            let session = try XCTUnwrap(r.headers[values: .setCookie].first { $0.hasPrefix("strata_session=") })
            XCTAssertTrue(session.contains("HttpOnly"), session)
            XCTAssertTrue(session.contains("SameSite=Strict"), session)
            XCTAssertFalse(session.contains(f.tokens["ada"]!), "the cookie is a session id, not the token")
        }
    }

    func testLoginRateLimit() async throws {
        let f = try ServerFixture(samples: 1)
        let app = Application(router: try f.server(maxLoginFailures: 3).makeRouter())
        try await app.test(.router) { client in
            for i in 0..<3 {
                let r = try await client.send(.get, "/api/me", token: "stk_wrong\(i)")
                XCTAssertEqual(r.status, i < 2 ? .unauthorized : .tooManyRequests, "attempt \(i)")
            }
            // Locked out now, even with a valid token or through the login form.
            let valid = try await client.send(.get, "/api/me", token: f.tokens["tara"]!)
            XCTAssertEqual(valid.status, .tooManyRequests)
            XCTAssertNotNil(valid.headers[.retryAfter])
            let form = try await client.send(.post, "/login", raw: "csrf=x&token=y", contentType: "application/x-www-form-urlencoded")
            XCTAssertEqual(form.status, .tooManyRequests)
        }
    }

    // MARK: bad input

    func testMalformedBodiesAreRefusedAndNothingIsStored() async throws {
        let f = try ServerFixture(samples: 3)
        let app = Application(router: try f.server().makeRouter())
        try await app.test(.router) { client in
            let tara = f.tokens["tara"]!
            let next = try await client.send(.get, "/api/queue/next", token: tara)
            let sample = try XCTUnwrap((next.json["sample"] as? [String: Any])?["id"] as? String)
            let cases: [(String, String?, HTTPResponse.Status, String)] = [
                ("{\"sample\": ", "application/json", .badRequest, "not valid JSON"),
                ("[1, 2]", "application/json", .badRequest, "JSON object"),
                ("", "application/json", .badRequest, "empty"),
                ("{\"value\": \"positive\"}", "application/json", .badRequest, "missing field `sample`"),
                ("{\"sample\": 12, \"value\": \"positive\"}", "application/json", .badRequest, "`sample` must be a string"),
                ("{\"sample\": \"\(sample)\", \"value\": \"positiv\"}", "application/json", .unprocessableContent, "`positiv` is not a label"),
                ("{\"sample\": \"\(sample)\", \"status\": \"skip\"}", "application/json", .unprocessableContent, "needs a `reason`"),
                ("{\"sample\": \"\(sample)\", \"status\": \"maybe\"}", "application/json", .badRequest, "`status` must be one of"),
                ("{\"sample\": \"\(sample)\", \"lable\": \"positive\"}", "application/json", .badRequest, "unknown field `lable`"),
                ("{\"sample\": \"\(sample)\", \"value\": \"positive\", \"confidence\": 3}", "application/json", .unprocessableContent, "between 0 and 1"),
                ("{\"sample\": \"\(sample)\", \"value\": \"positive\", \"answers\": [\"no\"]}", "application/json", .unprocessableContent, "lead to the label `neutral`"),
                ("{\"sample\": \"\(sample)\", \"value\": \"positive\", \"answers\": \"yes\"}", "application/json", .badRequest, "`answers` must be a list"),
                ("sample=\(sample)&value=positive", "application/x-www-form-urlencoded", .unsupportedMediaType, "JSON"),
            ]
            for (body, type, status, message) in cases {
                let r = try await client.send(.post, "/api/labels", token: tara, raw: body, contentType: type)
                XCTAssertEqual(r.status, status, body)
                XCTAssertTrue(r.errorMessage.contains(message), "\(body): \(r.errorMessage)")
                XCTAssertEqual(r.headers[.contentType], "application/json; charset=utf-8")
            }
            XCTAssertEqual(try f.labelEventCount(), 0, "no malformed answer was stored")
        }
    }

    func testOversizedBodyIs413AndNothingIsStored() async throws {
        let f = try ServerFixture(samples: 2)
        let app = Application(router: try f.server().makeRouter())
        try await app.test(.router) { client in
            let tara = f.tokens["tara"]!
            let next = try await client.send(.get, "/api/queue/next", token: tara)
            let sample = try XCTUnwrap((next.json["sample"] as? [String: Any])?["id"] as? String)
            let huge = String(repeating: "x", count: LabelServerConfiguration.maxBodyBytes + 1)
            let r = try await client.send(.post, "/api/labels", token: tara,
                                          json: ["sample": sample, "status": "skip", "reason": huge])
            XCTAssertEqual(r.status, .contentTooLarge)
            XCTAssertTrue(r.errorMessage.contains("larger than"), r.errorMessage)
            XCTAssertEqual(try f.labelEventCount(), 0)
        }
    }

    func testSecurityHeadersOnPagesAPIAndErrors() async throws {
        let f = try ServerFixture(samples: 1)
        let app = Application(router: try f.server().makeRouter())
        try await app.test(.router) { client in
            let responses = [
                try await client.send(.get, "/login"),
                try await client.send(.get, "/api/me", token: f.tokens["tara"]!),
                try await client.send(.get, "/api/me"),
                try await client.send(.get, "/no/such/page"),
                try await client.send(.get, "/admin", token: f.tokens["tara"]!),
            ]
            for r in responses {
                XCTAssertEqual(r.headers[.contentSecurityPolicy], SecurityHeadersMiddleware.contentSecurityPolicy)
                XCTAssertEqual(r.headers[HTTPField.Name("X-Frame-Options")!], "DENY")
                XCTAssertEqual(r.headers[.xContentTypeOptions], "nosniff")
                XCTAssertEqual(r.headers[HTTPField.Name("Referrer-Policy")!], "no-referrer")
            }
            XCTAssertEqual(responses[3].status, .notFound)
            XCTAssertEqual(responses[4].status, .forbidden)
            XCTAssertFalse(responses[0].text.contains("<script>"), "no inline script (the CSP forbids it)")
        }
    }

    // MARK: queue

    /// Each sample goes to k different annotators, never twice to the same one.
    func testQueueGivesEachSampleToKDifferentAnnotators() async throws {
        let f = try ServerFixture(samples: 5, k: 2)
        let app = Application(router: try f.server().makeRouter())
        try await app.test(.router) { client in
            var seen: [String: [String]] = [:]  // sample -> annotators
            for name in ["tara", "tom", "rita", "ada"] {
                while true {
                    let r = try await client.send(.get, "/api/queue/next", token: f.tokens[name]!)
                    XCTAssertEqual(r.status, .ok)
                    guard let s = (r.json["sample"] as? [String: Any])?["id"] as? String else { break }
                    // Asking again before answering returns the same sample (it stays assigned).
                    let again = try await client.send(.get, "/api/queue/next", token: f.tokens[name]!)
                    XCTAssertEqual((again.json["sample"] as? [String: Any])?["id"] as? String, s)
                    XCTAssertFalse(seen[s, default: []].contains(name), "\(name) got \(s) twice")
                    seen[s, default: []].append(name)
                    let post = try await client.send(.post, "/api/labels", token: f.tokens[name]!, json: ["sample": s, "value": "neutral"])
                    XCTAssertEqual(post.status, .created)
                }
            }
            XCTAssertEqual(seen.count, 5)
            XCTAssertTrue(seen.values.allSatisfy { $0.count == 2 }, "\(seen)")
            XCTAssertEqual(seen.values.map(\.count).reduce(0, +), 10)
        }
    }

    /// Gold samples are mixed in at the rulebook's rate, and count toward gold accuracy on the admin page.
    func testGoldSamplesMixedInAtTheRate() async throws {
        let f = try ServerFixture(samples: 10, k: 1, goldRate: 0.25)
        let samples = try f.workspace.catalog.allSamples()
        try f.workspace.labelStore().setGold([GoldSubmission(sample: samples[0].id, value: "positive"),
                                              GoldSubmission(sample: samples[1].shortId, value: "negative")])
        let app = Application(router: try f.server().makeRouter())
        try await app.test(.router) { client in
            var handed: [String] = []
            for _ in 0..<8 {
                let r = try await client.send(.get, "/api/queue/next", token: f.tokens["tara"]!)
                let s = try XCTUnwrap((r.json["sample"] as? [String: Any])?["id"] as? String)
                XCTAssertNil((r.json["sample"] as? [String: Any])?["gold"], "the tasker is not told which samples are gold")
                handed.append(s)
                _ = try await client.send(.post, "/api/labels", token: f.tokens["tara"]!, json: ["sample": s, "value": "positive"])
            }
            let gold = Set([samples[0].id, samples[1].id])
            XCTAssertEqual(handed.enumerated().filter { gold.contains($0.element) }.map(\.offset), [3, 7], "every 4th sample is gold")
            let p = try await client.send(.get, "/api/admin/progress", token: f.tokens["ada"]!)
            let tara = try XCTUnwrap((p.json["annotators"] as? [[String: Any]])?.first { $0["name"] as? String == "tara" })
            XCTAssertEqual(tara["goldAnswered"] as? Int, 2)
            XCTAssertEqual(tara["goldCorrect"] as? Int, 1)
            XCTAssertEqual(tara["goldAccuracy"] as? Double, 0.5)
        }
    }

    // MARK: review and admin

    func testDisagreementGoesToReviewAndAReviewerSettlesIt() async throws {
        let f = try ServerFixture(samples: 2, k: 2)
        let app = Application(router: try f.server().makeRouter())
        try await app.test(.router) { client in
            let tara = f.tokens["tara"]!, tom = f.tokens["tom"]!, rita = f.tokens["rita"]!
            let a = try await client.send(.get, "/api/queue/next", token: tara)
            let s = try XCTUnwrap((a.json["sample"] as? [String: Any])?["id"] as? String)
            _ = try await client.send(.get, "/api/queue/next", token: tom)
            let first = try await client.send(.post, "/api/labels", token: tara, json: ["sample": s, "value": "positive", "answers": ["yes", "yes"]])
            XCTAssertEqual(first.status, .created, first.text)
            let second = try await client.send(.post, "/api/labels", token: tom, json: ["sample": s, "value": "negative"])
            XCTAssertEqual(second.status, .created, second.text)
            let queue = try await client.send(.get, "/api/review/queue", token: rita)
            let items = try XCTUnwrap(queue.json["items"] as? [[String: Any]])
            XCTAssertEqual(items.count, 1)
            XCTAssertEqual(items.first?["sample"] as? String, s)
            let answers = (items.first?["answers"] as? [[String: Any]] ?? []).map { "\($0["annotator"]!)=\($0["value"]!)" }.sorted()
            XCTAssertEqual(answers, ["tara=positive", "tom=negative"])
            let page = try await client.send(.get, "/review", token: rita)
            XCTAssertTrue(page.text.contains("review-\(s)"))
            let byTasker = try await client.send(.post, "/api/review/decisions", token: tara, json: ["sample": s, "value": "positive"])
            XCTAssertEqual(byTasker.status, .forbidden)
            let decided = try await client.send(.post, "/api/review/decisions", token: rita, json: ["sample": s, "value": "positive"])
            XCTAssertEqual(decided.status, .created)
            let after = try await client.send(.get, "/api/review/queue", token: rita)
            XCTAssertEqual((after.json["items"] as? [Any])?.count, 0)
            // The decision path's answers are stored with the event, and the store's consensus takes the decision.
            let events = try f.workspace.labelEvents(sample: s)
            XCTAssertEqual(events.count, 3)
            XCTAssertEqual(events.first { $0.annotator == "tara" }?.answers, ["yes", "yes"])
            XCTAssertEqual(events.last?.role, .reviewer)
            let consensus = try f.workspace.labelStore().consensus().samples.first { $0.sample == s }
            XCTAssertEqual(consensus?.state, .adjudicated)
            XCTAssertEqual(consensus?.label, "positive")
        }
    }

    func testSkipAndUnclearNeedAReasonAndUnclearGoesToReview() async throws {
        let f = try ServerFixture(samples: 2, k: 2)
        let app = Application(router: try f.server().makeRouter())
        try await app.test(.router) { client in
            let tara = f.tokens["tara"]!
            let a = try await client.send(.get, "/api/queue/next", token: tara)
            let s = try XCTUnwrap((a.json["sample"] as? [String: Any])?["id"] as? String)
            let r = try await client.send(.post, "/api/labels", token: tara, json: ["sample": s, "status": "unclear", "reason": "mixed feelings"])
            XCTAssertEqual(r.status, .created)
            XCTAssertEqual(r.json["status"] as? String, "unclear")
            // Once the sample has its k = 2 answers, the unclear one sends it to review.
            let tom = try await client.send(.get, "/api/queue/next", token: f.tokens["tom"]!)
            XCTAssertEqual((tom.json["sample"] as? [String: Any])?["id"] as? String, s)
            _ = try await client.send(.post, "/api/labels", token: f.tokens["tom"]!, json: ["sample": s, "value": "neutral"])
            let queue = try await client.send(.get, "/api/review/queue", token: f.tokens["ada"]!)
            XCTAssertEqual((queue.json["items"] as? [[String: Any]])?.first?["sample"] as? String, s)
            let b = try await client.send(.get, "/api/queue/next", token: tara)
            let s2 = try XCTUnwrap((b.json["sample"] as? [String: Any])?["id"] as? String)
            XCTAssertNotEqual(s, s2)
            let skip = try await client.send(.post, "/api/labels", token: tara, json: ["sample": s2, "status": "skip", "reason": "not English"])
            XCTAssertEqual(skip.status, .created)
            let mine = try await client.send(.get, "/api/labels", token: tara)
            XCTAssertEqual((mine.json["labels"] as? [[String: Any]])?.compactMap { $0["reason"] as? String }.sorted(), ["mixed feelings", "not English"])
        }
    }

    /// Many concurrent submissions: every one acknowledged is stored, and they share commits (group commit).
    func testConcurrentSubmissionsAreAllStored() async throws {
        let f = try ServerFixture(samples: 60, k: 1)
        var names: [String: String] = [:]
        for i in 0..<20 { names["t\(i)"] = try f.workspace.addTasker(name: "t\(i)", role: .tasker).token }
        let server = try f.server()
        let app = Application(router: server.makeRouter())
        let tokens = names
        try await app.test(.router) { client in
            let acked = try await withThrowingTaskGroup(of: Int.self) { group in
                for (_, token) in tokens {
                    group.addTask {
                        var n = 0
                        for _ in 0..<3 {
                            let r = try await client.send(.get, "/api/queue/next", token: token)
                            guard let s = (r.json["sample"] as? [String: Any])?["id"] as? String else { break }
                            let p = try await client.send(.post, "/api/labels", token: token, json: ["sample": s, "value": "neutral"])
                            if p.status == .created { n += 1 }
                        }
                        return n
                    }
                }
                return try await group.reduce(0, +)
            }
            XCTAssertEqual(acked, 60)
            XCTAssertEqual(try f.labelEventCount(), 60)
            XCTAssertEqual(Set(try f.workspace.catalog.labelEvents().map(\.sampleId)).count, 60, "k = 1: each sample once")
        }
        let stats = server.desk.commitStats
        XCTAssertLessThanOrEqual(stats.commits, 120)
        server.desk.close()
    }

    func testCatalogRefusesToUpdateLabelEventsAndKeepsOnlyTokenHashes() throws {
        let f = try ServerFixture(samples: 1)
        let rows = try f.workspace.catalog.taskers()
        XCTAssertEqual(rows.count, 4)
        for r in rows {
            XCTAssertEqual(r.tokenHash.count, 64)
            XCTAssertFalse(f.tokens.values.contains(r.tokenHash))
        }
        XCTAssertTrue(try f.workspace.catalog.appliedMigrations().contains("v4-taskers"))
        XCTAssertThrowsError(try f.workspace.addTasker(name: "tara", role: .tasker))
        XCTAssertThrowsError(try f.workspace.addTasker(name: "bad name!", role: .tasker))
        XCTAssertNotNil(try f.workspace.authenticate(token: f.tokens["tara"]!))
        XCTAssertNil(try f.workspace.authenticate(token: f.tokens["tara"]!.uppercased()))
    }

    /// Image and audio samples: the page shows an <img> or an <audio> player, the content comes with its media type.
    func testImageAndAudioSamplesAreServedWithTheirMediaType() async throws {
        let base = NSTemporaryDirectory() + "strata-server-media-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: base) }
        _ = try Workspace.initialize(at: base + "/p", modalities: [.image, .audio])
        try ServerFixture.rulebook(k: 1, goldRate: 0).write(toFile: base + "/p/rulebook.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: base + "/in", withIntermediateDirectories: true)
        let png = try Encode.png(Synth.shape(.circle, size: 40, night: false, blur: 0, seed: 3))
        let wav = try Encode.wav(Synth.tone(frequency: 440, seconds: 0.2, sampleRate: 16_000, amplitude: 0.4, noise: 0.01, seed: 1),
                                 sampleRate: 16_000, channels: 1)
        XCTAssertTrue(FileManager.default.createFile(atPath: base + "/in/a.png", contents: Data(png)))
        XCTAssertTrue(FileManager.default.createFile(atPath: base + "/in/b.wav", contents: Data(wav)))
        let ws = try Workspace.open(at: base + "/p")
        XCTAssertEqual(try ws.ingest(IngestOptions(paths: [base + "/in"], source: "field")).accepted, 2)
        let token = try ws.addTasker(name: "tara", role: .tasker).token
        let app = Application(router: try LabelServer(desk: try LabelDesk(workspace: ws)).makeRouter())
        try await app.test(.router) { client in
            var seen: [String: [UInt8]] = [:]
            for _ in 0..<2 {
                let page = try await client.send(.get, "/label", token: token)
                let next = try await client.send(.get, "/api/queue/next", token: token)
                let sample = try XCTUnwrap(next.json["sample"] as? [String: Any])
                let id = try XCTUnwrap(sample["id"] as? String)
                XCTAssertNil(sample["text"])
                let content = try await client.send(.get, "/api/samples/\(id)/content", token: token)
                XCTAssertEqual(content.status, .ok)
                let type = try XCTUnwrap(content.headers[.contentType])
                seen[type] = Array(buffer: content.body)
                if type == "image/png" { XCTAssertTrue(page.text.contains("<img id=\"sample-image\" src=\"/api/samples/\(id)/content\""), page.text) }
                if type == "audio/wav" { XCTAssertTrue(page.text.contains("<audio id=\"sample-audio\" controls"), page.text) }
                let r = try await client.send(.post, "/api/labels", token: token, json: ["sample": id, "value": "neutral"])
                XCTAssertEqual(r.status, .created)
            }
            XCTAssertEqual(seen["image/png"], png)
            XCTAssertEqual(seen["audio/wav"], wav)
        }
    }
}
