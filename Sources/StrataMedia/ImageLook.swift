import CVips
import Foundation
import StrataQuality

extension Media {
    /// The image at `path` as a person sees it, at 32x32 gray (aspect ratio ignored, EXIF orientation applied):
    /// an image with an alpha channel is composited over a contrasting background (`PixelMatch.composite`).
    /// Plain JPEGs take libjpeg's fast reduced-scale path, as `imageHashes` does.
    public static func seenThumbnail(path: String) -> Result<GrayImage, MediaProblem> {
        seenLayers(path: path).map(\.seen)
    }

    /// `seenThumbnail`, and for an image with an alpha channel also its gray premultiplied by alpha (the image
    /// over black, whatever its content): a brightness change scales that layer as a whole, so pixel verification
    /// stays blind to it even where the seen image flips background or saturates against white (issue 16).
    public static func seenLayers(path: String) -> Result<(seen: GrayImage, premultiplied: GrayImage?), MediaProblem> {
        initialize()
        var w: Int32 = 0, h: Int32 = 0
        if let pixels = strata_jpeg_gray_small(path, 32, &w, &h) {
            defer { free(pixels) }
            return .success((GrayImage(width: Int(w), height: Int(h), pixels: UnsafeBufferPointer(start: pixels, count: Int(w) * Int(h)).map(Float.init))
                .resized(width: 32, height: 32), nil))
        }
        var out: UnsafeMutablePointer<Float>?
        var bands: Int32 = 0
        guard strata_vips_gray_alpha_thumbnail(path, 32, 32, 1, &out, &w, &h, &bands) == 0, let out else {
            return .failure(.corrupt("image cannot be decoded\(VipsErrors.detail())"))
        }
        defer { strata_g_free(out) }
        let n = Int(w) * Int(h)
        let all = UnsafeBufferPointer(start: out, count: n * Int(bands))
        if bands == 1 { return .success((GrayImage(width: Int(w), height: Int(h), pixels: Array(all)), nil)) }
        let gray = (0..<n).map { all[2 * $0] }, alpha = (0..<n).map { all[2 * $0 + 1] }
        let premultiplied = (0..<n).map { gray[$0] * min(1, max(0, alpha[$0] / 255)) }
        return .success((PixelMatch.composite(gray: gray, alpha: alpha, width: Int(w), height: Int(h)),
                         GrayImage(width: Int(w), height: Int(h), pixels: premultiplied)))
    }
}

extension Media {
    /// The alpha-weighted mean chromaticity of an image with an alpha channel: the shares of red, green and blue in
    /// the visible pixels' sum (each 0...1, summing to 1; gray images give a third each). A brightness change scales
    /// the three alike and keeps them; two icons of one shape in different colours (a yellow and a grey folder) differ
    /// by 0.1 or more (L1). nil without alpha, when nothing is visible, or above `maxPixels`.
    public static func alphaChromaticity(path: String, maxPixels: Int = 16_000_000) -> (r: Double, g: Double, b: Double)? {
        withAlphaSamples(path: path, maxPixels: maxPixels) { w, h, bands, value -> (r: Double, g: Double, b: Double)? in
            var r = 0.0, g = 0.0, b = 0.0
            for p in 0..<(w * h) {
                let base = p * bands
                let a = Double(value(base + bands - 1)) / 255
                if bands == 2 {
                    let v = Double(value(base)) * a
                    r += v; g += v; b += v
                } else {
                    r += Double(value(base)) * a; g += Double(value(base + 1)) * a; b += Double(value(base + 2)) * a
                }
            }
            let total = r + g + b
            guard total > 0 else { return nil }
            return (r / total, g / total, b / total)
        }
    }
}
