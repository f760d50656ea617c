/// A forgiving tag stripper for text that arrives as HTML fragments (not a parser; no DOM).
enum HTML {
    static let blockTags: Set<String> = ["p", "div", "br", "li", "ul", "ol", "tr", "td", "th", "table", "h1", "h2", "h3",
                                         "h4", "h5", "h6", "section", "article", "header", "footer", "blockquote",
                                         "pre", "hr", "dt", "dd", "title", "nav", "aside", "main", "figure", "figcaption"]
    static let rawTextTags: Set<String> = ["script", "style", "noscript", "template"]

    static let entities: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}", "ndash": "\u{2013}",
        "mdash": "\u{2014}", "hellip": "\u{2026}", "lsquo": "\u{2018}", "rsquo": "\u{2019}", "ldquo": "\u{201C}",
        "rdquo": "\u{201D}", "laquo": "\u{AB}", "raquo": "\u{BB}", "copy": "\u{A9}", "reg": "\u{AE}", "trade": "\u{2122}",
        "euro": "\u{20AC}", "pound": "\u{A3}", "yen": "\u{A5}", "cent": "\u{A2}", "sect": "\u{A7}", "deg": "\u{B0}",
        "middot": "\u{B7}", "bull": "\u{2022}", "times": "\u{D7}", "divide": "\u{F7}", "shy": "\u{AD}",
        "eacute": "\u{E9}", "egrave": "\u{E8}", "ecirc": "\u{EA}", "aacute": "\u{E1}", "agrave": "\u{E0}",
        "acirc": "\u{E2}", "auml": "\u{E4}", "ouml": "\u{F6}", "uuml": "\u{FC}", "Auml": "\u{C4}", "Ouml": "\u{D6}",
        "Uuml": "\u{DC}", "szlig": "\u{DF}", "ccedil": "\u{E7}", "ntilde": "\u{F1}", "oacute": "\u{F3}",
        "iacute": "\u{ED}", "uacute": "\u{FA}", "Eacute": "\u{C9}", "zwsp": "\u{200B}", "thinsp": "\u{2009}",
        "ensp": "\u{2002}", "emsp": "\u{2003}",
    ]

    static func strip(_ text: String) -> String {
        let s = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        func lowerASCII(_ u: Unicode.Scalar) -> Unicode.Scalar {
            (u.value >= 0x41 && u.value <= 0x5A) ? Unicode.Scalar(u.value | 0x20)! : u
        }
        func hasPrefix(_ p: String, at k: Int) -> Bool {
            var j = k
            for c in p.unicodeScalars {
                guard j < s.count, lowerASCII(s[j]) == c else { return false }
                j += 1
            }
            return true
        }
        func find(_ p: String, from k: Int) -> Int? {
            var j = k
            while j < s.count { if hasPrefix(p, at: j) { return j }; j += 1 }
            return nil
        }
        while i < s.count {
            let u = s[i]
            if u == "<", i + 1 < s.count {
                let next = s[i + 1]
                if hasPrefix("<!--", at: i) {
                    i = (find("-->", from: i + 4).map { $0 + 3 }) ?? s.count
                    continue
                }
                let isTag = next == "/" || next == "!" || next == "?" || next.properties.isAlphabetic
                if isTag {
                    // tag name
                    var j = i + 1
                    if s[j] == "/" { j += 1 }
                    var name = ""
                    while j < s.count, s[j].properties.isAlphabetic || (s[j].value >= 0x30 && s[j].value <= 0x39) {
                        name.unicodeScalars.append(lowerASCII(s[j])); j += 1
                    }
                    // end of tag, honouring quoted attribute values
                    var quote: Unicode.Scalar? = nil
                    while j < s.count {
                        let c = s[j]
                        if let q = quote { if c == q { quote = nil } } else if c == "\"" || c == "'" { quote = c } else if c == ">" { break }
                        j += 1
                    }
                    let end = min(j + 1, s.count)
                    if next != "/", rawTextTags.contains(name) {
                        i = (find("</" + name, from: end).flatMap { k in find(">", from: k).map { $0 + 1 } }) ?? s.count
                        continue
                    }
                    if blockTags.contains(name) { out.append("\n") }
                    i = end
                    continue
                }
            }
            if u == "&", let (decoded, length) = entity(s, at: i) {
                out.append(contentsOf: decoded.unicodeScalars)
                i += length
                continue
            }
            out.append(u)
            i += 1
        }
        return String(out)
    }

    /// Decodes `&name;`, `&#123;` or `&#x1F600;` at `k`: (text, scalars consumed), or nil.
    static func entity(_ s: [Unicode.Scalar], at k: Int) -> (String, Int)? {
        var j = k + 1
        var body = ""
        while j < s.count, j - k <= 32, s[j] != ";" {
            let v = s[j].value
            guard (v >= 0x30 && v <= 0x39) || ((v | 0x20) >= 0x61 && (v | 0x20) <= 0x7A) || v == 0x23 else { return nil }
            body.unicodeScalars.append(s[j]); j += 1
        }
        guard j < s.count, s[j] == ";", !body.isEmpty else { return nil }
        if body.hasPrefix("#") {
            let digits = body.dropFirst()
            let value: UInt32?
            if digits.hasPrefix("x") || digits.hasPrefix("X") { value = UInt32(digits.dropFirst(), radix: 16) } else { value = UInt32(digits) }
            guard let v = value, let scalar = Unicode.Scalar(v) else { return nil }
            return (String(Character(scalar)), j - k + 1)
        }
        guard let decoded = entities[body] else { return nil }
        return (decoded, j - k + 1)
    }
}
