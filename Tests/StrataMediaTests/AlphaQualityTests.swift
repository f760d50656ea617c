import Foundation
import StrataMedia
import StrataQuality
import XCTest

/// Images with transparency are judged as a person sees them (issue 16): a black line drawing on a transparent
/// background is blank when flattened on black, but not near-uniform; a fully transparent image still is.
final class AlphaQualityTests: MediaTestCase {
    /// A gray + alpha or RGBA PNG (8-bit, stored deflate blocks), written here so the test needs no encoder.
    static func png(width: Int, height: Int, bands: Int, pixel: (Int, Int) -> [UInt8]) -> [UInt8] {
        var raw: [UInt8] = []
        for y in 0..<height {
            raw.append(0)
            for x in 0..<width { raw += pixel(x, y) }
        }
        var z: [UInt8] = [0x78, 0x01]
        var i = 0
        repeat {
            let n = min(65535, raw.count - i)
            let last: UInt8 = i + n >= raw.count ? 1 : 0
            z += [last, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            z += raw[i..<(i + n)]
            i += n
        } while i < raw.count
        var a: UInt32 = 1, b: UInt32 = 0
        for v in raw { a = (a + UInt32(v)) % 65521; b = (b + a) % 65521 }
        z += be((b << 16) | a)
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
        func crc(_ bytes: [UInt8]) -> UInt32 {
            var c: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                c ^= UInt32(byte)
                for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            }
            return ~c
        }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            return be(UInt32(data.count)) + body + be(crc(body))
        }
        let colorType: UInt8 = bands == 2 ? 4 : 6
        let header = be(UInt32(width)) + be(UInt32(height)) + [8, colorType, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", z) + chunk("IEND", [])
    }

    /// A 48x48 stamp: black strokes (a ring and a cross) on a fully transparent black background.
    static func stamp(bands: Int) -> [UInt8] {
        png(width: 48, height: 48, bands: bands) { x, y in
            let dx = x - 24, dy = y - 24, r2 = dx * dx + dy * dy
            let ink = (r2 >= 18 * 18 && r2 <= 21 * 21) || abs(dx) <= 1 || abs(dy) <= 1
            return bands == 2 ? [0, ink ? 255 : 0] : [0, 0, 0, ink ? 255 : 0]
        }
    }

    func testATransparentStampIsNotNearUniform() throws {
        for bands in [2, 4] {
            let path = try write(Self.stamp(bands: bands), "stamp\(bands).png")
            let info = try Media.imagePixelInfo(path: path).get()
            XCTAssertEqual(info, ImagePixelInfo(width: 48, height: 48, bands: bands, hasAlpha: true))
            // Flattened as before (what the hashes still use): one flat colour, which the blank rule took.
            let flat = ImageSignals.analyze(try Media.grayThumbnail(path: path, width: 256, height: 256, force: false).get())
            XCTAssertLessThan(flat.stddev, 4)
            XCTAssertEqual(MediaQualityFilter.imageVerdict(width: 48, height: 48, signals: flat, rules: ImageQualityRules())?.kind, "near-uniform")
            // As a person sees it: strokes on a background.
            let seen = try XCTUnwrap(Media.alphaAwareSignals(path: path, analysisSize: 256))
            XCTAssertGreaterThan(seen.stddev, 60)
            XCTAssertNil(MediaQualityFilter.imageVerdict(width: 48, height: 48, signals: seen, rules: ImageQualityRules()))
        }
    }

    func testATrulyBlankImageIsStillCaught() throws {
        let transparent = try write(Self.png(width: 48, height: 48, bands: 4) { _, _ in [200, 30, 30, 0] }, "clear.png")
        let seen = try XCTUnwrap(Media.alphaAwareSignals(path: transparent, analysisSize: 256))
        XCTAssertEqual(seen.stddev, 0)
        XCTAssertEqual(MediaQualityFilter.imageVerdict(width: 48, height: 48, signals: seen, rules: ImageQualityRules())?.reason,
                       "gray-level standard deviation 0, minimum 4 (blank or single-colour image)")
        let opaqueGray = try write(Self.png(width: 48, height: 48, bands: 4) { _, _ in [90, 90, 90, 255] }, "gray.png")
        XCTAssertEqual(try XCTUnwrap(Media.alphaAwareSignals(path: opaqueGray, analysisSize: 256)).stddev, 0, accuracy: 1e-6)
        // An image without alpha takes the gray thumbnail path.
        let black = try write(try Encode.blackPNG(width: 40, height: 40), "black.png")
        XCTAssertNil(Media.alphaAwareSignals(path: black, analysisSize: 256))
        XCTAssertEqual(try Media.imagePixelInfo(path: black).get().hasAlpha, false)
    }
}
