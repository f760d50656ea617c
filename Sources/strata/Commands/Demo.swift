import ArgumentParser
import Foundation
import Strata

extension StrataCommand {
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate an example project with realistic flaws and run everything Strata can do on it.",
            discussion: """
                Deterministic and offline: support messages (text), shape photos (images) and keyword clips (audio)
                with duplicates, corrupt and wrong-format files, broken rows, mislabeled samples and an
                under-covered scenario. The folder is rebuilt if it holds an earlier demo.
                """)

        @Argument(help: "Where to create the demo project.")
        var directory: String = "strata-demo"

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let report = try Strata.Demo.run(at: directory, progress: json ? SilentProgress() : TerminalProgress())
            if json { return try Terminal.printJSON(report) }
            print("Strata demo project: \(report.root)")
            print("generated (in \(report.incoming)): " + report.generated.sorted(by: { $0.key < $1.key }).map { "\($0.value) \($0.key)" }.joined(separator: ", "))
            print("flaws planted: " + report.planted.sorted(by: { $0.key < $1.key }).map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            for key in ["text", "image", "audio"] {
                guard let s = report.ingests[key] else { continue }
                let q = s.quarantinedByKind.sorted(by: { $0.key < $1.key }).map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                print("\n[\(key)] strata ingest --source \(s.source): accepted \(s.accepted), duplicates \(s.duplicates), quarantined \(s.quarantined)\(q.isEmpty ? "" : " (\(q))"), labels imported \(s.labelsImported)")
                let other = s.findingsByKind.filter { $0.key != "duplicate" }.sorted(by: { $0.key < $1.key }).map { "\($0.key) \($0.value)" }
                if !other.isEmpty { print("    other findings: " + other.joined(separator: ", ")) }
            }
            print("\nre-running the image ingest added \(report.secondIngestAdded) entries (idempotent)")
            print("\nstrata run (pipeline.yaml), \(String(format: "%.1f", report.run.seconds)) s:")
            for s in report.run.stages {
                let c = s.counts
                let reasons = c.reasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                print("  \(s.name) (\(s.uses)): \(c.inputs) in -> \(c.kept) kept, \(c.rejected) quarantined, \(c.duplicates) duplicates" + (reasons.isEmpty ? "" : " [\(reasons)]"))
            }
            print("  cleaned set: \(report.run.cleaned) samples in data/cleaned/; a second run \(report.secondRunNothingChanged ? "did no work (everything cached)" : "re-ran tasks")")
            print("\nfindings ledger (strata findings): " + report.findingsByKind.sorted(by: { $0.key < $1.key }).map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            print("\ncoverage against intent.yaml (strata check):")
            for c in report.check.coverage {
                print("  \(c.met ? "ok " : "GAP") \(c.category) `\(c.name)` [\(c.selector)]: \(c.count) samples" + (c.met ? "" : " -> \(c.shortfall)"))
            }
            let gaps = report.check.coverage.filter { !$0.met }.count
            print("\nstrata check: \(report.check.problems.count) problem(s)" + (report.check.problems.isEmpty ? ": layout, names, formats, raw files and catalog are consistent" : ""))
            for p in report.check.problems.prefix(10) { print("  [\(p.category)] \(p.path ?? ""): \(p.message)") }
            if gaps > 0 { print("  \(gaps) coverage gap(s) against intent.yaml: collect more data there (`strata check --require-coverage` fails on them)") }
            print("strata status: \(report.status.isClean ? "nothing changed since ingest" : "changes pending")")
            if let v = report.version {
                print("\nstrata version create v1 + promote: \(v.id.prefix(12)) (\(v.state)), \(v.samples) samples; splits "
                      + v.splits.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                for e in report.exports {
                    print("  strata export v1 --modality \(e.directory.split(separator: "/").dropLast().last?.split(separator: "-").last ?? "") --format \(e.format): \(e.samples) samples in \(e.shards.count) shard(s) -> \(e.directory) (+ manifest.json, README.md card, croissant.json)")
                }
            }
            if let r = report.report { print("\nreport (strata report): \(r)") }
            print("""

                Try next:
                  cd \(report.root)
                  strata findings --kind duplicate
                  strata quarantine list
                  strata rulebook render && strata label agreement
                  strata label taskers add ana --role tasker && strata label serve --port 8080
                  strata version show v1 && strata lineage version v1
                  strata doctor
                """)
        }
    }
}
