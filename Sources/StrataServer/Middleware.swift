import Foundation
import HTTPTypes
import Hummingbird
import Strata
import StrataCore

/// A JSON error the client can act on: `{"error": {"message": ..., "field": ...}}`.
struct APIError: Error, HTTPResponseError {
    var status: HTTPResponse.Status
    var message: String
    var field: String?
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ message: String, field: String? = nil, headers: HTTPFields = [:]) {
        self.status = status; self.message = message; self.field = field; self.headers = headers
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var error: [String: Any] = ["message": message]
        if let field { error["field"] = field }
        var h = headers
        h[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: JSONOut.bytes(["error": error]))))
    }
}

enum JSONOut {
    static func bytes(_ value: Any) -> [UInt8] {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return [UInt8](data)
    }

    static func response(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func response(_ value: Any, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(bytes: bytes(value))))
    }
}

/// Adds the security headers to every answer (errors included) and turns thrown errors into responses here, so
/// an error page carries the same headers. Unknown errors become a 500 without internals.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = LabelContext

    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    func handle(_ request: Request, context: LabelContext, next: (Request, LabelContext) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let e as any HTTPResponseError {
            response = try e.response(from: request, context: context)
        } catch let e as LabelDesk.AnswerError {
            response = try APIError(.unprocessableContent, e.message, field: e.field).response(from: request, context: context)
        } catch let e as LabelInputError {
            // The label store's checks: an unknown sample is a 404, anything else a 422; both name the field.
            let p = e.problems.first
            let status: HTTPResponse.Status = p?.code == .unknownSample ? .notFound : .unprocessableContent
            response = try APIError(status, p?.message ?? e.description, field: p?.field).response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            response = try APIError(.internalServerError, "the server could not complete the request; see the server log")
                .response(from: request, context: context)
        }
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[.crossOriginOpenerPolicy] = "same-origin"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

/// Resolves the caller from `Authorization: Bearer` or the session cookie. It rejects nothing by itself (routes
/// decide what they need), except that unsafe methods signed in by cookie must carry the session's CSRF token.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = LabelContext
    let server: LabelServer

    func handle(_ request: Request, context: LabelContext, next: (Request, LabelContext) async throws -> Response) async throws -> Response {
        var context = context
        var request = request
        if let auth = request.headers[.authorization] {
            let parts = auth.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                throw APIError(.unauthorized, "the Authorization header must be `Bearer TOKEN`", headers: [.wwwAuthenticate: "Bearer"])
            }
            let token = Self.trimmedSpaces(parts[1])
            try server.limiter.check(context.clientKey)
            if let t = try server.authenticate(token: token) {
                context.identity = Identity(tasker: t, credential: .bearer)
            } else {
                try server.limiter.recordFailure(context.clientKey)
                throw APIError(.unauthorized, "the token is not valid; ask an admin for a token (`strata label taskers add`)",
                               headers: [.wwwAuthenticate: "Bearer error=\"invalid_token\""])
            }
        } else if let cookie = request.cookies[LabelServer.sessionCookie]?.value {
            if let s = try server.desk.workspace.session(id: cookie) {
                context.identity = Identity(tasker: s.tasker, credential: .session(id: s.id, csrf: s.csrf))
            } else {
                context.rejectedCredential = "session expired"
            }
        }
        if let identity = context.identity, let expected = identity.csrf, !Self.safe(request.method),
           request.uri.path != "/login" {
            var sent = request.headers[.csrfToken]
            if sent == nil, request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true {
                let body = try await request.collectBody(upTo: context.maxUploadSize)
                sent = LabelRequestBody.form(String(buffer: body))["csrf"]
            }
            guard let sent, Self.constantTimeEqual(sent, expected) else {
                throw APIError(.forbidden, "missing or wrong CSRF token: reload the page and try again")
            }
        }
        return try await next(request, context)
    }

    /// The token without surrounding spaces and tabs (Foundation's `trimmingCharacters` costs more than the rest of
    /// the header handling, and HTTP only allows these two around a field value).
    static func trimmedSpaces(_ s: Substring) -> String {
        var u = s.utf8[...]
        while let f = u.first, f == 0x20 || f == 0x09 { u = u.dropFirst() }
        while let l = u.last, l == 0x20 || l == 0x09 { u = u.dropLast() }
        return String(Substring(u))
    }

    static func safe(_ m: HTTPRequest.Method) -> Bool { m == .get || m == .head || m == .options }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in x.indices { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}

/// Counts failed sign-ins (login form and bad bearer tokens) per client address in a sliding window.
final class LoginLimiter: Sendable {
    let maxFailures: Int
    let window: TimeInterval
    private let failures = Locked<[String: [Date]]>([:])

    init(maxFailures: Int, window: TimeInterval) {
        self.maxFailures = maxFailures
        self.window = window
    }

    /// Throws 429 when `key` already failed too often in the window.
    func check(_ key: String, now: Date = Date()) throws {
        let window = self.window
        let recent = failures.withLock { failures in
            let recent = (failures[key] ?? []).filter { now.timeIntervalSince($0) < window }
            failures[key] = recent
            return recent
        }
        if recent.count >= maxFailures {
            let retry = Int(window - now.timeIntervalSince(recent[0])) + 1
            throw APIError(.tooManyRequests, "too many failed sign-ins from this address; wait \(retry) s and try again",
                           headers: [.retryAfter: "\(retry)"])
        }
    }

    /// Records a failure; throws 429 once the limit is reached.
    func recordFailure(_ key: String, now: Date = Date()) throws {
        let window = self.window
        failures.withLock { failures in
            failures[key, default: []].append(now)
            if failures.count > 10_000 { failures = failures.filter { now.timeIntervalSince($0.value.last ?? now) < window } }
        }
        try check(key, now: now)
    }
}

extension HTTPField.Name {
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let crossOriginOpenerPolicy = HTTPField.Name("Cross-Origin-Opener-Policy")!
    static let csrfToken = HTTPField.Name("X-CSRF-Token")!
}
