import Foundation
import StrataCore
import StrataEngine
import StrataStore
import XCTest

/// How a stage is cut into tasks and how tasks are keyed (the cache finds unchanged work by these keys).
final class StagePlannerTests: XCTestCase {
    let texts = ["alpha beta gamma delta", "one two three four five", "red green blue", "north south east west", "spring summer autumn"]

    func testAMapStageIsOneTaskPerShardOverShardFilesInOrder() throws {
        let fx = try EngineFixture()
        defer { fx.remove() }
        let (outcomes, steps, _) = try fx.run(PipelineSpec.Stage(name: "clean", uses: "clean.text"), try fx.items(texts), shardSize: 2)
        XCTAssertEqual(steps.count, 1)
        XCTAssertEqual(steps[0].map(\.label), ["clean/map-0", "clean/map-1", "clean/map-2"])
        XCTAssertEqual(steps[0].map(\.inputs), [[".strata/runs/run-1/clean/input-0.jsonl"], [".strata/runs/run-1/clean/input-1.jsonl"],
                                                [".strata/runs/run-1/clean/input-2.jsonl"]])
        // Shards of 2, 2 and 1 items, in input order.
        let lines = try (0..<3).map { n in
            try FileIO.readAll(fx.root + "/.strata/runs/run-1/clean/input-\(n).jsonl").split(separator: 0x0A).map { try WorkItem.parse(line: $0).origin }
        }
        XCTAssertEqual(lines, [["data/0.txt", "data/1.txt"], ["data/2.txt", "data/3.txt"], ["data/4.txt"]])
        XCTAssertEqual(outcomes.count, texts.count)
        XCTAssertEqual(outcomes.map(\.summary), Array(repeating: "keep", count: texts.count))
        // The step's task list is saved for `strata task run`.
        XCTAssertEqual(try StagePlanner.savedTasks(runDir: fx.root + "/.strata/runs/run-1", stage: "clean", step: .map), steps[0])
    }

    func testAGlobalStageIsAnnotateThenPairPerPartitionThenOneDecide() throws {
        let fx = try EngineFixture()
        defer { fx.remove() }
        let (_, steps, _) = try fx.run(PipelineSpec.Stage(name: "exact", uses: "dedup.exact"), try fx.items(texts), shardSize: 2)
        XCTAssertEqual(steps.map { $0.first?.step }, [.annotate, .pair, .decide])
        XCTAssertEqual(steps[0].count, 3, "one annotate task per shard")
        XCTAssertEqual(steps[2].count, 1, "one decide task")
        // Every pair task reads every annotation file.
        let annotationFiles = steps[0].map { ".strata/cache/tasks/\($0.key.prefix(2))/\($0.key)/output" }
        for pair in steps[1] { XCTAssertEqual(pair.inputs, annotationFiles) }
        XCTAssertEqual(steps[2][0].annotations, annotationFiles)
    }

    func testKeysDependOnContentAndParametersNotOnTheRun() throws {
        let fx = try EngineFixture()
        defer { fx.remove() }
        let items = try fx.items(texts)
        let stage = PipelineSpec.Stage(name: "quality", uses: "filter.quality", params: ["min_words": .int(3)])
        func keys(_ stage: PipelineSpec.Stage, _ items: [WorkItem], run: String) throws -> [String] {
            var keys: [String] = []
            _ = try fx.planner(run: run, stage: stage, shardSize: 2).run(items: items) { tasks in
                keys += tasks.map(\.key)
                try InlineExecutor().execute(tasks, projectRoot: fx.root, retries: 0) { _ in }
            }
            return keys
        }
        let first = try keys(stage, items, run: "run-1")
        XCTAssertEqual(first.count, 3)
        XCTAssertEqual(Set(first).count, 3, "each shard has its own key")
        XCTAssertEqual(try keys(stage, items, run: "run-2"), first, "another run of the same work finds the same keys")
        var stricter = stage
        stricter.params["min_words"] = .int(4)
        XCTAssertTrue(Set(try keys(stricter, items, run: "run-3")).isDisjoint(with: first), "new parameters: every key changes")
        // One sample changed: only its shard's key changes.
        var changed = items
        changed[3] = try fx.items(texts + ["a changed fourth sample text"])[5]
        let after = try keys(stage, changed, run: "run-4")
        XCTAssertEqual(after[0], first[0])
        XCTAssertNotEqual(after[1], first[1])
        XCTAssertEqual(after[2], first[2])
    }
}
