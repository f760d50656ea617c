/// How a dataset version is split: the `splits:` block of `strata.yaml`.
///
/// ```yaml
/// splits:
///   ratios: {train: 0.8, validation: 0.1, test: 0.1}
///   group_by: fields.session   # optional: samples sharing this metadata value never span splits
///   stratify: true             # balance each label's samples across splits
///   seed: strata               # changes the order in which new samples fill the splits
///   leakage: group             # group | drop | report: what to do with duplicates across splits
/// ```
public struct SplitSpec: Sendable, Equatable {
    public enum LeakagePolicy: String, Sendable, CaseIterable {
        /// Exact and near duplicates are put in one group before splitting, so they land in one split.
        case group
        /// Duplicates that still span splits (e.g. inherited from the parent) are dropped from the non-train split.
        case drop
        /// Only reported (in `strata version show` and the findings ledger).
        case report
    }

    /// Split names and their shares, in file order; the shares add up to 1.
    public var ratios: [(name: String, share: Double)]
    /// A metadata path (`source`, `fields.session`, `tags.device`, ...) whose value groups samples.
    public var groupBy: String?
    public var stratify: Bool
    public var seed: String
    public var leakage: LeakagePolicy

    public init(ratios: [(name: String, share: Double)] = [("train", 0.8), ("validation", 0.1), ("test", 0.1)],
                groupBy: String? = nil, stratify: Bool = true, seed: String = "strata", leakage: LeakagePolicy = .group) {
        self.ratios = ratios; self.groupBy = groupBy; self.stratify = stratify; self.seed = seed; self.leakage = leakage
    }

    public static func == (a: SplitSpec, b: SplitSpec) -> Bool {
        a.ratios.map(\.name) == b.ratios.map(\.name) && a.ratios.map(\.share) == b.ratios.map(\.share)
            && a.groupBy == b.groupBy && a.stratify == b.stratify && a.seed == b.seed && a.leakage == b.leakage
    }

    /// The canonical form recorded in a version's manifest.
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "ratios": .array(ratios.map { .object(["name": .string($0.name), "share": .number($0.share)]) }),
            "stratify": .bool(stratify), "seed": .string(seed), "leakage": .string(leakage.rawValue),
        ]
        if let groupBy { o["group_by"] = .string(groupBy) }
        return .object(o)
    }

    static func decode(_ node: SpecNode) -> SplitSpec {
        var spec = SplitSpec()
        if let r = node.map("ratios") {
            var ratios: [(name: String, share: Double)] = []
            for (key, value) in r.asEntries() ?? [] {
                guard let share = value.asDouble(min: 0, max: 1, example: "0.8") else { continue }
                if !key.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }) || key.isEmpty {
                    value.report("split name `\(key)` may use only a-z, 0-9, `-` and `_`", fix: "rename it, e.g. `train`, `validation`, `test`")
                    continue
                }
                ratios.append((key, share))
            }
            let total = ratios.reduce(0) { $0 + $1.share }
            if ratios.isEmpty {
                r.report("lists no split", fix: "write e.g. `ratios: {train: 0.8, validation: 0.1, test: 0.1}`")
            } else if abs(total - 1) > 0.0005 {
                r.report("the shares add up to \(SpecNode.format((total * 1000).rounded() / 1000)), not 1", fix: "make the shares add up to 1")
            } else {
                spec.ratios = ratios
            }
        }
        spec.groupBy = node.string("group_by")
        spec.stratify = node.bool("stratify") ?? true
        spec.seed = node.string("seed") ?? "strata"
        spec.leakage = node.enumValue("leakage", LeakagePolicy.self) ?? .group
        node.finish()
        return spec
    }
}
