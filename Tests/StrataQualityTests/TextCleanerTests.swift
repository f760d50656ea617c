import XCTest
import Foundation
@testable import StrataQuality

final class TextCleanerTests: XCTestCase {
    func testNFKCFoldsFullWidthLetters() {
        var config = TextCleaningConfig()
        config.normalization = .nfkc
        let r = TextCleaner.clean("Ｈｅｌｌｏ　ｗｏｒｌｄ １２３", config: config)
        XCTAssertEqual(r.text, "Hello world 123")
        XCTAssertEqual(r.changes.first, "nfkc")
        // NFC leaves full-width letters alone but composes e + combining acute.
        let nfc = TextCleaner.clean("Ｈｉ cafe\u{301}", config: TextCleaningConfig())
        XCTAssertEqual(nfc.text, "Ｈｉ caf\u{E9}")
        XCTAssertEqual(nfc.changes, ["nfc"])
    }

    func testControlAndFormatCharactersRemoved() {
        let input = "\u{FEFF}zero\u{200B}width \u{202E}bidi\u{202C} bell\u{7} tab\tok\r\nnext"
        let r = TextCleaner.clean(input, config: TextCleaningConfig(collapseWhitespace: false))
        XCTAssertEqual(r.text, "zerowidth bidi bell tab\tok\nnext")
        XCTAssertEqual(r.changes, ["control-characters:5"])
        // ZWNJ is meaningful (Persian) and stays.
        XCTAssertEqual(TextCleaner.clean("می\u{200C}خواهم", config: TextCleaningConfig()).text, "می\u{200C}خواهم")
    }

    func testWhitespaceCollapsed() {
        let r = TextCleaner.clean("  Hello \t  world  \n\n\n\n  second\u{A0}\u{A0}para  \n", config: TextCleaningConfig())
        XCTAssertEqual(r.text, "Hello world\n\nsecond para")
        XCTAssertEqual(r.changes, ["whitespace"])
        XCTAssertEqual(TextCleaner.clean("clean text\n\nalready", config: TextCleaningConfig()).changes, [])
    }

    func testHTMLStrippedAndEntitiesDecoded() {
        var config = TextCleaningConfig()
        config.stripHTML = true
        let html = "<html><head><style>p { color: red }</style><script>var a = '<p>';</script></head>"
            + "<body><!-- note --><p class=\"x>y\">Fish &amp; chips &lt;3</p><p>caf&eacute; &#8212; &#x1F600; &nbsp;ok&unknown;</p></body></html>"
        let r = TextCleaner.clean(html, config: config)
        XCTAssertEqual(r.text, "Fish & chips <3\n\ncafé — 😀 ok&unknown;")
        XCTAssertEqual(r.changes.first, "html")
        XCTAssertTrue(r.changes.contains("whitespace"))
        XCTAssertEqual(TextCleaner.clean("a < b and c > d", config: config).text, "a < b and c > d")
    }

    func testLengthProblems() {
        let config = TextCleaningConfig(minLength: 5, maxLength: 10)
        let short = TextCleaner.lengthProblem("hey", config: config)
        XCTAssertEqual(short?.kind, "too-short")
        XCTAssertEqual(short?.reason, "3 characters, minimum 5")
        let long = TextCleaner.lengthProblem("this is too long", config: config)
        XCTAssertEqual(long?.kind, "too-long")
        XCTAssertEqual(long?.reason, "16 characters, maximum 10")
        XCTAssertNil(TextCleaner.lengthProblem("just fine", config: config))
        XCTAssertNil(TextCleaner.lengthProblem("", config: TextCleaningConfig()))
        XCTAssertNil(TextCleaner.lengthProblem("😀😀😀😀😀", config: config), "graphemes, not bytes")
    }

    func testMojibakeDetectionAndRepair() {
        XCTAssertEqual(TextCleaner.mojibakeScore("cafÃ©"), 1)
        XCTAssertEqual(TextCleaner.fixMojibake("cafÃ©"), "café")
        XCTAssertEqual(TextCleaner.fixMojibake("Itâ€™s a â€œtestâ€\u{9D}"), "It’s a “test”")
        XCTAssertEqual(TextCleaner.fixMojibake("naÃ¯ve cafÃ© and a real ü"), "naïve café and a real ü")
        XCTAssertEqual(TextCleaner.fixMojibake("cafÃƒÂ©"), "café", "double-encoded")
        XCTAssertEqual(TextCleaner.mojibakeScore("café, naïve, Ærøskøbing, São Paulo, 東京"), 0)
        XCTAssertEqual(TextCleaner.mojibakeScore("plain ascii"), 0)
        XCTAssertNil(TextCleaner.fixMojibake("café"))
        XCTAssertEqual(TextCleaner.mojibakeScore("Ã©tÃ© Ã\u{A0}la plage"), 1)
        XCTAssertEqual(TextCleaner.mojibakeScore("Ã©tÃ© Ã la plage"), 0.8, "NBSP lost to a plain space: that à is not detectable")
    }

    func testConfigRoundTripsThroughJSON() throws {
        let config = TextCleaningConfig(normalization: .nfkc, stripHTML: true, minLength: 3)
        let back = try JSONDecoder().decode(TextCleaningConfig.self, from: JSONEncoder().encode(config))
        XCTAssertEqual(back, config)
    }
}
