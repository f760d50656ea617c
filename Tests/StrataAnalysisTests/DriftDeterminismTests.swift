import Foundation
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

    func testPSIIsSummedInKeyOrder() {
        var e: [String: Int] = [:], a: [String: Int] = [:]
        for i in 0..<40 { e["k\(i)"] = i + 1; a["k\(39 - i)"] = 2 * i + 3 }
        let te = Double(e.values.reduce(0, +)), ta = Double(a.values.reduce(0, +))
        var expected = 0.0
        for k in e.keys.sorted() {
            let pe = max(Double(e[k]!) / te, 1e-4), pa = max(Double(a[k]!) / ta, 1e-4)
            expected += (pa - pe) * log(pa / pe)
        }
        XCTAssertEqual(Statistics.psi(expected: e, actual: a).bitPattern, expected.bitPattern)
    }
}
