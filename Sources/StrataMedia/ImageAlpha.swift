import CVips
import Foundation
import StrataQuality

/// What the header says about an image's pixels, for the data profile: size as stored, bands and alpha.
public struct ImagePixelInfo: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// Bands including alpha (1 gray, 2 gray + alpha, 3 RGB, 4 RGBA; CMYK has 4 without alpha).
    public var bands: Int
    public var hasAlpha: Bool

    public init(width: Int, height: Int, bands: Int, hasAlpha: Bool) {
        self.width = width; self.height = height; self.bands = bands; self.hasAlpha = hasAlpha
    }
}

extension Media {
    /// Width, height, bands and alpha from the header (no pixels decoded).
    public static func imagePixelInfo(path: String) -> Result<ImagePixelInfo, MediaProblem> {
        initialize()
        guard let image = strata_vips_open_file(path, strata_vips_fail_on_error()) else {
            return .failure(.corrupt("not a readable image: unknown format or damaged header\(VipsErrors.detail())"))
        }
        defer { strata_vips_unref(image) }
        return .success(ImagePixelInfo(width: Int(vips_image_get_width(image)), height: Int(vips_image_get_height(image)),
                                       bands: Int(vips_image_get_bands(image)), hasAlpha: vips_image_hasalpha(image) != 0))
    }

    /// Decodes an image with an alpha channel whole and hands `body` its size, band count (2: gray + alpha, 4: RGBA)
    /// and a reader of sample `i` on the 8-bit scale (16-bit images are scaled down). nil when the image has no alpha,
    /// is not 8- or 16-bit, cannot be decoded, or is larger than `maxPixels`. The one decoder of the alpha-aware paths
    /// (quality signals here, colour balance in ImageLook.swift).
    static func withAlphaSamples<T>(path: String, maxPixels: Int,
                                    _ body: (_ width: Int, _ height: Int, _ bands: Int, _ value: (Int) -> Float) -> T?) -> T? {
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
        let scale: Float = sixteen ? 1 / 257 : 1
        return body(w, h, bands) { i in
            sixteen ? Float(mem.load(fromByteOffset: i * 2, as: UInt16.self)) * scale : Float(mem.load(fromByteOffset: i, as: UInt8.self))
        }
    }

    /// Quality signals of an image with an alpha channel, as a person sees it: the image is composited on white and
    /// on black, and the alpha channel itself is measured; the view with the most contrast decides (a black line
    /// drawing on a transparent background is blank on black but not on white, nor in its alpha channel). Each view
    /// is reduced to fit `analysisSize` (never enlarged) before the Laplacian is measured, as the opaque path does.
    ///
    /// nil when the image has no alpha channel or is not 8- or 16-bit (the caller then uses the gray thumbnail), or
    /// when it is larger than `maxPixels` (decoding it whole would cost too much; the gray thumbnail is used).
    /// Used by `filter.quality` only (perceptual hashes are computed elsewhere).
    public static func alphaAwareSignals(path: String, analysisSize: Int, maxPixels: Int = 16_000_000) -> ImageSignals? {
        withAlphaSamples(path: path, maxPixels: maxPixels) { w, h, bands, value in
            var onWhite = [Float](repeating: 0, count: w * h), onBlack = onWhite, alpha = onWhite
            for p in 0..<(w * h) {
                let base = p * bands
                let gray: Float = bands == 2 ? value(base) : 0.299 * value(base) + 0.587 * value(base + 1) + 0.114 * value(base + 2)
                let a = value(base + bands - 1) / 255
                onBlack[p] = gray * a
                onWhite[p] = gray * a + 255 * (1 - a)
                alpha[p] = a * 255
            }
            let longer = max(w, h)
            let factor = longer > analysisSize ? Double(analysisSize) / Double(longer) : 1
            let tw = max(1, Int((Double(w) * factor).rounded())), th = max(1, Int((Double(h) * factor).rounded()))
            let views = [onWhite, onBlack, alpha].map { ImageSignals.analyze(GrayImage(width: w, height: h, pixels: $0).resized(width: tw, height: th)) }
            return views.max { $0.stddev < $1.stddev }
        }
    }
}
