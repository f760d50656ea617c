import Foundation
import StrataCore
import StrataQuality

/// `filter.quality` for text: repetition, symbol and word statistics with named thresholds. Sets each kept
/// item's `score` (the share of rules passed with margin), which `keep: quality` in dedup stages uses.
struct QualityFilterStage: MapStage {
    static let codeVersion = 1
    let rules: TextQualityRules

    init(_ p: inout StageParams) throws {
        var r = TextQualityRules()
        if let v = try p.optionalInt("min_words") { r.minWords = v }
        if let v = try p.optionalInt("max_words", min: 1) { r.maxWords = v }
        if let v = try p.optionalDouble("max_symbol_word_ratio") { r.maxSymbolToWordRatio = v }
        if let v = try p.optionalDouble("max_duplicate_line_fraction") { r.maxDuplicateLineFraction = v }
        if let v = try p.optionalDouble("max_duplicate_paragraph_fraction") { r.maxDuplicateParagraphFraction = v }
        if let v = try p.optionalDouble("min_alpha_word_fraction") { r.minAlphaWordFraction = v }
        rules = r
    }

    func process(_ items: [WorkItem], context: StageContext) throws -> [ItemOutcome] {
        try items.map { item in
            guard item.modality == "text" else { return .keep(item) }
            let signals = TextQuality.signals(try context.text(item))
            if let (kind, reason) = TextQualityFilter.verdict(signals, rules: rules) {
                return .reject(item, kind: kind, reason: reason)
            }
            var out = item
            out.score = QualityFilterStage.score(signals)
            return .keep(out)
        }
    }

    /// A score in 0...1 for keep policies: share of words with letters, discounted by repeated lines and symbol soup.
    static func score(_ s: TextQualitySignals) -> Double {
        let alpha = s.wordCount == 0 ? 0 : s.alphaWordFraction
        return max(0, min(1, alpha * (1 - s.duplicateLineFraction) * (1 - min(1, s.symbolToWordRatio))))
    }
}
