import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import StrataCore
import XCTest
@testable import StrataAnalysis

final class StatisticsTests: XCTestCase {
    func testWilsonMatchesPublishedValues() {
        // scipy.stats.binomtest(5, 10).proportion_ci(method="wilson") = (0.236593, 0.763407)
        let a = Statistics.wilson(successes: 5, trials: 10)
        XCTAssertEqual(a.low, 0.236593, accuracy: 1e-6)
        XCTAssertEqual(a.high, 0.763407, accuracy: 1e-6)
        // binomtest(0, 10).proportion_ci(method="wilson") = (0.0, 0.277533)
        let b = Statistics.wilson(successes: 0, trials: 10)
        XCTAssertEqual(b.low, 0, accuracy: 1e-9)
        XCTAssertEqual(b.high, 0.277533, accuracy: 1e-6)
        // scipy.stats.binomtest(81, 263).proportion_ci(method="wilson") = (0.2552885, 0.3662096)
        let c = Statistics.wilson(successes: 81, trials: 263)
        XCTAssertEqual(c.low, 0.2552885, accuracy: 1e-6)
        XCTAssertEqual(c.high, 0.3662096, accuracy: 1e-6)
        XCTAssertEqual(Statistics.wilson(successes: 0, trials: 0).high, 1)
    }

    func testTrialsForWidthIsTheSmallestCountThatIsNarrowEnough() {
        let n = Statistics.trialsForWidth(0.1, rate: 0.5)
        let w = { (n: Int) in let (l, h) = Statistics.wilson(successes: n / 2, trials: n); return h - l }
        XCTAssertLessThanOrEqual(w(n), 0.1)
        XCTAssertGreaterThan(w(n - 1), 0.1)
        XCTAssertEqual(Double(n), 381, accuracy: 4)  // 1.96^2 / 0.05^2 * 0.25 ≈ 384 minus the Wilson shrink
    }

    func testPSIOfAKnownShift() {
        // (0.25 - 0.5) ln(0.25/0.5) + (0.75 - 0.5) ln(0.75/0.5) = 0.173287 + 0.101366
        XCTAssertEqual(Statistics.psi(expected: ["a": 50, "b": 50], actual: ["a": 25, "b": 75]), 0.274653, accuracy: 1e-6)
        XCTAssertEqual(Statistics.psi(expected: ["a": 3, "b": 7], actual: ["a": 30, "b": 70]), 0, accuracy: 1e-12)
        // An unseen category stays finite (floored share).
        XCTAssertTrue(Statistics.psi(expected: ["a": 10], actual: ["a": 5, "b": 5]).isFinite)
    }

    func testKolmogorovSmirnovStatisticAndPValue() {
        let r = Statistics.kolmogorovSmirnov([0.1, 0.2, 0.3, 0.4], [0.25, 0.35, 0.45, 0.55, 0.65])
        XCTAssertEqual(r.statistic, 0.6, accuracy: 1e-12)
        XCTAssertEqual(Statistics.kolmogorovSmirnov([1, 2, 3], [1, 2, 3]).statistic, 0)
        // Critical values of the Kolmogorov distribution: Q(1.3581) = 0.05, Q(1.6276) = 0.01.
        XCTAssertEqual(Statistics.kolmogorovQ(1.3581), 0.05, accuracy: 2e-4)
        XCTAssertEqual(Statistics.kolmogorovQ(1.6276), 0.01, accuracy: 1e-4)
        // Two large samples of the same distribution are not told apart; shifted ones are.
        var rng = SplitMix64(seed: 7)
        let a = (0..<2000).map { _ in Double(rng.next() % 10_000) / 10_000 }
        let b = (0..<2000).map { _ in Double(rng.next() % 10_000) / 10_000 }
        let c = b.map { $0 + 0.1 }
        XCTAssertGreaterThan(Statistics.kolmogorovSmirnov(a, b).pValue, 0.01)
        XCTAssertLessThan(Statistics.kolmogorovSmirnov(a, c).pValue, 1e-6)
    }
}

final class ConfidentLearningTests: XCTestCase {
    func testAFlippedSampleIsFlaggedAndRankedFirst() {
        // 3 classes, 30 samples, confident correct predictions; sample 4 is labeled 0 but the model says 2.
        var probs: [Double] = [], labels: [Int32] = []
        for i in 0..<30 {
            let c = i % 3
            var row = [0.1, 0.1, 0.1]
            row[c] = 0.8
            probs += row
            labels.append(Int32(c))
        }
        // Sample 3 (label 0) confidently predicted as 2; sample 6 (label 0) only mildly doubtful.
        probs.replaceSubrange(9..<12, with: [0.05, 0.05, 0.9])
        probs.replaceSubrange(18..<21, with: [0.5, 0.3, 0.2])
        let r = ConfidentLearning.findLabelIssues(.init(probs: probs, labels: labels, classes: 3))
        XCTAssertEqual(r.ranked, [3])
        XCTAssertEqual(r.suggested, [2])
        XCTAssertEqual(r.selfConfidence[0], 0.05, accuracy: 1e-12)
        XCTAssertEqual(r.confidentJoint[0][2], 1)
        XCTAssertEqual(r.confidentJoint.map { $0.reduce(0, +) }, [10, 10, 10])
    }

    func testRoundingPreservesRowTotals() {
        XCTAssertEqual(ConfidentLearning.roundPreservingSum([0.4, 0.4, 0.4, 0.8]), [0, 0, 1, 1])
        XCTAssertEqual(ConfidentLearning.roundPreservingSum([2.5, 3.5]).reduce(0, +), 6)
    }

    /// The histogram method (the default up to 64 classes) and the grouped method flag and rank exactly the same
    /// samples: random softmax-like rows, some quantized to multiples of 0.05 so margins and self-confidences tie,
    /// 2 to 20 classes, and one matrix large enough to be split over several parts.
    func testHistogramAndGroupedMethodsAgree() {
        var state: UInt64 = 42
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        for (n, k, quantized) in [(300, 2, false), (2_000, 3, true), (5_000, 10, false), (4_000, 20, true), (120_000, 5, false)] {
            var probs: [Double] = [], labels: [Int32] = []
            for _ in 0..<n {
                let truth = Int(next() * Double(k))
                var row = (0..<k).map { c in (c == truth ? 4.0 : 1.0) * next() }
                if quantized { row = row.map { ($0 * 4).rounded() + 0.25 } }
                let sum = row.reduce(0, +)
                probs += row.map { $0 / sum }
                labels.append(Int32(next() < 0.15 ? Int(next() * Double(k)) : truth))
            }
            let input = ConfidentLearning.Input(probs: probs, labels: labels, classes: k)
            let a = ConfidentLearning.findLabelIssuesHistogram(input)
            let b = ConfidentLearning.findLabelIssuesGrouped(input)
            XCTAssertFalse(a.ranked.isEmpty, "n \(n) k \(k)")
            XCTAssertEqual(a.ranked, b.ranked, "n \(n) k \(k)")
            XCTAssertEqual(a.suggested, b.suggested, "n \(n) k \(k)")
            XCTAssertEqual(a.selfConfidence, b.selfConfidence, "n \(n) k \(k)")
            XCTAssertEqual(a.confidentJoint, b.confidentJoint, "n \(n) k \(k)")
            let single = ConfidentLearning.findLabelIssuesHistogram(input, threads: 1)
            XCTAssertEqual(single.ranked, a.ranked, "one thread, n \(n) k \(k)")
        }
    }

    func testMarginBucketsAreMonotoneAndClamped() {
        var last = -1
        for x in stride(from: -1.0, through: 1.0, by: 1e-4) {
            let b = ConfidentLearning.bucket(x, 2048)
            XCTAssertGreaterThanOrEqual(b, last)
            last = b
        }
        XCTAssertEqual(ConfidentLearning.bucket(-1, 2048), 0)
        XCTAssertEqual(ConfidentLearning.bucket(1, 2048), 2047)
        XCTAssertEqual(ConfidentLearning.bucket(-5, 2048), 0)
        XCTAssertEqual(ConfidentLearning.bucket(7, 2048), 2047)
        XCTAssert((0..<2048).contains(ConfidentLearning.bucket(.nan, 2048)))
    }

    func testKthLargest() {
        var v: [Double] = [5, 1, 4, 2, 3, 3]
        XCTAssertEqual(ConfidentLearning.kthLargest(&v, 1), 5)
        v = [5, 1, 4, 2, 3, 3]
        XCTAssertEqual(ConfidentLearning.kthLargest(&v, 4), 3)
        v = [5, 1, 4, 2, 3, 3]
        XCTAssertEqual(ConfidentLearning.kthLargest(&v, 6), 1)
    }
}

final class ActiveLearningTests: XCTestCase {
    func testStrategiesScoreUncertainty() {
        XCTAssertEqual(UncertaintyStrategy.margin.score([0.5, 0.3, 0.2]), 0.8, accuracy: 1e-12)
        XCTAssertEqual(UncertaintyStrategy.leastConfidence.score([0.5, 0.3, 0.2]), 0.5, accuracy: 1e-12)
        XCTAssertEqual(UncertaintyStrategy.entropy.score([0.5, 0.5]), 1, accuracy: 1e-12)
        XCTAssertEqual(UncertaintyStrategy.entropy.score([1, 0]), 0, accuracy: 1e-12)
    }

    func testPerSliceQuotasAndKCenterSpreadThePicks() {
        // Slice "a" has the 10 most uncertain candidates; per-slice diversity still takes from "b".
        var cands: [Candidate] = []
        for i in 0..<10 { cands.append(Candidate(index: i, probs: [0.5, 0.5], slice: "a", embedding: [0, Double(i) * 0.01])) }
        for i in 10..<20 { cands.append(Candidate(index: i, probs: [0.7, 0.3], slice: "b", embedding: [10, Double(i)])) }
        let plain = ActiveLearning.select(cands, budget: 4, strategy: .margin, diversity: .none)
        XCTAssertEqual(Set(plain.map(\.index)).isSubset(of: Set(0..<10)), true)
        let quotas = ActiveLearning.select(cands, budget: 4, strategy: .margin, diversity: .perSlice)
        XCTAssertEqual(quotas.filter { $0.index >= 10 }.count, 2)
        // k-center: the points of "a" are nearly identical, so after one of them it goes to the far cluster.
        let kc = ActiveLearning.select(cands, budget: 3, strategy: .margin, diversity: .kcenter)
        XCTAssertEqual(kc.filter { $0.index < 10 }.count, 1)
    }
}

final class ErrorAnalysisTests: XCTestCase {
    func testIntentChecksGiveVerdictsWithIntervals() throws {
        // 200 samples: "cat" recall 0.95 overall; in the night slice "cat" is often predicted as "dog".
        var truth: [Int] = [], predicted: [Int] = [], facts: [[String: String]] = []
        for i in 0..<200 {
            let night = i < 40
            truth.append(i % 2)
            predicted.append(night && i % 2 == 0 && i % 4 == 0 ? 1 : i % 2)
            facts.append(["lighting": night ? "night" : "day"])
        }
        let eval = Evaluation(classes: ["cat", "dog"], truth: truth, predicted: predicted, facts: facts)
        let intent = try IntentSpec.decode(yaml: """
            version: 1
            use_case: test
            success_criteria:
              - {metric: accuracy, min: 0.5}
              - {metric: error_rate, max: 0.05, slice: {lighting: night}}
            unacceptable_mistakes:
              - {truth: cat, predicted: dog, max_rate: 0.2}
            """)
        let checks = eval.check(intent)
        XCTAssertEqual(checks.count, 3)
        XCTAssertEqual(checks[0].verdict, .pass)
        XCTAssertEqual(checks[1].observed, 10.0 / 40, accuracy: 1e-12)
        XCTAssertEqual(checks[1].verdict, .fail)
        XCTAssertEqual(checks[2].observed, 10.0 / 100, accuracy: 1e-12)
        XCTAssertEqual(checks[2].verdict, .pass)
        let r = eval.report(kind: "all", name: "all")
        XCTAssertEqual(r.confusion, [[90, 10], [0, 100]])
        XCTAssertEqual(r.classes[1].precision.value, 100.0 / 110, accuracy: 1e-12)
    }

    func testRecommenderSeparatesTheCauses() {
        let all = SliceEvidence(kind: "all", name: "all", count: 1000, labeled: 1000, labelIssues: 40)
        let rare = SliceEvidence(kind: "scenarios", name: "rare", count: 12, required: 60, coverageGap: 48,
                                 errorRate: Proportion(successes: 3, trials: 12), labeled: 12, labelIssues: 0)
        let noisy = SliceEvidence(kind: "scenarios", name: "noisy", count: 200, required: 50, errorRate: Proportion(successes: 50, trials: 200),
                                  labeled: 200, labelIssues: 35, topIssue: "`cat` -> `dog` (30)", topIssueCount: 30)
        let old = SliceEvidence(kind: "source", name: "old", count: 100, labeled: 100, labelIssues: 4, stale: 90, maxAgeDays: 365)
        let ok = SliceEvidence(kind: "scenarios", name: "fine", count: 400, required: 100, errorRate: Proportion(successes: 8, trials: 400),
                               labeled: 400, labelIssues: 1)
        // A model that judges: 95% right against a 50% baseline, calibrated.
        let truth = (0..<1000).map { $0 % 2 }, predicted = truth.enumerated().map { $0.offset % 20 == 0 ? 1 - $0.element : $0.element }
        let trusted = ModelTrust.assess(classes: ["cat", "dog"], truth: truth, predicted: predicted)
        XCTAssertTrue(trusted.trustworthy)
        let recs = Recommender.recommend([all, rare, noisy, old, ok], model: trusted)
        func causes(_ name: String) -> Set<Cause> { Set(recs.filter { $0.slice == name }.map(\.cause)) }
        XCTAssertEqual(causes("rare"), [.tooFewSamples])
        XCTAssertEqual(causes("noisy"), [.labelTrouble])
        XCTAssertEqual(causes("old"), [.stale])
        XCTAssertEqual(causes("fine"), [.fine])
        XCTAssertEqual(recs.first?.slice, "noisy")
        XCTAssertGreaterThanOrEqual(recs.first { $0.slice == "rare" }?.collect ?? 0, 48)
        // The same evidence without a model that can judge: no label verdict; nor when the issues are spread out
        // (no dominant confusion, and a rate under twice the project's).
        XCTAssertEqual(Set(Recommender.recommend([all, noisy]).map(\.cause)), [.fine])
        var spread = noisy, project = all
        project.labelIssues = 60
        spread.labelIssues = 20
        spread.topIssueCount = 8
        XCTAssertEqual(Set(Recommender.recommend([project, spread], model: trusted).map(\.cause)), [.fine])
        spread.topIssueCount = 10
        XCTAssertEqual(Set(Recommender.recommend([project, spread], model: trusted).map(\.cause)), [.labelTrouble])
    }
}

final class SVGChartTests: XCTestCase {
    func testChartsAreWellFormedXMLAndEscapeText() throws {
        let charts = [
            SVGChart.bars(title: "Classes <&>", [.init(label: "a\"b", value: 3, target: 5), .init(label: "c", value: 0)]),
            SVGChart.stackedBars(title: "s", parts: ["x", "y"], rows: [("r", [1, 2])]),
            SVGChart.intervals(title: "i", [.init(label: "n", value: 0.2, low: 0.1, high: 0.3, failing: true)], threshold: 0.15),
            SVGChart.lines(title: "l", xLabels: ["v1", "v2"], series: [("n", [1, 4])]),
            SVGChart.bars(title: "empty", []),
        ]
        for svg in charts {
            let parser = XMLParser(data: Data(svg.utf8))
            XCTAssertTrue(parser.parse(), "not well-formed: \(svg)")
        }
        XCTAssertTrue(charts[0].contains("Classes &lt;&amp;&gt;"))
    }
}

final class DriftTests: XCTestCase {
    func testDriftFlagsShiftedFieldsOnly() {
        let same = Drift.categorical("device", reference: Array(repeating: "a", count: 50) + Array(repeating: "b", count: 50),
                                     current: Array(repeating: "a", count: 48) + Array(repeating: "b", count: 52))
        XCTAssertFalse(same.drifted)
        let moved = Drift.categorical("device", reference: Array(repeating: "a", count: 90) + Array(repeating: "b", count: 10),
                                      current: Array(repeating: "a", count: 30) + Array(repeating: "b", count: 70))
        XCTAssertTrue(moved.drifted)
        let e = Drift.embedding(reference: [[0, 0], [1, 0], [0, 1], [1, 1]], current: [[5, 5], [6, 5], [5, 6], [6, 6]])
        XCTAssertTrue(e?.drifted ?? false)
        let t = Drift.textStatistics(["hello world", "  a  b c "])
        XCTAssertEqual(t.words, [2, 3])
    }
}
