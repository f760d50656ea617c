import Foundation

/// Keys for exact deduplication on normalized content (`dedup.exact`).
public enum ExactKey {
    /// 32 hex digits: FNV-1a-128 over the UTF-8 of the normalized text (lower-cased, NFC, every run of
    /// Unicode whitespace collapsed to one space, trimmed). Texts that differ only in case, whitespace or
    /// composition (NFC vs NFD) get the same key.
    ///
    /// Collision odds: for n distinct texts, about n^2 / 2^129 if the hash behaved randomly (10^9 texts:
    /// about 1.5e-21). FNV is not cryptographic: someone can construct colliding texts on purpose, so do not
    /// use this key where an adversary benefits from a false duplicate.
    /// The same key from the UTF-8 bytes of a text (ASCII is hashed straight from the bytes; anything else is
    /// decoded, with invalid sequences replaced as `String(decoding:as:)` does, and keyed as text).
    public static func normalizedHash(bytes: [UInt8]) -> String {
        let allASCII = bytes.withUnsafeBufferPointer { p in
            var any: UInt8 = 0
            for b in p { any |= b }
            return any < 0x80
        }
        guard allASCII else { return normalizedHash(String(decoding: bytes, as: UTF8.self)) }
        return bytes.withUnsafeBufferPointer { asciiHash($0) }
    }

    /// The key of ASCII bytes: tab, LF, VT, FF, CR and space are whitespace (the Unicode property agrees), A-Z
    /// lower-cased; neither NFC nor Unicode case mapping changes ASCII.
    static func asciiHash<S: Sequence<UInt8>>(_ bytes: S) -> String {
        var hi: UInt64 = 0x6C62_272E_07BB_0142
        var lo: UInt64 = 0x62B8_2175_6295_C58D
        var pendingSpace = false
        var started = false
        for v in bytes {
            if v == 0x20 || (v >= 0x09 && v <= 0x0D) {
                pendingSpace = started
                continue
            }
            if pendingSpace { fnv128(0x20, &hi, &lo); pendingSpace = false }
            started = true
            fnv128(v &- 0x41 < 26 ? v | 0x20 : v, &hi, &lo)
        }
        return hex(hi) + hex(lo)
    }

    @inline(__always)
    static func fnv128(_ byte: UInt8, _ hi: inout UInt64, _ lo: inout UInt64) {
        lo ^= UInt64(byte)
        // multiply (hi, lo) by the FNV-128 prime 2^88 + 0x13B, modulo 2^128
        let (h1, l1) = lo.multipliedFullWidth(by: 0x13B)
        hi = h1 &+ hi &* 0x13B &+ (lo << 24)
        lo = l1
    }

    public static func normalizedHash(_ text: String) -> String {
        // ASCII needs neither NFC nor Unicode lower-casing (A-Z are mapped below): skip Foundation.
        let ascii = isASCII(text)
        let normalized = ascii ? text : text.lowercased().precomposedStringWithCanonicalMapping
        var hi: UInt64 = 0x6C62_272E_07BB_0142
        var lo: UInt64 = 0x62B8_2175_6295_C58D
        @inline(__always) func feed(_ byte: UInt8) {
            lo ^= UInt64(byte)
            // multiply (hi, lo) by the FNV-128 prime 2^88 + 0x13B, modulo 2^128
            let (h1, l1) = lo.multipliedFullWidth(by: 0x13B)
            hi = h1 &+ hi &* 0x13B &+ (lo << 24)
            lo = l1
        }
        var pendingSpace = false
        var started = false
        if ascii { return asciiHash(normalized.utf8) }
        for scalar in normalized.unicodeScalars {
            if scalar.properties.isWhitespace {
                pendingSpace = started
                continue
            }
            if pendingSpace { feed(0x20); pendingSpace = false }
            started = true
            for byte in UTF8.encode(scalar)! { feed(byte) }
        }
        return hex(hi) + hex(lo)
    }
}
