import Foundation
import StrataCore
import StrataEngine

/// What a run will do, decided from pipeline.yaml and the options alone: the data stages (built, so bad parameters
/// fail before any work), the label stages that follow them, which stages ignore their cache, and the pipeline's
/// hash. The shards and cache keys of each stage's tasks come from the engine's `StagePlanner` once the items are known.
struct RunPlan: Sendable {
    var stages: [(spec: PipelineSpec.Stage, built: BuiltStage)]
    var labelStages: [(spec: PipelineSpec.Stage, options: PseudoLabelOptions)]
    /// Stages at this position and after ignore cached task results (`--force`: 0; `--from S`: S's position).
    var forceFrom: Int
    /// Stages whose removals the removal guard lets through (`--accept-removals` and `removal_guard.accept`).
    var accepted: Set<String>
    /// A short hash of the data stages' names, kinds, parameters and commands (recorded with the run).
    var pipelineHash: String

    func forced(_ position: Int) -> Bool { position >= forceFrom }
    var stageNames: [String] { stages.map(\.spec.name) }
    var labelStageNames: [String] { labelStages.map(\.spec.name) }
}

/// Plans a run from plain values. `checkModel` is asked about the model of each label stage as it is met (the only
/// fact the plan needs from the catalog); it throws when the model has no predictions.
enum RunPlanner {
    static func plan(_ spec: PipelineSpec, options: RunOptions, checkModel: (String) throws -> Void) throws -> RunPlan {
        // Build every stage first: bad parameters fail before any work. Label stages (`label.pseudo`) work on the
        // catalog after the cleaned set is published, so they come after every data stage.
        var stages: [(spec: PipelineSpec.Stage, built: BuiltStage)] = []
        var labelStages: [(spec: PipelineSpec.Stage, options: PseudoLabelOptions)] = []
        var stageProblems: [String] = []
        for s in spec.stages {
            if s.uses == PseudoLabelOptions.stageKind {
                let opts: PseudoLabelOptions
                do { opts = try PseudoLabelOptions(stage: s) } catch {
                    throw StrataError.project("pipeline.yaml: \(error)", fix: "fix the stage's parameters; see docs/pipeline.md (`label.pseudo`)")
                }
                labelStages.append((s, opts))
                try checkModel(opts.model)
                continue
            }
            if let first = labelStages.first {
                throw StrataError.project("pipeline.yaml: stage `\(s.name)` comes after the label stage `\(first.spec.name)`",
                                          fix: "put `uses: \(PseudoLabelOptions.stageKind)` stages after every data stage: they label the cleaned set")
            }
            // Every stage is built, so that the problems of all stages are reported at once (each with its line).
            do { stages.append((s, try StageRegistry.build(s))) } catch {
                stageProblems.append("pipeline.yaml:\(s.line.map(String.init) ?? "?"): \(error)")
            }
        }
        if !stageProblems.isEmpty {
            throw StrataError.project(stageProblems.count == 1 ? stageProblems[0] : "\(stageProblems.count) problems in pipeline.yaml:\n  " + stageProblems.joined(separator: "\n  "),
                                      fix: "fix the stages' parameters (docs/pipeline.md); `strata check` validates pipeline.yaml")
        }
        if let last = options.stage, let idx = labelStages.firstIndex(where: { $0.spec.name == last }) {
            labelStages = Array(labelStages[...idx])
        } else if options.stage != nil {
            labelStages = []
        }
        if stages.isEmpty && labelStages.isEmpty {
            throw StrataError.project("pipeline.yaml has no stages", fix: "add stages (see the commented examples in pipeline.yaml), or run `strata init --force` for the default pipeline")
        }
        for name in [options.stage, options.from].compactMap({ $0 }) + options.acceptRemovals where spec.stage(named: name) == nil {
            throw StrataError.usage("no stage `\(name)` in pipeline.yaml (stages: \(spec.stages.map(\.name).joined(separator: ", ")))")
        }
        if let last = options.stage, let idx = stages.firstIndex(where: { $0.spec.name == last }) { stages = Array(stages[...idx]) }
        let forceFrom = options.force ? 0 : (options.from.flatMap { f in stages.firstIndex { $0.spec.name == f } } ?? Int.max)
        let pipelineHash = Workspace.shortHash(stages.map {
            "\($0.spec.name) \($0.spec.uses) \(SpecValue.map($0.spec.params).canonicalJSON) \($0.spec.command ?? "")"
        }.joined(separator: "\n"))
        return RunPlan(stages: stages, labelStages: labelStages, forceFrom: forceFrom,
                       accepted: Set(options.acceptRemovals + spec.removalGuard.accept), pipelineHash: pipelineHash)
    }
}
