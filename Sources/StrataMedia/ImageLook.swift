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
        initialize()
        guard let image = strata_vips_open_file(path, strata_vips_fail_on_error()) else { return nil }
        defer { strata_vips_unref(image) }
        guard vips_image_hasalpha(image) != 0 else { return nil }
        let w = Int(vips_image_get_width(image)), h = Int(vips_image_get_height(image)), bands = Int(vips_image_get_bands(image))
        let format = vips_image_get_format(image)
        guard w > 0, h > 0, w * h <= maxPixels, bands == 2 || bands == 4,
              format == VIPS_FORMAT_UCHAR || format == VIPS_FORMAT_USHORT else { return nil }
        var size = 0
        guard let mem = vips_image_write_to_memory(image, &size) else { vips_error_clear(); return nil }
        defer { strata_g_free(mem) }
        let sixteen = format == VIPS_FORMAT_USHORT
        guard size >= w * h * bands * (sixteen ? 2 : 1) else { return nil }
        func value(_ i: Int) -> Double {
            sixteen ? Double(mem.load(fromByteOffset: i * 2, as: UInt16.self)) / 257 : Double(mem.load(fromByteOffset: i, as: UInt8.self))
        }
        var r = 0.0, g = 0.0, b = 0.0
        for p in 0..<(w * h) {
            let base = p * bands
            let a = value(base + bands - 1) / 255
            if bands == 2 {
                let v = value(base) * a
                r += v; g += v; b += v
            } else {
                r += value(base) * a; g += value(base + 1) * a; b += value(base + 2) * a
            }
        }
        let total = r + g + b
        guard total > 0 else { return nil }
        return (r / total, g / total, b / total)
    }
}
