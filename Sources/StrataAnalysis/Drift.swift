import Foundation

/// One field compared between reference and current data.
public struct FieldDrift: Sendable, Equatable, Codable {
    public var field: String
    /// `categorical` (PSI), `numeric` (Kolmogorov-Smirnov), `label`, `text` or `embedding`.
    public var kind: String
    /// PSI, KS statistic D, or for embeddings the centroid shift relative to the reference spread.
    public var statistic: Double
    /// Kolmogorov-Smirnov p-value (numeric and text fields).
    public var pValue: Double?
    public var drifted: Bool
    public var detail: String
}

public enum Drift {
    public static let psiThreshold = 0.25
    public static let ksAlpha = 0.01

    /// PSI of a categorical field.
    public static func categorical(_ field: String, kind: String = "categorical", reference: [String], current: [String]) -> FieldDrift {
        var e: [String: Int] = [:], a: [String: Int] = [:]
        for v in reference { e[v, default: 0] += 1 }
        for v in current { a[v, default: 0] += 1 }
        let psi = Statistics.psi(expected: e, actual: a)
        // Largest change first; equal changes in name order, so the detail is the same on every run.
        let keys = Set(e.keys).union(a.keys).sorted {
            let x = abs(share(a, $0) - share(e, $0)), y = abs(share(a, $1) - share(e, $1))
            return x != y ? x > y : $0 < $1
        }
        let top = keys.prefix(3).map { k in String(format: "%@ %.1f%% -> %.1f%%", k, share(e, k) * 100, share(a, k) * 100) }
        return FieldDrift(field: field, kind: kind, statistic: psi, pValue: nil, drifted: psi > psiThreshold,
                          detail: "largest changes: " + top.joined(separator: ", "))
    }

    static func share(_ m: [String: Int], _ k: String) -> Double {
        let t = m.values.reduce(0, +)
        return t > 0 ? Double(m[k] ?? 0) / Double(t) : 0
    }

    /// Two-sample Kolmogorov-Smirnov of a numeric field.
    public static func numeric(_ field: String, kind: String = "numeric", reference: [Double], current: [Double]) -> FieldDrift {
        let ks = Statistics.kolmogorovSmirnov(reference, current)
        let detail = String(format: "mean %.3g -> %.3g", Statistics.mean(reference), Statistics.mean(current))
        return FieldDrift(field: field, kind: kind, statistic: ks.statistic, pValue: ks.pValue,
                          drifted: ks.pValue < ksAlpha && ks.statistic > 0.1, detail: detail)
    }

    /// Embedding drift: the distance between the two centroids divided by the reference's mean distance to its own
    /// centroid (0 = same center; 1 = the center moved by a typical sample's spread), plus the cosine distance
    /// between the centroids.
    public static func embedding(reference: [[Double]], current: [[Double]], threshold: Double = 0.5) -> FieldDrift? {
        guard let d = reference.first?.count, d > 0, !current.isEmpty else { return nil }
        func centroid(_ v: [[Double]]) -> [Double] {
            var c = [Double](repeating: 0, count: d)
            for x in v { for i in 0..<min(d, x.count) { c[i] += x[i] } }
            return c.map { $0 / Double(v.count) }
        }
        func dist(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot() }
        let cr = centroid(reference), cc = centroid(current)
        let spread = max(reference.reduce(0) { $0 + dist($1, cr) } / Double(reference.count), 1e-12)
        let shift = dist(cr, cc) / spread
        let dot = zip(cr, cc).reduce(0) { $0 + $1.0 * $1.1 }
        let norms = (cr.reduce(0) { $0 + $1 * $1 } * cc.reduce(0) { $0 + $1 * $1 }).squareRoot()
        let cosine = norms > 0 ? 1 - dot / norms : 0
        return FieldDrift(field: "embedding", kind: "embedding", statistic: shift, pValue: nil, drifted: shift > threshold,
                          detail: String(format: "centroid moved %.2f reference spreads; cosine distance of centroids %.3f", shift, cosine))
    }

    /// Character and word counts of texts.
    public static func textStatistics(_ texts: [String]) -> (chars: [Double], words: [Double]) {
        var chars: [Double] = [], words: [Double] = []
        chars.reserveCapacity(texts.count); words.reserveCapacity(texts.count)
        for t in texts {
            chars.append(Double(t.unicodeScalars.count))
            var n = 0, inWord = false
            for b in t.utf8 {
                let space = b == 32 || b == 9 || b == 10 || b == 13
                if !space && !inWord { n += 1 }
                inWord = !space
            }
            words.append(Double(n))
        }
        return (chars, words)
    }
}
