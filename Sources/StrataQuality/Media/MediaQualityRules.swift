import Foundation

/// Thresholds of `filter.quality` for images. Every rule is optional: nil disables it.
public struct ImageQualityRules: Sendable, Codable, Equatable {
    /// Smallest width and height in pixels (after EXIF orientation).
    public var minWidth: Int? = 32
    public var minHeight: Int? = 32
    /// Longer side / shorter side.
    public var maxAspectRatio: Double? = 4
    /// Gray-level standard deviation (0...255) below which an image is near-uniform (blank, a single colour).
    public var minStddev: Double? = 4
    /// Variance of the Laplacian, measured on the image reduced to `analysisSize` on its longer side, below which
    /// it is blurred. The default suits photographs; flat synthetic images need a lower value.
    public var minSharpness: Double? = 20
    public var analysisSize: Int = 256

    public init() {}
}

/// Thresholds of `filter.quality` for audio. Every rule is optional: nil disables it.
public struct AudioQualityRules: Sendable, Codable, Equatable {
    public var minSeconds: Double? = 0.3
    /// Largest share of 20 ms windows quieter than `silenceDB`.
    public var maxSilentFraction: Double? = 0.8
    public var silenceDB: Double = -45
    /// Largest share of samples at or above `clipLevel` in magnitude.
    public var maxClippedFraction: Double? = 0.001
    public var clipLevel: Double = 0.999

    public init() {}
}

public enum MediaQualityFilter {
    public static let imageKinds = ["too-small", "extreme-aspect-ratio", "near-uniform", "blurry"]
    public static let audioKinds = ["too-short", "mostly-silence", "clipping"]

    /// The first failing image rule as (kind, reason with the measured value and the limit), or nil.
    /// `signals` may be nil when only the size rules are needed (they are checked first).
    public static func imageVerdict(width: Int, height: Int, signals: ImageSignals?, rules: ImageQualityRules) -> (kind: String, reason: String)? {
        if let w = rules.minWidth, width < w {
            return ("too-small", "width \(width) px, minimum \(w)")
        }
        if let h = rules.minHeight, height < h {
            return ("too-small", "height \(height) px, minimum \(h)")
        }
        if let maxRatio = rules.maxAspectRatio, min(width, height) > 0 {
            let ratio = Double(max(width, height)) / Double(min(width, height))
            if ratio > maxRatio { return ("extreme-aspect-ratio", "aspect ratio \(fmt(ratio)):1 (\(width)x\(height)), maximum \(fmt(maxRatio)):1") }
        }
        guard let s = signals else { return nil }
        if let lo = rules.minStddev, s.stddev < lo {
            return ("near-uniform", "gray-level standard deviation \(fmt(s.stddev)), minimum \(fmt(lo)) (blank or single-colour image)")
        }
        if let lo = rules.minSharpness, s.laplacianVariance < lo {
            return ("blurry", "variance of the Laplacian \(fmt(s.laplacianVariance)) at \(rules.analysisSize) px, minimum \(fmt(lo))")
        }
        return nil
    }

    /// The first failing audio rule as (kind, reason), or nil.
    public static func audioVerdict(_ s: AudioSignals, rules: AudioQualityRules) -> (kind: String, reason: String)? {
        if let lo = rules.minSeconds, s.seconds < lo {
            return ("too-short", "\(fmt(s.seconds)) s, minimum \(fmt(lo)) s")
        }
        if let hi = rules.maxSilentFraction, s.silentFraction > hi {
            return ("mostly-silence", "\(fmt(s.silentFraction * 100))% of 20 ms windows below \(fmt(rules.silenceDB)) dBFS, maximum \(fmt(hi * 100))%")
        }
        if let hi = rules.maxClippedFraction, s.clippedFraction > hi {
            return ("clipping", "\(fmt(s.clippedFraction * 100))% of samples at full scale (>= \(fmt(rules.clipLevel))), maximum \(fmt(hi * 100))%")
        }
        return nil
    }

    /// A score in 0...1 for keep policies: sharpness (log scale, saturating at 1000) times contrast (saturating at 40).
    public static func imageScore(_ s: ImageSignals) -> Double {
        let sharp = min(1, log(1 + s.laplacianVariance) / log(1001.0))
        let contrast = min(1, s.stddev / 40)
        return sharp * contrast
    }

    /// A score in 0...1: the non-silent share, discounted by clipping.
    public static func audioScore(_ s: AudioSignals) -> Double {
        max(0, min(1, (1 - s.silentFraction) * (1 - min(1, s.clippedFraction * 100))))
    }
}
