/// The kind of data a sample carries.
public enum Modality: String, Sendable, Codable, CaseIterable, Comparable {
    case text, image, audio

    public static func < (a: Modality, b: Modality) -> Bool { a.rawValue < b.rawValue }
}

/// A concrete file format, identified by content (magic bytes), never by extension.
public enum FileFormat: String, Sendable, Codable, CaseIterable {
    // text
    case txt, jsonl, csv
    // image
    case png, jpeg, webp, gif, tiff, bmp
    // audio
    case wav, flac, ogg, mp3, aiff

    public var modality: Modality {
        switch self {
        case .txt, .jsonl, .csv: .text
        case .png, .jpeg, .webp, .gif, .tiff, .bmp: .image
        case .wav, .flac, .ogg, .mp3, .aiff: .audio
        }
    }

    /// The extension Strata gives files of this format in `data/`.
    public var fileExtension: String {
        switch self {
        case .jpeg: "jpg"
        default: rawValue
        }
    }

    /// Extensions users commonly give files of this format (lower-case, no dot).
    public var knownExtensions: [String] {
        switch self {
        case .txt: ["txt", "text", "md"]
        case .jsonl: ["jsonl", "ndjson", "json"]
        case .csv: ["csv", "tsv"]
        case .png: ["png"]
        case .jpeg: ["jpg", "jpeg", "jpe"]
        case .webp: ["webp"]
        case .gif: ["gif"]
        case .tiff: ["tif", "tiff"]
        case .bmp: ["bmp"]
        case .wav: ["wav", "wave"]
        case .flac: ["flac"]
        case .ogg: ["ogg", "oga", "opus"]
        case .mp3: ["mp3"]
        case .aiff: ["aif", "aiff"]
        }
    }

    public static func formats(of modality: Modality) -> [FileFormat] {
        allCases.filter { $0.modality == modality }
    }

    /// Accepts `jpg` as well as `jpeg`, case-insensitively.
    public init?(name: String) {
        let n = name.lowercased()
        if n == "jpg" { self = .jpeg; return }
        if n == "tif" { self = .tiff; return }
        guard let f = FileFormat(rawValue: n) else { return nil }
        self = f
    }
}
