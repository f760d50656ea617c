import ArgumentParser
import Foundation
import Strata
import StrataStore

extension LabelFileFormat: ExpressibleByArgument {}
extension ConsensusMethod: ExpressibleByArgument {}
extension AnnotatorRole: ExpressibleByArgument {}
extension LabelSource: ExpressibleByArgument {}

extension StrataCommand {
    struct Label: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Labels: import and export, consensus per sample, agreement between annotators.",
            discussion: "Labels are append-only events in the catalog (a correction is a new event); consensus and agreement are computed from them. See docs/labeling.md.",
            subcommands: [
                Import.self,
                Export.self,
                Agreement.self,
                Consensus.self,
                Pseudo.self,
                LabelServe.self,
                LabelTaskers.self,
                Review.self,
            ])

        struct Import: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Import labels from CSV, JSONL or a Label Studio JSON export.",
                discussion: """
                    All or nothing: a file with a bad row imports nothing and lists every problem with its line.
                    Labels already in the catalog are skipped, so importing a file twice adds nothing.
                    Columns / keys: sample (id or short id), status (label|skip|unclear), value, reason, annotator,
                    role, source (human|import|model|pseudo), confidence, rulebook_version, answers, created_at.
                    Examples:
                      strata label import labels.csv
                      strata label import export.json --format label-studio
                      strata label import predictions.jsonl --source model --role model --annotator model:v3
                      strata label import gold.csv --gold
                    """)
            @OptionGroup var options: ProjectOptions
            @Argument(help: "The file to import.") var file: String
            @Option(help: "csv, jsonl or label-studio (default: from the extension: .csv, .jsonl, .json).") var format: LabelFileFormat?
            @Option(help: "Annotator for rows that name none (default: import:<file name>).") var annotator: String?
            @Option(help: "Role for rows that name none: \(AnnotatorRole.allCases.map(\.rawValue).joined(separator: ", ")).") var role: AnnotatorRole = .importer
            @Option(help: "Source for rows that name none: human, import, model or pseudo.") var source: LabelSource = .import
            @Flag(help: "Store the labels as the known answers of gold samples (for annotator accuracy), not as events.") var gold = false
            @Option(help: "Label Studio: the data field that holds the sample id (default: strata_id).") var sampleField: String?
            @Option(help: "CSV/JSONL: the field holding your own row id, as ingest recorded it with --id-field (instead of `sample`).") var idField: String?

            func run() throws {
                let ws = try options.open()
                let s = try ws.importLabels(LabelImportOptions(path: file, format: format, annotator: annotator, role: role,
                                                               source: source, gold: gold, sampleField: sampleField, idField: idField))
                if options.json { return try Terminal.printJSON(s) }
                if s.gold {
                    print("\(s.stored) gold answer(s) set from \(s.file)")
                } else {
                    print("\(s.read) label(s) read from \(s.file): \(s.stored) stored, \(s.duplicates) already present")
                }
            }
        }

        struct Export: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Export every label event as CSV, JSONL or Label Studio tasks.",
                discussion: """
                    Writes to stdout unless --out is given (the file is written atomically).
                    Label Studio: one task per sample with its text (or a URL of its file) and its events as
                    annotations; --config writes a matching labeling config.
                    Examples:
                      strata label export --format csv > labels.csv
                      strata label export --format label-studio --out tasks.json --config config.xml
                    """)
            @OptionGroup var options: ProjectOptions
            @Option(help: "csv, jsonl or label-studio (default: from --out's extension, else jsonl).") var format: LabelFileFormat?
            @Option(help: "Write to this file instead of stdout.") var out: String?
            @Option(help: "Label Studio: also write the labeling config (XML) to this file.") var config: String?
            @Option(help: "Label Studio: URL prefix for image and audio files (followed by the project-relative path).") var mediaUrl: String?

            func run() throws {
                let ws = try options.open()
                let fmt = format ?? out.flatMap(LabelFileFormat.infer(path:)) ?? .jsonl
                let bytes = try ws.exportLabels(format: fmt, mediaURL: mediaUrl)
                if let config {
                    try FileIO.writeAtomically(Walker.absolute(config), Array(try ws.labelStudioConfig().utf8))
                }
                if let out {
                    try FileIO.writeAtomically(Walker.absolute(out), bytes)
                    Terminal.note("wrote \(out) (\(fmt.rawValue), \(bytes.count) bytes)")
                } else {
                    Label.writeStdout(bytes)
                }
            }
        }

        struct Agreement: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Agreement between annotators: Cohen's kappa per pair, Fleiss' kappa, Krippendorff's alpha, per label and per annotator, and accuracy on gold samples.",
                discussion: """
                    Each annotator's latest label per sample is a rating; skip and unclear are missing ratings;
                    reviewer and admin events (adjudications) are not ratings. Exit code 1 when Krippendorff's alpha
                    is below the rulebook's agreement_threshold.
                    """)
            @OptionGroup var options: ProjectOptions

            func run() throws {
                let ws = try options.open()
                let r = try ws.labelStore().agreement()
                if options.json { try Terminal.printJSON(r) } else { print(Label.render(r)) }
                if let alpha = r.agreement.krippendorffAlpha, alpha < r.threshold { throw ExitCode(1) }
            }
        }

        struct Consensus: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Consensus label per sample, and the adjudication queue (ties, low agreement, unclear).",
                discussion: """
                    Each annotator's latest event counts once; a reviewer's or admin's label decides. Samples with
                    fewer annotators than annotators_per_sample are pending; a tie, an unclear majority, or support
                    below agreement_threshold sends a sample to adjudication.
                      strata label consensus --queue          only the adjudication queue
                      strata label consensus --method dawid-skene --json
                    """)
            @OptionGroup var options: ProjectOptions
            @Option(help: "majority or dawid-skene (weights annotators by their estimated accuracy).") var method: ConsensusMethod = .majority
            @Flag(help: "List only the samples that need adjudication.") var queue = false

            func run() throws {
                let ws = try options.open()
                var r = try ws.labelStore().consensus(method: method)
                if queue { r.samples = r.adjudication }
                if options.json { return try Terminal.printJSON(r) }
                for s in r.samples {
                    let votes = s.votes.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                    var line = "\(s.shortId)\t\(s.state.rawValue)\t\(s.label ?? "-")\t\(Label.fmt(s.support))\t\(votes)"
                    if let reason = s.reason { line += "\t\(reason)" }
                    if let g = s.gold { line += "\tgold: \(g)" }
                    print(line)
                }
                let counts = r.counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                print("\n\(r.samples.count) sample(s) (\(r.method.rawValue), \(r.annotatorsPerSample) annotator(s) per sample, threshold \(Label.fmt(r.threshold))): \(counts.isEmpty ? "none" : counts)")
                if let f = r.dawidSkeneFallback { print(f.message) }
                if let acc = r.estimatedAccuracy, !acc.isEmpty {
                    print("estimated accuracy: " + acc.map { "\($0.annotator) \(Label.fmt($0.value))" }.joined(separator: ", "))
                }
                if !r.adjudication.isEmpty { print("\(r.adjudication.count) sample(s) wait for adjudication") }
            }
        }

        /// Writes to stdout with write(2); a closed pipe (`| head`) ends the output quietly.
        static func writeStdout(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { buf in
                var off = 0
                while off < buf.count {
                    let n = write(1, buf.baseAddress! + off, buf.count - off)
                    if n < 0 { if errno == EINTR { continue }; return }
                    off += n
                }
            }
        }

        static func fmt(_ x: Double?) -> String {
            guard let x else { return "-" }
            return String(format: "%.3f", x)
        }

        static func render(_ r: LabelAgreementReport) -> String {
            let a = r.agreement
            var out: [String] = []
            out.append("\(a.items) sample(s), \(a.pairableItems) with two or more ratings; \(a.annotators) annotator(s), \(a.ratings) rating(s); rulebook r\(r.rulebookVersion), threshold \(fmt(r.threshold))")
            out.append("")
            out.append("Krippendorff's alpha (nominal)  \(fmt(a.krippendorffAlpha))" + ((a.krippendorffAlpha ?? 1) < r.threshold ? "  below the threshold" : ""))
            out.append("Fleiss' kappa                   \(fmt(a.fleissKappa))")
            out.append("mean Cohen's kappa (pairs)      \(fmt(a.meanCohenKappa))")
            out.append("observed agreement              \(fmt(a.percentAgreement))")
            if !a.labels.isEmpty {
                out.append("\nper label           ratings   alpha   specific agreement")
                for l in a.labels {
                    out.append(l.label.padding(toLength: 18, withPad: " ", startingAt: 0) + " " + String(l.ratings).leftPad(7) + "   " + fmt(l.krippendorffAlpha).leftPad(5) + "   " + fmt(l.specificAgreement).leftPad(5)
                               + (r.labelsBelowThreshold.contains(l.label) ? "  below the threshold" : ""))
                }
            }
            if !a.annotatorStats.isEmpty {
                let est = Dictionary(r.estimatedAccuracy.map { ($0.annotator, $0.value) }, uniquingKeysWith: { x, _ in x })
                out.append("\nper annotator       ratings   agreement   kappa   gold        est. accuracy")
                for s in a.annotatorStats {
                    let gold = s.goldItems == 0 ? "-" : "\(s.goldCorrect)/\(s.goldItems) \(fmt(s.goldAccuracy))"
                    out.append(s.annotator.padding(toLength: 18, withPad: " ", startingAt: 0) + " " + String(s.ratings).leftPad(7) + "   " + fmt(s.agreement).leftPad(9)
                               + "   " + fmt(s.meanCohenKappa).leftPad(5) + "   " + gold.padding(toLength: 11, withPad: " ", startingAt: 0) + " " + fmt(est[s.annotator]))
                }
            }
            if !a.pairs.isEmpty {
                out.append("\npairs (Cohen's kappa)")
                for p in a.pairs { out.append("  \(p.a) / \(p.b): \(fmt(p.cohenKappa)) on \(p.items) shared sample(s), \(fmt(p.agreement)) agreement") }
            }
            return out.joined(separator: "\n")
        }
    }
}

extension String {
    fileprivate func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
