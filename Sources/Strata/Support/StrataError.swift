import Foundation
import StrataCore

/// An error a user reads at the terminal: what went wrong, where, and what to do about it.
///
/// The workspace's own error; the CLI prints it, like every other `UserError`, through `UserErrorText.render`.
public struct StrataError: UserError, CustomStringConvertible {
    public enum Kind: Sendable {
        /// Bad arguments or bad input files: exit code 2.
        case usage
        /// The project is not in a state to run the command: exit code 2.
        case project
        /// Something failed while working (I/O, database): exit code 2.
        case failure
        /// Stopped by Ctrl-C or SIGTERM after cleaning up: exit code 130.
        case interrupted
    }

    public var kind: Kind
    public var message: String
    public var location: String?
    /// Lines shown indented under the message, such as every problem of a spec file.
    public var details: [String]
    public var fix: String?

    public init(_ kind: Kind, _ message: String, fix: String? = nil) {
        self.kind = kind
        self.message = message
        self.location = nil
        self.details = []
        self.fix = fix
    }

    /// Another error's message, location and details under this kind, with the fix given here (or the other
    /// error's own fix when none is given): keeps a wrapped spec error's problem list as lines, not as text.
    public init(_ kind: Kind, wrapping error: any Error, prefix: String = "", fix: String? = nil) {
        let user = UserErrors.adapt(error)
        self.kind = kind
        self.message = prefix + user.message
        self.location = user.location
        self.details = user.details
        self.fix = fix ?? user.fix
    }

    public var exitCode: Int32 {
        kind == .interrupted ? UserErrorText.interruptedExitCode : UserErrorText.inputExitCode
    }

    public var description: String { UserErrorText.render(self) }

    public static func usage(_ message: String, fix: String? = nil) -> StrataError { .init(.usage, message, fix: fix) }
    public static func project(_ message: String, fix: String? = nil) -> StrataError { .init(.project, message, fix: fix) }
}
