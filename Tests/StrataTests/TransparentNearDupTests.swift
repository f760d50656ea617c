import Foundation
import StrataEngine
@testable import StrataMedia
import XCTest
@testable import Strata

/// Issue 16, image near duplicates on the default near-dup stage: light icons on a transparent background keep
/// their near duplicates when brightened (the seen image saturates against white, or flips to a black background)
/// or cropped by a few pixels; a recoloured icon of the same shape and distinct small drawings of one kind (digits)
/// are not merged.
final class TransparentNearDupTests: XCTestCase {
    /// A 48x48 light icon (mean gray near 200, where the seen image's background choice flips): a shaded shape
    /// that differs per `k` (kind, size, position), anti-aliased alpha, transparent black around it.
    static func icon(_ k: Int, size: Int = 48) -> [UInt8] {
        var rgba = [UInt8](repeating: 0, count: size * size * 4)
        let cx = 20.0 + Double(k % 4) * 2.5, cy = 22.0 + Double(k % 3) * 2, r = 13.0 + Double(k % 5)
        for y in 0..<size {
            for x in 0..<size {
                let dx = Double(x) + 0.5 - cx, dy = Double(y) + 0.5 - cy
                let edge: Double = switch k % 3 {
                case 0: r - (dx * dx + dy * dy).squareRoot()
                case 1: r - max(abs(dx), abs(dy))
                default: min(r - abs(dx) - abs(dy) * 0.6, dy + r * 0.8)
                }
                let a = max(0, min(1, edge + 0.5))
                if a == 0 { continue }
                // Shading: a diagonal gradient plus a dark band whose angle depends on k.
                let t = (dx + dy) / (2 * r)
                let band = abs(dx * cos(Double(k)) + dy * sin(Double(k))) < 2.5 ? 70.0 : 0
                let g = max(0, min(255, 205 - 30 * t - band))
                let i = (y * size + x) * 4
                rgba[i] = UInt8(g); rgba[i + 1] = UInt8(max(0, g - 10)); rgba[i + 2] = UInt8(min(255, g + 10)); rgba[i + 3] = UInt8(a * 255)
            }
        }
        return rgba
    }

    /// RGB scaled by `factor` (clipped), alpha kept: what an image editor's brightness does.
    static func brightened(_ rgba: [UInt8], _ factor: Double) -> [UInt8] {
        var out = rgba
        for i in 0..<out.count where i % 4 != 3 { out[i] = UInt8(max(0, min(255, (Double(out[i]) * factor).rounded()))) }
        return out
    }

    /// The same icon in another colour: red kept, green and blue darkened (a recoloured theme variant).
    static func recoloured(_ rgba: [UInt8]) -> [UInt8] {
        var out = rgba
        for i in stride(from: 0, to: out.count, by: 4) {
            out[i + 1] = UInt8(Double(out[i + 1]) * 0.55); out[i + 2] = UInt8(Double(out[i + 2]) * 0.35)
        }
        return out
    }

    static func cropped(_ rgba: [UInt8], size: Int, by c: Int) -> [UInt8] {
        var out: [UInt8] = []
        for y in c..<(size - c) { out += rgba[((y * size + c) * 4)..<((y * size + size - c) * 4)] }
        return out
    }

    /// A seven-segment digit, black ink on a transparent background, 28x28.
    static func digit(_ d: Int) -> [UInt8] {
        let on: [[Int]] = [[0, 1, 2, 4, 5, 6], [2, 5], [0, 2, 3, 4, 6], [0, 2, 3, 5, 6], [1, 2, 3, 5], [0, 1, 3, 5, 6],
                           [0, 1, 3, 4, 5, 6], [0, 2, 5], [0, 1, 2, 3, 4, 5, 6], [0, 1, 2, 3, 5, 6]]
        // Segments: 0 top, 1 upper left, 2 upper right, 3 middle, 4 lower left, 5 lower right, 6 bottom.
        let boxes: [(Int, Int, Int, Int)] = [(8, 4, 20, 6), (7, 4, 9, 14), (19, 4, 21, 14), (8, 13, 20, 15), (7, 14, 9, 24), (19, 14, 21, 24), (8, 22, 20, 24)]
        var rgba = [UInt8](repeating: 0, count: 28 * 28 * 4)
        for s in on[d] {
            let (x0, y0, x1, y1) = boxes[s]
            for y in y0..<y1 { for x in x0..<x1 { rgba[(y * 28 + x) * 4 + 3] = 255 } }
        }
        return rgba
    }

    func testBrightenedAndCroppedTransparentIconsAreFoundRecolouredIconsAndDistinctDigitsAreNot() throws {
        let p = try TempProject(modalities: "image")
        for k in 0..<14 { p.write("icons/icon_\(k).png", try Encode.pngRGBA(width: 48, height: 48, rgba: Self.icon(k))) }
        p.write("icons/icon_0_bright.png", try Encode.pngRGBA(width: 48, height: 48, rgba: Self.brightened(Self.icon(0), 1.12)))
        p.write("icons/icon_1_dark.png", try Encode.pngRGBA(width: 48, height: 48, rgba: Self.brightened(Self.icon(1), 0.88)))
        p.write("icons/icon_2_crop.png", try Encode.pngRGBA(width: 44, height: 44, rgba: Self.cropped(Self.icon(2), size: 48, by: 2)))
        p.write("icons/icon_3_red.png", try Encode.pngRGBA(width: 48, height: 48, rgba: Self.recoloured(Self.icon(3))))
        for d in 0..<10 { p.write("digits/digit_\(d).png", try Encode.pngRGBA(width: 28, height: 28, rgba: Self.digit(d))) }
        let ws = try p.open()
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/icons"], source: "icons", date: "2026-03-01"))
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/digits"], source: "digits", date: "2026-03-01"))
        try """
        version: 1
        stages:
          - {name: near, uses: dedup.near, params: {keep: first}}
        """.write(toFile: p.root + "/pipeline.yaml", atomically: true, encoding: .utf8)
        _ = try ws.run(RunOptions(workers: 2))
        let near = try p.open().findings(kind: "near-duplicate")
        let name = { (s: String?) in ((s ?? "") as NSString).lastPathComponent }
        XCTAssertEqual(near.map { name($0.origin) + " -> " + name($0.relatedOrigin) }.sorted(),
                       ["icon_0_bright.png -> icon_0.png", "icon_1_dark.png -> icon_1.png", "icon_2_crop.png -> icon_2.png"])
    }
}
