import Foundation
import StrataCore
import StrataStore

/// The Croissant description written next to every export (`croissant.json`: MLCommons JSON-LD with the
/// Responsible-AI fields). Pure: built from the export's result and the specs recorded with the version.
struct CroissantDescription {
    var projectName: String
    var result: ExportResult
    var info: VersionInfo
    var modality: String
    var intent: IntentSpec?
    var rulebook: RulebookSpec?
    var pipeline: PipelineSpec?

    /// The JSON-LD document.
    var json: JSONValue {
        let fields = fields
        var doc: [String: JSONValue] = [
            "@context": Workspace.croissantContext,
            "@type": "sc:Dataset",
            "conformsTo": .array(["http://mlcommons.org/croissant/1.0", "http://mlcommons.org/croissant/RAI/1.0"]),
            "name": .string("\(projectName)-\(info.name)"),
            "description": .string(intent?.useCase.trimmingCharacters(in: .whitespacesAndNewlines) ?? "Dataset version \(info.name) of \(projectName)"),
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
        doc.merge(responsibleAI) { _, new in new }
        return .object(doc)
    }

    /// The shards' media type and file extension.
    var encoding: (type: String, ext: String) {
        switch result.format {
        case "parquet": ("application/x-parquet", "parquet")
        case "jsonl": ("application/jsonlines", "jsonl")
        case "csv": ("text/csv", "csv")
        default: ("application/x-tar", "tar")
        }
    }

    /// Every shard as a `cr:FileObject` (path, size, SHA-256), then the `cr:FileSet` of all of them.
    var distribution: [JSONValue] {
        let (encoding, ext) = encoding
        var distribution: [JSONValue] = []
        for s in result.shards {
            distribution.append(.object([
                "@type": "cr:FileObject", "@id": .string(s.path), "name": .string(s.path), "contentUrl": .string(s.path),
                "encodingFormat": .string(encoding), "sha256": .string(s.sha256), "contentSize": .string("\(s.bytes) B"),
            ]))
        }
        distribution.append(.object([
            "@type": "cr:FileSet", "@id": "shards", "name": "shards", "encodingFormat": .string(encoding),
            "includes": .string("data/*.\(ext)"),
        ]))
        return distribution
    }

    /// The record set's fields (none for WebDataset, whose samples are files in a tar).
    var fields: [JSONValue] {
        func field(_ name: String, _ type: String, _ description: String, jsonPath: String? = nil) -> JSONValue {
            var source: [String: JSONValue] = ["fileSet": .object(["@id": "shards"])]
            source["extract"] = result.format == "webdataset" ? .object(["fileProperty": "content"]) : .object(["column": .string(name)])
            if let jsonPath { source["transform"] = .object(["jsonPath": .string(jsonPath)]) }
            return .object([
                "@type": "cr:Field", "@id": .string("samples/\(name)"), "name": .string(name), "description": .string(description),
                "dataType": .string(type), "source": .object(source),
            ])
        }
        // Media content: in Parquet a struct of `bytes` and `path` (Hugging Face's Image/Audio layout), read through
        // its `bytes`; in JSONL and CSV the path of the file, relative to the export folder.
        let content: JSONValue
        if modality == Modality.text.rawValue {
            content = field("content", "sc:Text", "the text")
        } else if result.format == "parquet" {
            content = field("content", modality == Modality.image.rawValue ? "sc:ImageObject" : "sc:AudioObject",
                            "the \(modality)'s bytes (the column is a struct of bytes and file name)", jsonPath: "bytes")
        } else {
            content = field("content", "sc:Text", "path of the \(modality) file, relative to this folder")
        }
        var fields: [JSONValue] = result.format == "webdataset" ? [] : [
            field("id", "sc:Text", "SHA-256 of the sample's raw content"),
            content,
            field("label", "sc:Text", "consensus label (empty when unresolved or unlabeled)"),
            field("split", "sc:Text", "train/validation/test assignment"),
            field("origin", "sc:Text", "where the raw sample was collected (path and line)"),
        ]
        // In JSONL `metadata` is a nested object of any shape, which a Croissant field cannot type (a loader casts it
        // to text and fails), so the record set leaves it out there; Parquet and CSV hold it as JSON text.
        if result.format == "parquet" || result.format == "csv" {
            fields.append(field("metadata", "sc:Text", "JSON: source, collection date, format, transforms and the sample's own fields"))
        }
        return fields
    }

    /// The Responsible-AI fields, filled from the intent, rulebook and pipeline recorded with the version.
    var responsibleAI: [String: JSONValue] {
        var doc: [String: JSONValue] = [:]
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
        doc["rai:dataReleaseMaintenance"] = .string("Immutable Strata version \(info.id); state \(info.state.rawValue); parent \(info.parent ?? "none").")
        return doc
    }
}

extension Workspace {
    func writeCroissant(_ r: ExportResult, info: VersionInfo, modality: String, to dir: String) throws {
        let description = CroissantDescription(projectName: project.name, result: r, info: info, modality: modality,
                                               intent: try versionIntent(info), rulebook: try versionRulebook(info),
                                               pipeline: try versionPipeline(info))
        try FileIO.writeAtomically(dir + "/croissant.json", description.json.serialize() + [0x0A])
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
