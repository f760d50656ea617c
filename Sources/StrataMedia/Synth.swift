import StrataCore
import Foundation

/// An 8-bit RGB image held in memory, rows top to bottom, pixels interleaved R, G, B.
public struct RGBImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// `width * height * 3` bytes.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// Deterministic synthetic media for demos and tests: same arguments, same bytes. No I/O.
public enum Synth {
    /// The shapes `shape(_:size:night:blur:seed:)` can draw.
    public enum Shape: String, CaseIterable, Sendable {
        case circle, square, triangle
    }

    /// A `size` x `size` image of one filled shape on a plain background.
    ///
    /// `seed` jitters the shape's centre, size and colour and the background colour.
    /// `night` darkens the whole scene to about a quarter of its brightness.
    /// `blur` is a box-blur radius in pixels applied twice (close to a gaussian); 0 keeps edges sharp.
    public static func shape(_ shape: Shape, size: Int, night: Bool, blur: Int, seed: UInt64) -> RGBImage {
        precondition(size > 0, "size must be positive")
        var rng = SplitMix64(seed: seed)
        let s = Double(size)
        let cx = s * rng.unit(0.35, 0.65)
        let cy = s * rng.unit(0.35, 0.65)
        let r = s * rng.unit(0.15, 0.30)
        let background: [Double] = [rng.unit(150, 230), rng.unit(170, 240), rng.unit(190, 250)]
        // A saturated foreground: one strong channel, others low, so shape and background differ.
        let strong = Int(rng.next() % 3)
        var foreground = (0..<3).map { _ in rng.unit(10, 90) }
        foreground[strong] = rng.unit(180, 255)
        let dim = night ? 0.25 : 1.0

        var pixels = [UInt8](repeating: 0, count: size * size * 3)
        let triangleTop = cy - r
        for y in 0..<size {
            let py = Double(y) + 0.5
            for x in 0..<size {
                let px = Double(x) + 0.5
                let inside: Bool
                switch shape {
                case .circle:
                    inside = (px - cx) * (px - cx) + (py - cy) * (py - cy) <= r * r
                case .square:
                    inside = abs(px - cx) <= r && abs(py - cy) <= r
                case .triangle:
                    // Apex at the top, base of width 2r at cy + r.
                    let t = (py - triangleTop) / (2 * r)
                    inside = t >= 0 && t <= 1 && abs(px - cx) <= r * t
                }
                let colour = inside ? foreground : background
                let o = (y * size + x) * 3
                for c in 0..<3 {
                    pixels[o + c] = UInt8(max(0, min(255, (colour[c] * dim).rounded())))
                }
            }
        }
        if blur > 0 {
            for _ in 0..<2 {
                boxBlur(&pixels, width: size, height: size, radius: blur, horizontal: true)
                boxBlur(&pixels, width: size, height: size, radius: blur, horizontal: false)
            }
        }
        return RGBImage(width: size, height: size, pixels: pixels)
    }

    /// A mono sine tone in [-1, 1]: `amplitude * sin(2 pi f t)` plus uniform noise of
    /// peak `noise` (seeded), clipped. `Int(seconds * sampleRate)` samples.
    public static func tone(frequency: Double, seconds: Double, sampleRate: Int, amplitude: Double,
                            noise: Double, seed: UInt64) -> [Float] {
        precondition(sampleRate > 0 && seconds >= 0, "sampleRate must be positive, seconds non-negative")
        var rng = SplitMix64(seed: seed)
        let count = Int(seconds * Double(sampleRate))
        let step = 2 * Double.pi * frequency / Double(sampleRate)
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count {
            var v = amplitude * sin(step * Double(i))
            if noise > 0 { v += noise * rng.unit(-1, 1) }
            out[i] = Float(max(-1, min(1, v)))
        }
        return out
    }

    /// One pass of a running-sum box blur along rows or columns, edges clamped.
    private static func boxBlur(_ p: inout [UInt8], width: Int, height: Int, radius: Int, horizontal: Bool) {
        let lines = horizontal ? height : width
        let length = horizontal ? width : height
        let window = 2 * radius + 1
        var line = [Int](repeating: 0, count: length)
        for l in 0..<lines {
            for c in 0..<3 {
                func index(_ i: Int) -> Int {
                    (horizontal ? (l * width + i) : (i * width + l)) * 3 + c
                }
                for i in 0..<length { line[i] = Int(p[index(i)]) }
                var sum = 0
                for k in -radius...radius { sum += line[min(max(k, 0), length - 1)] }
                for i in 0..<length {
                    p[index(i)] = UInt8((sum + window / 2) / window)
                    sum += line[min(i + radius + 1, length - 1)] - line[max(i - radius, 0)]
                }
            }
        }
    }
}
