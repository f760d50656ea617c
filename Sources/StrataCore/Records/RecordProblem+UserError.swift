/// A refused record as a user error (its message already names the line or field).
extension RecordProblem: UserError {}
