import Crypto
import Foundation

/// AWS Signature Version 4 for S3 (header form), written from the AWS specification.
public struct SigV4: Sendable {
    public var accessKey: String
    public var secretKey: String
    public var region: String
    public var service = "s3"

    public init(accessKey: String, secretKey: String, region: String) {
        self.accessKey = accessKey; self.secretKey = secretKey; self.region = region
    }

    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// RFC 3986 encoding as SigV4 asks: unreserved characters stay, everything else is %XX (upper case);
    /// `/` stays in paths.
    public static func encode(_ s: String, keepSlash: Bool) -> String {
        var out = ""
        let unreserved: Set<UInt8> = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~".utf8))
        let hexDigits = Array("0123456789ABCDEF".utf8)
        for b in s.utf8 {
            if unreserved.contains(b) || (keepSlash && b == UInt8(ascii: "/")) {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out.append("%")
                out.unicodeScalars.append(Unicode.Scalar(hexDigits[Int(b >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hexDigits[Int(b & 15)]))
            }
        }
        return out
    }

    static func hex<D: Sequence>(_ d: D) -> String where D.Element == UInt8 {
        d.map { String(format: "%02x", $0) }.joined()
    }

    public static func sha256Hex(_ bytes: [UInt8]) -> String { hex(SHA256.hash(data: bytes)) }

    /// The canonical query string of `query` (already decoded pairs).
    public static func canonicalQuery(_ query: [(String, String)]) -> String {
        var pairs: [(String, String)] = []
        for (k, v) in query { pairs.append((encode(k, keepSlash: false), encode(v, keepSlash: false))) }
        pairs.sort { (a: (String, String), b: (String, String)) -> Bool in a.0 == b.0 ? a.1 < b.1 : a.0 < b.0 }
        var parts: [String] = []
        for (k, v) in pairs { parts.append(k + "=" + v) }
        return parts.joined(separator: "&")
    }

    /// Signs a request and returns the headers to send (the given ones plus `x-amz-date`, `x-amz-content-sha256`
    /// and `Authorization`). `path` is the decoded path (`/bucket/key`); `headers` must include `host`.
    public func sign(method: String, path: String, query: [(String, String)], headers: [String: String],
                     payloadHash: String, date: Date) -> [String: String] {
        let fmt = DateFormatter()
        fmt.locale = Locale(identifier: "en_US_POSIX")
        fmt.timeZone = TimeZone(identifier: "UTC")
        fmt.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let amzDate = fmt.string(from: date)
        let day = String(amzDate.prefix(8))
        var all: [String: String] = [:]
        for (k, v) in headers { all[k.lowercased()] = v.trimmingCharacters(in: .whitespaces) }
        all["x-amz-date"] = amzDate
        all["x-amz-content-sha256"] = payloadHash
        let names = all.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(all[$0]!)\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let canonicalRequest = [method, SigV4.encode(path, keepSlash: true), SigV4.canonicalQuery(query), canonicalHeaders,
                                signedHeaders, payloadHash].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, SigV4.sha256Hex(Array(canonicalRequest.utf8))].joined(separator: "\n")
        func hmac(_ key: [UInt8], _ msg: String) -> [UInt8] {
            Array(HMAC<SHA256>.authenticationCode(for: Array(msg.utf8), using: SymmetricKey(data: key)))
        }
        let kDate = hmac(Array(("AWS4" + secretKey).utf8), day)
        let kSigning = hmac(hmac(hmac(kDate, region), service), "aws4_request")
        let signature = SigV4.hex(hmac(kSigning, stringToSign))
        all["authorization"] = "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return all
    }
}
