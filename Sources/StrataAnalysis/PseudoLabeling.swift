import Foundation

/// Pseudo-labeling: per-class confidence thresholds calibrated on held-out labeled data to a target precision, and
/// the acceptance and spot-check rules built on them. Pure functions over arrays.
public enum PseudoLabeling {
    /// How a threshold must meet the target precision on the calibration data.
    public enum Criterion: String, Sendable, Codable, CaseIterable {
        /// The observed precision at and above the threshold reaches the target.
        case point
        /// The lower end of the 95% Wilson interval of that precision reaches the target (needs more data, safer).
        case lowerBound = "lower-bound"
    }

    /// One class's calibration.
    public struct ClassCalibration: Sendable, Equatable, Codable {
        public enum Status: String, Sendable, Codable {
            /// A threshold reaches the target: predictions of this class at or above it are accepted.
            case calibrated
            /// Too few held-out labeled samples are predicted as this class to calibrate (see `minSamples`).
            case tooFewSamples = "too-few-samples"
            /// No threshold reaches the target on the calibration data.
            case unreachable
        }
        public var label: String
        public var status: Status
        public var target: Double
        /// Held-out labeled samples the model predicts as this class (the calibration data of the class).
        public var samples: Int
        /// The lowest accepted confidence (nil unless calibrated).
        public var threshold: Double?
        /// Precision of the calibration predictions at or above the threshold, with its Wilson interval (for
        /// `unreachable`: the best precision among cuts with enough support).
        public var precision: Proportion?
    }

    /// For each class, the lowest threshold t such that, among held-out samples predicted as that class with
    /// confidence >= t, precision meets `target` (by `criterion`) with at least `minSupport` samples, and no higher
    /// cut (with at least `minSupport` samples) is clearly below the target (its Wilson upper bound under it), so a
    /// lucky stretch below a bad region of the precision curve is never chosen.
    ///
    /// - Parameters:
    ///   - predicted: the model's top class per calibration sample (index into `classes`).
    ///   - confidence: the model's probability of that class.
    ///   - truth: the human label per sample (index into `classes`; -1 for a label the model does not know).
    ///   - targets: target precision per class (same order as `classes`).
    ///   - minSamples: a class needs at least this many calibration samples predicted as it.
    ///   - minSupport: a cut needs at least this many samples at or above it (default: `minSamples`), so a threshold is
    ///     never trusted on a handful of lucky predictions.
    public static func calibrate(classes: [String], predicted: [Int], confidence: [Double], truth: [Int], targets: [Double],
                                 criterion: Criterion = .point, minSamples: Int = 30, minSupport: Int? = nil) -> [ClassCalibration] {
        precondition(predicted.count == confidence.count && predicted.count == truth.count && targets.count == classes.count)
        let support = max(1, minSupport ?? minSamples)
        var rowsByClass = [[Int]](repeating: [], count: classes.count)
        for i in predicted.indices where predicted[i] >= 0 && predicted[i] < classes.count { rowsByClass[predicted[i]].append(i) }
        return classes.indices.map { c in
            let rows = rowsByClass[c].sorted { confidence[$0] != confidence[$1] ? confidence[$0] > confidence[$1] : $0 < $1 }
            guard rows.count >= max(1, minSamples) else {
                return ClassCalibration(label: classes[c], status: .tooFewSamples, target: targets[c], samples: rows.count, threshold: nil, precision: nil)
            }
            // Cuts between distinct confidences, from the most confident down.
            var cuts: [(threshold: Double, p: Proportion)] = []
            var correct = 0
            for (k, i) in rows.enumerated() {
                if truth[i] == c { correct += 1 }
                if k + 1 < rows.count && confidence[rows[k + 1]] == confidence[i] { continue }
                let n = k + 1
                if n >= support { cuts.append((confidence[i], Proportion(successes: correct, trials: n))) }
            }
            func meets(_ p: Proportion) -> Bool { (criterion == .point ? p.value : p.low) >= targets[c] - 1e-12 }
            // Walk down from the most confident cut: the threshold is the lowest cut that meets the target while no
            // higher cut was clearly below it (Wilson upper bound under the target).
            var chosen: (Double, Proportion)?
            for cut in cuts {
                if cut.p.high < targets[c] - 1e-12 { break }
                if meets(cut.p) { chosen = cut }
            }
            if let (t, p) = chosen {
                return ClassCalibration(label: classes[c], status: .calibrated, target: targets[c], samples: rows.count, threshold: t, precision: p)
            }
            let best = cuts.max { a, b in a.p.value != b.p.value ? a.p.value < b.p.value : a.p.trials < b.p.trials }?.p
            return ClassCalibration(label: classes[c], status: .unreachable, target: targets[c], samples: rows.count, threshold: nil, precision: best)
        }
    }

    /// The top class and its probability (the first class on ties).
    public static func top(_ probs: [Double]) -> (index: Int, p: Double) {
        var best = 0
        for i in probs.indices where probs[i] > probs[best] { best = i }
        return (best, probs.isEmpty ? 0 : probs[best])
    }

    /// Whether a sample with these probabilities is accepted: its top probability reaches its class's threshold.
    public static func accept(_ probs: [Double], thresholds: [Double?]) -> (index: Int, p: Double)? {
        let t = top(probs)
        guard t.index < thresholds.count, let threshold = thresholds[t.index], t.p >= threshold else { return nil }
        return t
    }

    /// A stable number in [0, 1) for a key (FNV-1a folded through SplitMix64's finalizer).
    public static func unitHash(_ key: String, seed: String) -> Double {
        var h: UInt64 = 0xcbf29ce484222325
        for b in seed.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        h = (h ^ 0x1F) &* 0x100000001b3
        for b in key.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        h = (h ^ (h >> 30)) &* 0xbf58476d1ce4e5b9
        h = (h ^ (h >> 27)) &* 0x94d049bb133111eb
        h ^= h >> 31
        return Double(h >> 11) / Double(UInt64(1) << 53)
    }

    /// Which of the accepted items go to human spot checks: in each class, the ceil(share x n) items with the
    /// smallest `unitHash(key, seed)`. Deterministic, independent of input order, and every class with accepted items
    /// gets at least one check when `share > 0`. Returns indices into `keys`.
    public static func spotChecks(keys: [String], classes: [String], share: Double, seed: String) -> Set<Int> {
        guard share > 0 else { return [] }
        var byClass: [String: [Int]] = [:]
        for i in keys.indices { byClass[classes[i], default: []].append(i) }
        var out = Set<Int>()
        for (_, members) in byClass {
            let n = min(members.count, Int((share * Double(members.count) - 1e-9).rounded(.up)))
            let ranked = members.map { (unitHash(keys[$0], seed: seed), keys[$0], $0) }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
            for r in ranked.prefix(n) { out.insert(r.2) }
        }
        return out
    }
}
