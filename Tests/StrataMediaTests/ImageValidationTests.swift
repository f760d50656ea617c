import Foundation
@testable import StrataMedia
import XCTest

final class ImageValidationTests: MediaTestCase {
    func testInitializeIsIdempotent() {
        Media.initialize()
        Media.initialize()
        XCTAssertEqual(Media.validateImage(bytes: try! Encode.png(sampleImage(size: 8)), maxPixels: 100).map(\.width), .success(8))
    }

    func testValidPNGProbeFromPathAndBytes() throws {
        let png = try Encode.png(sampleImage(size: 96))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        let expected = ImageProbe(format: "png", width: 96, height: 96, bands: 3, colorSpace: "srgb", orientation: 1)
        XCTAssertEqual(try value(Media.validateImage(path: try write(png, "a.png"), maxPixels: 1_000_000)), expected)
        XCTAssertEqual(try value(Media.validateImage(bytes: png, maxPixels: 1_000_000)), expected)
    }

    func testValidJPEGProbe() throws {
        let jpeg = try Encode.jpeg(Synth.shape(.square, size: 120, night: true, blur: 0, seed: 11), quality: 85)
        XCTAssertEqual(Array(jpeg.prefix(3)), [0xFF, 0xD8, 0xFF])
        let expected = ImageProbe(format: "jpeg", width: 120, height: 120, bands: 3, colorSpace: "srgb", orientation: 1)
        XCTAssertEqual(try value(Media.validateImage(path: try write(jpeg, "a.jpg"), maxPixels: 1_000_000)), expected)
        XCTAssertEqual(try value(Media.validateImage(bytes: jpeg, maxPixels: 1_000_000)), expected)
    }

    func testEXIFOrientationIsReported() throws {
        let image = Synth.shape(.triangle, size: 48, night: false, blur: 0, seed: 4)
        for orientation in [1, 3, 6, 8] {
            let jpeg = try Encode.jpeg(image, quality: 80, orientation: orientation)
            XCTAssertEqual(try value(Media.validateImage(bytes: jpeg, maxPixels: 10_000)).orientation, orientation)
        }
    }

    func testGreyPNGReportsBlackAndWhite() throws {
        let png = try Encode.blackPNG(width: 40, height: 30, bands: 1)
        let probe = try value(Media.validateImage(bytes: png, maxPixels: 10_000))
        XCTAssertEqual(probe, ImageProbe(format: "png", width: 40, height: 30, bands: 1, colorSpace: "b-w", orientation: 1))
    }

    func testPathWithBracketsIsNotParsedAsOptions() throws {
        let path = try write(try Encode.png(sampleImage(size: 16)), "odd[name].png")
        XCTAssertEqual(try value(Media.validateImage(path: path, maxPixels: 1_000)).width, 16)
    }

    func testTruncatedPNGIsCorrupt() throws {
        let png = try Encode.png(Synth.shape(.triangle, size: 256, night: false, blur: 1, seed: 5))
        let cut = truncated(png, fraction: 0.6)
        let reasonFile = assertProblem(Media.validateImage(path: try write(cut, "cut.png"), maxPixels: 1_000_000), .corrupt)
        let reasonBytes = assertProblem(Media.validateImage(bytes: cut, maxPixels: 1_000_000), .corrupt)
        for reason in [reasonFile, reasonBytes] {
            XCTAssertTrue(reason.hasPrefix("image data is truncated or corrupt"), reason)
            XCTAssertTrue(reason.contains("libvips:"), reason)
        }
    }

    func testTruncatedJPEGIsCorrupt() throws {
        let jpeg = try Encode.jpeg(Synth.shape(.circle, size: 256, night: false, blur: 0, seed: 9), quality: 90)
        let cut = truncated(jpeg, fraction: 0.6)
        let reasonFile = assertProblem(Media.validateImage(path: try write(cut, "cut.jpg"), maxPixels: 1_000_000), .corrupt)
        let reasonBytes = assertProblem(Media.validateImage(bytes: cut, maxPixels: 1_000_000), .corrupt)
        XCTAssertTrue(reasonFile.hasPrefix("image data is truncated or corrupt"), reasonFile)
        XCTAssertTrue(reasonBytes.hasPrefix("image data is truncated or corrupt"), reasonBytes)
    }

    func testHandWrittenBMPDecodes() throws {
        // libvips 8.14 reads BMP through ImageMagick; the probe names the format ImageMagick detected.
        let image = sampleImage(size: 33)
        let probe = try value(Media.validateImage(path: try write(Encode.bmp(image), "a.bmp"), maxPixels: 10_000))
        XCTAssertEqual(probe, ImageProbe(format: "bmp", width: 33, height: 33, bands: 3, colorSpace: "srgb", orientation: 1))
    }

    func testZeroBytesAreEmpty() throws {
        let reason = assertProblem(Media.validateImage(path: try write([], "zero.png"), maxPixels: 100), .empty)
        XCTAssertTrue(reason.contains("0 bytes"), reason)
        assertProblem(Media.validateImage(bytes: [], maxPixels: 100), .empty)
    }

    func testRandomBytesAreCorrupt() throws {
        var rng = SystemRandomNumberGenerator()
        let noise = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let reason = assertProblem(Media.validateImage(path: try write(noise, "noise.png"), maxPixels: 1_000_000), .corrupt)
        XCTAssertTrue(reason.hasPrefix("not a readable image"), reason)
        assertProblem(Media.validateImage(bytes: noise, maxPixels: 1_000_000), .corrupt)
    }

    func testMissingFileIsCorruptWithOSReason() {
        let reason = assertProblem(Media.validateImage(path: dir.appendingPathComponent("nope.png").path, maxPixels: 1), .corrupt)
        XCTAssertTrue(reason.contains("No such file"), reason)
    }

    func testDecompressionBombIsTooLargeWithoutDecoding() throws {
        let bomb = try Encode.blackPNG(width: 6000, height: 6000, bands: 3)
        XCTAssertLessThan(bomb.count, 1_000_000, "a constant image should compress to a small file")
        let path = try write(bomb, "bomb.png")
        let reason = assertProblem(Media.validateImage(path: path, maxPixels: 10_000_000), .tooLarge)
        XCTAssertTrue(reason.contains("6000x6000"), reason)
        XCTAssertTrue(reason.contains("36000000"), reason)
        XCTAssertTrue(reason.contains("10000000"), reason)
        // Proof that pixels are not decoded first: the same header over truncated pixel
        // data is still reported as too large, not as corrupt.
        let cut = truncated(bomb, fraction: 0.6)
        assertProblem(Media.validateImage(path: try write(cut, "bomb-cut.png"), maxPixels: 10_000_000), .tooLarge)
        assertProblem(Media.validateImage(bytes: cut, maxPixels: 10_000_000), .tooLarge)
        // And exactly at the limit it is accepted (header check is <=).
        XCTAssertEqual(try value(Media.validateImage(bytes: try Encode.blackPNG(width: 100, height: 100), maxPixels: 10_000)).width, 100)
        assertProblem(Media.validateImage(bytes: try Encode.blackPNG(width: 100, height: 100), maxPixels: 9_999), .tooLarge)
    }

    func testConcurrentValidationFromFourThreads() throws {
        var paths: [String] = []
        for i in 0..<8 {
            let image = Synth.shape(Synth.Shape.allCases[i % 3], size: 160, night: i % 2 == 0, blur: i % 3, seed: UInt64(i))
            paths.append(try write(i % 2 == 0 ? try Encode.png(image) : try Encode.jpeg(image, quality: 80), "ok\(i).img"))
        }
        let good = Collected<ImageProbe>()
        let goodPaths = paths
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for round in 0..<3 {
                for (i, path) in goodPaths.enumerated() where i % 4 == worker {
                    if case .success(let probe) = Media.validateImage(path: path, maxPixels: 1_000_000) {
                        good.set(round * 100 + i, probe)
                    }
                }
            }
        }
        XCTAssertEqual(good.all.count, 24, "every validation from every thread succeeds")
        XCTAssertTrue(good.all.values.allSatisfy { $0.width == 160 && $0.height == 160 && $0.bands == 3 })

        // Failures in parallel keep their own plain-language reason.
        let cut = truncated(try Encode.png(Synth.shape(.square, size: 200, night: false, blur: 1, seed: 1)), fraction: 0.5)
        let bad = Collected<MediaProblem>()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            if case .failure(let problem) = Media.validateImage(bytes: cut, maxPixels: 1_000_000) { bad.set(i, problem) }
        }
        XCTAssertEqual(bad.all.count, 8)
        for problem in bad.all.values {
            XCTAssertEqual(problem.kind, .corrupt)
            XCTAssertTrue(problem.reason.hasPrefix("image data is truncated or corrupt"), problem.reason)
        }
    }
}
