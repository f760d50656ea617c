import Foundation
import StrataRemote
import XCTest

/// The backends against real services started by the repository's scripts (`scripts/s3/start.sh`,
/// `scripts/sshd/start.sh`). Locally a test is skipped when its service cannot start; under `CI=true` it fails.
final class RemoteServiceTests: XCTestCase {
    func testS3BackendAgainstSwiftS3API() throws {
        let env = try Services.s3()
        let bucket = "strata-unit-\(UInt32.random(in: 0...UInt32.max))"
        let backend = try S3Backend(bucket: bucket, prefix: "team/a", config: try S3Config.resolve(environment: env))
        XCTAssertThrowsError(try backend.list("packs/")) {
            XCTAssertEqual(($0 as? RemoteError)?.message, "s3://\(bucket)/team/a: the bucket `\(bucket)` does not exist at \(env["AWS_ENDPOINT_URL"]!)")
        }
        try backend.createBucket()
        try exerciseBackend(backend)
        var bad = env
        bad["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
        let refused = try S3Backend(bucket: bucket, prefix: "team/a", config: try S3Config.resolve(environment: bad))
        XCTAssertThrowsError(try refused.get("packs/x.pack")) {
            XCTAssertEqual(($0 as? RemoteError)?.kind, .credentials)
            XCTAssertEqual(($0 as? RemoteError)?.message, "s3://\(bucket)/team/a: the S3 service refused the credentials (SignatureDoesNotMatch) while reading packs/x.pack")
        }
    }

    func testSSHBackendAgainstLocalSshd() throws {
        let env = try Services.sshd()
        let dir = NSTemporaryDirectory() + "strata-ssh-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let backend = SSHBackend(user: env["STRATA_SSHD_USER"], host: "127.0.0.1", port: Int(env["STRATA_SSHD_PORT"]!), root: dir, environment: env)
        try exerciseBackend(backend)
        let closed = SSHBackend(user: env["STRATA_SSHD_USER"], host: "127.0.0.1", port: 1, root: dir, environment: env)
        XCTAssertThrowsError(try closed.get("x")) { XCTAssertEqual(($0 as? RemoteError)?.kind, .unreachable) }
    }
}

/// Starts a service through the repository's script and returns the environment its `export` lines give.
enum Services {
    static let repo: String = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { dir = dir.deletingLastPathComponent() }
        return dir.path
    }()

    static func s3(file: StaticString = #filePath, line: UInt = #line) throws -> [String: String] {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/swift-proxy-server") || ProcessInfo.processInfo.environment["CI"] == "true" else {
            throw XCTSkip("OpenStack Swift is not installed; `bash scripts/s3/start.sh` installs and starts it")
        }
        return try start("scripts/s3/start.sh", file: file, line: line)
    }

    static func sshd(file: StaticString = #filePath, line: UInt = #line) throws -> [String: String] {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") || ProcessInfo.processInfo.environment["CI"] == "true" else {
            throw XCTSkip("sshd is not installed (Debian openssh-server); `bash scripts/sshd/start.sh` installs and starts it")
        }
        return try start("scripts/sshd/start.sh", file: file, line: line)
    }

    static func start(_ script: String, file: StaticString, line: UInt) throws -> [String: String] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [repo + "/" + script]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let why = "\(script) failed (exit \(p.terminationStatus)): \(String(decoding: errData, as: UTF8.self).suffix(2000))"
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail(why, file: file, line: line) }
            throw XCTSkip(why)
        }
        var env = ProcessInfo.processInfo.environment
        for l in String(decoding: data, as: UTF8.self).split(separator: "\n") where l.hasPrefix("export ") {
            let kv = l.dropFirst(7)
            guard let eq = kv.firstIndex(of: "=") else { continue }
            var v = String(kv[kv.index(after: eq)...])
            if v.hasPrefix("'") && v.hasSuffix("'") && v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            env[String(kv[..<eq])] = v
        }
        return env
    }
}
