import StrataCore

/// Why a media file was rejected, as a user error (the reason is already a sentence).
extension MediaProblem: UserError {
    public var message: String { reason }
}

extension MediaProblem: CustomStringConvertible {
    public var description: String { reason }
}

extension EncodeError: UserError {
    public var message: String { reason }
}
