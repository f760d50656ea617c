import ArgumentParser
import Foundation
import Strata

extension StrataCommand {
    struct Models: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Trained models and the versions they were trained on.",
            subcommands: [Register.self, List.self, Show.self],
            defaultSubcommand: List.self)

        struct Register: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Record a trained model against the active version it was trained on.",
                discussion: """
                  strata models register intent-clf-7 --version v3 --metrics eval.json --predictions preds.jsonl --code-rev $(git rev-parse HEAD)
                """)
            @OptionGroup var options: ProjectOptions
            @Argument(help: "The model's name (unique, permanent).") var name: String
            @Option(help: "The version (name or id prefix) it was trained on; must be active.") var version: String
            @Option(help: "A JSON object of evaluation metrics.") var metrics: String?
            @Option(help: "The model's predictions file (stored as is; `strata predictions import` parses it).") var predictions: String?
            @Option(help: "The training code's revision (e.g. a git commit).") var codeRev: String?

            func run() throws {
                let m = try options.open().registerModel(name: name, version: version, metricsFile: metrics, predictionsFile: predictions, codeRev: codeRev)
                if options.json { return try Terminal.printJSON(m) }
                print("registered model \(m.name) on version \(m.version) (\(m.versionId.prefix(12)))")
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List registered models.")
            @OptionGroup var options: ProjectOptions
            func run() throws {
                let list = try options.open().models()
                if options.json { return try Terminal.printJSON(list) }
                if list.isEmpty { print("no models registered: `strata models register NAME --version V`"); return }
                for m in list { print("\(m.name)\t\(m.version)\t\(m.registered.prefix(19))\t\(m.codeRev ?? "-")") }
            }
        }

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show one model (same as `strata lineage model`).")
            @OptionGroup var options: ProjectOptions
            @Argument(help: "The model's name.") var name: String
            func run() throws { try printModelLineage(options, name) }
        }
    }

    struct Lineage: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What data trained a model, which versions and models used a sample, where a version came from.",
            subcommands: [Model.self, Sample.self, Version.self])

        struct Model: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "A model's version, specs, runs and the version's ancestors.")
            @OptionGroup var options: ProjectOptions
            @Argument(help: "The model's name.") var name: String
            func run() throws { try printModelLineage(options, name) }
        }

        struct Sample: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Which versions and models used a sample (e.g. for a deletion request).")
            @OptionGroup var options: ProjectOptions
            @Argument(help: "A sample id or short id.") var id: String
            func run() throws {
                let l = try options.open().lineage(sample: id)
                if options.json { return try Terminal.printJSON(l) }
                print("sample: \(l.id)\nshort:  \(l.shortId)\nsource: \(l.source)\norigin: \(l.origin)\nraw:    \(l.raw)")
                if l.versions.isEmpty { print("in no version") }
                for u in l.versions {
                    print("version \(u.version) (\(u.state)): split \(u.split), label \(u.label ?? "(none)")\(u.content == l.id ? "" : ", cleaned content \(u.content.prefix(12))")"
                          + (u.models.isEmpty ? "" : "; models: \(u.models.joined(separator: ", "))"))
                }
                print("models trained on it: \(l.models.isEmpty ? "none" : l.models.joined(separator: ", "))")
            }
        }

        struct Version: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "A version's ancestors, children, specs, runs and models.")
            @OptionGroup var options: ProjectOptions
            @Argument(help: "A version name or id prefix.") var version: String
            func run() throws {
                let l = try options.open().lineage(version: version)
                if options.json { return try Terminal.printJSON(l) }
                let v = l.version
                print("version: \(v.name) \(v.id)\nstate:   \(v.state)")
                print("ancestors: \(l.ancestors.isEmpty ? "none" : l.ancestors.joined(separator: " <- "))")
                print("children:  \(l.children.isEmpty ? "none" : l.children.joined(separator: ", "))")
                for (file, d) in v.specs.sorted(by: { $0.key < $1.key }) { print("spec: \(file) \(d.prefix(12))") }
                if !v.runs.isEmpty { print("runs: \(v.runs.joined(separator: ", "))") }
                print("models: \(l.models.isEmpty ? "none" : l.models.map(\.name).joined(separator: ", "))")
            }
        }
    }
}

func printModelLineage(_ options: ProjectOptions, _ name: String) throws {
    let l = try options.open().lineage(model: name)
    if options.json { return try Terminal.printJSON(l) }
    let m = l.model, v = l.version
    print("model:    \(m.name)\nversion:  \(v.name) \(v.id) (\(v.state))\nregistered: \(m.registered)")
    if let c = m.codeRev { print("code rev: \(c)") }
    if let metrics = m.metrics { print("metrics:  \(metrics.canonicalJSON)") }
    if let p = m.predictions { print("predictions file: object \(p.prefix(12))") }
    if let u = l.predictions {
        let splits = u.bySplit.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" } + ["not in \(v.name) \(u.outsideVersion)"]
        print("predictions: \(u.count) imported \(u.importedAt) (" + splits.joined(separator: ", ") + "); `strata analyze errors --model \(m.name)`")
        if u.onTrainingSamples > 0 {
            print("warning:  \(u.onTrainingSamples) of them are on samples the model was trained on; error analysis on those overstates the model")
        }
    } else {
        print("predictions: none imported (`strata predictions import FILE --model \(m.name)`)")
    }
    for (file, d) in v.specs.sorted(by: { $0.key < $1.key }) { print("spec:     \(file) \(d.prefix(12))") }
    print("label set: \(v.labelSet.prefix(12))")
    print("runs:     \(v.runs.isEmpty ? "none" : v.runs.joined(separator: ", "))")
    print("samples:  \(v.samples) (" + v.splits.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")")
    print("ancestors: \(l.ancestors.isEmpty ? "none" : l.ancestors.joined(separator: " <- "))")
}
