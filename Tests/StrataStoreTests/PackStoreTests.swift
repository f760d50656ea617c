import Foundation
import XCTest
import StrataCore
@testable import StrataStore
#if canImport(Glibc)
import Glibc
#endif

/// Packs in the object store: many objects per file, found by `get`, `read`, `contains`, `verify` and `all`.
final class PackStoreTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "strata-packs-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        // Pack files are read-only; the folder is ours to remove.
        _ = try? FileManager.default.removeItem(atPath: root)
    }

    private func texts(_ n: Int, seed: Int = 0) -> [[UInt8]] {
        (0..<n).map { i in
            // Every third text is short (stored as is); the others repeat words (zstd pays).
            let words = i % 3 == 0 ? "t\(seed)-\(i)" : String(repeating: "word\(i % 7) and more text \(seed) ", count: 10 + i % 5) + "\(i)"
            return Array(words.utf8)
        }
    }

    private func files(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    func testPackedObjectsRoundTripAndAreFoundByEveryReader() throws {
        let store = ObjectStore(root: root + "/objects")
        let objects = texts(300)
        let name = try XCTUnwrap(try store.writePack(PackObject.encode(objects, workers: 2)))
        XCTAssertEqual(files(store.packDirectory), [name + ".idx", name + ".pack"])
        // Nothing loose was written.
        XCTAssertEqual(files(store.root), ["pack"])
        let reader = ObjectStore(root: store.root)  // a fresh store lists the packs itself
        for bytes in objects {
            let digest = FileIO.sha256(bytes)
            XCTAssertTrue(reader.contains(digest))
            XCTAssertEqual(try reader.get(digest), bytes)
            XCTAssertEqual(try reader.read(digest, size: bytes.count, in: OpenDirectory(reader.root)), bytes)
            XCTAssertEqual(reader.size(of: digest), bytes.count)
            XCTAssertTrue(reader.verify(digest))
        }
        XCTAssertEqual(reader.all(), Set(objects.map { FileIO.sha256($0) }).sorted())
        // Both codecs were used: short texts as they are, repetitive ones compressed.
        let encoded = PackObject.encode(objects, workers: 1)
        XCTAssertEqual(Set(encoded.map(\.codec)), [0, 1])
        let packBytes = try XCTUnwrap(FileIO.status(store.packDirectory + "/" + name + ".pack")).size
        XCTAssertLessThan(packBytes, objects.reduce(0) { $0 + $1.count } / 2)
    }

    func testLooseAndPackedTogetherAndPutDoesNotDuplicateAPackedObject() throws {
        let store = ObjectStore(root: root + "/objects")
        let loose = Array("a loose object".utf8)
        let looseDigest = try store.put(loose)
        let packed = Array("a packed object".utf8)
        try store.writePack(PackObject.encode([packed], workers: 1))
        let packedDigest = FileIO.sha256(packed)
        XCTAssertEqual(try store.put(packed), packedDigest)
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.path(for: packedDigest)), "put wrote a loose copy of a packed object")
        XCTAssertEqual(store.all(), [looseDigest, packedDigest].sorted())
        XCTAssertEqual(try store.get(looseDigest), loose)
        XCTAssertEqual(try store.get(packedDigest), packed)
        // A file path for programs that read files: a loose copy of the packed object.
        let path = try store.loosePath(for: packedDigest)
        XCTAssertEqual(path, store.path(for: packedDigest))
        XCTAssertEqual(try FileIO.readAll(path), packed)
    }

    func testMissingDigestIsNotFound() throws {
        let store = ObjectStore(root: root + "/objects")
        try store.writePack(PackObject.encode(texts(10), workers: 1))
        let missing = FileIO.sha256(Array("not stored".utf8))
        XCTAssertFalse(store.contains(missing))
        XCTAssertNil(store.size(of: missing))
        XCTAssertFalse(store.verify(missing))
        XCTAssertThrowsError(try store.get(missing)) { error in
            XCTAssertEqual((error as? FileError)?.errno, ENOENT, "\(error)")
        }
        XCTAssertFalse(store.contains("not a digest"))
    }

    func testDamagedIndexIsReportedNamingTheFile() throws {
        let store = ObjectStore(root: root + "/objects")
        let objects = texts(20)
        let name = try XCTUnwrap(try store.writePack(PackObject.encode(objects, workers: 1)))
        let idx = store.packDirectory + "/" + name + ".idx"
        try flipByte(idx, at: 40)
        let reader = ObjectStore(root: store.root)
        let digest = FileIO.sha256(objects[0])
        XCTAssertFalse(reader.contains(digest))
        XCTAssertFalse(reader.verify(digest))
        XCTAssertEqual(reader.packProblems().map(\.description),
                       ["\(idx) is damaged: its checksum does not match its contents; run `strata check --deep`, and restore the file from a backup or a remote (`strata pull`)"])
        XCTAssertThrowsError(try reader.get(digest)) { error in
            XCTAssertEqual("\(error)", "\(idx) is damaged: its checksum does not match its contents (object \(digest) is not a loose file and may be in it); run `strata check --deep`, and restore the file from a backup or a remote (`strata pull`)")
        }
    }

    func testTruncatedPackIsReportedNamingTheFile() throws {
        let store = ObjectStore(root: root + "/objects")
        let name = try XCTUnwrap(try store.writePack(PackObject.encode(texts(20), workers: 1)))
        let pack = store.packDirectory + "/" + name + ".pack"
        chmod(pack, 0o644)
        XCTAssertEqual(truncate(pack, 100), 0)
        let problems = ObjectStore(root: store.root).packProblems().map(\.description)
        XCTAssertEqual(problems.count, 1)
        XCTAssertTrue(problems[0].hasPrefix("\(pack) is damaged: object "), problems[0])
        XCTAssertTrue(problems[0].contains("lies outside the file (100 bytes; truncated?)"), problems[0])
    }

    func testDamagedObjectBytesFailVerify() throws {
        let store = ObjectStore(root: root + "/objects")
        let plain = Array("short".utf8)  // stored as is
        let squeezable = Array(String(repeating: "compress me ", count: 40).utf8)  // stored with zstd
        let name = try XCTUnwrap(try store.writePack(PackObject.encode([plain, squeezable], workers: 1)))
        let pack = store.packDirectory + "/" + name + ".pack"
        let size = try XCTUnwrap(FileIO.status(pack)).size
        for offset in 8..<size { try flipByte(pack, at: offset) }  // every stored byte changed
        let reader = ObjectStore(root: store.root)
        XCTAssertTrue(reader.contains(FileIO.sha256(plain)))
        XCTAssertFalse(reader.verify(FileIO.sha256(plain)))
        XCTAssertFalse(reader.verify(FileIO.sha256(squeezable)))
        XCTAssertThrowsError(try reader.get(FileIO.sha256(squeezable))) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(pack) is damaged: object \(FileIO.sha256(squeezable)) does not decompress"), "\(error)")
        }
    }

    func testConcurrentReadersSeeTheSameBytes() throws {
        let store = ObjectStore(root: root + "/objects")
        let objects = texts(2000)
        try store.writePack(PackObject.encode(objects, workers: 2))
        let reader = ObjectStore(root: store.root)
        let failures = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            for i in stride(from: t, to: objects.count, by: 8) {
                if (try? reader.get(FileIO.sha256(objects[i]))) != objects[i] { failures.withLock { $0 += 1 } }
            }
        }
        XCTAssertEqual(failures.value, 0)
    }

    func testManyPacksAndPacksWrittenAfterTheFirstLookup() throws {
        let store = ObjectStore(root: root + "/objects")
        var all: [[UInt8]] = []
        for p in 0..<60 {
            let batch = texts(25, seed: p)
            try store.writePack(PackObject.encode(batch, workers: 1))
            all += batch
            // The store already listed the folder: a pack written since is found too.
            XCTAssertEqual(try store.get(FileIO.sha256(batch[24])), batch[24])
        }
        XCTAssertEqual(files(store.packDirectory).count, 120)
        let other = ObjectStore(root: store.root)
        _ = other.contains(FileIO.sha256(all[0]))
        let late = Array("written by another process".utf8)
        try ObjectStore(root: store.root).writePack(PackObject.encode([late], workers: 1))
        XCTAssertEqual(try other.get(FileIO.sha256(late)), late)
        for bytes in all { XCTAssertEqual(try other.get(FileIO.sha256(bytes)), bytes) }
        XCTAssertEqual(other.all().count, Set(all + [late]).count)
    }

    func testRepeatedObjectsAreStoredOnce() throws {
        let store = ObjectStore(root: root + "/objects")
        let a = Array("same".utf8)
        let name = try XCTUnwrap(try store.writePack(PackObject.encode([a, a, a], workers: 1)))
        XCTAssertEqual(try XCTUnwrap(FileIO.status(store.packDirectory + "/" + name + ".pack")).size, 8 + a.count)
        XCTAssertNil(try store.writePack([]))
    }

    private func flipByte(_ path: String, at offset: Int) throws {
        chmod(path, 0o644)
        let fd = open(path, O_RDWR)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var b: UInt8 = 0
        XCTAssertEqual(pread(fd, &b, 1, off_t(offset)), 1)
        b ^= 0xFF
        XCTAssertEqual(pwrite(fd, &b, 1, off_t(offset)), 1)
    }
}
