import Foundation
import StrataCore
import StrataEngine
import StrataStore
@testable import StrataSlurm
import XCTest

/// How the driver judges one worker from squeue's line and its heartbeat, on the driver's clock (no cluster needed:
/// the states that end a worker call scontrol, so only the living and the lost are judged here).
final class WorkerHealthTests: XCTestCase {
    var root = ""
    var pool: WorkerPool!

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "strata-health-\(UUID().uuidString)"
        pool = WorkerPool(options: WorkerPoolExecutor.Options(job: SlurmJobOptions(strataBinary: "/s"), polling: SlurmPolling(interval: 1),
                                                              timeouts: WorkerTimeouts(lease: 30)),
                          run: "run-1", projectRoot: root, log: { _, _ in })
        try pool.layout.create()
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: root) }

    func beat(_ worker: String, _ text: String) throws {
        try FileIO.writeAtomically("\(pool.layout.heartbeats)/\(worker)", Array(text.utf8), sync: false)
    }

    func judge(_ e: inout WorkerPool.Element, _ entry: SlurmQueue.Entry?, at now: Date, look: inout WorkerPool.Look) -> (why: String?, hung: [String]) {
        var hung: [String] = []
        let why = pool.update(&e, worker: "70", entry: entry, now: now, look: &look, hung: &hung)
        return (why, hung)
    }

    func testARunningWorkerWhoseHeartbeatStopsIsLostAfterTheLeaseTimeout() throws {
        let t0 = Date()
        var e = WorkerPool.Element()
        var look = WorkerPool.Look()
        try beat("70", "1 node1 99 \n")
        XCTAssertNil(judge(&e, .init(state: "RUNNING", reason: "None"), at: t0, look: &look).why)
        XCTAssertEqual(look.beating, ["70"])
        XCTAssertTrue(e.sawBeat)
        // The same heartbeat 29 s later: still alive; 31 s: lost, and to be cancelled.
        look = WorkerPool.Look()
        XCTAssertNil(judge(&e, .init(state: "RUNNING", reason: "None"), at: t0 + 29, look: &look).why)
        XCTAssertEqual(look.beating, [])
        let lost = judge(&e, .init(state: "RUNNING", reason: "None"), at: t0 + 31, look: &look)
        XCTAssertEqual(lost.why, "Slurm worker job 70 stopped its heartbeat for 30 s while Slurm called it RUNNING (node lost or process hung); cancelled it")
        XCTAssertEqual(lost.hung, ["70"])
        XCTAssertEqual(e.state, "LOST")
    }

    func testAMovingHeartbeatKeepsALongTaskAlive() throws {
        let t0 = Date()
        var e = WorkerPool.Element()
        var look = WorkerPool.Look()
        for (n, t) in [0.0, 20, 40, 60].enumerated() {
            try beat("70", "\(n) node1 99 stage/map-0\n")
            XCTAssertNil(judge(&e, .init(state: "RUNNING", reason: "None"), at: t0 + t, look: &look).why, "at \(t) s")
        }
    }

    func testAWorkerSqueueDoesNotListIsGoneOnlyAfterTheGraceWithAStillHeartbeat() throws {
        let t0 = Date()
        var e = WorkerPool.Element()
        var look = WorkerPool.Look()
        try beat("70", "1 node1 99 \n")
        XCTAssertNil(judge(&e, .init(state: "RUNNING", reason: "None"), at: t0, look: &look).why)
        XCTAssertNil(judge(&e, nil, at: t0 + 5, look: &look).why, "unlisted for 5 s: not yet")
        try beat("70", "2 node1 99 \n")
        XCTAssertNil(judge(&e, nil, at: t0 + 12, look: &look).why, "its heartbeat moved: alive")
        let gone = judge(&e, nil, at: t0 + 23, look: &look)
        XCTAssertEqual(gone.why, "Slurm worker job 70 disappeared from the queue (squeue has not listed it for 18 s and its heartbeat stood still)")
        XCTAssertEqual(gone.hung, [])
    }

    func testPendingForATurnIsWaitingAndARequeueAfterRunningLosesItsTasks() throws {
        let t0 = Date()
        var e = WorkerPool.Element()
        var look = WorkerPool.Look()
        XCTAssertNil(judge(&e, .init(state: "PENDING", reason: "Resources"), at: t0, look: &look).why)
        XCTAssertTrue(look.waiting)
        XCTAssertEqual(look.restarted, [:], "pending before it ever ran: not a restart")
        look = WorkerPool.Look()
        XCTAssertNil(judge(&e, .init(state: "RUNNING", reason: "None"), at: t0 + 1, look: &look).why)
        XCTAssertFalse(look.waiting)
        XCTAssertNil(judge(&e, .init(state: "PENDING", reason: "BeginTime"), at: t0 + 2, look: &look).why)
        XCTAssertEqual(look.restarted["70"], "Slurm worker job 70 was requeued by Slurm (PENDING, BeginTime) while it ran")
        XCTAssertNil(e.runningSince)
    }
}
