/// File-naming rules for `data/raw` and `data/cleaned`: `<source>_<yyyymmdd>_<id>.<ext>`.
public enum FileNaming {
    /// Checks a source name. Source names become folder names, so they are restricted to a safe alphabet.
    /// Returns a message explaining the problem, or nil when the name is valid.
    public static func sourceNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "the source name is empty" }
        if name.utf8.count > 64 { return "the source name is longer than 64 characters" }
        let bytes = Array(name.utf8)
        func ok(_ b: UInt8) -> Bool {
            (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D  // a-z 0-9 -
        }
        guard let first = bytes.first, (first >= 0x61 && first <= 0x7A) || (first >= 0x30 && first <= 0x39) else {
            return "the source name must start with a lower-case letter or a digit"
        }
        if !bytes.allSatisfy(ok) {
            return "the source name may contain only lower-case letters, digits and '-' (it becomes a folder under data/raw, and '_' separates the parts of file names)"
        }
        return nil
    }

    /// Parses `YYYY-MM-DD` (or `YYYYMMDD`) into the compact `yyyymmdd` form; nil if it is not a real date.
    public static func compactDate(_ text: String) -> String? {
        let digits = text.replacingOccurrences(of: "-", with: "")
        guard digits.count == 8, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        if text.contains("-") {
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2 else { return nil }
        }
        let y = Int(digits.prefix(4))!, m = Int(digits.dropFirst(4).prefix(2))!, d = Int(digits.suffix(2))!
        guard y >= 1900, y <= 2999, (1...12).contains(m) else { return nil }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
        guard (1...days).contains(d) else { return nil }
        return digits
    }

    public static func isoDate(compact: String) -> String {
        let c = Array(compact)
        return String(c[0..<4]) + "-" + String(c[4..<6]) + "-" + String(c[6..<8])
    }

    public static let defaultPattern = "{source}_{date}_{id}.{ext}"

    /// Renders a file name from `pattern` (placeholders `{source}`, `{date}`, `{id}`, `{ext}`).
    public static func fileName(source: String, compactDate: String, id: String, ext: String, pattern: String = defaultPattern) -> String {
        if pattern == defaultPattern { return source + "_" + compactDate + "_" + id + "." + ext }
        return pattern.replacingOccurrences(of: "{source}", with: source).replacingOccurrences(of: "{date}", with: compactDate)
            .replacingOccurrences(of: "{id}", with: id).replacingOccurrences(of: "{ext}", with: ext)
    }

    /// The parts of a name that conforms to `pattern`, or nil. Matching is greedy-free: each placeholder only
    /// matches its own alphabet (source: a-z 0-9 -, date: 8 digits, id: lower-case hex, ext: a-z 0-9).
    public static func parse(_ fileName: String, pattern: String = defaultPattern) -> (source: String, date: String, id: String, ext: String)? {
        var values: [String: String] = [:]
        guard match(Array(fileName.utf8)[...], Array(pattern.utf8)[...], &values),
              let source = values["source"], let date = values["date"], let id = values["id"], let ext = values["ext"],
              sourceNameProblem(source) == nil, compactDate(date) != nil, id.count >= 6
        else { return nil }
        return (source, date, id, ext)
    }

    private static func accepts(_ placeholder: String, _ b: UInt8) -> Bool {
        let lower = b >= 0x61 && b <= 0x7A, digit = b >= 0x30 && b <= 0x39
        switch placeholder {
        case "source": return lower || digit || b == 0x2D
        case "date": return digit
        case "id": return digit || (b >= 0x61 && b <= 0x66)
        default: return lower || digit
        }
    }

    /// Backtracking match of a name against a pattern of literals and placeholders.
    private static func match(_ name: ArraySlice<UInt8>, _ pattern: ArraySlice<UInt8>, _ values: inout [String: String]) -> Bool {
        guard let first = pattern.first else { return name.isEmpty }
        if first == UInt8(ascii: "{"), let close = pattern.firstIndex(of: UInt8(ascii: "}")) {
            let key = String(decoding: pattern[pattern.index(after: pattern.startIndex)..<close], as: UTF8.self)
            let rest = pattern[pattern.index(after: close)...]
            var end = name.startIndex
            while end < name.endIndex && accepts(key, name[end]) { end += 1 }
            var cut = end
            while cut > name.startIndex {
                if match(name[cut...], rest, &values) {
                    values[key] = String(decoding: name[name.startIndex..<cut], as: UTF8.self)
                    return true
                }
                cut -= 1
            }
            return false
        }
        guard name.first == first else { return false }
        return match(name.dropFirst(), pattern.dropFirst(), &values)
    }
}

/// File-name parts by bytes, with the results Foundation's `NSString` path methods give for a file name, at a
/// fraction of their cost (those normalise slashes character by character: 3% of an ingest of small files).
public enum PathName {
    /// The last component of a path without trailing slashes ("a/b/c.txt" -> "c.txt").
    public static func last(_ path: String) -> String {
        let u = path.utf8
        guard let slash = u.lastIndex(of: 0x2F) else { return path }
        if u.index(after: slash) == u.endIndex { return NSStringFallback.last(path) }
        return String(path[path.index(after: slash)...])
    }

    /// The extension of a file name: what follows its last '.', empty when there is no '.' or the only one leads.
    public static func ext(_ name: String) -> String {
        guard let dot = extensionDot(name) else { return "" }
        return String(name[name.index(after: dot)...])
    }

    /// The file name without its extension and that extension's '.'.
    public static func deletingExt(_ name: String) -> String {
        guard let dot = extensionDot(name) else { return name }
        return String(name[..<dot])
    }

    private static func extensionDot(_ name: String) -> String.Index? {
        let u = name.utf8
        if name == "." || name == ".." || u.contains(0x2F) { return nil }
        guard let dot = u.lastIndex(of: 0x2E), dot != u.startIndex else { return nil }
        return dot
    }

    /// Paths with trailing slashes are rare; they are trimmed first.
    private enum NSStringFallback {
        static func last(_ path: String) -> String {
            var p = Substring(path)
            while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
            if p == "/" { return "/" }
            guard let slash = p.utf8.lastIndex(of: 0x2F) else { return String(p) }
            return String(p[p.index(after: slash)...])
        }
    }
}
