import Foundation

/// Near-duplicate verification of images on their pixels, after perceptual hashes have proposed candidates.
///
/// Each image keeps a 32x32 gray thumbnail of what a person sees (transparent images composited first, see
/// `composite`). Two thumbnails are compared by Pearson correlation (blind to brightness and contrast changes),
/// maximized over alignments (after a 3x3 blur that evens out compression artefacts and noise): shifts of up to one pixel, and a crop of half a pixel to three pixels per side (in half-pixel
/// steps) of either thumbnail scaled back to 32x32 (a crop or resize of the original changes the scale by that much). Whether a
/// correlation is close enough depends on the data: two rendered 3s of different fonts correlate at 0.97 and are
/// different samples, two photos at 0.97 are the same scene. So the accept threshold is relative to the source
/// (the idea of cleanlab's Datalab near-duplicate check): a pair is a near duplicate when its distance
/// (1 - correlation) is at most `ratio` times the median nearest-neighbour distance among the source's images,
/// never more than `maxDistance` and never less than `minDistance`.
public enum PixelMatch {
    public static let side = 32

    /// A transparent image as a person sees it: gray composited over white (what viewers and most converters
    /// show), or over black when the visible content is so light (mean gray of the opaque parts 200 or more) that
    /// white would hide it. A black drawing on a transparent background stays a drawing (many files store
    /// transparent pixels as black, and dropping alpha makes them blank). `alpha` is 0...255 per pixel; a fully
    /// transparent image becomes uniform white.
    public static func composite(gray: [Float], alpha: [Float], width: Int, height: Int) -> GrayImage {
        var weight = 0.0, sum = 0.0
        for i in 0..<gray.count {
            let a = Double(alpha[i]) / 255
            weight += a; sum += a * Double(gray[i])
        }
        let background: Float = weight > 0 && sum / weight >= 200 ? 0 : 255
        var out = [Float](repeating: 0, count: gray.count)
        for i in 0..<gray.count {
            let a = min(1, max(0, alpha[i] / 255))
            out[i] = gray[i] * a + background * (1 - a)
        }
        return GrayImage(width: width, height: height, pixels: out)
    }

    /// The 32x32 thumbnail kept for verification, 0...255 per pixel (area average, aspect ratio ignored).
    public static func thumbnail(_ image: GrayImage) -> [UInt8] {
        image.resized(width: side, height: side).pixels.map { UInt8(max(0, min(255, $0.rounded()))) }
    }

    /// Pearson correlation of two thumbnails at one shift (b moved by dx, dy), over their overlap; 0 when either
    /// part is flat (no contrast to correlate).
    static func correlation(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>, dx: Int, dy: Int) -> Double {
        var sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, n = 0
        for y in max(0, -dy)..<min(side, side - dy) {
            let ra = y * side, rb = (y + dy) * side
            for x in max(0, -dx)..<min(side, side - dx) {
                let u = Int(a[ra + x]), v = Int(b[rb + x + dx])
                sa += u; sb += v; saa += u * u; sbb += v * v; sab += u * v; n += 1
            }
        }
        let nn = Double(n)
        let va = Double(saa) - Double(sa) * Double(sa) / nn, vb = Double(sbb) - Double(sb) * Double(sb) / nn
        guard va > nn * 1e-3, vb > nn * 1e-3 else { return 0 }
        return (Double(sab) - Double(sa) * Double(sb) / nn) / (va * vb).squareRoot()
    }

    /// A 3x3 box blur: compression ringing and pixel noise average out, shapes stay (edges are clamped).
    static func smoothed(_ t: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: t.count)
        for y in 0..<side {
            for x in 0..<side {
                var sum = 0, n = 0
                for yy in max(0, y - 1)...min(side - 1, y + 1) {
                    for xx in max(0, x - 1)...min(side - 1, x + 1) { sum += Int(t[yy * side + xx]); n += 1 }
                }
                out[y * side + x] = UInt8((sum + n / 2) / n)
            }
        }
        return out
    }

    /// `t` zoomed in by cutting `crop` pixels (fractions allowed) from each side, resampled bilinearly back to
    /// the full size. A crop of the original by a few percent is a zoom of its thumbnail by a fraction of a pixel,
    /// so whole-pixel steps alone miss it.
    static func zoomed(_ t: [UInt8], _ crop: Double) -> [UInt8] {
        if crop == 0 { return t }
        let scale = (Double(side) - 2 * crop) / Double(side)
        var out = [UInt8](repeating: 0, count: side * side)
        for y in 0..<side {
            let fy = min(Double(side - 1), max(0, crop + (Double(y) + 0.5) * scale - 0.5))
            let y0 = Int(fy), y1 = min(side - 1, y0 + 1), wy = fy - Double(y0)
            for x in 0..<side {
                let fx = min(Double(side - 1), max(0, crop + (Double(x) + 0.5) * scale - 0.5))
                let x0 = Int(fx), x1 = min(side - 1, x0 + 1), wx = fx - Double(x0)
                let top = Double(t[y0 * side + x0]) * (1 - wx) + Double(t[y0 * side + x1]) * wx
                let bottom = Double(t[y1 * side + x0]) * (1 - wx) + Double(t[y1 * side + x1]) * wx
                out[y * side + x] = UInt8(max(0, min(255, (top * (1 - wy) + bottom * wy).rounded())))
            }
        }
        return out
    }

    /// Crops tried per side, in thumbnail pixels: half-pixel steps up to 3 (about 9% of the side; the
    /// benchmark's 4% crops of 44-64 px images land between whole pixels).
    static let cropSteps: [Double] = [0.5, 1, 1.5, 2, 2.5, 3]

    /// A thumbnail made ready for comparisons: blurred, and its crops (`cropSteps` up to `maxCrop` pixels per
    /// side) scaled back, computed once.
    public struct Prepared: Sendable {
        /// Index 0: the blurred thumbnail; index k: cropped by `cropSteps[k - 1]` from each side.
        let variants: [[UInt8]]
        public init(_ t: [UInt8], maxCrop: Int = 3) {
            guard t.count == PixelMatch.side * PixelMatch.side else { variants = []; return }
            let s = PixelMatch.smoothed(t)
            variants = [s] + PixelMatch.cropSteps.filter { $0 <= Double(maxCrop) }.map { PixelMatch.zoomed(s, $0) }
        }
    }

    /// The best correlation over alignments: shifts of up to `maxShift` pixels either way, and crops of up to
    /// `maxCrop` pixels per side of either thumbnail (scaled back).
    public static func similarity(_ a: [UInt8], _ b: [UInt8], maxShift: Int = 1, maxCrop: Int = 3) -> Double {
        similarity(Prepared(a, maxCrop: maxCrop), Prepared(b, maxCrop: maxCrop), maxShift: maxShift)
    }

    public static func similarity(_ a: Prepared, _ b: Prepared, maxShift: Int = 1) -> Double {
        guard !a.variants.isEmpty, !b.variants.isEmpty else { return 0 }
        var pairs: [([UInt8], [UInt8])] = [(a.variants[0], b.variants[0])]
        for c in 1..<min(a.variants.count, b.variants.count) {
            pairs.append((a.variants[c], b.variants[0])); pairs.append((a.variants[0], b.variants[c]))
        }
        var best = -1.0
        for (x, y) in pairs {
            x.withUnsafeBufferPointer { pa in
                y.withUnsafeBufferPointer { pb in
                    for dy in -maxShift...maxShift {
                        for dx in -maxShift...maxShift { best = max(best, correlation(pa, pb, dx: dx, dy: dy)) }
                    }
                }
            }
        }
        return best
    }

    /// Pearson correlation of two equal-length vectors (0 when either is flat).
    public static func pearson(_ a: [Float], _ b: [Float]) -> Double {
        guard a.count == b.count, !a.isEmpty else { return 0 }
        var sa = 0.0, sb = 0.0, saa = 0.0, sbb = 0.0, sab = 0.0
        for i in 0..<a.count {
            let x = Double(a[i]), y = Double(b[i])
            sa += x; sb += y; saa += x * x; sbb += y * y; sab += x * y
        }
        let n = Double(a.count)
        let va = saa - sa * sa / n, vb = sbb - sb * sb / n
        guard va > 0, vb > 0 else { return 0 }
        return (sab - sa * sb / n) / (va * vb).squareRoot()
    }

    /// Whether a thumbnail has something to correlate: a standard deviation of at least 2 gray levels. The
    /// premultiplied layer of black ink on a transparent background is all zeros and has not.
    public static func hasContrast(_ t: [UInt8]) -> Bool {
        guard !t.isEmpty else { return false }
        var s = 0.0, ss = 0.0
        for v in t { let x = Double(v); s += x; ss += x * x }
        let n = Double(t.count)
        return ss / n - (s / n) * (s / n) >= 4
    }

    /// 1 - `similarity`: 0 for the same picture, about 1 for unrelated ones.
    public static func distance(_ a: [UInt8], _ b: [UInt8]) -> Double { 1 - similarity(a, b) }

    /// The median distance from an image to its nearest neighbour among `thumbnails`, estimated on up to
    /// `queries` images spread evenly over the list (each against all others: the unshifted correlation picks its
    /// 4 closest, which are then aligned). Nil with fewer than 2 images.
    public static func medianNeighbourDistance(_ thumbnails: [[UInt8]], queries: Int = 100) -> Double? {
        medianNeighbourDistance(thumbnails, prepared: thumbnails.map { Prepared($0) }, queries: queries)
    }

    public static func medianNeighbourDistance(_ thumbnails: [[UInt8]], prepared: [Prepared], queries: Int = 100) -> Double? {
        medianNeighbourDistance(thumbnails, queries: queries) { 1 - similarity(prepared[$0], prepared[$1]) }
    }

    /// The same, with the aligned distance of two images (by position in `thumbnails`) given by `distance`.
    public static func medianNeighbourDistance(_ thumbnails: [[UInt8]], queries: Int = 100, distance: (Int, Int) -> Double) -> Double? {
        let n = thumbnails.count
        guard n >= 2 else { return nil }
        let step = max(1, n / queries)
        var nearest: [Double] = []
        for q in stride(from: 0, to: n, by: step) {
            var top: [(Double, Int)] = []
            thumbnails[q].withUnsafeBufferPointer { pq in
                for j in 0..<n where j != q {
                    let c = thumbnails[j].withUnsafeBufferPointer { correlation(pq, $0, dx: 0, dy: 0) }
                    if top.count < 4 || c > top[top.count - 1].0 {
                        top.append((c, j)); top.sort { $0.0 > $1.0 }
                        if top.count > 4 { top.removeLast() }
                    }
                }
            }
            nearest.append(top.map { distance(q, $0.1) }.min() ?? 1)
        }
        nearest.sort()
        let m = nearest.count
        return m % 2 == 1 ? nearest[m / 2] : (nearest[m / 2 - 1] + nearest[m / 2]) / 2
    }

    /// The largest distance accepted in a source whose median nearest-neighbour distance is `median` (nil: a
    /// source of one image, where `maxDistance` applies).
    public static func acceptDistance(median: Double?, ratio: Double, minDistance: Double, maxDistance: Double) -> Double {
        guard let median else { return maxDistance }
        return max(minDistance, min(maxDistance, ratio * median))
    }
}
