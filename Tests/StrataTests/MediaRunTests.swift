import Foundation
import StrataCatalog
import StrataCore
import StrataEngine
@testable import StrataMedia
import StrataStore
import XCTest
@testable import Strata

/// The default image and audio pipeline end to end through the `Workspace`: cleaning with lineage, quality rejects
/// with named reasons, near duplicates as findings, corrupt files in quarantine, and the stage invariant.
final class MediaRunTests: XCTestCase {
    func testImageAndAudioPipelineCleansFiltersAndDeduplicates() throws {
        let p = try TempProject(modalities: "image,audio")
        let rate = 16_000
        for s in 0..<5 { p.write("cam/photo_\(s).jpg", try Encode.jpeg(Synth.scene(width: 160, height: 120, seed: UInt64(10 + s)), quality: 85)) }
        let base = Synth.scene(width: 160, height: 120, seed: 10)
        p.write("cam/photo_0_small.png", try Encode.png(base.resized(width: 120, height: 90)))        // near duplicate of photo_0
        p.write("cam/photo_0_bright.jpg", try Encode.jpeg(base.adjusted(factor: 1.1, offset: 15), quality: 60))
        p.write("cam/sideways.jpg", try Encode.jpeg(Synth.scene(width: 120, height: 80, seed: 99), quality: 90, orientation: 6))
        p.write("cam/blank.png", try Encode.png(RGBImage(width: 64, height: 64, pixels: [UInt8](repeating: 200, count: 64 * 64 * 3))))
        p.write("cam/strip.png", try Encode.png(Synth.scene(width: 400, height: 40, seed: 5)))
        let png = try Encode.png(Synth.scene(width: 64, height: 64, seed: 77))
        p.write("cam/truncated.png", Array(png.prefix(png.count / 2)))
        for s in 0..<3 { p.write("mic/clip_\(s).wav", try Encode.wav(Synth.melody(seconds: 5, sampleRate: rate, seed: UInt64(40 + s)), sampleRate: rate, channels: 1)) }
        let melody = Synth.melody(seconds: 5, sampleRate: rate, seed: 40)
        p.write("mic/clip_0_quiet.flac", try Encode.flac(melody.map { $0 * 0.3 }, sampleRate: rate, channels: 1))
        p.write("mic/clipped.wav", try Encode.wav(Synth.melody(seconds: 3, sampleRate: rate, amplitude: 3, seed: 50).map { max(-1, min(1, $0)) },
                                                  sampleRate: rate, channels: 1))
        let padded = [Float](repeating: 0, count: rate / 2) + Synth.melody(seconds: 4, sampleRate: rate, seed: 60)
        var stereo = [Float](repeating: 0, count: padded.count * 2)
        for i in 0..<padded.count { stereo[2 * i] = padded[i]; stereo[2 * i + 1] = padded[i] * 0.5 }
        p.write("mic/stereo.wav", try Encode.wav(stereo, sampleRate: rate, channels: 2))

        let ws = try p.open()
        let cam = try ws.ingest(IngestOptions(paths: [p.incoming + "/cam"], source: "cam", date: "2026-03-01"))
        XCTAssertEqual(cam.quarantined, 1)
        let ingestQ = try ws.quarantineList().filter { $0.stage == "ingest" }
        XCTAssertEqual(ingestQ.map(\.kind), ["corrupt"], "the truncated PNG is quarantined at ingest")
        XCTAssertTrue(ingestQ[0].origin.hasSuffix("truncated.png"))
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/mic"], source: "mic", date: "2026-03-01"))
        // Probe results are stored as sample metadata at ingest.
        let samples = try ws.catalog.allSamples()
        let sideways = try XCTUnwrap(samples.first { $0.originPath.hasSuffix("sideways.jpg") })
        XCTAssertTrue(sideways.metadata.contains("\"orientation\":6"), sideways.metadata)
        let stereoSample = try XCTUnwrap(samples.first { $0.originPath.hasSuffix("stereo.wav") })
        XCTAssertTrue(stereoSample.metadata.contains("\"channels\":2"), stereoSample.metadata)

        // A raw file damaged after ingest is quarantined by the first stage that reads it, with the reason.
        let victim = try XCTUnwrap(samples.first { $0.originPath.hasSuffix("photo_4.jpg") })
        let victimPath = p.root + "/" + victim.rawPath
        chmod(victimPath, 0o644)
        let bytes = try FileIO.readAll(victimPath)
        try FileIO.writeAtomically(victimPath, Array(bytes.prefix(40)))

        let report = try ws.run(RunOptions(workers: 2, shardSize: 4))
        XCTAssertEqual(report.stages.map(\.uses), ["clean.image", "clean.audio", "filter.quality", "dedup.exact", "dedup.near"])
        for s in report.stages { XCTAssertTrue(s.counts.balanced, "\(s)") }
        let byName = Dictionary(uniqueKeysWithValues: report.stages.map { ($0.name, $0.counts) })
        XCTAssertEqual(byName["clean-images"]?.reasons, ["corrupt": 1])
        XCTAssertEqual(byName["quality"]?.reasons, ["near-uniform": 1, "extreme-aspect-ratio": 1, "clipping": 1])
        XCTAssertEqual(byName["near-dups"]?.reasons, ["near-duplicate": 3])

        let stageQ = try ws.quarantineList().filter { $0.stage != "ingest" }
        let corrupt = try XCTUnwrap(stageQ.first { $0.kind == "corrupt" })
        XCTAssertEqual(corrupt.stage, "clean-images")
        XCTAssertTrue(corrupt.origin.hasSuffix("photo_4.jpg"))
        XCTAssertFalse(corrupt.reason.isEmpty)
        XCTAssertTrue(stageQ.contains { $0.kind == "extreme-aspect-ratio" && $0.reason.contains("10:1") }, "\(stageQ.map(\.reason))")

        let near = try ws.findings(kind: "near-duplicate")
        XCTAssertEqual(Set(near.map { (($0.origin ?? "") as NSString).lastPathComponent }), ["photo_0_small.png", "photo_0_bright.jpg", "clip_0_quiet.flac"])
        XCTAssertTrue(near.allSatisfy { ["photo_0.jpg", "clip_0.wav"].contains(($0.relatedOrigin! as NSString).lastPathComponent) })
        XCTAssertTrue(near.contains { $0.reason.contains("fingerprint similarity") })

        // Lineage: the cleaned sample records its transform chain; the files are on disk in the new format.
        let cleaned = try ws.catalog.cleanedSet()
        let bySample = Dictionary(uniqueKeysWithValues: cleaned.map { ($0.sampleId, $0) })
        let upright = try XCTUnwrap(bySample[sideways.id])
        XCTAssertTrue(upright.transforms.contains("orientation:6->1"), upright.transforms)
        XCTAssertNotEqual(upright.contentSha, sideways.id)
        let header = try Media.imageHeader(path: p.root + "/" + upright.path).get()
        XCTAssertEqual([header.width, header.height, header.orientation], [80, 120, 1])
        let mono = try XCTUnwrap(bySample[stereoSample.id])
        XCTAssertTrue(mono.transforms.contains("mono:2->1") && mono.transforms.contains("trim:"), mono.transforms)
        let decoded = try Media.decodeAudio(path: p.root + "/" + mono.path).get()
        XCTAssertEqual(decoded.channels, 1)
        XCTAssertLessThan(Double(decoded.frames) / Double(rate), 4.3, "the leading half second of silence is trimmed")
        XCTAssertTrue(cleaned.allSatisfy { FileManager.default.fileExists(atPath: p.root + "/" + $0.path) })

        // Nothing changed: a second run does no work.
        XCTAssertTrue(try ws.run(RunOptions(workers: 2, shardSize: 4)).nothingChanged)
    }

    func testMediaStageParametersAreChecked() throws {
        let p = try TempProject(modalities: "image")
        try """
        version: 1
        stages:
          - name: near
            uses: dedup.near
            params: {image_hash: ahash}
        """.write(toFile: p.root + "/pipeline.yaml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try p.open().run(RunOptions())) { e in
            XCTAssertTrue("\(e)".contains("params.image_hash is `ahash`; allowed: phash, dhash, both"), "\(e)")
        }
        try """
        version: 1
        stages:
          - name: clean
            uses: clean.image
            params: {formats: [jpeg, bmp]}
        """.write(toFile: p.root + "/pipeline.yaml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try p.open().run(RunOptions())) { e in
            XCTAssertTrue("\(e)".contains("params.formats has `bmp`"), "\(e)")
        }
    }

    /// An 8x8 image upscaled into the 32x32 hash thumbnail carries too little detail: by default such images are
    /// left out of the perceptual search (exact duplicates are still removed); `image_min_side: 0` hashes them.
    func testImagesBelowTheMinimumSideAreLeftOutOfThePerceptualSearch() throws {
        let p = try TempProject(modalities: "image")
        let base = Synth.scene(width: 8, height: 8, seed: 3)
        p.write("tiny/a.png", try Encode.png(base))
        p.write("tiny/a_bright.png", try Encode.png(base.adjusted(factor: 1.1, offset: 4)))
        p.write("tiny/a_copy.png", try Encode.png(base))
        p.write("big/b.png", try Encode.png(Synth.scene(width: 96, height: 96, seed: 4)))
        p.write("big/b_bright.png", try Encode.png(Synth.scene(width: 96, height: 96, seed: 4).adjusted(factor: 1.1, offset: 4)))
        let ws = try p.open()
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/tiny", p.incoming + "/big"], source: "cam", date: "2026-03-01"))
        func run(_ params: String) throws -> [String] {
            try """
            version: 1
            stages:
              - {name: exact, uses: dedup.exact}
              - {name: near, uses: dedup.near, params: {\(params)}}
            """.write(toFile: p.root + "/pipeline.yaml", atomically: true, encoding: .utf8)
            _ = try p.open().run(RunOptions(workers: 2))
            return try p.open().findings(kind: "near-duplicate").map { (($0.origin ?? "") as NSString).lastPathComponent }.sorted()
        }
        XCTAssertEqual(try run("keep: first"), ["b_bright.png"], "the 8x8 variant is not paired; the 96x96 one is")
        XCTAssertEqual(try ws.findings(kind: "duplicate").map { (($0.origin ?? "") as NSString).lastPathComponent }, ["a_copy.png"],
                       "exact duplicates of small images are still removed (at ingest)")
        XCTAssertEqual(try run("keep: first, image_min_side: 0"), ["a_bright.png", "b_bright.png"])
    }
}
