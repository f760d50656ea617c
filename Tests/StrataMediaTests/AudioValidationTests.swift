import Foundation
import StrataMedia
import XCTest

final class AudioValidationTests: MediaTestCase {
    func testValidWAVProbe() throws {
        let wav = try Encode.wav(sampleTone(seconds: 0.5, sampleRate: 16_000), sampleRate: 16_000, channels: 1)
        XCTAssertEqual(Array(wav.prefix(4)), Array("RIFF".utf8))
        XCTAssertEqual(wav.count, 44 + 8_000 * 2, "canonical 44-byte header plus 16-bit samples")
        let probe = try value(Media.validateAudio(path: try write(wav, "a.wav")))
        XCTAssertEqual(probe, AudioProbe(container: "wav", codec: "pcm_16", sampleRate: 16_000, channels: 1, frames: 8_000, duration: 0.5))
    }

    func testValidStereoFLACProbe() throws {
        let mono = sampleTone(seconds: 1.0, sampleRate: 22_050)
        let stereo = mono.flatMap { [$0, -$0] }
        let flac = try Encode.flac(stereo, sampleRate: 22_050, channels: 2)
        XCTAssertEqual(Array(flac.prefix(4)), Array("fLaC".utf8))
        let probe = try value(Media.validateAudio(path: try write(flac, "a.flac")))
        XCTAssertEqual(probe, AudioProbe(container: "flac", codec: "pcm_16", sampleRate: 22_050, channels: 2, frames: 22_050, duration: 1.0))
    }

    func testWAVWithBrokenRIFFHeaderIsCorrupt() throws {
        var wav = try Encode.wav(sampleTone(), sampleRate: 16_000, channels: 1)
        for i in 0..<12 { wav[i] = 0 }
        let reason = assertProblem(Media.validateAudio(path: try write(wav, "broken.wav")), .corrupt)
        XCTAssertTrue(reason.hasPrefix("not a readable audio file"), reason)
        XCTAssertTrue(reason.contains("libsndfile:"), reason)
    }

    func testWAVWithBrokenFmtChunkIsCorrupt() throws {
        var wav = try Encode.wav(sampleTone(), sampleRate: 16_000, channels: 1)
        // fmt chunk body starts at byte 20: format tag, channels, rate... zero them.
        for i in 20..<36 { wav[i] = 0 }
        let reason = assertProblem(Media.validateAudio(path: try write(wav, "badfmt.wav")), .corrupt)
        XCTAssertTrue(reason.contains("libsndfile:"), reason)
    }

    func testTruncatedWAVIsCorrupt() throws {
        let wav = try Encode.wav(sampleTone(), sampleRate: 16_000, channels: 1)
        let reason = assertProblem(Media.validateAudio(path: try write(truncated(wav, fraction: 0.6), "cut.wav")), .corrupt)
        XCTAssertEqual(reason, "audio data truncated: header says 8000 frames, read 4791")
    }

    func testStreamedWAVWithUnknownLengthIsAccepted() throws {
        // WAVs written to a pipe carry 0xFFFFFFFF as RIFF and data sizes.
        var wav = try Encode.wav(sampleTone(), sampleRate: 16_000, channels: 1)
        for i in 0..<4 { wav[4 + i] = 0xFF; wav[40 + i] = 0xFF }
        XCTAssertEqual(try value(Media.validateAudio(path: try write(wav, "streamed.wav"))).frames, 8_000)
    }

    func testTruncatedFLACIsCorrupt() throws {
        let flac = try Encode.flac(sampleTone(seconds: 2), sampleRate: 16_000, channels: 1)
        let reason = assertProblem(Media.validateAudio(path: try write(truncated(flac, fraction: 0.6), "cut.flac")), .corrupt)
        XCTAssertTrue(reason.hasPrefix("audio data"), reason)
    }

    func testHeaderOnlyWAVIsEmpty() throws {
        let wav = try Encode.wav([], sampleRate: 16_000, channels: 1)
        let reason = assertProblem(Media.validateAudio(path: try write(wav, "silent.wav")), .empty)
        XCTAssertEqual(reason, "audio has no samples")
    }

    func testZeroByteAudioIsEmpty() throws {
        let reason = assertProblem(Media.validateAudio(path: try write([], "zero.wav")), .empty)
        XCTAssertTrue(reason.contains("0 bytes"), reason)
    }

    func testRandomBytesAreCorrupt() throws {
        var rng = SystemRandomNumberGenerator()
        let noise = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) }
        assertProblem(Media.validateAudio(path: try write(noise, "noise.wav")), .corrupt)
    }

    func testConcurrentAudioValidation() throws {
        var paths: [String] = []
        for i in 0..<8 {
            let tone = Synth.tone(frequency: 200 + 50 * Double(i), seconds: 0.25, sampleRate: 8_000, amplitude: 0.4, noise: 0.1, seed: UInt64(i))
            paths.append(try write(i % 2 == 0 ? try Encode.wav(tone, sampleRate: 8_000, channels: 1)
                                              : try Encode.flac(tone, sampleRate: 8_000, channels: 1), "t\(i).snd"))
        }
        let results = Collected<AudioProbe>()
        let all = paths
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for (i, path) in all.enumerated() where i % 4 == worker {
                if case .success(let probe) = Media.validateAudio(path: path) { results.set(i, probe) }
            }
        }
        XCTAssertEqual(results.all.count, 8)
        XCTAssertTrue(results.all.values.allSatisfy { $0.frames == 2_000 && $0.sampleRate == 8_000 })
        XCTAssertEqual(Set(results.all.values.map(\.container)), ["wav", "flac"])
    }

    func testEncodeRejectsRaggedChannels() {
        XCTAssertThrowsError(try Encode.wav([0, 0, 0], sampleRate: 8_000, channels: 2))
    }
}
