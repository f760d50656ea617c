import Foundation
import StrataCore
import StrataRemote
import StrataStore
import XCTest

final class RemoteUnitTests: XCTestCase {
    /// The GET-object example of the AWS SigV4 documentation ("Signature Calculations for the Authorization
    /// Header: Transferring Payload in a Single Chunk"), with its published signature.
    func testSigV4MatchesTheAWSDocumentationExample() {
        let signer = SigV4(accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
        let date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
        let headers = signer.sign(method: "GET", path: "/test.txt", query: [],
                                  headers: ["Host": "examplebucket.s3.amazonaws.com", "Range": "bytes=0-9"],
                                  payloadHash: SigV4.emptyPayloadHash, date: date)
        XCTAssertEqual(headers["authorization"],
                       "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        XCTAssertEqual(headers["x-amz-date"], "20130524T000000Z")
    }

    func testSigV4EncodingAndCanonicalQuery() {
        XCTAssertEqual(SigV4.encode("a b/c+d~é", keepSlash: true), "a%20b/c%2Bd~%C3%A9")
        XCTAssertEqual(SigV4.encode("a/b", keepSlash: false), "a%2Fb")
        XCTAssertEqual(SigV4.canonicalQuery([("prefix", "packs/"), ("list-type", "2")]), "list-type=2&prefix=packs%2F")
    }

    func testRemoteURLs() throws {
        XCTAssertEqual(try RemoteURL.parse("file:///mnt/team/strata/"), .file(path: "/mnt/team/strata"))
        XCTAssertEqual(try RemoteURL.parse("s3://ml-data/strata/support/"), .s3(bucket: "ml-data", prefix: "strata/support"))
        XCTAssertEqual(try RemoteURL.parse("s3://ml-data"), .s3(bucket: "ml-data", prefix: ""))
        XCTAssertEqual(try RemoteURL.parse("ssh://ana@gpu-1:2222/srv/strata"), .ssh(user: "ana", host: "gpu-1", port: 2222, path: "/srv/strata"))
        XCTAssertEqual(try RemoteURL.parse("ssh://gpu-1/srv/strata").description, "ssh://gpu-1/srv/strata")
        let cases: [(String, String)] = [
            ("file://relative/x", "invalid remote URL `file://relative/x`: a file URL needs an absolute path (three slashes: file:///path)"),
            ("s3://UPPER/x", "invalid remote URL `s3://UPPER/x`: `UPPER` is not a bucket name (3 to 63 lower-case letters, digits, `-` and `.`)"),
            ("ssh://host", "invalid remote URL `ssh://host`: an ssh URL needs a path after the host"),
            ("ssh://a;b@host/x", "invalid remote URL `ssh://a;b@host/x`: the user and host may contain only letters, digits, `-`, `.` and `_`"),
            ("ftp://x/y", "invalid remote URL `ftp://x/y`: unknown scheme `ftp`"),
            ("/just/a/path", "invalid remote URL `/just/a/path`: it has no scheme"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try RemoteURL.parse(text)) { XCTAssertEqual(($0 as? RemoteError)?.message, message) }
        }
    }

    func testPackIndexRoundTripAndDamage() throws {
        let a = String(repeating: "a", count: 64), b = String(repeating: "b", count: 64)
        let idx = PackIndex(packId: String(repeating: "c", count: 64), packSize: 30,
                            entries: [b: ByteRange(offset: 10, length: 20), a: ByteRange(offset: 0, length: 10)])
        let text = String(decoding: idx.encoded(), as: UTF8.self)
        XCTAssertEqual(text, "strata.pack/1 \(String(repeating: "c", count: 64)) 30\n\(a) 0 10\n\(b) 10 20\n")
        XCTAssertEqual(try PackIndex.decode(idx.encoded(), key: "packs/x.idx"), idx)
        let beyond = Array("strata.pack/1 x 30\n\(a) 25 10\n".utf8)
        XCTAssertThrowsError(try PackIndex.decode(beyond, key: "packs/x.idx")) {
            XCTAssertEqual(($0 as? RemoteError)?.message, "packs/x.idx:2: expected `<sha256> <offset> <length>` inside the pack's 30 bytes")
        }
    }

    func testUploadPlanSendsOnlyWhatIsMissingAndPacksSmallObjects() {
        func d(_ i: Int) -> String { String(format: "%064x", i) }
        var remote = RemoteInventory()
        remote.addLoose(d(1))
        remote.add(PackIndex(packId: "p", packSize: 10, entries: [d(2): ByteRange(offset: 0, length: 10)]))
        let wanted = [TransferPlan.Object(digest: d(1), size: 5), .init(digest: d(2), size: 10), .init(digest: d(3), size: 40),
                      .init(digest: d(4), size: 40), .init(digest: d(5), size: 30), .init(digest: d(6), size: 500), .init(digest: d(3), size: 40)]
        let plan = TransferPlan.upload(wanted, remote: remote, packTarget: 100, looseThreshold: 200)
        XCTAssertEqual(plan.alreadyThere, 2)
        XCTAssertEqual(plan.packs.map { $0.map(\.digest) }, [[d(3), d(4)], [d(5)]])
        XCTAssertEqual(plan.loose.map(\.digest), [d(6)])
    }

    func testCoalescedReadsCoverEachObjectExactly() {
        let wanted: [(digest: String, range: ByteRange)] = [
            ("c", ByteRange(offset: 5000, length: 10)), ("a", ByteRange(offset: 0, length: 100)), ("b", ByteRange(offset: 150, length: 50)),
        ]
        let reads = TransferPlan.coalesce(wanted, maxGap: 100)
        XCTAssertEqual(reads.map(\.range), [ByteRange(offset: 0, length: 200), ByteRange(offset: 5000, length: 10)])
        XCTAssertEqual(reads[0].objects.map(\.digest), ["a", "b"])
        XCTAssertEqual(reads[0].objects.map(\.range), [ByteRange(offset: 0, length: 100), ByteRange(offset: 150, length: 50)])
    }

    func testFileBackendCreateIfAbsentHasOneWinnerAmongRacers() throws {
        let dir = NSTemporaryDirectory() + "strata-remote-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try exerciseBackend(FileBackend(root: dir))
    }
}

/// The same checks for every backend: writes, reads, ranges, listing, removal, exclusive creation under a race.
func exerciseBackend(_ backend: any RemoteBackend, file: StaticString = #filePath, line: UInt = #line) throws {
    let blob = (0..<3000).map { UInt8(truncatingIfNeeded: $0 * 7) }
    try backend.put("packs/x.pack", blob)
    XCTAssertEqual(try backend.get("packs/x.pack"), blob, file: file, line: line)
    XCTAssertNil(try backend.get("packs/none.pack"), file: file, line: line)
    XCTAssertEqual(try backend.getRanges("packs/x.pack", [ByteRange(offset: 10, length: 5), ByteRange(offset: 2990, length: 10)]),
                   [Array(blob[10..<15]), Array(blob[2990..<3000])], file: file, line: line)
    try backend.put("packs/y.idx", [1])
    try backend.put("objects/ab/cd", [2])
    XCTAssertEqual(try backend.list("packs/"), ["packs/x.pack", "packs/y.idx"], file: file, line: line)
    if let remote = try backend.remoteSHA256("packs/x.pack") {
        XCTAssertEqual(remote, FileIO.sha256(blob), file: file, line: line)
    }
    try backend.delete(["packs/y.idx", "packs/missing"])
    XCTAssertEqual(try backend.list("packs/"), ["packs/x.pack"], file: file, line: line)

    // Eight writers race for one reference: exactly one wins, and the reference holds its bytes.
    let wins = Locked<[Int]>([])
    DispatchQueue.concurrentPerform(iterations: 8) { i in
        if (try? backend.createIfAbsent("refs/versions/v1", Array("writer \(i)\n".utf8))) == true { wins.withLock { $0.append(i) } }
    }
    XCTAssertLessThanOrEqual(wins.value.count, 1, "two writers both created the reference", file: file, line: line)
    if let w = wins.value.first {
        XCTAssertEqual(try backend.get("refs/versions/v1"), Array("writer \(w)\n".utf8), file: file, line: line)
    }
    XCTAssertFalse(try backend.createIfAbsent("refs/versions/v1", [9]), file: file, line: line)
    XCTAssertTrue(try backend.createIfAbsent("refs/versions/v2", [7]), file: file, line: line)
    XCTAssertEqual(try backend.get("refs/versions/v2"), [7], file: file, line: line)
}
