import XCTest
@testable import StrataAnalysis

/// Trust gating and slice verdicts on generated data: a simulated classifier over `classes` classes whose true
/// class gets probability mass `strength` (the rest spread at random), with planted label defects.
final class TrustGatingTests: XCTestCase {
    struct World {
        var classes: [String]
        var truth: [Int]      // what the samples really are
        var given: [Int]      // the labels (with planted defects)
        var probs: [Double]   // out-of-fold probabilities, row-major
        var predicted: [Int]
    }

    /// `perClass` samples per class (a starved class can be given fewer); `strength` is how often the model puts
    /// its mass on the true class; `relabel` moves that many samples of class `from` to label `to`.
    static func world(classes k: Int, perClass: [Int], strength: Double, relabel: (from: Int, to: Int, count: Int)? = nil, seed: UInt64 = 7) -> World {
        var rng = SplitMix(seed)
        var truth: [Int] = [], probs: [Double] = []
        for c in 0..<k { truth += Array(repeating: c, count: perClass[c]) }
        var predicted: [Int] = []
        for t in truth {
            // The top class gets about `strength` of the mass (so the model is roughly calibrated); a strong model
            // knows the class, a weak one often puts its mass on a random class.
            let target = rng.unit() < strength ? t : Int(rng.unit() * Double(k)) % k
            let top = min(0.99, max(1.0 / Double(k) + 0.05, strength - 0.1 + rng.unit() * 0.2))
            var rest = (0..<k).map { _ in rng.unit() + 0.01 }
            rest[target] = 0
            let restSum = rest.reduce(0, +)
            var row = rest.map { $0 / restSum * (1 - top) }
            row[target] = top
            probs += row
            predicted.append(row.indices.max { row[$0] < row[$1] }!)
        }
        var given = truth
        if let r = relabel {
            var moved = 0
            for i in given.indices where truth[i] == r.from && moved < r.count { given[i] = r.to; moved += 1 }
        }
        return World(classes: (0..<k).map { "c\($0)" }, truth: truth, given: given, probs: probs, predicted: predicted)
    }

    /// What `strata analyze errors` builds: trust, confident learning, class slices with their shifts, then verdicts.
    static func verdicts(_ w: World) -> (trust: ModelTrust, recs: [Recommendation], flagged: Int) {
        let k = w.classes.count
        let trust = ModelTrust.assess(classes: w.classes, truth: w.given, predicted: w.predicted, probs: w.probs)
        let cl = ConfidentLearning.findLabelIssues(.init(probs: w.probs, labels: w.given.map(Int32.init), classes: k))
        var support = [Int](repeating: 0, count: k)
        for g in w.given { support[g] += 1 }
        let shifts = ConfusionPattern.shifts(classes: w.classes, counts: cl.confidentJoint, support: support)
        let median = support.sorted()[k / 2]
        var flaggedByClass = [Int](repeating: 0, count: k)
        for i in cl.ranked { flaggedByClass[w.given[i]] += 1 }
        var slices = [SliceEvidence(kind: "all", name: "all samples", count: w.given.count, labeled: w.given.count, labelIssues: cl.ranked.count)]
        for c in 0..<k {
            var errors = 0
            for i in w.given.indices where w.given[i] == c && w.predicted[i] != c { errors += 1 }
            slices.append(SliceEvidence(kind: "label", name: w.classes[c], count: support[c], errorRate: Proportion(successes: errors, trials: support[c]),
                                        labeled: support[c], labelIssues: flaggedByClass[c], medianClassCount: median,
                                        shift: shifts.first { $0.to == w.classes[c] }))
        }
        return (trust, Recommender.recommend(slices, model: trust), cl.ranked.count)
    }

    static func causes(_ recs: [Recommendation]) -> [String: Set<Cause>] {
        var out: [String: Set<Cause>] = [:]
        for r in recs where r.cause != .fine { out[r.slice, default: []].insert(r.cause) }
        return out
    }

    func testWeakModelIsTooWeakAndGivesNoLabelVerdicts() {
        // 10 classes, the model right about 40% of the time: the quotes of issue 19.
        let w = Self.world(classes: 10, perClass: Array(repeating: 80, count: 10), strength: 0.35, relabel: (0, 1, 20))
        let (trust, recs, flagged) = Self.verdicts(w)
        XCTAssertFalse(trust.trustworthy)
        XCTAssertLessThan(trust.accuracy.value, 0.5)
        XCTAssertEqual(trust.baseline, 100.0 / 800, accuracy: 1e-12)  // c1 holds its 80 and the 20 moved in
        XCTAssertTrue(trust.shortfalls.contains { $0.contains("skill") }, "\(trust.shortfalls)")
        XCTAssertGreaterThan(flagged, 100, "confident learning alone flags a large share")
        XCTAssertFalse(recs.contains { $0.cause == .labelTrouble }, "\(recs.filter { $0.cause == .labelTrouble })")
        XCTAssertEqual(Self.causes(recs), [:])
    }

    func testStrongModelNamesTheStarvedClassAndTheRelabelledSliceAndNothingElse() {
        // Digits-like: 10 classes of 150, one cut to 15, and 15 samples of c3 relabelled c5.
        var sizes = Array(repeating: 150, count: 10)
        sizes[7] = 15
        let w = Self.world(classes: 10, perClass: sizes, strength: 0.93, relabel: (3, 5, 15))
        let (trust, recs, _) = Self.verdicts(w)
        XCTAssertTrue(trust.trustworthy, "\(trust.shortfalls)")
        XCTAssertEqual(trust.starved, ["c7"])
        XCTAssertEqual(Self.causes(recs), ["c7": [.tooFewSamples], "c5": [.labelTrouble]])
        let c5 = recs.first { $0.slice == "c5" }!
        XCTAssertTrue(c5.action.contains("(`c5` -> `c3`)"), c5.action)
        XCTAssertTrue(c5.certainty.hasPrefix("likely (p="), c5.certainty)
        XCTAssertTrue(c5.certainty.contains("model accuracy"), c5.certainty)
        let c7 = recs.first { $0.slice == "c7" }!
        XCTAssertEqual(c7.collect, 75 - 15)
        XCTAssertEqual(c7.evidence.first, "15 labeled samples of this class against a median of 150 per class (bar: 20, or 25% of the median)")
    }

    func testStarvedClassWithEveryPredictionWrongIsTooFewNotLabelTrouble() {
        // A class of 17 the model never predicts: 100% errors, a narrow interval, confident learning blames labels.
        var w = Self.world(classes: 5, perClass: [200, 200, 200, 200, 17], strength: 0.95)
        let k = 5
        for i in w.truth.indices where w.truth[i] == 4 {
            for c in 0..<k { w.probs[i * k + c] = c == 0 ? 0.9 : 0.025 }
            w.predicted[i] = 0
        }
        let (trust, recs, _) = Self.verdicts(w)
        XCTAssertTrue(trust.trustworthy, "\(trust.shortfalls)")
        XCTAssertEqual(Self.causes(recs), ["c4": [.tooFewSamples]])
    }

    func testHealthySlicesGetNoVerdict() {
        for seed in [1, 2, 3] as [UInt64] {
            let w = Self.world(classes: 10, perClass: Array(repeating: 150, count: 10), strength: 0.9, seed: seed)
            let (trust, recs, _) = Self.verdicts(w)
            XCTAssertTrue(trust.trustworthy)
            XCTAssertEqual(Self.causes(recs), [:], "seed \(seed)")
        }
    }

    func testTrustFiguresAreHandComputable() {
        // 4 samples, 2 classes: 3 right; majority share 0.5.
        let t = ModelTrust.assess(classes: ["a", "b"], truth: [0, 0, 1, 1], predicted: [0, 0, 1, 0],
                                  probs: [0.95, 0.05, 0.85, 0.15, 0.25, 0.75, 0.65, 0.35])
        XCTAssertEqual(t.accuracy.value, 0.75)
        XCTAssertEqual(t.baseline, 0.5)
        // ECE: bins 0.9 (1 right, conf .95), 0.8 (1 right, .85), 0.7 (1 right, .75), 0.6 (0 right, .65).
        XCTAssertEqual(t.calibrationError!, (0.05 + 0.15 + 0.25 + 0.65) / 4, accuracy: 1e-12)
        XCTAssertFalse(t.trustworthy)
        XCTAssertEqual(t.shortfalls.first, "only 4 labeled samples have predictions (at least 30 are needed)")
        XCTAssertEqual(t.starved, ["a", "b"])
        XCTAssertEqual(t.accuracy(atConfidence: 0.95), 1)
        XCTAssertEqual(t.accuracy(atConfidence: 0.65), 0)
    }

    func testShiftNeedsAOneWayExcessAndPoissonTail() {
        XCTAssertEqual(ConfusionPattern.poissonUpperTail(1, mean: 2), 1 - exp(-2), accuracy: 1e-12)
        XCTAssertEqual(ConfusionPattern.poissonUpperTail(3, mean: 1), 1 - exp(-1) * 2.5, accuracy: 1e-12)
        // 14 one way, 1 the other, equal classes: a shift. 8 and 6: ordinary confusion.
        let moved = ConfusionPattern.shifts(classes: ["a", "b"], counts: [[140, 1], [14, 128]], support: [141, 142])
        XCTAssertEqual(moved.map { "\($0.from)->\($0.to)" }, ["a->b"])
        XCTAssertTrue(ConfusionPattern.shifts(classes: ["a", "b"], counts: [[140, 6], [8, 128]], support: [146, 136]).isEmpty)
    }
}

struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
