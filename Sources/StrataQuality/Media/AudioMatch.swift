import Foundation

/// Comparison of Chromaprint fingerprints (one 32-bit value per 0.124 s frame), robust to gain (Chromaprint works
/// on normalized chroma features) and to trimming (the fingerprints are aligned at the best offset).
public enum AudioMatch {
    /// The best alignment of two fingerprints: the share of equal bits over the overlapping frames, maximized over
    /// offsets up to `maxOffset` frames either way, counting only offsets whose overlap is at least `minOverlap`
    /// frames (and at least half the shorter fingerprint). Unrelated audio scores about 0.5-0.65; the same audio
    /// gained, trimmed or re-encoded about 0.85-1.
    public static func similarity(_ a: [UInt32], _ b: [UInt32], maxOffset: Int, minOverlap: Int) -> (score: Double, offset: Int) {
        guard !a.isEmpty, !b.isEmpty else { return (0, 0) }
        let need = max(minOverlap, min(a.count, b.count) / 2, 1)
        var best = (score: 0.0, offset: 0)
        for offset in -maxOffset...maxOffset {
            // b is shifted by `offset` frames: a[i] pairs with b[i - offset].
            let lo = max(0, offset), hi = min(a.count, b.count + offset)
            let overlap = hi - lo
            if overlap < need { continue }
            var errors = 0
            for i in lo..<hi { errors += (a[i] ^ b[i - offset]).nonzeroBitCount }
            let s = 1 - Double(errors) / Double(32 * overlap)
            if s > best.score { best = (s, offset) }
        }
        return best
    }

    /// Index keys of a fingerprint: the two 16-bit halves of every frame value, tagged with the half. Two
    /// fingerprints of the same audio have many frames that differ in a few bits, so one half is often equal.
    public static func keys(_ fp: [UInt32]) -> [UInt32] {
        var out = Set<UInt32>()
        for v in fp {
            out.insert(v >> 16)
            out.insert(0x1_0000 | (v & 0xFFFF))
        }
        return out.sorted()
    }

    /// Candidate pairs (i < j) sharing at least `minShared` keys, through an inverted index; keys held by more than
    /// `maxBucket` items (silence, steady tones) are skipped, which bounds the work. The pairs still need
    /// `similarity` to confirm them.
    public static func candidates(_ fingerprints: [[UInt32]], minShared: Int, maxBucket: Int) -> [(Int, Int)] {
        var index: [UInt32: [Int32]] = [:]
        let keyLists = fingerprints.map(keys)
        for (i, ks) in keyLists.enumerated() { for k in ks { index[k, default: []].append(Int32(i)) } }
        var out: [(Int, Int)] = []
        var shared: [Int32: Int] = [:]
        for (i, ks) in keyLists.enumerated() {
            shared.removeAll(keepingCapacity: true)
            for k in ks {
                guard let list = index[k], list.count <= maxBucket else { continue }
                for j in list where j < Int32(i) { shared[j, default: 0] += 1 }
            }
            for (j, n) in shared where n >= minShared { out.append((Int(j), i)) }
        }
        return out.sorted { $0 < $1 }
    }
}

/// Loudness, silence and clipping of mono samples in [-1, 1]. Pure; StrataMedia decodes files into samples.
public struct AudioSignals: Sendable, Equatable {
    public var seconds: Double
    /// Share of 20 ms windows whose RMS is below the silence level.
    public var silentFraction: Double
    /// Share of samples at or above the clipping level in magnitude.
    public var clippedFraction: Double
    public var peak: Double
    /// RMS over the whole clip, in dBFS (-inf for digital silence).
    public var rmsDB: Double

    public static func analyze(_ samples: [Float], sampleRate: Int, silenceDB: Double, clipLevel: Double) -> AudioSignals {
        let window = max(1, sampleRate / 50)
        let threshold = pow10(silenceDB / 20)
        var windows = 0, silent = 0, clipped = 0
        var peak: Float = 0
        var total = 0.0
        var start = 0
        let clip = Float(clipLevel)
        while start < samples.count {
            let end = min(samples.count, start + window)
            var sum = 0.0
            for i in start..<end {
                let v = samples[i]
                sum += Double(v * v)
                let m = abs(v)
                if m > peak { peak = m }
                if m >= clip { clipped += 1 }
            }
            total += sum
            if (sum / Double(end - start)).squareRoot() < threshold { silent += 1 }
            windows += 1
            start = end
        }
        let rms = samples.isEmpty ? 0 : (total / Double(samples.count)).squareRoot()
        return AudioSignals(seconds: Double(samples.count) / Double(max(1, sampleRate)),
                            silentFraction: windows == 0 ? 1 : Double(silent) / Double(windows),
                            clippedFraction: samples.isEmpty ? 0 : Double(clipped) / Double(samples.count),
                            peak: Double(peak), rmsDB: rms > 0 ? 20 * log10d(rms) : -.infinity)
    }

    /// The sample range left after trimming leading and trailing 10 ms windows whose RMS is below `silenceDB`,
    /// keeping `padSeconds` of the silence on each side. Empty when every window is silent.
    public static func trimmedRange(_ samples: [Float], sampleRate: Int, silenceDB: Double, padSeconds: Double) -> Range<Int> {
        let window = max(1, sampleRate / 100)
        let threshold = pow10(silenceDB / 20)
        func loud(_ start: Int) -> Bool {
            let end = min(samples.count, start + window)
            var sum = 0.0
            for i in start..<end { sum += Double(samples[i] * samples[i]) }
            return (sum / Double(max(1, end - start))).squareRoot() >= threshold
        }
        var first = -1, last = -1
        var s = 0
        while s < samples.count { if loud(s) { first = s; break }; s += window }
        guard first >= 0 else { return 0..<0 }
        s = ((samples.count - 1) / window) * window
        while s >= 0 { if loud(s) { last = min(samples.count, s + window); break }; s -= window }
        let pad = Int(padSeconds * Double(sampleRate))
        return max(0, first - pad)..<min(samples.count, last + pad)
    }
}

/// Brightness spread and sharpness of a grayscale image. Pure; StrataMedia decodes files into `GrayImage`.
public struct ImageSignals: Sendable, Equatable {
    public var mean: Double
    /// Standard deviation of the gray levels (0...255): near 0 for blank or single-colour images.
    public var stddev: Double
    /// Variance of the 4-neighbour Laplacian (Pech-Pacheco et al.): low for blurred images. Depends on scale, so
    /// it is measured on a fixed analysis size.
    public var laplacianVariance: Double

    public static func analyze(_ g: GrayImage) -> ImageSignals {
        var sum = 0.0, sq = 0.0
        for v in g.pixels { sum += Double(v); sq += Double(v) * Double(v) }
        let n = Double(g.pixels.count)
        let mean = sum / n
        let variance = max(0, sq / n - mean * mean)
        var lsum = 0.0, lsq = 0.0, count = 0.0
        if g.width >= 3 && g.height >= 3 {
            let w = g.width
            g.pixels.withUnsafeBufferPointer { p in
                for y in 1..<(g.height - 1) {
                    for x in 1..<(w - 1) {
                        let i = y * w + x
                        let l = Double(p[i - 1] + p[i + 1] + p[i - w] + p[i + w] - 4 * p[i])
                        lsum += l; lsq += l * l; count += 1
                    }
                }
            }
        }
        let lmean = count > 0 ? lsum / count : 0
        return ImageSignals(mean: mean, stddev: variance.squareRoot(), laplacianVariance: count > 0 ? max(0, lsq / count - lmean * lmean) : 0)
    }
}

@inline(__always) func pow10(_ x: Double) -> Double { exp(x * 2.302585092994046) }
@inline(__always) func log10d(_ x: Double) -> Double { log(x) / 2.302585092994046 }
