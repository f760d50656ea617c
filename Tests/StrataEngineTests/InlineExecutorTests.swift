import Foundation
import StrataCore
import StrataEngine
import StrataStore
import XCTest

/// The inline executor runs a small pipeline of built-in stages on a temporary folder, with no catalog and no thread
/// of its own: the same outcomes as the local executor, task results reported in task order.
final class InlineExecutorTests: XCTestCase {
    let texts = [
        "the committee approved the budget for the new library",  // 0
        "ok",  // 1: too few words
        "the committee approved the budget for the new library",  // 2: exact duplicate of 0
        "rain is expected across the northern hills tonight",  // 3
        "a short but complete sentence about the weather",  // 4
    ]

    func testASmallPipelineRunsInlineLikeOnTheLocalExecutor() throws {
        let fx = try EngineFixture()
        defer { fx.remove() }
        let items = try fx.items(texts)
        // filter.quality (a map stage), then dedup.exact (a global one) over what was kept.
        let quality = PipelineSpec.Stage(name: "quality", uses: "filter.quality", params: ["min_words": .int(3)])
        let (first, firstSteps, firstResults) = try fx.run(quality, items)
        XCTAssertEqual(first.map(\.summary), ["keep", "reject:too-few-words", "keep", "keep", "keep"])
        XCTAssertEqual(firstResults.map(\.label), firstSteps.flatMap { $0.map(\.label) }, "one result per task, in task order")
        let kept = first.compactMap { o -> WorkItem? in if case .keep(let item) = o { item } else { nil } }
        let (second, _, secondResults) = try fx.run(PipelineSpec.Stage(name: "exact", uses: "dedup.exact"), kept)
        XCTAssertEqual(second.map(\.summary), ["keep", "duplicate:duplicate", "keep", "keep"])
        if case .duplicate(let dup, let of, _, _) = second[1] {
            XCTAssertEqual(dup.origin, "data/2.txt")
            XCTAssertEqual(of.origin, "data/0.txt")
        }
        XCTAssertEqual(secondResults.map(\.cached), Array(repeating: false, count: secondResults.count))

        // The local executor, on a second run of the same work, finds every task in the cache and the same outcomes.
        let planner = try fx.planner(run: "run-2", stage: quality, shardSize: 2)
        let cached = Locked<[TaskResult]>([])
        let again = try planner.run(items: items) { tasks in
            try LocalExecutor(workers: 2).execute(tasks, projectRoot: fx.root, retries: 0) { r in cached.withLock { $0.append(r) } }
        }
        XCTAssertEqual(again, first)
        XCTAssertEqual(cached.value.count, 3)
        XCTAssertTrue(cached.value.allSatisfy(\.cached))
    }

    func testAFailingTaskIsRetriedThenReportedAfterTheOthersRan() throws {
        let fx = try EngineFixture()
        defer { fx.remove() }
        let items = try fx.items(["one two three", "four five six", "seven eight nine"])
        let planner = try fx.planner(run: "run-1", stage: PipelineSpec.Stage(name: "clean", uses: "clean.text"), shardSize: 1)
        let results = Locked<[String]>([])
        XCTAssertThrowsError(try planner.run(items: items) { tasks in
            // The middle shard's input goes missing: its task fails on every attempt.
            unlink(fx.root + "/" + tasks[1].inputs[0])
            try InlineExecutor().execute(tasks, projectRoot: fx.root, retries: 2) { r in results.withLock { $0.append(r.label) } }
        }) { error in
            guard let failure = error as? TaskFailure else { return XCTFail("not a TaskFailure: \(error)") }
            XCTAssertEqual(failure.label, "clean/map-1")
            XCTAssertEqual(failure.attempts, 3)
        }
        XCTAssertEqual(results.value, ["clean/map-0", "clean/map-2"])
    }
}
