import Foundation
import StrataCore

/// Where the labeling desk and its queue read the time: claim ages, the claim timeout, and how often the queue
/// looks for new samples and priorities. The server uses `SystemLabelClock`; tests use `ManualLabelClock` and
/// advance it instead of sleeping.
public protocol LabelClock: Sendable {
    func now() -> Date
}

/// The wall clock.
public struct SystemLabelClock: LabelClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that moves only when told to (for tests and simulations).
public final class ManualLabelClock: LabelClock {
    private let current: Locked<Date>
    public init(_ start: Date = Date()) { current = Locked(start) }
    public func now() -> Date { current.value }
    /// Moves the clock forward by `seconds`.
    public func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// Lets one caller through per interval (the queue refresh scans every sample; when the queue is dry, fifty
/// clients asking at once must not run it fifty times).
struct RefreshGate: Sendable {
    private let last = Locked(Date.distantPast)

    /// Whether at least `seconds` passed since the last caller that got through; if so, this caller gets through.
    func pass(every seconds: TimeInterval, now: Date) -> Bool {
        last.withLock { last in
            guard now.timeIntervalSince(last) >= seconds else { return false }
            last = now
            return true
        }
    }
}
