import Foundation
import StrataCore

/// Slurm's client errors for the renderer (the text `description` has always printed, split into lines).
extension SlurmError: UserError {
    public var message: String { "Slurm command `\(command)` \(problem)" }
    public var details: [String] {
        var lines: [String] = []
        let out = output.trimmingCharacters(in: .whitespacesAndNewlines)
        if !out.isEmpty { lines.append("its output: " + out.split(separator: "\n").suffix(8).joined(separator: "\n  ")) }
        return lines + ["check: " + check]
    }
}
