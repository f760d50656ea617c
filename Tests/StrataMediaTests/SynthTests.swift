import Foundation
import StrataMedia
import XCTest

final class SynthTests: MediaTestCase {
    func testShapeIsDeterministicPerSeed() throws {
        for shape in Synth.Shape.allCases {
            let a = Synth.shape(shape, size: 64, night: false, blur: 1, seed: 42)
            let b = Synth.shape(shape, size: 64, night: false, blur: 1, seed: 42)
            let c = Synth.shape(shape, size: 64, night: false, blur: 1, seed: 43)
            XCTAssertEqual(a, b)
            XCTAssertNotEqual(a.pixels, c.pixels, "\(shape): another seed moves or recolours the shape")
            XCTAssertEqual(a.pixels.count, 64 * 64 * 3)
            XCTAssertEqual(try Encode.png(a), try Encode.png(b), "same image, same PNG bytes")
        }
    }

    func testShapesDifferAndNightIsDarker() {
        let circle = Synth.shape(.circle, size: 64, night: false, blur: 0, seed: 1)
        let square = Synth.shape(.square, size: 64, night: false, blur: 0, seed: 1)
        let triangle = Synth.shape(.triangle, size: 64, night: false, blur: 0, seed: 1)
        XCTAssertNotEqual(circle.pixels, square.pixels)
        XCTAssertNotEqual(square.pixels, triangle.pixels)
        let night = Synth.shape(.circle, size: 64, night: true, blur: 0, seed: 1)
        func mean(_ p: [UInt8]) -> Double { Double(p.reduce(0) { $0 + Int($1) }) / Double(p.count) }
        XCTAssertLessThan(mean(night.pixels), mean(circle.pixels) * 0.4)
    }

    func testBlurSoftensEdges() {
        func distinctColours(_ img: RGBImage) -> Int {
            var colours = Set<Int>()
            for o in stride(from: 0, to: img.pixels.count, by: 3) {
                let r = Int(img.pixels[o]), g = Int(img.pixels[o + 1]), b = Int(img.pixels[o + 2])
                colours.insert((r << 16) | (g << 8) | b)
            }
            return colours.count
        }
        let sharp = Synth.shape(.square, size: 64, night: false, blur: 0, seed: 2)
        let soft = Synth.shape(.square, size: 64, night: false, blur: 3, seed: 2)
        XCTAssertEqual(distinctColours(sharp), 2, "sharp: background and shape only")
        XCTAssertGreaterThan(distinctColours(soft), 10, "blurred: intermediate colours along the edges")
    }

    func testToneIsDeterministicAndBounded() {
        let a = Synth.tone(frequency: 440, seconds: 0.1, sampleRate: 8_000, amplitude: 0.9, noise: 0.3, seed: 5)
        let b = Synth.tone(frequency: 440, seconds: 0.1, sampleRate: 8_000, amplitude: 0.9, noise: 0.3, seed: 5)
        let c = Synth.tone(frequency: 440, seconds: 0.1, sampleRate: 8_000, amplitude: 0.9, noise: 0.3, seed: 6)
        XCTAssertEqual(a.count, 800)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertTrue(a.allSatisfy { (-1...1).contains($0) })
        XCTAssertGreaterThan(a.map { abs($0) }.max()!, 0.8)
        XCTAssertEqual(try Encode.wav(a, sampleRate: 8_000, channels: 1), try Encode.wav(b, sampleRate: 8_000, channels: 1))
    }

    func testBMPLayout() {
        let image = Synth.shape(.triangle, size: 5, night: false, blur: 0, seed: 3)
        let bmp = Encode.bmp(image)
        let rowBytes = 16  // 5 * 3 = 15, padded to 4
        XCTAssertEqual(bmp.count, 54 + rowBytes * 5)
        XCTAssertEqual(Array(bmp.prefix(2)), Array("BM".utf8))
        XCTAssertEqual(Int(bmp[2]) | Int(bmp[3]) << 8, bmp.count)
        XCTAssertEqual(bmp[28], 24, "bits per pixel")
        // The first stored row is the image's bottom row, in BGR order.
        let bottomLeft = (4 * 5 + 0) * 3
        XCTAssertEqual(Array(bmp[54..<57]), [image.pixels[bottomLeft + 2], image.pixels[bottomLeft + 1], image.pixels[bottomLeft]])
    }
}
