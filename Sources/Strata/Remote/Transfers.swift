import Foundation
import StrataCore

/// How many requests a transfer keeps in flight (objects, packs, ranged reads). Remote stores answer each
/// request after a round trip, so throughput comes from several at once; 8 keeps a loopback S3 server and a
/// shared disk busy without flooding an sshd (whose default `MaxStartups` begins refusing at 10).
enum TransferJobs {
    static let defaultCount = 8
    static let maximum = 64

    /// The asked count (1 to 64, else a usage error), else `STRATA_REMOTE_JOBS` (brought into 1...64), else the default.
    static func resolve(_ asked: Int?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Int {
        if let asked, !(1...maximum).contains(asked) {
            throw StrataError.usage("--jobs \(asked) is out of range", fix: "give 1 to \(maximum) requests at once (default \(defaultCount))")
        }
        let n = asked ?? environment["STRATA_REMOTE_JOBS"].flatMap { Int($0) } ?? defaultCount
        return min(max(n, 1), maximum)
    }
}

/// Runs `body(0..<count)` on up to `workers` threads and rethrows the first error; after an error no new job
/// starts. Plain threads, not Swift's cooperative pool: the jobs block on network and disk.
func runJobs(_ count: Int, workers: Int, _ body: @escaping @Sendable (Int) throws -> Void) throws {
    if count == 0 { return }
    if workers <= 1 || count == 1 {
        for i in 0..<count { try body(i) }
        return
    }
    let next = Locked(0)
    let failure = FirstError()
    let group = DispatchGroup()
    for _ in 0..<min(workers, count) {
        group.enter()
        let thread = Thread {
            defer { group.leave() }
            while failure.error == nil {
                let i: Int = next.withLock { n in defer { n += 1 }; return n }
                if i >= count { break }
                do { try body(i) } catch { failure.set(error) }
            }
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    group.wait()
    if let e = failure.error { throw e }
}
