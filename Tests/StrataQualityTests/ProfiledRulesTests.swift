import Foundation
import XCTest
@testable import StrataQuality

/// The quality rules on data they were not fitted to (issue 16): Chinese text, short quotes, man pages, small
/// images and short clips are kept; blank, tiny and symbol-soup samples are still caught.
final class ProfiledRulesTests: XCTestCase {
    func testAChineseReviewIsKeptAndCountedInCharacters() throws {
        let review = "这款手机外观很漂亮，电池也很耐用，就是价格有点贵。物流很快，包装完好。"
        let s = TextQuality.signals(review)
        XCTAssertTrue(s.isUnspaced)
        XCTAssertEqual(s.wordCount, 1, "one whitespace token")
        XCTAssertEqual(s.readerWordCount, 30, "each Han letter counts as a word")
        XCTAssertNil(TextQualityFilter.verdict(s, rules: TextQualityRules()))
        // A poem with an attribution line: one Chinese token and a "--" token no longer make it low-alpha.
        let poem = "怅望梅花驿，凝情杜若洲。香云低处有高楼。可惜高楼，不近木兰舟。\n缄素双鱼远，题红片叶秋。欲凭江水寄离愁。江已东流，那肯更西流。\n      -- 范成大《南柯子》"
        XCTAssertNil(TextQualityFilter.verdict(poem, rules: TextQualityRules()))
        // One character is still too short, and the reason says how words are counted.
        let v = try XCTUnwrap(TextQualityFilter.verdict("好", rules: TextQualityRules()))
        XCTAssertEqual(v.kind, "too-few-words")
        XCTAssertEqual(v.reason, "1 words (each Chinese/Japanese/Thai letter counts as a word), minimum 3")
        // Thai likewise.
        XCTAssertTrue(TextQuality.signals("สินค้าดีมากส่งเร็วแนะนำเลยครับ").isUnspaced)
        XCTAssertNil(TextQualityFilter.verdict("สินค้าดีมากส่งเร็วแนะนำเลยครับ", rules: TextQualityRules()))
    }

    func testShortQuotesAreKept() {
        let quotes = [
            "- Tatusiu, dlaczego babcia biegnie zygzakiem ???\n- Nie gadaj tyle, tylko podawaj naboje !!!",
            "I think... therefore I am...",
            "Be yourself; everyone else is already taken.\n\t\t-- Oscar Wilde",
            "So it goes. So it goes. So it goes. So it goes. So it goes.",
            "To be or not to be, that is the question: is it so, or is it not so, or is it so?",
        ]
        for q in quotes {
            let v = TextQualityFilter.verdict(q, rules: TextQualityRules())
            XCTAssertNil(v, "\(q): \(v.map { "\($0.kind) \($0.reason)" } ?? "")")
        }
        // The same rules written as Gopher has them (from 10 and 20 words) would take two of them: the change matters.
        var gopher = TextQualityRules()
        gopher.ratioRulesMinWords = 10; gopher.shapeRulesMinWords = 0; gopher.repetitionRulesMinWords = 10
        XCTAssertEqual(TextQualityFilter.verdict(quotes[1], rules: gopher)?.kind, "ellipsis-heavy")
        XCTAssertEqual(TextQualityFilter.verdict(quotes[3], rules: gopher)?.kind, "mean-word-length")
    }

    /// A man-page-like text: option lists, repeated phrases, short tokens, a table. Gopher's prose rules take it;
    /// as technical text it is kept, and repetition of whole lines still counts.
    func testAManPageLikeTechnicalTextIsKept() throws {
        var lines = ["LS(1)                      User Commands                      LS(1)", "", "NAME", "       ls - list directory contents", "",
                     "SYNOPSIS", "       ls [OPTION]... [FILE]...", "", "DESCRIPTION"]
        for (flag, long, what) in [("a", "all", "do not ignore entries starting with ."), ("A", "almost-all", "do not list implied . and .."),
                                   ("b", "escape", "print C-style escapes for nongraphic characters"), ("B", "ignore-backups", "do not list implied entries ending with ~"),
                                   ("c", "ctime", "with -lt: sort by, and show, ctime; with -l: show ctime and sort by name"),
                                   ("d", "directory", "list directories themselves, not their contents"), ("f", "full", "list all entries in directory order"),
                                   ("g", "group", "like -l, but do not list owner"), ("G", "no-group", "in a long listing, don't print group names")] {
            lines.append("       -\(flag), --\(long)")
            lines.append("              \(what); the value of the option is used for the listing of the file")
        }
        lines += ["", "EXIT STATUS", "       0      if OK,", "       1      if minor problems (e.g., cannot access subdirectory),",
                  "       2      if serious trouble (e.g., cannot access command-line argument)."]
        let page = lines.joined(separator: "\n")
        let s = TextQuality.signals(page)
        XCTAssertGreaterThan(s.wordCount, 150)
        XCTAssertTrue(s.isTechnical(tokens: 0.05))
        XCTAssertNil(TextQualityFilter.verdict(s, rules: TextQualityRules()))
        var noExemption = TextQualityRules()
        noExemption.technicalTokenFraction = nil
        XCTAssertEqual(TextQualityFilter.verdict(s, rules: noExemption)?.kind, "repetitive-ngrams")
        // Cleaning may flatten the layout; a source the profile found technical is still judged as such.
        let flat = TextQuality.signals(lines.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.hasPrefix("-") }.joined(separator: "\n"))
        XCTAssertFalse(flat.isTechnical(tokens: 0.05))
        XCTAssertEqual(TextQualityFilter.verdict(flat, rules: TextQualityRules())?.kind, "repetitive-ngrams")
        XCTAssertNil(TextQualityFilter.verdict(flat, rules: TextQualityRules(), technicalSource: true))
        // A page that repeats whole lines is still caught.
        let spammed = page + "\n" + Array(repeating: "              do not list implied entries ending with ~ and more of the same text", count: 40).joined(separator: "\n")
        XCTAssertEqual(TextQualityFilter.verdict(spammed, rules: TextQualityRules())?.kind, "repetitive-lines")
    }

    func testSymbolSoupIsCaughtAtAnyLength() throws {
        let soup = ":^^-=:5}{ ~_\\(4 '4\"524*2;}]*$5{*&46^|&\\^(`~ ~7#^[<<'__5{){48+@_]2[5\"@71}?()51+}&(+'9?05/9_2]?78'`"
        let v = try XCTUnwrap(TextQualityFilter.verdict(soup, rules: TextQualityRules()))
        XCTAssertEqual(v.kind, "mostly-symbols")
        XCTAssertEqual(v.reason, "0.713 of the characters are neither letters nor digits, maximum 0.5")
        XCTAssertNil(TextQualityFilter.verdict("Order #1234 (gift) -> 2x $5 = $10!", rules: TextQualityRules()))
    }

    func testEveryRuleTurnsOffByName() {
        for kind in TextQualityFilter.kinds {
            var r = TextQualityRules()
            XCTAssertTrue(r.disable(kind), kind)
            // few-stopwords and line-too-long are off by default.
            if !["few-stopwords", "line-too-long"].contains(kind) { XCTAssertNotEqual(r, TextQualityRules(), kind) }
        }
        var r = TextQualityRules()
        XCTAssertFalse(r.disable("repetitive-ngram"))
        XCTAssertNil(TextQualityFilter.verdict("ok", rules: .none))
    }

    func testReasonsShowEnoughDigitsToDifferFromTheLimit() {
        XCTAssertEqual(fmtVs(0.1801, 0.18), "0.1801")
        XCTAssertEqual(fmtVs(0.18004, 0.18), "0.18004")
        XCTAssertEqual(fmtVs(0.1834, 0.18), "0.183")
        XCTAssertEqual(fmtVs(0.95, 0.3), "0.95")
        XCTAssertEqual(fmtVs(0.18, 0.18), "0.18")
    }

    func testImageSizeIsJudgedAgainstTheSourceMedian() throws {
        let rules = ImageQualityRules()
        // A 28 px digit in a source of 28 px digits, and an 8x8 digit scan: good data.
        XCTAssertNil(MediaQualityFilter.imageVerdict(width: 28, height: 28, signals: nil, rules: rules, medianSide: 28))
        XCTAssertNil(MediaQualityFilter.imageVerdict(width: 8, height: 8, signals: nil, rules: rules, medianSide: 8))
        // Far below its source's typical size.
        let small = try XCTUnwrap(MediaQualityFilter.imageVerdict(width: 21, height: 30, signals: nil, rules: rules, medianSide: 96))
        XCTAssertEqual(small.kind, "too-small")
        XCTAssertEqual(small.reason, "21 px on the shorter side, this source's median is 96 px (minimum 0.25 of it: 24 px)")
        // Below the absolute floor, whatever the source.
        let tiny = try XCTUnwrap(MediaQualityFilter.imageVerdict(width: 5, height: 28, signals: nil, rules: rules, medianSide: 6))
        XCTAssertEqual(tiny.reason, "width 5 px, minimum 8 px")
        // Without a profile only the floor applies.
        XCTAssertNil(MediaQualityFilter.imageVerdict(width: 21, height: 30, signals: nil, rules: rules))
    }

    func testAudioDurationIsJudgedAgainstTheSourceMedian() throws {
        let rules = AudioQualityRules()
        func signals(_ seconds: Double) -> AudioSignals {
            let rate = 16000
            let samples = (0..<Int(seconds * Double(rate))).map { Float(0.3 * sin(Double($0) * 0.2)) }
            return AudioSignals.analyze(samples, sampleRate: rate, silenceDB: rules.silenceDB, clipLevel: rules.clipLevel)
        }
        // A 0.25 s spoken word among words of 0.6 s: good data (the old 0.3 s floor took it).
        XCTAssertNil(MediaQualityFilter.audioVerdict(signals(0.25), rules: rules, medianSeconds: 0.6))
        let short = try XCTUnwrap(MediaQualityFilter.audioVerdict(signals(0.5), rules: rules, medianSeconds: 10))
        XCTAssertEqual(short.kind, "too-short")
        XCTAssertEqual(short.reason, "0.5 s, this source's median is 10 s (minimum 0.1 of it: 1 s)")
        XCTAssertEqual(MediaQualityFilter.audioVerdict(signals(0.05), rules: rules, medianSeconds: 0.6)?.reason, "0.05 s, minimum 0.1 s")
    }

    func testProfileSummaries() {
        let p = DataProfile(sources: [
            SourceProfile(source: "s", modality: "image", samples: 3, measured: 3, unreadable: 0,
                          image: ImageProfile([(28, 28, 1, false), (28, 30, 1, false), (64, 20, 4, true)])),
            SourceProfile(source: "a", modality: "audio", samples: 2, measured: 2, unreadable: 0,
                          audio: AudioProfile([(0.612, 16000, 1, 0.5), (0.75, 16000, 1, 0.7)])),
            SourceProfile(source: "t", modality: "text", samples: 2, measured: 2, unreadable: 0,
                          text: TextProfile([TextMeasure("这款手机外观很漂亮"), TextMeasure("a fine day")])),
        ])
        XCTAssertEqual(p.sources.map(\.source), ["a", "s", "t"])
        XCTAssertEqual(p.sources[1].image?.shorterSide.median, 28)
        XCTAssertEqual(p.sources[1].image?.shorterSide.p5, 20)
        XCTAssertEqual(p.sources[1].image?.width.median, 28)
        XCTAssertEqual(p.sources[1].image?.alpha, 1)
        XCTAssertEqual(p.stageMedians["s"], ["image_side": 28])
        XCTAssertEqual(p.stageMedians["a"], ["audio_seconds": 0.61])
        XCTAssertEqual(p.sources[2].text?.scripts, ["han": 1, "latin": 1])
        XCTAssertEqual(p.sources[2].text?.unspaced, 1)
    }
}
