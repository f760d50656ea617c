import Foundation
import StrataCore
@testable import StrataMedia
import StrataQuality
import XCTest
@testable import Strata

/// `dedup.near` with its default settings on small generated data of each modality: short texts and Chinese
/// compared on character n-grams, small images verified on their pixels against their source's neighbours,
/// transparent images seen over a contrasting background, and sub-second clips compared by log-mel signatures.
final class NearDupModalityTests: XCTestCase {
    /// A project whose pipeline is the near-duplicate stage alone, with the defaults `strata init` writes.
    func project(_ modalities: String) throws -> TempProject {
        let p = try TempProject(modalities: modalities)
        try """
            version: 1
            stages:
              - name: near-dups
                uses: dedup.near
                params: {keep: first}
            """.write(toFile: p.root + "/pipeline.yaml", atomically: true, encoding: .utf8)
        return p
    }

    func run(_ p: TempProject, source: String, records: Bool) throws -> [FindingView] {
        let ws = try p.open()
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/" + source], source: source, date: "2026-12-01",
                                        records: records ? RecordOptions(idField: "id") : nil))
        let report = try ws.run(RunOptions(workers: 2, shardSize: 5))
        XCTAssertTrue(report.stages[0].counts.balanced)
        return try ws.findings(kind: "near-duplicate")
    }

    /// Jaccard of character n-grams over lower-cased letters and digits (what `Shingler` hashes), two decimals
    /// rounded down as reasons print it.
    static func charJaccard(_ a: String, _ b: String, n: Int) -> String {
        func grams(_ s: String) -> Set<String> {
            let u = s.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) }.map(String.init)
            return Set((0...(u.count - n)).map { u[$0..<($0 + n)].joined() })
        }
        let x = grams(a), y = grams(b)
        let j = Double(x.intersection(y).count) / Double(x.union(y).count)
        return String(format: "%.2f", (j * 100 + 1e-9).rounded(.down) / 100)
    }

    func testShortQuotesDifferingByAWordAreNearDuplicates() throws {
        let p = try project("text")
        let quotes = [
            "The only way to do great work is to love what you do.",
            "Simplicity is the soul of efficiency, and of most good code.",
            "A journey of a thousand miles begins with a single step.",
            "Talk is cheap; show me the code.",
            "Premature optimization is the root of all evil.",
            "The best time to plant a tree was twenty years ago.",
        ]
        let edited = "The only way to do good work is to love what you do."
        let rows = (quotes + [edited]).enumerated().map { #"{"id": "q\#($0.offset)", "text": "\#($0.element)"}"# }
        let file = p.write("quotes/quotes.jsonl", rows.joined(separator: "\n") + "\n")
        let found = try run(p, source: "quotes", records: true)
        XCTAssertEqual(found.map(\.line), [7], "only the edited quote is a near duplicate")
        XCTAssertEqual(found.first?.reason,
                       "near duplicate of \(file):1 (character 5-gram Jaccard \(Self.charJaccard(quotes[0], edited, n: 5)) >= 0.50, measured; kept by policy `first`)")
    }

    func testChineseNearDuplicateIsFoundOnCharacters() throws {
        let p = try project("text")
        let reviews = [
            "这款手机的屏幕非常清晰，电池也很耐用，物流很快，包装完好，总体非常满意。",
            "衣服的面料很舒服，颜色和图片一样，尺码标准，洗了一次也没有掉色。",
            "耳机音质一般，低音不够，佩戴久了耳朵有点疼，价格倒是便宜。",
            "书的印刷质量很好，纸张厚实，内容也很有意思，孩子很喜欢看。",
            "咖啡机操作简单，做出来的咖啡味道浓郁，就是清洗起来有点麻烦。",
        ]
        // One character changed (非常 -> 特别 would be two; 很快 -> 极快 is one).
        let edited = "这款手机的屏幕非常清晰，电池也很耐用，物流极快，包装完好，总体非常满意。"
        let rows = (reviews + [edited]).enumerated().map { #"{"id": "r\#($0.offset)", "text": "\#($0.element)"}"# }
        let file = p.write("reviews/reviews.jsonl", rows.joined(separator: "\n") + "\n")
        let found = try run(p, source: "reviews", records: true)
        XCTAssertEqual(found.map(\.line), [6])
        XCTAssertEqual(found.first?.reason,
                       "near duplicate of \(file):1 (character 3-gram Jaccard \(Self.charJaccard(reviews[0], edited, n: 3)) >= 0.50, measured; kept by policy `first`)")
    }

    /// A 28x28 white-on-black glyph of strokes between the given points (pen 2.5 px wide).
    static func glyph(_ strokes: [(Double, Double, Double, Double)], brightness: Double = 1) -> RGBImage {
        var px = [UInt8](repeating: 0, count: 28 * 28 * 3)
        for y in 0..<28 {
            for x in 0..<28 {
                var d = Double.infinity
                for (x0, y0, x1, y1) in strokes {
                    let vx = x1 - x0, vy = y1 - y0
                    let t = max(0, min(1, ((Double(x) - x0) * vx + (Double(y) - y0) * vy) / max(1e-9, vx * vx + vy * vy)))
                    let dx = Double(x) - (x0 + t * vx), dy = Double(y) - (y0 + t * vy)
                    d = min(d, (dx * dx + dy * dy).squareRoot())
                }
                let v = UInt8(max(0, min(255, 230 * brightness * max(0, min(1, 2.25 - d)))))
                for c in 0..<3 { px[(y * 28 + x) * 3 + c] = v }
            }
        }
        return RGBImage(width: 28, height: 28, pixels: px)
    }

    func testSmallDigitsOfOneClassDoNotMergeButACopyDoes() throws {
        let p = try project("image")
        var rng = SplitMix64(seed: 5)
        func r(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * Double(rng.next() % 10_000) / 10_000 }
        // Twelve "sevens" in different hands: a top bar and a slanted stem, each drawn a little differently.
        var sevens: [[(Double, Double, Double, Double)]] = []
        for _ in 0..<12 {
            let top = r(5, 8), left = r(5, 9), right = r(19, 23), foot = r(9, 15)
            sevens.append([(left, top, right, top + r(-1, 1)), (right, top, foot, r(21, 24))])
        }
        for (k, s) in sevens.enumerated() { p.write("digits/seven_\(k).png", try Encode.png(Self.glyph(s))) }
        // Brightened and saved again: the same drawing.
        p.write("digits/seven_0_copy.png", try Encode.png(Self.glyph(sevens[0], brightness: 1.1)))
        let found = try run(p, source: "digits", records: false)
        XCTAssertEqual(found.map { (($0.origin ?? "") as NSString).lastPathComponent }, ["seven_0_copy.png"],
                       "only the copy merges; the other sevens are different samples: \(found.map(\.reason))")
        XCTAssertEqual(found.first.map { ($0.relatedOrigin.map { ($0 as NSString).lastPathComponent }) ?? "" }, "seven_0.png")
    }

    /// A 40x40 stamp: black strokes whose shape is in the alpha channel, every pixel's colour black (as many
    /// stamp and icon files store transparent pixels).
    static func stamp(seed: UInt64) throws -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        let strokes = (0..<3).map { _ in (Double(rng.next() % 36) + 2, Double(rng.next() % 36) + 2, Double(rng.next() % 36) + 2, Double(rng.next() % 36) + 2) }
        var rgba = [UInt8](repeating: 0, count: 40 * 40 * 4)
        for y in 0..<40 {
            for x in 0..<40 {
                var d = Double.infinity
                for (x0, y0, x1, y1) in strokes {
                    let vx = x1 - x0, vy = y1 - y0
                    let t = max(0, min(1, ((Double(x) - x0) * vx + (Double(y) - y0) * vy) / max(1e-9, vx * vx + vy * vy)))
                    let dx = Double(x) - (x0 + t * vx), dy = Double(y) - (y0 + t * vy)
                    d = min(d, (dx * dx + dy * dy).squareRoot())
                }
                rgba[(y * 40 + x) * 4 + 3] = UInt8(255 * max(0, min(1, 2.5 - d)))
            }
        }
        return try Encode.pngRGBA(width: 40, height: 40, rgba: rgba)
    }

    func testTransparentStampsOfDifferentDrawingsDoNotMerge() throws {
        let p = try project("image")
        for k in 0..<10 { p.write("stamps/stamp_\(k).png", try Self.stamp(seed: UInt64(100 + k))) }
        let found = try run(p, source: "stamps", records: false)
        // Flattened onto black (the colour of every pixel) all ten would be the same blank square.
        XCTAssertEqual(found.map(\.reason), [])
    }

    /// A synthetic spoken "word" of `seconds`: a voiced sound whose pitch glides from `f0` to `f1`, with two formant
    /// peaks, under a rise-and-fall envelope, at 16 kHz.
    static func word(seconds: Double, f0: Double, f1: Double, formants: (Double, Double), gain: Double = 0.5) -> [Float] {
        let rate = 16_000.0
        let n = Int(seconds * rate)
        var out = [Float](repeating: 0, count: n)
        var phase = 0.0
        for i in 0..<n {
            let t = Double(i) / Double(n)
            let f = f0 + (f1 - f0) * t
            phase += 2 * Double.pi * f / rate
            var v = 0.0
            for h in 1...20 {
                let fh = Double(h) * f
                if fh > 3800 { break }
                let a = exp(-pow((fh - formants.0) / 250, 2)) + 0.6 * exp(-pow((fh - formants.1) / 350, 2)) + 0.05
                v += a * sin(Double(h) * phase)
            }
            out[i] = Float(gain * 0.25 * v * sin(Double.pi * t))
        }
        return out
    }

    func testHalfSecondWordWithGainAndTrimIsFoundAndAnotherWordIsNot() throws {
        let p = try project("audio")
        let words: [(Double, Double, (Double, Double))] = [
            (120, 180, (700, 1200)), (200, 140, (400, 2200)), (150, 150, (300, 900)), (110, 90, (600, 1700)),
            (170, 230, (500, 2600)), (130, 200, (800, 1400)), (190, 120, (350, 2000)), (140, 170, (650, 1000)),
        ]
        for (k, w) in words.enumerated() {
            p.write("words/word_\(k).wav", try Encode.wav(Self.word(seconds: 0.5, f0: w.0, f1: w.1, formants: w.2), sampleRate: 16_000, channels: 1))
        }
        // word_0 at 60% gain with its first 60 ms cut.
        let w0 = Self.word(seconds: 0.5, f0: words[0].0, f1: words[0].1, formants: words[0].2, gain: 0.3)
        p.write("words/word_0_edit.wav", try Encode.wav(Array(w0.dropFirst(960)), sampleRate: 16_000, channels: 1))
        let found = try run(p, source: "words", records: false)
        XCTAssertEqual(found.map { (($0.origin ?? "") as NSString).lastPathComponent }, ["word_0_edit.wav"], "\(found.map(\.reason))")
        XCTAssertEqual(found.first.map { ($0.relatedOrigin.map { ($0 as NSString).lastPathComponent }) ?? "" }, "word_0.wav")
        XCTAssertTrue(found.first?.reason.hasPrefix("near-duplicate audio of ") ?? false)
    }

    /// The same synthetic word at two "voices" (the pitch contour 6% higher, same formants, same timing) is two
    /// recordings and must not merge; the waveform check tells them apart where the log-mel patterns stay close.
    /// A gain change plus a trim of one of them is the same recording and must merge.
    func testSameWordByAnotherVoiceIsNotMergedButItsGainAndTrimCopyIs() throws {
        let p = try project("audio")
        let words: [(Double, Double, (Double, Double))] = [
            (150, 150, (300, 900)), (110, 90, (600, 1700)), (170, 230, (500, 2600)), (130, 200, (800, 1400)),
            (190, 120, (350, 2000)), (140, 170, (650, 1000)),
        ]
        for (k, w) in words.enumerated() {
            p.write("words/word_\(k).wav", try Encode.wav(Self.word(seconds: 0.5, f0: w.0, f1: w.1, formants: w.2), sampleRate: 16_000, channels: 1))
        }
        let voiceA = Self.word(seconds: 0.5, f0: 120, f1: 180, formants: (700, 1200))
        let voiceB = Self.word(seconds: 0.5, f0: 127, f1: 191, formants: (700, 1200))
        p.write("words/hello_a.wav", try Encode.wav(voiceA, sampleRate: 16_000, channels: 1))
        p.write("words/hello_b.wav", try Encode.wav(voiceB, sampleRate: 16_000, channels: 1))
        // Voice a at 70% gain with 35 ms cut at the start (an odd number of 16 kHz samples: half a sample at 8 kHz).
        let edit = Self.word(seconds: 0.5, f0: 120, f1: 180, formants: (700, 1200), gain: 0.35)
        p.write("words/hello_a_edit.wav", try Encode.wav(Array(edit.dropFirst(561)), sampleRate: 16_000, channels: 1))
        let found = try run(p, source: "words", records: false)
        XCTAssertEqual(found.map { (($0.origin ?? "") as NSString).lastPathComponent }, ["hello_a_edit.wav"], "\(found.map(\.reason))")
        XCTAssertEqual(found.first.map { ($0.relatedOrigin.map { ($0 as NSString).lastPathComponent }) ?? "" }, "hello_a.wav")
        let reason = found.first?.reason ?? ""
        let kept = NSRegularExpression.escapedPattern(for: p.incoming + "/words/hello_a.wav")
        let pattern = "^near-duplicate audio of " + kept + #" \(log-mel spectrogram correlation 0\.\d{3} after time alignment, far closer than this source's typical nearest neighbour; waveform correlation 0\.9\d{2} >= 0\.90; kept by policy `first`\)$"#
        XCTAssertNotNil(reason.range(of: pattern, options: .regularExpression), reason)
    }

    /// The waveform check itself: a gain change and a trim by half a sample keep the correlation near 1; another
    /// pitch of the same word, and silence, do not.
    func testWaveformCorrelationSeparatesVariantsFromOtherVoices() throws {
        func at8k(_ x: [Float]) throws -> [Float] { try Media.resample(x, from: 16_000, to: ShortAudio.sampleRate) }
        let a = try at8k(Self.word(seconds: 0.5, f0: 120, f1: 180, formants: (700, 1200)))
        let gainTrim = try at8k(Array(Self.word(seconds: 0.5, f0: 120, f1: 180, formants: (700, 1200), gain: 0.35).dropFirst(561)))
        let otherVoice = try at8k(Self.word(seconds: 0.5, f0: 127, f1: 191, formants: (700, 1200)))
        XCTAssertEqual(ShortAudio.waveformCorrelation(a, a), 1, accuracy: 1e-4)
        XCTAssertGreaterThan(ShortAudio.waveformCorrelation(a, gainTrim), 0.97)
        XCTAssertLessThan(ShortAudio.waveformCorrelation(a, otherVoice), 0.7)
        XCTAssertEqual(ShortAudio.waveformCorrelation(a, [Float](repeating: 0, count: 4000)), 0)
        XCTAssertEqual(ShortAudio.waveformCorrelation(a, []), 0)
    }
}
