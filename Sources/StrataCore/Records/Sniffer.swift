/// What the first bytes of a file say it is.
public enum SniffResult: Sendable, Equatable {
    /// A media format Strata stores (image or audio).
    case media(FileFormat)
    /// UTF-8 text (plain, JSONL or CSV: see `Sniffer.textFormat`).
    case text
    /// Something Strata does not ingest, with a short human description ("gzip archive", "PDF document").
    case notMedia(String)
    /// A zero-byte file.
    case empty
}

/// Content-based format detection. Works on the first bytes of a file (the caller reads them;
/// `Sniffer.prefixLength` is enough) and never looks at the extension except to tell CSV from TXT.
public enum Sniffer {
    /// How many leading bytes `sniff` wants to see.
    public static let prefixLength = 4096

    /// Classifies a file from its first bytes.
    /// - Parameters:
    ///   - prefix: the first `min(totalSize, prefixLength)` bytes (more is fine, fewer weakens the text verdict).
    ///   - totalSize: the size of the whole file. When the prefix is the whole file, a multi-byte UTF-8
    ///     sequence cut at its end is an error; otherwise it is just where the prefix stopped.
    ///   - wholeFileIsUTF8: an optional verdict of `UTF8Validator` over the whole file. When `false`, a
    ///     prefix that looked like text becomes `.notMedia("text that is not valid UTF-8")`.
    public static func sniff(prefix: UnsafeRawBufferPointer, totalSize: Int, wholeFileIsUTF8: Bool? = nil) -> SniffResult {
        let n = prefix.count
        if totalSize == 0 || n == 0 { return .empty }
        @inline(__always) func b(_ i: Int) -> UInt8 { i < n ? prefix[i] : 0 }
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            guard offset + magic.count <= n else { return false }
            for (k, m) in magic.enumerated() where prefix[offset + k] != m { return false }
            return true
        }
        func ascii(_ s: String, at offset: Int = 0) -> Bool { starts(Array(s.utf8), at: offset) }

        // Images.
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .media(.png) }
        if starts([0xFF, 0xD8, 0xFF]) { return .media(.jpeg) }
        if ascii("GIF87a") || ascii("GIF89a") { return .media(.gif) }
        if ascii("RIFF") && ascii("WEBP", at: 8) { return .media(.webp) }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A])
            || starts([0x49, 0x49, 0x2B, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2B]) { return .media(.tiff) }
        if ascii("BM") && isPlausibleBMP(prefix) { return .media(.bmp) }
        // Audio.
        if (ascii("RIFF") || ascii("RF64") || ascii("BW64")) && ascii("WAVE", at: 8) { return .media(.wav) }
        if ascii("fLaC") { return .media(.flac) }
        if ascii("OggS") { return .media(.ogg) }
        if ascii("FORM") && (ascii("AIFF", at: 8) || ascii("AIFC", at: 8)) { return .media(.aiff) }
        if ascii("ID3") && b(3) <= 4 && b(3) >= 2 && b(4) != 0xFF {
            // ID3v2 tag: 10-byte header, then a syncsafe size. FLAC files sometimes carry one too.
            let size = Int(b(6) & 0x7F) << 21 | Int(b(7) & 0x7F) << 14 | Int(b(8) & 0x7F) << 7 | Int(b(9) & 0x7F)
            let after = 10 + size + ((b(5) & 0x10) != 0 ? 10 : 0)
            if ascii("fLaC", at: after) { return .media(.flac) }
            return .media(.mp3)
        }

        // Text encodings that Strata does not read (checked before the MPEG sync: FF FE looks like one).
        if starts([0xFF, 0xFE, 0x00, 0x00]) || starts([0x00, 0x00, 0xFE, 0xFF]) { return .notMedia("UTF-32 text") }
        if starts([0xFF, 0xFE]) || starts([0xFE, 0xFF]) { return .notMedia("UTF-16 text") }

        if n >= 4 && isMPEGAudioFrameHeader(b(0), b(1), b(2)) { return .media(.mp3) }

        // Other binary formats users drop into data folders.
        if starts([0x1F, 0x8B]) { return .notMedia("gzip archive") }
        if ascii("PK\u{03}\u{04}") || ascii("PK\u{05}\u{06}") || ascii("PK\u{07}\u{08}") { return .notMedia("ZIP archive") }
        if ascii("%PDF") { return .notMedia("PDF document") }
        if starts([0x7F, 0x45, 0x4C, 0x46]) { return .notMedia("ELF binary") }
        if ascii("BZh") && b(3) >= 0x31 && b(3) <= 0x39 { return .notMedia("bzip2 archive") }
        if starts([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return .notMedia("xz archive") }
        if starts([0x28, 0xB5, 0x2F, 0xFD]) { return .notMedia("zstd archive") }
        if starts([0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]) { return .notMedia("7-Zip archive") }
        if ascii("ustar", at: 257) { return .notMedia("tar archive") }
        if ascii("SQLite format 3\u{00}") { return .notMedia("SQLite database") }
        if ascii("PAR1") { return .notMedia("Parquet file") }
        if starts([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) { return .notMedia("NumPy array") }
        if starts([0xCF, 0xFA, 0xED, 0xFE]) || starts([0xCE, 0xFA, 0xED, 0xFE]) || starts([0xCA, 0xFE, 0xBA, 0xBE]) {
            return .notMedia("Mach-O binary")
        }
        if ascii("MZ") && n >= 64 && ascii("PE\u{00}\u{00}", at: Int(b(60)) | Int(b(61)) << 8) {
            return .notMedia("Windows executable")
        }

        if looksLikeUTF16WithoutBOM(prefix) { return .notMedia("UTF-16 text") }

        // Text: no NUL byte and valid UTF-8 (a sequence cut by the end of the prefix is fine).
        var v = UTF8Validator()
        let valid = v.feed(prefix) && (n < totalSize || v.finish())
        if !valid && v.nulCount == 0 && looksLikeLegacyText(prefix) { return .notMedia(invalidUTF8Text) }
        if !valid || v.nulCount > 0 { return .notMedia("binary data") }
        if wholeFileIsUTF8 == false { return .notMedia(invalidUTF8Text) }
        return .text
    }

    /// What `sniff` calls text in a legacy encoding (Latin-1, Windows-1252, ...): not UTF-8, but no NUL bytes
    /// and almost all bytes printable ASCII, whitespace or high bytes.
    public static let invalidUTF8Text = "text that is not valid UTF-8"

    static func looksLikeLegacyText(_ prefix: UnsafeRawBufferPointer) -> Bool {
        var printable = 0
        for b in prefix where b == 0x09 || b == 0x0A || b == 0x0D || (b >= 0x20 && b != 0x7F) { printable += 1 }
        return prefix.count > 0 && printable * 100 >= prefix.count * 95
    }

    /// Classifies a file from its first bytes (see the pointer variant).
    public static func sniff(prefix: [UInt8], totalSize: Int, wholeFileIsUTF8: Bool? = nil) -> SniffResult {
        prefix.withUnsafeBytes { sniff(prefix: $0, totalSize: totalSize, wholeFileIsUTF8: wholeFileIsUTF8) }
    }

    /// The text format of a file `sniff` called `.text`: `.jsonl` if the first non-blank line
    /// (after an optional UTF-8 BOM) starts with `{`, `.csv` if the extension is csv or tsv, else `.txt`.
    public static func textFormat(prefix: [UInt8], fileExtension: String?) -> FileFormat {
        var i = hasUTF8BOM(prefix) ? 3 : 0
        while i < prefix.count, isJSONWhitespace(prefix[i]) { i += 1 }
        if i < prefix.count, prefix[i] == UInt8(ascii: "{") { return .jsonl }
        switch normalizedExtension(fileExtension) {
        case "csv", "tsv": return .csv
        default: return .txt
        }
    }

    /// The field delimiter for a CSV-family file: tab for `.tsv`, comma otherwise.
    public static func csvDelimiter(fileExtension: String?) -> UInt8 {
        normalizedExtension(fileExtension) == "tsv" ? 0x09 : UInt8(ascii: ",")
    }

    /// `true` if the text starts (after an optional BOM and whitespace) with `<!doctype html`, `<html`,
    /// or an HTML comment followed by one of these, case-insensitively. HTML is valid UTF-8, so `sniff`
    /// calls it `.text`; callers that refuse web pages ask this separately.
    public static func looksLikeHTML(prefix: [UInt8]) -> Bool {
        var i = hasUTF8BOM(prefix) ? 3 : 0
        func skipSpace() { while i < prefix.count, isJSONWhitespace(prefix[i]) || prefix[i] == 0x0C { i += 1 } }
        func matches(_ s: String) -> Bool {
            let m = Array(s.utf8)
            guard i + m.count <= prefix.count else { return false }
            for k in 0..<m.count where asciiLower(prefix[i + k]) != m[k] { return false }
            return true
        }
        skipSpace()
        // Skip leading comments, e.g. `<!-- saved from url=... -->`.
        while matches("<!--") {
            var j = i + 4
            var closed = false
            while j + 3 <= prefix.count {
                if prefix[j] == UInt8(ascii: "-") && prefix[j + 1] == UInt8(ascii: "-") && prefix[j + 2] == UInt8(ascii: ">") {
                    closed = true
                    break
                }
                j += 1
            }
            guard closed else { return false }
            i = j + 3
            skipSpace()
        }
        if matches("<!doctype html") { return true }
        if matches("<html") {
            let k = i + 5
            return k == prefix.count || [0x20, 0x09, 0x0A, 0x0D, 0x0C, UInt8(ascii: ">")].contains(prefix[k])
        }
        return false
    }

    // MARK: helpers

    static func hasUTF8BOM(_ p: [UInt8]) -> Bool {
        p.count >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF
    }

    @inline(__always)
    static func isJSONWhitespace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }

    @inline(__always)
    static func asciiLower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c | 0x20 : c }

    static func normalizedExtension(_ ext: String?) -> String {
        guard var e = ext?.lowercased() else { return "" }
        if e.hasPrefix(".") { e.removeFirst() }
        return e
    }

    /// "BM" followed by a header whose DIB size is one of the known ones and whose pixel offset fits.
    static func isPlausibleBMP(_ p: UnsafeRawBufferPointer) -> Bool {
        guard p.count >= 18 else { return false }
        func le32(_ o: Int) -> UInt32 {
            UInt32(p[o]) | UInt32(p[o + 1]) << 8 | UInt32(p[o + 2]) << 16 | UInt32(p[o + 3]) << 24
        }
        let dibSize = le32(14)
        guard [12, 16, 40, 52, 56, 64, 108, 124].contains(dibSize) else { return false }
        let pixelOffset = le32(10)
        return pixelOffset >= 14 + dibSize && pixelOffset < 1 << 24
    }

    /// An MPEG audio frame header: 11-bit sync, a defined version and layer, a usable bitrate and sample rate.
    static func isMPEGAudioFrameHeader(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8) -> Bool {
        guard b0 == 0xFF, b1 & 0xE0 == 0xE0 else { return false }
        let version = (b1 >> 3) & 0x03  // 01 is reserved
        let layer = (b1 >> 1) & 0x03  // 00 is reserved (and is what AAC ADTS uses)
        let bitrate = b2 >> 4  // 1111 is invalid
        let rate = (b2 >> 2) & 0x03  // 11 is reserved
        return version != 1 && layer != 0 && bitrate != 0x0F && rate != 0x03
    }

    /// UTF-16 without a BOM: in ASCII-range text, every other byte is NUL.
    static func looksLikeUTF16WithoutBOM(_ p: UnsafeRawBufferPointer) -> Bool {
        let pairs = p.count / 2
        guard pairs >= 2 else { return false }
        var evenZero = 0, oddZero = 0
        for k in 0..<pairs {
            if p[2 * k] == 0 { evenZero += 1 }
            if p[2 * k + 1] == 0 { oddZero += 1 }
        }
        // Most high (or low) bytes NUL, hardly any of the others.
        let most = pairs * 8 / 10
        let few = pairs / 10
        return (oddZero >= most && evenZero <= few) || (evenZero >= most && oddZero <= few)
    }
}
