import StrataCore

/// The labeling errors for the renderer: the field as location, every invalid submission as a line.
extension LabelDesk.AnswerError: UserError {
    public var location: String? { field }
}

extension LabelInputError: UserError {
    public var message: String { "\(problems.count) invalid label submission(s); nothing was stored:" }
    public var details: [String] {
        problems.prefix(20).map { "submission \($0.index + 1), \($0.field): \($0.message)" }
            + (problems.count > 20 ? ["... and \(problems.count - 20) more"] : [])
    }
}

extension LabelRequestBody.Problem: UserError {
    public var location: String? { field }
}
