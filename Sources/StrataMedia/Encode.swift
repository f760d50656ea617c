import CSndFile
import CVips
import Foundation

/// Why `Encode` could not produce a file.
public struct EncodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Encoders from in-memory pixels and samples to file bytes; nothing touches the disk.
public enum Encode {
    /// PNG through libvips (`vips_pngsave_buffer`, compression 6, no metadata).
    public static func png(_ image: RGBImage) throws -> [UInt8] {
        try withVipsImage(image) { try save($0, "PNG") { strata_vips_pngsave($0, $1, $2, 6) } }
    }

    /// PNG with an alpha channel: `rgba` holds `width * height * 4` bytes (straight alpha), as icon and stamp
    /// files store them.
    public static func pngRGBA(width: Int, height: Int, rgba: [UInt8]) throws -> [UInt8] {
        Media.initialize()
        guard width > 0, height > 0, rgba.count == width * height * 4 else {
            throw EncodeError(reason: "RGBA image \(width)x\(height) needs \(max(0, width * height * 4)) bytes, has \(rgba.count)")
        }
        guard let image = rgba.withUnsafeBytes({ strata_vips_rgba8_from_memory($0.baseAddress, $0.count, Int32(width), Int32(height)) }) else {
            throw EncodeError(reason: "libvips cannot wrap the pixels\(VipsErrors.detail())")
        }
        defer { strata_vips_unref(image) }
        return try save(image, "PNG") { strata_vips_pngsave($0, $1, $2, 6) }
    }

    /// Baseline JPEG through libvips (`vips_jpegsave_buffer`), `quality` 1-100.
    public static func jpeg(_ image: RGBImage, quality: Int) throws -> [UInt8] {
        guard (1...100).contains(quality) else { throw EncodeError(reason: "JPEG quality \(quality) is not in 1...100") }
        return try withVipsImage(image) { try save($0, "JPEG") { strata_vips_jpegsave($0, $1, $2, Int32(quality)) } }
    }

    /// A JPEG carrying EXIF orientation `orientation` (1-8), as cameras write when held sideways.
    public static func jpeg(_ image: RGBImage, quality: Int, orientation: Int) throws -> [UInt8] {
        try withVipsImage(image) {
            try save($0, "JPEG") { strata_vips_jpegsave_oriented($0, $1, $2, Int32(quality), Int32(orientation)) }
        }
    }

    /// A PNG of a constant black `width` x `height` image with `bands` bands: a
    /// decompression-bomb shape (huge header size, tiny file) made without a pixel buffer.
    public static func blackPNG(width: Int, height: Int, bands: Int = 1) throws -> [UInt8] {
        Media.initialize()
        guard let image = strata_vips_black(Int32(width), Int32(height), Int32(bands)) else {
            throw EncodeError(reason: "cannot make a \(width)x\(height) image\(VipsErrors.detail())")
        }
        defer { strata_vips_unref(image) }
        return try save(image, "PNG") { strata_vips_pngsave($0, $1, $2, 9) }
    }

    /// An uncompressed 24-bit BMP (BITMAPINFOHEADER, bottom-up rows padded to 4 bytes), written by hand.
    public static func bmp(_ image: RGBImage) -> [UInt8] {
        precondition(image.pixels.count == image.width * image.height * 3, "pixels must hold width*height*3 bytes")
        let rowBytes = (image.width * 3 + 3) & ~3
        let dataSize = rowBytes * image.height
        var out = [UInt8]()
        out.reserveCapacity(54 + dataSize)
        func u16(_ v: Int) { out += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
        func u32(_ v: Int) { for s in stride(from: 0, to: 32, by: 8) { out.append(UInt8((v >> s) & 0xFF)) } }
        out += Array("BM".utf8)
        u32(54 + dataSize); u16(0); u16(0); u32(54)           // file header
        u32(40); u32(image.width); u32(image.height)           // info header (positive height: bottom-up)
        u16(1); u16(24); u32(0); u32(dataSize)
        u32(2835); u32(2835); u32(0); u32(0)                   // 72 dpi, no palette
        let padding = [UInt8](repeating: 0, count: rowBytes - image.width * 3)
        for y in stride(from: image.height - 1, through: 0, by: -1) {
            for x in 0..<image.width {
                let o = (y * image.width + x) * 3
                out += [image.pixels[o + 2], image.pixels[o + 1], image.pixels[o]]
            }
            out += padding
        }
        return out
    }

    /// 16-bit PCM WAV through libsndfile into memory. `samples` are interleaved, in [-1, 1] (clipped).
    public static func wav(_ samples: [Float], sampleRate: Int, channels: Int) throws -> [UInt8] {
        try sound(samples, sampleRate: sampleRate, channels: channels,
                  format: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16), name: "WAV")
    }

    /// 16-bit FLAC through libsndfile into memory. `samples` are interleaved, in [-1, 1] (clipped).
    public static func flac(_ samples: [Float], sampleRate: Int, channels: Int) throws -> [UInt8] {
        try sound(samples, sampleRate: sampleRate, channels: channels,
                  format: Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16), name: "FLAC")
    }

    /// Ogg Vorbis through libsndfile into memory (quality 0.4). `samples` are interleaved, in [-1, 1].
    public static func oggVorbis(_ samples: [Float], sampleRate: Int, channels: Int) throws -> [UInt8] {
        try sound(samples, sampleRate: sampleRate, channels: channels,
                  format: Int32(SF_FORMAT_OGG | SF_FORMAT_VORBIS), name: "Ogg Vorbis")
    }

    // MARK: - libvips

    private static func withVipsImage(_ image: RGBImage, _ body: (UnsafeMutablePointer<VipsImage>) throws -> [UInt8]) throws -> [UInt8] {
        Media.initialize()
        guard image.width > 0, image.height > 0, image.pixels.count == image.width * image.height * 3 else {
            throw EncodeError(reason: "RGB image \(image.width)x\(image.height) needs \(max(0, image.width * image.height * 3)) bytes, has \(image.pixels.count)")
        }
        let vimage = image.pixels.withUnsafeBytes {
            strata_vips_rgb8_from_memory($0.baseAddress, $0.count, Int32(image.width), Int32(image.height))
        }
        guard let vimage else { throw EncodeError(reason: "libvips cannot wrap the pixels\(VipsErrors.detail())") }
        defer { strata_vips_unref(vimage) }
        return try body(vimage)
    }

    private static func save(
        _ image: UnsafeMutablePointer<VipsImage>, _ name: String,
        _ saver: (UnsafeMutablePointer<VipsImage>, UnsafeMutablePointer<UnsafeMutableRawPointer?>, UnsafeMutablePointer<Int>) -> Int32
    ) throws -> [UInt8] {
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        guard saver(image, &buffer, &length) == 0, let buffer else {
            throw EncodeError(reason: "\(name) encoding failed\(VipsErrors.detail())")
        }
        defer { strata_g_free(buffer) }
        return Array(UnsafeRawBufferPointer(start: buffer, count: length))
    }

    // MARK: - libsndfile

    private static func sound(_ samples: [Float], sampleRate: Int, channels: Int, format: Int32, name: String) throws -> [UInt8] {
        guard channels > 0, sampleRate > 0 else {
            throw EncodeError(reason: "\(name): channels and sampleRate must be positive")
        }
        guard samples.count % channels == 0 else {
            throw EncodeError(reason: "\(name): \(samples.count) samples do not split into \(channels) channels")
        }
        var info = SF_INFO()
        info.samplerate = Int32(sampleRate)
        info.channels = Int32(channels)
        info.format = format
        guard sf_format_check(&info) != 0 else {
            throw EncodeError(reason: "\(name): libsndfile rejects \(channels) channels at \(sampleRate) Hz")
        }
        let memory = MemoryFile()
        var io = MemoryFile.callbacks
        let opened = withExtendedLifetime(memory) {
            sf_open_virtual(&io, Int32(SFM_WRITE), &info, Unmanaged.passUnretained(memory).toOpaque())
        }
        guard let file = opened else {
            throw EncodeError(reason: "\(name): libsndfile cannot start writing (\(String(cString: sf_strerror(nil))))")
        }
        var closed = false
        defer { if !closed { sf_close(file) } }
        sf_command(file, Int32(SFC_SET_CLIPPING), nil, Int32(SF_TRUE))
        let frames = samples.count / channels
        let written = samples.withUnsafeBufferPointer { sf_writef_float(file, $0.baseAddress, sf_count_t(frames)) }
        guard written == frames else {
            throw EncodeError(reason: "\(name): wrote \(written) of \(frames) frames (\(String(cString: sf_strerror(file))))")
        }
        closed = true
        let rc = withExtendedLifetime(memory) { sf_close(file) }
        guard rc == 0 else { throw EncodeError(reason: "\(name): closing failed (\(String(cString: sf_error_number(rc))))") }
        return memory.bytes
    }
}

/// A growable in-memory file behind libsndfile's virtual I/O.
private final class MemoryFile {
    var bytes: [UInt8] = []
    var position = 0

    static func from(_ userData: UnsafeMutableRawPointer?) -> MemoryFile {
        Unmanaged<MemoryFile>.fromOpaque(userData!).takeUnretainedValue()
    }

    static var callbacks: SF_VIRTUAL_IO {
        SF_VIRTUAL_IO(
            get_filelen: { sf_count_t(MemoryFile.from($0).bytes.count) },
            seek: { offset, whence, userData in
                let f = MemoryFile.from(userData)
                let base: Int
                switch whence {
                case SEEK_CUR: base = f.position
                case SEEK_END: base = f.bytes.count
                default: base = 0
                }
                let target = base + Int(offset)
                guard target >= 0 else { return -1 }
                f.position = target
                return sf_count_t(target)
            },
            read: { ptr, count, userData in
                let f = MemoryFile.from(userData)
                guard let ptr, f.position < f.bytes.count else { return 0 }
                let n = min(Int(count), f.bytes.count - f.position)
                f.bytes.withUnsafeBytes { ptr.copyMemory(from: $0.baseAddress! + f.position, byteCount: n) }
                f.position += n
                return sf_count_t(n)
            },
            write: { ptr, count, userData in
                let f = MemoryFile.from(userData)
                guard let ptr else { return 0 }
                let n = Int(count)
                let end = f.position + n
                if end > f.bytes.count { f.bytes += [UInt8](repeating: 0, count: end - f.bytes.count) }
                f.bytes.withUnsafeMutableBytes { ($0.baseAddress! + f.position).copyMemory(from: ptr, byteCount: n) }
                f.position = end
                return sf_count_t(n)
            },
            tell: { sf_count_t(MemoryFile.from($0).position) })
    }
}
