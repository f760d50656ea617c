import ArgumentParser
import Foundation
import Strata

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the deep check, explain each kind of problem and how to repair it; --fix makes the safe repairs.",
        discussion: """
            Safe repairs: remove temporary files an interrupted command left, make raw files read-only again when their
            content is unchanged, recreate missing layout folders. Doctor never deletes samples, labels, objects or
            quarantine records. Exit code 0 when nothing is left to repair, 1 otherwise.
            """)

    @OptionGroup var options: ProjectOptions

    @Flag(help: "Make the safe repairs before checking.")
    var fix = false

    func run() throws {
        let ws = try options.open()
        let report = try ws.doctor(fix: fix)
        if options.json {
            try Terminal.printJSON(report)
        } else {
            for line in report.repaired { print("repaired: \(line)") }
            if report.ok {
                print("no problems found (deep check)")
            } else {
                for group in report.groups {
                    print("\n[\(group.category)] \(group.problems.count) problem(s): \(group.explanation)")
                    for p in group.problems.prefix(20) {
                        let place = [p.path, p.line.map(String.init)].compactMap { $0 }.joined(separator: ":")
                        print("  \(place.isEmpty ? "" : place + ": ")\(p.message)")
                        if let fix = p.fix { print("      fix: \(fix)") }
                    }
                    if group.problems.count > 20 { print("  ... and \(group.problems.count - 20) more (--json lists all)") }
                }
            }
            if report.collectableObjects > 0 {
                print("\n\(report.collectableObjects) object(s) are referenced by nothing; `strata version gc` reclaims them")
            }
        }
        if !report.ok { throw ExitCode(1) }
    }
}
