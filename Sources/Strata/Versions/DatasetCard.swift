import Foundation
import StrataCatalog
import StrataCore
import StrataStore

/// The dataset card written next to every export: `README.md` with the YAML header Hugging Face reads, then the
/// intent, labels, counts, known issues, excluded samples and lineage. Pure: built from the export's result and
/// what the version recorded (specs, summary); `Workspace.writeDatasetCard` reads those and writes the file.
struct DatasetCard {
    var projectName: String
    var splitSpec: SplitSpec
    var result: ExportResult
    var info: VersionInfo
    var modality: String
    /// Label names in rulebook order, then any other label of the version.
    var labelNames: [String]
    /// This export's members (a `--modality` export holds part of the version).
    var members: [VersionMemberRow]
    /// Sample id -> source.
    var sourceOf: [String: String]
    /// Samples of this export with a finding in the ledger, per kind (leakage pairs are counted apart).
    var findingCounts: [String: Int]
    var intent: IntentSpec?
    var rulebook: RulebookSpec?
    var pipeline: PipelineSpec?

    /// The whole card.
    var markdown: String {
        header + introduction + intentSection + labelsSection + countsSection + issuesSection + excludedSection + lineageSection
    }

    /// Split names in shard order.
    var splitNames: [String] { result.shards.reduce(into: [String]()) { if !$0.contains($1.split) { $0.append($1.split) } } }
    /// Counts of this export's own samples per label.
    var exported: [String: Int] { Workspace.labelCounts(members) }
    /// The labels this export has, in label order.
    var present: [String] { let exported = exported; return labelNames.filter { (exported[$0] ?? 0) > 0 } }
    /// The `datasets` loader name of the format.
    var hfFormat: String { ["parquet": "parquet", "jsonl": "json", "csv": "csv", "webdataset": "webdataset"][result.format]! }

    /// The YAML header Hugging Face reads (configs, features, split sizes).
    var header: String {
        let ext = ExportFormat(rawValue: result.format)!.fileExtension
        func yamlString(_ s: String) -> String { JSONValue.string(s).canonicalJSON }  // JSON strings are valid YAML
        var y = "---\n"
        y += "pretty_name: \(yamlString("\(projectName) \(info.name)"))\n"
        y += "task_categories:\n- \(modality)-classification\n"
        let n = result.samples
        let size = n < 1_000 ? "n<1K" : n < 10_000 ? "1K<n<10K" : n < 100_000 ? "10K<n<100K" : n < 1_000_000 ? "100K<n<1M" : n < 10_000_000 ? "1M<n<10M" : "10M<n<100M"
        y += "size_categories:\n- \(size)\n"
        y += "tags:\n- strata\n- strata-version-\(info.name)\n"
        y += "configs:\n- config_name: default\n  data_files:\n"
        for s in splitNames { y += "  - split: \(s)\n    path: \(yamlString("data/\(s)-*.\(ext)"))\n" }
        if result.format == "parquet" {
            y += "dataset_info:\n  features:\n"
            y += "  - name: id\n    dtype: string\n"
            y += modality == Modality.text.rawValue ? "  - name: content\n    dtype: string\n" : "  - name: content\n    dtype: \(modality)\n"
            for f in ["label", "split", "origin", "metadata"] { y += "  - name: \(f)\n    dtype: string\n" }
            y += "  splits:\n"
            for s in splitNames { y += "  - name: \(s)\n    num_examples: \(result.splits[s] ?? 0)\n" }
        }
        y += "---\n\n"
        return y
    }

    /// Title, origin and how to load it.
    var introduction: String {
        var md = ""
        md += "# \(projectName): dataset version \(info.name)\n\n"
        md += "Exported by Strata from version `\(info.name)` (id `\(info.id)`, \(info.state.rawValue)). Load it with `datasets`:\n\n"
        md += "```python\nfrom datasets import load_dataset\nds = load_dataset(\"\(hfFormat)\", data_dir=\"data\")\n```\n\n"
        if result.format != "parquet" && result.format != "webdataset" && modality != Modality.text.rawValue {
            md += "Images and audio are files under `files/<split>/`; the `content` column holds their relative path.\n\n"
        }
        return md
    }

    /// The intent recorded with the version.
    var intentSection: String {
        var md = ""
        md += "## Intent\n\n"
        if let intent {
            md += intent.useCase.trimmingCharacters(in: .whitespacesAndNewlines) + "\n\n"
            if !intent.environment.devices.isEmpty { md += "- Devices: \(intent.environment.devices.joined(separator: ", "))\n" }
            if !intent.inputs.good.isEmpty { md += "- Good inputs: \(intent.inputs.good.joined(separator: "; "))\n" }
            if !intent.inputs.bad.isEmpty { md += "- Bad inputs: \(intent.inputs.bad.joined(separator: "; "))\n" }
            if !intent.inputs.rare.isEmpty { md += "- Rare inputs: \(intent.inputs.rare.joined(separator: "; "))\n" }
            for m in intent.unacceptableMistakes {
                md += "- Unacceptable: predicting `\(m.predicted)` for `\(m.truth)` (at most \(m.maxRate * 100)%)\(m.why.map { ": \($0)" } ?? "")\n"
            }
            md += "\n"
        } else {
            md += "(no intent.yaml was recorded with this version)\n\n"
        }
        return md
    }

    /// Labels: the rulebook's definitions and this export's counts.
    var labelsSection: String {
        let exported = exported
        var md = ""
        md += "## Labels\n\n"
        // Counts of this export's own samples (a `--modality` export holds part of the version), and only the
        // labels it has; the rulebook's other labels are named on one line.
        if let rulebook, !rulebook.labels.isEmpty {
            let shown = rulebook.labels.filter { (exported[$0.name] ?? 0) > 0 }
            if !shown.isEmpty { md += "| label | definition | samples |\n|---|---|---|\n" }
            for l in shown {
                md += "| `\(l.name)` | \(l.definition.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "|", with: "\\|")) | \(exported[l.name] ?? 0) |\n"
            }
            let absent = rulebook.labels.filter { (exported[$0.name] ?? 0) == 0 }.map { "`\($0.name)`" }
            if !absent.isEmpty {
                md += "\(shown.isEmpty ? "" : "\n")No sample in this export has the label\(absent.count == 1 ? "" : "s") \(absent.joined(separator: ", ")).\n"
            }
            md += "\nEach sample's label is the consensus of its label events (\(VersionLabels.method)); "
            md += "\(rulebook.annotatorsPerSample) annotator(s) per sample are asked for.\n\n"
        } else {
            md += "(no rulebook labels)\n\n"
        }
        return md
    }

    /// Samples per split and label, and per source.
    var countsSection: String {
        let splitNames = splitNames, present = present
        var md = ""
        md += "## Counts\n\n| split | samples |" + present.map { " \($0) |" }.joined() + " unlabeled |\n"
        md += "|---|---|" + present.map { _ in "---|" }.joined() + "---|\n"
        var perSplit: [String: [String: Int]] = [:]
        var perSource: [String: Int] = [:]
        for m in members {
            perSplit[m.split, default: [:]][m.label ?? "", default: 0] += 1
            if let s = sourceOf[m.sampleId] { perSource[s, default: 0] += 1 }
        }
        for s in splitNames {
            let c = perSplit[s] ?? [:]
            md += "| \(s) | \(result.splits[s] ?? 0) |" + present.map { " \(c[$0] ?? 0) |" }.joined() + " \(c[""] ?? 0) |\n"
        }
        md += "\nBy source (slice): " + perSource.sorted { $0.key < $1.key }.map { "`\($0.key)` \($0.value)" }.joined(separator: ", ") + "\n\n"
        return md
    }

    /// Known issues: unresolved, pending, pseudo and missing labels, leakage, findings.
    var issuesSection: String {
        var md = ""
        md += "## Known issues\n\n"
        var issues: [String] = []
        if info.unresolvedLabels > 0 { issues.append("\(info.unresolvedLabels) sample(s) have no consensus label (a tie or low agreement); their `label` is empty.") }
        if info.pendingLabels > 0 { issues.append("\(info.pendingLabels) label(s) come from fewer annotators than the rulebook asks (\(rulebook?.annotatorsPerSample ?? 1)).") }
        if info.pseudoLabels > 0 { issues.append("\(info.pseudoLabels) label(s) are pseudo labels: a model's labels above per-class thresholds calibrated to a target precision, not checked by a person (marked `label_source: pseudo` in the version manifest; none in a test split).") }
        let unlabeled = members.filter { $0.label == nil }.count
        if unlabeled > 0 { issues.append("\(unlabeled) sample(s) are unlabeled.") }
        if !info.leakage.isEmpty {
            issues.append("\(info.leakage.count) duplicate pair(s) were found across splits: " +
                          "\(info.leakage.filter { $0.resolution.hasPrefix("dropped") }.count) resolved by dropping a sample, the rest reported.")
        }
        for (k, c) in findingCounts.sorted(by: { $0.key < $1.key }) { issues.append("\(c) sample(s) have a `\(k)` finding in the ledger.") }
        md += issues.isEmpty ? "None recorded.\n\n" : issues.map { "- " + $0 }.joined(separator: "\n") + "\n\n"
        return md
    }

    /// Samples left out at the user's request.
    var excludedSection: String {
        var md = ""
        if !info.excludedFindings.isEmpty {
            md += "## Excluded samples\n\n"
            for e in info.excludedFindings {
                md += "- \(e.samples) sample(s) with an open `\(e.kind)` finding were left out at the user's request "
                md += "(`strata version create --exclude-findings \(e.kind)`); their ids are under `excluded` in the version manifest.\n"
            }
            md += "\nLeaving flagged samples out removes them from every split, test included, so scores on this version "
            md += "are not comparable with a version that kept them.\n\n"
        }
        return md
    }

    /// Lineage: version, parent, label set, specs, pipeline, runs and splits.
    var lineageSection: String {
        var md = ""
        md += "## Lineage\n\n"
        md += "- Version: `\(info.name)` `\(info.id)` (created \(info.created))\(info.message.isEmpty ? "" : ": \(info.message)")\n"
        md += "- Parent: \(info.parent.map { "`\($0)`" } ?? "none")\n"
        md += "- Label set: `\(info.labelSet)`\n"
        for (file, d) in info.specs.sorted(by: { $0.key < $1.key }) { md += "- \(file): `\(d)`\n" }
        if let pipeline { md += "- Pipeline stages: " + pipeline.stages.map { "`\($0.name)` (\($0.uses))" }.joined(separator: ", ") + "\n" }
        if !info.runs.isEmpty { md += "- Runs: " + info.runs.map { "`\($0)`" }.joined(separator: ", ") + "\n" }
        md += "- Splits: " + splitSpec.ratios.map { "\($0.name) \(Int(($0.share * 100).rounded()))%" }.joined(separator: ", ")
            + " (sticky: a sample keeps the split it had in the parent version)\n"
        md += "\nEvery shard's SHA-256 is in `manifest.json`; `croissant.json` describes the same files for Croissant loaders.\n"
        return md
    }
}

/// The dataset card and Croissant description are written next to every export.
extension Workspace {
    func writeDatasetCard(_ r: ExportResult, info: VersionInfo, modality: String, labelNames: [String], members: [VersionMemberRow],
                          samples: [String: SampleRow], to dir: String) throws {
        var findingCounts: [String: Int] = [:]
        for k in try catalog.findingKinds(sampleIds: Set(members.map(\.sampleId))) where k.kind != FindingKind.leakage.rawValue {
            findingCounts[k.kind, default: 0] += 1
        }
        let card = DatasetCard(projectName: project.name, splitSpec: project.splits, result: r, info: info, modality: modality,
                               labelNames: labelNames, members: members, sourceOf: samples.mapValues(\.source),
                               findingCounts: findingCounts, intent: try versionIntent(info), rulebook: try versionRulebook(info),
                               pipeline: try versionPipeline(info))
        try FileIO.writeAtomically(dir + "/README.md", Array(card.markdown.utf8))
    }

    /// Members per label, unlabeled ones as `(none)` (the shape of a version's own label counts).
    static func labelCounts(_ members: [VersionMemberRow]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for m in members { counts[m.label ?? "(none)", default: 0] += 1 }
        return counts
    }
}
