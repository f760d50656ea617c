/// Multi-index hashing (Norouzi, Punjani and Fleet) over 64- or 128-bit codes: finds every pair within a Hamming distance
/// without comparing all pairs.
///
/// The code is cut into m chunks of 16 bits (4 per 64-bit word). If two codes differ in at most `d` bits, at least one
/// chunk differs in at most `d / m` bits (pigeonhole). Each chunk has a table of 65,536 buckets (a counting sort, no
/// hashing); a query probes, in every chunk, each bucket within radius `d / m` of its own chunk value (137 buckets
/// per chunk at radius 2, 697 at radius 3) and verifies the candidates it finds. Cost: O(n) to build,
/// O(n * probes + candidates) to search, instead of n^2 / 2 comparisons.
public struct HammingIndex: Sendable {
    /// 16-bit chunks per 64-bit word.
    public static let chunksPerWord = 4
    /// `words` 64-bit words per item, item after item.
    let codes: [UInt64]
    public let words: Int
    let count: Int
    let radius: Int
    /// Per indexed chunk: bucket start offsets (65,537 entries) and the item indexes sorted by chunk value.
    var starts: [[Int32]] = []
    var members: [[Int32]] = []
    let chunks: [Int]
    let masks: [UInt16]

    /// - Parameters:
    ///   - codes: `words` 64-bit words per item (a 128-bit code is two words); the distance is over all its bits.
    ///   - maxDistance: the largest Hamming distance searched for.
    ///   - chunks: the 16-bit chunks (0..<4*words) this index covers. Splitting the chunks over several indexes (one
    ///     per partition) splits the search; the union of their pairs is the complete answer.
    public init(codes: [UInt64], words: Int = 1, maxDistance: Int, chunks: [Int]? = nil) {
        precondition(words >= 1 && codes.count % words == 0 && maxDistance >= 0 && maxDistance < 64 * words)
        self.codes = codes
        self.words = words
        count = codes.count / words
        let total = words * HammingIndex.chunksPerWord
        self.chunks = chunks ?? Array(0..<total)
        radius = maxDistance / total
        let r = radius
        masks = (0...UInt16.max).filter { $0.nonzeroBitCount <= r }
        for c in self.chunks {
            var bucketCount = [Int32](repeating: 0, count: 65_537)
            for i in 0..<count { bucketCount[Int(chunk(i, c)) + 1] += 1 }
            for k in 1..<bucketCount.count { bucketCount[k] += bucketCount[k - 1] }
            var fill = bucketCount
            var order = [Int32](repeating: 0, count: count)
            for i in 0..<count {
                let v = Int(chunk(i, c))
                order[Int(fill[v])] = Int32(i)
                fill[v] += 1
            }
            starts.append(bucketCount)
            members.append(order)
        }
    }

    @inline(__always) func chunk(_ item: Int, _ c: Int) -> UInt16 {
        UInt16(truncatingIfNeeded: codes[item * words + c / HammingIndex.chunksPerWord] >> (16 * UInt64(c % HammingIndex.chunksPerWord)))
    }

    /// The Hamming distance between two items over all their words.
    @inline(__always) public func distance(_ a: Int, _ b: Int) -> Int {
        var d = 0
        for w in 0..<words { d += (codes[a * words + w] ^ codes[b * words + w]).nonzeroBitCount }
        return d
    }

    /// Every pair (i, j), i < j, that shares a probed bucket in one of this index's chunks and passes `confirm`.
    /// A pair is reported once per index. `confirm` typically checks `distance(i, j) <= maxDistance`.
    public func pairs(confirm: (Int, Int) -> Bool) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        var stamp = [Int32](repeating: -1, count: count)
        for i in 0..<count {
            let i32 = Int32(i)
            for (slot, c) in chunks.enumerated() {
                let v = chunk(i, c)
                starts[slot].withUnsafeBufferPointer { st in
                    members[slot].withUnsafeBufferPointer { mem in
                        for m in masks {
                            let b = Int(v ^ m)
                            var k = Int(st[b])
                            let end = Int(st[b + 1])
                            while k < end {
                                let j = mem[k]
                                k += 1
                                // Only partners before i (buckets are in index order): each unordered pair is
                                // examined from its larger member.
                                if j >= i32 { break }
                                if stamp[Int(j)] == i32 { continue }
                                stamp[Int(j)] = i32
                                if confirm(Int(j), i) { out.append((Int(j), i)) }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}

/// One-call near-duplicate clustering of images by perceptual hashes, for tests, benchmarks and inputs that fit in
/// memory. The pipeline's `dedup.near` uses the same pieces, split into annotate / pair / decide tasks.
public enum ImageDuplicates {
    /// Which hashes are compared: one of them (64 bits), or both (128 bits, distances added).
    public enum HashKind: String, Sendable, CaseIterable {
        case phash, dhash, both

        /// The default largest distance: 24 of 128 bits for `both`, 12 of 64 for one hash. Measured on generated
        /// scenes: variants (resized, JPEG quality 35, brightness +15%+20, 3% cropped per side) reach 24 (sum), and
        /// distinct scenes start at 41.
        public var defaultMaxDistance: Int { self == .both ? 24 : 12 }
        public var words: Int { self == .both ? 2 : 1 }
    }

    /// The words of one image's code for `kind`.
    @inline(__always)
    public static func code(_ h: (d: UInt64, p: UInt64), kind: HashKind) -> [UInt64] {
        switch kind {
        case .phash: [h.p]
        case .dhash: [h.d]
        case .both: [h.d, h.p]
        }
    }

    /// The distance `kind` compares: one hash's Hamming distance, or the sum of both.
    @inline(__always)
    public static func distance(_ a: (d: UInt64, p: UInt64), _ b: (d: UInt64, p: UInt64), kind: HashKind) -> Int {
        switch kind {
        case .phash: PerceptualHash.distance(a.p, b.p)
        case .dhash: PerceptualHash.distance(a.d, b.d)
        case .both: PerceptualHash.distance(a.p, b.p) + PerceptualHash.distance(a.d, b.d)
        }
    }

    /// An index over the images' codes (optionally only some chunks, for one partition).
    public static func index(hashes: [(d: UInt64, p: UInt64)], kind: HashKind, maxDistance: Int, chunks: [Int]? = nil) -> HammingIndex {
        HammingIndex(codes: hashes.flatMap { code($0, kind: kind) }, words: kind.words, maxDistance: maxDistance, chunks: chunks)
    }

    /// Pairs within `maxDistance`, i < j.
    public static func pairs(hashes: [(d: UInt64, p: UInt64)], kind: HashKind, maxDistance: Int) -> [(Int, Int)] {
        let idx = index(hashes: hashes, kind: kind, maxDistance: maxDistance)
        return idx.pairs { idx.distance($0, $1) <= maxDistance }
    }

    /// Clusters of two or more (members sorted, clusters ordered by first member): the transitive closure of pairs.
    public static func clusters(hashes: [(d: UInt64, p: UInt64)], kind: HashKind, maxDistance: Int) -> [[Int]] {
        var uf = UnionFind(count: hashes.count)
        for (i, j) in pairs(hashes: hashes, kind: kind, maxDistance: maxDistance) { uf.union(i, j) }
        return uf.groups().filter { $0.count >= 2 }
    }
}
