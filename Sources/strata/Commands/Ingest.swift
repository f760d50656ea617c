import ArgumentParser
import Foundation
import Strata

extension StrataCommand {
    struct Ingest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring files or record rows into data/raw: detect, validate, name, store, deduplicate, quarantine.",
            discussion: """
                Format and modality are detected from the content, not the extension. Accepted files are copied
                read-only to data/raw/<source>/<source>_<yyyymmdd>_<id>.<ext>; your files are never moved or changed.
                Rejected files and rows go to quarantine/ with a reason (`strata quarantine list`). Re-running the
                same command adds nothing.

                Examples:
                  strata ingest ~/exports/tickets --source helpdesk --date 2026-03-14 --tag channel=email
                  strata ingest photos/ --source cam-2 --meta photos/labels.csv
                  strata ingest dump.jsonl --source forum --records --text-field body --label-field intent --id-field id
                """)

        @OptionGroup var options: ProjectOptions

        @Argument(help: "Files or folders to ingest.")
        var paths: [String] = []

        @Option(help: "Where the data came from; becomes the folder and file-name prefix (lower-case letters, digits, '-'). Default: `defaults: source:` in strata.yaml.")
        var source: String?

        @Option(help: "Collection date, YYYY-MM-DD (default: today, UTC).")
        var date: String?

        @Option(name: .customLong("tag"), help: "Metadata for every sample, key=value (repeatable), e.g. --tag scenario=night.")
        var tags: [String] = []

        @Option(help: "A CSV or JSONL manifest naming each file, with label and metadata columns.")
        var meta: String?

        @Option(help: "The manifest column naming the files (default: file, path or filename).")
        var metaFileColumn: String?

        @Flag(help: "Treat JSONL/CSV files as one sample per row.")
        var records = false

        @Option(help: "With --records: the field holding the text.")
        var textField: String = "text"

        @Option(help: "With --records: the field holding a label (imported as label events), or the manifest's label column.")
        var labelField: String?

        @Option(help: "With --records: the field holding the row's own id.")
        var idField: String?

        @Flag(help: "Read the given files again even if they are unchanged since the last ingest (to add labels or ids read with other options).")
        var reread = false

        @Option(help: "Worker threads for reading and validating (default: number of cores).")
        var workers: Int = ProcessInfo.processInfo.activeProcessorCount

        func run() throws {
            var tagMap: [String: String] = [:]
            for t in tags {
                guard let eq = t.firstIndex(of: "="), eq != t.startIndex else {
                    throw StrataError.usage("invalid --tag `\(t)`: expected key=value", fix: "--tag scenario=night")
                }
                tagMap[String(t[..<eq])] = String(t[t.index(after: eq)...])
            }
            let ws = try options.open()
            guard let source = source ?? ws.project.defaults["source"] else {
                throw StrataError.usage("no --source given", fix: "name where the data came from, e.g. --source helpdesk (or set `defaults: source:` in strata.yaml)")
            }
            var ingestOptions = IngestOptions(
                paths: paths, source: source, date: date, tags: tagMap, metaFile: meta, metaFileColumn: metaFileColumn,
                metaLabelColumn: labelField ?? "label",
                records: records ? RecordOptions(textField: textField, labelField: labelField, idField: idField) : nil,
                workers: workers)
            ingestOptions.reread = reread
            let summary = try ws.ingest(ingestOptions)
            if options.json {
                try Terminal.printJSON(summary)
                if summary.acceptedNothing { throw ExitCode(1) }
                return
            }
            let unit = records ? "rows" : "files"
            let seen = records ? summary.rowsSeen : summary.filesSeen
            print("ingested \(seen) \(unit) from source `\(summary.source)` in \(String(format: "%.1f", summary.seconds)) s")
            print("  accepted     \(summary.accepted)")
            print("  duplicates   \(summary.duplicates)  (exact; recorded, not stored twice)")
            if summary.alreadyIngested > 0 { print("  unchanged    \(summary.alreadyIngested)  (already ingested)") }
            print("  quarantined  \(summary.quarantined)")
            for (kind, n) in summary.quarantinedByKind.sorted(by: { $0.key < $1.key }) { print("    \(kind): \(n)") }
            if summary.labelsImported > 0 { print("  labels imported  \(summary.labelsImported)") }
            if summary.blankLines > 0 { print("  blank lines skipped  \(summary.blankLines)") }
            let other = summary.findingsByKind.filter { $0.key != "duplicate" }
            if !other.isEmpty {
                print("  findings: " + other.sorted(by: { $0.key < $1.key }).map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            }
            if !summary.unlistedFiles.isEmpty {
                print("  \(summary.unlistedFiles.count) file(s) not named in the manifest were ingested without labels (strata findings --kind unlisted-file)")
            }
            if summary.quarantined > 0 { print("see why: strata quarantine list") }
            if summary.unimportedLabelRows > 0 {
                Terminal.note("warning: \(summary.unimportedLabelRows) row(s) have a `label` field that was not imported; to import it: strata ingest --records --label-field label --reread \(paths.joined(separator: " "))")
            }
            if summary.acceptedNothing {
                Terminal.error("nothing was accepted: every file or row of the input was quarantined (see why: strata quarantine list)")
                throw ExitCode(1)
            }
        }
    }
}
