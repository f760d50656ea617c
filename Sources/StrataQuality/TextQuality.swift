/// Measurements behind `filter.quality`, after the Gopher (Rae et al. 2021), C4 and FineWeb heuristics.
///
/// Words are whitespace-separated tokens (as in Gopher); for lengths and n-grams a token is lower-cased and
/// stripped of leading/trailing punctuation, and tokens that are only punctuation are left out of n-grams.
/// Character counts are Unicode scalars. Lines are split on LF; blank lines separate paragraphs.
public struct TextQualitySignals: Sendable, Codable, Equatable {
    public var characterCount = 0
    public var wordCount = 0
    /// Non-blank lines.
    public var lineCount = 0
    /// Mean length of tokens without leading/trailing punctuation (tokens that are only punctuation excluded).
    public var meanWordLength = 0.0
    /// ('#' characters + ellipses ("..." or "…")) per word.
    public var symbolToWordRatio = 0.0
    public var fractionLinesEndingWithEllipsis = 0.0
    public var fractionLinesStartingWithBullet = 0.0
    /// Characters in repeated lines (second and later occurrences) / characters in all non-blank lines.
    public var duplicateLineFraction = 0.0
    /// Same for paragraphs.
    public var duplicateParagraphFraction = 0.0
    /// n = 2, 3, 4: characters covered by the most frequent word n-gram (counted when it occurs twice or more)
    /// / characters in all words.
    public var topNgramCharFraction: [Int: Double] = [:]
    /// n = 5...10: characters of words inside a repeated occurrence of an n-gram / characters in all words.
    public var duplicateNgramCharFraction: [Int: Double] = [:]
    /// Words with at least one letter / words.
    public var alphaWordFraction = 0.0
    /// English function words ("the", "and", "is", ...).
    public var stopwordCount = 0
    /// Upper-case letters / letters.
    public var uppercaseFraction = 0.0
    /// Digits / non-whitespace characters.
    public var digitFraction = 0.0
    /// Characters that are neither letters, digits nor whitespace / non-whitespace characters.
    public var nonAlphaNumericFraction = 0.0
    /// Longest line, in characters.
    public var maxLineLength = 0
    /// Non-blank lines ending in terminal punctuation (. ! ? " ' and CJK 。！？) / non-blank lines (C4 keeps such lines).
    public var fractionLinesEndingWithPunctuation = 0.0
    /// Letters of scripts written without spaces between words (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar).
    public var unspacedLetterCount = 0
    /// Whitespace-separated tokens with no letter of those scripts (words of spaced scripts, numbers, symbols).
    public var spacedTokenCount = 0
    /// Tokens that look like code or command-line syntax (an option such as `-a` or `--all`, or a token holding one
    /// of `_ / \ = { } [ ] < > $ | ( ) ;` or `::`) / tokens.
    public var technicalTokenFraction = 0.0
    /// Non-blank lines indented by two or more spaces (a tab counts two) / non-blank lines: laid-out text such as
    /// man pages, code and configuration.
    public var indentedLineFraction = 0.0
    /// Non-whitespace characters.
    public var nonWhitespaceCount = 0

    /// Technical text (man pages, code, command lines, configuration): at least `tokens` of its tokens look like
    /// code or options, or at least half of its lines (5 or more) are indented.
    public func isTechnical(tokens: Double) -> Bool {
        technicalTokenFraction >= tokens || (lineCount >= 5 && indentedLineFraction >= 0.5)
    }

    public init() {}

    /// Whether the text is mostly in a script without spaces between words (Chinese, Japanese, Thai, ...): at least
    /// 30% of its letters are of such a script. Word counts and word lengths mean nothing there.
    public var isUnspaced: Bool { unspacedLetterCount > 0 && Double(unspacedLetterCount) >= 0.3 * Double(max(1, letterCount)) }

    /// Words as a reader counts them: each letter of an unspaced script is a word, as is each other token.
    public var readerWordCount: Int { isUnspaced ? unspacedLetterCount + spacedTokenCount : wordCount }

    /// Letters (of every script).
    public var letterCount = 0
}

public enum TextQuality {
    static let stopwords: [String] = ["the", "be", "to", "of", "and", "that", "have", "with", "a", "an", "in", "is", "it",
                                      "for", "not", "on", "as", "you", "at", "this", "but", "by", "from", "they", "we",
                                      "or", "are", "was", "were", "my", "your", "i", "he", "she", "his", "her", "do", "if",
                                      "will", "can", "there", "their", "what", "so", "has", "had"]
    static let stopwordHashes: Set<UInt64> = Set(stopwords.map { w in
        var h = fnvOffset64
        for b in w.utf8 { h = (h ^ UInt64(b)) &* fnvPrime64 }
        return fmix64(h)
    })

    static func isBullet(_ u: UInt32) -> Bool {
        switch u {
        case 0x2D, 0x2A, 0x2022, 0x25CF, 0x25CB, 0x25A0, 0x25A1, 0x25AA, 0x25AB, 0x2013, 0x00B7, 0x2023, 0x2043,
             0x25E6, 0x27A2, 0x25BA, 0x25B6, 0x2192, 0x2219, 0x25C6, 0x2605, 0x2713, 0x2714: return true
        default: return false
        }
    }

    @inline(__always) static func isLetter(_ u: UInt32) -> Bool {
        isWordScalar(u) && !((u &- 0x30) < 10) && !(u >= 0x300 && u <= 0x36F)
    }

    /// Scripts written without spaces between words.
    @inline(__always) static func isUnspacedScript(_ u: UInt32) -> Bool {
        if u < 0x0E00 { return false }
        return u <= 0x0EFF || (u >= 0x1000 && u <= 0x109F) || (u >= 0x1780 && u <= 0x17FF) || (u >= 0x3040 && u <= 0x30FF)
            || (u >= 0x31F0 && u <= 0x31FF) || (u >= 0x3400 && u <= 0x4DBF) || (u >= 0x4E00 && u <= 0x9FFF)
            || (u >= 0xF900 && u <= 0xFAFF) || (u >= 0xFF66 && u <= 0xFF9F) || (u >= 0x20000 && u <= 0x2FFFF)
    }

    /// Characters that mark a token as code or command-line syntax.
    @inline(__always) static func isTechnicalScalar(_ u: UInt32) -> Bool {
        switch u {
        case 0x5F, 0x2F, 0x5C, 0x3D, 0x7B, 0x7D, 0x5B, 0x5D, 0x3C, 0x3E, 0x24, 0x7C: return true
        default: return false
        }
    }

    @inline(__always) static func isDigit(_ u: UInt32) -> Bool {
        (u &- 0x30) < 10 || (u >= 0xFF10 && u <= 0xFF19)
    }

    @inline(__always) static func isSpace(_ u: UInt32) -> Bool {
        if u < 0x80 { return u == 0x20 || (u >= 0x09 && u <= 0x0D) }
        return u == 0x85 || u == 0xA0 || u == 0x1680 || (u >= 0x2000 && u <= 0x200A) || u == 0x2028 || u == 0x2029
            || u == 0x202F || u == 0x205F || u == 0x3000
    }

    public static func signals(_ text: String) -> TextQualitySignals {
        var s = TextQualitySignals()
        // Per word (n-gram units): hash of the lower-cased core, core length.
        var wordHashes: [UInt64] = []
        var wordLengths: [Int] = []
        var alphaWords = 0
        var letters = 0, upper = 0, digits = 0, nonWS = 0, other = 0, chars = 0
        var hashes = 0, ellipses = 0, dotRun = 0
        // Lines: (hash, chars); paragraphs likewise; blank lines close paragraphs.
        var lines: [(hash: UInt64, chars: Int)] = []
        var paragraphs: [(hash: UInt64, chars: Int)] = []
        var bulletLines = 0, ellipsisLines = 0, punctLines = 0
        var paraHash = fnvOffset64, paraChars = 0
        var technicalTokens = 0, indentedLines = 0, leading = 0, spacedAlphaTokens = 0

        withUTF8Bytes(text) { p in
            var i = 0
            // current token
            var inToken = false, tokenHasLetter = false, tokenUnspaced = false, tokenTechnical = false, tokenLength = 0
            var tokenFirst: UInt32 = 0, tokenSecond: UInt32 = 0
            var coreHash = fnvOffset64, coreLen = 0, pendingPunct = 0, coreStarted = false
            // current line
            var lineHash = fnvOffset64, lineChars = 0, lineStarted = false, firstScalar: UInt32 = 0, lastScalar: UInt32 = 0
            var lastScalars: (UInt32, UInt32, UInt32) = (0, 0, 0)
            var trailingSpaces = 0

            func endToken() {
                guard inToken else { return }
                s.wordCount += 1
                if tokenHasLetter { alphaWords += 1 }
                if !tokenUnspaced { s.spacedTokenCount += 1; if tokenHasLetter { spacedAlphaTokens += 1 } }
                // `-a`, `--all`: an option; a token holding code punctuation: code, a path, markup.
                if tokenTechnical || (tokenFirst == 0x2D && tokenLength >= 2 && (isLetter(tokenSecond) || (tokenSecond == 0x2D && tokenLength >= 3))) { technicalTokens += 1 }
                if coreLen > 0 {
                    let h = fmix64(coreHash)
                    wordHashes.append(h); wordLengths.append(coreLen)
                    if stopwordHashes.contains(h) { s.stopwordCount += 1 }
                }
                inToken = false; tokenHasLetter = false; tokenUnspaced = false; tokenTechnical = false; tokenLength = 0; coreHash = fnvOffset64; coreLen = 0; pendingPunct = 0; coreStarted = false
            }
            func endLine() {
                if lineStarted {
                    if leading >= 2 { indentedLines += 1 }
                    let n = lineChars - trailingSpaces
                    lines.append((fmix64(lineHash), n))
                    s.maxLineLength = max(s.maxLineLength, n)
                    if isBullet(firstScalar) { bulletLines += 1 }
                    if lastScalar == 0x2026 || (lastScalars == (0x2E, 0x2E, 0x2E)) { ellipsisLines += 1 }
                    switch lastScalar {
                    case 0x2E, 0x21, 0x3F, 0x22, 0x27, 0x201D, 0x2019, 0x3002, 0xFF01, 0xFF1F: punctLines += 1
                    default: break
                    }
                    paraHash = fmix64(paraHash ^ fmix64(lineHash)) &+ 0x9E37_79B9_7F4A_7C15
                    paraChars += n
                } else if paraChars > 0 {
                    paragraphs.append((paraHash, paraChars)); paraHash = fnvOffset64; paraChars = 0
                }
                leading = 0
                lineHash = fnvOffset64; lineChars = 0; lineStarted = false; lastScalar = 0; lastScalars = (0, 0, 0); trailingSpaces = 0
            }

            while i < p.count {
                let u = p[i] < 0x80 ? UInt32(p[i]) : decodeScalar(p, &i)
                if u < 0x80 { i += 1 }
                chars += 1
                if u == 0x0A { endToken(); endLine(); continue }
                if u == 0x2E { dotRun += 1; if dotRun == 3 { ellipses += 1 } } else { dotRun = 0 }
                if isSpace(u) {
                    endToken()
                    if !lineStarted { leading += u == 0x09 ? 2 : 1 }
                    if lineStarted { lineHash = (lineHash ^ 0x20) &* fnvPrime64; lineChars += 1; trailingSpaces += 1 }
                    continue
                }
                // line content (leading whitespace skipped, trailing whitespace not counted)
                if !lineStarted { lineStarted = true; firstScalar = u }
                trailingSpaces = 0
                lineHash = (lineHash ^ UInt64(u)) &* fnvPrime64
                lineChars += 1
                lastScalar = u
                lastScalars = (lastScalars.1, lastScalars.2, u)
                // characters
                nonWS += 1
                if u == 0x23 { hashes += 1 } else if u == 0x2026 { ellipses += 1 }
                let word = isWordScalar(u)
                if word {
                    if isDigit(u) { digits += 1 } else if isLetter(u) {
                        letters += 1
                        if lowerScalar(u) != u { upper += 1 }
                    }
                } else {
                    other += 1
                }
                // token
                if !inToken { tokenFirst = u } else if tokenLength == 1 { tokenSecond = u }
                tokenLength += 1
                inToken = true
                if isTechnicalScalar(u) { tokenTechnical = true }
                if isUnspacedScript(u) && word { tokenUnspaced = true; s.unspacedLetterCount += 1 }
                if word {
                    if isLetter(u) { tokenHasLetter = true }
                    if coreStarted && pendingPunct > 0 {
                        // punctuation inside the word (e.g. "don't", "e-mail") belongs to its core
                        coreLen += pendingPunct
                    }
                    pendingPunct = 0
                    coreStarted = true
                    coreHash = (coreHash ^ UInt64(lowerScalar(u))) &* fnvPrime64
                    coreLen += 1
                } else if coreStarted {
                    pendingPunct += 1
                }
            }
            endToken()
            endLine()
            if paraChars > 0 { paragraphs.append((paraHash, paraChars)) }
        }

        s.characterCount = chars
        s.letterCount = letters
        s.indentedLineFraction = lines.isEmpty ? 0 : Double(indentedLines) / Double(lines.count)
        s.nonWhitespaceCount = nonWS
        s.technicalTokenFraction = s.wordCount == 0 ? 0 : Double(technicalTokens) / Double(s.wordCount)
        s.lineCount = lines.count
        let words = Double(max(1, s.wordCount))
        s.meanWordLength = wordLengths.isEmpty ? 0 : Double(wordLengths.reduce(0, +)) / Double(wordLengths.count)
        s.symbolToWordRatio = s.wordCount == 0 ? 0 : Double(hashes + ellipses) / words
        s.alphaWordFraction = s.wordCount == 0 ? 0 : Double(alphaWords) / words
        if s.isUnspaced {
            // Each letter of an unspaced script is a word with a letter; other tokens count as they are.
            s.alphaWordFraction = Double(s.unspacedLetterCount + spacedAlphaTokens) / Double(max(1, s.readerWordCount))
        }
        s.uppercaseFraction = letters == 0 ? 0 : Double(upper) / Double(letters)
        s.digitFraction = nonWS == 0 ? 0 : Double(digits) / Double(nonWS)
        s.nonAlphaNumericFraction = nonWS == 0 ? 0 : Double(other) / Double(nonWS)
        if !lines.isEmpty {
            let n = Double(lines.count)
            s.fractionLinesStartingWithBullet = Double(bulletLines) / n
            s.fractionLinesEndingWithEllipsis = Double(ellipsisLines) / n
            s.fractionLinesEndingWithPunctuation = Double(punctLines) / n
        }
        s.duplicateLineFraction = duplicateFraction(lines)
        s.duplicateParagraphFraction = duplicateFraction(paragraphs)
        let totalWordChars = wordLengths.reduce(0, +)
        for n in 2...4 { s.topNgramCharFraction[n] = topNgramFraction(wordHashes, wordLengths, n: n, total: totalWordChars) }
        for n in 5...10 { s.duplicateNgramCharFraction[n] = duplicateNgramFraction(wordHashes, wordLengths, n: n, total: totalWordChars) }
        return s
    }

    static func duplicateFraction(_ items: [(hash: UInt64, chars: Int)]) -> Double {
        var seen = Set<UInt64>()
        var total = 0, duplicated = 0
        for item in items {
            total += item.chars
            if !seen.insert(item.hash).inserted { duplicated += item.chars }
        }
        return total == 0 ? 0 : Double(duplicated) / Double(total)
    }

    @inline(__always)
    static func ngramHash(_ h: UnsafeBufferPointer<UInt64>, _ start: Int, _ n: Int) -> UInt64 {
        var x = UInt64(n)
        for k in start..<(start + n) { x = fmix64(x ^ h[k]) }
        return x
    }

    static func topNgramFraction(_ hashes: [UInt64], _ lengths: [Int], n: Int, total: Int) -> Double {
        guard hashes.count >= n, total > 0 else { return 0 }
        var counts: [UInt64: (count: Int, chars: Int)] = [:]
        counts.reserveCapacity(hashes.count)
        hashes.withUnsafeBufferPointer { h in
            var chars = lengths[0..<n].reduce(0, +)
            for i in 0...(h.count - n) {
                if i > 0 { chars += lengths[i + n - 1] - lengths[i - 1] }
                let key = ngramHash(h, i, n)
                counts[key, default: (0, chars)].count += 1
            }
        }
        var best = 0
        for (_, v) in counts where v.count >= 2 { best = max(best, v.count * v.chars) }
        return min(1, Double(best) / Double(total))
    }

    static func duplicateNgramFraction(_ hashes: [UInt64], _ lengths: [Int], n: Int, total: Int) -> Double {
        guard hashes.count >= n, total > 0 else { return 0 }
        var seen = Set<UInt64>()
        seen.reserveCapacity(hashes.count)
        var covered = [Bool](repeating: false, count: hashes.count)
        hashes.withUnsafeBufferPointer { h in
            for i in 0...(h.count - n) where !seen.insert(ngramHash(h, i, n)).inserted {
                for k in i..<(i + n) { covered[k] = true }
            }
        }
        var chars = 0
        for (k, c) in covered.enumerated() where c { chars += lengths[k] }
        return Double(chars) / Double(total)
    }
}
