/// Streaming UTF-8 validator.
///
/// Feed the bytes of a stream in chunks of any size; a multi-byte sequence split across two chunks is
/// carried over. Rejects everything RFC 3629 rejects: stray continuation bytes, overlong encodings,
/// UTF-16 surrogates (U+D800...U+DFFF), code points above U+10FFFF and truncated sequences.
///
/// Along the way it counts NUL bytes and line feeds, so a caller can both refuse binary data and say
/// on which line the first bad byte sits. ASCII runs are checked 8 bytes at a time.
///
/// After the first invalid byte the validator latches: further `feed` calls return `false` and
/// ignore their input (counters stop at the failure point).
public struct UTF8Validator: Sendable {
    /// Bytes accepted so far (the offset of the next byte).
    public private(set) var byteCount: Int = 0
    /// NUL (0x00) bytes seen so far. NUL is valid UTF-8, but text files do not contain it.
    public private(set) var nulCount: Int = 0
    /// Line feeds (0x0A) seen so far.
    public private(set) var newlineCount: Int = 0
    /// Offset (0-based, from the start of the stream) of the first byte of the first ill-formed sequence.
    public private(set) var firstInvalidOffset: Int?
    /// 1-based line of `firstInvalidOffset`.
    public private(set) var line: Int?

    /// Continuation bytes still expected for the current sequence.
    private var need: Int = 0
    /// Allowed range of the next continuation byte (narrowed after E0, ED, F0, F4).
    private var lo: UInt8 = 0x80
    private var hi: UInt8 = 0xBF
    /// Offset where the current multi-byte sequence started.
    private var seqStart: Int = 0

    public init() {}

    /// `true` while no invalid byte has been seen.
    public var isValid: Bool { firstInvalidOffset == nil }

    /// `true` when the bytes fed so far end inside a multi-byte sequence (a cut prefix of a file).
    public var isInsideSequence: Bool { need > 0 }

    /// Feeds the next chunk. Returns `false` once the stream is known to be invalid.
    @discardableResult
    public mutating func feed(_ chunk: UnsafeRawBufferPointer) -> Bool {
        guard firstInvalidOffset == nil else { return false }
        guard let base = chunk.baseAddress, chunk.count > 0 else { return true }
        let count = chunk.count
        var i = 0
        var nuls = 0
        var newlines = 0
        defer {
            nulCount &+= nuls
            newlineCount &+= newlines
        }
        while i < count {
            if need == 0 {
                // ASCII fast path, 8 bytes at a time.
                while i &+ 8 <= count {
                    let w = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                    if w & 0x8080_8080_8080_8080 != 0 { break }
                    nuls &+= Self.zeroBytes(w)
                    newlines &+= Self.zeroBytes(w ^ 0x0A0A_0A0A_0A0A_0A0A)
                    i &+= 8
                }
                if i >= count { break }
                let b = base.load(fromByteOffset: i, as: UInt8.self)
                if b < 0x80 {
                    if b == 0 { nuls &+= 1 } else if b == 0x0A { newlines &+= 1 }
                    i &+= 1
                    continue
                }
                seqStart = byteCount &+ i
                lo = 0x80; hi = 0xBF
                switch b {
                case 0xC2...0xDF: need = 1
                case 0xE0: need = 2; lo = 0xA0
                case 0xE1...0xEC, 0xEE...0xEF: need = 2
                case 0xED: need = 2; hi = 0x9F
                case 0xF0: need = 3; lo = 0x90
                case 0xF1...0xF3: need = 3
                case 0xF4: need = 3; hi = 0x8F
                default:
                    fail(at: byteCount &+ i, newlines: newlines)
                    byteCount &+= i
                    return false
                }
                i &+= 1
            } else {
                let b = base.load(fromByteOffset: i, as: UInt8.self)
                guard b >= lo && b <= hi else {
                    fail(at: seqStart, newlines: newlines)
                    byteCount &+= i
                    return false
                }
                lo = 0x80; hi = 0xBF
                need &-= 1
                i &+= 1
            }
        }
        byteCount &+= count
        return true
    }

    /// Feeds the next chunk.
    @discardableResult
    public mutating func feed(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// Ends the stream: a sequence still open here is truncated, hence invalid.
    @discardableResult
    public mutating func finish() -> Bool {
        guard firstInvalidOffset == nil else { return false }
        if need > 0 {
            fail(at: seqStart, newlines: 0)
            need = 0
            return false
        }
        return true
    }

    private mutating func fail(at offset: Int, newlines: Int) {
        firstInvalidOffset = offset
        // A sequence never spans a line feed, so the line of its first byte is the current line.
        line = newlineCount &+ newlines &+ 1
    }

    /// Number of zero bytes in `w`, whose bytes are all below 0x80.
    @inline(__always)
    private static func zeroBytes(_ w: UInt64) -> Int {
        let t = (w & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F  // high bit set iff byte != 0
        return (~(t | w | 0x7F7F_7F7F_7F7F_7F7F)).nonzeroBitCount
    }

    // MARK: one-shot helpers

    /// Index of the first byte of the first ill-formed sequence in `bytes`, or nil if all of it is valid.
    /// With `allowTruncatedEnd`, a sequence cut off by the end of the buffer counts as valid
    /// (for a prefix of a larger file).
    public static func firstInvalidIndex(in bytes: UnsafeRawBufferPointer, allowTruncatedEnd: Bool = false) -> Int? {
        var v = UTF8Validator()
        if !v.feed(bytes) { return v.firstInvalidOffset }
        if allowTruncatedEnd { return nil }
        v.finish()
        return v.firstInvalidOffset
    }

    /// `true` if `bytes` is entirely well-formed UTF-8.
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        firstInvalidIndex(in: bytes) == nil
    }

    /// `true` if `bytes` is entirely well-formed UTF-8.
    public static func isValid(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { isValid($0) }
    }
}
