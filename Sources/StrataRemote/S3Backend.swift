import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import StrataCore

/// Where an S3 remote's endpoint and keys come from: the standard AWS environment variables, then the user's
/// `~/.aws/credentials` and `~/.aws/config` (profile `AWS_PROFILE` or `default`). Never from the project.
public struct S3Config: Sendable, Equatable {
    public var endpoint: String
    public var region: String
    public var accessKey: String
    public var secretKey: String

    public static func resolve(environment env: [String: String]) throws -> S3Config {
        let home = env["HOME"] ?? NSHomeDirectory()
        let profile = env["AWS_PROFILE"] ?? "default"
        let creds = ini(env["AWS_SHARED_CREDENTIALS_FILE"] ?? home + "/.aws/credentials", section: profile)
        let config = ini(env["AWS_CONFIG_FILE"] ?? home + "/.aws/config", section: profile == "default" ? "default" : "profile \(profile)")
        func pick(_ envNames: [String], _ file: [String: String], _ key: String) -> String? {
            for n in envNames { if let v = env[n], !v.isEmpty { return v } }
            return file[key]
        }
        guard let access = pick(["AWS_ACCESS_KEY_ID"], creds, "aws_access_key_id"),
              let secret = pick(["AWS_SECRET_ACCESS_KEY"], creds, "aws_secret_access_key") else {
            throw RemoteError(.credentials, "no S3 credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set and ~/.aws/credentials has no [\(profile)] keys",
                              fix: "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_ENDPOINT_URL for a non-AWS store)")
        }
        let region = pick(["AWS_REGION", "AWS_DEFAULT_REGION"], config, "region") ?? "us-east-1"
        var endpoint = pick(["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"], config, "endpoint_url") ?? "https://s3.\(region).amazonaws.com"
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        guard endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://") else {
            throw RemoteError(.usage, "AWS_ENDPOINT_URL `\(endpoint)` is not an http:// or https:// URL", fix: "e.g. export AWS_ENDPOINT_URL=http://127.0.0.1:61080")
        }
        return S3Config(endpoint: endpoint, region: region, accessKey: access, secretKey: secret)
    }

    static func ini(_ path: String, section: String) -> [String: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var out: [String: String] = [:]
        var current = ""
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") || line.hasPrefix(";") || line.isEmpty { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") { current = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces); continue }
            guard current == section, let eq = line.firstIndex(of: "=") else { continue }
            out[line[..<eq].trimmingCharacters(in: .whitespaces)] = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        }
        return out
    }
}

/// A remote in an S3-compatible bucket (`s3://bucket/prefix`), path-style requests signed with SigV4 over
/// AsyncHTTPClient. Every PUT carries the SHA-256 of its body in the signed `x-amz-content-sha256` header, so the
/// server rejects a body damaged on the way (the remote end of the two-end hash check).
public struct S3Backend: RemoteBackend {
    public let bucket: String
    public let prefix: String
    public let config: S3Config
    let signer: SigV4

    public init(bucket: String, prefix: String, config: S3Config) throws {
        self.bucket = bucket; self.prefix = prefix; self.config = config
        signer = SigV4(accessKey: config.accessKey, secretKey: config.secretKey, region: config.region)
    }

    public var display: String { RemoteURL.s3(bucket: bucket, prefix: prefix).description }

    func objectPath(_ key: String) -> String { "/\(bucket)/" + (prefix.isEmpty ? key : prefix + "/" + key) }

    struct Response: Sendable { var status: Int; var body: [UInt8]; var headers: [String: String] }

    func request(_ method: String, path: String, query: [(String, String)] = [], headers extra: [String: String] = [:],
                 body: [UInt8] = []) throws -> Response {
        let me = self
        return try blocking { try await me.requestAsync(method, path: path, query: query, headers: extra, body: body) }
    }

    func requestAsync(_ method: String, path: String, query: [(String, String)] = [], headers extra: [String: String] = [:],
                      body: [UInt8] = []) async throws -> Response {
        let hostPart = config.endpoint.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        let host = hostPart.count > 2 ? String(hostPart[2]) : config.endpoint
        var headers = extra
        headers["host"] = host
        let payloadHash = SigV4.sha256Hex(body)
        let signed = signer.sign(method: method, path: path, query: query, headers: headers, payloadHash: payloadHash, date: Date())
        let url = config.endpoint + SigV4.encode(path, keepSlash: true) + (query.isEmpty ? "" : "?" + SigV4.canonicalQuery(query))
        var req = HTTPClientRequest(url: url)
        req.method = HTTPMethod(rawValue: method)
        for (k, v) in signed where k != "host" { req.headers.add(name: k, value: v) }
        if !body.isEmpty || method == "PUT" || method == "POST" { req.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let resp = try await HTTPClient.shared.execute(req, timeout: .seconds(300))
            let buf = try await resp.body.collect(upTo: 1 << 31)
            var hs: [String: String] = [:]
            for h in resp.headers { hs[h.name.lowercased()] = h.value }
            return Response(status: Int(resp.status.code), body: Array(buffer: buf), headers: hs)
        } catch {
            throw RemoteError(.unreachable, "\(display): cannot reach \(config.endpoint): \(error)",
                              fix: "check AWS_ENDPOINT_URL and that the S3 service runs (the command resumes when run again)")
        }
    }

    /// Turns an S3 error response into a `RemoteError` that names the cause.
    func failure(_ r: Response, _ what: String) -> RemoteError {
        let text = String(decoding: r.body, as: UTF8.self)
        let code = S3Backend.tag("Code", in: text) ?? "HTTP \(r.status)"
        switch code {
        case "NoSuchBucket":
            return RemoteError(.missingBucket, "\(display): the bucket `\(bucket)` does not exist at \(config.endpoint)",
                               fix: "create it (e.g. `aws s3 mb s3://\(bucket)`) or fix the remote's URL")
        case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidSecurity":
            return RemoteError(.credentials, "\(display): the S3 service refused the credentials (\(code)) while \(what)",
                               fix: "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or ~/.aws/credentials)")
        default:
            let msg = S3Backend.tag("Message", in: text).map { ": \($0)" } ?? ""
            return RemoteError(.io, "\(display): \(what) failed: \(code)\(msg)")
        }
    }

    static func tag(_ name: String, in xml: String) -> String? {
        guard let a = xml.range(of: "<\(name)>"), let b = xml.range(of: "</\(name)>", range: a.upperBound..<xml.endIndex) else { return nil }
        return unescape(String(xml[a.upperBound..<b.lowerBound]))
    }

    static func unescape(_ s: String) -> String {
        s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    public func createBucket() throws {
        let r = try request("PUT", path: "/\(bucket)")
        guard r.status == 200 || S3Backend.tag("Code", in: String(decoding: r.body, as: UTF8.self)) == "BucketAlreadyOwnedByYou" else {
            throw failure(r, "creating the bucket")
        }
    }

    /// Objects of this size or more go up in parts (S3 multipart upload); `STRATA_S3_MULTIPART_BYTES` changes it.
    public var multipartThreshold = 64 << 20
    /// The size of each part but the last (S3's minimum is 5 MiB).
    public var partSize = 16 << 20
    /// Parts in flight at once.
    public var partsInFlight = 4

    public func put(_ key: String, _ bytes: [UInt8]) throws {
        if bytes.count >= multipartThreshold && bytes.count > partSize { return try putMultipart(key, bytes) }
        let r = try request("PUT", path: objectPath(key), body: bytes)
        guard r.status == 200 else { throw failure(r, "writing \(key)") }
    }

    /// A multipart upload: `partsInFlight` parts at once, each signed with its SHA-256 (the server rejects a damaged
    /// part); then the whole is checked: the completed object's ETag must be the MD5 of the parts' MD5s and its
    /// size the size sent. On any failure the upload is aborted (no partial object becomes visible).
    func putMultipart(_ key: String, _ bytes: [UInt8]) throws {
        let path = objectPath(key)
        let start = try request("POST", path: path, query: [("uploads", "")])
        guard start.status == 200, let uploadId = S3Backend.tag("UploadId", in: String(decoding: start.body, as: UTF8.self)) else {
            throw failure(start, "starting a multipart upload of \(key)")
        }
        let ranges = stride(from: 0, to: bytes.count, by: partSize).map { $0..<min($0 + partSize, bytes.count) }
        let me = self
        do {
            let etags: [String] = try blocking {
                try await withThrowingTaskGroup(of: (Int, String).self) { group in
                    var out = [String](repeating: "", count: ranges.count)
                    var next = 0
                    func add() {
                        let i = next
                        next += 1
                        let part = Array(bytes[ranges[i]])
                        group.addTask {
                            let r = try await me.requestAsync("PUT", path: path, query: [("partNumber", String(i + 1)), ("uploadId", uploadId)], body: part)
                            guard r.status == 200, let etag = r.headers["etag"] else { throw me.failure(r, "writing part \(i + 1) of \(key)") }
                            let md5 = Insecure.MD5.hash(data: part).map { String(format: "%02x", $0) }.joined()
                            guard etag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) == md5 else {
                                throw RemoteError(.corrupt, "\(me.display): part \(i + 1) of \(key) arrived damaged (ETag \(etag), expected MD5 \(md5))",
                                                  fix: "run the command again (it resumes)")
                            }
                            return (i, etag)
                        }
                    }
                    for _ in 0..<min(me.partsInFlight, ranges.count) { add() }
                    while let (i, etag) = try await group.next() {
                        out[i] = etag
                        if next < ranges.count { add() }
                    }
                    return out
                }
            }
            var xml = "<CompleteMultipartUpload>"
            for (i, e) in etags.enumerated() { xml += "<Part><PartNumber>\(i + 1)</PartNumber><ETag>\(e)</ETag></Part>" }
            xml += "</CompleteMultipartUpload>"
            let done = try request("POST", path: path, query: [("uploadId", uploadId)], body: Array(xml.utf8))
            let text = String(decoding: done.body, as: UTF8.self)
            guard done.status == 200, S3Backend.tag("Code", in: text) == nil else { throw failure(done, "completing the upload of \(key)") }
            // The whole: size and the multipart ETag (MD5 of the parts' MD5s, "-" and the part count).
            var md5s: [UInt8] = []
            for r in ranges { md5s += Array(Insecure.MD5.hash(data: bytes[r])) }
            let expected = Insecure.MD5.hash(data: md5s).map { String(format: "%02x", $0) }.joined() + "-\(ranges.count)"
            let head = try request("HEAD", path: path)
            let etag = (head.headers["etag"] ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            guard head.status == 200, head.headers["content-length"] == String(bytes.count), etag == expected else {
                throw RemoteError(.corrupt, "\(display): \(key) is not whole after its multipart upload (size \(head.headers["content-length"] ?? "?"), ETag \(etag); expected \(bytes.count) bytes, \(expected))",
                                  fix: "run the command again (it sends the object again)")
            }
        } catch {
            _ = try? request("DELETE", path: path, query: [("uploadId", uploadId)])
            throw error
        }
    }

    public func get(_ key: String) throws -> [UInt8]? {
        let r = try request("GET", path: objectPath(key))
        if r.status == 404 && S3Backend.tag("Code", in: String(decoding: r.body, as: UTF8.self)) != "NoSuchBucket" { return nil }
        guard r.status == 200 else { throw failure(r, "reading \(key)") }
        return r.body
    }

    public func getRanges(_ key: String, _ ranges: [ByteRange]) throws -> [[UInt8]] {
        try ranges.map { range in
            if range.length == 0 { return [] }
            let r = try request("GET", path: objectPath(key), headers: ["range": "bytes=\(range.offset)-\(range.offset + range.length - 1)"])
            if r.status == 404 { throw RemoteError(.notFound, "\(display): \(key) is missing on the remote") }
            guard r.status == 206 || r.status == 200 else { throw failure(r, "reading \(key)") }
            let body = r.status == 200 ? Array(r.body.dropFirst(range.offset).prefix(range.length)) : r.body
            guard body.count == range.length else { throw RemoteError(.corrupt, "\(display): \(key) is shorter than its index says") }
            return body
        }
    }

    public func list(_ keyPrefix: String) throws -> [String] { try listDated(keyPrefix).map(\.key) }

    public func listDated(_ keyPrefix: String) throws -> [DatedKey] {
        var out: [DatedKey] = []
        var token: String?
        let full = prefix.isEmpty ? keyPrefix : prefix + "/" + keyPrefix
        let strip = prefix.isEmpty ? 0 : prefix.count + 1
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let isoPlain = ISO8601DateFormatter()
        repeat {
            var q = [("list-type", "2"), ("prefix", full)]
            if let token { q.append(("continuation-token", token)) }
            let r = try request("GET", path: "/\(bucket)", query: q)
            guard r.status == 200 else { throw failure(r, "listing \(keyPrefix)") }
            let text = String(decoding: r.body, as: UTF8.self)
            var rest = text[...]
            while let a = rest.range(of: "<Contents>"), let b = rest.range(of: "</Contents>", range: a.upperBound..<rest.endIndex) {
                let entry = String(rest[a.upperBound..<b.lowerBound])
                if let key = S3Backend.tag("Key", in: entry) {
                    let stamp = S3Backend.tag("LastModified", in: entry) ?? ""
                    let date = iso.date(from: stamp) ?? isoPlain.date(from: stamp) ?? Date()
                    out.append(DatedKey(key: String(key.dropFirst(strip)), modified: date))
                }
                rest = rest[b.upperBound...]
            }
            token = S3Backend.tag("IsTruncated", in: text) == "true" ? S3Backend.tag("NextContinuationToken", in: text) : nil
        } while token != nil
        return out.sorted { $0.key < $1.key }
    }

    public func delete(_ keys: [String]) throws {
        for k in keys {
            let r = try request("DELETE", path: objectPath(k))
            guard r.status == 204 || r.status == 200 || r.status == 404 else { throw failure(r, "removing \(k)") }
        }
    }

    /// `PUT` with `If-None-Match: *` where the store supports it (AWS S3 since 2024; it answers 412 when the key
    /// exists). Stores without conditional writes (OpenStack Swift's s3api answers 501) get a claim protocol over
    /// read-after-write consistent listings: write `KEY.claims/<sha256 of the bytes>`, list the claims, and write
    /// the key only if no other claim is there. Of two racers at least one sees the other's claim, so two never both
    /// succeed; when both see each other both back off and report the conflict (nothing is overwritten).
    public func createIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool {
        if try get(key) != nil { return false }
        let r = try request("PUT", path: objectPath(key), headers: ["if-none-match": "*"], body: bytes)
        if r.status == 412 { return false }
        if r.status == 200 { return true }
        guard r.status == 501 || S3Backend.tag("Code", in: String(decoding: r.body, as: UTF8.self)) == "NotImplemented" else {
            throw failure(r, "writing \(key)")
        }
        let mine = key + ".claims/" + SigV4.sha256Hex(bytes)
        try put(mine, bytes)
        let claims = try list(key + ".claims/")
        if claims.contains(where: { $0 != mine }) { return false }
        if try get(key) != nil { return false }
        try put(key, bytes)
        return true
    }
}

/// Runs async work to completion from synchronous code (the CLI's commands are synchronous). Never call it from
/// a task of Swift's cooperative pool.
func blocking<T: Sendable>(_ op: @escaping @Sendable () async throws -> T) throws -> T {
    let sem = DispatchSemaphore(value: 0)
    let box = Locked<Result<T, any Error>?>(nil)
    Task {
        let result: Result<T, any Error>
        do { result = .success(try await op()) } catch { result = .failure(error) }
        box.withLock { $0 = result }
        sem.signal()
    }
    sem.wait()
    return try box.value!.get()
}
