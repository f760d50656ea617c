/// An error a user reads at the terminal: what went wrong, where, and what to do about it.
///
/// Every error type that can end a `strata` command conforms (in a `+UserError.swift` file next to the type), and
/// the CLI prints all of them through one renderer, `UserErrorText.render`:
/// ```
/// error: strata.yaml:12:3 executor.workers: expected an integer, found "many"
///   fix: write a whole number such as 4
/// ```
/// `location` comes first when known, `details` are indented lines under the message, `fix` is always the last
/// line. The exit code is 2 (usage, input or failure) unless the type says otherwise (130 after Ctrl-C).
public protocol UserError: Error, Sendable {
    /// What went wrong, as a sentence without the `error: ` prefix and without a trailing period.
    var message: String { get }
    /// Where: `file`, `file:line`, `file:line:column`, optionally followed by a key path or a field name.
    var location: String? { get }
    /// Further lines shown indented under the message (every problem of a file, a program's output).
    var details: [String] { get }
    /// What to do about it, when there is something specific to say.
    var fix: String? { get }
    /// The process's exit code when this error ends a command.
    var exitCode: Int32 { get }
}

extension UserError {
    public var location: String? { nil }
    public var details: [String] { [] }
    public var fix: String? { nil }
    public var exitCode: Int32 { UserErrorText.inputExitCode }
}

/// The one rendering of an error for people, used by the CLI for every error that ends a command.
public enum UserErrorText {
    /// Usage, input and failure errors.
    public static let inputExitCode: Int32 = 2
    /// Stopped by Ctrl-C or SIGTERM after cleaning up (128 + SIGINT, as shells report it).
    public static let interruptedExitCode: Int32 = 130

    /// The lines after `error: `: the location and message, then the details indented by two spaces, then
    /// `  fix: ...`. A message of several lines keeps its extra lines as details.
    public static func render(_ error: any UserError) -> String {
        var messageLines = error.message.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let first = messageLines.isEmpty ? "" : messageLines.removeFirst()
        var lines: [String] = []
        if let location = error.location, !location.isEmpty {
            lines.append(first.isEmpty ? location : "\(location): \(first)")
        } else {
            lines.append(first)
        }
        lines += messageLines
        for detail in error.details {
            lines += detail.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }
        }
        if let fix = error.fix, !fix.isEmpty { lines.append("  fix: " + fix) }
        return lines.joined(separator: "\n")
    }

    /// Any error as a `UserError`: the error itself when it conforms, a `DecodingError` with its key path and
    /// the expected shape in words, otherwise its description. Foundation's errors are adapted one module up
    /// (`UserErrors.adapt` in Strata), which calls this for everything it does not know.
    public static func adapt(_ error: any Error) -> any UserError {
        if let user = error as? any UserError { return user }
        if let decoding = error as? DecodingError { return DecodingProblem(decoding) }
        return PlainError(message: "\(error)")
    }

    /// A one-line text for an error embedded in another message (`cannot read X: <inline>`): the location and
    /// message, without details or fix, and never a Swift type name for the errors adapted here.
    public static func inline(_ error: any Error) -> String {
        inline(adapt(error))
    }

    public static func inline(_ error: any UserError) -> String {
        let first = error.message.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        if let location = error.location, !location.isEmpty { return "\(location): \(first)" }
        return first
    }
}

/// An error known only by its text.
public struct PlainError: UserError, CustomStringConvertible {
    public var message: String
    public var fix: String?
    public init(message: String, fix: String? = nil) {
        self.message = message
        self.fix = fix
    }
    public var description: String { message }
}

/// A `DecodingError` in a user's words: the key path (`remotes[1].url`) as location and the expected shape
/// ("expected a string") instead of Swift's type names.
public struct DecodingProblem: UserError {
    public var message: String
    public var location: String?

    public init(_ error: DecodingError) {
        switch error {
        case .typeMismatch(let type, let context):
            message = "expected \(DecodingProblem.shape(of: type))"
            location = DecodingProblem.path(context.codingPath)
        case .valueNotFound(let type, let context):
            message = "expected \(DecodingProblem.shape(of: type)), found null or nothing"
            location = DecodingProblem.path(context.codingPath)
        case .keyNotFound(let key, let context):
            message = "missing key `\(key.stringValue)`"
            location = DecodingProblem.path(context.codingPath)
        case .dataCorrupted(let context):
            let said = context.debugDescription.hasSuffix(".") ? String(context.debugDescription.dropLast()) : context.debugDescription
            message = said.isEmpty ? "the data is not valid" : DecodingProblem.lowercasedFirst(said)
            location = DecodingProblem.path(context.codingPath)
        @unknown default:
            message = "the data does not have the expected shape"
            location = nil
        }
    }

    /// `requirements[1].min_samples`, or nil for the top level.
    static func path(_ keys: [any CodingKey]) -> String? {
        var s = ""
        for key in keys {
            if let index = key.intValue, key.stringValue.hasPrefix("Index ") || key.stringValue == "\(index)" {
                s += "[\(index)]"
            } else {
                s += s.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return s.isEmpty ? nil : s
    }

    /// The expected JSON shape of a Swift type, in words.
    static func shape(of type: Any.Type) -> String {
        switch type {
        case is String.Type, is Substring.Type, is Character.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Int.Type, is Int64.Type, is Int32.Type, is Int16.Type, is Int8.Type,
             is UInt.Type, is UInt64.Type, is UInt32.Type, is UInt16.Type, is UInt8.Type: return "a whole number"
        case is Double.Type, is Float.Type: return "a number"
        default:
            let name = "\(type)"
            return name.hasPrefix("Array<") || name.hasPrefix("Set<") ? "a list" : "an object"
        }
    }

    static func lowercasedFirst(_ s: String) -> String {
        guard let f = s.first, f.isUppercase, !(s.dropFirst().first?.isUppercase ?? false) else { return s }
        return f.lowercased() + s.dropFirst()
    }
}
