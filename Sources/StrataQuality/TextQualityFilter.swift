/// Thresholds for `filter.quality`. Every rule is optional: nil disables it. Defaults follow Gopher
/// (MassiveWeb) except `minWords`, which is 3 so short texts (support messages, titles) are not rejected.
public struct TextQualityRules: Sendable, Codable, Equatable {
    public var minWords: Int? = 3
    public var maxWords: Int? = 100_000
    public var meanWordLength: ClosedRange<Double>? = 3...10
    public var maxSymbolToWordRatio: Double? = 0.1
    public var maxBulletLineFraction: Double? = 0.9
    public var maxEllipsisLineFraction: Double? = 0.3
    public var minAlphaWordFraction: Double? = 0.8
    public var maxDuplicateLineFraction: Double? = 0.3
    public var maxDuplicateParagraphFraction: Double? = 0.3
    public var maxTopNgramCharFraction: [Int: Double]? = [2: 0.20, 3: 0.18, 4: 0.16]
    public var maxDuplicateNgramCharFraction: [Int: Double]? = [5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10]
    /// Gopher requires 2 English stop words; off by default (it rejects every non-English text).
    public var minStopwords: Int? = nil
    public var maxLineLength: Int? = nil
    /// Ratio rules (symbols, bullets, ellipses, alphabetic words) apply from this many words on:
    /// "order #1234 is wrong" has 0.2 '#' per word and is a fine message.
    public var ratioRulesMinWords: Int = 10
    /// Repetition rules (lines, paragraphs, n-grams) apply from this many words on.
    public var repetitionRulesMinWords: Int = 20

    public init() {}

    /// Rules with every check disabled, to build a custom set.
    public static var none: TextQualityRules {
        var r = TextQualityRules()
        r.minWords = nil; r.maxWords = nil; r.meanWordLength = nil; r.maxSymbolToWordRatio = nil
        r.maxBulletLineFraction = nil; r.maxEllipsisLineFraction = nil; r.minAlphaWordFraction = nil
        r.maxDuplicateLineFraction = nil; r.maxDuplicateParagraphFraction = nil; r.maxTopNgramCharFraction = nil
        r.maxDuplicateNgramCharFraction = nil
        return r
    }
}

public enum TextQualityFilter {
    /// Every rule kind `verdict` can return, in the order rules are checked.
    public static let kinds = ["too-few-words", "too-many-words", "mean-word-length", "symbol-heavy", "bullet-heavy",
                               "ellipsis-heavy", "low-alpha", "few-stopwords", "line-too-long", "repetitive-lines",
                               "repetitive-paragraphs", "repetitive-ngrams"]

    /// The first failing rule as (kebab-case kind, reason with the measured value and the limit), or nil.
    public static func verdict(_ s: TextQualitySignals, rules: TextQualityRules) -> (kind: String, reason: String)? {
        if let lo = rules.minWords, s.wordCount < lo {
            return ("too-few-words", "\(s.wordCount) words, minimum \(lo)")
        }
        if let hi = rules.maxWords, s.wordCount > hi {
            return ("too-many-words", "\(s.wordCount) words, maximum \(hi)")
        }
        if let range = rules.meanWordLength, s.wordCount > 0, !range.contains(s.meanWordLength) {
            return ("mean-word-length", "mean word length \(fmt(s.meanWordLength)), allowed \(fmt(range.lowerBound))-\(fmt(range.upperBound))")
        }
        if s.wordCount >= rules.ratioRulesMinWords {
            if let max = rules.maxSymbolToWordRatio, s.symbolToWordRatio > max {
                return ("symbol-heavy", "\(fmt(s.symbolToWordRatio)) '#' or ellipses per word, maximum \(fmt(max))")
            }
            if let max = rules.maxBulletLineFraction, s.fractionLinesStartingWithBullet > max {
                return ("bullet-heavy", "\(fmt(s.fractionLinesStartingWithBullet)) of lines start with a bullet, maximum \(fmt(max))")
            }
            if let max = rules.maxEllipsisLineFraction, s.fractionLinesEndingWithEllipsis > max {
                return ("ellipsis-heavy", "\(fmt(s.fractionLinesEndingWithEllipsis)) of lines end with an ellipsis, maximum \(fmt(max))")
            }
            if let min = rules.minAlphaWordFraction, s.alphaWordFraction < min {
                return ("low-alpha", "\(fmt(s.alphaWordFraction)) of words contain a letter, minimum \(fmt(min))")
            }
        }
        if let min = rules.minStopwords, s.stopwordCount < min {
            return ("few-stopwords", "\(s.stopwordCount) English stop words, minimum \(min)")
        }
        if let max = rules.maxLineLength, s.maxLineLength > max {
            return ("line-too-long", "longest line \(s.maxLineLength) characters, maximum \(max)")
        }
        if s.wordCount >= rules.repetitionRulesMinWords {
            if let max = rules.maxDuplicateLineFraction, s.duplicateLineFraction > max {
                return ("repetitive-lines", "repeated lines hold \(fmt(s.duplicateLineFraction)) of the characters, maximum \(fmt(max))")
            }
            if let max = rules.maxDuplicateParagraphFraction, s.duplicateParagraphFraction > max {
                return ("repetitive-paragraphs", "repeated paragraphs hold \(fmt(s.duplicateParagraphFraction)) of the characters, maximum \(fmt(max))")
            }
            for (n, max) in (rules.maxTopNgramCharFraction ?? [:]).sorted(by: { $0.key < $1.key }) {
                if let v = s.topNgramCharFraction[n], v > max {
                    return ("repetitive-ngrams", "the most frequent \(n)-gram covers \(fmt(v)) of the characters, maximum \(fmt(max))")
                }
            }
            for (n, max) in (rules.maxDuplicateNgramCharFraction ?? [:]).sorted(by: { $0.key < $1.key }) {
                if let v = s.duplicateNgramCharFraction[n], v > max {
                    return ("repetitive-ngrams", "repeated \(n)-grams cover \(fmt(v)) of the characters, maximum \(fmt(max))")
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
