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
    static let codeVersion = 2
    let rules: TextQualityRules
    let image: ImageQualityRules
    let audio: AudioQualityRules

    init(_ p: inout StageParams) throws {
        var r = TextQualityRules()
        if let v = try p.optionalInt("min_words") { r.minWords = v }
        if let v = try p.optionalInt("max_words", min: 1) { r.maxWords = v }
        if let v = try p.optionalDouble("max_symbol_word_ratio") { r.maxSymbolToWordRatio = v }
        if let v = try p.optionalDouble("max_duplicate_line_fraction") { r.maxDuplicateLineFraction = v }
        if let v = try p.optionalDouble("max_duplicate_paragraph_fraction") { r.maxDuplicateParagraphFraction = v }
        if let v = try p.optionalDouble("min_alpha_word_fraction") { r.minAlphaWordFraction = v }
        rules = r
        var i = ImageQualityRules()
        i.minWidth = try p.int("image_min_width", default: i.minWidth!, min: 0)
        i.minHeight = try p.int("image_min_height", default: i.minHeight!, min: 0)
        i.maxAspectRatio = try p.double("image_max_aspect_ratio", default: i.maxAspectRatio!, min: 1)
        i.minStddev = try p.double("image_min_stddev", default: i.minStddev!, min: 0)
        i.minSharpness = try p.double("image_min_sharpness", default: i.minSharpness!, min: 0)
        i.analysisSize = try p.int("image_analysis_size", default: i.analysisSize, min: 16, max: 4096)
        image = i
        var a = AudioQualityRules()
        a.minSeconds = try p.double("audio_min_seconds", default: a.minSeconds!, min: 0)
        a.maxSilentFraction = try p.double("audio_max_silent_fraction", default: a.maxSilentFraction!, min: 0, max: 1)
        a.silenceDB = try p.double("audio_silence_db", default: a.silenceDB, min: -120, max: 0)
        a.maxClippedFraction = try p.double("audio_max_clipped_fraction", default: a.maxClippedFraction!, min: 0, max: 1)
        a.clipLevel = try p.double("audio_clip_level", default: a.clipLevel, min: 0.5, max: 1)
        audio = a
    }

    func process(_ items: [WorkItem], context: StageContext) throws -> [ItemOutcome] {
        try items.map { item in
            switch item.modality {
            case "image": return try imageOutcome(item, context: context)
            case "audio": return try audioOutcome(item, context: context)
            default: break
            }
            let signals = TextQuality.signals(try context.text(item))
            if let (kind, reason) = TextQualityFilter.verdict(signals, rules: rules) {
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
        case .failure(let problem): return .reject(item, kind: "corrupt", reason: problem.reason)
        }
        if let (kind, reason) = MediaQualityFilter.imageVerdict(width: size.width, height: size.height, signals: nil, rules: image) {
            return .reject(item, kind: kind, reason: reason)
        }
        let gray: GrayImage
        switch Media.grayThumbnail(path: path, width: image.analysisSize, height: image.analysisSize, force: false) {
        case .success(let g): gray = g
        case .failure(let problem): return .reject(item, kind: "corrupt", reason: problem.reason)
        }
        let signals = ImageSignals.analyze(gray)
        if let (kind, reason) = MediaQualityFilter.imageVerdict(width: size.width, height: size.height, signals: signals, rules: image) {
            return .reject(item, kind: kind, reason: reason)
        }
        var out = item
        out.score = MediaQualityFilter.imageScore(signals)
        return .keep(out)
    }

    func audioOutcome(_ item: WorkItem, context: StageContext) throws -> ItemOutcome {
        switch Media.decodeAudio(path: try context.path(item)) {
        case .failure(let problem):
            return .reject(item, kind: "corrupt", reason: problem.reason)
        case .success(let decoded):
            let signals = AudioSignals.analyze(decoded.mono, sampleRate: decoded.sampleRate, silenceDB: audio.silenceDB, clipLevel: audio.clipLevel)
            if let (kind, reason) = MediaQualityFilter.audioVerdict(signals, rules: audio) {
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
