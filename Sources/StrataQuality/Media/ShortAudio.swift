import Foundation

/// A signature for clips too short for Chromaprint (spoken words, single notes): a log-mel spectrogram of the
/// clip's sound (leading and trailing quiet frames cut), compared by normalized cross-correlation at the best
/// time lag.
///
/// The input is mono at 8 kHz (`sampleRate`), so the same clip resampled to 8 kHz and back has the same
/// signature; 48 mel bands from 60 Hz to 3.8 kHz (fine enough to resolve a voice's harmonics, so another pitch
/// differs), frames of 64 ms every 16 ms. Each value is the band's log
/// energy in dB relative to the clip's loudest band value, clamped at -60 dB and stored as one byte (0 = -60 dB,
/// 240 = the maximum): a gain change moves every value by the same amount and cancels; noise 30 dB below the
/// signal only fills the quietest cells. Trimming and padding with silence change only the cut quiet frames
/// and the lag. The same word by another voice has other formants; at another speed, another length and a
/// time-stretched pattern: both correlate well below a copy.
public enum ShortAudio {
    public static let sampleRate = 8000
    public static let bands = 48
    static let frame = 512, hop = 128
    static let floorDB = 60.0

    /// The signature: `bands` bytes per frame, frame after frame. Empty for a clip with no sound.
    public static func signature(_ mono: [Float]) -> [UInt8] {
        guard mono.count >= frame else { return [] }
        let window = (0..<frame).map { Float(0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(frame))) }
        let filters = melFilters
        var rows: [[Double]] = []
        var re = [Float](repeating: 0, count: frame), im = [Float](repeating: 0, count: frame)
        var start = 0
        while start + frame <= mono.count {
            for i in 0..<frame { re[i] = mono[start + i] * window[i]; im[i] = 0 }
            fft(&re, &im)
            var row = [Double](repeating: 0, count: bands)
            for (b, f) in filters.enumerated() {
                var e = 0.0
                for (k, w) in f { e += Double(w) * Double(re[k] * re[k] + im[k] * im[k]) }
                row[b] = 10 * log10(e + 1e-12)
            }
            rows.append(row)
            start += hop
        }
        let peak = rows.map { $0.max()! }.max() ?? -120
        // Frames whose loudest band is 40 dB under the clip's peak are silence: cut them at both ends.
        guard let first = rows.firstIndex(where: { $0.max()! > peak - 40 }),
              let last = rows.lastIndex(where: { $0.max()! > peak - 40 }) else { return [] }
        var out: [UInt8] = []
        out.reserveCapacity((last - first + 1) * bands)
        for r in rows[first...last] {
            for v in r { out.append(UInt8(max(0, min(240, (v - peak + floorDB) * 4)))) }
        }
        return out
    }

    /// The similarity of two signatures: the correlation of their overlapping frames at the best lag (up to
    /// `maxLag` frames either way), counting only lags whose overlap covers at least `minOverlap` of the longer
    /// clip. Both overlaps are double-centred first (each band's mean and each frame's mean removed), so what is
    /// compared is the fine time-frequency pattern, not the spectral envelope or the loudness contour that every
    /// recording of a word or an instrument shares: copies correlate near 1, another voice or speed much lower.
    public static func similarity(_ a: [UInt8], _ b: [UInt8], maxLag: Int = 12, minOverlap: Double = 0.85) -> Double {
        let na = a.count / bands, nb = b.count / bands
        guard na > 0, nb > 0 else { return 0 }
        let need = Int((Double(max(na, nb)) * minOverlap).rounded(.up))
        var best = 0.0
        for lag in -maxLag...maxLag {
            // a's frame i pairs with b's frame i - lag.
            let lo = max(0, lag), hi = min(na, nb + lag)
            if hi - lo < need || hi - lo < 2 { continue }
            let x = centred(a, frames: lo..<hi), y = centred(b, frames: (lo - lag)..<(hi - lag))
            var sxy = 0.0, sxx = 0.0, syy = 0.0
            for k in 0..<x.count { sxy += x[k] * y[k]; sxx += x[k] * x[k]; syy += y[k] * y[k] }
            guard sxx > 0, syy > 0 else { continue }
            best = max(best, sxy / (sxx * syy).squareRoot())
        }
        return best
    }

    /// The waveform check for two clips (mono at `sampleRate`): the peak of their normalized cross-correlation over
    /// every time lag, interpolated to a quarter of a sample (the product spectrum is zero-padded 4x before the
    /// inverse transform), so a trim by a fraction of a sample at 8 kHz does not lower it. Only variants of one
    /// recording (gain, trim or padding, re-encoding, resampling, noise well below the signal) keep the same
    /// waveform: they score near 1 (noise at 30 dB SNR about 0.999, a trim that cuts 30 ms of a 0.3 s note about
    /// 0.95). The same word by another voice, pitch or speed, or the same note on another take, has other phases
    /// and periods and scores far lower (0.75 at most between the words benchmark's voices, 0.83 between its
    /// notes), even where the log-mel patterns agree. 0 when either clip is silent.
    public static func waveformCorrelation(_ a: [Float], _ b: [Float]) -> Double {
        guard !a.isEmpty, !b.isEmpty else { return 0 }
        var ea = 0.0, eb = 0.0
        for v in a { ea += Double(v) * Double(v) }
        for v in b { eb += Double(v) * Double(v) }
        guard ea > 0, eb > 0 else { return 0 }
        var n = 1
        while n < a.count + b.count { n <<= 1 }
        var ar = [Float](repeating: 0, count: n), ai = [Float](repeating: 0, count: n)
        var br = [Float](repeating: 0, count: n), bi = [Float](repeating: 0, count: n)
        // Scaled to unit energy so the single-precision transform keeps its range.
        let sa = Float(1 / ea.squareRoot()), sb = Float(1 / eb.squareRoot())
        for (k, v) in a.enumerated() { ar[k] = v * sa }
        for (k, v) in b.enumerated() { br[k] = v * sb }
        fft(&ar, &ai)
        fft(&br, &bi)
        // The cross spectrum A * conj(B) placed in a 4n spectrum (positive frequencies low, negative high, the
        // Nyquist bin split between both), inverted by the forward transform of its conjugate.
        let up = 4, m = n * up
        var pr = [Float](repeating: 0, count: m), pi = [Float](repeating: 0, count: m)
        for k in 0..<n {
            let re = ar[k] * br[k] + ai[k] * bi[k], im = ai[k] * br[k] - ar[k] * bi[k]
            if k < n / 2 {
                pr[k] = re; pi[k] = -im
            } else if k > n / 2 {
                pr[m - n + k] = re; pi[m - n + k] = -im
            } else {
                pr[k] = re / 2; pi[k] = -im / 2
                pr[m - n / 2] = re / 2; pi[m - n / 2] = -im / 2
            }
        }
        fft(&pr, &pi)
        var best: Float = 0
        for v in pr where v > best { best = v }
        return min(1, Double(best) / Double(n))
    }

    /// The frames `range` of a signature with each band's mean and each frame's mean removed.
    static func centred(_ s: [UInt8], frames range: Range<Int>) -> [Double] {
        let n = range.count
        var m = [Double](repeating: 0, count: n * bands)
        var bandMean = [Double](repeating: 0, count: bands), frameMean = [Double](repeating: 0, count: n)
        var all = 0.0
        for (r, i) in range.enumerated() {
            for k in 0..<bands {
                let v = Double(s[i * bands + k])
                m[r * bands + k] = v; bandMean[k] += v; frameMean[r] += v; all += v
            }
        }
        all /= Double(n * bands)
        for k in 0..<bands { bandMean[k] /= Double(n) }
        for r in 0..<n { frameMean[r] /= Double(bands) }
        for r in 0..<n { for k in 0..<bands { m[r * bands + k] -= bandMean[k] + frameMean[r] - all } }
        return m
    }

    /// The median distance (1 - `similarity`) from a clip to its nearest neighbour, estimated on up to `queries`
    /// clips spread over the list; each is compared in full with the 4 clips whose `profile` is closest. Nil with
    /// fewer than 2 clips.
    public static func medianNeighbourDistance(_ sigs: [[UInt8]], profiles: [[Float]], queries: Int = 200) -> Double? {
        let n = sigs.count
        guard n >= 2 else { return nil }
        var nearest: [Double] = []
        for q in stride(from: 0, to: n, by: max(1, n / queries)) {
            var top: [(Double, Int)] = []
            for j in 0..<n where j != q {
                let c = PixelMatch.pearson(profiles[q], profiles[j])
                if top.count < 4 || c > top[top.count - 1].0 {
                    top.append((c, j)); top.sort { $0.0 > $1.0 }
                    if top.count > 4 { top.removeLast() }
                }
            }
            nearest.append(top.map { 1 - similarity(sigs[q], sigs[$0.1]) }.min() ?? 1)
        }
        nearest.sort()
        let m = nearest.count
        return m % 2 == 1 ? nearest[m / 2] : (nearest[m / 2 - 1] + nearest[m / 2]) / 2
    }

    /// The mean over frames of each band: a cheap summary for finding candidate pairs.
    public static func profile(_ s: [UInt8]) -> [Float] {
        let n = s.count / bands
        var out = [Float](repeating: 0, count: bands)
        guard n > 0 else { return out }
        for i in 0..<n { for k in 0..<bands { out[k] += Float(s[i * bands + k]) } }
        return out.map { $0 / Float(n) }
    }

    /// Triangular mel filters over the 257 bins of a 512-point FFT at 8 kHz: (bin, weight) lists.
    static let melFilters: [[(Int, Float)]] = {
        func mel(_ f: Double) -> Double { 2595 * log10(1 + f / 700) }
        func hz(_ m: Double) -> Double { 700 * (pow(10, m / 2595) - 1) }
        let lo = mel(60), hi = mel(3800)
        let edges = (0...(bands + 1)).map { hz(lo + (hi - lo) * Double($0) / Double(bands + 1)) }
        let binHz = Double(sampleRate) / Double(frame)
        return (0..<bands).map { b in
            var list: [(Int, Float)] = []
            for k in 0...(frame / 2) {
                let f = Double(k) * binHz
                let w = f < edges[b + 1] ? (f - edges[b]) / (edges[b + 1] - edges[b]) : (edges[b + 2] - f) / (edges[b + 2] - edges[b + 1])
                if w > 0 { list.append((k, Float(w))) }
            }
            if list.isEmpty { list.append((Int((edges[b + 1] / binHz).rounded()), 1)) }
            return list
        }
    }()

    /// In-place radix-2 FFT (the length must be a power of two).
    static func fft(_ re: inout [Float], _ im: inout [Float]) {
        let n = re.count
        var j = 0
        for i in 1..<n {
            var bit = n >> 1
            while j & bit != 0 { j ^= bit; bit >>= 1 }
            j |= bit
            if i < j { re.swapAt(i, j); im.swapAt(i, j) }
        }
        var len = 2
        while len <= n {
            let angle = -2 * Double.pi / Double(len)
            let wr = Float(cos(angle)), wi = Float(sin(angle))
            var i = 0
            while i < n {
                var cr: Float = 1, ci: Float = 0
                for k in 0..<(len / 2) {
                    let ur = re[i + k], ui = im[i + k]
                    let xr = re[i + k + len / 2] * cr - im[i + k + len / 2] * ci
                    let xi = re[i + k + len / 2] * ci + im[i + k + len / 2] * cr
                    re[i + k] = ur + xr; im[i + k] = ui + xi
                    re[i + k + len / 2] = ur - xr; im[i + k + len / 2] = ui - xi
                    let t = cr * wr - ci * wi
                    ci = cr * wi + ci * wr; cr = t
                }
                i += len
            }
            len <<= 1
        }
    }
}
