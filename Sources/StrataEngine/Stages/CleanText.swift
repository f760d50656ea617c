import Foundation
import StrataCore
import StrataLanguage
import StrataQuality

/// `clean.text`: mojibake repair (first), Unicode normalization, control characters, whitespace, optional HTML stripping,
/// length bounds, and an allowed-language list (CLD2). Non-text items pass through unchanged.
struct CleanTextStage: MapStage {
    static let codeVersion = 1
    let config: TextCleaningConfig
    let fixMojibake: Bool
    let languages: [String]
    let paramsJSON: String
    let name: String

    init(_ p: inout StageParams) throws {
        name = p.stage
        var c = TextCleaningConfig()
        switch try p.string("normalize", default: "nfc", allowed: ["nfc", "nfkc", "none"]) {
        case "nfkc": c.normalization = .nfkc
        case "none": c.normalization = .none
        default: c.normalization = .nfc
        }
        c.removeControlCharacters = try p.bool("control_chars", default: true)
        c.collapseWhitespace = try p.bool("whitespace", default: true)
        c.stripHTML = try p.bool("strip_html", default: false)
        c.minLength = try p.optionalInt("min_length")
        c.maxLength = try p.optionalInt("max_length", min: 1)
        fixMojibake = try p.bool("fix_mojibake", default: true)
        languages = try p.strings("languages")
        config = c
        paramsJSON = SpecValue.map(p.values).canonicalJSON
    }

    func process(_ items: [WorkItem], context: StageContext) throws -> [ItemOutcome] {
        try items.map { item in
            guard item.kind == .text else { return .keep(item) }
            let original = try context.text(item)
            // Mojibake first: UTF-8 read as Latin-1 carries C1 control characters inside each mis-decoded
            // sequence (an em dash becomes "â" U+0080 U+0094), which removing controls would destroy.
            var input = original
            var repairedFirst = false
            if fixMojibake, let repaired = TextCleaner.fixMojibake(original) {
                input = repaired
                repairedFirst = true
            }
            var (text, changes) = TextCleaner.clean(input, config: config)
            if repairedFirst { changes.insert("mojibake", at: 0) }
            if let (kind, reason) = TextCleaner.lengthProblem(text, config: config) {
                return .reject(item, kind: kind, reason: reason)
            }
            if !languages.isEmpty {
                let guess = LanguageID.detect(text)
                if !LanguageID.isAllowed(guess, allowed: languages) {
                    return .reject(item, kind: FindingKind.languageNotAllowed.rawValue,
                                   reason: "detected language `\(guess.code)` (\(guess.percent)%\(guess.reliable ? "" : ", unreliable")); allowed: \(languages.joined(separator: ", "))")
                }
            }
            if text == original { return .keep(item) }
            return .keep(try context.replaceContent(item, with: Array(text.utf8),
                                                    transform: Transform(stage: name, uses: "clean.text", params: paramsJSON, changes: changes)))
        }
    }
}
