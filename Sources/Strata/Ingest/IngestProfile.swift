import Foundation
import StrataCore

/// Phase timings, printed to stderr when STRATA_PROFILE is set (for benchmarking; off by default).
final class Profile: Sendable {
    static let shared = Profile()
    let enabled = ProcessInfo.processInfo.environment["STRATA_PROFILE"] != nil
    private let totals = Locked<[String: Double]>([:])
    func add(_ key: String, _ seconds: Double) {
        guard enabled else { return }
        totals.withLock { $0[key, default: 0] += seconds }
    }
    func report() {
        guard enabled else { return }
        let lines = totals.withLock { totals in totals.sorted { $0.key < $1.key }.map { String(format: "profile %@ %.3f s", $0.key, $0.value) } }
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}
