import Foundation
import StrataCore

/// The engine's errors for the renderer. The texts are the ones `description` has always printed, split into
/// message and indented detail lines.
extension TaskFailure: UserError {
    public var message: String { "task \(label) failed after \(attempts) attempt(s): \(error)" }
    public var details: [String] { log.map { ["log: \($0)"] } ?? [] }
}

extension ExecutorInterrupted: UserError {
    public var message: String { description }
    public var exitCode: Int32 { UserErrorText.interruptedExitCode }
}

extension StageError: UserError {}
