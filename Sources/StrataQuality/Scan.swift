// Byte-level helpers shared by the shingler, the exact key and the quality signals.
// Everything scans `String.utf8` (a String is always valid UTF-8), never `String.split`.

/// Runs `body` over the contiguous UTF-8 bytes of `text` (native strings are contiguous; others are copied once).
@inline(__always)
func withUTF8Bytes<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    if let r = text.utf8.withContiguousStorageIfAvailable(body) { return r }
    var copy = text
    return copy.withUTF8(body)
}

/// Decodes one scalar at `i` (input is valid UTF-8) and advances `i`.
@inline(__always)
func decodeScalar(_ p: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> UInt32 {
    let b0 = UInt32(p[i])
    if b0 < 0x80 { i += 1; return b0 }
    if b0 < 0xE0 {
        let v = ((b0 & 0x1F) << 6) | (UInt32(p[i + 1]) & 0x3F)
        i += 2; return v
    }
    if b0 < 0xF0 {
        let v = ((b0 & 0x0F) << 12) | ((UInt32(p[i + 1]) & 0x3F) << 6) | (UInt32(p[i + 2]) & 0x3F)
        i += 3; return v
    }
    let v = ((b0 & 0x07) << 18) | ((UInt32(p[i + 1]) & 0x3F) << 12) | ((UInt32(p[i + 2]) & 0x3F) << 6) | (UInt32(p[i + 3]) & 0x3F)
    i += 4; return v
}

/// Letters, digits and combining marks count as word characters. ASCII and the common Latin, Greek,
/// Cyrillic, CJK and Hangul blocks take table-free fast paths; everything else asks the Unicode properties.
@inline(__always)
func isWordScalar(_ u: UInt32) -> Bool {
    if u < 0x80 {
        return (u &- 0x30) < 10 || ((u | 0x20) &- 0x61) < 26
    }
    return isWordScalarSlow(u)
}

@inline(never)
func isWordScalarSlow(_ u: UInt32) -> Bool {
    switch u {
    case 0x80..<0xC0: return u == 0xAA || u == 0xB5 || u == 0xBA
    case 0xD7, 0xF7: return false
    case 0xC0...0x24F: return true                       // Latin-1 letters, Latin Extended A/B
    case 0x300...0x36F: return true                      // combining diacritics stay inside the word
    case 0x386...0x3FF: return u != 0x387 && u != 0x3F6  // Greek
    case 0x400...0x481, 0x48A...0x52F: return true       // Cyrillic
    case 0x482...0x489: return u >= 0x483                // Cyrillic combining marks
    case 0x2000...0x206F: return false                   // General Punctuation
    case 0x3000...0x303F: return u == 0x3005 || u == 0x3006 || u == 0x3007  // CJK punctuation (々〆〇 are letters)
    case 0x3040...0x30FF: return u != 0x30FB && u != 0x30A0               // kana (・ is punctuation)
    case 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xAC00...0xD7A3, 0xF900...0xFAFF: return true
    case 0xFF01...0xFF0F, 0xFF1A...0xFF20, 0xFF3B...0xFF40, 0xFF5B...0xFF65: return false
    default:
        guard let s = Unicode.Scalar(u) else { return false }
        let p = s.properties
        if p.isAlphabetic { return true }
        switch p.generalCategory {
        case .decimalNumber, .otherNumber, .letterNumber, .nonspacingMark, .spacingMark: return true
        default: return false
        }
    }
}

/// Simple (one-to-one) lower-casing; fast paths for ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic.
@inline(__always)
func lowerScalar(_ u: UInt32) -> UInt32 {
    if u < 0x80 { return (u &- 0x41) < 26 ? u | 0x20 : u }
    return lowerScalarSlow(u)
}

@inline(never)
func lowerScalarSlow(_ u: UInt32) -> UInt32 {
    switch u {
    case 0xC0...0xDE: return u == 0xD7 ? u : u + 0x20
    case 0x80...0xBF, 0xDF...0xFF, 0x131, 0x138, 0x149, 0x3AC...0x3CE, 0x430...0x45F: return u
    case 0x130: return 0x69                              // İ -> i
    case 0x100...0x137, 0x14A...0x177: return u | 1
    case 0x139...0x148: return (u & 1) == 1 ? u + 1 : u
    case 0x391...0x3AB: return u == 0x3A2 ? u : u + 0x20
    case 0x400...0x40F: return u + 0x50
    case 0x410...0x42F: return u + 0x20
    case 0x460...0x481, 0x48A...0x4BF: return u | 1
    case 0xFF21...0xFF3A: return u + 0x20
    case 0x2E80...0xFF00: return u                       // CJK, kana, Hangul: no case
    default: break
    }
    guard let s = Unicode.Scalar(u) else { return u }
    let p = s.properties
    guard p.changesWhenLowercased else { return u }
    let m = p.lowercaseMapping.unicodeScalars
    return m.count == 1 ? m.first!.value : u
}

/// Scripts written without spaces between words (used by `ShingleMode.auto`).
@inline(__always)
func isNoSpaceScript(_ u: UInt32) -> Bool {
    switch u {
    case 0x0E00...0x0EFF,          // Thai, Lao
         0x1000...0x109F,          // Myanmar
         0x1780...0x17FF,          // Khmer
         0x3040...0x30FF, 0x31F0...0x31FF, 0xFF66...0xFF9D,  // Hiragana, Katakana
         0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x2FFFF:  // Han
        return true
    default: return false
    }
}

@inline(__always)
func isHangul(_ u: UInt32) -> Bool {
    (u >= 0xAC00 && u <= 0xD7AF) || (u >= 0x1100 && u <= 0x11FF) || (u >= 0x3130 && u <= 0x318F)
}

// MARK: - hashing

/// The 64-bit finalizer of MurmurHash3 (fmix64): a bijection that spreads every input bit.
@inline(__always)
func fmix64(_ x: UInt64) -> UInt64 {
    var k = x
    k ^= k >> 33
    k &*= 0xFF51_AFD7_ED55_8CCD
    k ^= k >> 33
    k &*= 0xC4CE_B9FE_1A85_EC53
    k ^= k >> 33
    return k
}

let fnvOffset64: UInt64 = 0xCBF2_9CE4_8422_2325
let fnvPrime64: UInt64 = 0x0000_0100_0000_01B3

/// Fixed-width lower-case hex (no Foundation `String(format:)`, which FoundationEssentials lacks).
func hex(_ v: UInt64) -> String {
    let digits: [UInt8] = Array("0123456789abcdef".utf8)
    var out = [UInt8](repeating: 0, count: 16)
    var x = v
    for i in stride(from: 15, through: 0, by: -1) { out[i] = digits[Int(x & 0xF)]; x >>= 4 }
    return String(decoding: out, as: UTF8.self)
}

/// Formats a measured value for human-readable reasons: at most 3 decimals, no exponent.
func fmt(_ x: Double) -> String {
    if x.isNaN { return "nan" }
    if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
    let scaled = (abs(x) * 1000).rounded()
    let whole = Int64(scaled / 1000)
    var frac = String(Int64(scaled) % 1000)
    while frac.count < 3 { frac = "0" + frac }
    while frac.hasSuffix("0") { frac.removeLast() }
    let sign = x < 0 && scaled > 0 ? "-" : ""
    return frac.isEmpty ? "\(sign)\(whole)" : "\(sign)\(whole).\(frac)"
}

/// A measured value beside the limit it broke, with enough decimals (3 to 6) that the two do not read the same:
/// 0.1801 against a maximum of 0.18, not "0.18" (3 decimals when they suffice, as `fmt`).
func fmtVs(_ x: Double, _ limit: Double) -> String {
    if x.isNaN || x == limit { return fmt(x) }
    var scale = 100.0
    for decimals in 3...6 {
        scale *= 10
        let a = (x * scale).rounded(), b = (limit * scale).rounded()
        if a != b { return decimals == 3 ? fmt(x) : fmtDecimals(x, decimals) }
    }
    return fmtDecimals(x, 6)
}

func fmtDecimals(_ x: Double, _ decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (abs(x) * scale).rounded()
    let whole = Int64(scaled / scale)
    var frac = String(Int64(scaled) % Int64(scale))
    while frac.count < decimals { frac = "0" + frac }
    while frac.hasSuffix("0") { frac.removeLast() }
    let sign = x < 0 && scaled > 0 ? "-" : ""
    return frac.isEmpty ? "\(sign)\(whole)" : "\(sign)\(whole).\(frac)"
}

/// True when every byte is ASCII (normalization and full lower-casing are then identities or byte maps).
func isASCII(_ text: String) -> Bool {
    withUTF8Bytes(text) { p in
        var acc: UInt8 = 0
        for b in p { acc |= b }
        return acc < 0x80
    }
}
