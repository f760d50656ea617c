import StrataAnalysis
import StrataCore
import XCTest

/// A model whose confidence means something, but less for some classes: predictions with the model's top class, its
/// probability, and the true class. Class 2 is hard (the model is often wrong on it even when fairly sure).
struct GeneratedPredictions {
    var predicted: [Int] = []
    var confidence: [Double] = []
    var truth: [Int] = []

    init(n: Int, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<n {
            let pred = rng.int(3)
            let p = rng.unit(0.34, 1)
            // The chance the top class is right grows with its probability; for class 2 it never passes one half.
            let rightChance = pred == 2 ? 0.5 * p : min(1, 0.4 + 0.62 * p)
            let t = rng.unit(0, 1) < rightChance ? pred : (pred + 1 + rng.int(2)) % 3
            predicted.append(pred); confidence.append(p); truth.append(t)
        }
    }

    /// Precision of the predictions accepted by `thresholds` (one per class), and how many were accepted.
    func acceptedPrecision(_ thresholds: [Double?], classIndex c: Int) -> Proportion {
        var ok = 0, n = 0
        for i in predicted.indices where predicted[i] == c {
            guard let t = thresholds[c], confidence[i] >= t else { continue }
            n += 1
            if truth[i] == c { ok += 1 }
        }
        return Proportion(successes: ok, trials: n)
    }
}

final class PseudoLabelingTests: XCTestCase {
    let classes = ["a", "b", "c"]

    /// Calibrated on one sample of the model's outputs, the thresholds reach the target precision on another (fresh,
    /// held-out) sample: within the calibration interval, and at or near the target.
    func testThresholdsReachTheTargetOnFreshHeldOutData() {
        let calibrationData = GeneratedPredictions(n: 6000, seed: 11)
        let fresh = GeneratedPredictions(n: 60000, seed: 12)
        for criterion in PseudoLabeling.Criterion.allCases {
            let cal = PseudoLabeling.calibrate(classes: classes, predicted: calibrationData.predicted, confidence: calibrationData.confidence,
                                               truth: calibrationData.truth, targets: [0.9, 0.95, 0.9], criterion: criterion, minSamples: 30)
            XCTAssertEqual(cal[0].status, .calibrated)
            XCTAssertEqual(cal[1].status, .calibrated)
            // Class c: the model is right at most half the time, even at p = 1.
            XCTAssertEqual(cal[2].status, .unreachable)
            XCTAssertNil(cal[2].threshold)
            XCTAssertLessThan(cal[2].precision!.value, 0.9)
            for c in 0..<2 {
                let p = cal[c].precision!
                XCTAssertGreaterThanOrEqual(criterion == .point ? p.value : p.low, cal[c].target)
                XCTAssertGreaterThanOrEqual(p.trials, 30)
                let onFresh = fresh.acceptedPrecision(cal.map(\.threshold), classIndex: c)
                XCTAssertGreaterThan(onFresh.trials, 1000)
                // The fresh precision lies in the calibration interval...
                XCTAssertGreaterThanOrEqual(onFresh.value, p.low, "\(criterion) class \(c): \(onFresh.value) vs \(p)")
                XCTAssertLessThanOrEqual(onFresh.value, p.high + 0.005)
                // ...and meets the target (the lower-bound criterion with margin to spare).
                XCTAssertGreaterThanOrEqual(onFresh.value, cal[c].target - (criterion == .point ? 0.01 : 0), "\(criterion) class \(c)")
            }
            // The stricter criterion never picks a lower threshold.
            if criterion == .lowerBound {
                let point = PseudoLabeling.calibrate(classes: classes, predicted: calibrationData.predicted, confidence: calibrationData.confidence,
                                                     truth: calibrationData.truth, targets: [0.9, 0.95, 0.9], criterion: .point)
                XCTAssertGreaterThanOrEqual(cal[0].threshold!, point[0].threshold!)
                XCTAssertGreaterThanOrEqual(cal[1].threshold!, point[1].threshold!)
            }
        }
    }

    func testClassesWithoutEnoughCalibrationDataAreRefused() {
        // 40 predictions of a, 10 of b (all right, all confident).
        let predicted = Array(repeating: 0, count: 40) + Array(repeating: 1, count: 10)
        let confidence = (0..<50).map { 0.9 + Double($0 % 10) / 100 }
        let cal = PseudoLabeling.calibrate(classes: classes, predicted: predicted, confidence: confidence, truth: predicted,
                                           targets: [0.95, 0.95, 0.95], minSamples: 20)
        XCTAssertEqual(cal.map(\.status), [.calibrated, .tooFewSamples, .tooFewSamples])
        XCTAssertEqual(cal.map(\.samples), [40, 10, 0])
        XCTAssertEqual(cal[0].threshold, 0.9)
        XCTAssertEqual(cal[0].precision?.value, 1)
    }

    /// A good-looking stretch below a clearly bad region is not chosen: the threshold stays above the bad region.
    func testAThresholdNeverSitsBelowAClearlyBadRegion() {
        var predicted: [Int] = [], confidence: [Double] = [], truth: [Int] = []
        // 100 right at 0.99..0.90, then 60 of which 40 wrong at 0.89..0.80, then 400 right at 0.79..0.50.
        for i in 0..<100 { predicted.append(0); confidence.append(0.99 - Double(i) * 0.0009); truth.append(0) }
        for i in 0..<60 { predicted.append(0); confidence.append(0.89 - Double(i) * 0.0015); truth.append(i % 3 == 0 ? 0 : 1) }
        for i in 0..<400 { predicted.append(0); confidence.append(0.79 - Double(i) * 0.0007); truth.append(0) }
        let cal = PseudoLabeling.calibrate(classes: ["a", "b"], predicted: predicted, confidence: confidence, truth: truth,
                                           targets: [0.9, 0.9], minSamples: 30)
        // Over all 560 the precision is 0.93, but the cut at 0.80 (160 samples, precision 0.75) is clearly below 0.9.
        XCTAssertEqual(cal[0].status, .calibrated)
        XCTAssertGreaterThan(cal[0].threshold!, 0.8)
        XCTAssertGreaterThanOrEqual(cal[0].precision!.value, 0.9)
    }

    func testAcceptanceUsesTheTopClassAndItsThreshold() {
        XCTAssertEqual(PseudoLabeling.accept([0.1, 0.85, 0.05], thresholds: [0.5, 0.8, nil])?.index, 1)
        XCTAssertNil(PseudoLabeling.accept([0.1, 0.75, 0.15], thresholds: [0.5, 0.8, nil]))
        XCTAssertNil(PseudoLabeling.accept([0.05, 0.05, 0.9], thresholds: [0.5, 0.8, nil]), "a class without threshold is never accepted")
    }

    /// ceil(share x n) per class, chosen by a keyed hash: independent of input order and stable across calls.
    func testSpotChecksTakeTheShareOfEachClassDeterministically() {
        let keys = (0..<230).map { "sample-\($0)" }
        let labels = keys.indices.map { $0 < 200 ? "a" : "b" }
        let picked = PseudoLabeling.spotChecks(keys: keys, classes: labels, share: 0.1, seed: "m")
        XCTAssertEqual(picked.filter { labels[$0] == "a" }.count, 20)
        XCTAssertEqual(picked.filter { labels[$0] == "b" }.count, 3)
        let reversed = PseudoLabeling.spotChecks(keys: keys.reversed(), classes: labels.reversed(), share: 0.1, seed: "m")
        XCTAssertEqual(Set(reversed.map { keys.reversed()[$0] }), Set(picked.map { keys[$0] }))
        XCTAssertNotEqual(Set(PseudoLabeling.spotChecks(keys: keys, classes: labels, share: 0.1, seed: "other").map { keys[$0] }),
                          Set(picked.map { keys[$0] }), "another model picks other samples")
        XCTAssertTrue(PseudoLabeling.spotChecks(keys: keys, classes: labels, share: 0, seed: "m").isEmpty)
        XCTAssertEqual(PseudoLabeling.spotChecks(keys: keys, classes: labels, share: 1, seed: "m").count, 230)
    }
}
