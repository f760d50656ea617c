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

extension SlurmError: UserError {
    public var message: String { "Slurm command `\(command)` \(problem)" }
    public var details: [String] {
        var lines: [String] = []
        let out = output.trimmingCharacters(in: .whitespacesAndNewlines)
        if !out.isEmpty { lines.append("its output: " + out.split(separator: "\n").suffix(8).joined(separator: "\n  ")) }
        return lines + ["check: " + check]
    }
}

extension StageError: UserError {}
