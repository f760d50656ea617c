import Foundation
import StrataCore
import XCTest
@testable import StrataQuality

final class MinHashTests: XCTestCase {
    func testWordShinglesAreCaseAndPunctuationInsensitive() {
        let a = Shingler.shingles("The quick brown fox jumps over the lazy dog", n: 5, mode: .words)
        let b = Shingler.shingles("the QUICK, brown fox -- jumps over the lazy dog!", n: 5, mode: .words)
        XCTAssertEqual(a.count, 5)
        XCTAssertEqual(a, b)
        XCTAssertEqual(Shingler.shingles("Привет Мир", n: 5, mode: .words), Shingler.shingles("привет мир", n: 5, mode: .words))
        XCTAssertEqual(Shingler.shingles("Crème brûlée", n: 2, mode: .words),
                       Shingler.shingles("Cre\u{300}me bru\u{302}le\u{301}e", n: 2, mode: .words), "NFD is normalized")
        XCTAssertEqual(Shingler.shingles("too short", n: 5, mode: .words).count, 1, "fewer than n words: one shingle")
        XCTAssertEqual(Shingler.shingles(" ... ", n: 5, mode: .words), [])
    }

    func testAutoModeChoosesCharactersForCJK() {
        XCTAssertEqual(Shingler.resolvedMode("東京都は日本の首都であり、世界最大の都市圏を持つ。"), .characters)
        XCTAssertEqual(Shingler.resolvedMode("ภาษาไทยเขียนโดยไม่มีช่องว่างระหว่างคำ"), .characters)
        XCTAssertEqual(Shingler.resolvedMode("한국어는 단어 사이에 띄어쓰기를 합니다"), .words)
        XCTAssertEqual(Shingler.resolvedMode("한국어는단어사이에띄어쓰기를하지않았습니다"), .characters)
        XCTAssertEqual(Shingler.resolvedMode("Plain English with one word 東京"), .words)
    }

    func testCJKNearDuplicatePairIsFound() {
        let base = "東京都は日本の首都であり、政治、経済、文化の中心地である。人口は約千四百万人で、世界有数の大都市として知られている。"
            + "江戸時代には江戸と呼ばれ、徳川幕府が置かれた。明治維新の後に東京と改名され、天皇が京都から移った。"
            + "現在では鉄道網が非常に発達しており、多くの人々が毎日電車で通勤している。観光客にも人気の都市である。"
        let near = base.replacingOccurrences(of: "約千四百万人", with: "約千四百二十万人")
        let other = "大阪は日本第二の都市圏の中心であり、商業の町として古くから栄えてきた。食文化が豊かで、たこ焼きやお好み焼きが有名である。"
            + "大阪城は豊臣秀吉によって築かれ、現在は公園として市民に親しまれている。関西国際空港は海上に建設された空港である。"
        let config = MinHashConfig()
        XCTAssertEqual(Shingler.resolvedMode(base), .characters)
        XCTAssertEqual(Shingler.shingles(base, n: 5, mode: .words).count, 9, "as words: 13 phrases between punctuation, 9 shingles")
        XCTAssertGreaterThan(Shingler.shingles(base, n: 5, mode: .auto).count, 130)
        let clusters = NearDuplicates.clusters(texts: [other, base, "unrelated english text about rivers and hills", near], config: config)
        XCTAssertEqual(clusters, [[1, 3]])
        let h = MinHasher(config: config)
        XCTAssertGreaterThan(LSH.estimatedJaccard(h.signature(text: base), h.signature(text: near)), 0.8)
        XCTAssertLessThan(LSH.estimatedJaccard(h.signature(text: base), h.signature(text: other)), 0.2)
    }

    func testSignaturesAreDeterministicAndSeeded() {
        let text = "a stable text about deterministic signatures that should never change between runs or machines"
        let s1 = MinHasher(config: MinHashConfig()).signature(text: text)
        let s2 = MinHasher(config: MinHashConfig()).signature(text: text)
        XCTAssertEqual(s1, s2)
        XCTAssertEqual(s1.count, 128)
        var other = MinHashConfig()
        other.seed = 2
        XCTAssertNotEqual(MinHasher(config: other).signature(text: text), s1)
        XCTAssertEqual(LSH.bandKeys(s1, bands: 16), LSH.bandKeys(s2, bands: 16))
        XCTAssertEqual(LSH.bandKeys(s1, bands: 16).count, 16)
        XCTAssertEqual(Set(LSH.bandKeys([UInt32](repeating: 7, count: 128), bands: 16)).count, 16, "band index is mixed in")
        XCTAssertEqual(MinHasher(config: MinHashConfig()).signature([]), [UInt32](repeating: .max, count: 128))
    }

    func testEstimatedJaccardTracksTrueJaccard() {
        var rng = SplitMix64(seed: 11)
        let hasher = MinHasher(config: MinHashConfig())
        var worst = 0.0
        for target in [0.2, 0.5, 0.8, 0.95] {
            // Two sets of random shingles with a known overlap.
            let shared = (0..<Int(400 * target)).map { _ in rng.next() }
            let onlyA = (0..<Int(200 * (1 - target))).map { _ in rng.next() }
            let onlyB = (0..<Int(200 * (1 - target))).map { _ in rng.next() }
            let a = shared + onlyA, b = shared + onlyB
            let truth = Double(shared.count) / Double(shared.count + onlyA.count + onlyB.count)
            let est = LSH.estimatedJaccard(hasher.signature(a), hasher.signature(b))
            worst = max(worst, abs(est - truth))
            XCTAssertEqual(est, truth, accuracy: 0.1, "target \(target)")
        }
        // And on text: the estimate of an edited document.
        let corpus = SyntheticCorpus(seed: 5, bases: 20, edited: [(0.5, 0.6...0.9)], unrelated: 0)
        // Each estimate within 4 standard deviations (sqrt(J(1-J)/128), at most 0.044); on average within 0.05.
        var totalError = 0.0
        for v in corpus.variants {
            let est = LSH.estimatedJaccard(hasher.signature(text: corpus.texts[v.doc]), hasher.signature(text: corpus.texts[v.base]))
            XCTAssertEqual(est, v.jaccard, accuracy: 4 * (v.jaccard * (1 - v.jaccard) / 128).squareRoot())
            totalError += abs(est - v.jaccard)
        }
        XCTAssertGreaterThanOrEqual(corpus.variants.count, 8)
        XCTAssertLessThan(totalError / Double(corpus.variants.count), 0.05)
        XCTAssertLessThan(worst, 0.1)
        XCTAssertEqual(LSH.candidateProbability(jaccard: 0.8, bands: 16, rows: 8), 0.947, accuracy: 0.001)
    }

    func testUnionFindGroups() {
        var uf = UnionFind(count: 7)
        uf.union(0, 3); uf.union(4, 3); uf.union(5, 6)
        XCTAssertFalse(uf.union(0, 4))
        XCTAssertEqual(uf.find(4), uf.find(0))
        XCTAssertNotEqual(uf.find(1), uf.find(0))
        XCTAssertEqual(uf.groups(), [[0, 3, 4], [1], [2], [5, 6]])
        var empty = UnionFind(count: 0)
        XCTAssertEqual(empty.groups(), [])
    }

    func testExactKeyIgnoresCaseWhitespaceAndComposition() {
        let key = ExactKey.normalizedHash("Crème Brûlée\trecipe")
        XCTAssertEqual(key.count, 32)
        XCTAssertEqual(ExactKey.normalizedHash("  crème   brûlée \n RECIPE "), key)
        XCTAssertEqual(ExactKey.normalizedHash("Cre\u{300}me Bru\u{302}le\u{301}e recipe"), key, "NFD equals NFC")
        XCTAssertNotEqual(ExactKey.normalizedHash("creme brulee recipe"), key)
        XCTAssertNotEqual(ExactKey.normalizedHash("crème brûlée recipes"), key)
        // FNV-1a-128 test vector: the empty string is the offset basis.
        XCTAssertEqual(ExactKey.normalizedHash("   "), "6c62272e07bb014262b821756295c58d")
        XCTAssertEqual(ExactKey.normalizedHash("a"), "d228cb696f1a8caf78912b704e4a8964")
        XCTAssertEqual(ExactKey.normalizedHash(" A\t"), ExactKey.normalizedHash("a"), "ASCII fast path lower-cases too")
        XCTAssertEqual(ExactKey.normalizedHash("Hello  World\u{A0}é"), ExactKey.normalizedHash("hello world É"))
    }

    func testDuplicateTextsClusterAndEmptyTextsDoNot() {
        let t = "the same support message about a broken invoice and a refund that never arrived in my account"
        let clusters = NearDuplicates.clusters(texts: [t, "", t.uppercased(), "!!!", "something else entirely different here"], config: MinHashConfig())
        XCTAssertEqual(clusters, [[0, 2]])
    }
}

final class MinHashKernelTests: XCTestCase {
    /// The formula of `MinHasher`, written out in Swift: min over shingles of (a * x32 + b) >> 32.
    private func reference(_ shingles: [UInt64], seed: UInt64, k: Int) -> [UInt32] {
        var rng = SplitMix64(seed: seed)
        var a = [UInt64](), b = [UInt64]()
        for _ in 0..<k { a.append(rng.next() | 1); b.append(rng.next()) }
        var sig = [UInt32](repeating: .max, count: k)
        for x64 in shingles {
            let x = UInt64(UInt32(truncatingIfNeeded: x64 ^ (x64 >> 32)))
            for i in 0..<k { sig[i] = min(sig[i], UInt32(truncatingIfNeeded: (a[i] &* x &+ b[i]) >> 32)) }
        }
        return sig
    }

    /// The C loop (whichever instruction-set variant this CPU runs) gives exactly the reference values, for
    /// permutation counts that do and do not fill whole vector registers.
    func testVectorisedSignatureEqualsTheFormula() {
        var rng = SplitMix64(seed: 99)
        for k in [1, 7, 13, 64, 128, 200, 256] {
            for n in [0, 1, 3, 250] {
                let shingles = (0..<n).map { _ in rng.next() }
                let config = MinHashConfig(permutations: k, bands: 1, seed: 5)
                XCTAssertEqual(MinHasher(config: config).signature(shingles), reference(shingles, seed: 5, k: k), "k \(k), n \(n)")
            }
        }
    }

    func testEstimatedJaccardCountsEqualPositions() {
        let a: [UInt32] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]
        var b = a
        b[0] = 0; b[16] = 0; b[8] = 0
        XCTAssertEqual(LSH.estimatedJaccard(a, b), 14.0 / 17.0)
        XCTAssertEqual(LSH.estimatedJaccard(a, a), 1)
        XCTAssertEqual(LSH.estimatedJaccard(a, [1, 2]), 0, "mismatched lengths")
    }

    func testExactKeyFromBytesEqualsKeyFromText() {
        for text in ["Hello  World\n", "  crème   brûlée \n RECIPE ", "Cre\u{300}me", "", "\t\t", "東京 都", "MiXeD 123 !?"] {
            XCTAssertEqual(ExactKey.normalizedHash(bytes: Array(text.utf8)), ExactKey.normalizedHash(text), text)
        }
        let invalid: [UInt8] = [0x41, 0xFF, 0x42]
        XCTAssertEqual(ExactKey.normalizedHash(bytes: invalid), ExactKey.normalizedHash(String(decoding: invalid, as: UTF8.self)))
    }

    func testShingleSetJaccardEqualsTheJaccardOfTheWordNgramSets() {
        var rng = SplitMix64(seed: 5)
        for _ in 0..<50 {
            let a = (0..<(5 + rng.int(60))).map { _ in "w\(rng.int(40))" }
            var b = a
            for _ in 0..<rng.int(8) { b[rng.int(b.count)] = "w\(rng.int(40))" }
            if rng.int(2) == 0 { b.append(contentsOf: a.prefix(rng.int(10))) }  // repeated n-grams count once
            func grams(_ w: [String]) -> Set<String> {
                w.count <= 3 ? [w.joined(separator: " ")] : Set((0...(w.count - 3)).map { w[$0..<($0 + 3)].joined(separator: " ") })
            }
            let x = grams(a), y = grams(b)
            let truth = Double(x.intersection(y).count) / Double(x.union(y).count)
            let sa = Shingler.shingleSet(a.joined(separator: " "), n: 3, mode: .words)
            let sb = Shingler.shingleSet(b.joined(separator: " ").uppercased(), n: 3, mode: .words)
            XCTAssertEqual(sa.count, x.count, "one hash per distinct n-gram")
            XCTAssertEqual(sa, sa.sorted())
            XCTAssertEqual(Shingler.jaccard(sa, sb), truth, accuracy: 1e-12)
        }
        XCTAssertEqual(Shingler.jaccard([], []), 0)
    }
}
