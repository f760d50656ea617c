import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Strata

/// Settings of `strata label serve`.
public struct LabelServerConfiguration: Sendable {
    /// Largest request body accepted (larger: 413, nothing read or stored).
    public static let maxBodyBytes = 64 * 1024

    public var host: String
    public var port: Int
    /// Failed sign-ins (login form or bearer token) allowed per client address per window before 429.
    public var maxLoginFailures: Int
    public var loginWindow: TimeInterval
    /// Mark the session cookie `Secure` (set when the server sits behind HTTPS).
    public var secureCookies: Bool

    public init(host: String = "127.0.0.1", port: Int = 8080, maxLoginFailures: Int = 10, loginWindow: TimeInterval = 300,
                secureCookies: Bool = false) {
        self.host = host; self.port = port; self.maxLoginFailures = maxLoginFailures; self.loginWindow = loginWindow
        self.secureCookies = secureCookies
    }
}

/// The labeling web app: routes over a `LabelDesk`. Build it with `LabelServer(desk:configuration:)`, then
/// `makeApplication()` to serve or `makeRouter()` to test.
public final class LabelServer: Sendable {
    public let desk: LabelDesk
    public let configuration: LabelServerConfiguration
    let limiter: LoginLimiter
    let pages: Pages
    /// The rulebook's labels as JSON text, serialized once (every queue answer carries them).
    let labelsJSON: [UInt8]

    static let sessionCookie = "strata_session"
    static let loginCookie = "strata_login"

    public init(desk: LabelDesk, configuration: LabelServerConfiguration = .init()) throws {
        self.desk = desk
        self.configuration = configuration
        limiter = LoginLimiter(maxFailures: configuration.maxLoginFailures, window: configuration.loginWindow)
        pages = try Pages()
        tokens = TaskerTokenCache(workspace: desk.workspace)
        labelsJSON = JSONOut.bytes(RulebookJSON.labels(desk.rulebook))
    }

    /// Bearer tokens already resolved, kept in memory; revocations (in this process or by the CLI) empty it.
    let tokens: TaskerTokenCache

    /// The tasker of a bearer token: from memory after the first request, asking the catalog again after any
    /// revocation (see `TaskerTokenCache`), so a revoked token stops working at once, even when another process
    /// revoked it.
    func authenticate(token: String) throws -> Tasker? {
        try tokens.tasker(token: token)
    }

    /// Makes SwiftNIO's event loops (the threads that already read and write the sockets) also run Swift
    /// concurrency's tasks, instead of handing every request to the global thread pool and every response back.
    /// That saves two thread switches per request (measured in bench/label-server/results.md). Call it once, from
    /// the main thread, before the server starts; it affects the whole process, so only `strata label serve` does.
    /// Returns false when the runtime does not allow it (the server then runs as before).
    @discardableResult
    public static func runTasksOnEventLoops() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

    /// The application to run; `onListening` gets the bound port once the socket is listening.
    public func makeApplication(logger: Logger? = nil, onListening: @escaping @Sendable (Int) -> Void = { _ in }) -> some ApplicationProtocol {
        var log = logger ?? Logger(label: "strata.label-server")
        if logger == nil { log.logLevel = .warning }
        return Application(router: makeRouter(),
                           configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                                serverName: "strata"),
                           onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
                           logger: log)
    }

    func makeRouter() -> Router<LabelContext> {
        let router = Router(context: LabelContext.self)
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: AuthMiddleware(server: self))
        addPages(router)
        addAPI(router)
        return router
    }

    // MARK: helpers

    func require(_ context: LabelContext, _ role: TaskerRole) throws -> Tasker {
        guard let id = context.identity else {
            throw APIError(.unauthorized, context.rejectedCredential.map { "\($0): sign in again" }
                           ?? "sign in first: send `Authorization: Bearer TOKEN` or sign in at /login",
                           headers: [.wwwAuthenticate: "Bearer"])
        }
        guard id.tasker.role >= role else {
            throw APIError(.forbidden, "this needs the \(role.rawValue) role; \(id.tasker.name) is a \(id.tasker.role.rawValue)")
        }
        return id.tasker
    }

    /// Pages send visitors who are not signed in to the login page.
    func requirePage(_ context: LabelContext, _ role: TaskerRole) throws -> Identity {
        guard let id = context.identity else { throw Redirect(to: "/login") }
        guard id.tasker.role >= role else {
            throw PageError(status: .forbidden, message: "This page needs the \(role.rawValue) role; you are signed in as a \(id.tasker.role.rawValue).",
                            pages: pages)
        }
        return id
    }

    static func home(_ role: TaskerRole) -> String {
        switch role {
        case .tasker: "/label"
        case .reviewer: "/review"
        case .admin: "/admin"
        }
    }

    /// Reads a JSON object body (at most `maxBodyBytes`), with errors that say what is wrong.
    static func jsonObject(_ request: Request, _ context: LabelContext) async throws -> [String: Any] {
        if let type = request.headers[.contentType], !type.lowercased().hasPrefix("application/json") {
            throw APIError(.unsupportedMediaType, "send the body as JSON with `Content-Type: application/json`")
        }
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: LabelServerConfiguration.maxBodyBytes) } catch {
            throw APIError(.contentTooLarge, "the body is larger than \(LabelServerConfiguration.maxBodyBytes) bytes")
        }
        do {
            return try body.withUnsafeReadableBytes { raw throws(LabelRequestBody.Problem) in try LabelRequestBody.object(raw) }
        } catch {
            throw APIError(.badRequest, error.message, field: error.field)
        }
    }

    /// Turns a JSON answer body into a `LabelDesk.Answer`, naming the field at fault.
    static func answer(from o: [String: Any]) throws -> LabelDesk.Answer {
        do { return try LabelRequestBody.answer(from: o) } catch {
            throw APIError(.badRequest, error.message, field: error.field)
        }
    }

    static func mapQueueError(_ body: () async throws -> Int64) async throws -> Int64 {
        do { return try await body() } catch let e as LabelDesk.QueueRefusal {
            switch e {
            case .notAssigned(let s, _): throw APIError(.forbidden, "sample \(s) is not in your queue; take samples from /api/queue/next", field: "sample")
            case .unknownSample(let s): throw APIError(.notFound, "no sample \(s)", field: "sample")
            }
        }
    }
}

/// A thrown redirect (pages whose visitor is not signed in).
struct Redirect: Error, HTTPResponseError {
    var location: String
    init(to location: String) { self.location = location }
    var status: HTTPResponse.Status { .seeOther }
    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }
}

/// An HTML error page.
struct PageError: Error, HTTPResponseError {
    var status: HTTPResponse.Status
    var message: String
    let pages: Pages
    func response(from request: Request, context: some RequestContext) throws -> Response {
        Pages.html(pages.render("error", ["title": "\(status.code)", "message": message]), status: status)
    }
}

