import ArgumentParser
import Foundation
import Strata
import StrataCore

extension StrataCommand {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a project: spec templates, the data layout and a .gitignore.",
            discussion: """
                Examples:
                  strata init support-bot --modality text
                  strata init cam --modality image,audio
                Existing files are never overwritten; --force rewrites only the four spec templates.
                """)

        @Argument(help: "The project folder (created if missing).")
        var directory: String = "."

        @Option(help: "Comma-separated modalities: text, image, audio.")
        var modality: String = "text"

        @Option(help: "The project's name (default: the folder's name).")
        var name: String?

        @Flag(help: "Rewrite the spec templates even if they exist.")
        var force = false

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let mods = try parseModalities(modality)
            let report = try Workspace.initialize(at: directory, name: name, modalities: mods, force: force)
            if json { return try Terminal.printJSON(report) }
            print("Initialized a Strata project in \(report.root)")
            for c in report.created { print("  created \(c)") }
            for k in report.kept { print("  kept    \(k) (exists)") }
            print("""

                Next:
                  1. Describe what the data is for in intent.yaml and how to label it in rulebook.yaml.
                  2. strata ingest PATH --source NAME     bring in data
                  3. strata check                         verify layout, names, formats and coverage
                """)
        }
    }
}

func parseModalities(_ text: String) throws -> [Modality] {
    var out: [Modality] = []
    for part in text.split(separator: ",") {
        let name = part.trimmingCharacters(in: .whitespaces).lowercased()
        guard let m = Modality(rawValue: name) else {
            throw StrataError.usage("unknown modality `\(name)`", fix: "use text, image or audio, comma-separated (e.g. --modality text,image)")
        }
        if !out.contains(m) { out.append(m) }
    }
    if out.isEmpty { throw StrataError.usage("no modality given", fix: "--modality text,image,audio") }
    return out
}
