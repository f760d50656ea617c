/// Mojibake: UTF-8 bytes that were decoded as Latin-1 or Windows-1252 ("cafÃ©" for "café", "â€™" for "’").
extension TextCleaner {
    /// Fraction of non-ASCII characters that belong to a mis-decoded UTF-8 sequence: 0 for clean text,
    /// 1 when every non-ASCII character is part of one. A sequence is a Windows-1252/Latin-1 character that
    /// would be a UTF-8 lead byte followed by the right number of characters that would be continuation
    /// bytes, together forming valid UTF-8.
    public static func mojibakeScore(_ text: String) -> Double {
        let s = Array(text.unicodeScalars)
        var nonASCII = 0
        for u in s where u.value >= 0x80 { nonASCII += 1 }
        guard nonASCII > 0 else { return 0 }
        var suspicious = 0
        var i = 0
        while i < s.count {
            if let (_, length) = Mojibake.sequence(s, at: i) { suspicious += length; i += length } else { i += 1 }
        }
        return Double(suspicious) / Double(nonASCII)
    }

    /// The repaired text, or nil when there is nothing to repair. Each mis-decoded sequence is re-encoded as
    /// Windows-1252/Latin-1 bytes and decoded as UTF-8; other characters are kept, so mixed text repairs too.
    /// Repeats (up to 3 passes) for text that was mis-decoded more than once.
    public static func fixMojibake(_ text: String) -> String? {
        var current = text
        var changed = false
        for _ in 0..<3 {
            let s = Array(current.unicodeScalars)
            var out = String.UnicodeScalarView()
            var i = 0
            var fixed = 0
            while i < s.count {
                if let (scalar, length) = Mojibake.sequence(s, at: i) {
                    out.append(scalar); i += length; fixed += 1
                } else {
                    out.append(s[i]); i += 1
                }
            }
            guard fixed > 0 else { break }
            current = String(out)
            changed = true
        }
        guard changed, mojibakeScore(current) < mojibakeScore(text) else { return nil }
        return current
    }
}

enum Mojibake {
    /// Windows-1252 characters in 0x80-0x9F; the five undefined bytes map to their C1 controls (Latin-1).
    static let cp1252: [UInt32: UInt8] = [
        0x20AC: 0x80, 0x201A: 0x82, 0x0192: 0x83, 0x201E: 0x84, 0x2026: 0x85, 0x2020: 0x86, 0x2021: 0x87,
        0x02C6: 0x88, 0x2030: 0x89, 0x0160: 0x8A, 0x2039: 0x8B, 0x0152: 0x8C, 0x017D: 0x8E, 0x2018: 0x91,
        0x2019: 0x92, 0x201C: 0x93, 0x201D: 0x94, 0x2022: 0x95, 0x2013: 0x96, 0x2014: 0x97, 0x02DC: 0x98,
        0x2122: 0x99, 0x0161: 0x9A, 0x203A: 0x9B, 0x0153: 0x9C, 0x017E: 0x9E, 0x0178: 0x9F,
    ]

    static func byte(_ u: Unicode.Scalar) -> UInt8? {
        let v = u.value
        if v <= 0xFF { return UInt8(v) }
        return cp1252[v]
    }

    /// A mis-decoded UTF-8 sequence starting at `k`: (the scalar it should have been, length in scalars).
    static func sequence(_ s: [Unicode.Scalar], at k: Int) -> (Unicode.Scalar, Int)? {
        guard let lead = byte(s[k]), lead >= 0xC2, lead <= 0xF4 else { return nil }
        let needed = lead < 0xE0 ? 1 : lead < 0xF0 ? 2 : 3
        guard k + needed < s.count else { return nil }
        var bytes = [lead]
        for j in 1...needed {
            guard let b = byte(s[k + j]), b >= 0x80, b <= 0xBF else { return nil }
            bytes.append(b)
        }
        var decoder = UTF8()
        var it = bytes.makeIterator()
        guard case .scalarValue(let scalar) = decoder.decode(&it) else { return nil }
        return (scalar, needed + 1)
    }
}
