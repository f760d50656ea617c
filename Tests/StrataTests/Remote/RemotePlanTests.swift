import Foundation
import StrataCore
import StrataRemote
import XCTest
@testable import Strata

/// The Remote context's pure planning, without a disk or a remote.
final class RemotePlanTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_000_000)
    func d(_ c: Character) -> String { String(repeating: c, count: 64) }
    func key(_ k: String, ageHours: Double) -> DatedKey { DatedKey(key: k, modified: now.addingTimeInterval(-ageHours * 3600)) }

    func testGCPlanRemovesOnlyOldUnreferencedKeysAndIndexesBeforePacks() {
        let (p1, p2, p3, p4) = (d("1"), d("2"), d("3"), d("4"))
        let (a, b, c) = (d("a"), d("b"), d("c"))
        let idx: [String: PackIndex] = [
            p1: PackIndex(packId: p1, packSize: 10, entries: [a: ByteRange(offset: 0, length: 10)]),               // referenced
            p2: PackIndex(packId: p2, packSize: 30, entries: [b: ByteRange(offset: 0, length: 20), c: ByteRange(offset: 20, length: 10)]), // unreferenced
            p3: PackIndex(packId: p3, packSize: 7, entries: [d("d"): ByteRange(offset: 0, length: 7)]),          // unreferenced but young
        ]
        let packs = [key("packs/\(p1).pack", ageHours: 48), key("packs/\(p1).idx", ageHours: 48),
                     key("packs/\(p2).pack", ageHours: 48), key("packs/\(p2).idx", ageHours: 48),
                     key("packs/\(p3).pack", ageHours: 48), key("packs/\(p3).idx", ageHours: 1),
                     key("packs/\(p4).pack", ageHours: 30)]                                                        // no index
        let loose = [key("objects/ee/" + String(repeating: "e", count: 62), ageHours: 30),
                     key("objects/ff/" + String(repeating: "f", count: 62), ageHours: 2),
                     key("objects/aa/" + String(repeating: "a", count: 62), ageHours: 30)]                         // referenced
        let plan = RemoteGCPlan.make(referenced: [a], packKeys: packs, indexes: idx,
                                     looseKeys: loose, now: now, graceSeconds: 24 * 3600)
        XCTAssertEqual(plan.unreferencedPacks, ["packs/\(p2).pack"])
        XCTAssertEqual(plan.packsWithoutIndex, ["packs/\(p4).pack"])
        XCTAssertEqual(plan.unreferencedLoose, ["objects/ee/" + String(repeating: "e", count: 62)])
        XCTAssertEqual(plan.keptRecent, 2, "the pack with a young index and the young loose object")
        XCTAssertEqual(plan.bytes, 30)
        XCTAssertEqual(plan.deletions, ["packs/\(p2).idx", "packs/\(p2).pack", "packs/\(p4).pack", "objects/ee/" + String(repeating: "e", count: 62)])

        let none = RemoteGCPlan.make(referenced: [a], packKeys: packs, indexes: idx, looseKeys: loose, now: now, graceSeconds: 100 * 3600)
        XCTAssertEqual(none.deletions, [], "within the grace period nothing goes")
        XCTAssertEqual(none.keptRecent, 5)
    }

    func testGCPlanCountsUnreferencedBytesInsideKeptPacks() {
        let p = d("1")
        let idx = [p: PackIndex(packId: p, packSize: 30, entries: [d("a"): ByteRange(offset: 0, length: 20), d("b"): ByteRange(offset: 20, length: 10)])]
        let plan = RemoteGCPlan.make(referenced: [d("a")], packKeys: [key("packs/\(p).pack", ageHours: 48), key("packs/\(p).idx", ageHours: 48)],
                                     indexes: idx, looseKeys: [], now: now, graceSeconds: 0)
        XCTAssertEqual(plan.deletions, [])
        XCTAssertEqual(plan.wastedInKeptPacks, 10)
    }

    func testJobsComeFromTheFlagThenTheEnvironment() throws {
        XCTAssertEqual(try TransferJobs.resolve(nil, environment: [:]), 8)
        XCTAssertEqual(try TransferJobs.resolve(3, environment: ["STRATA_REMOTE_JOBS": "20"]), 3)
        XCTAssertEqual(try TransferJobs.resolve(nil, environment: ["STRATA_REMOTE_JOBS": "20"]), 20)
        XCTAssertEqual(try TransferJobs.resolve(nil, environment: ["STRATA_REMOTE_JOBS": "500"]), 64)
        XCTAssertThrowsError(try TransferJobs.resolve(0, environment: [:]))
    }

    func testRunJobsRunsEveryJobOnceAndReportsTheFirstError() throws {
        let seen = Locked<[Int]>([])
        try runJobs(100, workers: 8) { i in seen.withLock { $0.append(i) } }
        XCTAssertEqual(seen.value.sorted(), Array(0..<100))
        struct Boom: Error {}
        XCTAssertThrowsError(try runJobs(100, workers: 8) { i in if i == 7 { throw Boom() } }) { XCTAssertTrue($0 is Boom) }
    }
}
