import Foundation
import StrataCore
import StrataStore

/// One row read from a JSONL or CSV file.
enum RecordItem: Sendable {
    case row(line: Int, fields: [String: JSONValue], bytes: [UInt8])
    case problem(RecordIssue)
    case blank(line: Int)
}

/// A row that cannot be used, with a stable `kind` and a reason for the user.
struct RecordIssue: Sendable {
    var line: Int
    var kind: FindingKind
    var reason: String
    /// The row's bytes (empty when the row was too large to keep).
    var bytes: [UInt8]
}

/// Streams rows of record files with bounded memory (a row longer than the limit is skipped, never buffered).
enum RecordReader {
    /// A CSV file whose header lacks the required column.
    struct MissingColumn: Error, CustomStringConvertible {
        var column: String
        var columns: [String]
        var description: String {
            "the header has no column `\(column)` (columns: \(columns.joined(separator: ", "))); name the text column with --text-field"
        }
    }

    static func readJSONL(path: String, maxRecordBytes: Int, _ body: (RecordItem) throws -> Void) throws {
        var splitter = LineSplitter(maxLineBytes: maxRecordBytes)
        func handle(_ line: LineSplitter.Line) throws {
            switch line {
            case .tooLong(let n, _, let length): try body(tooLong(line: n, length: length, maxRecordBytes: maxRecordBytes))
            case .line(let n, let bytes, _): try body(jsonlItem(line: n, bytes: bytes))
            }
        }
        try FileIO.readChunks(path) { chunk in try splitter.feed(chunk, handle) }
        try splitter.finish(handle)
    }

    /// The problem reported for a line over `limits.max_record_bytes` (never read into memory).
    static func tooLong(line n: Int, length: Int, maxRecordBytes: Int) -> RecordItem {
        .problem(RecordIssue(line: n, kind: .tooLarge,
            reason: "line \(n) has \(length) bytes, more than limits.max_record_bytes = \(maxRecordBytes) in strata.yaml; the row was skipped without reading it into memory",
            bytes: []))
    }

    /// One JSONL line as a row, a blank line or a problem (pure: ingest calls it on worker threads).
    static func jsonlItem(line n: Int, bytes raw: [UInt8]) -> RecordItem {
        var bytes = raw
        if n == 1 && bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return .blank(line: n) }
        switch JSONRecord.parseObject(bytes) {
        case .success(let fields): return .row(line: n, fields: fields, bytes: bytes)
        case .failure(let p):
            let kind: FindingKind = p.kind == RecordProblem.invalidUTF8 ? .invalidUTF8 : .malformedRow
            return .problem(RecordIssue(line: n, kind: kind, reason: "line \(n): \(p.message)", bytes: bytes))
        }
    }

    /// Reads a CSV file whose first record is the header. Ragged rows, unterminated quotes and oversized rows
    /// become problems; the other rows are returned as column -> value.
    static func readCSV(path: String, delimiter: UInt8, maxRecordBytes: Int, requiredColumn: String? = nil,
                        progress: (Int) -> Void = { _ in }, _ body: (RecordItem) throws -> Void) throws {
        var parser = CSVParser(delimiter: delimiter, maxRecordBytes: maxRecordBytes)
        var table: CSVTable?
        let sep = String(UnicodeScalar(delimiter))
        func handle(_ event: CSVEvent) throws {
            switch event {
            case .problem(let line, let p):
                let kind: FindingKind = p.kind == RecordProblem.tooLong ? .tooLarge : (p.kind == RecordProblem.invalidUTF8 ? .invalidUTF8 : .malformedRow)
                try body(.problem(RecordIssue(line: line, kind: kind, reason: "line \(line): \(p.message)", bytes: [])))
            case .record(let record):
                guard let t = table else {
                    let header = CSVTable(header: record)
                    if let requiredColumn, header.index(of: requiredColumn) == nil {
                        throw MissingColumn(column: requiredColumn, columns: header.header)
                    }
                    table = header
                    return
                }
                let bytes = Array(record.fields.joined(separator: sep).utf8)
                if let p = t.check(record) {
                    try body(.problem(RecordIssue(line: record.line, kind: .malformedRow, reason: "line \(record.line): \(p.message)", bytes: bytes)))
                    return
                }
                var fields: [String: JSONValue] = [:]
                for (name, value) in zip(t.header, record.fields) { fields[name] = .string(value) }
                try body(.row(line: record.line, fields: fields, bytes: bytes))
            }
        }
        try FileIO.readChunks(path) { chunk in
            try parser.feed(chunk, handle)
            progress(chunk.count)
        }
        try parser.finish(handle)
    }

    static func readCSV(path: String, delimiter: UInt8, maxRecordBytes: Int) throws
        -> (rows: [(line: Int, fields: [String: JSONValue])], problems: [RecordIssue]) {
        var rows: [(line: Int, fields: [String: JSONValue])] = []
        var problems: [RecordIssue] = []
        try readCSV(path: path, delimiter: delimiter, maxRecordBytes: maxRecordBytes) { item in
            switch item {
            case .row(let line, let fields, _): rows.append((line, fields))
            case .problem(let p): problems.append(p)
            case .blank: break
            }
        }
        return (rows, problems)
    }
}

extension JSONRecord {
    /// Parses stored JSON (catalog columns), nil if it is not valid.
    static func parse(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONRecord.parseValue(String(decoding: bytes, as: UTF8.self), maxDepth: 256).get()
    }
}

extension JSONValue {
    var stringValue: String? { asText }
    var typeName: String { kindDescription }
}
