/// Why one record (a JSONL line, a CSV row) was refused, in words a user understands.
public struct RecordProblem: Error, Sendable, Equatable, Hashable, CustomStringConvertible {
    /// A stable machine-readable kind: see the constants below.
    public var kind: String
    /// A sentence for the user, e.g. "line is not valid JSON: unexpected `}` at column 41".
    public var message: String
    /// 1-based column (in characters, i.e. Unicode scalars) where the problem was found, when known.
    public var column: Int?

    public init(kind: String, message: String, column: Int? = nil) {
        self.kind = kind
        self.message = message
        self.column = column
    }

    public var description: String { message }

    /// The record is not well-formed (bad JSON, a non-object line, a broken quoted CSV field).
    public static let malformedRow = "malformed-row"
    /// The record's bytes are not valid UTF-8.
    public static let invalidUTF8 = "invalid-utf8"
    /// JSON nested deeper than the parser's limit.
    public static let tooDeep = "too-deep"
    /// The record is longer than the configured byte limit.
    public static let tooLong = "too-long"
    /// A CSV row whose field count differs from the header's.
    public static let raggedRow = "ragged-row"
}
