import Foundation
import XCTest
@testable import StrataQuality

final class TextQualityTests: XCTestCase {
    let paragraph = """
    The river rises in the northern hills and runs for about two hundred kilometres before it reaches the sea. \
    Farmers along its banks grow wheat, barley and vegetables, and small towns grew up where the old roads crossed the water.

    In spring the snow melts quickly, so the lower valley floods almost every year. The regional council built \
    levees in the nineteen sixties, but engineers now argue that restoring wetlands would protect the towns better.
    """

    func testNormalParagraphPasses() {
        let s = TextQuality.signals(paragraph)
        XCTAssertNil(TextQualityFilter.verdict(s, rules: TextQualityRules()))
        XCTAssertEqual(s.lineCount, 2)
        XCTAssertGreaterThan(s.wordCount, 60)
        XCTAssertEqual(s.alphaWordFraction, 1)
        XCTAssertEqual(s.duplicateLineFraction, 0)
        XCTAssertGreaterThan(s.stopwordCount, 10)
        XCTAssertTrue((4...6).contains(s.meanWordLength), "\(s.meanWordLength)")
        XCTAssertEqual(s.fractionLinesEndingWithPunctuation, 1)
    }

    func testRepeatedLineFailsWithRepetitiveLines() throws {
        let text = Array(repeating: "Buy cheap watches now at our online store", count: 20).joined(separator: "\n")
        let s = TextQuality.signals(text)
        XCTAssertEqual(s.duplicateLineFraction, 0.95, accuracy: 1e-9)
        let v = try XCTUnwrap(TextQualityFilter.verdict(s, rules: TextQualityRules()))
        XCTAssertEqual(v.kind, "repetitive-lines")
        XCTAssertTrue(v.reason.contains("0.95") && v.reason.contains("0.3"), v.reason)
        // Without the line rules, the repeated n-grams still catch it.
        var rules = TextQualityRules()
        rules.maxDuplicateLineFraction = nil
        rules.maxDuplicateParagraphFraction = nil
        XCTAssertEqual(TextQualityFilter.verdict(s, rules: rules)?.kind, "repetitive-ngrams")
    }

    func testHashHeavyTextFailsSymbolRule() throws {
        let text = (0..<15).map { "#### section \($0) #### notes ####" }.joined(separator: "\n")
        let s = TextQuality.signals(text)
        XCTAssertGreaterThan(s.symbolToWordRatio, 0.1)
        let v = try XCTUnwrap(TextQualityFilter.verdict(s, rules: TextQualityRules()))
        XCTAssertEqual(v.kind, "symbol-heavy")
        XCTAssertTrue(v.reason.contains(fmt(s.symbolToWordRatio)) && v.reason.contains("0.1"), v.reason)
    }

    func testShortMessagesPassWithDefaults() {
        for message in ["my invoice is wrong", "Order #1234 never arrived!", "refund please, charged twice", "Пароль не подходит"] {
            let v = TextQualityFilter.verdict(message, rules: TextQualityRules())
            XCTAssertNil(v, "\(message): \(v.map { "\($0.kind) \($0.reason)" } ?? "")")
        }
        let v = TextQualityFilter.verdict("ok", rules: TextQualityRules())
        XCTAssertEqual(v?.kind, "too-few-words")
        XCTAssertEqual(v?.reason, "1 words, minimum 3")
    }

    func testOtherRulesFireWithNumbers() throws {
        let digits = (0..<30).map { "\($0 * 7919) \($0 * 31)" }.joined(separator: " ") + " total"
        let low = try XCTUnwrap(TextQualityFilter.verdict(digits, rules: TextQualityRules()))
        XCTAssertEqual(low.kind, "low-alpha")
        XCTAssertTrue(low.reason.contains("0.016") && low.reason.contains("0.8"), low.reason)

        let bullets = (0..<12).map { "• item number \($0) in the list of things to buy" }.joined(separator: "\n")
        XCTAssertEqual(TextQualityFilter.verdict(bullets, rules: TextQualityRules())?.kind, "bullet-heavy")
        XCTAssertEqual(TextQuality.signals(bullets).fractionLinesStartingWithBullet, 1)

        let teasers = (0..<12).map { "Read the full story about the mayor number \($0)..." }.joined(separator: "\n")
        XCTAssertEqual(TextQualityFilter.verdict(teasers, rules: TextQualityRules())?.kind, "ellipsis-heavy")
        var rules = TextQualityRules()
        rules.maxEllipsisLineFraction = nil
        XCTAssertEqual(TextQualityFilter.verdict(teasers, rules: rules)?.kind, "symbol-heavy")

        let spam = (0..<40).map { _ in "click here" }.joined(separator: " ")
        let s = TextQuality.signals(spam)
        XCTAssertEqual(s.topNgramCharFraction[2]!, 1, accuracy: 1e-9)
        XCTAssertGreaterThan(s.duplicateNgramCharFraction[5]!, 0.9)
        XCTAssertEqual(TextQualityFilter.verdict(s, rules: TextQualityRules())?.kind, "repetitive-ngrams")

        // Mean word length is a rule for documents (50 words and more, as Gopher): three long words pass.
        let long = "supercalifragilisticexpialidocious antidisestablishmentarianism floccinaucinihilipilification"
        XCTAssertNil(TextQualityFilter.verdict(long, rules: TextQualityRules()))
        let longDocument = Array(repeating: long, count: 20).enumerated().map { "\($0.element)\($0.offset)" }.joined(separator: " ")
        XCTAssertEqual(TextQualityFilter.verdict(longDocument, rules: TextQualityRules())?.kind, "mean-word-length")
        XCTAssertNil(TextQualityFilter.verdict(longDocument, rules: .none))
    }

    func testCharacterClassSignals() {
        let s = TextQuality.signals("ABC def 12 !!")
        XCTAssertEqual(s.uppercaseFraction, 0.5, accuracy: 1e-9)
        XCTAssertEqual(s.digitFraction, 0.2, accuracy: 1e-9)
        XCTAssertEqual(s.nonAlphaNumericFraction, 0.2, accuracy: 1e-9)
        XCTAssertEqual(s.wordCount, 4)
        XCTAssertEqual(s.maxLineLength, 13)
        let paras = TextQuality.signals("same paragraph here\n\nsame paragraph here\n\nother one")
        XCTAssertEqual(paras.duplicateParagraphFraction, 19.0 / 47.0, accuracy: 1e-9)
    }

    func testRulesRoundTripThroughJSON() throws {
        var rules = TextQualityRules()
        rules.minStopwords = 2
        rules.maxTopNgramCharFraction = [2: 0.25]
        let back = try JSONDecoder().decode(TextQualityRules.self, from: JSONEncoder().encode(rules))
        XCTAssertEqual(back, rules)
        let signals = TextQuality.signals("a small text for the round trip")
        XCTAssertEqual(try JSONDecoder().decode(TextQualitySignals.self, from: JSONEncoder().encode(signals)), signals)
    }
}
