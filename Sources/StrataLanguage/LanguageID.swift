import CCLD2

/// One language guess for a text.
public struct LanguageGuess: Sendable, Equatable, Codable {
    /// CLD2's language code: ISO 639-1 where one exists ("en", "de", "ru", "zh", "ja"),
    /// otherwise ISO 639-2 or a CLD2-specific code ("zh-Hant" for traditional Chinese).
    /// "un" means unknown.
    public var code: String
    /// Percent (0...100) of the text's letter bytes in this language.
    public var percent: Int
    /// Whether CLD2 judged the guess reliable (and, from `LanguageID.detect`, the text was
    /// long enough; see `LanguageID.minimumReliableTextBytes`).
    public var reliable: Bool

    public init(code: String, percent: Int, reliable: Bool) {
        self.code = code
        self.percent = percent
        self.reliable = reliable
    }

    /// The unknown-language guess: "un", 0 percent, not reliable.
    public static let unknown = LanguageGuess(code: LanguageID.unknownCode, percent: 0, reliable: false)
}

/// CLD2's raw top-3 answer for a text, without Strata's short-text policy.
public struct LanguageSummary: Sendable, Equatable, Codable {
    /// The most likely language as CLD2 reports it (with CLD2's own reliability flag).
    public var top: LanguageGuess
    /// Up to three (code, percent) pairs, most likely first; unknown slots with 0 percent are omitted.
    public var languages: [LanguageShare]
    /// Letters-only text bytes CLD2 scored (includes a little padding between words).
    public var textBytes: Int
}

/// A language's share of a text.
public struct LanguageShare: Sendable, Equatable, Codable {
    public var code: String
    public var percent: Int
    public init(code: String, percent: Int) {
        self.code = code
        self.percent = percent
    }
}

/// Language identification with Compact Language Detector 2 (libcld2).
///
/// All functions are thread-safe: CLD2 detection keeps no mutable global state
/// (compact_lang_det.h lists "Thread safe" among its design goals) and this type keeps none.
public enum LanguageID {
    /// The code for "unknown language".
    public static let unknownCode = "un"

    /// Below this many letter bytes (CLD2's `text_bytes`; roughly 22 Latin characters or
    /// 7 CJK characters) `detect` answers `.unknown`: CLD2 happily calls "Hello world"
    /// reliable English, which is too little evidence to filter training data on.
    public static let minimumReliableTextBytes = 24

    /// CLD2's version string, e.g. "V2.0 - 20141016".
    public static var cld2Version: String { String(cString: strata_cld2_version()) }

    /// Detects the dominant language of plain text.
    ///
    /// Empty text, text with fewer than `minimumReliableTextBytes` letter bytes, and text CLD2
    /// cannot identify (digits, emoji, gibberish) give `.unknown` ("un", 0, not reliable).
    /// Otherwise the code is CLD2's top language and `reliable` is CLD2's judgement
    /// (false e.g. for evenly mixed languages).
    ///
    /// Control characters other than tab, newline, form feed and carriage return, and Unicode
    /// noncharacters, are read as spaces (CLD2 refuses text containing them).
    public static func detect(_ text: String) -> LanguageGuess {
        let s = summary(text)
        guard s.top.code != unknownCode, s.textBytes >= minimumReliableTextBytes else { return .unknown }
        return s.top
    }

    /// CLD2's top-3 languages for plain text, with CLD2's own reliability flag and no
    /// minimum length (so "Hello world" may come back as reliable "en").
    public static func summary(_ text: String) -> LanguageSummary {
        var input = sanitized(text)
        var raw = strata_cld2_summary()
        let rc: Int32 = input.withUTF8 { buffer in
            // CLD2 takes an Int32 length; a longer text is cut at a scalar boundary.
            var count = min(buffer.count, Int(Int32.max))
            while count < buffer.count, count > 0, buffer[count] & 0xC0 == 0x80 { count -= 1 }
            return strata_cld2_detect_summary(buffer.baseAddress, Int32(count), 1, &raw)
        }
        guard rc == STRATA_CLD2_OK else {
            return LanguageSummary(top: .unknown, languages: [], textBytes: 0)
        }
        let codes = [code(raw.code0), code(raw.code1), code(raw.code2)]
        let percents = [raw.percent0, raw.percent1, raw.percent2].map(Int.init)
        let top = LanguageGuess(code: codes[0], percent: codes[0] == unknownCode ? 0 : percents[0],
                                reliable: raw.reliable != 0)
        let languages = zip(codes, percents)
            .filter { !($0.0 == unknownCode && $0.1 == 0) }
            .map { LanguageShare(code: $0.0, percent: $0.1) }
        return LanguageSummary(top: top, languages: languages, textBytes: Int(raw.text_bytes))
    }

    /// Whether a guess passes a language allow-list.
    ///
    /// Choice: an unknown ("un") or unreliable guess counts as unknown, and unknown is allowed
    /// only when `allowed` contains "un". A reliable guess is allowed when some entry of `allowed`
    /// equals its code or is its primary subtag, case-insensitively ("zh" allows "zh-Hant";
    /// "zh-Hant" does not allow "zh"). An empty `allowed` allows nothing.
    public static func isAllowed(_ guess: LanguageGuess, allowed: [String]) -> Bool {
        let allowedCodes = Set(allowed.map { $0.lowercased() })
        let code = guess.code.lowercased()
        guard guess.reliable, code != unknownCode else { return allowedCodes.contains(unknownCode) }
        if allowedCodes.contains(code) { return true }
        let primary = code.split(separator: "-", maxSplits: 1).first.map(String.init) ?? code
        return allowedCodes.contains(primary)
    }

    /// Whether CLD2 accepts this scalar ("interchange-valid" UTF-8): not a C0 control other than
    /// tab, LF, FF, CR; not DEL or a C1 control; not a noncharacter (U+FDD0...U+FDEF, U+xxFFFE/F).
    /// The tests check this against CLD2 for every scalar.
    static func isInterchangeValid(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v < 0x20 { return v == 0x09 || v == 0x0A || v == 0x0C || v == 0x0D }
        if v >= 0x7F && v <= 0x9F { return false }
        if v >= 0xFDD0 && v <= 0xFDEF { return false }
        return v & 0xFFFE != 0xFFFE
    }

    /// `text` with scalars CLD2 refuses replaced by spaces; `text` itself when there are none.
    static func sanitized(_ text: String) -> String {
        guard !text.unicodeScalars.allSatisfy(isInterchangeValid) else { return text }
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            scalars.append(isInterchangeValid(scalar) ? scalar : " ")
        }
        return String(scalars)
    }

    /// Reads a NUL-terminated code from a fixed-size C char array (imported as a tuple).
    private static func code<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { bytes in
            let s = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            return s.isEmpty ? unknownCode : s
        }
    }
}
