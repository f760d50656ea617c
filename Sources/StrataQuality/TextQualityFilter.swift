/// Thresholds for `filter.quality`. Every rule is optional: nil disables it. Limits follow Gopher (MassiveWeb),
/// applied where they mean something (docs/pipeline.md, "Quality rules"):
/// - word counts count each letter of a script written without spaces (Chinese, Japanese, Thai, ...) as a word, and
///   word lengths and word n-grams are not measured on such text;
/// - mean word length, bullet and ellipsis lines apply from `shapeRulesMinWords` words, repetition rules from
///   `repetitionRulesMinWords` (Gopher's own floor is 50 words: a short quote ending in "..." is a fine sample);
/// - word n-gram repetition does not apply to technical text (man pages, code, command lines), whose option names
///   and identifiers repeat by nature; repeated lines and paragraphs still do.
public struct TextQualityRules: Sendable, Codable, Equatable {
    public var minWords: Int? = 3
    public var maxWords: Int? = 100_000
    public var meanWordLength: ClosedRange<Double>? = 3...10
    public var maxSymbolToWordRatio: Double? = 0.1
    public var maxBulletLineFraction: Double? = 0.9
    public var maxEllipsisLineFraction: Double? = 0.3
    public var minAlphaWordFraction: Double? = 0.8
    /// Largest share of non-whitespace characters that are neither letters nor digits (symbol soup, binary junk
    /// decoded as text). Applies from `symbolSoupMinCharacters` non-whitespace characters, at any word count.
    public var maxSymbolCharFraction: Double? = 0.5
    public var symbolSoupMinCharacters: Int = 8
    public var maxDuplicateLineFraction: Double? = 0.3
    public var maxDuplicateParagraphFraction: Double? = 0.3
    public var maxTopNgramCharFraction: [Int: Double]? = [2: 0.20, 3: 0.18, 4: 0.16]
    public var maxDuplicateNgramCharFraction: [Int: Double]? = [5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10]
    /// Gopher requires 2 English stop words; off by default (it rejects every non-English text).
    public var minStopwords: Int? = nil
    public var maxLineLength: Int? = nil
    /// Symbol and alphabetic-word rules (Gopher's, meant for web prose) apply from this many words on: "order #1234
    /// is wrong" has 0.2 '#' per word and is a fine message, and a two-line joke with "???" and "!!!" is too.
    public var ratioRulesMinWords: Int = 50
    /// Mean word length, bullet and ellipsis lines apply from this many words on.
    public var shapeRulesMinWords: Int = 50
    /// Repetition rules (lines, paragraphs, n-grams) apply from this many words on.
    public var repetitionRulesMinWords: Int = 50
    /// Technical texts (`TextQualitySignals.isTechnical`: at least this share of code-like tokens, or mostly
    /// indented lines) skip the rules written for web prose: mean word length, symbol-heavy, low-alpha and word
    /// n-gram repetition. nil: no exemption.
    public var technicalTokenFraction: Double? = 0.05

    public init() {}

    /// Rules with every check disabled, to build a custom set.
    public static var none: TextQualityRules {
        var r = TextQualityRules()
        for kind in TextQualityFilter.kinds { r.disable(kind) }
        return r
    }

    /// Turns off the rule with this kind (one of `TextQualityFilter.kinds`); false for an unknown kind.
    @discardableResult
    public mutating func disable(_ kind: String) -> Bool {
        switch kind {
        case "too-few-words": minWords = nil
        case "too-many-words": maxWords = nil
        case "mean-word-length": meanWordLength = nil
        case "symbol-heavy": maxSymbolToWordRatio = nil
        case "bullet-heavy": maxBulletLineFraction = nil
        case "ellipsis-heavy": maxEllipsisLineFraction = nil
        case "low-alpha": minAlphaWordFraction = nil
        case "mostly-symbols": maxSymbolCharFraction = nil
        case "few-stopwords": minStopwords = nil
        case "line-too-long": maxLineLength = nil
        case "repetitive-lines": maxDuplicateLineFraction = nil
        case "repetitive-paragraphs": maxDuplicateParagraphFraction = nil
        case "repetitive-ngrams": maxTopNgramCharFraction = nil; maxDuplicateNgramCharFraction = nil
        default: return false
        }
        return true
    }
}

public enum TextQualityFilter {
    /// Every rule kind `verdict` can return, in the order rules are checked.
    public static let kinds = ["too-few-words", "too-many-words", "mostly-symbols", "mean-word-length", "symbol-heavy", "bullet-heavy",
                               "ellipsis-heavy", "low-alpha", "few-stopwords", "line-too-long", "repetitive-lines",
                               "repetitive-paragraphs", "repetitive-ngrams"]

    /// The first failing rule as (kebab-case kind, reason with the measured value and the limit), or nil.
    /// `technicalSource`: the text's source is technical as a whole (the data profile: most of its texts are), so
    /// the text is judged as technical even when cleaning removed the layout that shows it.
    public static func verdict(_ s: TextQualitySignals, rules: TextQualityRules, technicalSource: Bool = false) -> (kind: String, reason: String)? {
        let unspaced = s.isUnspaced
        let words = s.readerWordCount
        let unit = unspaced ? " (each Chinese/Japanese/Thai letter counts as a word)" : ""
        let technical = rules.technicalTokenFraction.map { technicalSource || s.isTechnical(tokens: $0) } ?? false
        if let lo = rules.minWords, words < lo {
            return ("too-few-words", "\(words) words\(unit), minimum \(lo)")
        }
        if let hi = rules.maxWords, words > hi {
            return ("too-many-words", "\(words) words\(unit), maximum \(hi)")
        }
        if let max = rules.maxSymbolCharFraction, s.nonWhitespaceCount >= rules.symbolSoupMinCharacters, s.nonAlphaNumericFraction > max {
            return ("mostly-symbols", "\(fmtVs(s.nonAlphaNumericFraction, max)) of the characters are neither letters nor digits, maximum \(fmt(max))")
        }
        if words >= rules.shapeRulesMinWords {
            if let range = rules.meanWordLength, !unspaced, !technical, s.wordCount > 0, !range.contains(s.meanWordLength) {
                let limit = s.meanWordLength < range.lowerBound ? range.lowerBound : range.upperBound
                return ("mean-word-length", "mean word length \(fmtVs(s.meanWordLength, limit)), allowed \(fmt(range.lowerBound))-\(fmt(range.upperBound))")
            }
            if let max = rules.maxBulletLineFraction, s.fractionLinesStartingWithBullet > max {
                return ("bullet-heavy", "\(fmtVs(s.fractionLinesStartingWithBullet, max)) of lines start with a bullet, maximum \(fmt(max))")
            }
            if let max = rules.maxEllipsisLineFraction, s.fractionLinesEndingWithEllipsis > max {
                return ("ellipsis-heavy", "\(fmtVs(s.fractionLinesEndingWithEllipsis, max)) of lines end with an ellipsis, maximum \(fmt(max))")
            }
        }
        if words >= rules.ratioRulesMinWords && !technical {
            if let limit = rules.maxSymbolToWordRatio, s.wordCount > 0 {
                let ratio = s.symbolToWordRatio * Double(s.wordCount) / Double(max(1, words))
                if ratio > limit {
                    return ("symbol-heavy", "\(fmtVs(ratio, limit)) '#' or ellipses per word, maximum \(fmt(limit))")
                }
            }
            if let min = rules.minAlphaWordFraction, s.alphaWordFraction < min {
                return ("low-alpha", "\(fmtVs(s.alphaWordFraction, min)) of words contain a letter, minimum \(fmt(min))")
            }
        }
        if let min = rules.minStopwords, s.stopwordCount < min {
            return ("few-stopwords", "\(s.stopwordCount) English stop words, minimum \(min)")
        }
        if let max = rules.maxLineLength, s.maxLineLength > max {
            return ("line-too-long", "longest line \(s.maxLineLength) characters, maximum \(max)")
        }
        if words >= rules.repetitionRulesMinWords {
            if let max = rules.maxDuplicateLineFraction, s.duplicateLineFraction > max {
                return ("repetitive-lines", "repeated lines hold \(fmtVs(s.duplicateLineFraction, max)) of the characters, maximum \(fmt(max))")
            }
            if let max = rules.maxDuplicateParagraphFraction, s.duplicateParagraphFraction > max {
                return ("repetitive-paragraphs", "repeated paragraphs hold \(fmtVs(s.duplicateParagraphFraction, max)) of the characters, maximum \(fmt(max))")
            }
            if !unspaced && !technical {
                for (n, max) in (rules.maxTopNgramCharFraction ?? [:]).sorted(by: { $0.key < $1.key }) {
                    if let v = s.topNgramCharFraction[n], v > max {
                        return ("repetitive-ngrams", "the most frequent \(n)-gram covers \(fmtVs(v, max)) of the characters, maximum \(fmt(max))")
                    }
                }
                for (n, max) in (rules.maxDuplicateNgramCharFraction ?? [:]).sorted(by: { $0.key < $1.key }) {
                    if let v = s.duplicateNgramCharFraction[n], v > max {
                        return ("repetitive-ngrams", "repeated \(n)-grams cover \(fmtVs(v, max)) of the characters, maximum \(fmt(max))")
                    }
                }
            }
        }
        return nil
    }

    /// Signals and verdict in one call.
    public static func verdict(_ text: String, rules: TextQualityRules) -> (kind: String, reason: String)? {
        verdict(TextQuality.signals(text), rules: rules)
    }
}
