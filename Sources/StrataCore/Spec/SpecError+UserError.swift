/// A spec file's problems for the renderer: the file as location, one indented line per issue, each issue's own
/// fix on the line under it:
/// ```
/// error: intent.yaml: 2 problems
///   intent.yaml:3:1 use_cse: unknown key `use_cse`
///     fix: did you mean `use_case`?
///   intent.yaml:14:5 requirements[1].min_samples: expected an integer, found "ten"
///     fix: write a whole number such as 50
/// ```
extension SpecError: UserError {
    public var message: String { issues.count == 1 ? "1 problem" : "\(issues.count) problems" }
    public var location: String? { file }
    public var details: [String] {
        issues.map { issue in
            let head = issue.path.isEmpty ? "\(issue.location): \(issue.message)" : "\(issue.location) \(issue.path): \(issue.message)"
            return issue.fix.map { head + "\n  fix: " + $0 } ?? head
        }
    }
}
