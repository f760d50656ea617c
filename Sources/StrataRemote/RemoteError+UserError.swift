import StrataCore

/// A remote's error as a user error: message and fix as the remote wrote them.
extension RemoteError: UserError {}
