import ArgumentParser
import Foundation
import Strata

extension StrataCommand {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What changed since the last ingest, by source and modality (like git status).",
            discussion: """
                Walks the folders each source was ingested from and compares them with the stat cache (size, mtime,
                inode); only files whose stat changed are re-hashed. `strata check` verifies the raw files themselves.
                Exit code 0 when nothing changed, 1 when there are new, modified or damaged files.
                """)

        @OptionGroup var options: ProjectOptions

        func run() throws {
            let ws = try options.open()
            let report = try ws.status()
            if options.json {
                try Terminal.printJSON(report)
            } else {
                print("\(report.samples) samples, \(report.occurrences - report.samples) exact-duplicate occurrences, \(report.quarantined) quarantined, \(report.labelEvents) label events")
                if let last = report.lastIngest { print("last ingest: \(last)") }
                for s in report.sources {
                    let have = s.samples.sorted(by: { $0.key < $1.key }).map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                    print("\nsource \(s.source): \(have.isEmpty ? "no samples" : have)\(s.quarantined > 0 ? ", \(s.quarantined) quarantined" : "")")
                    let new = s.newFiles.sorted(by: { $0.key < $1.key }).map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                    if !new.isEmpty { print("  new files:      \(new)") }
                    if s.modifiedFiles > 0 { print("  modified files: \(s.modifiedFiles)") }
                    if s.missingFiles > 0 { print("  gone at source: \(s.missingFiles) (the raw copies are kept)") }
                    for e in s.examples { print("    \(e)") }
                    if s.newFiles.isEmpty && s.modifiedFiles == 0 && s.missingFiles == 0 { print("  up to date") }
                    else if !s.newFiles.isEmpty || s.modifiedFiles > 0 { print("  run: strata ingest \(s.roots.joined(separator: " ")) --source \(s.source)") }
                }
                if report.isClean { print("\nnothing changed") }
            }
            if !report.isClean { throw ExitCode(1) }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check layout, names, formats, raw immutability, catalog consistency, spec files and coverage.",
            discussion: "Exit code 0 when everything is in order, 1 when problems were found (each with a fix).")

        @OptionGroup var options: ProjectOptions

        @Flag(help: "Re-hash every raw file and object instead of trusting unchanged stats.")
        var deep = false

        @Flag(help: "Count unmet intent requirements (coverage gaps) as problems (exit 1), e.g. as a release gate.")
        var requireCoverage = false

        func run() throws {
            let ws = try options.open()
            let report = try ws.check(deep: deep, requireCoverage: requireCoverage)
            if options.json {
                try Terminal.printJSON(report)
            } else {
                print("checked \(report.rawFilesChecked) raw files (\(report.rawFilesHashed) re-hashed), \(report.samplesChecked) samples, \(report.objectsChecked) objects\(deep ? " (deep)" : "")")
                if !report.coverage.isEmpty {
                    print("\ncoverage against intent.yaml:")
                    for c in report.coverage {
                        let target = [c.minSamples.map { "min \($0)" }, c.minShare.map { String(format: "min %.1f%%", $0 * 100) }].compactMap { $0 }.joined(separator: ", ")
                        let name = c.name.padding(toLength: max(28, c.name.count), withPad: " ", startingAt: 0)
                        let category = c.category.padding(toLength: 12, withPad: " ", startingAt: 0)
                        let count = String(c.count).leftPadded(6)
                        print("  \(c.met ? "ok  " : "GAP ")\(category) \(name) \(count)  (\(String(format: "%5.1f", c.share * 100))%)  target \(target)"
                              + (c.met ? "" : "  -> \(c.gap) more needed"))
                    }
                }
                if report.problems.isEmpty {
                    print("\nno problems found")
                } else {
                    print("\n\(report.problems.count) problem(s):")
                    for p in report.problems {
                        let place = [p.path, p.line.map(String.init)].compactMap { $0 }.joined(separator: ":")
                        print("  [\(p.category)] \(place.isEmpty ? "" : place + ": ")\(p.message)")
                        if let fix = p.fix { print("      fix: \(fix)") }
                    }
                }
            }
            if !report.ok { throw ExitCode(1) }
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
