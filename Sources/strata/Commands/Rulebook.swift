import ArgumentParser
import Foundation
import Strata

extension StrataCommand {
    struct Rulebook: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the labeling rulebook, and render it as a handbook for taskers.",
            subcommands: [Check.self, Render.self])

        struct Check: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Check rulebook.yaml: every label reachable from the decision path, leaves that are labels or policies, examples that exist, no duplicates.",
                discussion: """
                    Problems are listed with file, line and key path. A rulebook without problems is recorded as a
                    version; when a label's definition changed, its earlier labels are flagged for review
                    (`strata findings --stage rulebook`). Exit code 1 when there are problems.
                    """)
            @OptionGroup var options: ProjectOptions

            func run() throws {
                let ws = try options.open()
                let r = try ws.checkRulebook()
                if options.json {
                    try Terminal.printJSON(r)
                } else {
                    for e in r.errors { print("error: \(e)") }
                    for w in r.warnings { print("warning: \(w)") }
                    if r.ok {
                        var line = "rulebook.yaml is fine: \(r.labels) label(s)"
                        if let v = r.version { line += ", version r\(v.number) (\(v.id))" }
                        print(line)
                        if r.flaggedForReview > 0 {
                            print("\(r.flaggedForReview) label(s) made under an older definition were flagged for review: strata findings --stage rulebook")
                        }
                    } else {
                        print("\n\(r.errors.count) problem(s) in rulebook.yaml")
                    }
                }
                if !r.ok { throw ExitCode(1) }
            }
        }

        struct Render: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Write the tasker handbook (HTML and Markdown) and a Label Studio labeling config.",
                discussion: "Writes handbook.html, handbook.md and label-studio.xml into --out (default: handbook/ in the project).")
            @OptionGroup var options: ProjectOptions
            @Option(help: "The folder to write into.") var out: String?

            func run() throws {
                let ws = try options.open()
                let files = try ws.renderRulebook(to: out)
                if options.json { return try Terminal.printJSON(files) }
                for f in files { print("wrote \(ws.relative(f))") }
            }
        }
    }
}
