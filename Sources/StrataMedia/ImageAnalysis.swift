import CVips
import Foundation
import StrataQuality

/// The formats `Media.convertImage` writes.
public enum ImageTarget: String, Sendable, CaseIterable {
    case jpeg, png, webp
}

extension Media {
    /// The image at `path` reduced to `width` x `height` gray floats (0...255), EXIF orientation applied.
    /// `force`: exactly that size, aspect ratio ignored (for hashes); otherwise it fits inside and is never enlarged.
    /// JPEG and WebP decode at a reduced scale (shrink-on-load), so large photos cost little.
    public static func grayThumbnail(path: String, width: Int, height: Int, force: Bool) -> Result<GrayImage, MediaProblem> {
        initialize()
        var out: UnsafeMutablePointer<Float>?
        var w: Int32 = 0, h: Int32 = 0
        guard strata_vips_gray_thumbnail(path, Int32(width), Int32(height), force ? 1 : 0, &out, &w, &h) == 0, let out else {
            return .failure(.corrupt("image cannot be decoded\(VipsErrors.detail())"))
        }
        defer { strata_g_free(out) }
        return .success(GrayImage(width: Int(w), height: Int(h), pixels: Array(UnsafeBufferPointer(start: out, count: Int(w) * Int(h)))))
    }

    /// dHash and pHash of the image at `path`, both from one 32x32 gray thumbnail (the size pHash's DCT needs; a
    /// small target lets libjpeg decode at 1/4 or 1/8 scale).
    ///
    /// Plain JPEGs (no EXIF rotation, not CMYK) take a fast path: libjpeg decodes straight to gray at 1/8 or 1/4
    /// scale and the rest is area-averaged here; everything else goes through libvips' thumbnail (which costs a few
    /// milliseconds of pipeline set-up per image, more than the decode of a small JPEG).
    public static func imageHashes(path: String) -> Result<(d: UInt64, p: UInt64), MediaProblem> {
        initialize()
        var w: Int32 = 0, h: Int32 = 0
        if let pixels = strata_jpeg_gray_small(path, 32, &w, &h) {
            defer { free(pixels) }
            let g = GrayImage(width: Int(w), height: Int(h), pixels: UnsafeBufferPointer(start: pixels, count: Int(w) * Int(h)).map(Float.init))
                .resized(width: 32, height: 32)
            return .success((PerceptualHash.dHash(g), PerceptualHash.pHash(g)))
        }
        return grayThumbnail(path: path, width: 32, height: 32, force: true).map { g in
            (PerceptualHash.dHash(g), PerceptualHash.pHash(g))
        }
    }

    /// Width and height as displayed (after EXIF orientation), from the header.
    public static func displaySize(path: String) -> Result<(width: Int, height: Int), MediaProblem> {
        initialize()
        var w: Int32 = 0, h: Int32 = 0
        guard strata_vips_display_size(path, &w, &h) == 0 else {
            return .failure(.corrupt("not a readable image\(VipsErrors.detail())"))
        }
        return .success((Int(w), Int(h)))
    }

    /// Re-encodes the image at `path`: EXIF orientation applied (`autoOrient`), longer side limited to `maxSide`
    /// (nil: no limit), alpha flattened on white for JPEG, saved as `target` with `quality` (JPEG, WebP),
    /// metadata stripped when `stripMetadata`.
    public static func convertImage(path: String, target: ImageTarget, quality: Int, maxSide: Int?, autoOrient: Bool,
                                    stripMetadata: Bool) -> Result<[UInt8], MediaProblem> {
        initialize()
        let code: Int32 = switch target {
        case .jpeg: 0
        case .png: 1
        case .webp: 2
        }
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        guard strata_vips_convert(path, autoOrient ? 1 : 0, Int32(maxSide ?? 0), code, Int32(quality), stripMetadata ? 1 : 0,
                                  &buffer, &length) == 0, let buffer else {
            return .failure(.corrupt("image cannot be converted to \(target.rawValue)\(VipsErrors.detail())"))
        }
        defer { strata_g_free(buffer) }
        return .success(Array(UnsafeRawBufferPointer(start: buffer, count: length)))
    }
}

/// What the header of an image says, without decoding pixels.
public struct ImageHeader: Sendable, Equatable {
    public var format: String
    /// As stored (before EXIF orientation).
    public var width: Int
    public var height: Int
    public var orientation: Int
}

extension Media {
    public static func imageHeader(path: String) -> Result<ImageHeader, MediaProblem> {
        initialize()
        guard let image = strata_vips_open_file(path, strata_vips_fail_on_error()) else {
            return .failure(.corrupt("not a readable image: unknown format or damaged header\(VipsErrors.detail())"))
        }
        defer { strata_vips_unref(image) }
        return .success(ImageHeader(format: formatName(image), width: Int(vips_image_get_width(image)),
                                    height: Int(vips_image_get_height(image)), orientation: Int(strata_vips_orientation(image))))
    }
}
