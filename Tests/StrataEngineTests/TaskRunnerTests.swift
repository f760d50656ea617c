import Foundation
import StrataCore
@testable import StrataEngine
import StrataStore
import XCTest

/// One task, run by itself from its `TaskSpec`: output and result land in the task cache in one rename, and the
/// second run finds them there.
final class TaskRunnerTests: XCTestCase {
    func testATaskWritesItsCacheFolderAtomicallyAndIsCachedTheSecondTime() throws {
        let fx = try EngineFixture()
        defer { fx.remove() }
        let items = try fx.items(["the quick brown fox jumps", "hi", "over the lazy sleeping dog"])
        let shard = ".strata/runs/run-1/quality/input-0.jsonl"
        try FileIO.makeDirectories(fx.root + "/.strata/runs/run-1/quality")
        try FileIO.writeAtomically(fx.root + "/" + shard, items.flatMap { $0.jsonLine() }, sync: false)
        let spec = TaskSpec(run: "run-1", stage: "quality", uses: "filter.quality", params: #"{"min_words":3}"#, command: nil, step: .map,
                            index: 0, inputs: [shard], annotations: [], pairs: [], key: String(repeating: "ab", count: 32))

        let first = try TaskRunner.run(spec, projectRoot: fx.root, attempt: 2)
        XCTAssertEqual(first.label, "quality/map-0")
        XCTAssertEqual(first.items, 3)
        XCTAssertEqual(first.attempts, 2)
        XCTAssertFalse(first.cached)
        let cache = TaskCache(projectRoot: fx.root)
        XCTAssertEqual(cache.result(spec.key), first)
        // The folder holds exactly the task's files, and its parent no temporary folder.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache.dir(spec.key)).sorted(), ["log.txt", "output", "result.json"])
        let parent = (cache.dir(spec.key) as NSString).deletingLastPathComponent
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: parent), [spec.key])
        let outcomes = try FileIO.readAll(cache.output(spec.key)).split(separator: 0x0A).map { try ItemOutcome.parse(line: $0) }
        XCTAssertEqual(outcomes.map(\.summary), ["keep", "reject:too-few-words", "keep"])
        let output = try FileIO.readAll(cache.output(spec.key))

        let second = try TaskRunner.run(spec, projectRoot: fx.root)
        XCTAssertEqual(second, TaskResult(key: spec.key, label: "quality/map-0", items: 3, seconds: 0, attempts: 0, cached: true))
        XCTAssertEqual(try FileIO.readAll(cache.output(spec.key)), output, "a cached task is not run again")
    }

    func testATaskWhoseInputIsMissingThrowsAndLeavesNothingInTheCache() throws {
        let fx = try EngineFixture()
        defer { fx.remove() }
        let spec = TaskSpec(run: "run-1", stage: "clean", uses: "clean.text", params: "{}", command: nil, step: .map, index: 0,
                            inputs: [".strata/runs/run-1/clean/input-0.jsonl"], annotations: [], pairs: [], key: String(repeating: "cd", count: 32))
        XCTAssertThrowsError(try TaskRunner.run(spec, projectRoot: fx.root))
        XCTAssertNil(TaskCache(projectRoot: fx.root).result(spec.key))
        XCTAssertFalse(FileManager.default.fileExists(atPath: TaskCache(projectRoot: fx.root).dir(spec.key)))
    }
}
