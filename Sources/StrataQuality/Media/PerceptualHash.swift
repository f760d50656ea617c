import Foundation

/// A grayscale image held as floats in 0...255, rows top to bottom. The pure input of the image hashes and
/// image quality signals; StrataMedia decodes files into it.
public struct GrayImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// `width * height` values.
    public var pixels: [Float]

    public init(width: Int, height: Int, pixels: [Float]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height, "pixels must hold width*height values")
        self.width = width; self.height = height; self.pixels = pixels
    }

    /// Area-average resampling to `w` x `h` (each output pixel is the mean of the input area it covers, with
    /// fractional edge weights), ignoring the aspect ratio, as perceptual hashes do.
    public func resized(width w: Int, height h: Int) -> GrayImage {
        precondition(w > 0 && h > 0)
        if w == width && h == height { return self }
        let xw = GrayImage.weights(from: width, to: w)
        let yw = GrayImage.weights(from: height, to: h)
        // Rows first (width -> w), then columns (height -> h).
        var tmp = [Float](repeating: 0, count: w * height)
        for y in 0..<height {
            let row = y * width
            for (ox, list) in xw.enumerated() {
                var s: Float = 0
                for (ix, wt) in list { s += pixels[row + ix] * wt }
                tmp[y * w + ox] = s
            }
        }
        var out = [Float](repeating: 0, count: w * h)
        for (oy, list) in yw.enumerated() {
            for x in 0..<w {
                var s: Float = 0
                for (iy, wt) in list { s += tmp[iy * w + x] * wt }
                out[oy * w + x] = s
            }
        }
        return GrayImage(width: w, height: h, pixels: out)
    }

    /// For each output index, the input indexes it covers with normalized weights.
    static func weights(from n: Int, to m: Int) -> [[(Int, Float)]] {
        let scale = Double(n) / Double(m)
        return (0..<m).map { o in
            let a = Double(o) * scale, b = Double(o + 1) * scale
            var list: [(Int, Float)] = []
            var i = Int(a.rounded(.down))
            while Double(i) < b && i < n {
                let overlap = min(b, Double(i + 1)) - max(a, Double(i))
                if overlap > 1e-9 { list.append((i, Float(overlap / scale))) }
                i += 1
            }
            return list
        }
    }
}

/// Perceptual image hashes: 64-bit codes whose Hamming distance is small for images that look alike
/// (resized, recompressed, brightness changed, slightly cropped) and large for different images.
public enum PerceptualHash {
    /// Difference hash: the image is reduced to 9x8 (area average); bit `8*row + col` is set when the pixel is
    /// brighter than its left neighbour. Invariant to brightness and contrast changes that keep the order of
    /// neighbouring pixels.
    public static func dHash(_ image: GrayImage) -> UInt64 {
        let small = image.resized(width: 9, height: 8).pixels
        var h: UInt64 = 0
        var bit: UInt64 = 0
        for y in 0..<8 {
            for x in 0..<8 {
                if small[y * 9 + x + 1] > small[y * 9 + x] { h |= 1 << bit }
                bit += 1
            }
        }
        return h
    }

    /// DCT hash: the image is reduced to 32x32, its 2-D DCT-II is taken, and of the 8x8 lowest frequencies each
    /// bit is set when the coefficient is above their median (the DC term is left out of the median, since it is
    /// only the mean brightness). Robust to scaling, recompression and moderate brightness change.
    public static func pHash(_ image: GrayImage) -> UInt64 {
        let n = 32, k = 8
        let p = image.resized(width: n, height: n).pixels
        let c = cosTable
        // Rows: 8 coefficients per row of 32.
        var rows = [Float](repeating: 0, count: n * k)
        for y in 0..<n {
            for u in 0..<k {
                var s: Float = 0
                for x in 0..<n { s += p[y * n + x] * c[u * n + x] }
                rows[y * k + u] = s
            }
        }
        var coef = [Float](repeating: 0, count: k * k)
        for v in 0..<k {
            for u in 0..<k {
                var s: Float = 0
                for y in 0..<n { s += rows[y * k + u] * c[v * n + y] }
                coef[v * k + u] = s
            }
        }
        let sorted = coef.dropFirst().sorted()
        let median = (sorted[31] + sorted[32]) / 2
        var h: UInt64 = 0
        for i in 0..<64 where coef[i] > median { h |= 1 << UInt64(i) }
        return h
    }

    /// cos((2x + 1) u pi / 64) for u in 0..<8, x in 0..<32.
    static let cosTable: [Float] = {
        var t = [Float](repeating: 0, count: 8 * 32)
        for u in 0..<8 { for x in 0..<32 { t[u * 32 + x] = Float(cos(Double(2 * x + 1) * Double(u) * Double.pi / 64)) } }
        return t
    }()

    @inline(__always) public static func distance(_ a: UInt64, _ b: UInt64) -> Int { (a ^ b).nonzeroBitCount }

    /// 16 lower-case hex digits.
    public static func hex(_ h: UInt64) -> String {
        let s = String(h, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    /// Parses 16 hex digits from `bytes` starting at `offset` (nil when malformed).
    public static func parseHex<C: Collection>(_ bytes: C, offset: Int) -> UInt64? where C.Element == UInt8, C.Index == Int {
        guard bytes.count >= offset + 16 else { return nil }
        var v: UInt64 = 0
        let start = bytes.startIndex + offset
        for i in start..<(start + 16) {
            let c = bytes[i]
            let d: UInt64
            switch c {
            case 0x30...0x39: d = UInt64(c - 0x30)
            case 0x61...0x66: d = UInt64(c - 0x61 + 10)
            default: return nil
            }
            v = v << 4 | d
        }
        return v
    }
}
