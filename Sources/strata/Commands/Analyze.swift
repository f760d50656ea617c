import ArgumentParser
import Foundation
import Strata
import StrataAnalysis

extension UncertaintyStrategy: ExpressibleByArgument {}
extension Diversity: ExpressibleByArgument {}

extension StrataCommand {
    struct Predictions: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Model outputs per sample: probabilities, predicted labels, embeddings.",
            subcommands: [Import.self, List.self], defaultSubcommand: List.self)

        struct Import: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Import a model's predictions from JSONL.",
                discussion: """
                    One line per sample: `id` (the sample's id, short id or external id), and `probs` (an object class ->
                    probability, or an array in the order of a `classes` field) or `label`, plus an optional `embedding`.
                    The whole file is checked first; nothing is imported if any line is wrong. A second import of the
                    same model replaces its predictions. Examples:
                      {"id": "msg-001", "probs": {"billing": 0.9, "bug": 0.1}}
                      {"id": "3f9a2c1d7e", "classes": ["billing", "bug"], "probs": [0.2, 0.8], "embedding": [0.1, 0.3]}
                      strata predictions import preds.jsonl --model bert-v1
                    """)
            @OptionGroup var options: ProjectOptions
            @Argument(help: "The JSONL file of predictions.") var file: String
            @Option(help: "The model's name (used by --model in analyze and suggest).") var model: String

            func run() throws {
                let ws = try options.open()
                let s = try ws.importPredictions(file: file, model: model)
                if options.json { return try Terminal.printJSON(s) }
                print("imported \(s.predictions) predictions of model `\(s.model)` (\(s.classes.count) classes: \(s.classes.joined(separator: ", ")))"
                      + (s.withProbabilities ? ", with probabilities" : ", labels only") + (s.embeddingDim.map { ", embeddings of \($0)" } ?? ""))
                if s.replaced > 0 { print("replaced the \(s.replaced) predictions of the previous import") }
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Models with imported predictions.")
            @OptionGroup var options: ProjectOptions
            func run() throws {
                let ws = try options.open()
                let list = try ws.predictionModels()
                if options.json { return try Terminal.printJSON(list) }
                if list.isEmpty { print("no predictions; import some with `strata predictions import FILE --model NAME`"); return }
                for m in list {
                    let model = m.trainedOn.map { "trained on \($0)" } ?? "not registered"
                    print("\(m.model)\t\(m.count) predictions\t\(m.hasProbs ? "probabilities" : "labels")\t\(model)\timported \(m.importedAt)\t\(m.sourceFile)")
                }
            }
        }
    }

    struct Analyze: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evidence for when and where to scale: errors, label issues, coverage, drift, freshness.",
            discussion: "Every analysis records what it finds in the findings ledger (`strata findings --stage analyze.<name>`).",
            subcommands: [Errors.self, LabelIssues.self, Coverage.self, DriftCommand.self, Freshness.self])
    }

    struct AnalyzeOptions: ParsableArguments {
        @Option(help: "The model whose predictions to use (default: the latest imported).") var model: String?
        @Option(help: "Analyse exactly the samples and labels frozen in this dataset version (name or id prefix).") var version: String?
    }
}

extension StrataCommand.Analyze {
    struct Errors: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Error rate, per-class precision/recall and confusion per slice, against the intent, with recommendations.",
            discussion: """
                Compares a model's predictions with the labels (the majority of each sample's annotators). Slices: the
                intent's requirements, sources, months, and tags/fields with 2-20 values. Every rate comes with a 95%
                Wilson interval; each success criterion and unacceptable mistake gets a verdict (pass, likely-pass,
                likely-fail, fail). Exit code 1 when a criterion fails or likely fails.
                  strata analyze errors --model bert-v1
                """)
        @OptionGroup var options: ProjectOptions
        @OptionGroup var analyze: StrataCommand.AnalyzeOptions

        func run() throws {
            let ws = try options.open()
            let r = try ws.analyzeErrors(model: analyze.model, version: analyze.version)
            defer { if r.checks.contains(where: { $0.verdict.failing }) { Foundation.exit(1) } }
            if options.json { return try Terminal.printJSON(r) }
            if let v = r.version { print("dataset version \(v)") }
            print("model `\(r.model)`: \(r.evaluated) labeled samples evaluated (\(r.unlabeled) predicted but unlabeled)")
            print("error rate \(pct(r.overall.errorRate)) overall\(r.labelIssues.map { "; \($0) likely label errors" } ?? "")")
            print(r.trust.summary)
            if !r.trust.trustworthy {
                print("model too weak to judge labels: no verdict rests on its view of the labels")
                for s in r.trust.shortfalls { print("  - \(s)") }
            }
            if !r.checks.isEmpty {
                print("\nintent:")
                for c in r.checks {
                    print(String(format: "  %-12@ %@: %.1f%% (95%% CI %.1f%%-%.1f%%, %d samples)", c.verdict.rawValue, c.description, c.observed * 100, c.low * 100, c.high * 100, c.samples))
                }
            }
            printRecommendations(r.recommendations)
            print("\nslices (error rate, 95% CI):")
            for s in r.slices { print("  \(s.kind)=\(s.name)\t\(s.count)\t\(pct(s.errorRate))") }
        }
    }

    struct LabelIssues: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "label-issues",
            abstract: "Likely label errors by confident learning on out-of-sample probabilities.",
            discussion: """
                Per-class thresholds (mean self-confidence), the calibrated confident joint, pruning by noise rate,
                ranked by self-confidence: the method of Northcutt et al., with cleanlab's find_label_issues defaults.
                Use cross-validated probabilities (no sample predicted by a model trained on it).
                  strata analyze label-issues --model bert-v1
                """)
        @OptionGroup var options: ProjectOptions
        @OptionGroup var analyze: StrataCommand.AnalyzeOptions
        @Option(help: "Show at most this many issues (0: all).") var limit = 50
        @Option(help: .hidden) var probsNpy: String?
        @Option(help: .hidden) var labelsNpy: String?
        @Option(help: .hidden) var out: String?

        func run() throws {
            if let probsNpy, let labelsNpy {
                // The benchmark path: arrays in .npy files, no project.
                let r = try Workspace.labelIssues(probsNpy: probsNpy, labelsNpy: labelsNpy)
                let text = r.flagged.map(String.init).joined(separator: "\n") + "\n"
                if let out { try Data(text.utf8).write(to: URL(fileURLWithPath: out)) } else { print(text, terminator: "") }
                Terminal.note(String(format: "samples %d classes %d flagged %d read %.3f s compute %.3f s", r.samples, r.classes, r.flagged.count, r.readSeconds, r.computeSeconds))
                return
            }
            let ws = try options.open()
            let r = try ws.analyzeLabelIssues(model: analyze.model, version: analyze.version)
            if options.json { return try Terminal.printJSON(r) }
            print(StrataCommand.Analyze.header(r))
            for i in (limit > 0 ? Array(r.issues.prefix(limit)) : r.issues) {
                let at = i.line.map { "\(i.origin):\($0)" } ?? i.origin
                let sure = i.certainty.map { String(format: ", right %.0f%% at this confidence", $0 * 100) } ?? ""
                print(String(format: "  %@  labeled %@, likely %@ (%.2f vs %.2f%@)  %@", i.sample, i.given, i.suggested, i.selfConfidence, i.suggestedProbability, sure, at))
            }
            if limit > 0 && r.issues.count > limit { print("  ... \(r.issues.count - limit) more (--limit 0 shows all; `strata findings --kind label-issue`)") }
        }
    }

    /// What the model is worth as a judge, then what it flagged: the lines above the list of issues.
    static func header(_ r: LabelIssuesReport) -> String {
        let policy = TrustPolicy()
        var lines = ["model `\(r.model)`\(r.version.map { " on version \($0)" } ?? ""): \(r.trust.summary)"]
        if r.trust.trustworthy {
            lines.append("\(r.flagged) of \(r.examined) labeled samples are likely label errors")
        } else {
            lines.append("model too weak to judge labels:")
            lines += r.trust.shortfalls.map { "  - \($0)" }
            if r.flagged > 0, let c = r.trust.confident {
                lines.append(String(format: "flagged only its %d high-confidence disagreements (other class at >= %.0f%%, where the model is right %.1f%% of the time on %d samples)",
                                    r.flagged, policy.credibleConfidence * 100, c.value * 100, c.trials))
            } else {
                lines.append("flagged nothing: its confident predictions are not right often enough to overrule a label")
            }
        }
        if r.withheld > 0 {
            var why: [String] = []
            if !r.trust.trustworthy { why.append("the model is too weak") }
            if !r.trust.starved.isEmpty { why.append("starved classes (\(r.trust.starved.map { "`\($0)`" }.joined(separator: ", ")): too few samples to learn) are not judged") }
            lines.append("\(r.withheld) more flags withheld: \(why.joined(separator: "; "))")
        }
        return lines.joined(separator: "\n")
    }

    struct Coverage: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each intent requirement against the data: count, share, target, gap.")
        @OptionGroup var options: ProjectOptions
        @OptionGroup var analyze: StrataCommand.AnalyzeOptions

        func run() throws {
            let ws = try options.open()
            let rows = try ws.analyzeCoverage(version: analyze.version)
            if options.json { return try Terminal.printJSON(rows) }
            if rows.isEmpty { print("intent.yaml has no requirements"); return }
            for r in rows {
                print(String(format: "%@ %@ `%@` [%@]: %d samples (%.1f%%) %@", r.met ? "ok " : "GAP", r.category, r.name, r.selector, r.count, r.share * 100, r.met ? "" : "-> " + r.shortfall))
            }
        }
    }

    struct DriftCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "drift",
            abstract: "Compare a reference set with current data: PSI, Kolmogorov-Smirnov, labels, text, embeddings.",
            discussion: """
                By default the reference is every sample ingested before the latest ingest, and the current set is the
                latest ingest (a new batch). Or name both with field=value selectors, or compare dataset versions:
                  strata analyze drift --reference source=cam-1 --current source=cam-2
                  strata analyze drift --from v1 --to v2        two versions, each with its own labels
                  strata analyze drift --from v1                v1 against the samples added since
                  strata analyze drift --version v2 --reference split=train --current split=test
                """)
        @OptionGroup var options: ProjectOptions
        @OptionGroup var analyze: StrataCommand.AnalyzeOptions
        @Option(help: "Selector of the reference samples, like `source=a` or `collected=2026-01-01|2026-01-02`.") var reference: String?
        @Option(help: "Selector of the current samples.") var current: String?
        @Option(help: "A dataset version as the reference (its samples and frozen labels).") var from: String?
        @Option(help: "A dataset version as the current set (needs --from); without it, the samples added since --from.") var to: String?

        func run() throws {
            let ws = try options.open()
            let r = try ws.analyzeDrift(reference: reference, current: current, model: analyze.model, version: analyze.version, from: from, to: to)
            defer { if r.fields.contains(where: \.drifted) { Foundation.exit(1) } }
            if options.json { return try Terminal.printJSON(r) }
            print("reference: \(r.reference) (\(r.referenceCount))\ncurrent:   \(r.current) (\(r.currentCount))")
            for f in r.fields {
                let stat = f.pValue.map { String(format: "KS D=%.3f p=%.2g", f.statistic, $0) } ?? String(format: "%@=%.3f", f.kind == "embedding" ? "shift" : "PSI", f.statistic)
                print("  \(f.drifted ? "DRIFT" : "ok   ") \(f.kind) `\(f.field)`: \(stat); \(f.detail)")
            }
        }
    }

    struct Freshness: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Age per slice against the intent's max_age_days.")
        @OptionGroup var options: ProjectOptions
        @OptionGroup var analyze: StrataCommand.AnalyzeOptions

        func run() throws {
            let ws = try options.open()
            let rows = try ws.analyzeFreshness(version: analyze.version)
            if options.json { return try Terminal.printJSON(rows) }
            for r in rows {
                let limit = r.maxAgeDays.map { "max \($0) days: \(r.stale) stale" } ?? "no max_age_days in intent.yaml"
                print("\(r.kind) `\(r.slice)`: \(r.count) samples, \(r.oldest ?? "-") .. \(r.newest ?? "-"), median age \(r.medianAgeDays.map(String.init) ?? "-") days; \(limit)")
            }
        }
    }
}

extension StrataCommand {
    struct Suggest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Active learning: which unlabeled samples to label next.",
            discussion: """
                Ranks unlabeled samples with model probabilities by uncertainty, keeps the batch diverse, and stores the
                order as the labeling queue's priority (table labelPriority): the new picks come first, then earlier
                priorities that are still unlabeled, in their old order (--replace clears those instead).
                  strata suggest --budget 100 --strategy margin --diversity per-slice
                  strata suggest --budget 100 --dry-run     show the picks, store nothing
                """)
        @OptionGroup var options: ProjectOptions
        @Option(help: "How many samples to pick.") var budget: Int
        @Option(help: "margin, entropy or least-confidence.") var strategy: UncertaintyStrategy = .margin
        @Option(help: "none, per-slice (equal quotas per intent requirement / source) or kcenter (needs embeddings).") var diversity: Diversity = .perSlice
        @Option(help: "The model whose predictions to use (default: the latest imported).") var model: String?
        @Flag(help: "Show the picks and store nothing.") var dryRun = false
        @Flag(help: "Clear earlier priorities instead of keeping the unlabeled ones behind the new picks.") var replace = false

        func run() throws {
            let ws = try options.open()
            let r = try ws.suggest(budget: budget, strategy: strategy, diversity: diversity, model: model, dryRun: dryRun, replace: replace)
            if options.json { return try Terminal.printJSON(r) }
            let stored = r.dryRun ? "dry run: nothing stored"
                : "stored as the labeling queue's priority" + (r.keptEarlier > 0 ? " (then \(r.keptEarlier) earlier, still unlabeled)" : "")
                  + (r.droppedEarlier > 0 ? "; \(r.droppedEarlier) earlier \(replace ? "cleared" : "dropped (labeled since)")" : "")
            print("\(r.picks.count) of \(r.candidates) unlabeled samples, by \(r.strategy) with \(r.diversity) diversity (model `\(r.model)`); \(stored)")
            for p in r.picks {
                print(String(format: "%4d  %@  %.3f  %@  predicted %@  %@", p.rank, p.sample, p.score, p.slice, p.predicted, p.line.map { "\(p.origin):\($0)" } ?? p.origin))
            }
        }
    }

    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write one self-contained HTML report with charts and recommendations.",
            discussion: "  strata report --out report.html")
        @OptionGroup var options: ProjectOptions
        @Option(help: "The HTML file to write.") var out = "strata-report.html"
        @OptionGroup var analyze: AnalyzeOptions

        func run() throws {
            let ws = try options.open()
            let r = try ws.writeReport(to: out, model: analyze.model, version: analyze.version)
            if options.json { return try Terminal.printJSON(r) }
            print("wrote \(r.path) (\(r.bytes / 1024) KiB, \(r.charts) charts, \(r.recommendations) recommendations)")
        }
    }
}

func pct(_ p: Proportion) -> String {
    String(format: "%.1f%% (%.1f%%-%.1f%%, n=%d)", p.value * 100, p.low * 100, p.high * 100, p.trials)
}

func printRecommendations(_ recs: [Recommendation]) {
    let act = recs.filter { $0.cause != .fine }
    print("\nrecommendations:")
    if act.isEmpty { print("  every slice is fine") }
    for r in act {
        print("  [\(r.cause.rawValue)] \(r.kind) `\(r.slice)`: \(r.action)")
        for e in r.evidence { print("      - \(e)") }
        if !r.certainty.isEmpty { print("      how sure: \(r.certainty)") }
    }
    let fine = recs.count - act.count
    if fine > 0 { print("  (\(fine) slice(s) fine)") }
}
