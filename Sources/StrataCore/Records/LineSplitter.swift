#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Streaming line splitter with bounded memory.
///
/// Feed chunks of any size; lines are found with `memchr`. A line split across chunks is carried in a
/// buffer of at most `maxLineBytes + 1` bytes. A longer line is not buffered: the splitter skips to the
/// next line feed, counting only its length, and reports `.tooLong`, so a 200 MB line costs no memory.
///
/// Lines are numbered from 1 and reported with the byte offset of their first byte. The line feed
/// and a `\r` right before it (CRLF) are not part of the line. Blank lines are reported too.
/// A last line without a line feed is reported by `finish`.
public struct LineSplitter: Sendable {
    public enum Line: Sendable, Equatable {
        case line(number: Int, bytes: [UInt8], byteOffset: Int)
        /// A line longer than `maxLineBytes`; `length` excludes the line terminator.
        case tooLong(number: Int, byteOffset: Int, length: Int)

        public var number: Int {
            switch self {
            case .line(let n, _, _), .tooLong(let n, _, _): n
            }
        }
    }

    /// A line whose bytes are only valid during the callback (no copy is made when the line lies
    /// within one chunk). Use `feedUnsafe` / `finishUnsafe` for the fastest path.
    public enum UnsafeLine {
        case line(number: Int, bytes: UnsafeRawBufferPointer, byteOffset: Int)
        case tooLong(number: Int, byteOffset: Int, length: Int)
    }

    public let maxLineBytes: Int
    /// Number of the line that starts at the current position.
    public private(set) var nextLineNumber = 1
    /// Bytes fed so far.
    public private(set) var byteCount = 0

    private var carry: [UInt8] = []
    private var lineStart = 0
    private var skipping = false
    private var skippedLength = 0
    private var skippedEndsWithCR = false

    public init(maxLineBytes: Int) {
        precondition(maxLineBytes >= 0, "maxLineBytes must not be negative")
        self.maxLineBytes = maxLineBytes
    }

    /// Splits the next chunk, reporting every line it completes.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, _ emit: (Line) throws -> Void) rethrows {
        try feedUnsafe(chunk) { try emit(Self.copy($0)) }
    }

    /// Splits the next chunk, reporting every line it completes.
    public mutating func feed(_ chunk: [UInt8], _ emit: (Line) throws -> Void) rethrows {
        try chunk.withUnsafeBytes { raw in try feedUnsafe(raw) { try emit(Self.copy($0)) } }
    }

    /// Ends the stream: reports a last line that has no line feed.
    public mutating func finish(_ emit: (Line) throws -> Void) rethrows {
        try finishUnsafe { try emit(Self.copy($0)) }
    }

    private static func copy(_ l: UnsafeLine) -> Line {
        switch l {
        case let .line(n, bytes, off): .line(number: n, bytes: [UInt8](bytes), byteOffset: off)
        case let .tooLong(n, off, len): .tooLong(number: n, byteOffset: off, length: len)
        }
    }

    /// Like `feed`, but the line bytes point into the chunk or an internal buffer and must not escape
    /// the callback.
    public mutating func feedUnsafe(_ chunk: UnsafeRawBufferPointer, _ emit: (UnsafeLine) throws -> Void) rethrows {
        guard let base = chunk.baseAddress, chunk.count > 0 else { return }
        let count = chunk.count
        let chunkOffset = byteCount
        byteCount += count
        var i = 0
        while i < count {
            guard let hit = memchr(base + i, 0x0A, count - i) else {
                // The rest of the chunk is the start (or middle) of a line.
                let rest = count - i
                let lastIsCR = base.load(fromByteOffset: count - 1, as: UInt8.self) == 0x0D
                if skipping {
                    skippedLength += rest
                    skippedEndsWithCR = lastIsCR
                } else if carry.count + rest > maxLineBytes + 1 {
                    // Too long even if it ends in CR: stop buffering.
                    skipping = true
                    skippedLength = carry.count + rest
                    skippedEndsWithCR = lastIsCR
                    carry.removeAll(keepingCapacity: carry.capacity <= 1 << 20)
                } else {
                    carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[i..<count]))
                }
                return
            }
            let j = UnsafeRawPointer(hit) - base  // index of the line feed
            let number = nextLineNumber
            let start = lineStart
            nextLineNumber += 1
            lineStart = chunkOffset + j + 1
            if skipping {
                let cr = j > i ? base.load(fromByteOffset: j - 1, as: UInt8.self) == 0x0D : skippedEndsWithCR
                let length = skippedLength + (j - i) - (cr ? 1 : 0)
                skipping = false
                skippedLength = 0
                try emit(.tooLong(number: number, byteOffset: start, length: length))
            } else if carry.isEmpty {
                var end = j
                if end > i && base.load(fromByteOffset: end - 1, as: UInt8.self) == 0x0D { end -= 1 }
                if end - i > maxLineBytes {
                    try emit(.tooLong(number: number, byteOffset: start, length: end - i))
                } else {
                    try emit(.line(number: number, bytes: UnsafeRawBufferPointer(rebasing: chunk[i..<end]), byteOffset: start))
                }
            } else {
                let total = carry.count + (j - i)
                let cr = j > i ? base.load(fromByteOffset: j - 1, as: UInt8.self) == 0x0D : carry.last == 0x0D
                let length = total - (cr ? 1 : 0)
                if length > maxLineBytes {
                    carry.removeAll(keepingCapacity: carry.capacity <= 1 << 20)
                    try emit(.tooLong(number: number, byteOffset: start, length: length))
                } else {
                    carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[i..<j]))
                    if cr { carry.removeLast() }
                    defer { carry.removeAll(keepingCapacity: true) }
                    try carry.withUnsafeBytes { try emit(.line(number: number, bytes: $0, byteOffset: start)) }
                }
            }
            i = j + 1
        }
    }

    /// Like `finish`, with the bytes valid only during the callback.
    public mutating func finishUnsafe(_ emit: (UnsafeLine) throws -> Void) rethrows {
        let number = nextLineNumber
        let start = lineStart
        if skipping {
            let length = skippedLength - (skippedEndsWithCR ? 1 : 0)
            skipping = false
            skippedLength = 0
            nextLineNumber += 1
            lineStart = byteCount
            try emit(.tooLong(number: number, byteOffset: start, length: length))
        } else if !carry.isEmpty {
            if carry.last == 0x0D { carry.removeLast() }
            nextLineNumber += 1
            lineStart = byteCount
            defer { carry.removeAll() }
            if carry.count > maxLineBytes {
                try emit(.tooLong(number: number, byteOffset: start, length: carry.count))
            } else {
                try carry.withUnsafeBytes { try emit(.line(number: number, bytes: $0, byteOffset: start)) }
            }
        }
    }
}
