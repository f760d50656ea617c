import CVips
import Foundation
import StrataQuality

extension Media {
    /// The image at `path` as a person sees it, at 32x32 gray (aspect ratio ignored, EXIF orientation applied):
    /// an image with an alpha channel is composited over a contrasting background (`PixelMatch.composite`).
    /// Plain JPEGs take libjpeg's fast reduced-scale path, as `imageHashes` does.
    public static func seenThumbnail(path: String) -> Result<GrayImage, MediaProblem> {
        initialize()
        var w: Int32 = 0, h: Int32 = 0
        if let pixels = strata_jpeg_gray_small(path, 32, &w, &h) {
            defer { free(pixels) }
            return .success(GrayImage(width: Int(w), height: Int(h), pixels: UnsafeBufferPointer(start: pixels, count: Int(w) * Int(h)).map(Float.init))
                .resized(width: 32, height: 32))
        }
        var out: UnsafeMutablePointer<Float>?
        var bands: Int32 = 0
        guard strata_vips_gray_alpha_thumbnail(path, 32, 32, 1, &out, &w, &h, &bands) == 0, let out else {
            return .failure(.corrupt("image cannot be decoded\(VipsErrors.detail())"))
        }
        defer { strata_g_free(out) }
        let n = Int(w) * Int(h)
        let all = UnsafeBufferPointer(start: out, count: n * Int(bands))
        if bands == 1 { return .success(GrayImage(width: Int(w), height: Int(h), pixels: Array(all))) }
        let gray = (0..<n).map { all[2 * $0] }, alpha = (0..<n).map { all[2 * $0 + 1] }
        return .success(PixelMatch.composite(gray: gray, alpha: alpha, width: Int(w), height: Int(h)))
    }
}
