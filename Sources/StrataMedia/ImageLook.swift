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
