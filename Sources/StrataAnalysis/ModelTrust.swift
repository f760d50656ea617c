import Foundation

/// The bar a model must clear before its predictions are allowed to judge labels (documented in docs/analysis.md,
/// "Trust gating").
public struct TrustPolicy: Sendable, Equatable {
    /// Fewest labeled samples with predictions to measure anything.
    public var minSamples = 30
    /// Minimum skill over the majority baseline: (accuracy - baseline) / (1 - baseline), measured on the lower end of
    /// the accuracy's 95% interval. 0.5 means the model removes at least half of the errors the majority guess makes.
    public var minSkill = 0.5
    /// Largest expected calibration error (10 equal-width confidence bins) at which probabilities are read as
    /// probabilities.
    public var maxCalibrationError = 0.15
    /// A class with fewer labeled samples than this, or than `starvedShare` of the median class, is starved: the
    /// model cannot have learnt it, so its samples are not judged and the class is named too-few-samples.
    public var minClassSupport = 20
    public var starvedShare = 0.25
    /// With a weak model, a disagreement stays credible only when the model gives the other class at least this
    /// probability and its predictions at that confidence are right at least `credibleAccuracy` of the time
    /// (measured out of fold, on at least `minSamples` predictions).
    public var credibleConfidence = 0.9
    public var credibleAccuracy = 0.9
    public init() {}
}

/// How far a model's predictions can be trusted to judge labels: out-of-fold accuracy against the majority baseline,
/// calibration and per-class support.
public struct ModelTrust: Sendable, Equatable, Codable {
    /// Labeled samples with a prediction.
    public var samples: Int
    /// Share of them predicted as labeled, with its 95% interval.
    public var accuracy: Proportion
    /// Share of the most common label (what always guessing it scores).
    public var baseline: Double
    /// (accuracy - baseline) / (1 - baseline) at the interval's lower end (0 when the baseline is 1).
    public var skill: Double
    /// Expected calibration error (nil without probabilities).
    public var calibrationError: Double?
    /// Accuracy of the predictions made with at least `TrustPolicy.credibleConfidence` (nil without probabilities).
    public var confident: Proportion?
    /// Accuracy of the predictions per confidence decile (top probability in [0, 0.1), ..., [0.9, 1]); empty without
    /// probabilities. An issue's `certainty` is the figure of its bin.
    public var reliability: [Proportion] = []
    /// Labeled samples per class.
    public var support: [String: Int]
    /// Classes below the support bar (`TrustPolicy.minClassSupport` or `starvedShare` of the median class).
    public var starved: [String]
    /// True when the model clears every bar.
    public var trustworthy: Bool
    /// Each bar it misses, as a sentence.
    public var shortfalls: [String]

    /// One line with the figures, for every verdict that rests on the model.
    public var summary: String {
        var s = "model accuracy \(Self.pct(accuracy.value)) out of fold on \(samples) labeled samples (95% CI \(Self.pct(accuracy.low))-\(Self.pct(accuracy.high)); majority baseline \(Self.pct(baseline)), skill \(String(format: "%.2f", skill)))"
        if let e = calibrationError { s += String(format: ", calibration error %.2f", e) }
        return s
    }

    static func pct(_ v: Double) -> String { String(format: "%.1f%%", v * 100) }

    /// Measures a model against the labels. `probs` is row-major `truth.count * classes.count` (nil: labels only).
    public static func assess(classes: [String], truth: [Int], predicted: [Int], probs: [Double]? = nil,
                              policy: TrustPolicy = TrustPolicy()) -> ModelTrust {
        precondition(truth.count == predicted.count)
        let n = truth.count, k = classes.count
        var counts = [Int](repeating: 0, count: k)
        var right = 0
        for i in 0..<n { counts[truth[i]] += 1; if truth[i] == predicted[i] { right += 1 } }
        let accuracy = Proportion(successes: right, trials: n)
        let baseline = n > 0 ? Double(counts.max() ?? 0) / Double(n) : 1
        let skill = baseline < 1 ? (accuracy.low - baseline) / (1 - baseline) : 0
        var ece: Double?, confident: Proportion?, reliability: [Proportion] = []
        if let probs, n > 0 {
            precondition(probs.count == n * k)
            var binCount = [Int](repeating: 0, count: 10), binRight = [Int](repeating: 0, count: 10), binConf = [Double](repeating: 0, count: 10)
            var highN = 0, highRight = 0
            for i in 0..<n {
                var best = 0
                for c in 1..<max(k, 1) where probs[i * k + c] > probs[i * k + best] { best = c }
                let p = probs[i * k + best]
                let b = min(9, max(0, Int(p * 10)))
                binCount[b] += 1; binConf[b] += p
                if best == truth[i] { binRight[b] += 1 }
                if p >= policy.credibleConfidence { highN += 1; if best == truth[i] { highRight += 1 } }
            }
            var total = 0.0
            for b in 0..<10 where binCount[b] > 0 {
                total += abs(Double(binRight[b]) - binConf[b])
            }
            ece = total / Double(n)
            confident = Proportion(successes: highRight, trials: highN)
            reliability = (0..<10).map { Proportion(successes: binRight[$0], trials: binCount[$0]) }
        }
        let present = counts.filter { $0 > 0 }.sorted()
        let median = present.isEmpty ? 0 : present[present.count / 2]
        var support: [String: Int] = [:]
        var starved: [String] = []
        for c in 0..<k where counts[c] > 0 {
            support[classes[c]] = counts[c]
            if isStarved(count: counts[c], median: median, policy: policy) { starved.append(classes[c]) }
        }
        var shortfalls: [String] = []
        if n < policy.minSamples {
            shortfalls.append("only \(n) labeled samples have predictions (at least \(policy.minSamples) are needed)")
        }
        if skill < policy.minSkill {
            shortfalls.append("accuracy \(pct(accuracy.value)) (95% CI from \(pct(accuracy.low))) against a majority baseline of \(pct(baseline)): skill \(String(format: "%.2f", skill)) is below \(String(format: "%.2f", policy.minSkill))")
        }
        if let e = ece, e > policy.maxCalibrationError {
            shortfalls.append(String(format: "calibration error %.2f is above %.2f: its probabilities are not probabilities", e, policy.maxCalibrationError))
        }
        return ModelTrust(samples: n, accuracy: accuracy, baseline: baseline, skill: skill, calibrationError: ece, confident: confident,
                          reliability: reliability, support: support, starved: starved.sorted(), trustworthy: shortfalls.isEmpty, shortfalls: shortfalls)
    }

    /// The measured accuracy of predictions made with top probability `p` (nil without probabilities or samples).
    public func accuracy(atConfidence p: Double) -> Double? {
        guard reliability.count == 10 else { return nil }
        let b = reliability[min(9, max(0, Int(p * 10)))]
        return b.trials > 0 ? b.value : nil
    }

    /// A class is starved below the absolute bar or far below the median class (see `TrustPolicy`).
    public static func isStarved(count: Int, median: Int, policy: TrustPolicy = TrustPolicy()) -> Bool {
        count < policy.minClassSupport || Double(count) < policy.starvedShare * Double(median)
    }

    /// With a weak model: whether its high-confidence predictions were measured right often enough to keep
    /// disagreements at that confidence.
    public func confidentDisagreementsCredible(policy: TrustPolicy = TrustPolicy()) -> Bool {
        guard let c = confident, c.trials >= policy.minSamples else { return false }
        return c.value >= policy.credibleAccuracy
    }
}

/// Labels moved systematically from one class to another, seen in the confusion between two classes.
public struct LabelShift: Sendable, Equatable, Codable {
    /// The class the samples really belong to, as the model sees them.
    public var from: String
    /// The class they are labeled.
    public var to: String
    /// Samples labeled `to` that the model puts in `from`, and the other way round.
    public var moved: Int
    public var reverse: Int
    /// Labeled samples of each class.
    public var toSupport: Int
    public var fromSupport: Int
    /// Poisson upper-tail p-value of `moved` when the per-sample rate is the larger of the reverse direction's and
    /// the background confusion of the matrix (see `ConfusionPattern.shifts`).
    public var pValue: Double

    public var sentence: String {
        "\(moved) of \(toSupport) samples labeled `\(to)` look like `\(from)` to the model, against \(reverse) of \(fromSupport) the other way (p=\(String(format: "%.1g", pValue))): labels seem moved from `\(from)` to `\(to)`"
    }
}

public enum ConfusionPattern {
    /// Pairs of classes whose confusion runs one way far more than chance allows: for labeled class b and
    /// model class a, `counts[b][a]` against what b would show if it confused like the reverse direction or like the
    /// matrix at large. `counts[given][model]` is the confident joint when probabilities exist (only confident
    /// disagreements count), else the confusion matrix. The expected count is
    /// `max(counts[a][b], median of the other off-diagonal cells) * max(1, |b| / (2 |a|)) + 0.5` (the reverse count,
    /// scaled only when b is more than twice a's size: a moved slice also teaches the model part of a as b, which
    /// inflates the reverse direction in proportion to the moved samples, not to b's size); a pair is reported when at
    /// least `minMoved` samples (and 3% of b) moved and the Poisson upper tail of `moved` at that expectation is at
    /// most `maxP` (1e-4: 0.01 over the 90 ordered pairs of ten classes). Pairs with a starved class are skipped: a class the model never learnt has a tiny threshold, so
    /// the confident joint counts samples of every class against it.
    /// (A relabelled slice also makes the model learn part of `a` as `b`, so the reverse direction grows a little
    /// too; the reverse-rate comparison tolerates that, a symmetric test would not.)
    public static func shifts(classes: [String], counts: [[Int]], support: [Int], minMoved: Int = 5, maxP: Double = 1e-4,
                              policy: TrustPolicy = TrustPolicy()) -> [LabelShift] {
        let k = classes.count
        let present = support.filter { $0 > 0 }.sorted()
        let median = present.isEmpty ? 0 : present[present.count / 2]
        var out: [LabelShift] = []
        for b in 0..<k {
            for a in 0..<k where a != b {
                let moved = counts[b][a], reverse = counts[a][b]
                let sb = support[b], sa = support[a]
                guard sb > 0, sa > 0, moved >= minMoved, Double(moved) >= 0.03 * Double(sb),
                      !ModelTrust.isStarved(count: sa, median: median, policy: policy),
                      !ModelTrust.isStarved(count: sb, median: median, policy: policy) else { continue }
                var others: [Int] = []
                for r in 0..<k { for c in 0..<k where r != c && !(r == b && c == a) { others.append(counts[r][c]) } }
                others.sort()
                let background = others.isEmpty ? 0 : Double(others[(others.count - 1) / 2])
                let expected = max(Double(reverse), background) * max(1, Double(sb) / (2 * Double(sa))) + 0.5
                let p = poissonUpperTail(moved, mean: expected)
                guard p <= maxP else { continue }
                out.append(LabelShift(from: classes[a], to: classes[b], moved: moved, reverse: reverse, toSupport: sb, fromSupport: sa, pValue: p))
            }
        }
        return out.sorted { $0.pValue != $1.pValue ? $0.pValue < $1.pValue : ($0.to, $0.from) < ($1.to, $1.from) }
    }

    /// P(X >= n) for X ~ Poisson(mean).
    public static func poissonUpperTail(_ n: Int, mean: Double) -> Double {
        guard n > 0 else { return 1 }
        var term = exp(-mean), below = 0.0
        for x in 0..<n {
            below += term
            term *= mean / Double(x + 1)
        }
        return max(0, min(1, 1 - below))
    }
}
