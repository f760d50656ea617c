import Foundation
import GRDB

/// A sample as the catalog records it. `id` is the SHA-256 of the sample's content.
public struct SampleRow: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "sample"
    public var id: String
    public var shortId: String
    public var kind: String
    public var modality: String
    public var format: String
    public var size: Int
    public var source: String
    public var collected: String
    public var rawPath: String
    public var rawLine: Int?
    public var originPath: String
    public var originLine: Int?
    public var externalId: String?
    public var metadata: String
    public var ingestId: String
    public var createdAt: String
    /// For file samples: the stat of the raw file when it was written (the immutability check compares it).
    public var rawMtimeNanos: Int64?
    public var rawInode: Int64?

    public init(id: String, shortId: String, kind: String, modality: String, format: String, size: Int, source: String,
                collected: String, rawPath: String, rawLine: Int?, originPath: String, originLine: Int?,
                externalId: String?, metadata: String, ingestId: String, createdAt: String,
                rawMtimeNanos: Int64? = nil, rawInode: Int64? = nil) {
        self.id = id; self.shortId = shortId; self.kind = kind; self.modality = modality; self.format = format
        self.size = size; self.source = source; self.collected = collected; self.rawPath = rawPath
        self.rawLine = rawLine; self.originPath = originPath; self.originLine = originLine
        self.externalId = externalId; self.metadata = metadata; self.ingestId = ingestId; self.createdAt = createdAt
        self.rawMtimeNanos = rawMtimeNanos; self.rawInode = rawInode
    }
}

public struct OccurrenceRow: Codable, Sendable, Equatable, FetchableRecord {
    public var sampleId: String
    public var originPath: String
    public var originLine: Int
    public var ingestId: String
    /// The row's own id (`--id-field`) at this place, so ids of exact duplicates resolve to the sample they repeat.
    public var externalId: String?
    public init(sampleId: String, originPath: String, originLine: Int, ingestId: String, externalId: String? = nil) {
        self.sampleId = sampleId; self.originPath = originPath; self.originLine = originLine; self.ingestId = ingestId
        self.externalId = externalId
    }
}

/// A file Strata wrote under `data/raw`, with the stat it had then (for the immutability check). Record containers
/// have rows in `rawFile`; file samples keep the same facts in their `sample` row (one row per file, not two).
public struct RawFileRow: Codable, Sendable, Equatable, FetchableRecord {
    public var path: String
    public var sha256: String
    public var size: Int
    public var mtimeNanos: Int64
    public var inode: Int64
    public var kind: String
    public var source: String
    public init(path: String, sha256: String, size: Int, mtimeNanos: Int64, inode: Int64, kind: String, source: String) {
        self.path = path; self.sha256 = sha256; self.size = size; self.mtimeNanos = mtimeNanos; self.inode = inode
        self.kind = kind; self.source = source
    }
}

/// What a source file looked like when it was last read: lets ingest and status skip unchanged files.
/// The stat part of a `statCache` row.
public struct CachedStat: Sendable, Equatable {
    public var size: Int
    public var mtimeNanos: Int64
    public var inode: Int64
    public init(size: Int, mtimeNanos: Int64, inode: Int64) { self.size = size; self.mtimeNanos = mtimeNanos; self.inode = inode }
}

public struct StatCacheRow: Codable, Sendable, Equatable, FetchableRecord {
    public var path: String
    public var size: Int
    public var mtimeNanos: Int64
    public var inode: Int64
    public var sha256: String
    /// `sample`, `duplicate`, `quarantined` or `records`.
    public var outcome: String
    public init(path: String, size: Int, mtimeNanos: Int64, inode: Int64, sha256: String, outcome: String) {
        self.path = path; self.size = size; self.mtimeNanos = mtimeNanos; self.inode = inode; self.sha256 = sha256
        self.outcome = outcome
    }
}

/// One entry of the findings ledger.
public struct FindingRow: Codable, Sendable, Equatable, FetchableRecord {
    public var id: Int64?
    public var key: String
    public var kind: String
    public var stage: String
    public var sampleId: String?
    public var origin: String?
    public var line: Int?
    public var relatedSampleId: String?
    public var relatedOrigin: String?
    public var relatedLine: Int?
    public var reason: String
    public var detail: String
    public var runId: String?
    public var createdAt: String

    public init(key: String, kind: String, stage: String, sampleId: String?, origin: String?, line: Int?,
                relatedSampleId: String? = nil, relatedOrigin: String? = nil, relatedLine: Int? = nil,
                reason: String, detail: String = "{}", runId: String?, createdAt: String) {
        self.id = nil; self.key = key; self.kind = kind; self.stage = stage; self.sampleId = sampleId
        self.origin = origin; self.line = line; self.relatedSampleId = relatedSampleId
        self.relatedOrigin = relatedOrigin; self.relatedLine = relatedLine; self.reason = reason
        self.detail = detail; self.runId = runId; self.createdAt = createdAt
    }
}

/// A rejected file or row. The reason record on disk (`quarantine/<id>.json`) carries the same facts.
public struct QuarantineRow: Codable, Sendable, Equatable, FetchableRecord {
    public var id: String
    public var kind: String
    public var stage: String
    public var origin: String
    public var line: Int?
    public var reason: String
    public var storedPath: String?
    public var source: String?
    public var contentSha256: String?
    public var detail: String
    public var runId: String?
    public var createdAt: String
    public var releasedAt: String?

    public init(id: String, kind: String, stage: String, origin: String, line: Int?, reason: String,
                storedPath: String?, source: String?, contentSha256: String?, detail: String = "{}",
                runId: String?, createdAt: String, releasedAt: String? = nil) {
        self.id = id; self.kind = kind; self.stage = stage; self.origin = origin; self.line = line
        self.reason = reason; self.storedPath = storedPath; self.source = source; self.contentSha256 = contentSha256
        self.detail = detail; self.runId = runId; self.createdAt = createdAt; self.releasedAt = releasedAt
    }
}

/// An append-only label event.
public struct LabelEventRow: Codable, Sendable, Equatable, FetchableRecord {
    public var id: Int64?
    public var sampleId: String
    public var status: String
    public var value: String?
    public var reason: String?
    public var annotator: String
    public var role: String
    public var source: String
    public var confidence: Double?
    public var rulebookVersion: String?
    public var answers: String?
    public var importKey: String?
    public var createdAt: String

    public init(sampleId: String, status: String, value: String?, reason: String? = nil, annotator: String,
                role: String, source: String, confidence: Double? = nil, rulebookVersion: String? = nil,
                answers: String? = nil, importKey: String?, createdAt: String) {
        self.id = nil; self.sampleId = sampleId; self.status = status; self.value = value; self.reason = reason
        self.annotator = annotator; self.role = role; self.source = source; self.confidence = confidence
        self.rulebookVersion = rulebookVersion; self.answers = answers; self.importKey = importKey
        self.createdAt = createdAt
    }
}

/// Everything one ingest batch adds, written in one transaction.
public struct IngestBatch: Sendable {
    public var samples: [SampleRow] = []
    /// Further places a sample was seen (a sample's first origin is in its own row).
    public var occurrences: [OccurrenceRow] = []
    public var rawFiles: [RawFileRow] = []
    public var statCache: [StatCacheRow] = []
    public var findings: [FindingRow] = []
    public var quarantine: [QuarantineRow] = []
    public var labels: [LabelEventRow] = []
    public init() {}
    public var isEmpty: Bool {
        samples.isEmpty && occurrences.isEmpty && rawFiles.isEmpty && statCache.isEmpty && findings.isEmpty
            && quarantine.isEmpty && labels.isEmpty
    }
}
