/// "Did you mean ...?" for every mistyped name Strata reports: spec keys and values, stage kinds, label names,
/// command-line options. One algorithm so that every suggestion is chosen the same way.
public enum Suggestion {
    /// Levenshtein distance over Characters.
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// The candidate closest to `word` (case-insensitive), or nil when none is close.
    ///
    /// Close means an edit distance of at most 2, or that one is a prefix of the other with at least 3
    /// characters in common (`label` for `label-field`). Smaller distances win; a prefix counts as distance 3; ties go to the
    /// candidate sharing the longest common prefix with `word`, then to the earlier candidate. So `dedup.neer`
    /// gives `dedup.near` (1 edit), never `dedup.exact` (which only shares the `dedup.` part).
    public static func closest(to word: String, in candidates: [String]) -> String? {
        let w = word.lowercased()
        let limit = 2
        var best: (candidate: String, score: Int, common: Int)?
        for candidate in candidates {
            let c = candidate.lowercased()
            var score = distance(w, c)
            if score > limit {
                let isPrefix = min(w.count, c.count) >= 3 && (c.hasPrefix(w) || w.hasPrefix(c))
                guard isPrefix else { continue }
                score = limit + 1
            }
            let common = zip(w, c).prefix { $0 == $1 }.count
            if let b = best, (b.score, -b.common) <= (score, -common) { continue }
            best = (candidate, score, common)
        }
        return best?.candidate
    }
}
