/// Multi-index hashing (Norouzi, Punjani and Fleet) over 64-bit codes: finds every pair within a Hamming distance
/// without comparing all pairs.
///
/// The code is cut into 4 chunks of 16 bits. If two codes differ in at most `d` bits, at least one chunk differs in
/// at most `d / 4` bits (pigeonhole). Each chunk has a table of 65,536 buckets (a counting sort, no hashing); a query
/// probes, in every chunk, each bucket within radius `d / 4` of its own chunk value (137 buckets per chunk for
/// d = 8...11) and verifies the candidates it finds. Cost: O(n) to build, O(n * probes + candidates) to search.
public struct HammingIndex: Sendable {
    public static let chunkCount = 4
    let codes: [UInt64]
    let radius: Int
    /// Per chunk: bucket start offsets (65,537 entries) and the item indexes sorted by chunk value.
    var starts: [[Int32]] = []
    var members: [[Int32]] = []
    let chunks: [Int]
    let masks: [UInt16]

    /// - Parameters:
    ///   - codes: one code per item.
    ///   - maxDistance: the largest Hamming distance searched for (0...63).
    ///   - chunks: the chunks (0..<4) this index covers. Splitting the chunks over several indexes (one per
    ///     partition) splits the search; the union of their pairs is the complete answer.
    public init(codes: [UInt64], maxDistance: Int, chunks: [Int] = Array(0..<HammingIndex.chunkCount)) {
        precondition(maxDistance >= 0 && maxDistance < 64)
        self.codes = codes
        self.chunks = chunks
        radius = maxDistance / HammingIndex.chunkCount
        masks = (0...UInt16.max).filter { $0.nonzeroBitCount <= maxDistance / HammingIndex.chunkCount }
        for c in chunks {
            var count = [Int32](repeating: 0, count: 65_537)
            for code in codes { count[Int(HammingIndex.chunk(code, c)) + 1] += 1 }
            for i in 1..<count.count { count[i] += count[i - 1] }
            var fill = count
            var order = [Int32](repeating: 0, count: codes.count)
            for (i, code) in codes.enumerated() {
                let v = Int(HammingIndex.chunk(code, c))
                order[Int(fill[v])] = Int32(i)
                fill[v] += 1
            }
            starts.append(count)
            members.append(order)
        }
    }

    @inline(__always) static func chunk(_ code: UInt64, _ c: Int) -> UInt16 { UInt16(truncatingIfNeeded: code >> (16 * UInt64(c))) }

    /// Every pair (i, j), i < j, that shares a probed bucket in one of this index's chunks and passes `confirm`.
    /// A pair is reported once per index. `confirm` typically checks the Hamming distance of the full codes (and of
    /// any second hash).
    public func pairs(confirm: (Int, Int) -> Bool) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        var stamp = [Int32](repeating: -1, count: codes.count)
        for i in 0..<codes.count {
            let i32 = Int32(i)
            for (slot, c) in chunks.enumerated() {
                let v = HammingIndex.chunk(codes[i], c)
                starts[slot].withUnsafeBufferPointer { st in
                    members[slot].withUnsafeBufferPointer { mem in
                        for m in masks {
                            let b = Int(v ^ m)
                            var k = Int(st[b])
                            let end = Int(st[b + 1])
                            while k < end {
                                let j = mem[k]
                                k += 1
                                // Only partners before i: each unordered pair is examined from its larger member.
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
    /// Which hashes must agree.
    public enum HashKind: String, Sendable, CaseIterable {
        case phash, dhash, both
    }

    /// Whether two images are near duplicates: each selected hash within `maxDistance` bits.
    @inline(__always)
    public static func match(_ a: (d: UInt64, p: UInt64), _ b: (d: UInt64, p: UInt64), kind: HashKind, maxDistance: Int) -> Bool {
        switch kind {
        case .phash: return PerceptualHash.distance(a.p, b.p) <= maxDistance
        case .dhash: return PerceptualHash.distance(a.d, b.d) <= maxDistance
        case .both: return PerceptualHash.distance(a.p, b.p) <= maxDistance && PerceptualHash.distance(a.d, b.d) <= maxDistance
        }
    }

    /// Confirmed pairs over all chunks, i < j.
    public static func pairs(hashes: [(d: UInt64, p: UInt64)], kind: HashKind, maxDistance: Int) -> [(Int, Int)] {
        let index = HammingIndex(codes: hashes.map { kind == .dhash ? $0.d : $0.p }, maxDistance: maxDistance)
        return index.pairs { match(hashes[$0], hashes[$1], kind: kind, maxDistance: maxDistance) }
    }

    /// Clusters of two or more (members sorted, clusters ordered by first member): the transitive closure of pairs.
    public static func clusters(hashes: [(d: UInt64, p: UInt64)], kind: HashKind, maxDistance: Int) -> [[Int]] {
        var uf = UnionFind(count: hashes.count)
        for (i, j) in pairs(hashes: hashes, kind: kind, maxDistance: maxDistance) { uf.union(i, j) }
        return uf.groups().filter { $0.count >= 2 }
    }
}
