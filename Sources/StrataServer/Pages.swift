import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore
import Strata
import StrataCore

/// The server-rendered pages (mustache) and their static JavaScript and CSS.
struct Pages: Sendable {
    let library: MustacheLibrary

    init() throws {
        var lib = MustacheLibrary()
        for (name, text) in Templates.all { try lib.register(text, named: name) }
        library = lib
    }

    func render(_ name: String, _ data: [String: Any]) -> String {
        library.render(data, withTemplate: name) ?? "template \(name) is missing"
    }

    static func html(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// JSON to embed in `<script type="application/json">`: `<` escaped so the text cannot close the element.
    static func scriptJSON(_ value: Any) -> String {
        String(decoding: JSONOut.bytes(value), as: UTF8.self).replacingOccurrences(of: "<", with: "\\u003c")
    }
}

extension LabelServer {
    func common(_ title: String, _ id: Identity?) -> [String: Any] {
        var data: [String: Any] = ["title": title]
        if let id {
            data["me"] = ["name": id.tasker.name, "role": id.tasker.role.rawValue,
                          "canReview": id.tasker.role >= .reviewer, "canAdmin": id.tasker.role >= .admin,
                          "csrf": id.csrf ?? ""]
            if let c = id.csrf { data["csrf"] = c }
        }
        return data
    }

    func rulebookData() -> [String: Any] {
        let labels = RulebookJSON.labels(desk.rulebook).map { l -> [String: Any] in
            var l = l
            l["hasSigns"] = !((l["signs"] as? [String]) ?? []).isEmpty
            l["hasFits"] = !((l["fits"] as? [Any]) ?? []).isEmpty
            l["hasNotFits"] = !((l["notFits"] as? [Any]) ?? []).isEmpty
            return l
        }
        return ["labels": labels, "policies": RulebookJSON.policies(desk.rulebook)]
    }

    /// The decision path the page walks; without one, a single question whose answers are the labels.
    func pathJSON() -> [String: Any] {
        if let p = desk.rulebook.decisionPath { return RulebookJSON.node(p) }
        return ["question": "Which label fits?", "answers": desk.rulebook.labels.map { ["answer": $0.name, "label": $0.name] }]
    }

    static func media(_ modality: String) -> [String: Any] {
        let kind = Modality(rawValue: modality)
        return ["isImage": kind == .image, "isAudio": kind == .audio]
    }

    func addPages(_ router: Router<LabelContext>) {
        router.get("/") { _, context -> Response in
            guard let id = context.identity else { return Response.redirect(to: "/login", type: .normal) }
            return Response.redirect(to: Self.home(id.tasker.role), type: .normal)
        }

        router.get("/login") { _, context -> Response in
            if let id = context.identity { return Response.redirect(to: Self.home(id.tasker.role)) }
            return try self.loginPage(message: nil, status: .ok)
        }

        router.post("/login") { request, context -> Response in
            try self.limiter.check(context.clientKey)
            var request = request
            let body = try await request.collectBody(upTo: LabelServerConfiguration.maxBodyBytes)
            let form = LabelRequestBody.form(String(buffer: body))
            // Login CSRF: the form's hidden field must match the cookie set with the form (double submit).
            guard let sent = form["csrf"], let cookie = request.cookies[Self.loginCookie]?.value,
                  AuthMiddleware.constantTimeEqual(sent, cookie) else {
                return try self.loginPage(message: "The sign-in form expired. Please try again.", status: .forbidden)
            }
            guard let token = form["token"], let tasker = try self.desk.workspace.authenticate(token: token.trimmingCharacters(in: .whitespaces)) else {
                try self.limiter.recordFailure(context.clientKey)
                return try self.loginPage(message: "That token is not valid.", status: .unauthorized)
            }
            let session = try self.desk.workspace.startSession(for: tasker)
            var response = Response.redirect(to: Self.home(tasker.role))
            response.setCookie(try Cookie.validated(name: Self.sessionCookie, value: session.id, maxAge: 12 * 3600, path: "/",
                                                    secure: self.configuration.secureCookies, httpOnly: true, sameSite: .strict))
            response.setCookie(try Cookie.validated(name: Self.loginCookie, value: "", maxAge: 0, path: "/login", httpOnly: true, sameSite: .strict))
            return response
        }

        router.post("/logout") { _, context -> Response in
            if case .session(let id, _)? = context.identity?.credential { try self.desk.workspace.endSession(id: id) }
            var response = Response.redirect(to: "/login")
            response.setCookie(try Cookie.validated(name: Self.sessionCookie, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
            return response
        }

        router.get("/label") { _, context -> Response in
            let id = try self.requirePage(context, .tasker)
            var data = self.common("Label", id).merging(self.rulebookData()) { a, _ in a }
            data["pathJSON"] = Pages.scriptJSON(self.pathJSON())
            if let item = try await self.desk.next(for: id.tasker) {
                data["sample"] = self.queueJSON(item)["sample"]
                data.merge(Self.media(item.modality)) { a, _ in a }
                data["done"] = item.done
                data["remaining"] = item.remaining
                data["empty"] = false
            } else {
                data["empty"] = true
                data["done"] = self.desk.queueCounts(annotator: id.tasker.name).done
                data["remaining"] = 0
            }
            return Pages.html(self.pages.render("label", data))
        }

        router.get("/review") { _, context -> Response in
            let id = try self.requirePage(context, .reviewer)
            var data = self.common("Review", id).merging(self.rulebookData()) { a, _ in a }
            data["items"] = try self.desk.reviewQueue().map { i -> [String: Any] in
                Self.reviewJSON(i).merging(Self.media(i.modality)) { a, _ in a }
            }
            data["labelNames"] = self.desk.rulebook.labels.map(\.name)
            return Pages.html(self.pages.render("review", data))
        }

        router.get("/admin") { _, context -> Response in
            let id = try self.requirePage(context, .admin)
            var data = self.common("Admin", id)
            let p = Self.progressJSON(try self.desk.progress())
            for (k, v) in p { data[k] = Self.display(v) }
            data["annotators"] = (p["annotators"] as? [[String: Any]] ?? []).map { $0.mapValues(Self.display) }
            return Pages.html(self.pages.render("admin", data))
        }

        router.get("/static/app.css") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=300"],
                     body: .init(byteBuffer: ByteBuffer(string: Assets.css)))
        }
        router.get("/static/label.js") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "public, max-age=300"],
                     body: .init(byteBuffer: ByteBuffer(string: Assets.labelJS)))
        }
        router.get("/static/review.js") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "public, max-age=300"],
                     body: .init(byteBuffer: ByteBuffer(string: Assets.reviewJS)))
        }
    }

    static func randomHex(_ n: Int) -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<n).map { _ in
            let b = UInt8.random(in: 0...255, using: &g)
            return (b < 16 ? "0" : "") + String(b, radix: 16)
        }.joined()
    }

    /// Figures for a page: three decimals, missing values as a dash.
    static func display(_ v: Any) -> Any {
        if v is NSNull { return "–" }
        if let d = v as? Double, !(v is Int) { return String(format: "%.3f", d) }
        return v
    }

    func loginPage(message: String?, status: HTTPResponse.Status) throws -> Response {
        let csrf = Self.randomHex(32)
        var data = common("Sign in", nil)
        data["loginCsrf"] = csrf
        if let message { data["message"] = message }
        var response = Pages.html(pages.render("login", data), status: status)
        response.setCookie(try Cookie.validated(name: Self.loginCookie, value: csrf, maxAge: 1800, path: "/login",
                                                secure: configuration.secureCookies, httpOnly: true, sameSite: .strict))
        return response
    }
}
