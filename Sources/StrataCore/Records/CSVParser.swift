/// One CSV record.
public struct CSVRecord: Sendable, Equatable, Hashable {
    /// The physical (1-based) line where the record starts; a quoted field may span several lines.
    public var line: Int
    public var fields: [String]

    public init(line: Int, fields: [String]) {
        self.line = line
        self.fields = fields
    }
}

/// What `CSVParser` reports: a record, or a problem with the record starting on `line`.
public enum CSVEvent: Sendable, Equatable {
    case record(CSVRecord)
    case problem(line: Int, RecordProblem)
}

/// Streaming RFC 4180 parser. Feed chunks of any size; records come out as they complete.
///
/// - Fields may be quoted; a quoted field may hold delimiters, line breaks and doubled quotes (`""`).
/// - Records end at LF or CRLF (a CR before the LF is dropped, also after a closing quote).
/// - A UTF-8 BOM at the very start is skipped, even when split across chunks.
/// - Completely empty lines are skipped (they are not records).
/// - A quote inside an unquoted field is kept literally (lenient, like most readers); text after a
///   closing quote (`"ab"c`) is a problem.
/// - Memory is bounded: a record longer than `maxRecordBytes` is not kept; the parser keeps
///   tracking quotes to find where it ends and reports it as `too-long`.
/// - Each record's bytes are checked to be UTF-8 (`invalid-utf8` problem otherwise).
public struct CSVParser: Sendable {
    public let delimiter: UInt8
    public let maxRecordBytes: Int

    private enum State: Sendable {
        case fieldStart, unquoted, quoted, afterQuote, afterQuoteCR, skipLine
    }

    private var state = State.fieldStart
    /// Current physical line.
    private var line = 1
    private var recordLine = 1
    private var quoteLine = 1
    /// Bytes of the current record's fields, back to back; `fieldEnds` splits them.
    private var buffer: [UInt8] = []
    private var fieldEnds: [Int] = []
    private var fieldStartIndex = 0
    private var recordBytes = 0
    private var discarding = false
    private var bomChecked = false
    private var bomPending: [UInt8] = []

    public init(delimiter: UInt8 = UInt8(ascii: ","), maxRecordBytes: Int) {
        precondition(delimiter != 0x22 && delimiter != 0x0A && delimiter != 0x0D, "invalid CSV delimiter")
        self.delimiter = delimiter
        self.maxRecordBytes = maxRecordBytes
    }

    /// Parses the next chunk.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, _ emit: (CSVEvent) throws -> Void) rethrows {
        var rest = chunk
        if !bomChecked {
            let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
            var k = 0
            while k < chunk.count && bomPending.count < 3 && chunk[k] == bom[bomPending.count] {
                bomPending.append(chunk[k])
                k += 1
            }
            if bomPending.count == 3 {
                bomChecked = true
                bomPending = []
            } else if k == chunk.count {
                return  // still a possible BOM; wait for more bytes
            } else {
                bomChecked = true
                let pending = bomPending
                bomPending = []
                try pending.withUnsafeBytes { try run($0, emit) }
            }
            rest = UnsafeRawBufferPointer(rebasing: chunk[k...])
        }
        try run(rest, emit)
    }

    /// Parses the next chunk.
    public mutating func feed(_ chunk: [UInt8], _ emit: (CSVEvent) throws -> Void) rethrows {
        try chunk.withUnsafeBytes { try feed($0, emit) }
    }

    /// Ends the input: reports the last record if it has no line break, or an unterminated quote.
    public mutating func finish(_ emit: (CSVEvent) throws -> Void) rethrows {
        if !bomChecked {
            bomChecked = true
            let pending = bomPending
            bomPending = []
            try pending.withUnsafeBytes { try run($0, emit) }
        }
        switch state {
        case .quoted:
            let problem = RecordProblem(
                kind: RecordProblem.malformedRow,
                message: "unterminated quoted field: the quote opened on line \(quoteLine) is never closed")
            resetRecord()
            try emit(.problem(line: recordLine, problem))
        case .afterQuote, .afterQuoteCR:
            endField()
            try endRecord(emit)
        case .unquoted:
            if !discarding, buffer.count > fieldStartIndex, buffer.last == 0x0D { buffer.removeLast() }
            if fieldEnds.isEmpty && buffer.isEmpty && !discarding {
                resetRecord()
            } else {
                endField()
                try endRecord(emit)
            }
        case .fieldStart:
            if !fieldEnds.isEmpty || discarding {
                endField()
                try endRecord(emit)
            }
        case .skipLine:
            resetRecord()
        }
        state = .fieldStart
    }

    // MARK: machine

    private mutating func run(_ chunk: UnsafeRawBufferPointer, _ emit: (CSVEvent) throws -> Void) rethrows {
        let count = chunk.count
        let delim = delimiter
        var i = 0
        while i < count {
            switch state {
            case .fieldStart:
                if chunk[i] == 0x22 {
                    state = .quoted
                    quoteLine = line
                    recordBytes += 1
                    i += 1
                } else {
                    state = .unquoted
                }
            case .unquoted:
                var j = i
                while j < count {
                    let c = chunk[j]
                    if c == delim || c == 0x0A { break }
                    j += 1
                }
                append(UnsafeRawBufferPointer(rebasing: chunk[i..<j]))
                i = j
                if j == count { break }
                i += 1
                if chunk[j] == delim {
                    recordBytes += 1
                    endField()
                    state = .fieldStart
                } else {
                    // LF ends the record; drop a CR before it.
                    if !discarding, buffer.count > fieldStartIndex, buffer.last == 0x0D { buffer.removeLast() }
                    if fieldEnds.isEmpty && buffer.isEmpty && !discarding {
                        resetRecord()  // an empty line
                    } else {
                        endField()
                        try endRecord(emit)
                    }
                    newLine()
                }
            case .quoted:
                var j = i
                while j < count {
                    let c = chunk[j]
                    if c == 0x22 || c == 0x0A { break }
                    j += 1
                }
                append(UnsafeRawBufferPointer(rebasing: chunk[i..<j]))
                i = j
                if j == count { break }
                i += 1
                if chunk[j] == 0x0A {
                    append(0x0A)
                    line += 1
                } else {
                    recordBytes += 1
                    state = .afterQuote
                }
            case .afterQuote, .afterQuoteCR:
                let c = chunk[i]
                i += 1
                if c != 0x0A { recordBytes += 1 }
                if c == 0x22 && state == .afterQuote {
                    append(0x22)
                    state = .quoted
                } else if c == delim && state == .afterQuote {
                    endField()
                    state = .fieldStart
                } else if c == 0x0A {
                    endField()
                    try endRecord(emit)
                    newLine()
                } else if c == 0x0D && state == .afterQuote {
                    state = .afterQuoteCR
                } else {
                    let problem = RecordProblem(
                        kind: RecordProblem.malformedRow,
                        message: "unexpected \(describe(c)) after the closing quote of field \(fieldEnds.count + 1)")
                    state = .skipLine
                    try emit(.problem(line: recordLine, problem))
                }
            case .skipLine:
                var j = i
                while j < count && chunk[j] != 0x0A { j += 1 }
                i = j
                if j == count { break }
                i += 1
                resetRecord()
                newLine()
            }
        }
    }

    private func describe(_ c: UInt8) -> String {
        if c >= 0x21 && c < 0x7F { return "`" + String(Character(Unicode.Scalar(c))) + "`" }
        if c == 0x20 { return "a space" }
        if c == 0x0D { return "a carriage return" }
        return "a byte 0x" + String(c, radix: 16, uppercase: true)
    }

    @inline(__always)
    private mutating func append(_ bytes: UnsafeRawBufferPointer) {
        recordBytes += bytes.count
        if discarding || bytes.isEmpty { return }
        if recordBytes > maxRecordBytes {
            startDiscarding()
            return
        }
        buffer.append(contentsOf: bytes)
    }

    @inline(__always)
    private mutating func append(_ byte: UInt8) {
        recordBytes += 1
        if discarding { return }
        if recordBytes > maxRecordBytes {
            startDiscarding()
            return
        }
        buffer.append(byte)
    }

    private mutating func startDiscarding() {
        discarding = true
        buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
    }

    private mutating func endField() {
        fieldEnds.append(discarding ? 0 : buffer.count)
        fieldStartIndex = discarding ? 0 : buffer.count
    }

    private mutating func newLine() {
        line += 1
        recordLine = line
        state = .fieldStart
    }

    private mutating func resetRecord() {
        buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
        fieldEnds.removeAll(keepingCapacity: true)
        fieldStartIndex = 0
        recordBytes = 0
        discarding = false
    }

    private mutating func endRecord(_ emit: (CSVEvent) throws -> Void) rethrows {
        let startLine = recordLine
        if discarding {
            let length = recordBytes
            resetRecord()
            try emit(.problem(line: startLine, RecordProblem(
                kind: RecordProblem.tooLong,
                message: "row is \(length) bytes long, more than the limit of \(maxRecordBytes) bytes")))
            return
        }
        let event: CSVEvent = buffer.withUnsafeBytes { raw in
            if let bad = UTF8Validator.firstInvalidIndex(in: raw) {
                let field = (fieldEnds.firstIndex { $0 > bad } ?? fieldEnds.count - 1) + 1
                return .problem(line: startLine, RecordProblem(
                    kind: RecordProblem.invalidUTF8,
                    message: "row is not valid UTF-8 (field \(field))"))
            }
            var fields: [String] = []
            fields.reserveCapacity(fieldEnds.count)
            var start = 0
            for end in fieldEnds {
                fields.append(String(decoding: UnsafeRawBufferPointer(rebasing: raw[start..<end]), as: UTF8.self))
                start = end
            }
            return .record(CSVRecord(line: startLine, fields: fields))
        }
        resetRecord()
        try emit(event)
    }
}

/// A CSV file's header and the check that every row matches it.
public struct CSVTable: Sendable, Equatable {
    public let header: [String]
    /// Line of the header record.
    public let headerLine: Int

    public init(header: CSVRecord) {
        self.header = header.fields
        self.headerLine = header.line
    }

    public init(columns: [String]) {
        self.header = columns
        self.headerLine = 1
    }

    public var columnCount: Int { header.count }

    /// Column names that occur more than once, in first-occurrence order.
    public var duplicateColumns: [String] {
        var seen = Set<String>()
        var dup: [String] = []
        for name in header where !seen.insert(name).inserted && !dup.contains(name) { dup.append(name) }
        return dup
    }

    /// Index of a column by name (the first one if duplicated).
    public func index(of column: String) -> Int? { header.firstIndex(of: column) }

    /// A problem if the record's field count differs from the header's ("row has 4 fields, header has 3").
    public func check(_ record: CSVRecord) -> RecordProblem? {
        guard record.fields.count != header.count else { return nil }
        func fields(_ n: Int) -> String { n == 1 ? "1 field" : "\(n) fields" }
        return RecordProblem(kind: RecordProblem.raggedRow,
                             message: "row has \(fields(record.fields.count)), header has \(header.count)")
    }

    /// The record as column name → value (later duplicate columns win), or nil if it is ragged.
    public func row(_ record: CSVRecord) -> [String: String]? {
        guard check(record) == nil else { return nil }
        var out: [String: String] = [:]
        for (name, value) in zip(header, record.fields) { out[name] = value }
        return out
    }
}
