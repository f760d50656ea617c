import ArgumentParser
import Foundation
import Strata

extension StrataCommand {
    struct Findings: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The findings ledger: duplicates, rejected files and rows, and every other quality finding.",
            discussion: """
                Each finding names the sample's origin (the original path, and the line for rows) and, for
                duplicates, the origin of the sample that was kept. Examples:
                  strata findings --kind duplicate
                  strata findings --json | jq '.[] | select(.kind == "corrupt")'
                """)

        @OptionGroup var options: ProjectOptions

        @Option(help: "Only findings of this kind (e.g. duplicate, corrupt, invalid-utf8, wrong-extension).")
        var kind: String?

        @Option(help: "Only findings of this stage (e.g. ingest).")
        var stage: String?

        func run() throws {
            let ws = try options.open()
            let list = try ws.findings(kind: kind, stage: stage)
            if options.json { return try Terminal.printJSON(list) }
            if list.isEmpty { print("no findings"); return }
            var byKind: [String: Int] = [:]
            for f in list {
                byKind[f.kind, default: 0] += 1
                let at = f.origin.map { o in f.line.map { "\(o):\($0)" } ?? o } ?? "-"
                var line = "\(f.kind)\t\(at)\t\(f.reason)"
                if let q = f.quarantineId { line += "  [\(q)]" }
                print(line)
            }
            print("\n\(list.count) finding(s): " + byKind.sorted(by: { $0.key < $1.key }).map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
    }

    struct Quarantine: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rejected files and rows, with reasons; re-admit one after fixing it.",
            subcommands: [List.self, Show.self, Release.self],
            defaultSubcommand: List.self)

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List quarantined files and rows.")
            @OptionGroup var options: ProjectOptions
            @Flag(help: "Include entries that were released.") var all = false

            func run() throws {
                let ws = try options.open()
                let list = try ws.quarantineList(includeReleased: all)
                if options.json { return try Terminal.printJSON(list) }
                if list.isEmpty { print("quarantine is empty"); return }
                for q in list {
                    let at = q.line.map { "\(q.origin):\($0)" } ?? q.origin
                    print("\(q.id)  \(q.kind)\(q.releasedAt != nil ? " (released)" : "")\n    \(at)\n    \(q.reason)")
                }
                print("\n\(list.count) entr\(list.count == 1 ? "y" : "ies"); fix the cause, then `strata quarantine release ID`")
            }
        }

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show one quarantine entry.")
            @OptionGroup var options: ProjectOptions
            @Argument(help: "The entry's id (or a unique prefix).") var id: String

            func run() throws {
                let ws = try options.open()
                let q = try ws.quarantineEntry(id)
                if options.json { return try Terminal.printJSON(q) }
                print("id:      \(q.id)\nkind:    \(q.kind)\nstage:   \(q.stage)\norigin:  \(q.origin)\(q.line.map { ":\($0)" } ?? "")")
                print("reason:  \(q.reason)\nstored:  \(q.stored ?? "(not stored)")\nsource:  \(q.source ?? "-")\nsince:   \(q.createdAt)")
                if let r = q.releasedAt { print("released: \(r)") }
            }
        }

        struct Release: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Re-admit quarantined files or rows after fixing them at their origin: one id, or in bulk.",
                discussion: """
                    Re-runs the ingest that rejected them (same source, date, tags, manifest; one pass per ingest); an entry
                    is released only if it now passes. In bulk the filters combine: `--kind corrupt --source cam1`.
                    Entries of pipeline stages are not released (the stage would reject them again): change the stage's
                    parameter or disable the rule in pipeline.yaml, then `strata run`.
                    """)
            @OptionGroup var options: ProjectOptions
            @Argument(help: "The entry's id (or a unique prefix).") var id: String?
            @Option(help: "Release every unreleased entry of this kind (e.g. corrupt).") var kind: String?
            @Option(help: "Release every unreleased entry of this source.") var source: String?
            @Option(help: "Release every unreleased entry of this stage (only `ingest` entries can be released).") var stage: String?
            @Flag(help: "Release every unreleased entry.") var all = false

            func validate() throws {
                let bulk = kind != nil || source != nil || stage != nil || all
                if id != nil && bulk { throw ValidationError("give an entry id, or --kind/--source/--stage/--all, not both") }
                if id == nil && !bulk { throw ValidationError("give an entry id (see `strata quarantine list`), or --kind K, --source S, --stage S or --all") }
                if all && (kind != nil || source != nil || stage != nil) { throw ValidationError("--all releases everything; leave out --kind/--source/--stage, or leave out --all") }
            }

            func run() throws {
                let ws = try options.open()
                guard let id else { return try bulk(ws) }
                let result = try ws.releaseQuarantine(id)
                if options.json { try Terminal.printJSON(result) }
                else if result.released { print("released \(result.id)" + (result.reason.map { " (\($0))" } ?? "")) }
                else { print("\(result.id) still fails: \(result.reason ?? "unknown reason")\nfix the file at its origin and try again") }
                if !result.released { throw ExitCode(1) }
            }

            func bulk(_ ws: Workspace) throws {
                let r = try ws.releaseQuarantine(kind: kind, source: source, stage: stage)
                if options.json { try Terminal.printJSON(r) }
                if r.matched == 0 {
                    let filters = [kind.map { "kind `\($0)`" }, source.map { "source `\($0)`" }, stage.map { "stage `\($0)`" }].compactMap { $0 }
                    Terminal.error("no quarantined entries to release" + (filters.isEmpty ? "" : " with " + filters.joined(separator: " and "))
                                   + "\n  fix: see what is quarantined with `strata quarantine list` (released ones with `--all`)")
                    throw ExitCode(1)
                }
                if !options.json {
                    let failing = r.stillFailing.count
                    print("released \(r.released.count) of \(r.released.count + failing) entr\(r.released.count + failing == 1 ? "y" : "ies")"
                          + (failing > 0 ? "; \(failing) still fail\(failing == 1 ? "s" : "")" : ""))
                    for f in r.stillFailing { print("  \(f.id): \(f.reason ?? "unknown reason")") }
                    for (stage, n) in r.skippedPipeline.sorted(by: { $0.key < $1.key }) {
                        print("skipped \(n) entr\(n == 1 ? "y" : "ies") of pipeline stage `\(stage)`: change its parameter or disable the rule in pipeline.yaml, then `strata run`")
                    }
                    if failing > 0 { print("fix the files at their origin and try again") }
                }
                if r.released.isEmpty || !r.stillFailing.isEmpty { throw ExitCode(1) }
            }
        }
    }
}
