import StrataCore

/// A file-layer error as a user error: its sentence already names the operation, the path and what to check.
extension FileError: UserError {
    public var message: String { description }
}
