import Foundation
import Hummingbird
import NIOCore
import Strata

/// How a request proved who it is.
enum Credential: Sendable, Equatable {
    /// `Authorization: Bearer TOKEN` (API clients): no CSRF check, nothing ambient.
    case bearer
    /// The session cookie (the browser): unsafe methods must echo the session's CSRF token.
    case session(id: String, csrf: String)
}

/// Who is calling: the tasker and how they signed in.
struct Identity: Sendable, Equatable {
    var tasker: Tasker
    var credential: Credential
    var csrf: String? { if case .session(_, let c) = credential { c } else { nil } }
}

/// The request context of the labeling server: the caller's identity (set by `AuthMiddleware`) and address.
struct LabelContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var identity: Identity?
    /// Set when the request carried a token or cookie that is not valid (so the answer can say so).
    var rejectedCredential: String?
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Request bodies larger than this are refused with 413 before they are read.
    var maxUploadSize: Int { LabelServerConfiguration.maxBodyBytes }

    /// The client address for rate limiting (`local` when the transport has none, as in router tests).
    var clientKey: String { remoteAddress?.ipAddress ?? "local" }
}
