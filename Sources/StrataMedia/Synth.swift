import StrataQuality
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
    /// `textured`: the background is a `scene` (gradient, blobs, noise) instead of one colour, so that photos of
    /// the same shape differ as real photos do (plain backgrounds make every circle look alike to perceptual hashes).
    public static func shape(_ shape: Shape, size: Int, night: Bool, blur: Int, seed: UInt64, textured: Bool = false) -> RGBImage {
        precondition(size > 0, "size must be positive")
        let scenery = textured ? scene(width: size, height: size, seed: seed ^ 0x5EED_5EED) : nil
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
                let o = (y * size + x) * 3
                for c in 0..<3 {
                    let v = inside ? foreground[c] : (scenery.map { Double($0.pixels[o + c]) } ?? background[c])
                    pixels[o + c] = UInt8(max(0, min(255, (v * dim).rounded())))
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

extension Synth {
    /// A `width` x `height` scene: a two-colour gradient background, 6-11 filled circles and rectangles in random
    /// colours, and fine seeded noise. Different seeds give visibly different images (what near-duplicate tests
    /// and benchmarks need as "distinct" items).
    public static func scene(width: Int, height: Int, seed: UInt64) -> RGBImage {
        precondition(width > 0 && height > 0)
        var rng = SplitMix64(seed: seed)
        let c0 = (0..<3).map { _ in rng.unit(0, 255) }, c1 = (0..<3).map { _ in rng.unit(0, 255) }
        let angle = rng.unit(0, 2 * Double.pi)
        let (ax, ay) = (cos(angle), sin(angle))
        struct Blob { var circle: Bool; var x, y, rx, ry: Double; var colour: [Double] }
        let blobs = (0..<(6 + Int(rng.next() % 6))).map { _ in
            Blob(circle: rng.next() % 2 == 0, x: rng.unit(0, 1), y: rng.unit(0, 1), rx: rng.unit(0.05, 0.25), ry: rng.unit(0.05, 0.25),
                 colour: (0..<3).map { _ in rng.unit(0, 255) })
        }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let v = (Double(y) + 0.5) / Double(height)
            for x in 0..<width {
                let u = (Double(x) + 0.5) / Double(width)
                let t = max(0, min(1, 0.5 + ((u - 0.5) * ax + (v - 0.5) * ay)))
                var r = c0[0] * (1 - t) + c1[0] * t, g = c0[1] * (1 - t) + c1[1] * t, bl = c0[2] * (1 - t) + c1[2] * t
                for b in blobs {
                    let dx = (u - b.x) / b.rx, dy = (v - b.y) / b.ry
                    if b.circle ? dx * dx + dy * dy <= 1 : (abs(dx) <= 1 && abs(dy) <= 1) { r = b.colour[0]; g = b.colour[1]; bl = b.colour[2] }
                }
                let noise = rng.unit(-6, 6)
                let o = (y * width + x) * 3
                pixels[o] = UInt8(max(0, min(255, (r + noise).rounded())))
                pixels[o + 1] = UInt8(max(0, min(255, (g + noise).rounded())))
                pixels[o + 2] = UInt8(max(0, min(255, (bl + noise).rounded())))
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// A melody in [-1, 1]: notes of random pitch (MIDI 48-84) and length (0.12-0.45 s), each with three
    /// harmonics and a short attack and release, plus light seeded noise; `Int(seconds * sampleRate)` samples.
    public static func melody(seconds: Double, sampleRate: Int, amplitude: Double = 0.5, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        let count = Int(seconds * Double(sampleRate))
        var out = [Float](repeating: 0, count: count)
        var start = 0
        while start < count {
            let length = Int(rng.unit(0.12, 0.45) * Double(sampleRate))
            let midi = 48 + Double(rng.next() % 37)
            let f = 440 * pow(2, (midi - 69) / 12)
            let edge = max(1, sampleRate / 100)
            for i in 0..<min(length, count - start) {
                let t = Double(i) / Double(sampleRate)
                let env = min(1, Double(i) / Double(edge), Double(length - i) / Double(edge))
                var v = sin(2 * Double.pi * f * t) + 0.5 * sin(4 * Double.pi * f * t) + 0.25 * sin(6 * Double.pi * f * t)
                v *= amplitude / 1.75 * env
                out[start + i] = Float(v + 0.005 * rng.unit(-1, 1))
            }
            start += length
        }
        return out
    }
}

extension RGBImage {
    /// Area-average resampling to `width` x `height` (for generated variants: resized copies).
    public func resized(width w: Int, height h: Int) -> RGBImage {
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for c in 0..<3 {
            let channel = GrayImage(width: width, height: height, pixels: (0..<(width * height)).map { Float(pixels[$0 * 3 + c]) })
            let r = channel.resized(width: w, height: h).pixels
            for i in 0..<(w * h) { out[i * 3 + c] = UInt8(max(0, min(255, r[i].rounded()))) }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }

    /// The rectangle `x, y, w, h` (for generated variants: cropped copies).
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> RGBImage {
        var out = [UInt8]()
        out.reserveCapacity(w * h * 3)
        for row in y..<(y + h) { out += pixels[((row * width + x) * 3)..<((row * width + x + w) * 3)] }
        return RGBImage(width: w, height: h, pixels: out)
    }

    /// Every channel times `factor` plus `offset`, clamped (for generated variants: brightness changed).
    public func adjusted(factor: Double, offset: Double) -> RGBImage {
        RGBImage(width: width, height: height, pixels: pixels.map { UInt8(max(0, min(255, (Double($0) * factor + offset).rounded()))) })
    }
}
