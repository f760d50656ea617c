/// Ratings of items by annotators on nominal categories.
public struct RatingTable: Sendable, Equatable {
    public var items: [String]
    public var annotators: [String]
    public var categories: [String]
    /// `cells[item][annotator]`: a category index, or nil when the annotator did not rate the item.
    public var cells: [[Int?]]

    public init(items: [String], annotators: [String], categories: [String], cells: [[Int?]]) {
        precondition(cells.count == items.count && cells.allSatisfy { $0.count == annotators.count }, "one row per item, one column per annotator")
        self.items = items; self.annotators = annotators; self.categories = categories; self.cells = cells
    }

    /// Builds a table from (item, annotator, category) ratings; a later rating of the same cell replaces an earlier
    /// one. Items, annotators and categories are sorted; `categories` adds categories nobody used.
    public init(ratings: [(item: String, annotator: String, category: String)], categories extra: [String] = []) {
        let items = Array(Set(ratings.map(\.item))).sorted()
        let annotators = Array(Set(ratings.map(\.annotator))).sorted()
        let categories = Array(Set(ratings.map(\.category)).union(extra)).sorted()
        let ii = Dictionary(uniqueKeysWithValues: items.enumerated().map { ($1, $0) })
        let ai = Dictionary(uniqueKeysWithValues: annotators.enumerated().map { ($1, $0) })
        let ci = Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1, $0) })
        var cells = [[Int?]](repeating: [Int?](repeating: nil, count: annotators.count), count: items.count)
        for r in ratings { cells[ii[r.item]!][ai[r.annotator]!] = ci[r.category]! }
        self.init(items: items, annotators: annotators, categories: categories, cells: cells)
    }

    /// One annotator's column.
    public func column(_ a: Int) -> [Int?] { cells.map { $0[a] } }
}

/// Agreement between two annotators.
public struct PairAgreement: Codable, Sendable, Equatable {
    public var a: String
    public var b: String
    /// Items both rated.
    public var items: Int
    /// Share of those items with the same label.
    public var agreement: Double
    public var cohenKappa: Double?
}

/// Agreement on one label, one-vs-rest.
public struct LabelAgreement: Codable, Sendable, Equatable {
    public var label: String
    /// Ratings that chose this label.
    public var ratings: Int
    /// Krippendorff's alpha of "this label or not" over items with two or more ratings.
    public var krippendorffAlpha: Double?
    /// Of the pairs of ratings on one item where at least one chose this label, the share where both did.
    public var specificAgreement: Double?
}

/// One annotator's agreement with the others, and accuracy on gold items.
public struct AnnotatorAgreement: Codable, Sendable, Equatable {
    public var annotator: String
    public var ratings: Int
    /// Share of (item, other annotator) pairs with the same label.
    public var agreement: Double?
    /// Mean of the pairwise Cohen's kappas with every other annotator, weighted by shared items.
    public var meanCohenKappa: Double?
    /// Gold items this annotator rated, and how many correctly.
    public var goldItems: Int
    public var goldCorrect: Int
    public var goldAccuracy: Double?
}

/// Agreement over a whole rating table.
public struct AgreementReport: Codable, Sendable, Equatable {
    public var items: Int
    /// Items with two or more ratings (the ones agreement is measured on).
    public var pairableItems: Int
    public var annotators: Int
    public var ratings: Int
    /// Mean observed agreement over pairs of ratings of the same item.
    public var percentAgreement: Double?
    public var fleissKappa: Double?
    public var krippendorffAlpha: Double?
    /// Mean of the pairwise Cohen's kappas, weighted by shared items.
    public var meanCohenKappa: Double?
    public var pairs: [PairAgreement]
    public var labels: [LabelAgreement]
    public var annotatorStats: [AnnotatorAgreement]

    /// Computes the report. `gold` maps an item to its known category name.
    public static func compute(_ t: RatingTable, gold: [String: String] = [:]) -> AgreementReport {
        let nA = t.annotators.count
        let columns = (0..<nA).map(t.column)
        var pairs: [PairAgreement] = []
        var kappaSum = [Double](repeating: 0, count: nA), kappaWeight = [Double](repeating: 0, count: nA)
        var agreeSum = [Double](repeating: 0, count: nA), agreeN = [Int](repeating: 0, count: nA)
        var totalKappa = 0.0, totalWeight = 0.0
        for i in 0..<nA {
            for j in (i + 1)..<max(nA, i + 1) {
                guard let pa = Agreement.percentAgreement(columns[i], columns[j]) else { continue }
                let kappa = Agreement.cohenKappa(columns[i], columns[j])
                pairs.append(PairAgreement(a: t.annotators[i], b: t.annotators[j], items: pa.items, agreement: pa.agreement, cohenKappa: kappa))
                for x in [i, j] {
                    agreeSum[x] += pa.agreement * Double(pa.items); agreeN[x] += pa.items
                    if let kappa { kappaSum[x] += kappa * Double(pa.items); kappaWeight[x] += Double(pa.items) }
                }
                if let kappa { totalKappa += kappa * Double(pa.items); totalWeight += Double(pa.items) }
            }
        }

        // Pairwise observed agreement per item, averaged over items with two or more ratings.
        var pctSum = 0.0, pairable = 0
        for row in t.cells {
            let vals = row.compactMap { $0 }
            if vals.count < 2 { continue }
            pairable += 1
            var same = 0, all = 0
            for x in 0..<vals.count { for y in (x + 1)..<vals.count { all += 1; if vals[x] == vals[y] { same += 1 } } }
            pctSum += Double(same) / Double(all)
        }

        var labels: [LabelAgreement] = []
        for (c, name) in t.categories.enumerated() {
            let binary = t.cells.map { row in row.map { $0.map { $0 == c ? 1 : 0 } } }
            var ratings = 0, both = 0, either = 0
            for row in t.cells {
                let vals = row.compactMap { $0 }
                ratings += vals.filter { $0 == c }.count
                if vals.count < 2 { continue }
                for x in 0..<vals.count {
                    for y in (x + 1)..<vals.count where vals[x] == c || vals[y] == c {
                        either += 1
                        if vals[x] == c && vals[y] == c { both += 1 }
                    }
                }
            }
            labels.append(LabelAgreement(label: name, ratings: ratings, krippendorffAlpha: Agreement.krippendorffAlpha(binary),
                                         specificAgreement: either == 0 ? nil : Double(both) / Double(either)))
        }

        let goldIndex: [Int: Int] = {
            var out: [Int: Int] = [:]
            let ci = Dictionary(uniqueKeysWithValues: t.categories.enumerated().map { ($1, $0) })
            for (i, item) in t.items.enumerated() { if let g = gold[item] { out[i] = ci[g] ?? -1 } }
            return out
        }()
        var stats: [AnnotatorAgreement] = []
        for a in 0..<nA {
            var goldItems = 0, goldCorrect = 0
            for (i, g) in goldIndex { if let v = t.cells[i][a] { goldItems += 1; if v == g { goldCorrect += 1 } } }
            stats.append(AnnotatorAgreement(
                annotator: t.annotators[a], ratings: columns[a].compactMap { $0 }.count,
                agreement: agreeN[a] == 0 ? nil : agreeSum[a] / Double(agreeN[a]),
                meanCohenKappa: kappaWeight[a] == 0 ? nil : kappaSum[a] / kappaWeight[a],
                goldItems: goldItems, goldCorrect: goldCorrect,
                goldAccuracy: goldItems == 0 ? nil : Double(goldCorrect) / Double(goldItems)))
        }

        return AgreementReport(
            items: t.items.count, pairableItems: pairable, annotators: nA,
            ratings: t.cells.reduce(0) { $0 + $1.compactMap { $0 }.count },
            percentAgreement: pairable == 0 ? nil : pctSum / Double(pairable),
            fleissKappa: Agreement.fleissKappa(Agreement.counts(t.cells, categories: t.categories.count)),
            krippendorffAlpha: Agreement.krippendorffAlpha(t.cells),
            meanCohenKappa: totalWeight == 0 ? nil : totalKappa / totalWeight,
            pairs: pairs, labels: labels, annotatorStats: stats)
    }
}
