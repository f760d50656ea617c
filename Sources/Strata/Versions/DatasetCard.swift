import Foundation
import StrataCatalog
import StrataCore
import StrataStore

/// The dataset card (`README.md` with the YAML header Hugging Face reads) and the Croissant description
/// (`croissant.json`, MLCommons JSON-LD with the Responsible-AI fields) written next to every export.
extension Workspace {
    func writeDatasetCard(_ r: ExportResult, info: VersionInfo, modality: String, labelNames: [String], members: [VersionMemberRow],
                          samples: [String: SampleRow], to dir: String) throws {
        let intent = try versionIntent(info)
        let rulebook = try versionRulebook(info)
        let pipeline = try versionPipeline(info)
        let splitNames = r.shards.reduce(into: [String]()) { if !$0.contains($1.split) { $0.append($1.split) } }
        let ext = ExportFormat(rawValue: r.format)!.fileExtension
        let hfFormat = ["parquet": "parquet", "jsonl": "json", "csv": "csv", "webdataset": "webdataset"][r.format]!
        func yamlString(_ s: String) -> String { JSONValue.string(s).canonicalJSON }  // JSON strings are valid YAML
        var y = "---\n"
        y += "pretty_name: \(yamlString("\(project.name) \(info.name)"))\n"
        y += "task_categories:\n- \(modality)-classification\n"
        let n = r.samples
        let size = n < 1_000 ? "n<1K" : n < 10_000 ? "1K<n<10K" : n < 100_000 ? "10K<n<100K" : n < 1_000_000 ? "100K<n<1M" : n < 10_000_000 ? "1M<n<10M" : "10M<n<100M"
        y += "size_categories:\n- \(size)\n"
        y += "tags:\n- strata\n- strata-version-\(info.name)\n"
        y += "configs:\n- config_name: default\n  data_files:\n"
        for s in splitNames { y += "  - split: \(s)\n    path: \(yamlString("data/\(s)-*.\(ext)"))\n" }
        if r.format == "parquet" {
            y += "dataset_info:\n  features:\n"
            y += "  - name: id\n    dtype: string\n"
            y += modality == "text" ? "  - name: content\n    dtype: string\n" : "  - name: content\n    dtype: \(modality)\n"
            for f in ["label", "split", "origin", "metadata"] { y += "  - name: \(f)\n    dtype: string\n" }
            y += "  splits:\n"
            for s in splitNames { y += "  - name: \(s)\n    num_examples: \(r.splits[s] ?? 0)\n" }
        }
        y += "---\n\n"

        var md = y
        md += "# \(project.name): dataset version \(info.name)\n\n"
        md += "Exported by Strata from version `\(info.name)` (id `\(info.id)`, \(info.state)). Load it with `datasets`:\n\n"
        md += "```python\nfrom datasets import load_dataset\nds = load_dataset(\"\(hfFormat)\", data_dir=\"data\")\n```\n\n"
        if r.format != "parquet" && r.format != "webdataset" && modality != "text" {
            md += "Images and audio are files under `files/<split>/`; the `content` column holds their relative path.\n\n"
        }
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
        md += "## Labels\n\n"
        // Counts of this export's own samples (a `--modality` export holds part of the version), and only the
        // labels it has; the rulebook's other labels are named on one line.
        let exported = Workspace.labelCounts(members)
        let present = labelNames.filter { (exported[$0] ?? 0) > 0 }
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
        md += "## Counts\n\n| split | samples |" + present.map { " \($0) |" }.joined() + " unlabeled |\n"
        md += "|---|---|" + present.map { _ in "---|" }.joined() + "---|\n"
        var perSplit: [String: [String: Int]] = [:]
        var perSource: [String: Int] = [:]
        for m in members {
            perSplit[m.split, default: [:]][m.label ?? "", default: 0] += 1
            if let s = samples[m.sampleId] { perSource[s.source, default: 0] += 1 }
        }
        for s in splitNames {
            let c = perSplit[s] ?? [:]
            md += "| \(s) | \(r.splits[s] ?? 0) |" + present.map { " \(c[$0] ?? 0) |" }.joined() + " \(c[""] ?? 0) |\n"
        }
        md += "\nBy source (slice): " + perSource.sorted { $0.key < $1.key }.map { "`\($0.key)` \($0.value)" }.joined(separator: ", ") + "\n\n"
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
        let kinds = try catalog.findingKinds(sampleIds: Set(members.map(\.sampleId)))
        var byKind: [String: Int] = [:]
        for k in kinds where k.kind != "leakage" { byKind[k.kind, default: 0] += 1 }
        for (k, c) in byKind.sorted(by: { $0.key < $1.key }) { issues.append("\(c) sample(s) have a `\(k)` finding in the ledger.") }
        md += issues.isEmpty ? "None recorded.\n\n" : issues.map { "- " + $0 }.joined(separator: "\n") + "\n\n"
        if !info.excludedFindings.isEmpty {
            md += "## Excluded samples\n\n"
            for e in info.excludedFindings {
                md += "- \(e.samples) sample(s) with an open `\(e.kind)` finding were left out at the user's request "
                md += "(`strata version create --exclude-findings \(e.kind)`); their ids are under `excluded` in the version manifest.\n"
            }
            md += "\nLeaving flagged samples out removes them from every split, test included, so scores on this version "
            md += "are not comparable with a version that kept them.\n\n"
        }
        md += "## Lineage\n\n"
        md += "- Version: `\(info.name)` `\(info.id)` (created \(info.created))\(info.message.isEmpty ? "" : ": \(info.message)")\n"
        md += "- Parent: \(info.parent.map { "`\($0)`" } ?? "none")\n"
        md += "- Label set: `\(info.labelSet)`\n"
        for (file, d) in info.specs.sorted(by: { $0.key < $1.key }) { md += "- \(file): `\(d)`\n" }
        if let pipeline { md += "- Pipeline stages: " + pipeline.stages.map { "`\($0.name)` (\($0.uses))" }.joined(separator: ", ") + "\n" }
        if !info.runs.isEmpty { md += "- Runs: " + info.runs.map { "`\($0)`" }.joined(separator: ", ") + "\n" }
        md += "- Splits: " + project.splits.ratios.map { "\($0.name) \(Int(($0.share * 100).rounded()))%" }.joined(separator: ", ")
            + " (sticky: a sample keeps the split it had in the parent version)\n"
        md += "\nEvery shard's SHA-256 is in `manifest.json`; `croissant.json` describes the same files for Croissant loaders.\n"
        try FileIO.writeAtomically(dir + "/README.md", Array(md.utf8))
    }

    /// Members per label, unlabeled ones as `(none)` (the shape of a version's own label counts).
    static func labelCounts(_ members: [VersionMemberRow]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for m in members { counts[m.label ?? "(none)", default: 0] += 1 }
        return counts
    }

    func writeCroissant(_ r: ExportResult, info: VersionInfo, modality: String, to dir: String) throws {
        let intent = try versionIntent(info)
        let rulebook = try versionRulebook(info)
        let pipeline = try versionPipeline(info)
        let (encoding, ext) = switch r.format {
        case "parquet": ("application/x-parquet", "parquet")
        case "jsonl": ("application/jsonlines", "jsonl")
        case "csv": ("text/csv", "csv")
        default: ("application/x-tar", "tar")
        }
        var distribution: [JSONValue] = []
        for s in r.shards {
            distribution.append(.object([
                "@type": "cr:FileObject", "@id": .string(s.path), "name": .string(s.path), "contentUrl": .string(s.path),
                "encodingFormat": .string(encoding), "sha256": .string(s.sha256), "contentSize": .string("\(s.bytes) B"),
            ]))
        }
        distribution.append(.object([
            "@type": "cr:FileSet", "@id": "shards", "name": "shards", "encodingFormat": .string(encoding),
            "includes": .string("data/*.\(ext)"),
        ]))
        func field(_ name: String, _ type: String, _ description: String, jsonPath: String? = nil) -> JSONValue {
            var source: [String: JSONValue] = ["fileSet": .object(["@id": "shards"])]
            source["extract"] = r.format == "webdataset" ? .object(["fileProperty": "content"]) : .object(["column": .string(name)])
            if let jsonPath { source["transform"] = .object(["jsonPath": .string(jsonPath)]) }
            return .object([
                "@type": "cr:Field", "@id": .string("samples/\(name)"), "name": .string(name), "description": .string(description),
                "dataType": .string(type), "source": .object(source),
            ])
        }
        // Media content: in Parquet a struct of `bytes` and `path` (Hugging Face's Image/Audio layout), read through
        // its `bytes`; in JSONL and CSV the path of the file, relative to the export folder.
        let content: JSONValue
        if modality == "text" {
            content = field("content", "sc:Text", "the text")
        } else if r.format == "parquet" {
            content = field("content", modality == "image" ? "sc:ImageObject" : "sc:AudioObject",
                            "the \(modality)'s bytes (the column is a struct of bytes and file name)", jsonPath: "bytes")
        } else {
            content = field("content", "sc:Text", "path of the \(modality) file, relative to this folder")
        }
        var fields: [JSONValue] = r.format == "webdataset" ? [] : [
            field("id", "sc:Text", "SHA-256 of the sample's raw content"),
            content,
            field("label", "sc:Text", "consensus label (empty when unresolved or unlabeled)"),
            field("split", "sc:Text", "train/validation/test assignment"),
            field("origin", "sc:Text", "where the raw sample was collected (path and line)"),
        ]
        // In JSONL `metadata` is a nested object of any shape, which a Croissant field cannot type (a loader casts it
        // to text and fails), so the record set leaves it out there; Parquet and CSV hold it as JSON text.
        if r.format == "parquet" || r.format == "csv" {
            fields.append(field("metadata", "sc:Text", "JSON: source, collection date, format, transforms and the sample's own fields"))
        }
        var doc: [String: JSONValue] = [
            "@context": Workspace.croissantContext,
            "@type": "sc:Dataset",
            "conformsTo": .array(["http://mlcommons.org/croissant/1.0", "http://mlcommons.org/croissant/RAI/1.0"]),
            "name": .string("\(project.name)-\(info.name)"),
            "description": .string(intent?.useCase.trimmingCharacters(in: .whitespacesAndNewlines) ?? "Dataset version \(info.name) of \(project.name)"),
            "version": .string(Workspace.croissantVersion(info.name)),
            "identifier": .string(info.id),
            "datePublished": .string(String(info.created.prefix(10))),
            "url": .string("README.md"),
            "distribution": .array(distribution),
        ]
        if !fields.isEmpty {
            doc["recordSet"] = .array([.object(["@type": "cr:RecordSet", "@id": "samples", "name": "samples", "key": .object(["@id": "samples/id"]),
                                                 "field": .array(fields)])])
        }
        // Responsible-AI fields filled from the intent, rulebook and pipeline recorded with the version.
        if let intent {
            doc["rai:dataUseCases"] = .string(intent.useCase.trimmingCharacters(in: .whitespacesAndNewlines))
            var limits: [String] = []
            if !intent.inputs.bad.isEmpty { limits.append("Known bad inputs: " + intent.inputs.bad.joined(separator: "; ")) }
            if !intent.inputs.messy.isEmpty { limits.append("Messy inputs: " + intent.inputs.messy.joined(separator: "; ")) }
            if !intent.inputs.rare.isEmpty { limits.append("Rare inputs: " + intent.inputs.rare.joined(separator: "; ")) }
            for req in intent.allRequirements {
                limits.append("Requirement \(req.requirement.name) (\(req.category.rawValue))\(req.requirement.minSamples.map { ": at least \($0) samples" } ?? "")")
            }
            if !limits.isEmpty { doc["rai:dataLimitations"] = .string(limits.joined(separator: ". ")) }
            if !intent.unacceptableMistakes.isEmpty {
                doc["rai:dataSocialImpact"] = .string("Unacceptable mistakes: " + intent.unacceptableMistakes.map {
                    "predicting \($0.predicted) for \($0.truth) (max rate \($0.maxRate))\($0.why.map { ": \($0)" } ?? "")"
                }.joined(separator: "; "))
            }
            var collection = "Collected from sources into data/raw, named and deduplicated by content hash at ingest."
            if !intent.environment.devices.isEmpty { collection += " Devices: " + intent.environment.devices.joined(separator: ", ") + "." }
            doc["rai:dataCollection"] = .string(collection)
        }
        if let rulebook {
            doc["rai:annotationsPerItem"] = .string(String(rulebook.annotatorsPerSample))
            doc["rai:dataAnnotationProtocol"] = .string("Labels: " + rulebook.labels.map { "\($0.name): \($0.definition)" }.joined(separator: "; ")
                + ". Consensus: \(VersionLabels.method). Unclear: \(rulebook.policies.unclear.action.rawValue); no fit: \(rulebook.policies.noFit.action.rawValue).")
        }
        if let pipeline {
            doc["rai:dataPreprocessingProtocol"] = .string("Pipeline stages: " + pipeline.stages.map { "\($0.name) (\($0.uses))" }.joined(separator: ", "))
        }
        doc["rai:dataReleaseMaintenance"] = .string("Immutable Strata version \(info.id); state \(info.state); parent \(info.parent ?? "none").")
        try FileIO.writeAtomically(dir + "/croissant.json", JSONValue.object(doc).serialize() + [0x0A])
    }

    /// Croissant wants `MAJOR.MINOR.PATCH`: a version named like `v2`, `v2.1` or `2.1.3` is written that way
    /// (`2.0.0`, `2.1.0`, `2.1.3`); any other name is kept as it is (the validator then warns).
    static func croissantVersion(_ name: String) -> String {
        let bare = name.hasPrefix("v") || name.hasPrefix("V") ? String(name.dropFirst()) : name
        let parts = bare.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy({ $0 >= "0" && $0 <= "9" }) && ($0 == "0" || $0.first != "0") })
        else { return name }
        return (parts.map(String.init) + Array(repeating: "0", count: 3 - parts.count)).joined(separator: ".")
    }

    static let croissantContext: JSONValue = .object([
        "@language": "en", "@vocab": "https://schema.org/", "sc": "https://schema.org/", "cr": "http://mlcommons.org/croissant/",
        "rai": "http://mlcommons.org/croissant/RAI/", "dct": "http://purl.org/dc/terms/",
        "citeAs": "cr:citeAs", "column": "cr:column", "conformsTo": "dct:conformsTo",
        "data": .object(["@id": "cr:data", "@type": "@json"]), "dataType": .object(["@id": "cr:dataType", "@type": "@vocab"]),
        "examples": .object(["@id": "cr:examples", "@type": "@json"]), "extract": "cr:extract", "field": "cr:field",
        "fileProperty": "cr:fileProperty", "fileObject": "cr:fileObject", "fileSet": "cr:fileSet", "format": "cr:format",
        "includes": "cr:includes", "isLiveDataset": "cr:isLiveDataset", "jsonPath": "cr:jsonPath", "key": "cr:key", "md5": "cr:md5",
        "parentField": "cr:parentField", "path": "cr:path", "recordSet": "cr:recordSet", "references": "cr:references",
        "regex": "cr:regex", "repeated": "cr:repeated", "replace": "cr:replace", "separator": "cr:separator", "source": "cr:source",
        "subField": "cr:subField", "transform": "cr:transform", "samplingRate": "cr:samplingRate",
        "equivalentProperty": "cr:equivalentProperty",
    ])
}
