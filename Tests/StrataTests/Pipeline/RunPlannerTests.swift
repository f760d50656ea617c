import StrataCore
import StrataEngine
import XCTest
@testable import Strata

/// The run planner decides from pipeline.yaml and the options alone: no project, no disk.
final class RunPlannerTests: XCTestCase {
    static let yaml = """
        version: 1
        stages:
          - name: clean
            uses: clean.text
          - name: exact
            uses: dedup.exact
          - name: near
            uses: dedup.near
            params: {threshold: 0.9}
          - name: pseudo
            uses: label.pseudo
            params: {model: m1}
        guard:
          accept: [near]
        """

    func spec(_ text: String = RunPlannerTests.yaml) throws -> PipelineSpec { try PipelineSpec.decode(yaml: text, file: "pipeline.yaml") }

    func testPlanKeepsStageOrderSplitsLabelStagesAndAsksForEachModel() throws {
        var asked: [String] = []
        let plan = try RunPlanner.plan(try spec(), options: RunOptions(acceptRemovals: ["exact"])) { asked.append($0) }
        XCTAssertEqual(plan.stageNames, ["clean", "exact", "near"])
        XCTAssertEqual(plan.labelStageNames, ["pseudo"])
        XCTAssertEqual(asked, ["m1"])
        XCTAssertEqual(plan.accepted, ["exact", "near"])
        XCTAssertEqual(plan.forceFrom, Int.max)
        XCTAssertFalse(plan.forced(0))
        XCTAssertEqual(plan.pipelineHash.count, 16)
    }

    func testStageAndFromAndForce() throws {
        let upToExact = try RunPlanner.plan(try spec(), options: RunOptions(stage: "exact")) { _ in }
        XCTAssertEqual(upToExact.stageNames, ["clean", "exact"])
        XCTAssertEqual(upToExact.labelStageNames, [], "stopping at a data stage leaves the label stages out")
        let from = try RunPlanner.plan(try spec(), options: RunOptions(from: "exact")) { _ in }
        XCTAssertEqual(from.forceFrom, 1)
        XCTAssertEqual([0, 1, 2].map(from.forced), [false, true, true])
        XCTAssertEqual(try RunPlanner.plan(try spec(), options: RunOptions(force: true)) { _ in }.forceFrom, 0)
    }

    func testTheHashFollowsTheParametersOfTheStagesThatRun() throws {
        let a = try RunPlanner.plan(try spec(), options: RunOptions()) { _ in }
        let b = try RunPlanner.plan(try spec(RunPlannerTests.yaml.replacingOccurrences(of: "0.9", with: "0.8")), options: RunOptions()) { _ in }
        let c = try RunPlanner.plan(try spec(), options: RunOptions()) { _ in }
        XCTAssertNotEqual(a.pipelineHash, b.pipelineHash)
        XCTAssertEqual(a.pipelineHash, c.pipelineHash)
    }

    func testEveryBadStageIsReportedAtOnceWithItsLine() throws {
        let text = """
            version: 1
            stages:
              - name: near
                uses: dedup.near
                params: {treshold: 0.9}
              - name: exact
                uses: dedup.exact
                params: {bogus: 1}
            """
        XCTAssertThrowsError(try RunPlanner.plan(try spec(text), options: RunOptions()) { _ in }) { error in
            let e = error as? StrataError
            let lines = e?.message.components(separatedBy: "\n") ?? []
            XCTAssertEqual(lines.count, 3, "\(error)")
            XCTAssertEqual(lines.first, "2 problems in pipeline.yaml:")
            // (The list of dedup.near's parameters after `known:` grows with the stage; the rest is pinned.)
            XCTAssertEqual(lines.dropFirst().first?.hasPrefix("  pipeline.yaml:3: stage `near`: unknown parameter `treshold` (did you mean `threshold`?); known: "),
                           true, "\(error)")
            XCTAssertEqual(lines.last, "  pipeline.yaml:6: stage `exact`: unknown parameter `bogus`; known: keep, normalize")
            XCTAssertEqual(e?.fix, "fix the stages' parameters (docs/pipeline.md); `strata check` validates pipeline.yaml")
        }
    }

    func testUnknownStageNamesAndDataStagesAfterLabelStagesAreRefused() throws {
        XCTAssertThrowsError(try RunPlanner.plan(try spec(), options: RunOptions(acceptRemovals: ["nope"])) { _ in }) { error in
            XCTAssertEqual((error as? StrataError)?.message, "no stage `nope` in pipeline.yaml (stages: clean, exact, near, pseudo)")
        }
        let late = RunPlannerTests.yaml.replacingOccurrences(of: "guard:", with: "  - name: late\n    uses: dedup.exact\nguard:")
        XCTAssertThrowsError(try RunPlanner.plan(try spec(late), options: RunOptions()) { _ in }) { error in
            XCTAssertEqual((error as? StrataError)?.message, "pipeline.yaml: stage `late` comes after the label stage `pseudo`")
        }
        XCTAssertThrowsError(try RunPlanner.plan(try spec("version: 1\nstages: []\n"), options: RunOptions()) { _ in }) { error in
            XCTAssertEqual((error as? StrataError)?.message, "pipeline.yaml has no stages")
        }
    }

    func testAModelWithoutPredictionsStopsThePlan() throws {
        struct NoModel: Error {}
        XCTAssertThrowsError(try RunPlanner.plan(try spec(), options: RunOptions()) { _ in throw NoModel() }) { error in
            XCTAssertTrue(error is NoModel)
        }
    }
}
