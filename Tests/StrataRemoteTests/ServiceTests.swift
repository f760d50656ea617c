import Foundation
import StrataRemote
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The backends against real services started by the repository's scripts (`scripts/s3/start.sh`,
/// `scripts/sshd/start.sh`). Locally a test is skipped when its service cannot start; under `CI=true` it fails.
final class RemoteServiceTests: XCTestCase {
    func testS3BackendAgainstSwiftS3API() throws {
        let env = try RemoteServices.s3()
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
        let env = try RemoteServices.sshd()
        let dir = NSTemporaryDirectory() + "strata-ssh-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let backend = SSHBackend(user: env["STRATA_SSHD_USER"], host: "127.0.0.1", port: Int(env["STRATA_SSHD_PORT"]!), root: dir, environment: env)
        try exerciseBackend(backend)
        let closed = SSHBackend(user: env["STRATA_SSHD_USER"], host: "127.0.0.1", port: 1, root: dir, environment: env)
        XCTAssertThrowsError(try closed.get("x")) { XCTAssertEqual(($0 as? RemoteError)?.kind, .unreachable) }
    }
}

/// The service starter itself: a start script that leaves a daemon holding its stdout must not hang the tests.
final class RemoteServiceStarterTests: XCTestCase {
    func testStarterReturnsWhileADaemonOfTheScriptStillHoldsItsOutput() throws {
        let dir = NSTemporaryDirectory() + "strata-starter-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Like a start script whose daemon inherits stdout and stderr: the child outlives the script.
        let script = dir + "/start.sh"
        try Array("sleep 300 &\necho \"export DAEMON_PID=$!\"\necho \"export STRATA_TEST_ENDPOINT='http://127.0.0.1:1'\"\necho started >&2\n".utf8)
            .write(to: script)
        let r = try RemoteServices.runScript(script, timeout: 120)
        let env = RemoteServices.exports(r.stdout)
        let pid = try XCTUnwrap(env["DAEMON_PID"].flatMap { Int32($0) })
        defer { kill(pid, SIGKILL) }
        XCTAssertEqual(kill(pid, 0), 0, "the daemon is still running, holding the script's stdout, yet the starter returned")
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.stderr, "started\n")
        XCTAssertEqual(env["STRATA_TEST_ENDPOINT"], "http://127.0.0.1:1")
    }
}

extension Array where Element == UInt8 {
    func write(to path: String) throws { try Data(self).write(to: URL(fileURLWithPath: path)) }
}

/// S3 multipart uploads against the real service: every part and the whole checked.
final class S3MultipartTests: XCTestCase {
    func testLargeObjectGoesUpInPartsAndComesBackWhole() throws {
        let env = try RemoteServices.s3()
        let bucket = "strata-mp-\(UInt32.random(in: 0...UInt32.max))"
        var backend = try S3Backend(bucket: bucket, prefix: "big", config: try S3Config.resolve(environment: env))
        try backend.createBucket()
        backend.multipartThreshold = 5 << 20
        backend.partSize = 5 << 20
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<(12 << 20)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        try backend.put("objects/ab/cd", bytes)
        XCTAssertEqual(try backend.get("objects/ab/cd"), bytes, "three parts (5 + 5 + 2 MiB) make the same bytes")
        XCTAssertEqual(try backend.list("objects/"), ["objects/ab/cd"], "no part or upload is left visible")
        // Below the threshold: one PUT.
        backend.multipartThreshold = 64 << 20
        try backend.put("objects/ab/ef", Array(bytes.prefix(6 << 20)))
        XCTAssertEqual(try backend.get("objects/ab/ef"), Array(bytes.prefix(6 << 20)))
    }
}
