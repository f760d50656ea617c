import CStrataKernels
import StrataCore

/// Settings for near-duplicate detection. Defaults: 128 permutations in 16 bands of 8 rows, word 5-grams,
/// Jaccard threshold 0.8.
///
/// Why 16 x 8: the probability that a pair with Jaccard s shares at least one band is 1 - (1 - s^8)^16.
/// That is 0.947 at s = 0.80, 0.994 at 0.85 and 0.9999 at 0.90; its 50% point is (1/16)^(1/8) = 0.71 and it is
/// only 0.06 at s = 0.5, so few dissimilar pairs need verifying. Every candidate is then verified with the
/// signature estimate (`estimatedJaccard >= threshold`), which removes the false positives the low 50% point
/// lets in. The estimate has a standard deviation of sqrt(s(1-s)/128), 0.035 at s = 0.8, so pairs within a few
/// hundredths of the threshold are a coin flip whatever the banding; pairs at 0.85 and above are found at
/// 94-99%. 32 x 4 (50% point 0.42) would add candidates without changing that verification limit.
public struct MinHashConfig: Sendable, Codable, Equatable {
    public var permutations: Int = 128
    /// rows per band = permutations / bands (left-over permutations are not banded, still used for verification).
    public var bands: Int = 16
    public var ngram: Int = 5
    public var shingle: ShingleMode = .auto
    /// Candidate pairs are merged when their estimated Jaccard is at least this.
    public var threshold: Double = 0.8
    public var seed: UInt64 = 1

    public init(permutations: Int = 128, bands: Int = 16, ngram: Int = 5, shingle: ShingleMode = .auto,
                threshold: Double = 0.8, seed: UInt64 = 1) {
        self.permutations = permutations; self.bands = bands; self.ngram = ngram
        self.shingle = shingle; self.threshold = threshold; self.seed = seed
    }

    public var rowsPerBand: Int { bands > 0 ? permutations / bands : 0 }

    /// Problems with the numbers (nil when usable).
    public var problem: String? {
        if permutations < 1 { return "permutations must be at least 1 (got \(permutations))" }
        if bands < 1 || bands > permutations { return "bands must be between 1 and permutations \(permutations) (got \(bands))" }
        if ngram < 1 { return "ngram must be at least 1 (got \(ngram))" }
        if !(0...1).contains(threshold) { return "threshold must be between 0 and 1 (got \(fmt(threshold)))" }
        return nil
    }
}

/// MinHash signatures with 32-bit multiply-shift permutations: h_i(x) = (a_i * x + b_i) >> 32 over 64-bit
/// arithmetic (x the shingle hash folded to 32 bits), a_i odd, a_i and b_i drawn from SplitMix64(config.seed). Same seed, same signatures, on every
/// platform; signatures from different seeds or permutation counts are not comparable.
public struct MinHasher: Sendable {
    public let config: MinHashConfig
    private let a: [UInt64]
    private let b: [UInt64]

    public init(config: MinHashConfig) {
        self.config = config
        var rng = SplitMix64(seed: config.seed)
        let k = max(1, config.permutations)
        var a = [UInt64](), b = [UInt64]()
        a.reserveCapacity(k); b.reserveCapacity(k)
        for _ in 0..<k {
            a.append(rng.next() | 1)
            b.append(rng.next())
        }
        self.a = a; self.b = b
    }

    /// The signature of a set of shingle hashes (duplicates do not matter). No shingles: all `UInt32.max`.
    public func signature(_ shingles: [UInt64]) -> [UInt32] {
        let k = a.count
        return [UInt32](unsafeUninitializedCapacity: k) { sig, initialized in
            shingles.withUnsafeBufferPointer { xs in sign(xs, into: sig.baseAddress!) }
            initialized = k
        }
    }

    /// Writes the signature of `shingles` to `out` (`permutations` values). The loop runs in C
    /// (`strata_minhash`), compiled for AVX-512, AVX2 and the baseline; every variant gives the same values.
    public func sign(_ shingles: UnsafeBufferPointer<UInt64>, into out: UnsafeMutablePointer<UInt32>) {
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                strata_minhash(ap.baseAddress!, bp.baseAddress!, ap.count, shingles.baseAddress, shingles.count, out)
            }
        }
    }

    /// Shingles `text` with the config's n-gram size and mode, then signs it.
    public func signature(text: String) -> [UInt32] {
        signature(Shingler.shingles(text, n: config.ngram, mode: config.shingle))
    }
}

/// Locality-sensitive hashing over MinHash signatures.
public enum LSH {
    /// One 64-bit key per band; the band index is mixed in, so keys of different bands never need separating.
    /// Two signatures share a key for band j exactly when their rows of band j are equal (up to 2^-64 collisions).
    public static func bandKeys(_ sig: [UInt32], bands: Int) -> [UInt64] {
        guard bands > 0 else { return [] }
        let rows = sig.count / bands
        guard rows > 0 else { return [] }
        return sig.withUnsafeBufferPointer { s in
            (0..<bands).map { band in bandKey(UnsafeBufferPointer(rebasing: s[band * rows..<(band + 1) * rows]), band: band) }
        }
    }

    /// The key of one band from that band's rows of a signature (what `bandKeys` computes for each band).
    public static func bandKey(_ rows: UnsafeBufferPointer<UInt32>, band: Int) -> UInt64 {
        var h = fmix64(UInt64(band) &+ 0x5851_F42D_4C95_7F2D)
        var j = 0
        while j + 1 < rows.count {
            let v = UInt64(rows[j]) << 32 | UInt64(rows[j + 1])
            h = fmix64(h ^ v) &+ 0x9E37_79B9_7F4A_7C15
            j += 2
        }
        if j < rows.count { h = fmix64(h ^ UInt64(rows[j])) &+ 0x9E37_79B9_7F4A_7C15 }
        return fmix64(h)
    }

    /// Fraction of equal positions: an unbiased estimate of the Jaccard similarity of the two shingle sets
    /// (standard deviation sqrt(J(1-J)/k) for k permutations). 0 for empty or mismatched signatures.
    public static func estimatedJaccard(_ a: [UInt32], _ b: [UInt32]) -> Double {
        guard a.count == b.count, !a.isEmpty else { return 0 }
        let equal = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in strata_equal_count(pa.baseAddress!, pb.baseAddress!, pa.count) }
        }
        return Double(equal) / Double(a.count)
    }

    /// Probability that a pair with Jaccard `s` shares at least one band: 1 - (1 - s^r)^b.
    public static func candidateProbability(jaccard s: Double, bands: Int, rows: Int) -> Double {
        1 - pow1(1 - pow1(s, rows), bands)
    }

    private static func pow1(_ x: Double, _ n: Int) -> Double {
        var r = 1.0
        for _ in 0..<max(0, n) { r *= x }
        return r
    }
}
