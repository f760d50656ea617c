import Foundation
import StrataCatalog
import StrataCore
import StrataMedia
import StrataStore

/// File ingest, step 2: examining one file (read once, hashed, sniffed and validated). Pure apart from reading the
/// file: runs on the worker threads, decides nothing about the catalog.
extension IngestContext {
    /// The outcome of reading one file (done in parallel).
    struct Examined: Sendable {
        var sha: String?
        var size: Int
        var format: FileFormat?
        var probe: JSONValue?
        var reject: (kind: FindingKind, reason: String)?
        /// Why the original file name is poor practice, if it is.
        var nameProblem: String?
        /// The bytes of a small file, kept so it is written to data/raw without reading it again.
        var content: Content?
        /// The original file name and its lower-cased extension (set for accepted files, in the parallel step).
        var originalName: String? = nil
        var pathExtension: String? = nil
    }

    /// Files up to this size are read in one call and written from memory.
    static let smallFileBytes = 64 * 1024

    /// The bytes of a small file: in the batch's slab (the common case) or in an array of their own (a file that
    /// grew after its stat was taken).
    enum Content: @unchecked Sendable {
        case slab(UnsafeRawBufferPointer)
        case owned([UInt8])

        var count: Int {
            switch self {
            case .slab(let b): b.count
            case .owned(let a): a.count
            }
        }

        func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            switch self {
            case .slab(let b): try body(b)
            case .owned(let a): try a.withUnsafeBytes(body)
            }
        }

        var array: [UInt8] { withBytes { [UInt8]($0) } }
    }

    /// Why an original file name is poor practice (spaces, shell characters, upper case, ...), or nil.
    static func fileNameProblem(_ name: String) -> String? {
        if name.hasPrefix("-") { return "starts with '-' (read as an option by command-line tools)" }
        if name.hasPrefix(".") { return "starts with '.' (hidden)" }
        if name.utf8.count > 100 { return "is longer than 100 bytes" }
        if name.utf8.allSatisfy({ $0 < 0x80 }) {
            // ASCII (nearly every name): one pass over the bytes instead of grapheme-by-grapheme.
            if name.utf8.contains(where: { $0 == 0x20 || (0x09...0x0D).contains($0) }) { return "contains whitespace" }
            if name.utf8.contains(where: { IngestContext.specialNameBytes[Int($0)] }) { return "contains shell or URL special characters" }
        } else {
            if name.contains(where: { $0.isWhitespace }) { return "contains whitespace" }
            return "contains non-ASCII characters"
        }
        let ext = PathName.ext(name)
        if ext.isEmpty { return "has no extension" }
        if ext != ext.lowercased() { return "has an upper-case extension" }
        let inner = PathName.ext(PathName.deletingExt(name))
        if !inner.isEmpty, FileFormat(name: inner) != nil {
            return "has a double extension"
        }
        return nil
    }

    static func examine(_ e: WalkEntry, maxFileBytes: Int, maxImagePixels: Int, slot: UnsafeMutableRawBufferPointer? = nil) -> Examined {
        if let problem = e.problem {
            switch problem {
            case .symlinkLoop: return Examined(size: 0, reject: (.unreadable, "symbolic link loop"))
            case .unreadable(let why): return Examined(size: 0, reject: (.unreadable, "cannot read: \(why)"))
            case .notRegular(let why): return Examined(size: 0, reject: (.unreadable, why))
            }
        }
        let size = e.status?.size ?? 0
        if size == 0 { return Examined(sha: FileIO.sha256([UInt8]()), size: 0, reject: (.empty, "the file is empty (0 bytes)")) }
        if size > maxFileBytes {
            return Examined(size: size, reject: (.tooLarge, "the file has \(size) bytes, more than limits.max_file_bytes = \(maxFileBytes) in strata.yaml"))
        }
        // One pass: hash everything, sniff the first bytes, validate UTF-8 when the file is text.
        var hasher = StreamingSHA256()
        var prefix: [UInt8] = []
        var sniffed: SniffResult?
        var utf8 = UTF8Validator()
        var textValid = true
        var small: Content?
        func consume(_ chunk: UnsafeRawBufferPointer) {
            hasher.update(chunk)
            if sniffed == nil {
                prefix = Array(chunk.prefix(4096))
                sniffed = Sniffer.sniff(prefix: prefix, totalSize: size)
            }
            if case .text = sniffed!, textValid { textValid = utf8.feed(chunk) }
        }
        do {
            if size <= smallFileBytes {
                if let slot, let n = try FileIO.readSmall(e.path, into: slot) {
                    let bytes = UnsafeRawBufferPointer(rebasing: slot[0..<n])
                    consume(bytes)
                    small = .slab(bytes)
                } else {
                    let bytes = try FileIO.readSmall(e.path, size: size, limit: maxFileBytes)
                    bytes.withUnsafeBytes { consume($0) }
                    small = .owned(bytes)
                }
            } else {
                try FileIO.readChunks(e.path) { consume($0) }
            }
        } catch {
            return Examined(size: size, reject: (.unreadable, "\(error)"))
        }
        let sha = hasher.finalize()
        switch sniffed ?? .empty {
        case .empty:
            return Examined(sha: sha, size: size, reject: (.empty, "the file is empty"))
        case .notMedia(let what) where what == Sniffer.invalidUTF8Text:
            var v = UTF8Validator()
            _ = v.feed(prefix)
            let line = v.line.map { " (line \($0))" } ?? ""
            let offset = v.firstInvalidOffset.map { " at byte \($0)" } ?? ""
            return Examined(sha: sha, size: size, reject: (.invalidUTF8, "the text is not valid UTF-8\(offset)\(line); convert it to UTF-8 (e.g. iconv -f LATIN1 -t UTF-8)"))
        case .notMedia(let what) where what.hasPrefix("UTF-16") || what.hasPrefix("UTF-32"):
            let from = what.hasPrefix("UTF-16") ? "UTF-16" : "UTF-32"
            return Examined(sha: sha, size: size, reject: (.wrongEncoding, "the text is \(from), not UTF-8; convert it (iconv -f \(from) -t UTF-8 FILE > FILE.utf8) and ingest the result"))
        case .notMedia(let what):
            return Examined(sha: sha, size: size, reject: (.notMedia, "the content is \(what), not text, image or audio"))
        case .text:
            if textValid { textValid = utf8.finish() }
            let ext = PathName.ext(PathName.last(e.path)).lowercased()
            if let claimed = FileFormat.allCases.first(where: { $0.modality != .text && $0.knownExtensions.contains(ext) }) {
                let what = Sniffer.looksLikeHTML(prefix: prefix) ? "an HTML document" : "text"
                return Examined(sha: sha, size: size, reject: (.notMedia, "named .\(ext) (\(claimed.modality.rawValue)) but the content is \(what)"))
            }
            if !textValid {
                let line = utf8.line.map { " (line \($0))" } ?? ""
                let offset = utf8.firstInvalidOffset.map { " at byte \($0)" } ?? ""
                return Examined(sha: sha, size: size, reject: (.invalidUTF8, "the text is not valid UTF-8\(offset)\(line); convert it to UTF-8 (e.g. iconv -f LATIN1 -t UTF-8)"))
            }
            if utf8.nulCount > 0 {
                return Examined(sha: sha, size: size, reject: (.invalidUTF8, "the text contains \(utf8.nulCount) NUL byte(s); text samples must not contain NUL"))
            }
            let format = Sniffer.textFormat(prefix: prefix, fileExtension: ext)
            return Examined(sha: sha, size: small?.count ?? size, format: format, content: small)
        case .media(let format):
            switch format.modality {
            case .image:
                // Small images are validated from the bytes that were hashed, so what is stored is what was checked.
                let verdict = small.map { Media.validateImage(bytes: $0.array, maxPixels: maxImagePixels) }
                    ?? Media.validateImage(path: e.path, maxPixels: maxImagePixels)
                switch verdict {
                case .success(let p):
                    return Examined(sha: sha, size: size, format: format, probe: .object([
                        "width": .int(Int64(p.width)), "height": .int(Int64(p.height)), "bands": .int(Int64(p.bands)),
                        "color_space": .string(p.colorSpace), "orientation": .int(Int64(p.orientation))]), content: small)
                case .failure(let problem):
                    return Examined(sha: sha, size: size, reject: (FindingKind(problem.kind.rawValue), problem.reason))
                }
            case .audio:
                switch Media.validateAudio(path: e.path) {
                case .success(let p):
                    return Examined(sha: sha, size: size, format: format, probe: .object([
                        "container": .string(p.container), "codec": .string(p.codec), "sample_rate": .int(Int64(p.sampleRate)),
                        "channels": .int(Int64(p.channels)), "frames": .int(Int64(p.frames)), "duration": .number(p.duration)]), content: small)
                case .failure(let problem):
                    return Examined(sha: sha, size: size, reject: (FindingKind(problem.kind.rawValue), problem.reason))
                }
            case .text:
                return Examined(sha: sha, size: size, format: format, content: small)
            }
        }
    }
}
