/// One problem found while reading a spec file, located by file, line, column and key path.
///
/// Its `description` is the line a user reads at the terminal:
/// `intent.yaml:14:5 requirements[1].min_samples: expected an integer, found "ten". Fix: write a whole number such as 50`
public struct SpecIssue: Sendable, Equatable, CustomStringConvertible {
    /// The spec file's name as the user knows it, such as `intent.yaml`.
    public var file: String
    /// 1-based line, when known.
    public var line: Int?
    /// 1-based column, when known.
    public var column: Int?
    /// The key path inside the file, such as `requirements.scenarios[2].where.lighting`; empty for the whole file.
    public var path: String
    /// What is wrong, without a trailing period.
    public var message: String
    /// How to fix it, when there is something specific to say.
    public var fix: String?

    public init(file: String, line: Int? = nil, column: Int? = nil, path: String, message: String, fix: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message
        self.fix = fix
    }

    /// `file:line:column`, as far as it is known.
    public var location: String {
        var s = file
        if let line {
            s += ":\(line)"
            if let column { s += ":\(column)" }
        }
        return s
    }

    public var description: String {
        var s = path.isEmpty ? "\(location): \(message)" : "\(location) \(path): \(message)"
        if let fix { s += ". Fix: \(fix)" }
        return s
    }
}

/// Every problem found in one spec file. Thrown by the `decode(yaml:file:)` functions.
///
/// Its `description` names the file and the number of problems, then one indented line per issue:
/// ```
/// intent.yaml: 2 problems
///   intent.yaml:3:1 use_cse: unknown key `use_cse`. Fix: did you mean `use_case`?
///   intent.yaml:14:5 requirements[1].min_samples: expected an integer, found "ten". Fix: write a whole number such as 50
/// ```
public struct SpecError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var issues: [SpecIssue]

    public init(file: String, issues: [SpecIssue]) {
        self.file = file
        self.issues = issues
    }

    public var description: String {
        let count = issues.count == 1 ? "1 problem" : "\(issues.count) problems"
        return (["\(file): \(count)"] + issues.map { "  \($0.description)" }).joined(separator: "\n")
    }
}

// MARK: - Suggestions

enum SpecSuggest {
    /// "did you mean `x`?" when a close candidate exists.
    static func didYouMean(_ word: String, in candidates: [String]) -> String? {
        Suggestion.closest(to: word, in: candidates).map { "did you mean `\($0)`?" }
    }
}
