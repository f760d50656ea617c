import XCTest
@testable import StrataQuality

/// The pure pixel check behind image near duplicates: crops between whole thumbnail pixels, brightness on a
/// premultiplied layer, and what has no contrast to correlate.
final class PixelMatchTests: XCTestCase {
    /// A 48x48 gray picture with sharp edges that differs per `seed`: a few bright discs and bars on a dark field.
    static func picture(seed: Int, size: Int = 48) -> GrayImage {
        var px = [Float](repeating: 30, count: size * size)
        for k in 0..<4 {
            let cx = Double((seed * 17 + k * 11) % 36 + 6), cy = Double((seed * 7 + k * 23) % 36 + 6), r = Double(4 + (seed + k) % 5)
            for y in 0..<size {
                for x in 0..<size {
                    let dx = Double(x) + 0.5 - cx, dy = Double(y) + 0.5 - cy
                    if k % 2 == 0 ? dx * dx + dy * dy <= r * r : abs(dx) <= r && abs(dy) <= 1.5 { px[y * size + x] = Float(120 + 40 * k) }
                }
            }
        }
        return GrayImage(width: size, height: size, pixels: px)
    }

    static func cropped(_ g: GrayImage, by c: Int) -> GrayImage {
        var px: [Float] = []
        for y in c..<(g.height - c) { px += g.pixels[(y * g.width + c)..<(y * g.width + g.width - c)] }
        return GrayImage(width: g.width - 2 * c, height: g.height - 2 * c, pixels: px)
    }

    func testACropOfTwoPixelsOfFortyEightIsCloserThanAnyOtherPicture() {
        // 2 px of 48 per side is 1.33 px of the 32x32 thumbnail: between the whole-pixel crops.
        let original = PixelMatch.thumbnail(Self.picture(seed: 1))
        let crop = PixelMatch.thumbnail(Self.cropped(Self.picture(seed: 1), by: 2))
        let copy = PixelMatch.similarity(original, crop)
        XCTAssertGreaterThanOrEqual(copy, 0.98)
        for seed in 2..<12 {
            XCTAssertLessThan(PixelMatch.similarity(original, PixelMatch.thumbnail(Self.picture(seed: seed))), copy - 0.1, "seed \(seed)")
        }
    }

    func testAHalfPixelZoomIsItsOwnVariant() {
        let t = PixelMatch.thumbnail(Self.picture(seed: 3))
        XCTAssertEqual(PixelMatch.zoomed(t, 0), t)
        let z = PixelMatch.zoomed(t, 0.5)
        XCTAssertNotEqual(z, t)
        // The search zooms the blurred thumbnail, so blur and zoom come in the other order: close to 1, not exactly.
        XCTAssertGreaterThanOrEqual(PixelMatch.similarity(z, t), 0.999, "the half-pixel variant of one aligns with the other")
    }

    func testContrastOfALayer() {
        XCTAssertFalse(PixelMatch.hasContrast([UInt8](repeating: 0, count: 1024)), "black ink premultiplied is all zeros")
        XCTAssertFalse(PixelMatch.hasContrast([]))
        XCTAssertTrue(PixelMatch.hasContrast(PixelMatch.thumbnail(Self.picture(seed: 4))))
    }

    func testBrightnessScalesAPremultipliedLayerAndLeavesItsCorrelation() {
        let layer = PixelMatch.thumbnail(Self.picture(seed: 5))
        let brighter = layer.map { UInt8(min(255, (Double($0) * 1.12).rounded())) }
        XCTAssertGreaterThanOrEqual(PixelMatch.similarity(layer, brighter), 0.995)
    }
}
