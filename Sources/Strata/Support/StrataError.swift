import Foundation

/// An error a user reads at the terminal: what went wrong, where, and what to do about it.
public struct StrataError: Error, CustomStringConvertible, Sendable {
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
    public var fix: String?

    public init(_ kind: Kind, _ message: String, fix: String? = nil) {
        self.kind = kind
        self.message = message
        self.fix = fix
    }

    public var description: String {
        fix.map { "\(message)\n  fix: \($0)" } ?? message
    }

    public static func usage(_ message: String, fix: String? = nil) -> StrataError { .init(.usage, message, fix: fix) }
    public static func project(_ message: String, fix: String? = nil) -> StrataError { .init(.project, message, fix: fix) }
}
