import Foundation
import StrataCore

/// Rewrites swift-argument-parser's error text for Strata's `error: ` line: without its own `Error: ` prefix
/// (which doubled it), and with the "did you mean" of an unknown option chosen by `Suggestion.closest` among
/// the options of the command that was typed, like every other suggestion Strata makes.
enum ParseErrorText {
    static func rewrite(_ message: String, arguments: [String]) -> String {
        var text = message
        if text.hasPrefix("Error: ") { text.removeFirst("Error: ".count) }
        guard text.hasPrefix("Unknown option '") else { return text }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let first = lines[0]
        let rest = first.dropFirst("Unknown option '".count)
        guard let quote = rest.firstIndex(of: "'") else { return text }
        let option = String(rest[..<quote])
        let longNames = options(of: arguments)
        let typed = option.drop { $0 == "-" }
        var line = "Unknown option '\(option)'."
        if option.hasPrefix("--"), let best = Suggestion.closest(to: String(typed), in: longNames) {
            line += " Did you mean '--\(best)'?"
        }
        lines[0] = line
        return lines.joined(separator: "\n")
    }

    /// The long option names of the (sub)command the arguments name, read from the parser's own description of
    /// the tool, so the list can never drift from the options the command really has.
    static func options(of arguments: [String]) -> [String] {
        guard let data = StrataCommand._dumpHelp().data(using: .utf8),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              var command = root["command"] as? [String: Any] else { return [] }
        for word in arguments where !word.hasPrefix("-") {
            let subs = command["subcommands"] as? [[String: Any]] ?? []
            guard let next = subs.first(where: { ($0["commandName"] as? String) == word }) else { continue }
            command = next
        }
        var names: [String] = []
        for argument in command["arguments"] as? [[String: Any]] ?? [] {
            for name in argument["names"] as? [[String: Any]] ?? [] where name["kind"] as? String == "long" {
                if let n = name["name"] as? String { names.append(n) }
            }
        }
        return names
    }
}
