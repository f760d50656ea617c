import StrataAnalysis
import XCTest

/// Drift details and PSI are the same on every run: equal changes are listed in name order, and PSI is summed in key
/// order (dictionary order differs between processes).
final class DriftDeterminismTests: XCTestCase {
    func testEqualChangesAreListedInNameOrder() {
        let d = Drift.categorical("source", reference: ["web", "web"], current: ["app", "app"])
        XCTAssertEqual(d.detail, "largest changes: app 0.0% -> 100.0%, web 100.0% -> 0.0%")
        let three = Drift.categorical("n", reference: ["a", "a", "a", "a"], current: ["a", "a", "z", "m"])
        XCTAssertEqual(three.detail, "largest changes: a 100.0% -> 50.0%, m 0.0% -> 25.0%, z 0.0% -> 25.0%")
    }

    func testPSIDoesNotDependOnInsertionOrder() {
        var e: [String: Int] = [:], a: [String: Int] = [:]
        for i in 0..<40 { e["k\(i)"] = i + 1; a["k\(39 - i)"] = 2 * i + 3 }
        var reversedE: [String: Int] = [:], reversedA: [String: Int] = [:]
        for k in e.keys.sorted().reversed() { reversedE[k] = e[k]; reversedA[k] = a[k] }
        XCTAssertEqual(Statistics.psi(expected: e, actual: a).bitPattern, Statistics.psi(expected: reversedE, actual: reversedA).bitPattern)
    }
}
