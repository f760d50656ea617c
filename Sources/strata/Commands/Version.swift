import ArgumentParser
import Foundation
import Strata

extension StrataCommand {
    struct Version: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Dataset versions: immutable manifests of samples, labels and splits.",
            discussion: """
                A version records every sample's content hash, consensus label and split, the spec files, the runs
                and its parent; its id is the hash of that manifest. Drafts can be re-created under the same name;
                `promote` makes a version active and `retire` ends its use: active and retired versions never change.
                Examples:
                  strata version create v1 -m "first labeled set"
                  strata version promote v1
                  strata version diff v1 v2
                """,
            subcommands: [Create.self, List.self, Show.self, Diff.self, Promote.self, Retire.self, Verify.self, GC.self],
            defaultSubcommand: List.self)

        struct Create: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a draft version from the current samples, labels and cleaned set.")
            @OptionGroup var options: ProjectOptions
            @Argument(help: "The version's name (default: v<N>). An existing draft of that name is replaced.") var name: String?
            @Option(name: .shortAndLong, help: "What changed, in a sentence.") var message: String = ""
            @Option(help: "The parent version, whose splits to keep (default: splits stick to the latest version of any state, drafts included; the parent is the latest active or retired version).") var parent: String?
            @Option(name: .customLong("exclude-findings"), help: ArgumentHelp("Leave out the samples with an open finding of this kind (repeatable; e.g. label-issue). Prefer `strata label review --from-findings`: dropping flagged samples helps only when the model is trustworthy.", valueName: "kind")) var excludeFindings: [String] = []

            func run() throws {
                let ws = try options.open()
                let r = try ws.createVersion(name: name, message: message, parent: parent, excludeFindings: excludeFindings)
                if options.json { return try Terminal.printJSON(r) }
                if r.unchanged {
                    print("nothing changed: the content equals version \(r.version.name) (\(r.version.id.prefix(12)))")
                    return
                }
                let v = r.version
                print("created draft \(v.name) \(v.id.prefix(12))\(r.replacedDraft.map { " (replaces draft \($0.prefix(12)))" } ?? "")")
                printSummary(v)
                print("\nnext: `strata version promote \(v.name)` to freeze it, `strata export \(v.name) --format parquet` to export it")
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List versions, oldest first.")
            @OptionGroup var options: ProjectOptions

            func run() throws {
                let list = try options.open().versionList()
                if options.json { return try Terminal.printJSON(list) }
                if list.isEmpty { print("no versions yet: `strata version create` records one"); return }
                for v in list {
                    print("\(v.name)\t\(v.id.prefix(12))\t\(v.state)\t\(v.samples) samples\t\(v.created.prefix(19))\t\(v.message)")
                }
            }
        }

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show a version: counts per split and label, leakage, specs, runs.")
            @OptionGroup var options: ProjectOptions
            @Argument(help: "A version name or id prefix.") var version: String

            func run() throws {
                let v = try options.open().versionShow(version)
                if options.json { return try Terminal.printJSON(v) }
                print("version: \(v.name)\nid:      \(v.id)\nstate:   \(v.state)\nparent:  \(v.parent ?? "-")\ncreated: \(v.created)")
                if let from = v.splitsFrom, from != v.parent { print("splits:  kept from \(from)") }
                if let p = v.promoted { print("active:  \(p)") }
                if let r = v.retired { print("retired: \(r)") }
                if !v.message.isEmpty { print("message: \(v.message)") }
                printSummary(v)
                for (file, d) in v.specs.sorted(by: { $0.key < $1.key }) { print("spec:    \(file) \(d.prefix(12))") }
                if !v.runs.isEmpty { print("runs:    \(v.runs.joined(separator: ", "))") }
            }
        }

        struct Diff: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Compare two versions: added, removed, relabeled samples; label, split, slice and findings changes.")
            @OptionGroup var options: ProjectOptions
            @Argument(help: "The older version.") var a: String
            @Argument(help: "The newer version.") var b: String
            @Option(help: "List at most this many samples per group (0: none).") var limit = 20

            func run() throws {
                let d = try options.open().versionDiff(a, b)
                if options.json { return try Terminal.printJSON(d) }
                print("\(d.from) -> \(d.to)")
                func list(_ title: String, _ items: [String]) {
                    print("\(title): \(items.count)")
                    for i in items.prefix(limit) { print("  \(i)") }
                    if items.count > limit && limit > 0 { print("  ... \(items.count - limit) more") }
                }
                list("added", d.added)
                list("removed", d.removed)
                list("relabeled", d.relabeled.map { "\($0.sample): \($0.from ?? "(none)") -> \($0.to ?? "(none)")" })
                list("content changed (cleaning)", d.contentChanged)
                list("moved between splits", d.splitChanged)
                func table(_ title: String, _ t: [String: [Int]]) {
                    guard !t.isEmpty else { return }
                    print("\(title):")
                    for (k, c) in t.sorted(by: { $0.key < $1.key }) {
                        let delta = c[1] - c[0]
                        print("  \(k)\t\(c[0]) -> \(c[1])\t(\(delta >= 0 ? "+" : "")\(delta))")
                    }
                }
                table("labels", d.labels)
                table("splits", d.splits)
                table("sources", d.sources)
                table("findings (samples)", d.findings)
            }
        }

        struct Promote: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Make a draft active: from now on it can never change.")
            @OptionGroup var options: ProjectOptions
            @Argument(help: "A version name or id prefix.") var version: String
            func run() throws {
                let v = try options.open().promoteVersion(version)
                if options.json { return try Terminal.printJSON(v) }
                print("\(v.name) \(v.id.prefix(12)) is active")
            }
        }

        struct Retire: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Retire an active version (it stays readable and is never garbage-collected).")
            @OptionGroup var options: ProjectOptions
            @Argument(help: "A version name or id prefix.") var version: String
            func run() throws {
                let v = try options.open().retireVersion(version)
                if options.json { return try Terminal.printJSON(v) }
                print("\(v.name) \(v.id.prefix(12)) is retired")
            }
        }

        struct Verify: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Re-hash a version's manifest and every content it names (exit 1 on problems).")
            @OptionGroup var options: ProjectOptions
            @Argument(help: "A version name or id prefix.") var version: String
            func run() throws {
                let problems = try options.open().verifyVersion(version)
                if options.json { try Terminal.printJSON(problems) } else if problems.isEmpty { print("ok: manifest and contents match their hashes") } else {
                    for p in problems { print(p) }
                }
                if !problems.isEmpty { throw ExitCode(1) }
            }
        }

        struct GC: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "gc",
                abstract: "Remove stored data that no version or model references (replaced drafts' snapshots and exports).")
            @OptionGroup var options: ProjectOptions
            @Flag(help: "Only list what would be removed.") var dryRun = false
            func run() throws {
                let r = try options.open().versionGC(dryRun: dryRun)
                if options.json { return try Terminal.printJSON(r) }
                let verb = dryRun ? "would remove" : "removed"
                print("\(verb) \(r.removedObjects.count) object(s) (\(r.bytes) bytes) and \(r.removedExports.count) export folder(s)")
                for e in r.removedExports { print("  \(e)") }
            }
        }
    }
}

func printSummary(_ v: VersionInfo) {
    print("samples: \(v.samples)")
    print("splits:  " + v.splits.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    print("labels:  " + v.labels.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    if v.unresolvedLabels > 0 { print("unresolved labels: \(v.unresolvedLabels) (ties or low agreement: `strata label consensus` lists them)") }
    if v.pendingLabels > 0 { print("pending labels: \(v.pendingLabels) (fewer annotators than the rulebook asks; kept because they agree)") }
    if v.pseudoLabels > 0 { print("pseudo labels: \(v.pseudoLabels) (model labels above calibrated thresholds, no human label; marked in the manifest)") }
    if v.pseudoExcludedFromTest > 0 { print("pseudo labels left out of test: \(v.pseudoExcludedFromTest) (test samples stay human-labeled)") }
    for e in v.excludedFindings {
        print("excluded: \(e.samples) sample(s) with an open `\(e.kind)` finding, at the user's request (--exclude-findings \(e.kind))")
    }
    if v.movedForGroups > 0 { print("moved to keep groups together: \(v.movedForGroups)") }
    if !v.leakage.isEmpty {
        print("leakage: \(v.leakage.count) duplicate pair(s) across splits")
        for p in v.leakage.prefix(10) { print("  \(p.kind) \(p.a.prefix(12)) ~ \(p.b.prefix(12)) (\(p.splits.joined(separator: "/"))): \(p.resolution)") }
    }
}
