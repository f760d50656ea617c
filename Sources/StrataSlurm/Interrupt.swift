import Dispatch
import Foundation
import StrataCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` with SIGINT and SIGTERM caught into an `InterruptFlag` (the default handlers come back after).
func withInterrupt<T>(_ body: (InterruptFlag) throws -> T) rethrows -> T {
    let interrupt = InterruptFlag()
    let sources = [SIGINT, SIGTERM].map { sig -> any DispatchSourceSignal in
        signal(sig, SIG_IGN)
        let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        s.setEventHandler { interrupt.set(sig) }
        s.resume()
        return s
    }
    defer {
        for s in sources { s.cancel() }
        signal(SIGINT, SIG_DFL); signal(SIGTERM, SIG_DFL)
    }
    return try body(interrupt)
}

/// Set by SIGINT/SIGTERM while a Slurm step runs; wakes the poll loop.
final class InterruptFlag: Sendable {
    private let signal = Locked<Int32>(0)
    let wake = DispatchSemaphore(value: 0)
    /// Keeps the first signal.
    func set(_ s: Int32) { signal.withLock { if $0 == 0 { $0 = s } }; wake.signal() }
    var value: Int32 { signal.value }
}

