import Foundation
import StrataCore
import StrataMedia
import StrataQuality

/// `filter.quality` for text: repetition, symbol and word statistics with named thresholds. Sets each kept
/// item's `score` (the share of rules passed with margin), which `keep: quality` in dedup stages uses.
///
/// Images: too small, extreme aspect ratio, near-uniform (blank), blurred (variance of the Laplacian); audio: too
/// short, mostly silence, clipping. Parameters for them start with `image_` and `audio_`; a file that cannot be
/// decoded is quarantined as `corrupt`.
struct QualityFilterStage: MapStage {
    static let codeVersion = 3
    let rules: TextQualityRules
    let image: ImageQualityRules
    let audio: AudioQualityRules
    /// Per source: the data profile's medians (`image_side`, `audio_seconds`), set by the run (`source_medians`).
    let medians: [String: [String: Double]]

    /// Every rule kind, by modality, and the parameter that tunes it (for `disable` and the removal guard's advice).
    static let ruleParameters: [String: String] = [
        "too-few-words": "min_words", "too-many-words": "max_words", "mean-word-length": "min_mean_word_length / max_mean_word_length",
        "symbol-heavy": "max_symbol_word_ratio", "bullet-heavy": "max_bullet_line_fraction", "ellipsis-heavy": "max_ellipsis_line_fraction",
        "low-alpha": "min_alpha_word_fraction", "mostly-symbols": "max_symbol_char_fraction", "few-stopwords": "min_stopwords", "line-too-long": "max_line_length",
        "repetitive-lines": "max_duplicate_line_fraction", "repetitive-paragraphs": "max_duplicate_paragraph_fraction",
        "repetitive-ngrams": "max_top_ngram_fraction / max_duplicate_ngram_fraction",
        "too-small": "image_min_side_ratio (relative) / image_min_width, image_min_height (floor)",
        "extreme-aspect-ratio": "image_max_aspect_ratio", "near-uniform": "image_min_stddev", "blurry": "image_min_sharpness",
        "too-short": "audio_min_duration_ratio (relative) / audio_min_seconds (floor)", "mostly-silence": "audio_max_silent_fraction",
        "clipping": "audio_max_clipped_fraction",
    ]

    init(_ p: inout StageParams) throws {
        var r = TextQualityRules()
        if let v = try p.optionalInt("min_words") { r.minWords = v }
        if let v = try p.optionalInt("max_words", min: 1) { r.maxWords = v }
        let lo = try p.double("min_mean_word_length", default: r.meanWordLength!.lowerBound, min: 0, max: 100)
        let hi = try p.double("max_mean_word_length", default: r.meanWordLength!.upperBound, min: 0, max: 1000)
        guard lo <= hi else { throw StageError("stage `\(p.stage)`: params.min_mean_word_length (\(lo)) is above params.max_mean_word_length (\(hi))") }
        r.meanWordLength = lo...hi
        r.maxSymbolToWordRatio = try p.double("max_symbol_word_ratio", default: r.maxSymbolToWordRatio!, min: 0)
        r.maxBulletLineFraction = try p.double("max_bullet_line_fraction", default: r.maxBulletLineFraction!, min: 0, max: 1)
        r.maxEllipsisLineFraction = try p.double("max_ellipsis_line_fraction", default: r.maxEllipsisLineFraction!, min: 0, max: 1)
        r.minAlphaWordFraction = try p.double("min_alpha_word_fraction", default: r.minAlphaWordFraction!, min: 0, max: 1)
        r.maxSymbolCharFraction = try p.double("max_symbol_char_fraction", default: r.maxSymbolCharFraction!, min: 0, max: 1)
        r.maxDuplicateLineFraction = try p.double("max_duplicate_line_fraction", default: r.maxDuplicateLineFraction!, min: 0, max: 1)
        r.maxDuplicateParagraphFraction = try p.double("max_duplicate_paragraph_fraction", default: r.maxDuplicateParagraphFraction!, min: 0, max: 1)
        // One number scales Gopher's table: the 2-gram limit (3- and 4-gram limits keep Gopher's proportions).
        let top = try p.double("max_top_ngram_fraction", default: 0.20, min: 0, max: 1)
        r.maxTopNgramCharFraction = [2: top, 3: top * 0.9, 4: top * 0.8]
        // Likewise the 5-gram limit of the repeated n-gram table (6- to 10-grams go down by the same steps).
        let dup = try p.double("max_duplicate_ngram_fraction", default: 0.15, min: 0, max: 1)
        r.maxDuplicateNgramCharFraction = Dictionary(uniqueKeysWithValues: (5...10).map { ($0, dup * (1 - Double($0 - 5) / 15)) })
        r.minStopwords = try p.optionalInt("min_stopwords")
        r.maxLineLength = try p.optionalInt("max_line_length", min: 1)
        r.ratioRulesMinWords = try p.int("ratio_min_words", default: r.ratioRulesMinWords, min: 0)
        r.shapeRulesMinWords = try p.int("shape_min_words", default: r.shapeRulesMinWords, min: 0)
        r.repetitionRulesMinWords = try p.int("repetition_min_words", default: r.repetitionRulesMinWords, min: 0)
        let technical = try p.double("technical_token_fraction", default: r.technicalTokenFraction!, min: 0, max: 1)
        r.technicalTokenFraction = technical >= 1 ? nil : technical
        var i = ImageQualityRules()
        i.minWidth = try p.int("image_min_width", default: i.minWidth!, min: 0)
        i.minHeight = try p.int("image_min_height", default: i.minHeight!, min: 0)
        i.minSideRatio = try p.double("image_min_side_ratio", default: i.minSideRatio!, min: 0, max: 1)
        i.maxAspectRatio = try p.double("image_max_aspect_ratio", default: i.maxAspectRatio!, min: 1)
        i.minStddev = try p.double("image_min_stddev", default: i.minStddev!, min: 0)
        i.minSharpness = try p.double("image_min_sharpness", default: i.minSharpness!, min: 0)
        i.analysisSize = try p.int("image_analysis_size", default: i.analysisSize, min: 16, max: 4096)
        var a = AudioQualityRules()
        a.minSeconds = try p.double("audio_min_seconds", default: a.minSeconds!, min: 0)
        a.minDurationRatio = try p.double("audio_min_duration_ratio", default: a.minDurationRatio!, min: 0, max: 1)
        a.maxSilentFraction = try p.double("audio_max_silent_fraction", default: a.maxSilentFraction!, min: 0, max: 1)
        a.silenceDB = try p.double("audio_silence_db", default: a.silenceDB, min: -120, max: 0)
        a.maxClippedFraction = try p.double("audio_max_clipped_fraction", default: a.maxClippedFraction!, min: 0, max: 1)
        a.clipLevel = try p.double("audio_clip_level", default: a.clipLevel, min: 0.5, max: 1)
        // `disable: [kind, ...]` turns rules off by name.
        for kind in try p.strings("disable") {
            if r.disable(kind) { continue }
            switch kind {
            case "too-small": i.minWidth = nil; i.minHeight = nil; i.minSideRatio = nil
            case "extreme-aspect-ratio": i.maxAspectRatio = nil
            case "near-uniform": i.minStddev = nil
            case "blurry": i.minSharpness = nil
            case "too-short": a.minSeconds = nil; a.minDurationRatio = nil
            case "mostly-silence": a.maxSilentFraction = nil
            case "clipping": a.maxClippedFraction = nil
            default:
                let known = TextQualityFilter.kinds + MediaQualityFilter.imageKinds + MediaQualityFilter.audioKinds
                throw StageError("stage `\(p.stage)`: params.disable names `\(kind)`, not a rule; rules: \(known.joined(separator: ", "))")
            }
        }
        rules = r
        image = i
        audio = a
        var medians: [String: [String: Double]] = [:]
        for (source, value) in try p.map("source_medians") {
            guard let m = value.map else { throw StageError("stage `\(p.stage)`: params.source_medians.\(source) must be a map (set by `strata run`)") }
            medians[source] = m.compactMapValues(\.double)
        }
        self.medians = medians
    }

    func process(_ items: [WorkItem], context: StageContext) throws -> [ItemOutcome] {
        try items.map { item in
            switch item.kind {
            case .image?: return try imageOutcome(item, context: context)
            case .audio?: return try audioOutcome(item, context: context)
            default: break
            }
            let signals = TextQuality.signals(try context.text(item))
            if let (kind, reason) = TextQualityFilter.verdict(signals, rules: rules, technicalSource: medians[item.source]?["text_technical"] == 1) {
                return .reject(item, kind: kind, reason: reason)
            }
            var out = item
            out.score = QualityFilterStage.score(signals)
            return .keep(out)
        }
    }

    func imageOutcome(_ item: WorkItem, context: StageContext) throws -> ItemOutcome {
        let path = try context.path(item)
        let size: (width: Int, height: Int)
        switch Media.displaySize(path: path) {
        case .success(let s): size = s
        case .failure(let problem): return .reject(item, kind: FindingKind.corrupt.rawValue, reason: problem.reason)
        }
        let medianSide = medians[item.source]?["image_side"].map { Int($0) }
        if let (kind, reason) = MediaQualityFilter.imageVerdict(width: size.width, height: size.height, signals: nil, rules: image,
                                                                 medianSide: medianSide) {
            return .reject(item, kind: kind, reason: reason)
        }
        let signals: ImageSignals
        if let seen = Media.alphaAwareSignals(path: path, analysisSize: image.analysisSize) {
            // An image with transparency, measured as a person sees it (ImageAlpha.swift).
            signals = seen
        } else {
            switch Media.grayThumbnail(path: path, width: image.analysisSize, height: image.analysisSize, force: false) {
            case .success(let g): signals = ImageSignals.analyze(g)
            case .failure(let problem): return .reject(item, kind: FindingKind.corrupt.rawValue, reason: problem.reason)
            }
        }
        if let (kind, reason) = MediaQualityFilter.imageVerdict(width: size.width, height: size.height, signals: signals, rules: image,
                                                                 medianSide: medianSide) {
            return .reject(item, kind: kind, reason: reason)
        }
        var out = item
        out.score = MediaQualityFilter.imageScore(signals)
        return .keep(out)
    }

    func audioOutcome(_ item: WorkItem, context: StageContext) throws -> ItemOutcome {
        switch Media.decodeAudio(path: try context.path(item)) {
        case .failure(let problem):
            return .reject(item, kind: FindingKind.corrupt.rawValue, reason: problem.reason)
        case .success(let decoded):
            let signals = AudioSignals.analyze(decoded.mono, sampleRate: decoded.sampleRate, silenceDB: audio.silenceDB, clipLevel: audio.clipLevel)
            if let (kind, reason) = MediaQualityFilter.audioVerdict(signals, rules: audio, medianSeconds: medians[item.source]?["audio_seconds"]) {
                return .reject(item, kind: kind, reason: reason)
            }
            var out = item
            out.score = MediaQualityFilter.audioScore(signals)
            return .keep(out)
        }
    }

    /// A score in 0...1 for keep policies: share of words with letters, discounted by repeated lines and symbol soup.
    static func score(_ s: TextQualitySignals) -> Double {
        let alpha = s.wordCount == 0 ? 0 : s.alphaWordFraction
        return max(0, min(1, alpha * (1 - s.duplicateLineFraction) * (1 - min(1, s.symbolToWordRatio))))
    }
}

/// The parameter that tunes each `filter.quality` rule kind (for the removal guard's advice).
public enum QualityFilterStageParameters {
    public static func of(_ kind: String) -> String? { QualityFilterStage.ruleParameters[kind] }
}
