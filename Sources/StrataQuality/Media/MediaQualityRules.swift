import Foundation

/// Thresholds of `filter.quality` for images. Every rule is optional: nil disables it.
public struct ImageQualityRules: Sendable, Codable, Equatable {
    /// Absolute floor: smallest width and height in pixels (after EXIF orientation) any model can use. 8x8 digit
    /// scans are good data, so the floor is low; the relative rule below catches what is small for its source.
    public var minWidth: Int? = 8
    public var minHeight: Int? = 8
    /// Relative rule: an image whose shorter side is below this share of its source's median shorter side (from the
    /// run's data profile) is too small. nil disables it.
    public var minSideRatio: Double? = 0.25
    /// Longer side / shorter side.
    public var maxAspectRatio: Double? = 4
    /// Gray-level standard deviation (0...255) below which an image is near-uniform (blank, a single colour).
    public var minStddev: Double? = 4
    /// Variance of the Laplacian, measured on the image reduced to `analysisSize` on its longer side, below which
    /// it is blurred. An absolute sharpness cannot tell a smooth subject (a retina scan, sky, a crop of skin) from a
    /// blurred photo: 20 took 7 of 13 good retina crops, so the default (5) catches heavy blur only. Raise it where
    /// blur matters and the subjects are textured.
    public var minSharpness: Double? = 5
    public var analysisSize: Int = 256

    public init() {}
}

/// Thresholds of `filter.quality` for audio. Every rule is optional: nil disables it.
public struct AudioQualityRules: Sendable, Codable, Equatable {
    /// Absolute floor in seconds (a spoken word lasts 0.2-0.8 s: good data).
    public var minSeconds: Double? = 0.1
    /// Relative rule: a clip shorter than this share of its source's median duration (from the run's data profile)
    /// is too short. nil disables it.
    public var minDurationRatio: Double? = 0.1
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
    /// `medianSide`: the median shorter side of the image's source (the data profile), for the relative rule.
    public static func imageVerdict(width: Int, height: Int, signals: ImageSignals?, rules: ImageQualityRules,
                                    medianSide: Int? = nil) -> (kind: String, reason: String)? {
        if let w = rules.minWidth, width < w {
            return ("too-small", "width \(width) px, minimum \(w) px")
        }
        if let h = rules.minHeight, height < h {
            return ("too-small", "height \(height) px, minimum \(h) px")
        }
        if let ratio = rules.minSideRatio, let median = medianSide, median > 0 {
            let side = min(width, height)
            let limit = ratio * Double(median)
            if Double(side) < limit {
                return ("too-small", "\(side) px on the shorter side, this source's median is \(median) px (minimum \(fmt(ratio)) of it: \(fmt(limit)) px)")
            }
        }
        if let maxRatio = rules.maxAspectRatio, min(width, height) > 0 {
            let ratio = Double(max(width, height)) / Double(min(width, height))
            if ratio > maxRatio { return ("extreme-aspect-ratio", "aspect ratio \(fmtVs(ratio, maxRatio)):1 (\(width)x\(height)), maximum \(fmt(maxRatio)):1") }
        }
        guard let s = signals else { return nil }
        if let lo = rules.minStddev, s.stddev < lo {
            return ("near-uniform", "gray-level standard deviation \(fmtVs(s.stddev, lo)), minimum \(fmt(lo)) (blank or single-colour image)")
        }
        if let lo = rules.minSharpness, s.laplacianVariance < lo {
            return ("blurry", "variance of the Laplacian \(fmtVs(s.laplacianVariance, lo)) at \(rules.analysisSize) px, minimum \(fmt(lo))")
        }
        return nil
    }

    /// The first failing audio rule as (kind, reason), or nil.
    /// `medianSeconds`: the median duration of the clip's source (the data profile), for the relative rule.
    public static func audioVerdict(_ s: AudioSignals, rules: AudioQualityRules, medianSeconds: Double? = nil) -> (kind: String, reason: String)? {
        if let lo = rules.minSeconds, s.seconds < lo {
            return ("too-short", "\(fmtVs(s.seconds, lo)) s, minimum \(fmt(lo)) s")
        }
        if let ratio = rules.minDurationRatio, let median = medianSeconds, median > 0, s.seconds < ratio * median {
            return ("too-short", "\(fmtVs(s.seconds, ratio * median)) s, this source's median is \(fmt(median)) s (minimum \(fmt(ratio)) of it: \(fmt(ratio * median)) s)")
        }
        if let hi = rules.maxSilentFraction, s.silentFraction > hi {
            return ("mostly-silence", "\(fmtVs(s.silentFraction * 100, hi * 100))% of 20 ms windows below \(fmt(rules.silenceDB)) dBFS, maximum \(fmt(hi * 100))%")
        }
        if let hi = rules.maxClippedFraction, s.clippedFraction > hi {
            return ("clipping", "\(fmtVs(s.clippedFraction * 100, hi * 100))% of samples at full scale (>= \(fmt(rules.clipLevel))), maximum \(fmt(hi * 100))%")
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
