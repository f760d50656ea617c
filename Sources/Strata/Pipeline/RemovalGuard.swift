import Foundation
import StrataCore
import StrataEngine
import StrataQuality

/// What one stage removed, per source and per label, with examples: kept in the run's report, printed by
/// `strata run --preview`, and what the removal guard judges.
public struct StageRemovals: Codable, Sendable {
    public struct Counts: Codable, Sendable, Equatable {
        public var inputs = 0
        public var quarantined = 0
        public var duplicates = 0
        /// Removals by kind (quarantine reasons and finding kinds).
        public var reasons: [String: Int] = [:]
        public var removed: Int { quarantined + duplicates }
    }

    public struct Example: Codable, Sendable, Equatable {
        public var origin: String
        public var line: Int?
        public var kind: String
        public var reason: String
        var place: String { line.map { "\(origin):\($0)" } ?? origin }
    }

    public var stage: String
    public var uses: String
    public var sources: [String: Counts]
    /// Labels of the samples (the label store's consensus, else the most voted label); samples without one are not counted.
    public var labels: [String: Counts]
    /// Up to three removed samples per source and kind, in input order.
    public var examples: [String: [Example]]
    /// Up to three removed samples per label, in input order.
    public var labelExamples: [String: [Example]]?

    init(stage: PipelineSpec.Stage, outcomes: [ItemOutcome], labels: [String: String]) {
        self.stage = stage.name
        uses = stage.uses
        var sources: [String: Counts] = [:], byLabel: [String: Counts] = [:], examples: [String: [Example]] = [:]
        var labelExamples: [String: [Example]] = [:]
        func add(_ c: inout Counts, _ o: ItemOutcome) {
            c.inputs += 1
            switch o {
            case .keep: break
            case .reject(_, let kind, _): c.quarantined += 1; c.reasons[kind, default: 0] += 1
            case .duplicate(_, _, let kind, _): c.duplicates += 1; c.reasons[kind, default: 0] += 1
            }
        }
        for o in outcomes {
            let item: WorkItem
            switch o {
            case .keep(let i): item = i
            case .reject(let i, let kind, let reason), .duplicate(let i, _, let kind, let reason):
                item = i
                let key = item.source + "\u{1}" + kind
                let example = Example(origin: item.origin, line: item.line, kind: kind, reason: reason)
                if examples[key, default: []].count < 3 { examples[key, default: []].append(example) }
                if let l = labels[item.sample], labelExamples[l, default: []].count < 3 { labelExamples[l, default: []].append(example) }
            }
            add(&sources[item.source, default: Counts()], o)
            if let l = labels[item.sample] { add(&byLabel[l, default: Counts()], o) }
        }
        self.sources = sources
        self.labels = byLabel
        self.examples = examples
        self.labelExamples = labelExamples
    }

    func examples(source: String) -> [Example] {
        examples.filter { $0.key.hasPrefix(source + "\u{1}") }.sorted { $0.key < $1.key }.flatMap(\.value)
    }
}

/// One breach of the removal guard.
public struct GuardBreach: Codable, Sendable, Equatable {
    public var stage: String
    public var uses: String
    /// "source" or "label".
    public var scope: String
    public var name: String
    public var inputs: Int
    public var removed: Int
    /// "quarantine", "duplicates" or "removed" (both).
    public var removal: String
    /// The `guard:` setting broken and its value.
    public var setting: String
    public var limit: Double
    public var reasons: [String: Int]
    public var examples: [StageRemovals.Example]
}

/// The removal guard (docs/pipeline.md, "The removal guard"): a stage that quarantines more than `max_removed` of a
/// source, removes more than `max_duplicates` of a source as duplicates, or takes more than `max_label_loss` of a
/// label's samples stops the run before anything is published.
enum RemovalGuard {
    static func breaches(_ r: StageRemovals, spec: RemovalGuardSpec) -> [GuardBreach] {
        var out: [GuardBreach] = []
        for (source, c) in r.sources.sorted(by: { $0.key < $1.key }) where c.inputs > 0 {
            let examples = r.examples(source: source)
            if c.quarantined >= spec.minRemoved, Double(c.quarantined) > spec.maxRemoved * Double(c.inputs) {
                let reasons = c.reasons.filter { k, _ in examples.contains { $0.kind == k && !isDuplicateKind(k) } }
                out.append(GuardBreach(stage: r.stage, uses: r.uses, scope: "source", name: source, inputs: c.inputs, removed: c.quarantined,
                                       removal: "quarantine", setting: "guard.max_removed", limit: spec.maxRemoved, reasons: reasons,
                                       examples: Array(examples.filter { !isDuplicateKind($0.kind) }.prefix(3))))
            }
            if c.duplicates >= spec.minRemoved, Double(c.duplicates) > spec.maxDuplicates * Double(c.inputs) {
                let reasons = c.reasons.filter { k, _ in isDuplicateKind(k) }
                out.append(GuardBreach(stage: r.stage, uses: r.uses, scope: "source", name: source, inputs: c.inputs, removed: c.duplicates,
                                       removal: "duplicates", setting: "guard.max_duplicates", limit: spec.maxDuplicates, reasons: reasons,
                                       examples: Array(examples.filter { isDuplicateKind($0.kind) }.prefix(3))))
            }
        }
        for (label, c) in r.labels.sorted(by: { $0.key < $1.key }) where c.removed >= spec.minLabelRemoved {
            if Double(c.removed) > spec.maxLabelLoss * Double(c.inputs) {
                out.append(GuardBreach(stage: r.stage, uses: r.uses, scope: "label", name: label, inputs: c.inputs, removed: c.removed,
                                       removal: "removed", setting: "guard.max_label_loss", limit: spec.maxLabelLoss, reasons: c.reasons,
                                       examples: r.labelExamples?[label] ?? []))
            }
        }
        return out
    }

    /// Finding kinds of dedup stages (`exact-duplicate`, `near-duplicate`, ...).
    static func isDuplicateKind(_ kind: String) -> Bool { kind.hasSuffix("duplicate") }

    /// The parameter(s) of the stage that decide `kinds`, for the advice.
    static func parameters(uses: String, kinds: [String]) -> String {
        switch uses {
        case "filter.quality":
            let names = kinds.map { k in "\(k): \(QualityFilterStageParameters.of(k) ?? "see docs/pipeline.md")" }
            return names.joined(separator: "; ") + "; or `disable: [\(kinds.joined(separator: ", "))]`"
        case "dedup.near": return "threshold (text), image_max_distance (images), audio_min_similarity (audio)"
        case "dedup.exact": return "none (exact copies); accept them if they are expected"
        case "clean.text": return "min_length / max_length"
        default: return "the stage's params"
        }
    }

    static func percent(_ n: Int, of d: Int) -> String { String(format: "%.1f%%", d == 0 ? 0 : 100 * Double(n) / Double(d)) }

    /// The message of a run stopped by the guard: every breach of the stage, then the two ways on.
    static func message(_ breaches: [GuardBreach]) -> (message: String, fix: String) {
        let stage = breaches[0].stage, uses = breaches[0].uses
        var lines: [String] = ["the removal guard stopped the run at stage `\(stage)` (\(uses)):"]
        var kinds: [String] = []
        for b in breaches {
            let verb = b.removal == "quarantine" ? "quarantine" : b.removal == "duplicates" ? "remove as duplicates" : "remove"
            let share = String(format: "%.0f%%", b.limit * 100)
            lines.append("  \(b.scope) `\(b.name)`: would \(verb) \(b.removed) of \(b.inputs) samples (\(percent(b.removed, of: b.inputs))), above \(b.setting) \(share)")
            let reasons = b.reasons.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            lines.append("    by reason: " + reasons.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            for k in reasons.map(\.key) where !kinds.contains(k) { kinds.append(k) }
            for e in b.examples { lines.append("    e.g. \(e.place): \(e.kind): \(e.reason)") }
        }
        lines.append("nothing was published: data/cleaned, the cleaned set and the quarantine ledger are as they were")
        let fix = """
            either adjust the parameter of stage `\(stage)` in pipeline.yaml (\(parameters(uses: uses, kinds: kinds))) and check with `strata run --preview`,
                   or accept these removals: `strata run --accept-removals \(stage)`, or `guard: {accept: [\(stage)]}` in pipeline.yaml
            """
        return (lines.joined(separator: "\n"), fix)
    }

    /// `strata run --preview`'s text for one stage.
    static func previewText(_ r: StageRemovals, guardSpec: RemovalGuardSpec) -> String {
        var out = "\(r.stage) (\(r.uses)):\n"
        let removing = r.sources.filter { $0.value.removed > 0 }
        if removing.isEmpty { out += "  removes nothing\n" }
        for (source, c) in r.sources.sorted(by: { $0.key < $1.key }) where c.removed > 0 {
            let reasons = c.reasons.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            out += "  source `\(source)`: \(c.removed) of \(c.inputs) (\(percent(c.removed, of: c.inputs))): \(reasons.joined(separator: ", "))\n"
            for e in r.examples(source: source) { out += "    e.g. \(e.place): \(e.kind): \(e.reason)\n" }
        }
        for (label, c) in r.labels.sorted(by: { $0.key < $1.key }) where c.removed > 0 {
            out += "  label `\(label)`: \(c.removed) of \(c.inputs) (\(percent(c.removed, of: c.inputs)))\n"
        }
        let breaches = breaches(r, spec: guardSpec)
        for b in breaches {
            out += "  GUARD: \(b.scope) `\(b.name)` above \(b.setting) \(String(format: "%.0f%%", b.limit * 100))"
                + (guardSpec.accept.contains(r.stage) ? " (accepted in pipeline.yaml)" : "") + "\n"
        }
        return out
    }
}

extension Workspace {
    /// `strata run --preview`: per stage, what it would remove; then what would be left.
    public func previewText(_ report: RunReport) -> String {
        let guardSpec = (try? pipeline().removalGuard) ?? RemovalGuardSpec()
        var out = "preview (nothing written): \(report.stages.first.map { String($0.counts.inputs) } ?? "0") samples in\n"
        for r in report.removals ?? [] { out += RemovalGuard.previewText(r, guardSpec: guardSpec) }
        out += "would publish \(report.cleaned) samples to data/cleaned/\n"
        return out
    }

    /// `strata runs show`: removals per stage, source and label (only where a stage removed something).
    public func removalsText(_ removals: [StageRemovals]) -> String {
        var out = ""
        for r in removals {
            for (source, c) in r.sources.sorted(by: { $0.key < $1.key }) where c.removed > 0 {
                out += "  \(r.stage) source `\(source)`: \(c.inputs) in, \(c.quarantined) quarantined, \(c.duplicates) duplicates\n"
            }
            for (label, c) in r.labels.sorted(by: { $0.key < $1.key }) where c.removed > 0 {
                out += "  \(r.stage) label `\(label)`: \(c.inputs) in, \(c.removed) removed\n"
            }
        }
        return out
    }
}
