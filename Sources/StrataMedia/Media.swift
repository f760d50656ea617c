import CSndFile
import CVips
import Foundation

/// Entry point of StrataMedia: one-time library set-up plus image and audio validation.
///
/// All functions are safe to call from several threads at once.
public enum Media {
    /// Initialises libvips once per process (`vips_init("strata")`), turns off libvips'
    /// operation cache (validation must never see a cached result for a changed file),
    /// sets libvips' worker threads to 1 per image (Strata parallelises across files,
    /// not inside one image; `VIPS_CONCURRENCY` in the environment overrides it) and
    /// keeps libvips warnings off stderr (they are reported through `MediaProblem`).
    ///
    /// Every other function in this module calls it; calling it again is free.
    public static func initialize() {
        _ = started
    }

    /// Swift initialises a static `let` exactly once, thread-safely (`swift_once`).
    private static let started: Bool = {
        let fromEnv = ProcessInfo.processInfo.environment["VIPS_CONCURRENCY"].flatMap(Int.init)
        let concurrency = fromEnv != nil ? 0 : 1  // 0: leave libvips' own choice (the env var)
        let rc = strata_vips_start("strata", Int32(concurrency), 1)
        precondition(rc == 0, "libvips failed to initialise: \(VipsErrors.take() ?? "no detail")")
        return true
    }()
}

/// Why a media file was rejected.
public struct MediaProblem: Error, Sendable, Equatable {
    /// The class of problem, stable for reports and JSON (`rawValue`).
    public enum Kind: String, Sendable {
        case corrupt, empty
        case tooLarge = "too-large"
    }

    public var kind: Kind
    /// A plain-language sentence, with the C library's own message in parentheses when there is one.
    public var reason: String

    public init(kind: Kind, reason: String) {
        self.kind = kind
        self.reason = reason
    }

    static func corrupt(_ reason: String) -> MediaProblem { MediaProblem(kind: .corrupt, reason: reason) }
    static func empty(_ reason: String) -> MediaProblem { MediaProblem(kind: .empty, reason: reason) }
}

/// Reads and clears libvips' process-global error buffer.
///
/// libvips keeps one error buffer for the whole process. `vips_error_buffer_copy` takes
/// the text and clears it in one step under libvips' own lock, so two failing threads
/// never both report (or both lose) the same message. If two images fail at the same
/// instant, one reason may carry both libvips messages and the other none; the
/// plain-language part of every reason is always that call's own.
enum VipsErrors {
    /// The buffer's text (trimmed, lines joined with "; "), or nil if it was empty.
    static func take() -> String? {
        guard let copy = vips_error_buffer_copy() else { return nil }
        let text = String(cString: copy)
        strata_g_free(copy)
        let lines = text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        return lines.isEmpty ? nil : lines.joined(separator: "; ")
    }

    /// " (libvips: ...)" or "" when libvips left no message.
    static func detail() -> String {
        take().map { " (libvips: \($0))" } ?? ""
    }
}

/// Size of a regular file, or a problem saying why it cannot be read.
func fileSize(_ path: String) -> Result<Int, MediaProblem> {
    var st = stat()
    guard stat(path, &st) == 0 else {
        return .failure(.corrupt("cannot read file: \(String(cString: strerror(errno)))"))
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
        return .failure(.corrupt("not a regular file"))
    }
    guard access(path, R_OK) == 0 else {
        return .failure(.corrupt("cannot read file: \(String(cString: strerror(errno)))"))
    }
    return .success(Int(st.st_size))
}
