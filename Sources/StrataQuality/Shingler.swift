import Foundation

/// How a text is cut into shingles.
public enum ShingleMode: String, Sendable, Codable, Equatable, CaseIterable {
    /// n-grams of lower-cased words (runs of letters, digits and combining marks).
    case words
    /// n-grams of lower-cased letters/digits, skipping spaces and punctuation (for scripts without spaces).
    case characters
    /// `.characters` when most letters belong to scripts written without spaces (Han, Hiragana, Katakana,
    /// Thai, Lao, Khmer, Myanmar, and Hangul when the text has almost no spaces); otherwise `.words`.
    case auto
}

/// Hashed shingles of a text. Deterministic across runs and platforms (no `Hasher`, no random seeding).
public enum Shingler {
    /// 64-bit hashes of the n-grams of `text`, in text order (repeated n-grams repeat; MinHash treats them as a set).
    /// Words are hashed with FNV-1a over lower-cased scalars and finalized with fmix64; an n-gram hash is an
    /// order-sensitive combination of its n unit hashes. A text with fewer than `n` units gives one shingle of
    /// all its units; a text without any letter or digit gives no shingles.
    /// Decomposed (NFD) Latin text is normalized to NFC first, so "é" and "e\u{301}" shingle alike.
    public static func shingles(_ text: String, n: Int, mode: ShingleMode) -> [UInt64] {
        let n = max(1, n)
        let resolved = mode == .auto ? resolvedMode(text) : mode
        if let units = units(text, characters: resolved == .characters) {
            return ngrams(units, n: n)
        }
        // A combining mark was seen: normalize and scan again (rare; most text arrives precomposed).
        let nfc = text.precomposedStringWithCanonicalMapping
        return ngrams(units(nfc, characters: resolved == .characters, allowCombining: true) ?? [], n: n)
    }

    /// The mode `.auto` picks for this text: `.characters` or `.words`.
    public static func resolvedMode(_ text: String) -> ShingleMode {
        withUTF8Bytes(text) { p in
            // Every no-space script lies above U+0800 (three-byte sequences): skip the count for other texts.
            var hasHigh = false
            for b in p where b >= 0xE0 { hasHigh = true; break }
            guard hasHigh else { return .words }
            var letters = 0, noSpace = 0, hangul = 0, spaces = 0
            var i = 0
            while i < p.count {
                let u = decodeScalar(p, &i)
                if u == 0x20 || u == 0x3000 { spaces += 1; continue }
                guard isWordScalar(u) else { continue }
                letters += 1
                if isNoSpaceScript(u) { noSpace += 1 } else if isHangul(u) { hangul += 1 }
            }
            // Korean normally puts a space every 3-4 syllables; count Hangul as space-less only when it does not.
            if hangul > 0 && spaces * 10 < hangul { noSpace += hangul }
            return noSpace * 2 > letters ? .characters : .words
        }
    }

    /// Unit hashes: one per word (`characters == false`) or one per word scalar. Nil when a combining
    /// diacritic (U+0300-U+036F) appears and `allowCombining` is false, so the caller can normalize first.
    static func units(_ text: String, characters: Bool, allowCombining: Bool = false) -> [UInt64]? {
        withUTF8Bytes(text) { p -> [UInt64]? in
            shinglerASCIIWordBytes.withUnsafeBufferPointer { asciiWordBytes -> [UInt64]? in
                var out: [UInt64] = []
                out.reserveCapacity(characters ? p.count / 2 : p.count / 5 + 1)
                var h = fnvOffset64
                var inWord = false
                var i = 0
                let count = p.count
                while i < count {
                    let b = p[i]
                    if b < 0x80 {
                        // ASCII (nearly every byte of most texts): one table look-up gives the lower-cased word byte or 0.
                        let l = asciiWordBytes[Int(b)]
                        i += 1
                        if l != 0 {
                            if characters {
                                out.append(fmix64(UInt64(l) &+ 0x9E37_79B9_7F4A_7C15))
                            } else {
                                h = (h ^ UInt64(l)) &* fnvPrime64
                                inWord = true
                            }
                        } else if inWord {
                            out.append(fmix64(h))
                            h = fnvOffset64
                            inWord = false
                        }
                        continue
                    }
                    let u = decodeScalar(p, &i)
                    if !allowCombining && u >= 0x300 && u <= 0x36F { return nil }
                    if isWordScalar(u) {
                        let l = lowerScalar(u)
                        if characters {
                            out.append(fmix64(UInt64(l) &+ 0x9E37_79B9_7F4A_7C15))
                        } else {
                            h = (h ^ UInt64(l)) &* fnvPrime64
                            inWord = true
                        }
                    } else if inWord {
                        out.append(fmix64(h))
                        h = fnvOffset64
                        inWord = false
                    }
                }
                if inWord { out.append(fmix64(h)) }
                return out
            }
        }
    }

    static func ngrams(_ units: [UInt64], n: Int) -> [UInt64] {
        if units.isEmpty { return [] }
        return units.withUnsafeBufferPointer { u -> [UInt64] in
            if u.count <= n { return [combine(u, 0, u.count)] }
            let m = u.count - n + 1
            return [UInt64](unsafeUninitializedCapacity: m) { out, initialized in
                for i in 0..<m { out[i] = combine(u, i, n) }
                initialized = m
            }
        }
    }

    @inline(__always)
    static func combine(_ u: UnsafeBufferPointer<UInt64>, _ start: Int, _ n: Int) -> UInt64 {
        var h = UInt64(truncatingIfNeeded: n) &* 0x9E37_79B9_7F4A_7C15
        for k in start..<(start + n) {
            h = ((h << 5) | (h >> 59)) ^ u[k]
            h &*= 0xC2B2_AE3D_27D4_EB4F
        }
        return fmix64(h)
    }
}

extension Shingler {
    /// The set of n-gram hashes of `text` (what `shingles` gives, sorted, each once): the exact set MinHash
    /// estimates, for checking a candidate pair's Jaccard similarity exactly.
    public static func shingleSet(_ text: String, n: Int, mode: ShingleMode) -> [UInt64] {
        unique(shingles(text, n: n, mode: mode))
    }

    /// The values of `shingles` sorted, each once (the form `jaccard` takes).
    public static func unique(_ shingles: [UInt64]) -> [UInt64] {
        var s = shingles
        s.sort()
        var w = 0
        for r in 0..<s.count where r == 0 || s[r] != s[r - 1] {
            s[w] = s[r]; w += 1
        }
        s.removeSubrange(w...)
        return s
    }

    /// Exact Jaccard similarity |A ∩ B| / |A ∪ B| of two sets made by `shingleSet` (sorted, each value once).
    /// Two empty sets: 0 (no shingles, nothing to compare; exact dedup handles such texts).
    public static func jaccard(_ a: [UInt64], _ b: [UInt64]) -> Double {
        if a.isEmpty && b.isEmpty { return 0 }
        var i = 0, j = 0, common = 0
        while i < a.count && j < b.count {
            if a[i] == b[j] { common += 1; i += 1; j += 1 } else if a[i] < b[j] { i += 1 } else { j += 1 }
        }
        return Double(common) / Double(a.count + b.count - common)
    }
}

/// For each ASCII byte: its lower-cased form when it is a word scalar (`isWordScalar`, `lowerScalar`), else 0.
let shinglerASCIIWordBytes: [UInt8] = (0..<128).map { b in isWordScalar(UInt32(b)) ? UInt8(lowerScalar(UInt32(b))) : 0 }
