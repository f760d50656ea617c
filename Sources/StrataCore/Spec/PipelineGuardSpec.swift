/// `guard:` in `pipeline.yaml`: when a stage may remove samples without stopping the run (docs/pipeline.md,
/// "The removal guard").
///
/// ```yaml
/// guard:
///   max_removed: 0.2       # a stage may quarantine at most this share of a source
///   max_duplicates: 0.5    # a dedup stage may remove at most this share of a source as duplicates
///   max_label_loss: 0.5    # no label may lose more than this share of its samples in one stage
///   min_removed: 10        # shares are not judged below this many removed samples of a source
///   accept: [quality]      # stages whose removals are accepted as they are
/// ```
public struct RemovalGuardSpec: Sendable, Equatable, Codable {
    public var maxRemoved = 0.2
    public var maxDuplicates = 0.5
    public var maxLabelLoss = 0.5
    public var minRemoved = 10
    /// A label is judged from this many removed samples on (a class of 4 losing 3 is a loss worth a stop).
    public var minLabelRemoved = 3
    public var accept: [String] = []

    public init() {}
}

extension PipelineSpec {
    static func decodeGuard(_ root: SpecNode, stageNames: [String]) -> RemovalGuardSpec? {
        var g = RemovalGuardSpec()
        guard let node = root.map("guard") else { return root.has("guard") ? nil : g }
        var ok = true
        func fraction(_ key: String, _ value: inout Double) {
            guard node.has(key) else { return }
            if let v = node.double(key, min: 0, max: 1, example: "0.2") { value = v } else { ok = false }
        }
        fraction("max_removed", &g.maxRemoved)
        fraction("max_duplicates", &g.maxDuplicates)
        fraction("max_label_loss", &g.maxLabelLoss)
        if node.has("min_removed") {
            if let v = node.int("min_removed", min: 1, example: "10") { g.minRemoved = v } else { ok = false }
        }
        if node.has("accept") {
            if let list = node.child("accept")?.asList() {
                for item in list {
                    guard let name = item.asString() else { ok = false; continue }
                    if !stageNames.contains(name) {
                        item.report("`\(name)` is not a stage of this pipeline",
                                    fix: "name a stage: \(stageNames.joined(separator: ", "))")
                        ok = false
                        continue
                    }
                    g.accept.append(name)
                }
            } else {
                ok = false
            }
        }
        node.finish()
        return ok ? g : nil
    }
}
