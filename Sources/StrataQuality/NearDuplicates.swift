/// One-call near-duplicate clustering for tests, benchmarks and inputs that fit in memory.
/// The pipeline uses the same pieces (`Shingler`, `MinHasher`, `LSH`, `UnionFind`) so it can shard:
/// sign in parallel, bucket by band key, verify candidates with `LSH.estimatedJaccard`, union.
public enum NearDuplicates {
    /// Clusters of near-duplicate texts (indices into `texts`): only clusters of two or more, members
    /// sorted, clusters ordered by first member. A pair is merged when it shares a band key and its estimated
    /// Jaccard is at least `config.threshold`; clusters are the transitive closure of merged pairs.
    /// Texts without any letter or digit (no shingles) are never clustered here; exact dedup handles them.
    public static func clusters(texts: [String], config: MinHashConfig) -> [[Int]] {
        let hasher = MinHasher(config: config)
        let signatures = texts.map { hasher.signature(Shingler.shingles($0, n: config.ngram, mode: config.shingle)) }
        let usable = signatures.map { sig in sig.contains { $0 != .max } }
        return clusters(signatures: signatures, include: usable, config: config)
    }

    /// Clusters from precomputed signatures (all made by one `MinHasher`). `include[i] == false` leaves
    /// document i out (for example empty texts).
    public static func clusters(signatures: [[UInt32]], include: [Bool]? = nil, config: MinHashConfig) -> [[Int]] {
        var entries: [(key: UInt64, doc: Int32)] = []
        entries.reserveCapacity(signatures.count * config.bands)
        for (i, sig) in signatures.enumerated() where include?[i] ?? true {
            for key in LSH.bandKeys(sig, bands: config.bands) { entries.append((key, Int32(i))) }
        }
        entries.sort { $0.key != $1.key ? $0.key < $1.key : $0.doc < $1.doc }
        var uf = UnionFind(count: signatures.count)
        var start = 0
        while start < entries.count {
            var end = start + 1
            while end < entries.count && entries[end].key == entries[start].key { end += 1 }
            if end - start > 1 {
                for j in (start + 1)..<end {
                    let dj = Int(entries[j].doc)
                    for i in start..<j {
                        let di = Int(entries[i].doc)
                        if di == dj || uf.find(di) == uf.find(dj) { continue }
                        if LSH.estimatedJaccard(signatures[di], signatures[dj]) >= config.threshold {
                            uf.union(di, dj)
                        }
                    }
                }
            }
            start = end
        }
        return uf.groups().filter { $0.count >= 2 }
    }
}
