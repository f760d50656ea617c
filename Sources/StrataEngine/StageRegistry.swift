import Foundation
import StrataCore

/// Builds stages from `pipeline.yaml` entries: stage kind (`uses`) -> implementation.
public enum StageRegistry {
    public static let kinds = ["clean.text", "clean.image", "clean.audio", "dedup.exact", "dedup.near", "filter.quality", "command"]

    public static func build(_ spec: PipelineSpec.Stage) throws -> BuiltStage {
        var p = StageParams(stage: spec.name, values: spec.params)
        let built: BuiltStage
        switch spec.uses {
        case "clean.text": built = .map(try CleanTextStage(&p))
        case "clean.image": built = .map(try CleanImageStage(&p))
        case "clean.audio": built = .map(try CleanAudioStage(&p))
        case "dedup.exact": built = .global(try ExactDedupStage(&p))
        case "dedup.near": built = .global(try NearDedupStage(&p))
        case "filter.quality": built = .map(try QualityFilterStage(&p))
        case "command":
            guard let command = spec.command else { throw StageError("stage `\(spec.name)`: `uses: command` needs `command:`") }
            built = .map(try CommandStage(name: spec.name, command: command, &p))
        default:
            let hint = Suggestion.closest(to: spec.uses, in: kinds)
            throw StageError("stage `\(spec.name)`: unknown stage kind `\(spec.uses)`\(hint.map { " (did you mean `\($0)`?)" } ?? ""); known kinds: \(kinds.joined(separator: ", "))")
        }
        try p.finish()
        return built
    }
}
