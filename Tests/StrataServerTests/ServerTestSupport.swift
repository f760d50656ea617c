import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import StrataCatalog
import StrataCore
import XCTest
@testable import Strata
@testable import StrataServer

/// A temporary text project with `count` ingested samples, a rulebook with a decision path, and one tasker per role.
final class ServerFixture: @unchecked Sendable {
    let base: String
    let root: String
    let workspace: Workspace
    var tokens: [String: String] = [:]

    static func rulebook(k: Int, goldRate: Double) -> String {
        """
        version: 1
        labels:
          - name: positive
            definition: The writer is pleased.
            signs: [praise, thanks]
            fits:
              - text: "Works great, thanks!"
                why: Clear praise.
            not_fits:
              - text: "Great, it broke again."
                why: Sarcasm.
          - name: negative
            definition: The writer is unhappy.
            signs: [complaint]
          - name: neutral
            definition: No feeling either way.
        policies:
          unclear: {action: escalate, note: "Escalate rather than guess."}
          no_fit: {action: skip}
        decision_path:
          question: Does the text express a feeling?
          answers:
            - answer: "yes"
              next:
                question: Is the feeling good?
                answers:
                  - {answer: "yes", label: positive}
                  - {answer: "no", label: negative}
                  - {answer: "cannot tell", escalate: mixed feelings}
            - {answer: "no", label: neutral}
            - {answer: "not English", skip: not English}
        annotators_per_sample: \(k)
        gold_rate: \(goldRate)
        agreement_threshold: 0.7

        """
    }

    init(samples count: Int = 6, k: Int = 2, goldRate: Double = 0) throws {
        base = NSTemporaryDirectory() + "strata-server-" + UUID().uuidString
        root = base + "/project"
        try FileManager.default.createDirectory(atPath: base + "/in", withIntermediateDirectories: true)
        _ = try Workspace.initialize(at: root, modalities: [.text])
        try ServerFixture.rulebook(k: k, goldRate: goldRate).write(toFile: root + "/rulebook.yaml", atomically: true, encoding: .utf8)
        let lines = (0..<count).map { i in "{\"text\": \"Sample number \(i): the parcel arrived on day \(i * 7 + 3).\"}" }
        try (lines.joined(separator: "\n") + "\n").write(toFile: base + "/in/reviews.jsonl", atomically: true, encoding: .utf8)
        workspace = try Workspace.open(at: root)
        let summary = try workspace.ingest(IngestOptions(paths: [base + "/in/reviews.jsonl"], source: "reviews", records: RecordOptions()))
        precondition(summary.accepted == count, "ingest accepted \(summary.accepted) of \(count)")
        for (name, role) in [("tara", TaskerRole.tasker), ("tom", .tasker), ("rita", .reviewer), ("ada", .admin)] {
            tokens[name] = try workspace.addTasker(name: name, role: role).token
        }
    }

    func server(maxLoginFailures: Int = 10, claimTimeout: TimeInterval? = LabelDesk.defaultClaimTimeout,
                clock: any LabelClock = SystemLabelClock()) throws -> LabelServer {
        try LabelServer(desk: try LabelDesk(workspace: workspace, claimTimeout: claimTimeout, clock: clock),
                        configuration: .init(maxLoginFailures: maxLoginFailures))
    }

    func labelEventCount() throws -> Int { try workspace.catalog.labelEvents().count }

    deinit {
        _ = try? Process.run(URL(fileURLWithPath: "/bin/chmod"), arguments: ["-R", "u+rwX", base]).waitUntilExit()
        try? FileManager.default.removeItem(atPath: base)
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }
    var errorMessage: String { ((json["error"] as? [String: Any])?["message"] as? String) ?? "" }
}

extension TestClientProtocol {
    /// A request as a user agent sends it: bearer token or session cookie, optional CSRF header, JSON or raw body.
    @discardableResult
    func send(_ method: HTTPRequest.Method, _ uri: String, token: String? = nil, cookie: String? = nil, csrf: String? = nil,
              json: Any? = nil, raw: String? = nil, contentType: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let cookie { headers[.cookie] = cookie }
        if let csrf { headers[HTTPField.Name("X-CSRF-Token")!] = csrf }
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
            headers[.contentType] = "application/json"
        }
        if let raw { body = ByteBuffer(string: raw) }
        if let contentType { headers[.contentType] = contentType }
        return try await execute(uri: uri, method: method, headers: headers, body: body)
    }

    /// Signs in through the login form; returns the session cookie and the page's CSRF token.
    func signIn(_ token: String) async throws -> (cookie: String, csrf: String) {
        let form = try await send(.get, "/login")
        let loginCookie = try XCTUnwrap(form.headers[values: .setCookie].first { $0.hasPrefix("strata_login=") })
        let loginValue = String(loginCookie.dropFirst("strata_login=".count).prefix { $0 != ";" })
        let signedIn = try await send(.post, "/login", cookie: "strata_login=\(loginValue)",
                                      raw: "csrf=\(loginValue)&token=\(token)", contentType: "application/x-www-form-urlencoded")
        XCTAssertEqual(signedIn.status, .seeOther, signedIn.text)
        let session = try XCTUnwrap(signedIn.headers[values: .setCookie].first { $0.hasPrefix("strata_session=") })
        let cookie = String(session.prefix { $0 != ";" })
        let page = try await send(.get, "/label", cookie: cookie)
        let csrf = try XCTUnwrap(page.text.firstMatch(of: /<meta name="csrf" content="([0-9a-f]+)">/)?.1)
        return (cookie, String(csrf))
    }
}
