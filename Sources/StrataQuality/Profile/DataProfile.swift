/// What a source's data looks like, per modality: the basis of `filter.quality`'s relative thresholds, printed by
/// `strata profile` and kept with every run (docs/pipeline.md, "Data profile").
///
/// Pure: the measurements come from the caller (the run driver reads the files); this file only summarises them.
public struct DataProfile: Codable, Sendable, Equatable {
    /// One entry per source and modality, sorted by source then modality.
    public var sources: [SourceProfile]

    public init(sources: [SourceProfile]) {
        self.sources = sources.sorted { ($0.source, $0.modality) < ($1.source, $1.modality) }
    }

    /// At most this many samples of a source and modality are measured: those with the smallest content hashes,
    /// a deterministic sample independent of ingest order. Medians of 2,000 samples are within a few percent.
    public static let sampleLimit = 2000

    /// What `filter.quality` compares against, per source: `{source: {image_side: N, audio_seconds: S,
    /// text_technical: 1}}` (the medians, and whether most of a text source is technical).
    /// Audio medians are rounded to 2 significant digits so that adding a few clips does not invalidate every cached
    /// quality result.
    public var stageMedians: [String: [String: Double]] {
        var out: [String: [String: Double]] = [:]
        for s in sources {
            if let i = s.image, s.measured > 0 { out[s.source, default: [:]]["image_side"] = i.shorterSide.median }
            if let a = s.audio, s.measured > 0 { out[s.source, default: [:]]["audio_seconds"] = DataProfile.twoDigits(a.seconds.median) }
            // A source whose texts are mostly technical (man pages, code) is judged as technical text throughout.
            if let t = s.text, s.measured > 0, 2 * t.technical >= s.measured { out[s.source, default: [:]]["text_technical"] = 1 }
        }
        return out
    }

    static func twoDigits(_ x: Double) -> Double {
        guard x > 0 else { return 0 }
        var scale = 1.0
        while x * scale < 10 { scale *= 10 }
        while x * scale >= 100 { scale /= 10 }
        return (x * scale).rounded() / scale
    }
}

/// The 5th percentile, median and 95th percentile of a measurement (nearest rank; the lower middle for the median).
public struct Quantiles: Codable, Sendable, Equatable {
    public var p5: Double
    public var median: Double
    public var p95: Double

    public init(_ values: [Double]) {
        let v = values.sorted()
        guard !v.isEmpty else { p5 = 0; median = 0; p95 = 0; return }
        func rank(_ q: Double) -> Double { v[min(v.count - 1, max(0, Int((q * Double(v.count)).rounded(.up)) - 1))] }
        p5 = rank(0.05); median = v[(v.count - 1) / 2]; p95 = rank(0.95)
    }
}

public struct SourceProfile: Codable, Sendable, Equatable {
    public var source: String
    public var modality: String
    /// Samples of this source and modality in the run.
    public var samples: Int
    /// Samples measured (at most `DataProfile.sampleLimit`).
    public var measured: Int
    /// Measured samples that could not be read or decoded (filtered later as `corrupt`).
    public var unreadable: Int
    public var text: TextProfile?
    public var image: ImageProfile?
    public var audio: AudioProfile?

    public init(source: String, modality: String, samples: Int, measured: Int, unreadable: Int,
                text: TextProfile? = nil, image: ImageProfile? = nil, audio: AudioProfile? = nil) {
        self.source = source; self.modality = modality; self.samples = samples; self.measured = measured
        self.unreadable = unreadable; self.text = text; self.image = image; self.audio = audio
    }
}

public struct TextProfile: Codable, Sendable, Equatable {
    /// Unicode scalars.
    public var characters: Quantiles
    /// Words as `filter.quality` counts them (each letter of a script without spaces is a word).
    public var words: Quantiles
    /// Texts per dominant script (`TextMeasure.script`).
    public var scripts: [String: Int]
    /// Texts written mostly in a script without spaces between words.
    public var unspaced: Int
    /// Texts that count as technical (`TextQualityRules.technicalTokenFraction`).
    public var technical: Int

    public init(_ measures: [TextMeasure]) {
        characters = Quantiles(measures.map { Double($0.characters) })
        words = Quantiles(measures.map { Double($0.words) })
        var scripts: [String: Int] = [:]
        for m in measures { scripts[m.script, default: 0] += 1 }
        self.scripts = scripts
        unspaced = measures.filter(\.unspaced).count
        technical = measures.filter(\.technical).count
    }
}

public struct ImageProfile: Codable, Sendable, Equatable {
    public var width: Quantiles
    public var height: Quantiles
    public var shorterSide: Quantiles
    /// Images per band count ("1" gray, "2" gray + alpha, "3" RGB, "4" RGBA or CMYK).
    public var channels: [String: Int]
    /// Images with an alpha channel.
    public var alpha: Int

    public init(_ measures: [(width: Int, height: Int, bands: Int, alpha: Bool)]) {
        width = Quantiles(measures.map { Double($0.width) })
        height = Quantiles(measures.map { Double($0.height) })
        shorterSide = Quantiles(measures.map { Double(min($0.width, $0.height)) })
        var channels: [String: Int] = [:]
        for m in measures { channels[String(m.bands), default: 0] += 1 }
        self.channels = channels
        alpha = measures.filter(\.alpha).count
    }
}

public struct AudioProfile: Codable, Sendable, Equatable {
    public var seconds: Quantiles
    /// Clips per sample rate in Hz.
    public var sampleRates: [String: Int]
    /// Clips per channel count.
    public var channels: [String: Int]
    /// Peak absolute sample value (0...1).
    public var peak: Quantiles

    public init(_ measures: [(seconds: Double, sampleRate: Int, channels: Int, peak: Double)]) {
        seconds = Quantiles(measures.map(\.seconds))
        peak = Quantiles(measures.map(\.peak))
        var rates: [String: Int] = [:], channels: [String: Int] = [:]
        for m in measures { rates[String(m.sampleRate), default: 0] += 1; channels[String(m.channels), default: 0] += 1 }
        sampleRates = rates
        self.channels = channels
    }
}

/// One text's profile measurements.
public struct TextMeasure: Sendable, Equatable {
    public var characters: Int
    public var words: Int
    /// The script most of its letters are in: latin, greek, cyrillic, arabic, hebrew, devanagari, han, kana, hangul,
    /// thai, other; "none" without letters.
    public var script: String
    public var unspaced: Bool
    public var technical: Bool

    public init(_ text: String, rules: TextQualityRules = TextQualityRules()) {
        let s = TextQuality.signals(text)
        characters = s.characterCount
        words = s.readerWordCount
        unspaced = s.isUnspaced
        technical = rules.technicalTokenFraction.map { s.isTechnical(tokens: $0) } ?? false
        var counts: [String: Int] = [:]
        for u in text.unicodeScalars where TextQuality.isLetter(u.value) {
            counts[TextMeasure.script(of: u.value), default: 0] += 1
        }
        script = counts.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key ?? "none"
    }

    static func script(of u: UInt32) -> String {
        switch u {
        case ..<0x250, 0x1E00...0x1EFF: return "latin"
        case 0x370...0x3FF, 0x1F00...0x1FFF: return "greek"
        case 0x400...0x52F: return "cyrillic"
        case 0x590...0x5FF: return "hebrew"
        case 0x600...0x6FF, 0x750...0x77F: return "arabic"
        case 0x900...0x97F: return "devanagari"
        case 0xE00...0xEFF: return "thai"
        case 0x1100...0x11FF, 0xAC00...0xD7AF, 0x3130...0x318F: return "hangul"
        case 0x3040...0x30FF, 0x31F0...0x31FF, 0xFF66...0xFF9F: return "kana"
        case 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x2FFFF: return "han"
        default: return "other"
        }
    }
}
