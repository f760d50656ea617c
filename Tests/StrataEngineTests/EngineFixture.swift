import Foundation
import StrataCore
import StrataEngine
import StrataStore
import XCTest

/// A temporary project folder with text samples under `data/` (no catalog: the engine never opens one).
struct EngineFixture {
    let root: String

    init() throws {
        root = NSTemporaryDirectory() + "strata-engine-\(UUID().uuidString)"
        try FileIO.makeDirectories(root + "/data")
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    /// Writes `texts` as `data/<n>.txt` and returns one raw work item per text, in order.
    func items(_ texts: [String]) throws -> [WorkItem] {
        try texts.enumerated().map { n, text in
            let rel = "data/\(n).txt"
            let bytes = Array(text.utf8)
            try FileIO.writeAtomically(root + "/" + rel, bytes, sync: false)
            let sha = FileIO.sha256(bytes)
            return WorkItem(id: sha, sample: sha, source: "data", modality: "text", format: "txt", content: .raw(path: rel), origin: rel,
                            line: nil, collected: "2026-12-01T00:00:00Z", size: bytes.count)
        }
    }

    func planner(run: String, stage: PipelineSpec.Stage, shardSize: Int) throws -> StagePlanner {
        StagePlanner(runId: run, runDir: root + "/.strata/runs/" + run, projectRoot: root, stage: stage,
                     built: try StageRegistry.build(stage), shardSize: shardSize)
    }

    /// Plans `stage` over `items` and runs its steps on the inline executor; returns the outcomes and every step's
    /// tasks, in the order they ran.
    func run(_ stage: PipelineSpec.Stage, _ items: [WorkItem], run: String = "run-1", shardSize: Int = 2) throws
        -> (outcomes: [ItemOutcome], steps: [[TaskSpec]], results: [TaskResult]) {
        let planner = try planner(run: run, stage: stage, shardSize: shardSize)
        let results = Locked<[TaskResult]>([])
        var steps: [[TaskSpec]] = []
        let outcomes = try planner.run(items: items) { tasks in
            steps.append(tasks)
            try InlineExecutor().execute(tasks, projectRoot: root, retries: 0) { r in results.withLock { $0.append(r) } }
        }
        return (outcomes, steps, results.value)
    }
}

extension ItemOutcome {
    /// `keep`, `reject:<kind>` or `duplicate:<kind>`, for compact assertions.
    var summary: String {
        switch self {
        case .keep: "keep"
        case .reject(_, let kind, _): "reject:" + kind
        case .duplicate(_, _, let kind, _): "duplicate:" + kind
        }
    }
}
