/// Inter-annotator agreement on nominal labels: Cohen's kappa (pairs), Fleiss' kappa, Krippendorff's alpha.
///
/// Ratings are category indexes (0..<categories); `nil` is a missing rating. Every function returns nil when the
/// statistic is undefined (too few pairable ratings, or a single category so that chance agreement is 1).
public enum Agreement {
    /// Cohen's kappa of two annotators over the items both rated: (po - pe) / (1 - pe), with pe from each
    /// annotator's own category frequencies (as scikit-learn's `cohen_kappa_score`).
    public static func cohenKappa(_ a: [Int?], _ b: [Int?]) -> Double? {
        precondition(a.count == b.count, "both annotators need one entry per item")
        var pairs: [(Int, Int)] = []
        for (x, y) in zip(a, b) { if let x, let y { pairs.append((x, y)) } }
        if pairs.isEmpty { return nil }
        let k = (pairs.map { max($0.0, $0.1) }.max() ?? 0) + 1
        var ca = [Double](repeating: 0, count: k), cb = [Double](repeating: 0, count: k)
        var agree = 0.0
        for (x, y) in pairs {
            ca[x] += 1; cb[y] += 1
            if x == y { agree += 1 }
        }
        let n = Double(pairs.count)
        let po = agree / n
        var pe = 0.0
        for c in 0..<k { pe += (ca[c] / n) * (cb[c] / n) }
        if abs(1 - pe) < 1e-12 { return nil }
        return (po - pe) / (1 - pe)
    }

    /// Observed agreement of two annotators: the share of items both rated on which they agree.
    public static func percentAgreement(_ a: [Int?], _ b: [Int?]) -> (agreement: Double, items: Int)? {
        var n = 0, agree = 0
        for (x, y) in zip(a, b) {
            if let x, let y { n += 1; if x == y { agree += 1 } }
        }
        return n == 0 ? nil : (Double(agree) / Double(n), n)
    }

    /// Fleiss' kappa from a table of counts (`counts[item][category]` = how many annotators chose the category).
    ///
    /// Items with fewer than two ratings are left out. When every item has the same number of ratings this is
    /// exactly Fleiss' kappa (statsmodels' `fleiss_kappa(table, method="fleiss")`); with varying numbers, each
    /// item's agreement uses its own count (the usual generalization).
    public static func fleissKappa(_ counts: [[Int]]) -> Double? {
        let rows = counts.filter { $0.reduce(0, +) >= 2 }
        guard let k = rows.first?.count, k > 0 else { return nil }
        var total = 0.0
        var categoryTotals = [Double](repeating: 0, count: k)
        var pSum = 0.0
        for row in rows {
            let n = Double(row.reduce(0, +))
            var sq = 0.0
            for (c, x) in row.enumerated() {
                categoryTotals[c] += Double(x)
                sq += Double(x * x)
            }
            total += n
            pSum += (sq - n) / (n * (n - 1))
        }
        let pBar = pSum / Double(rows.count)
        var pe = 0.0
        for t in categoryTotals { pe += (t / total) * (t / total) }
        if abs(1 - pe) < 1e-12 { return nil }
        return (pBar - pe) / (1 - pe)
    }

    /// Krippendorff's alpha for nominal data with missing ratings. `table[item][annotator]` is a category index or nil.
    /// Items with fewer than two ratings are not pairable and are left out (as in the `krippendorff` package).
    public static func krippendorffAlpha(_ table: [[Int?]]) -> Double? {
        // Coincidence matrix o[c][k]: each unit with m ratings adds 1/(m-1) for every ordered pair of its ratings.
        var k = 0
        for row in table { for v in row { if let v { k = max(k, v + 1) } } }
        if k == 0 { return nil }
        var o = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
        for row in table {
            var counts = [Int: Int]()
            var m = 0
            for v in row { if let v { counts[v, default: 0] += 1; m += 1 } }
            if m < 2 { continue }
            let w = 1.0 / Double(m - 1)
            for (c, nc) in counts {
                for (d, nd) in counts {
                    o[c][d] += w * Double(c == d ? nc * (nc - 1) : nc * nd)
                }
            }
        }
        let nc = o.map { $0.reduce(0, +) }
        let n = nc.reduce(0, +)
        if n <= 1 { return nil }
        var observed = 0.0, expected = 0.0
        for c in 0..<k {
            for d in 0..<k where c != d {
                observed += o[c][d]
                expected += nc[c] * nc[d]
            }
        }
        if expected == 0 { return nil }
        return 1 - (n - 1) * observed / expected
    }

    /// Counts per category from a ratings table (`table[item][annotator]`).
    public static func counts(_ table: [[Int?]], categories: Int) -> [[Int]] {
        table.map { row in
            var c = [Int](repeating: 0, count: categories)
            for v in row { if let v { c[v] += 1 } }
            return c
        }
    }
}
