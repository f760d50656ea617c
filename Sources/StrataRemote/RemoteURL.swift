import Foundation

/// A remote's address: `file:///path`, `s3://bucket/prefix` or `ssh://[user@]host[:port]/path`.
public enum RemoteURL: Sendable, Equatable, CustomStringConvertible {
    case file(path: String)
    case s3(bucket: String, prefix: String)
    case ssh(user: String?, host: String, port: Int?, path: String)

    public static func parse(_ text: String) throws -> RemoteURL {
        func bad(_ why: String) -> RemoteError {
            RemoteError(.usage, "invalid remote URL `\(text)`: \(why)",
                        fix: "use file:///absolute/path, s3://bucket/prefix or ssh://user@host/absolute/path")
        }
        guard let sep = text.range(of: "://") else { throw bad("it has no scheme") }
        let scheme = text[..<sep.lowerBound].lowercased()
        let rest = String(text[sep.upperBound...])
        switch scheme {
        case "file":
            guard rest.hasPrefix("/") else { throw bad("a file URL needs an absolute path (three slashes: file:///path)") }
            let path = rest.count > 1 && rest.hasSuffix("/") ? String(rest.dropLast()) : rest
            if path.split(separator: "/").contains("..") { throw bad("the path contains `..`") }
            return .file(path: path)
        case "s3":
            let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            let bucket = String(parts[0])
            guard bucket.count >= 3, bucket.count <= 63,
                  bucket.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "." })
            else { throw bad("`\(bucket)` is not a bucket name (3 to 63 lower-case letters, digits, `-` and `.`)") }
            var prefix = parts.count > 1 ? String(parts[1]) : ""
            while prefix.hasSuffix("/") { prefix.removeLast() }
            while prefix.hasPrefix("/") { prefix.removeFirst() }
            return .s3(bucket: bucket, prefix: prefix)
        case "ssh":
            guard let slash = rest.firstIndex(of: "/") else { throw bad("an ssh URL needs a path after the host") }
            var authority = String(rest[..<slash])
            var path = String(rest[slash...])
            if path.count > 1 && path.hasSuffix("/") { path.removeLast() }
            var user: String?
            if let at = authority.lastIndex(of: "@") {
                user = String(authority[..<at]); authority = String(authority[authority.index(after: at)...])
                if user!.isEmpty { throw bad("the user name is empty") }
            }
            var port: Int?
            if let colon = authority.lastIndex(of: ":") {
                guard let p = Int(authority[authority.index(after: colon)...]), p > 0, p < 65536 else { throw bad("the port is not a number from 1 to 65535") }
                port = p; authority = String(authority[..<colon])
            }
            guard !authority.isEmpty else { throw bad("the host is empty") }
            let safe: (Unicode.Scalar) -> Bool = { CharacterSet.alphanumerics.contains($0) || "-._".unicodeScalars.contains($0) }
            guard authority.unicodeScalars.allSatisfy(safe), user?.unicodeScalars.allSatisfy(safe) ?? true else {
                throw bad("the user and host may contain only letters, digits, `-`, `.` and `_`")
            }
            if path.split(separator: "/").contains("..") { throw bad("the path contains `..`") }
            return .ssh(user: user, host: authority, port: port, path: path)
        default:
            throw bad("unknown scheme `\(scheme)`")
        }
    }

    public var description: String {
        switch self {
        case .file(let p): "file://\(p)"
        case .s3(let b, let p): p.isEmpty ? "s3://\(b)" : "s3://\(b)/\(p)"
        case .ssh(let u, let h, let port, let p): "ssh://\(u.map { "\($0)@" } ?? "")\(h)\(port.map { ":\($0)" } ?? "")\(p)"
        }
    }
}
