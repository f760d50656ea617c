/// Assigns samples to splits: deterministic, sticky, grouped and stratified.
///
/// - **Sticky**: a sample that already has a split (in the parent version) keeps it, so adding data never
///   moves a sample between train and test.
/// - **Grouped**: a unit is a group of samples (same group key, or joined as duplicates) and is assigned whole.
/// - **Stratified**: new units are taken in the order of a seeded hash of their key and each goes to the split
///   furthest below its target share within its label, so every label is split in the configured ratios.
/// - **Deterministic**: the result depends only on the units, their keys, the parent's assignment and the spec.
public enum SplitPlanner {
    public struct Unit: Sendable {
        /// The group key, or the sample id for a sample on its own.
        public var key: String
        public var members: [String]
        /// The stratum (the unit's majority label; "" for unlabeled).
        public var label: String
        public init(key: String, members: [String], label: String) {
            self.key = key; self.members = members; self.label = label
        }
    }

    public struct Result: Sendable {
        public var split: [String: String]
        /// Samples whose inherited split differed from their unit's (a group now spans splits): moved to the unit's.
        public var moved: [String]
    }

    /// A seeded 64-bit hash of a key (FNV-1a folded through SplitMix64): stable on every platform.
    public static func hash(_ key: String, seed: String) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for b in seed.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        h = (h ^ 0x1F) &* 0x100000001b3
        for b in key.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        var g = SplitMix64(seed: h)
        return g.next()
    }

    public static func assign(units: [Unit], previous: [String: String], spec: SplitSpec) -> Result {
        let names = spec.ratios.map(\.name)
        var split: [String: String] = [:]
        var moved: [String] = []
        // counts[stratum][split] in samples
        var counts: [String: [Int]] = [:]
        var fresh: [(hash: UInt64, unit: Unit)] = []
        for unit in units {
            let stratum = spec.stratify ? unit.label : ""
            var votes: [String: Int] = [:]
            for m in unit.members { if let s = previous[m], names.contains(s) { votes[s, default: 0] += 1 } }
            if let inherited = votes.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key })?.key {
                for m in unit.members {
                    if let s = previous[m], s != inherited { moved.append(m) }
                    split[m] = inherited
                }
                counts[stratum, default: Array(repeating: 0, count: names.count)][names.firstIndex(of: inherited)!] += unit.members.count
            } else {
                fresh.append((hash(unit.key, seed: spec.seed), unit))
            }
        }
        fresh.sort { $0.hash != $1.hash ? $0.hash < $1.hash : $0.unit.key < $1.unit.key }
        for (_, unit) in fresh {
            let stratum = spec.stratify ? unit.label : ""
            var c = counts[stratum] ?? Array(repeating: 0, count: names.count)
            let total = Double(c.reduce(0, +) + unit.members.count)
            var best = 0
            var bestDeficit = -Double.infinity
            for (i, r) in spec.ratios.enumerated() where r.share > 0 {
                let deficit = r.share * total - Double(c[i])
                if deficit > bestDeficit + 1e-9 { best = i; bestDeficit = deficit }
            }
            c[best] += unit.members.count
            counts[stratum] = c
            for m in unit.members { split[m] = names[best] }
        }
        return Result(split: split, moved: moved.sorted())
    }
}
