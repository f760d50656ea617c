import StrataCore

// Quarantine kinds only ingest raises (the shared ingest kinds are in StrataCore's `FindingKind`).
extension FindingKind {
    static let unreadable: FindingKind = "unreadable"
    static let empty: FindingKind = "empty"
    static let invalidUTF8: FindingKind = "invalid-utf8"
    static let wrongEncoding: FindingKind = "wrong-encoding"
    static let notMedia: FindingKind = "not-media"
    static let notRecords: FindingKind = "not-records"
    static let invalidText: FindingKind = "invalid-text"
}
