import Foundation
import StrataEngine
@testable import StrataSlurm
import XCTest

/// The names of the worker queue's files: one parser and one formatter each for tickets and leases.
final class TicketLeaseTests: XCTestCase {
    func testTicketNamesRoundTripAndSortInPublishingOrder() {
        XCTAssertEqual(Ticket(seq: 1).fileName, "t0000001.json")
        XCTAssertEqual(Ticket(seq: 1234567).fileName, "t1234567.json")
        XCTAssertEqual(Ticket(seq: 12345678).fileName, "t12345678.json", "wider than 7 digits past ten million")
        for seq in [0, 1, 42, 9_999_999, 10_000_000] { XCTAssertEqual(Ticket(fileName: Ticket(seq: seq).fileName), Ticket(seq: seq)) }
        XCTAssertEqual(Ticket(fileName: "t0000042.json")?.seq, 42)
        let names = [7, 10, 3].map { Ticket(seq: $0) }
        XCTAssertEqual(names.sorted().map(\.fileName), ["t0000003.json", "t0000007.json", "t0000010.json"])
    }

    func testWhatIsNotATicketIsRejected() {
        for name in ["", "t.json", "t0000001", "x0000001.json", "t00a0001.json", "t0000001.json.tmp", "t-000001.json", "t0000001.json@12_3",
                     "t+000001.json", "t٣.json"] {
            XCTAssertNil(Ticket(fileName: name), name)
        }
    }

    func testLeaseNamesCarryTheTicketAndTheWorker() {
        let lease = Lease(ticket: Ticket(seq: 5), worker: "812_3")
        XCTAssertEqual(lease.fileName, "t0000005.json@812_3")
        XCTAssertEqual(Lease(fileName: "t0000005.json@812_3"), lease)
        XCTAssertEqual(Lease(fileName: "t0000009.json@4711")?.worker, "4711", "an srun worker is named by its job id")
        XCTAssertEqual(Lease(fileName: "t0000009.json@pid99")?.ticket, Ticket(seq: 9))
        for name in ["t0000005.json", "t0000005.json@", "@812_3", "t0000005@812_3", "t0000005.json@a@b", "junk@812_3"] {
            XCTAssertNil(Lease(fileName: name), name)
        }
        XCTAssertFalse(Lease.isWorkerName("a/b"))
        XCTAssertTrue(Lease.isWorkerName(SlurmWorker.identity()))
    }

    func testTheQueueMovesATicketThroughItsFoldersOneRenameAtATime() throws {
        let root = NSTemporaryDirectory() + "strata-queue-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let layout = WorkerLayout(projectRoot: root, run: "run-1")
        try layout.create()
        let queue = TaskQueue(layout: layout)
        let task = try JSONDecoder().decode(TaskSpec.self, from: Data(#"""
            {"run": "run-1", "stage": "s", "uses": "clean.text", "params": "{}", "step": "map", "index": 0,
             "inputs": [], "annotations": [], "pairs": [], "key": "k"}
            """#.utf8))
        try queue.publish(TicketPayload(task: task, attempt: 1), as: Ticket(seq: 2))
        try queue.publish(TicketPayload(task: task, attempt: 3), as: Ticket(seq: 1))
        XCTAssertEqual(queue.queued(), [Ticket(seq: 1), Ticket(seq: 2)])
        // The worker takes the oldest ticket first; a second worker gets the other one, a third none.
        let a = try XCTUnwrap(queue.claim(as: "10_0"))
        let b = try XCTUnwrap(queue.claim(as: "10_1"))
        XCTAssertNil(queue.claim(as: "10_2"))
        XCTAssertEqual(a, Lease(ticket: Ticket(seq: 1), worker: "10_0"))
        XCTAssertEqual(try queue.read(a).attempt, 3)
        XCTAssertEqual(Set(queue.leases()), [a, b])
        queue.complete(a)
        queue.fail(b, WorkerFailure(worker: "10_1", host: "node1", error: "boom"))
        XCTAssertEqual(queue.leases(), [])
        XCTAssertEqual(queue.finishing(), [Ticket(seq: 1), Ticket(seq: 2)])
        XCTAssertEqual(queue.done(), [Ticket(seq: 1)])
        let failures = queue.takeFailures()
        XCTAssertEqual(failures.map(\.ticket), [Ticket(seq: 2)])
        XCTAssertEqual(failures.first?.failure?.error, "boom")
        XCTAssertEqual(queue.takeFailures().count, 0, "taken once")
        // A lease the driver revokes is gone; revoking it again fails (the unlink decides who moved it).
        try queue.publish(TicketPayload(task: task, attempt: 1), as: Ticket(seq: 3))
        let c = try XCTUnwrap(queue.claim(as: "11"))
        XCTAssertTrue(queue.revoke(c))
        XCTAssertFalse(queue.revoke(c))
        XCTAssertFalse(queue.isFinished)
        queue.markFinished(run: "run-1")
        XCTAssertTrue(queue.isFinished)
    }
}
