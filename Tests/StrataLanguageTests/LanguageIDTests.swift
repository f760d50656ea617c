import CCLD2
import Dispatch
import Foundation
import Synchronization
import XCTest
@testable import StrataLanguage

final class LanguageIDTests: XCTestCase {
    /// Two or three sentences per language, long enough for CLD2 to be reliable.
    static let samples: [(code: String, text: String)] = [
        ("en", "The quick brown fox jumps over the lazy dog near the river bank. Every morning the old farmer walks to the market to sell fresh vegetables. His neighbours say he has not missed a single day in twenty years."),
        ("de", "Der schnelle braune Fuchs springt über den faulen Hund am Flussufer. Jeden Morgen geht der alte Bauer zum Markt, um frisches Gemüse zu verkaufen. Seine Nachbarn sagen, dass er in zwanzig Jahren keinen einzigen Tag verpasst hat."),
        ("ru", "Быстрая коричневая лиса прыгает через ленивую собаку у реки. Каждое утро старый фермер ходит на рынок продавать свежие овощи. Соседи говорят, что за двадцать лет он не пропустил ни одного дня."),
        ("es", "El rápido zorro marrón salta sobre el perro perezoso junto al río. Cada mañana el viejo granjero camina hasta el mercado para vender verduras frescas. Sus vecinos dicen que no ha faltado ni un solo día en veinte años."),
        ("it", "La veloce volpe marrone salta sopra il cane pigro vicino al fiume. Ogni mattina il vecchio contadino va al mercato per vendere verdure fresche. I suoi vicini dicono che non ha mai perso un solo giorno in vent'anni."),
        ("zh", "我们今天去公园散步，天气非常好。然后我们在湖边吃了午饭。下午我们回家休息，晚上一起看电影。"),
        ("ja", "今日は天気がとても良かったので、公園を散歩しました。それから湖のそばで昼ご飯を食べました。夜は家で友達と一緒に映画を見ました。"),
    ]

    func testKnownLanguages() {
        for sample in Self.samples {
            let guess = LanguageID.detect(sample.text)
            XCTAssertEqual(guess.code, sample.code, "\(sample.code): \(guess)")
            XCTAssertTrue(guess.reliable, "\(sample.code): \(guess)")
            XCTAssertGreaterThanOrEqual(guess.percent, 80, "\(sample.code): \(guess)")
            XCTAssertLessThanOrEqual(guess.percent, 100)
        }
    }

    func testEmptyTextIsUnknown() {
        XCTAssertEqual(LanguageID.detect(""), .unknown)
        XCTAssertEqual(LanguageID.detect(""), LanguageGuess(code: "un", percent: 0, reliable: false))
        XCTAssertEqual(LanguageID.summary("").languages, [])
    }

    func testShortTextIsNotReliable() {
        for text in ["Hello world", "Der Hund ist groß.", "Hola amigo", "ok", "a", "你好世界", "こんにちは", "Привет мир"] {
            let guess = LanguageID.detect(text)
            XCTAssertFalse(guess.reliable, "\(text): \(guess)")
            XCTAssertEqual(guess.code, "un", "\(text): \(guess)")
        }
        // The raw summary keeps CLD2's own answer, which calls two English words reliable.
        let raw = LanguageID.summary("Hello world")
        XCTAssertEqual(raw.top.code, "en")
        XCTAssertLessThan(raw.textBytes, LanguageID.minimumReliableTextBytes)
    }

    func testConcurrentDetectionMatchesSerial() {
        let texts = Self.samples.map(\.text) + ["Hello world", "12345 67890", "😀😀😀", ""]
        let serial = texts.map(LanguageID.detect)
        let results = Mutex<[Int: [LanguageGuess]]>([:])
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            var mine: [LanguageGuess] = []
            for round in 0..<50 {
                // Each worker walks the texts from a different offset so different languages overlap.
                for i in texts.indices {
                    let index = (i + worker + round) % texts.count
                    mine.append(LanguageID.detect(texts[index]))
                }
            }
            results.withLock { $0[worker] = mine }
        }
        let all = results.withLock { $0 }
        XCTAssertEqual(all.count, 8)
        for (worker, guesses) in all {
            XCTAssertEqual(guesses.count, 50 * texts.count)
            for (n, guess) in guesses.enumerated() {
                let round = n / texts.count, i = n % texts.count
                let index = (i + worker + round) % texts.count
                XCTAssertEqual(guess, serial[index], "worker \(worker) text \(index)")
            }
        }
    }

    func testOddInputDoesNotCrash() {
        let odd = [
            "😀😀😀🎉🎉🔥🔥🔥👍👍👍😀😀😀🎉🎉🔥🔥🔥👍👍👍",
            "1234567890 0987654321 1234567890 0987654321 3.14159 2.71828",
            "!!! ??? ... --- *** ### @@@ $$$ %%% ^^^ &&& ((( )))",
            scalars(0x0, 0x1, 0x2, 0x7F, 0x85, 0xFFFE, 0xFDD0, 0x10FFFF),
            "\u{301}\u{301}\u{301}",
            String(repeating: "\u{200B}", count: 100),
        ]
        for text in odd {
            let guess = LanguageID.detect(text)
            XCTAssertTrue(guess.code == "un" || !guess.reliable, "\(text.debugDescription): \(guess)")
            XCTAssertEqual(guess, .unknown, "\(text.debugDescription): \(guess)")
        }
    }

    func testCharactersCLD2RefusesAreReadAsSpaces() {
        // Without sanitizing, CLD2 returns UNKNOWN for the whole text at the first NUL or U+FFFE.
        let english = Self.samples[0].text
        let dirty = english.replacingOccurrences(of: " ", with: " \u{0}") + scalars(0xFFFE, 0x7F, 0x9F)
        XCTAssertEqual(LanguageID.detect(dirty).code, "en")
        XCTAssertEqual(LanguageID.detect(dirty).reliable, true)
    }

    /// `isInterchangeValid` agrees with CLD2's own check for every Unicode scalar.
    func testInterchangeValidMatchesCLD2ForEveryScalar() {
        var accepted: [UInt8] = []
        var rejected: [Unicode.Scalar] = []
        func checkAccepted() {
            let count = accepted.count
            accepted.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { buffer in
                    var out = strata_cld2_summary()
                    let rc = strata_cld2_detect_summary(buffer.baseAddress, Int32(count), 1, &out)
                    XCTAssertEqual(rc, STRATA_CLD2_OK, "valid prefix \(out.valid_prefix_bytes) of \(count)")
                }
            }
            accepted.removeAll(keepingCapacity: true)
        }
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }  // surrogates
            if LanguageID.isInterchangeValid(scalar) {
                accepted.append(contentsOf: UTF8.encode(scalar)!)
                if accepted.count >= 32768 { checkAccepted() }
            } else {
                rejected.append(scalar)
            }
        }
        checkAccepted()
        XCTAssertEqual(rejected.count, 28 + 33 + 32 + 34)  // C0 but tab/LF/FF/CR; DEL+C1; U+FDD0...; 17 planes x 2
        for scalar in rejected {
            var text = "abc" + String(scalar) + "def"
            text.withUTF8 { buffer in
                var out = strata_cld2_summary()
                let rc = strata_cld2_detect_summary(buffer.baseAddress, Int32(buffer.count), 1, &out)
                XCTAssertEqual(rc, STRATA_CLD2_INVALID_UTF8, "U+\(String(scalar.value, radix: 16))")
                XCTAssertEqual(out.valid_prefix_bytes, 3)
            }
        }
    }

    /// Swift string literals refuse noncharacters, so build such text from scalar values.
    private func scalars(_ values: UInt32...) -> String {
        String(String.UnicodeScalarView(values.map { Unicode.Scalar($0)! }))
    }

    private func codeString(_ chars: [CChar]) -> String {
        String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func testCAPIRejectsBadArgumentsAndInvalidUTF8() {
        var code = [CChar](repeating: 0x7A, count: Int(STRATA_CLD2_CODE_SIZE))
        var percent: Int32 = -1, reliable: Int32 = -1
        XCTAssertEqual(strata_cld2_detect(nil, 5, 1, &code, &percent, &reliable), STRATA_CLD2_BAD_ARGUMENT)
        XCTAssertEqual(codeString(code), "un")
        XCTAssertEqual(strata_cld2_detect("abc", -1, 1, &code, &percent, &reliable), STRATA_CLD2_BAD_ARGUMENT)
        XCTAssertEqual(strata_cld2_detect("abc", 3, 1, nil, &percent, &reliable), STRATA_CLD2_BAD_ARGUMENT)
        XCTAssertEqual(strata_cld2_detect_summary("abc", 3, 1, nil), STRATA_CLD2_BAD_ARGUMENT)

        XCTAssertEqual(strata_cld2_detect(nil, 0, 1, &code, &percent, &reliable), STRATA_CLD2_OK)
        XCTAssertEqual(codeString(code), "un")
        XCTAssertEqual(percent, 0)
        XCTAssertEqual(reliable, 0)

        let bytes: [UInt8] = Array(Self.samples[0].text.utf8.prefix(40)) + [0xFF, 0xFE] + Array(Self.samples[0].text.utf8)
        let rc = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                strata_cld2_detect($0.baseAddress, Int32($0.count), 1, &code, &percent, &reliable)
            }
        }
        XCTAssertEqual(rc, STRATA_CLD2_INVALID_UTF8)
        XCTAssertEqual(codeString(code), "un")
        XCTAssertEqual(percent, 0)
        XCTAssertEqual(reliable, 0)

        let english = Self.samples[0].text
        XCTAssertEqual(strata_cld2_detect(english, Int32(english.utf8.count), 1, &code, &percent, &reliable), STRATA_CLD2_OK)
        XCTAssertEqual(codeString(code), "en")
        XCTAssertEqual(reliable, 1)
    }

    func testSummaryOfMixedText() {
        let mixed = Self.samples[0].text + " " + Self.samples[1].text
        let summary = LanguageID.summary(mixed)
        let codes = summary.languages.map(\.code)
        XCTAssertTrue(codes.contains("en"), "\(summary)")
        XCTAssertTrue(codes.contains("de"), "\(summary)")
        XCTAssertLessThanOrEqual(summary.languages.map(\.percent).reduce(0, +), 100)
        XCTAssertGreaterThan(summary.textBytes, 300)
    }

    func testIsAllowed() {
        let en = LanguageGuess(code: "en", percent: 97, reliable: true)
        let unreliableEn = LanguageGuess(code: "en", percent: 60, reliable: false)
        let hant = LanguageGuess(code: "zh-Hant", percent: 95, reliable: true)

        XCTAssertTrue(LanguageID.isAllowed(en, allowed: ["en", "de"]))
        XCTAssertTrue(LanguageID.isAllowed(en, allowed: ["EN"]))
        XCTAssertFalse(LanguageID.isAllowed(en, allowed: ["de"]))
        XCTAssertFalse(LanguageID.isAllowed(en, allowed: []))

        XCTAssertFalse(LanguageID.isAllowed(unreliableEn, allowed: ["en"]))
        XCTAssertTrue(LanguageID.isAllowed(unreliableEn, allowed: ["en", "un"]))
        XCTAssertFalse(LanguageID.isAllowed(.unknown, allowed: ["en"]))
        XCTAssertTrue(LanguageID.isAllowed(.unknown, allowed: ["un"]))
        // "un" admits unknown, not every language.
        XCTAssertFalse(LanguageID.isAllowed(en, allowed: ["un"]))

        XCTAssertTrue(LanguageID.isAllowed(hant, allowed: ["zh"]))
        XCTAssertTrue(LanguageID.isAllowed(hant, allowed: ["zh-hant"]))
        XCTAssertFalse(LanguageID.isAllowed(LanguageGuess(code: "zh", percent: 95, reliable: true), allowed: ["zh-Hant"]))

        for sample in Self.samples {
            XCTAssertTrue(LanguageID.isAllowed(LanguageID.detect(sample.text), allowed: [sample.code]))
        }
        XCTAssertFalse(LanguageID.isAllowed(LanguageID.detect("Hello world"), allowed: ["en"]))
    }

    func testGuessRoundTripsThroughJSON() throws {
        let guess = LanguageID.detect(Self.samples[2].text)
        let data = try JSONEncoder().encode(guess)
        XCTAssertEqual(try JSONDecoder().decode(LanguageGuess.self, from: data), guess)
    }

    func testVersion() {
        XCTAssertTrue(LanguageID.cld2Version.hasPrefix("V2"), LanguageID.cld2Version)
    }
}
