/// The shape of a Parquet file Strata writes: top-level fields that are either leaves or groups of leaves
/// (one level of nesting is enough for Hugging Face's Image and Audio structs, `{bytes, path}`).
public struct ParquetField: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// UTF-8 text: BYTE_ARRAY annotated STRING.
        case string
        /// Raw bytes: BYTE_ARRAY.
        case binary
        case int64
        case double
        case boolean
        /// A struct of leaf fields.
        case group([ParquetField])
    }

    public var name: String
    public var kind: Kind
    public var nullable: Bool

    public init(_ name: String, _ kind: Kind, nullable: Bool = true) {
        self.name = name
        self.kind = kind
        self.nullable = nullable
    }

    public static func string(_ name: String, nullable: Bool = true) -> ParquetField { .init(name, .string, nullable: nullable) }
    public static func binary(_ name: String, nullable: Bool = true) -> ParquetField { .init(name, .binary, nullable: nullable) }
    public static func int64(_ name: String, nullable: Bool = true) -> ParquetField { .init(name, .int64, nullable: nullable) }
    public static func double(_ name: String, nullable: Bool = true) -> ParquetField { .init(name, .double, nullable: nullable) }
    public static func boolean(_ name: String, nullable: Bool = true) -> ParquetField { .init(name, .boolean, nullable: nullable) }
    public static func group(_ name: String, _ fields: [ParquetField], nullable: Bool = true) -> ParquetField {
        .init(name, .group(fields), nullable: nullable)
    }
}

/// One value of a row, for the field at the same position.
public enum ParquetCell: Sendable, Equatable {
    case null
    case string(String)
    case bytes([UInt8])
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case group([ParquetCell])
}

public enum ParquetCompression: Sendable, Equatable {
    case uncompressed
    case snappy
    /// Zstandard at a level (Arrow's default is 1).
    case zstd(level: Int32)

    /// Parquet's CompressionCodec number.
    var codec: Int32 {
        switch self {
        case .uncompressed: 0
        case .snappy: 1
        case .zstd: 6
        }
    }

    public var name: String {
        switch self {
        case .uncompressed: "none"
        case .snappy: "snappy"
        case .zstd: "zstd"
        }
    }

    /// Parses `none`, `snappy`, `zstd` or `zstd:LEVEL`.
    public init?(name: String) {
        let parts = name.lowercased().split(separator: ":", maxSplits: 1)
        switch parts.first {
        case "none", "uncompressed": self = .uncompressed
        case "snappy": self = .snappy
        case "zstd":
            if parts.count == 2 {
                guard let level = Int32(parts[1]), (-7...22).contains(level) else { return nil }
                self = .zstd(level: level)
            } else {
                self = .zstd(level: 1)
            }
        default: return nil
        }
    }
}

public struct ParquetError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// A leaf column: its path, physical type and maximum definition level.
struct Leaf {
    enum Physical { case byteArray(utf8: Bool), int64, double, boolean }
    var path: [String]
    var physical: Physical
    var maxDefinition: Int
    /// The definition level at which this leaf's top-level group is present (0 when the leaf is top-level).
    var field: Int
    var child: Int?
}
