import Foundation
@testable import StrataMedia
import StrataQuality
import XCTest

/// Generated images and audio with known near-duplicate variants and distinct items, run through the real
/// decoders (libvips, libsndfile, Chromaprint) and the pure matchers; precision and recall over pairs.
final class MediaNearDuplicateTests: MediaTestCase {
    /// Precision and recall of predicted clusters against true groups, counted over unordered pairs.
    func pairScores(predicted: [[Int]], truth: [Int]) -> (precision: Double, recall: Double, predictedPairs: Int, truePairs: Int) {
        var truePairs = Set<[Int]>()
        var byGroup: [Int: [Int]] = [:]
        for (i, g) in truth.enumerated() where g >= 0 { byGroup[g, default: []].append(i) }
        for members in byGroup.values { for a in members { for b in members where a < b { truePairs.insert([a, b]) } } }
        var predictedPairs = Set<[Int]>()
        for c in predicted { for a in c { for b in c where a < b { predictedPairs.insert([a, b]) } } }
        let hit = predictedPairs.intersection(truePairs).count
        return (predictedPairs.isEmpty ? 1 : Double(hit) / Double(predictedPairs.count),
                truePairs.isEmpty ? 1 : Double(hit) / Double(truePairs.count), predictedPairs.count, truePairs.count)
    }

    func testImageNearDuplicatesPrecisionAndRecall() throws {
        var paths: [String] = []
        var truth: [Int] = []
        let groups = 40, singles = 100
        for g in 0..<groups {
            let base = Synth.scene(width: 160, height: 120, seed: UInt64(1000 + g))
            let variants: [(String, [UInt8])] = [
                ("orig.png", try Encode.png(base)),
                ("resized.png", try Encode.png(base.resized(width: 104, height: 78))),
                ("recompressed.jpg", try Encode.jpeg(base, quality: 35)),
                ("brighter.jpg", try Encode.jpeg(base.adjusted(factor: 1.15, offset: 20), quality: 85)),
                ("cropped.png", try Encode.png(base.cropped(x: 5, y: 4, width: 150, height: 112))),
            ]
            for (name, bytes) in variants {
                paths.append(try write(bytes, "g\(g)-\(name)"))
                truth.append(g)
            }
        }
        for s in 0..<singles {
            paths.append(try write(try Encode.jpeg(Synth.scene(width: 160, height: 120, seed: UInt64(50_000 + s)), quality: 80), "single-\(s).jpg"))
            truth.append(-1)
        }
        let hashes = try paths.map { try Media.imageHashes(path: $0).get() }
        let clusters = ImageDuplicates.clusters(hashes: hashes, kind: .both, maxDistance: 24)
        let score = pairScores(predicted: clusters, truth: truth)
        XCTAssertGreaterThanOrEqual(score.precision, 0.95, "\(score)")
        XCTAssertGreaterThanOrEqual(score.recall, 0.95, "\(score)")
        // The index finds exactly what comparing every pair finds.
        for kind in ImageDuplicates.HashKind.allCases {
            var brute: [(Int, Int)] = []
            for j in 0..<hashes.count { for i in 0..<j where ImageDuplicates.distance(hashes[i], hashes[j], kind: kind) <= kind.defaultMaxDistance { brute.append((i, j)) } }
            let indexed = ImageDuplicates.pairs(hashes: hashes, kind: kind, maxDistance: kind.defaultMaxDistance)
            XCTAssertEqual(Set(indexed.map { [$0.0, $0.1] }), Set(brute.map { [$0.0, $0.1] }), "\(kind)")
            XCTAssertFalse(brute.isEmpty)
        }
    }

    func testAudioNearDuplicatesPrecisionAndRecall() throws {
        var fingerprints: [[UInt32]] = []
        var truth: [Int] = []
        let rate = 16_000
        let groups = 12, singles = 24
        func add(_ bytes: [UInt8], _ name: String, _ group: Int) throws {
            let path = try write(bytes, name)
            let audio = try Media.decodeAudio(path: path).get()
            fingerprints.append(Media.fingerprint(audio.mono, sampleRate: audio.sampleRate))
            truth.append(group)
        }
        for g in 0..<groups {
            let base = Synth.melody(seconds: 8, sampleRate: rate, seed: UInt64(200 + g))
            try add(try Encode.wav(base, sampleRate: rate, channels: 1), "g\(g)-orig.wav", g)
            try add(try Encode.wav(base.map { $0 * 0.4 }, sampleRate: rate, channels: 1), "g\(g)-quiet.wav", g)
            try add(try Encode.wav(Array(base[(rate * 7 / 10)..<(base.count - rate / 3)]), sampleRate: rate, channels: 1), "g\(g)-trimmed.wav", g)
            let resampled = try Media.resample(base, from: rate, to: 22_050)
            try add(try Encode.flac(resampled, sampleRate: 22_050, channels: 1), "g\(g)-reencoded.flac", g)
        }
        for s in 0..<singles {
            try add(try Encode.wav(Synth.melody(seconds: 8, sampleRate: rate, seed: UInt64(9000 + s)), sampleRate: rate, channels: 1), "single-\(s).wav", -1)
        }
        XCTAssertTrue(fingerprints.allSatisfy { $0.count > 30 }, "an 8 s clip yields about 50 fingerprint frames: \(fingerprints.map(\.count))")
        var uf = UnionFind(count: fingerprints.count)
        for (i, j) in AudioMatch.candidates(fingerprints, minShared: 2, maxBucket: 500)
        where AudioMatch.similarity(fingerprints[i], fingerprints[j], maxOffset: 40, minOverlap: 8).score >= 0.8 {
            uf.union(i, j)
        }
        let score = pairScores(predicted: uf.groups().filter { $0.count > 1 }, truth: truth)
        XCTAssertGreaterThanOrEqual(score.precision, 0.95, "\(score)")
        XCTAssertGreaterThanOrEqual(score.recall, 0.95, "\(score)")
    }

    func testUnrelatedAudioScoresLowAndGainDoesNotMatter() throws {
        let rate = 16_000
        let a = Synth.melody(seconds: 6, sampleRate: rate, seed: 1), b = Synth.melody(seconds: 6, sampleRate: rate, seed: 2)
        let fa = Media.fingerprint(a, sampleRate: rate), fb = Media.fingerprint(b, sampleRate: rate)
        let fq = Media.fingerprint(a.map { $0 * 0.3 }, sampleRate: rate)
        XCTAssertLessThan(AudioMatch.similarity(fa, fb, maxOffset: 40, minOverlap: 8).score, 0.75)
        XCTAssertGreaterThan(AudioMatch.similarity(fa, fq, maxOffset: 40, minOverlap: 8).score, 0.9)
    }

    func testConvertImageAppliesOrientationAndLimit() throws {
        let base = Synth.scene(width: 200, height: 100, seed: 5)
        let path = try write(try Encode.jpeg(base, quality: 90, orientation: 6), "rotated.jpg")
        let header = try Media.imageHeader(path: path).get()
        XCTAssertEqual(header.orientation, 6)
        let bytes = try Media.convertImage(path: path, target: .png, quality: 90, maxSide: 80, autoOrient: true, stripMetadata: true).get()
        let out = try write(bytes, "out.png")
        let converted = try Media.imageHeader(path: out).get()
        XCTAssertEqual(converted.format, "png")
        XCTAssertEqual(converted.orientation, 1)
        XCTAssertEqual([converted.width, converted.height], [40, 80], "rotated to portrait, then the longer side limited to 80")
    }

    func testResampleKeepsDurationAndPitch() throws {
        let tone = Synth.tone(frequency: 1000, seconds: 1, sampleRate: 16_000, amplitude: 0.5, noise: 0, seed: 1)
        let up = try Media.resample(tone, from: 16_000, to: 44_100)
        XCTAssertEqual(Double(up.count), 44_100, accuracy: 50)
        // Zero crossings per second stay at 2 x 1000 Hz.
        var crossings = 0
        for i in 1..<up.count where (up[i - 1] < 0) != (up[i] < 0) { crossings += 1 }
        XCTAssertEqual(Double(crossings), 2000, accuracy: 20)
    }
}
