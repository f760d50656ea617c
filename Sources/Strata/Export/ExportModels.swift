import StrataCore
import StrataParquet

public enum ExportFormat: String, Codable, Sendable, CaseIterable {
    case jsonl, csv, parquet, webdataset

    var fileExtension: String {
        switch self {
        case .jsonl: "jsonl"
        case .csv: "csv"
        case .parquet: "parquet"
        case .webdataset: "tar"
        }
    }
}

public struct ExportOptions: Sendable {
    public var format: ExportFormat
    /// Samples per shard (default: 100,000; 10,000 for WebDataset).
    public var shardSize: Int?
    public var compression: ParquetCompression
    /// Parquet row group size in rows (tests use small ones to exercise several row groups).
    public var rowGroupRows: Int
    public var pageBytes: Int
    /// Export only this modality's samples (into `data/ready/<version>-<modality>/<format>/`); needed for a version
    /// that mixes text, images and audio, since one export holds one kind of content.
    public var modality: String?
    /// Write the export into this folder instead of `data/ready/<version>[-<modality>]/<format>/` (absolute, or
    /// relative to the current directory). It must not exist, be empty, or hold an earlier Strata export.
    public var out: String?
    public init(format: ExportFormat, shardSize: Int? = nil, compression: ParquetCompression = .zstd(level: 1),
                rowGroupRows: Int = 1 << 20, pageBytes: Int = 1 << 20, modality: String? = nil, out: String? = nil) {
        self.format = format; self.shardSize = shardSize; self.compression = compression
        self.rowGroupRows = rowGroupRows; self.pageBytes = pageBytes; self.modality = modality; self.out = out
    }
}

public struct ExportShard: Codable, Sendable, Equatable {
    public var path: String
    public var split: String
    public var samples: Int
    public var bytes: Int
    public var sha256: String
}

public struct ExportResult: Codable, Sendable {
    public var version: String
    public var versionId: String
    public var state: VersionState
    public var directory: String
    public var format: String
    public var compression: String?
    public var samples: Int
    public var splits: [String: Int]
    public var shards: [ExportShard]
    public var mediaFiles: Int
}

/// One row of an export, whatever the format.
struct ExportRow {
    var id: String
    var key: String
    var text: String?
    var bytes: [UInt8]?
    var fileName: String
    var label: String?
    var split: String
    var origin: String
    var metadata: JSONValue
}

