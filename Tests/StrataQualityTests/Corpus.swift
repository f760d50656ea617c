import StrataCore
@testable import StrataQuality

/// A seeded synthetic corpus: base documents of Zipf-distributed pseudo-words, near-duplicates made by
/// spreading word edits through a base document until the true word-5-gram Jaccard lands in a target
/// range, and unrelated documents.
struct SyntheticCorpus {
    var texts: [String] = []
    /// family[i]: index of the base document text i was derived from (itself for bases and unrelated docs).
    var family: [Int] = []
    /// (variant, base, exact Jaccard) for every generated near-duplicate.
    var variants: [(doc: Int, base: Int, jaccard: Double)] = []

    static func exactJaccard(_ a: String, _ b: String, n: Int = 5) -> Double {
        let sa = Set(Shingler.shingles(a, n: n, mode: .words)), sb = Set(Shingler.shingles(b, n: n, mode: .words))
        let union = sa.union(sb).count
        return union == 0 ? 1 : Double(sa.intersection(sb).count) / Double(union)
    }

    /// `edited`: for each entry, `fraction * bases` edited copies of random bases with exact Jaccard in `jaccard`.
    init(seed: UInt64, bases: Int, edited: [(fraction: Double, jaccard: ClosedRange<Double>)], unrelated: Int,
         vocabulary: Int = 5000, words: ClosedRange<Int> = 50...300) {
        var rng = SplitMix64(seed: seed)
        let syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "po", "an", "el", "is", "or", "ul",
                         "bra", "cle", "dro", "fin", "gar", "hel", "jun", "kor", "lem", "mus", "nor", "pil", "qua", "ste", "tor"]
        var vocab: [String] = []
        var seen = Set<String>()
        while vocab.count < vocabulary {
            var w = ""
            for _ in 0..<(1 + rng.int(3)) { w += rng.pick(syllables) }
            if seen.insert(w).inserted { vocab.append(w) }
        }
        // Zipf(1) over ranks: cumulative weights, sampled by binary search.
        var cumulative: [Double] = []
        var total = 0.0
        for r in 1...vocabulary { total += 1 / Double(r); cumulative.append(total) }
        func word(_ rng: inout SplitMix64) -> String {
            let x = rng.unit(0, total)
            var lo = 0, hi = cumulative.count - 1
            while lo < hi { let mid = (lo + hi) / 2; if cumulative[mid] < x { lo = mid + 1 } else { hi = mid } }
            return vocab[lo]
        }
        func document(_ rng: inout SplitMix64) -> [String] {
            (0..<(words.lowerBound + rng.int(words.count))).map { _ in word(&rng) }
        }
        var baseWords: [[String]] = []
        for _ in 0..<bases {
            let d = document(&rng)
            baseWords.append(d)
            family.append(texts.count)
            texts.append(d.joined(separator: " "))
        }
        for (fraction, jaccard) in edited {
        for _ in 0..<Int(Double(bases) * fraction) {
            let b = rng.int(bases)
            let target = rng.unit(jaccard.lowerBound, jaccard.upperBound)
            let base = baseWords[b]
            // Each spread-out edit changes about 5 shingles out of ~count; start near the target and adjust.
            var edits = max(1, Int((Double(base.count) * (1 - target) / (5 * (1 + target))).rounded()))
            var best: (String, Double)? = nil
            for _ in 0..<12 {
                let text = Self.edit(base, edits: edits, rng: &rng, word: { word(&$0) })
                let j = Self.exactJaccard(texts[b], text)
                if jaccard.contains(j), best == nil || abs(j - target) < abs(best!.1 - target) { best = (text, j) }
                if abs(j - target) < 0.015 && jaccard.contains(j) { break }
                edits = j > target ? edits + 1 : max(1, edits - 1)
            }
            guard let (text, j) = best else { continue }
            variants.append((texts.count, b, j))
            family.append(b)
            texts.append(text)
        }
        }
        for _ in 0..<unrelated {
            family.append(texts.count)
            texts.append(document(&rng).joined(separator: " "))
        }
    }

    /// Replacements, deletions and insertions at evenly spread, jittered positions.
    static func edit(_ words: [String], edits: Int, rng: inout SplitMix64, word: (inout SplitMix64) -> String) -> String {
        var w = words
        let step = Double(w.count) / Double(edits)
        for e in (0..<edits).reversed() {
            let pos = min(w.count - 1, Int(Double(e) * step + rng.unit(0, step)))
            switch rng.int(4) {
            case 0: w.remove(at: pos)
            case 1: w.insert(word(&rng), at: pos)
            default: w[pos] = word(&rng)
            }
        }
        return w.joined(separator: " ")
    }

    /// Truth: connected components of same-family pairs whose exact Jaccard is at least `threshold`.
    func trueClusters(threshold: Double) -> [[Int]] {
        var uf = UnionFind(count: texts.count)
        var members: [Int: [Int]] = [:]
        for (i, f) in family.enumerated() { members[f, default: []].append(i) }
        for group in members.values where group.count > 1 {
            for x in 0..<group.count {
                for y in (x + 1)..<group.count where Self.exactJaccard(texts[group[x]], texts[group[y]]) >= threshold {
                    uf.union(group[x], group[y])
                }
            }
        }
        return uf.groups().filter { $0.count >= 2 }
    }

    /// Pairwise precision and recall of `predicted` clusters against `truth` clusters.
    static func precisionRecall(predicted: [[Int]], truth: [[Int]]) -> (precision: Double, recall: Double, predictedPairs: Int, truePairs: Int) {
        func pairs(_ clusters: [[Int]]) -> Set<Int64> {
            var s = Set<Int64>()
            for c in clusters { for x in 0..<c.count { for y in (x + 1)..<c.count { s.insert(Int64(c[x]) << 32 | Int64(c[y])) } } }
            return s
        }
        let p = pairs(predicted), t = pairs(truth)
        let hit = p.intersection(t).count
        return (p.isEmpty ? 1 : Double(hit) / Double(p.count), t.isEmpty ? 1 : Double(hit) / Double(t.count), p.count, t.count)
    }
}
