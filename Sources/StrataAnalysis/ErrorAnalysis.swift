import Foundation
import StrataCore

/// Precision and recall of one class within a slice.
public struct ClassMetrics: Sendable, Equatable, Codable {
    public var label: String
    /// Samples whose true label is this class.
    public var support: Int
    public var precision: Proportion
    public var recall: Proportion
}

/// A named group of samples: an intent requirement, a tag or field value, a source, a label, a month.
public struct Slice: Sendable, Equatable, Codable {
    /// `scenarios`, `edge_cases`, `noise`, `source`, `label`, `month`, or the tag/field name.
    public var kind: String
    public var name: String
    /// Indices into the evaluated samples.
    public var members: [Int]
    public init(kind: String, name: String, members: [Int]) {
        self.kind = kind
        self.name = name
        self.members = members
    }
    public var key: String { "\(kind):\(name)" }
}

/// Error rate, per-class metrics and confusion of one slice.
public struct SliceReport: Sendable, Equatable, Codable {
    public var kind: String
    public var name: String
    public var count: Int
    public var errorRate: Proportion
    public var classes: [ClassMetrics]
    /// `confusion[truth][predicted]` in the order of the evaluation's classes.
    public var confusion: [[Int]]
}

/// Whether a criterion holds, and how sure that is given the interval.
public enum Verdict: String, Sendable, Codable {
    /// The whole interval is on the right side of the threshold.
    case pass
    /// The observed value meets the threshold but the interval crosses it.
    case likelyPass = "likely-pass"
    /// The observed value misses the threshold but the interval crosses it.
    case likelyFail = "likely-fail"
    /// The whole interval is on the wrong side.
    case fail

    public var failing: Bool { self == .fail || self == .likelyFail }
}

/// One success criterion or unacceptable mistake of the intent checked against predictions.
public struct IntentCheck: Sendable, Equatable, Codable {
    /// `success_criterion` or `unacceptable_mistake`.
    public var kind: String
    public var description: String
    public var observed: Double
    public var low: Double
    public var high: Double
    public var threshold: Double
    /// `min` or `max`.
    public var bound: String
    public var samples: Int
    public var verdict: Verdict
    /// How far the observed value is from the threshold on the failing side (0 when it passes).
    public var shortfall: Double
}

/// Predictions against labels: the data of `strata analyze errors`.
public struct Evaluation: Sendable {
    public var classes: [String]
    /// Index into `classes` per evaluated sample.
    public var truth: [Int]
    public var predicted: [Int]
    /// Selector-visible values per sample (source, label, tags, fields ...).
    public var facts: [[String: String]]

    public init(classes: [String], truth: [Int], predicted: [Int], facts: [[String: String]]) {
        precondition(truth.count == predicted.count && truth.count == facts.count)
        self.classes = classes
        self.truth = truth
        self.predicted = predicted
        self.facts = facts
    }

    public var count: Int { truth.count }

    /// Error rate, per-class precision/recall and confusion over `members` (all samples when nil).
    public func report(kind: String, name: String, members: [Int]? = nil) -> SliceReport {
        let k = classes.count
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        let idx = members ?? Array(0..<count)
        var errors = 0
        for i in idx {
            confusion[truth[i]][predicted[i]] += 1
            if truth[i] != predicted[i] { errors += 1 }
        }
        let metrics = (0..<k).map { c -> ClassMetrics in
            let tp = confusion[c][c]
            let support = confusion[c].reduce(0, +)
            let predictedC = (0..<k).reduce(0) { $0 + confusion[$1][c] }
            return ClassMetrics(label: classes[c], support: support, precision: Proportion(successes: tp, trials: predictedC),
                                recall: Proportion(successes: tp, trials: support))
        }
        return SliceReport(kind: kind, name: name, count: idx.count, errorRate: Proportion(successes: errors, trials: idx.count),
                           classes: metrics, confusion: confusion)
    }

    /// The samples a selector matches (all when the selector is empty).
    public func members(of selector: SpecSelector) -> [Int] {
        selector.isEmpty ? Array(0..<count) : (0..<count).filter { selector.matches(facts[$0]) }
    }

    /// Every success criterion and unacceptable mistake of the intent, with its interval and verdict.
    public func check(_ intent: IntentSpec) -> [IntentCheck] {
        var out: [IntentCheck] = []
        for c in intent.successCriteria {
            let members = members(of: c.slice)
            let r = report(kind: "criterion", name: "", members: members)
            let labelIndex = c.label.flatMap { classes.firstIndex(of: $0) }
            var value: Double, low: Double, high: Double, n: Int
            func take(_ p: Proportion) { value = p.value; low = p.low; high = p.high; n = p.trials }
            value = 0; low = 0; high = 1; n = 0
            switch c.metric {
            case .errorRate, .accuracy:
                var errors = r.errorRate.successes, trials = r.count
                if let l = labelIndex { trials = r.classes[l].support; errors = trials - r.classes[l].recall.successes }
                let p = Proportion(successes: c.metric == .errorRate ? errors : trials - errors, trials: trials)
                take(p)
            case .precision, .recall:
                let pick: (ClassMetrics) -> Proportion = { c.metric == .precision ? $0.precision : $0.recall }
                if let l = labelIndex { take(pick(r.classes[l])) } else {
                    // Macro average over classes with support; interval from the averaged bounds.
                    let present = r.classes.filter { $0.support > 0 }
                    let m = max(present.count, 1)
                    value = present.reduce(0) { $0 + pick($1).value } / Double(m)
                    low = present.reduce(0) { $0 + pick($1).low } / Double(m)
                    high = present.reduce(0) { $0 + pick($1).high } / Double(m)
                    n = r.count
                }
            case .f1:
                let chosen = labelIndex.map { [r.classes[$0]] } ?? r.classes.filter { $0.support > 0 }
                func f1(_ p: Double, _ q: Double) -> Double { p + q > 0 ? 2 * p * q / (p + q) : 0 }
                let m = Double(max(chosen.count, 1))
                value = chosen.reduce(0) { $0 + f1($1.precision.value, $1.recall.value) } / m
                low = chosen.reduce(0) { $0 + f1($1.precision.low, $1.recall.low) } / m
                high = chosen.reduce(0) { $0 + f1($1.precision.high, $1.recall.high) } / m
                n = chosen.reduce(0) { $0 + $1.support }
            }
            var text = c.metric.rawValue
            if let l = c.label { text += " of `\(l)`" }
            if !c.slice.isEmpty { text += " where " + Self.describe(c.slice) }
            let (threshold, isMin): (Double, Bool) = switch c.bound { case .min(let v): (v, true); case .max(let v): (v, false) }
            text += isMin ? " >= \(Self.percent(threshold))" : " <= \(Self.percent(threshold))"
            out.append(Self.judge(kind: "success_criterion", description: text, value: value, low: low, high: high,
                                  threshold: threshold, isMin: isMin, samples: n))
        }
        for m in intent.unacceptableMistakes {
            guard let t = classes.firstIndex(of: m.truth) else {
                out.append(IntentCheck(kind: "unacceptable_mistake", description: "`\(m.truth)` predicted as `\(m.predicted)` <= \(Self.percent(m.maxRate)) (no `\(m.truth)` samples with predictions)",
                                       observed: 0, low: 0, high: 1, threshold: m.maxRate, bound: "max", samples: 0, verdict: .likelyPass, shortfall: 0))
                continue
            }
            let p = classes.firstIndex(of: m.predicted)
            var trials = 0, hits = 0
            for i in 0..<count where truth[i] == t {
                trials += 1
                if let p, predicted[i] == p { hits += 1 }
            }
            let prop = Proportion(successes: hits, trials: trials)
            out.append(Self.judge(kind: "unacceptable_mistake", description: "`\(m.truth)` predicted as `\(m.predicted)` <= \(Self.percent(m.maxRate))",
                                  value: prop.value, low: prop.low, high: prop.high, threshold: m.maxRate, isMin: false, samples: trials))
        }
        return out
    }

    static func judge(kind: String, description: String, value: Double, low: Double, high: Double, threshold: Double,
                      isMin: Bool, samples: Int) -> IntentCheck {
        let verdict: Verdict
        if isMin {
            verdict = low >= threshold ? .pass : value >= threshold ? .likelyPass : high < threshold ? .fail : .likelyFail
        } else {
            verdict = high <= threshold ? .pass : value <= threshold ? .likelyPass : low > threshold ? .fail : .likelyFail
        }
        let shortfall = isMin ? max(0, threshold - value) : max(0, value - threshold)
        return IntentCheck(kind: kind, description: description, observed: value, low: low, high: high, threshold: threshold,
                           bound: isMin ? "min" : "max", samples: samples, verdict: verdict, shortfall: shortfall)
    }

    public static func describe(_ s: SpecSelector) -> String {
        s.conditions.keys.sorted().map { "\($0)=\(s.conditions[$0]!.joined(separator: "|"))" }.joined(separator: ", ")
    }

    public static func percent(_ v: Double) -> String {
        let p = v * 100
        return p == p.rounded() ? "\(Int(p))%" : String(format: "%.1f%%", p)
    }
}
