import Foundation
import StrataCatalog
import StrataCore
import StrataStore

/// What a tasker may do on the labeling server.
public enum TaskerRole: String, Sendable, Codable, CaseIterable, Comparable {
    /// Labels the samples of their own queue.
    case tasker
    /// Also settles disagreements (the adjudication queue).
    case reviewer
    /// Also sees progress, agreement and accuracy of everyone.
    case admin

    var rank: Int { switch self { case .tasker: 0; case .reviewer: 1; case .admin: 2 } }
    public static func < (a: TaskerRole, b: TaskerRole) -> Bool { a.rank < b.rank }
}

/// A signed-in user of the labeling server.
public struct Tasker: Sendable, Equatable, Codable {
    public var name: String
    public var role: TaskerRole
    public var createdAt: String
}

/// A browser session: the random id the cookie carries (only its hash is stored) and its CSRF token.
public struct TaskerSession: Sendable, Equatable {
    public var id: String
    public var csrf: String
    public var tasker: Tasker
    public var expiresAt: Date
}

extension Workspace {
    /// The taskers of this project and their sign-in (see `TaskerDirectory`).
    var taskerDirectory: TaskerDirectory { TaskerDirectory(workspace: self) }

    /// Adds a tasker and returns their token. The token is shown once: the catalog stores its SHA-256 only.
    public func addTasker(name: String, role: TaskerRole) throws -> (tasker: Tasker, token: String) {
        try taskerDirectory.addTasker(name: name, role: role)
    }

    /// Revokes a tasker: their token and every session stop working at once (see `TaskerDirectory.revokeTasker`).
    public func revokeTasker(name: String) throws { try taskerDirectory.revokeTasker(name: name) }

    /// Names of revoked taskers.
    public func revokedTaskers() throws -> Set<String> { try taskerDirectory.revokedTaskers() }

    public func taskers() throws -> [Tasker] { try taskerDirectory.taskers() }

    /// The tasker holding `token`, or nil for an unknown token.
    public func authenticate(token: String) throws -> Tasker? { try taskerDirectory.authenticate(token: token) }

    /// Starts a browser session for a signed-in tasker.
    public func startSession(for tasker: Tasker, lifetime: TimeInterval = 12 * 3600) throws -> TaskerSession {
        try taskerDirectory.startSession(for: tasker, lifetime: lifetime)
    }

    /// The live session with this cookie id, or nil when unknown or expired.
    public func session(id: String) throws -> TaskerSession? { try taskerDirectory.session(id: id) }

    public func endSession(id: String) throws { try taskerDirectory.endSession(id: id) }

    static func isTaskerName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64 && s.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D
        }
    }

    /// Tokens start with `stk_` (what `addTasker` hands out); anything else is refused without a lookup.
    static func isTokenShaped(_ token: String) -> Bool { token.hasPrefix("stk_") && token.utf8.count < 200 }

    static func tokenHash(_ token: String) -> String { FileIO.sha256(Array(token.utf8)) }

    /// `n` random bytes from the system's CSPRNG, as hex.
    static func randomHex(_ n: Int) -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<n).map { _ in
            let b = UInt8.random(in: 0...255, using: &g)
            return String(b, radix: 16).count == 1 ? "0" + String(b, radix: 16) : String(b, radix: 16)
        }.joined()
    }

    static func timestamp(_ date: Date) -> String { utcTimestamp(date) }
}

extension Tasker {
    init?(_ row: TaskerRow) {
        guard let role = TaskerRole(rawValue: row.role) else { return nil }
        self.init(name: row.name, role: role, createdAt: row.createdAt)
    }
}

/// The taskers of a project: adding and revoking them, tokens and browser sessions. Every check runs against the
/// catalog; a running label server keeps resolved tokens in `TaskerTokenCache`.
struct TaskerDirectory {
    let workspace: Workspace

    /// Adds a tasker and returns their token. The token is shown once: the catalog stores its SHA-256 only.
    func addTasker(name: String, role: TaskerRole) throws -> (tasker: Tasker, token: String) {
        guard Workspace.isTaskerName(name) else {
            throw StrataError.usage("the tasker name `\(name)` is not allowed",
                                    fix: "use 1 to 64 letters, digits, `.`, `_` or `-`, such as `ana` or `ana.lee`")
        }
        if try workspace.catalog.tasker(named: name) != nil {
            throw StrataError.usage("a tasker named `\(name)` already exists",
                                    fix: "choose another name; `strata label taskers list` shows the taskers")
        }
        let token = "stk_" + Workspace.randomHex(24)
        let now = Workspace.now()
        try workspace.catalog.addTasker(TaskerRow(name: name, role: role.rawValue, tokenHash: Workspace.tokenHash(token), createdAt: now))
        return (Tasker(name: name, role: role, createdAt: now), token)
    }

    /// Revokes a tasker: their token and every session stop working at once; their labels and answered
    /// assignments stay. Their unanswered claims go back to the queue when the claim timeout passes.
    ///
    /// Sessions are checked against the catalog on every request. Bearer tokens are kept in memory by a running
    /// server (`TaskerTokenCache`): after the commit, the revocation raises the counter in
    /// `.strata/taskers.generation`, which the server reads before every cached answer, so its next request with
    /// the token asks the catalog again and gets 401.
    func revokeTasker(name: String) throws {
        guard let row = try workspace.catalog.tasker(named: name) else {
            throw StrataError.usage("there is no tasker named `\(name)`", fix: "`strata label taskers list` shows the taskers")
        }
        guard try workspace.catalog.revokeTasker(name: row.name, now: Workspace.now()) else {
            throw StrataError.usage("the tasker `\(name)` is already revoked", fix: "add a new tasker with `strata label taskers add` if they need access again")
        }
        do {
            try TaskerGenerationFile(strataDir: workspace.strataDir).bump()
        } catch {
            throw StrataError(.failure, "revoked `\(name)` in the catalog, but could not tell running label servers (\(workspace.strataDir)/taskers.generation: \(error))",
                              fix: "restart `strata label serve` so the token stops working there too, and check that .strata is writable")
        }
    }

    /// Names of revoked taskers.
    func revokedTaskers() throws -> Set<String> { try workspace.catalog.revokedTaskers() }

    func taskers() throws -> [Tasker] {
        try workspace.catalog.taskers().compactMap(Tasker.init)
    }

    /// The tasker holding `token`, or nil for an unknown token.
    func authenticate(token: String) throws -> Tasker? {
        guard Workspace.isTokenShaped(token) else { return nil }
        return try workspace.catalog.tasker(tokenHash: Workspace.tokenHash(token)).flatMap(Tasker.init)
    }

    /// Starts a browser session for a signed-in tasker.
    func startSession(for tasker: Tasker, lifetime: TimeInterval = 12 * 3600) throws -> TaskerSession {
        let id = Workspace.randomHex(32), csrf = Workspace.randomHex(32)
        let expires = Date().addingTimeInterval(lifetime)
        try workspace.catalog.addSession(TaskerSessionRow(idHash: Workspace.tokenHash(id), tasker: tasker.name, csrf: csrf,
                                                createdAt: Workspace.now(), expiresAt: Workspace.timestamp(expires)))
        return TaskerSession(id: id, csrf: csrf, tasker: tasker, expiresAt: expires)
    }

    /// The live session with this cookie id, or nil when unknown or expired.
    func session(id: String) throws -> TaskerSession? {
        guard id.utf8.count == 64 else { return nil }
        guard let (s, t) = try workspace.catalog.session(idHash: Workspace.tokenHash(id), now: Workspace.now()),
              let tasker = Tasker(t) else { return nil }
        return TaskerSession(id: id, csrf: s.csrf, tasker: tasker, expiresAt: Date())
    }

    func endSession(id: String) throws {
        try workspace.catalog.deleteSession(idHash: Workspace.tokenHash(id))
    }
}
