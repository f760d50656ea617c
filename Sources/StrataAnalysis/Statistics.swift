import Foundation

/// A proportion with its confidence interval.
public struct Proportion: Sendable, Equatable, Codable {
    public var successes: Int
    public var trials: Int
    public var value: Double
    public var low: Double
    public var high: Double

    public init(successes: Int, trials: Int, z: Double = Statistics.z95) {
        self.successes = successes
        self.trials = trials
        value = trials > 0 ? Double(successes) / Double(trials) : 0
        (low, high) = Statistics.wilson(successes: successes, trials: trials, z: z)
    }

    /// Width of the interval (1 when nothing was observed).
    public var width: Double { high - low }
}

/// Small statistics used by the analyses: Wilson intervals, PSI, two-sample Kolmogorov-Smirnov.
public enum Statistics {
    /// The two-sided 95% normal quantile.
    public static let z95 = 1.959963984540054

    /// Wilson score interval for `successes` out of `trials` (Wilson 1927). With no trials the interval is [0, 1].
    public static func wilson(successes: Int, trials: Int, z: Double = z95) -> (low: Double, high: Double) {
        guard trials > 0 else { return (0, 1) }
        let n = Double(trials), p = Double(successes) / n, z2 = z * z
        let denominator = 1 + z2 / n
        let center = (p + z2 / (2 * n)) / denominator
        let half = z * ((p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()) / denominator
        return (max(0, center - half), min(1, center + half))
    }

    /// How many trials give a Wilson interval no wider than `width` at the observed rate `p` (the smallest n, found
    /// by doubling then bisection; at most `cap`).
    public static func trialsForWidth(_ width: Double, rate p: Double, z: Double = z95, cap: Int = 10_000_000) -> Int {
        func w(_ n: Int) -> Double {
            let s = Int((p * Double(n)).rounded())
            let (l, h) = wilson(successes: s, trials: n, z: z)
            return h - l
        }
        var hi = 1
        while w(hi) > width { hi *= 2; if hi >= cap { return cap } }
        var lo = hi / 2
        while lo + 1 < hi {
            let mid = (lo + hi) / 2
            if w(mid) > width { lo = mid } else { hi = mid }
        }
        return hi
    }

    /// Population stability index between two categorical distributions given as counts per category:
    /// sum over categories of (a - e) * ln(a / e), with shares floored at `epsilon` so empty categories stay finite.
    /// Common reading: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 major shift.
    public static func psi(expected: [String: Int], actual: [String: Int], epsilon: Double = 1e-4) -> Double {
        let te = Double(expected.values.reduce(0, +)), ta = Double(actual.values.reduce(0, +))
        guard te > 0, ta > 0 else { return 0 }
        var total = 0.0
        // Summed in key order, so the same counts give the same bits in every process (dictionary order is seeded).
        for key in Set(expected.keys).union(actual.keys).sorted() {
            let e = max(Double(expected[key] ?? 0) / te, epsilon)
            let a = max(Double(actual[key] ?? 0) / ta, epsilon)
            total += (a - e) * log(a / e)
        }
        return total
    }

    /// Result of a two-sample Kolmogorov-Smirnov test.
    public struct KSResult: Sendable, Equatable, Codable {
        /// The largest distance between the two empirical CDFs.
        public var statistic: Double
        /// Asymptotic two-sided p-value.
        public var pValue: Double
    }

    /// Two-sample Kolmogorov-Smirnov statistic D and its asymptotic p-value (Kolmogorov distribution with the
    /// Stephens small-sample correction, as in Numerical Recipes' `kstwo`).
    public static func kolmogorovSmirnov(_ a: [Double], _ b: [Double]) -> KSResult {
        guard !a.isEmpty, !b.isEmpty else { return KSResult(statistic: 0, pValue: 1) }
        let x = a.sorted(), y = b.sorted()
        let n = Double(x.count), m = Double(y.count)
        var i = 0, j = 0, d = 0.0
        while i < x.count && j < y.count {
            let v = min(x[i], y[j])
            while i < x.count && x[i] <= v { i += 1 }
            while j < y.count && y[j] <= v { j += 1 }
            d = max(d, abs(Double(i) / n - Double(j) / m))
        }
        let en = (n * m / (n + m)).squareRoot()
        let p = kolmogorovQ((en + 0.12 + 0.11 / en) * d)
        return KSResult(statistic: d, pValue: p)
    }

    /// Complementary CDF of the Kolmogorov distribution: 2 * sum_{k>=1} (-1)^(k-1) exp(-2 k^2 lambda^2).
    public static func kolmogorovQ(_ lambda: Double) -> Double {
        if lambda < 1e-3 { return 1 }
        var sum = 0.0, sign = 1.0, previous = 0.0
        for k in 1...100 {
            let term = sign * exp(-2 * Double(k * k) * lambda * lambda)
            sum += term
            if abs(term) <= 1e-10 * abs(previous) || abs(term) <= 1e-16 * sum { return min(1, max(0, 2 * sum)) }
            sign = -sign
            previous = term
        }
        return 1
    }

    public static func mean(_ v: [Double]) -> Double { v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count) }

    public static func standardDeviation(_ v: [Double]) -> Double {
        guard v.count > 1 else { return 0 }
        let m = mean(v)
        return (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot()
    }
}
