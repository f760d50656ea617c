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

    public static func fileName(source: String, compactDate: String, id: String, ext: String) -> String {
        "\(source)_\(compactDate)_\(id).\(ext)"
    }

    /// The parts of a conforming file name, or nil.
    public static func parse(_ fileName: String) -> (source: String, date: String, id: String, ext: String)? {
        guard let dot = fileName.lastIndex(of: "."), dot != fileName.startIndex else { return nil }
        let stem = fileName[..<dot]
        let ext = String(fileName[fileName.index(after: dot)...])
        let parts = stem.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        let source = String(parts[0]), date = String(parts[1]), id = String(parts[2])
        guard sourceNameProblem(source) == nil, compactDate(date) != nil, !date.contains("-"),
              id.count >= 6, id.allSatisfy({ $0.isHexDigit && !$0.isUppercase }),
              !ext.isEmpty, ext.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber) })
        else { return nil }
        return (source, date, id, ext)
    }
}
