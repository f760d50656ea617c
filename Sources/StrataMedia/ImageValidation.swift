import CVips
import Foundation

/// What libvips reports about a valid image, read from its header after a full decode.
public struct ImageProbe: Sendable, Codable, Equatable {
    /// Derived from the libvips loader that opened it: png, jpeg, webp, gif, tiff, heif, ...
    public var format: String
    public var width: Int
    public var height: Int
    public var bands: Int
    /// libvips' interpretation nickname: srgb, b-w, cmyk, grey16, rgb16, multiband, ...
    public var colorSpace: String
    /// EXIF orientation 1-8; 1 when the image has none.
    public var orientation: Int

    public init(format: String, width: Int, height: Int, bands: Int, colorSpace: String, orientation: Int) {
        self.format = format
        self.width = width
        self.height = height
        self.bands = bands
        self.colorSpace = colorSpace
        self.orientation = orientation
    }
}

extension Media {
    /// Opens the image at `path`, rejects it as `.tooLarge` from its header alone when
    /// width x height exceeds `maxPixels`, then decodes every pixel (libvips `fail_on=error`,
    /// so truncated PNG/JPEG data fails) and returns the probe.
    public static func validateImage(path: String, maxPixels: Int) -> Result<ImageProbe, MediaProblem> {
        initialize()
        switch fileSize(path) {
        case .failure(let problem): return .failure(problem)
        case .success(0): return .failure(.empty("file is empty (0 bytes)"))
        case .success: break
        }
        guard let image = strata_vips_open_file(path, strata_vips_fail_on_error()) else {
            return .failure(.corrupt("not a readable image: unknown format or damaged header\(VipsErrors.detail())"))
        }
        defer { strata_vips_unref(image) }
        return check(image, maxPixels: maxPixels)
    }

    /// Same as `validateImage(path:maxPixels:)` for an image held in memory.
    public static func validateImage(bytes: [UInt8], maxPixels: Int) -> Result<ImageProbe, MediaProblem> {
        initialize()
        guard !bytes.isEmpty else { return .failure(.empty("image is empty (0 bytes)")) }
        return bytes.withUnsafeBytes { raw in
            // libvips does not copy the buffer: the image must be released inside this closure.
            guard let image = strata_vips_open_buffer(raw.baseAddress, raw.count, strata_vips_fail_on_error()) else {
                return .failure(.corrupt("not a readable image: unknown format or damaged header\(VipsErrors.detail())"))
            }
            defer { strata_vips_unref(image) }
            return check(image, maxPixels: maxPixels)
        }
    }

    private static func check(_ image: UnsafeMutablePointer<VipsImage>, maxPixels: Int) -> Result<ImageProbe, MediaProblem> {
        let width = Int(vips_image_get_width(image))
        let height = Int(vips_image_get_height(image))
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        if overflow || pixels > maxPixels {
            return .failure(MediaProblem(
                kind: .tooLarge,
                reason: "image is \(width)x\(height) = \(overflow ? "too many" : String(pixels)) pixels, "
                    + "over the limit of \(maxPixels) pixels (not decoded)"))
        }
        var mean = 0.0
        guard strata_vips_avg(image, &mean) == 0 else {
            return .failure(.corrupt("image data is truncated or corrupt\(VipsErrors.detail())"))
        }
        return .success(ImageProbe(
            format: formatName(image),
            width: width,
            height: height,
            bands: Int(vips_image_get_bands(image)),
            colorSpace: strata_vips_interpretation_nick(image).map { String(cString: $0) } ?? "unknown",
            orientation: Int(strata_vips_orientation(image))))
    }

    /// From the loader: "pngload_source" -> "png", "jpegload_buffer" -> "jpeg"; for
    /// ImageMagick's loader, the format ImageMagick detected ("BMP" -> "bmp").
    static func formatName(_ image: UnsafeMutablePointer<VipsImage>) -> String {
        guard let loader = strata_vips_string_field(image, "vips-loader").map({ String(cString: $0) }) else {
            return "unknown"
        }
        let stem = loader.range(of: "load").map { String(loader[..<$0.lowerBound]) } ?? loader
        if stem == "magick", let detected = strata_vips_string_field(image, "magick-format") {
            let name = String(cString: detected).lowercased()
            switch name {
            case "bmp2", "bmp3": return "bmp"
            case "jpg": return "jpeg"
            case "tif", "tiff64", "ptif": return "tiff"
            default: return name
            }
        }
        return stem.isEmpty ? loader : stem
    }
}
