/// Receives progress of long operations. The CLI draws a bar on a TTY and plain lines otherwise.
public protocol ProgressReporter: Sendable {
    func begin(_ label: String, total: Int?)
    func advance(by count: Int)
    func end()
    /// A line of information for the user (not a log line).
    func note(_ line: String)
}

/// Discards all progress (tests, `--json`).
public struct SilentProgress: ProgressReporter {
    public init() {}
    public func begin(_ label: String, total: Int?) {}
    public func advance(by count: Int) {}
    public func end() {}
    public func note(_ line: String) {}
}
