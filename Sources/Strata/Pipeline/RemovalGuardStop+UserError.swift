import StrataCore

/// The run stopped by the removal guard: every breach as lines under the message, the two ways on as the fix.
extension RemovalGuardStop: UserError {
    var message: String { RemovalGuard.message(breaches).message }
    var fix: String? { RemovalGuard.message(breaches).fix }
}
