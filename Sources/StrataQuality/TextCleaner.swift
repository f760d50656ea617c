import Foundation

/// Settings for `clean.text`.
public struct TextCleaningConfig: Sendable, Codable, Equatable {
    public enum Normalization: String, Sendable, Codable, Equatable, CaseIterable { case nfc, nfkc, none }

    public var normalization: Normalization = .nfc
    /// Remove control (Cc) and format (Cf) characters except tab and newline: zero-width spaces, bidi
    /// controls, BOM, soft hyphens. ZWJ and ZWNJ (U+200C/U+200D) are kept: they carry meaning in Persian,
    /// Indic scripts and emoji sequences. CR and CRLF become LF.
    public var removeControlCharacters = true
    /// Runs of horizontal whitespace (spaces, tabs, NBSP and other Zs) become one space; whitespace at the start
    /// and end of lines is removed; 3+ line breaks become 2 (one blank line); the text is trimmed.
    /// U+2028/U+2029 and CR count as line breaks.
    public var collapseWhitespace = true
    /// Remove tags, comments, script and style contents; block tags become line breaks; decode entities.
    public var stripHTML = false
    /// Lengths in characters (grapheme clusters), checked by `TextCleaner.lengthProblem`.
    public var minLength: Int?
    public var maxLength: Int?

    public init(normalization: Normalization = .nfc, removeControlCharacters: Bool = true, collapseWhitespace: Bool = true,
                stripHTML: Bool = false, minLength: Int? = nil, maxLength: Int? = nil) {
        self.normalization = normalization; self.removeControlCharacters = removeControlCharacters
        self.collapseWhitespace = collapseWhitespace; self.stripHTML = stripHTML
        self.minLength = minLength; self.maxLength = maxLength
    }
}

public enum TextCleaner {
    /// Cleans in this order: HTML, normalization, control characters, whitespace. `changes` lists the steps
    /// that changed something, in order: "html", "nfc"/"nfkc", "control-characters:N" (N removed), "whitespace".
    public static func clean(_ text: String, config: TextCleaningConfig) -> (text: String, changes: [String]) {
        var s = text
        var changes: [String] = []
        if config.stripHTML {
            let stripped = HTML.strip(s)
            if stripped != s { changes.append("html"); s = stripped }
        }
        switch isASCII(s) ? .none : config.normalization {  // ASCII is already NFC and NFKC
        case .nfc:
            let n = s.precomposedStringWithCanonicalMapping
            if !n.unicodeScalars.elementsEqual(s.unicodeScalars) { changes.append("nfc"); s = n }
        case .nfkc:
            let n = s.precomposedStringWithCompatibilityMapping
            if !n.unicodeScalars.elementsEqual(s.unicodeScalars) { changes.append("nfkc"); s = n }
        case .none: break
        }
        if config.removeControlCharacters {
            let (t, removed) = removeControls(s)
            if removed > 0 { changes.append("control-characters:\(removed)") }
            s = t
        }
        if config.collapseWhitespace {
            let t = collapse(s)
            if !t.unicodeScalars.elementsEqual(s.unicodeScalars) { changes.append("whitespace"); s = t }
        }
        return (s, changes)
    }

    /// ("too-short" | "too-long", reason with the measured and allowed lengths), or nil.
    public static func lengthProblem(_ text: String, config: TextCleaningConfig) -> (kind: String, reason: String)? {
        guard config.minLength != nil || config.maxLength != nil else { return nil }
        let n = text.count
        if let lo = config.minLength, n < lo { return ("too-short", "\(n) characters, minimum \(lo)") }
        if let hi = config.maxLength, n > hi { return ("too-long", "\(n) characters, maximum \(hi)") }
        return nil
    }

    static func isRemovableControl(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v == 0x09 || v == 0x0A || v == 0x200C || v == 0x200D { return false }
        if v < 0x20 || (v >= 0x7F && v < 0xA0) { return true }
        if v < 0xA0 { return false }
        switch s.properties.generalCategory {
        case .control, .format: return true
        default: return false
        }
    }

    /// Removes controls; CRLF becomes LF and a lone CR becomes LF (not counted as removals).
    static func removeControls(_ s: String) -> (String, Int) {
        var out = String.UnicodeScalarView()
        var removed = 0
        var previousCR = false
        for u in s.unicodeScalars {
            if u == "\r" { out.append("\n"); previousCR = true; continue }
            if u == "\n" && previousCR { previousCR = false; continue }
            previousCR = false
            if isRemovableControl(u) { removed += 1 } else { out.append(u) }
        }
        return (String(out), removed)
    }

    static func collapse(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        var newlines = 0
        var previousCR = false
        for u in s.unicodeScalars {
            let v = u.value
            if v == 0x0A || v == 0x0D || v == 0x2028 || v == 0x2029 || v == 0x0B || v == 0x0C {
                if v == 0x0A && previousCR { previousCR = false; continue }
                previousCR = v == 0x0D
                newlines += v == 0x2029 ? 2 : 1
                pendingSpace = false
                continue
            }
            previousCR = false
            if u.properties.isWhitespace { pendingSpace = true; continue }
            if !out.isEmpty {
                if newlines > 0 {
                    out.append("\n")
                    if newlines > 1 { out.append("\n") }
                } else if pendingSpace {
                    out.append(" ")
                }
            }
            newlines = 0
            pendingSpace = false
            out.append(u)
        }
        return String(out)
    }
}
