// Typed contracts that cross module boundaries. Each was a string that several modules built and parsed again;
// now one type owns its spelling. The spelling on disk and in the catalog is unchanged (each encodes as the
// string it replaced), so projects, task files and remotes written before keep working.

/// Where a work item's current bytes are: a file in the project (`raw:<project-relative path>`) or an object of
/// the content-addressed store (`object:<sha256>`).
public enum ContentRef: Hashable, Sendable, Codable, CustomStringConvertible {
    case raw(path: String)
    case object(sha256: String)

    /// Parses `raw:PATH` or `object:SHA`; nil for anything else.
    public init?(_ text: String) {
        if text.hasPrefix("raw:") { self = .raw(path: String(text.dropFirst(4))) }
        else if text.hasPrefix("object:") { self = .object(sha256: String(text.dropFirst(7))) }
        else { return nil }
    }

    public var description: String {
        switch self {
        case .raw(let path): "raw:" + path
        case .object(let sha): "object:" + sha
        }
    }

    /// True for content in the object store (derived by a stage, or an ingested record).
    public var isObject: Bool { if case .object = self { true } else { false } }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let ref = ContentRef(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "not a content reference (raw:PATH or object:SHA256): \(text)"))
        }
        self = ref
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// The lifecycle of a dataset version: a draft may be replaced; an active version never changes; a retired one
/// stays readable but is no longer offered for training.
public enum VersionState: String, Sendable, Codable, CaseIterable {
    case draft, active, retired
}

/// What a finding or quarantine entry is about. An open set: quality rules and command stages name their own
/// kinds (`too-small`, `dropped-by-command`, ...), so this is a typed name, not a closed enum; the kinds Strata's
/// own code raises are spelled once, here.
public struct FindingKind: RawRepresentable, Hashable, Sendable, Codable, Comparable, ExpressibleByStringLiteral,
                           CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public var description: String { rawValue }
    public static func < (a: FindingKind, b: FindingKind) -> Bool { a.rawValue < b.rawValue }

    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }

    // Ingest: files and records that were not accepted.
    public static let corrupt: FindingKind = "corrupt"
    public static let wrongExtension: FindingKind = "wrong-extension"
    public static let formatNotAllowed: FindingKind = "format-not-allowed"
    public static let unsafePath: FindingKind = "unsafe-path"
    public static let unlistedFile: FindingKind = "unlisted-file"
    public static let missingFile: FindingKind = "missing-file"
    public static let tooLarge: FindingKind = "too-large"
    public static let badFilename: FindingKind = "bad-filename"
    public static let malformedRow: FindingKind = "malformed-row"
    public static let missingField: FindingKind = "missing-field"
    public static let missingLabel: FindingKind = "missing-label"
    public static let invalidLabel: FindingKind = "invalid-label"
    public static let duplicateRow: FindingKind = "duplicate-row"
    public static let duplicateId: FindingKind = "duplicate-id"
    public static let languageNotAllowed: FindingKind = "language-not-allowed"
    // Pipeline.
    public static let duplicate: FindingKind = "duplicate"
    public static let nearDuplicate: FindingKind = "near-duplicate"
    public static let droppedByCommand: FindingKind = "dropped-by-command"
    public static let commandNoAnswer: FindingKind = "command-no-answer"
    // Labels and versions.
    public static let conflictingLabel: FindingKind = "conflicting-label"
    public static let leakage: FindingKind = "leakage"
    // Analyses.
    public static let labelIssue: FindingKind = "label-issue"
    public static let drift: FindingKind = "drift"
    public static let stale: FindingKind = "stale"
    public static let coverageGap: FindingKind = "coverage-gap"
    public static let intentFailure: FindingKind = "intent-failure"
    public static let unacceptableMistake: FindingKind = "unacceptable-mistake"
    public static let pseudoLabelDisagrees: FindingKind = "pseudo-label-disagrees"
    public static let pseudoLabelWithdrawn: FindingKind = "pseudo-label-withdrawn"
    public static let pseudoLabelClassRefused: FindingKind = "pseudo-label-class-refused"
}
