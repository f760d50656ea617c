import Foundation
import StrataAnalysis
import StrataCatalog
import StrataCore
import StrataStore

/// What `strata report` wrote.
public struct ReportSummary: Codable, Sendable {
    public var path: String
    public var bytes: Int
    public var charts: Int
    public var recommendations: Int
}

extension Workspace {
    /// `strata report`: one self-contained HTML file (inline CSS and SVG, no script, no external resource) with the
    /// recommendations on top, then the intent checks and charts: class balance, coverage vs requirements,
    /// findings and quarantine by reason, agreement by label and annotator, error by slice with intervals, drift,
    /// and data growth per ingest. Analyses that cannot run (no predictions, a single ingest) say so in place.
    ///
    /// With `version`, every analysis runs on exactly that version's samples and frozen labels, and drift compares
    /// the version with its parent (when it has one).
    public func writeReport(to path: String, model: String?, version: String? = nil) throws -> ReportSummary {
        let intent = try? self.intent()
        let scope = try analysisScope(version: version)
        let labels = scope.labels, samples = scope.samples
        let hasPredictions = !(try catalog.predictionSets()).isEmpty
        var errors: ErrorsReport?, errorsNote: String?
        if hasPredictions {
            do { errors = try analyzeErrors(model: model, version: version) } catch { errorsNote = "\(error)" }
        } else {
            errorsNote = "No model predictions yet: import them with `strata predictions import FILE --model NAME` to see errors by slice, intent checks and label issues."
        }
        let recommendations = try errors?.recommendations ?? recommend(samples: samples, labels: labels, votes: scope.votes, intent: intent, eval: nil, issues: nil)
        var labelIssues: LabelIssuesReport?
        if hasPredictions, (try? modelPredictions(model).hasProbs) == true { labelIssues = try? analyzeLabelIssues(model: model, version: version) }
        var drift: DriftReport?, driftNote: String?, driftTitle = "Drift: latest batch vs earlier data"
        do {
            if let v = scope.version {
                guard let parent = v.parentId else {
                    throw StrataError.usage("version \(v.name) has no parent version to compare it with")
                }
                drift = try analyzeDrift(reference: nil, current: nil, model: model, from: parent, to: v.id)
                driftTitle = "Drift: version \(drift!.reference.replacingOccurrences(of: "version ", with: "")) to \(v.name)"
            } else {
                drift = try analyzeDrift(reference: nil, current: nil, model: model)
            }
        } catch { driftNote = "\(error)".components(separatedBy: "\n")[0] }
        let coverage: [CoverageRow]? = intent == nil ? nil : try? analyzeCoverage(version: version)
        let versions = (try? versionList()) ?? []

        var charts = 0
        var html = Self.reportHead(title: "Strata report: \(project.name)")
        let counts = try catalog.counts()
        let scopeText = scope.version.map { "dataset version <code>\(e($0.name))</code> (\(e($0.state.rawValue)), \(samples.count) samples) &middot; " } ?? "\(counts.samples) samples &middot; "
        html += "<header><h1>\(e(project.name))</h1><p class=\"muted\">Strata report, \(e(Workspace.now().prefix(19).replacingOccurrences(of: "T", with: " "))) UTC &middot; \(scopeText)\(labels.count) labeled &middot; \(counts.quarantined) quarantined &middot; \(counts.findings) findings</p></header>"

        // Recommendations first.
        html += "<section><h2>Recommendations</h2>"
        let act = recommendations.filter { $0.cause != .fine }
        if act.isEmpty { html += "<p>Every slice is fine: nothing to collect, relabel or refresh.</p>" }
        for r in act {
            html += "<div class=\"rec \(r.cause.rawValue)\"><div class=\"cause\">\(e(Self.causeTitle(r.cause)))</div><h3>\(e(r.kind)) <code>\(e(r.slice))</code></h3><p>\(e(r.action))</p><ul>"
            for ev in r.evidence { html += "<li>\(e(ev))</li>" }
            html += "</ul></div>"
        }
        let fine = recommendations.filter { $0.cause == .fine }
        if !fine.isEmpty { html += "<p class=\"muted\">Fine: " + fine.map { "\(e($0.kind)) <code>\(e($0.slice))</code>" }.joined(separator: ", ") + "</p>" }
        html += "</section>"

        // Intent checks.
        html += "<section><h2>Against the intent</h2>"
        if let errors {
            html += "<p>Model <code>\(e(errors.model))</code>: \(errors.evaluated) labeled samples evaluated, error rate \(Self.pct(errors.overall.errorRate.value)) (95% CI \(Self.pct(errors.overall.errorRate.low))&ndash;\(Self.pct(errors.overall.errorRate.high))).</p>"
            if errors.checks.isEmpty { html += "<p class=\"muted\">intent.yaml lists no success criteria or unacceptable mistakes.</p>" } else {
                html += "<table><tr><th>verdict</th><th>check</th><th>observed</th><th>95% CI</th><th>samples</th></tr>"
                for c in errors.checks {
                    html += "<tr><td><span class=\"badge \(c.verdict.rawValue)\">\(c.verdict.rawValue)</span></td><td>\(e(c.description))</td><td>\(Self.pct(c.observed))</td><td>\(Self.pct(c.low))&ndash;\(Self.pct(c.high))</td><td>\(c.samples)</td></tr>"
                }
                html += "</table>"
            }
            let sliceItems = errors.slices.filter { ["scenarios", "edge_cases", "noise", "source"].contains($0.kind) }.map {
                SVGChart.Interval(label: "\($0.kind): \($0.name)", value: $0.errorRate.value, low: $0.errorRate.low, high: $0.errorRate.high,
                                  failing: $0.errorRate.low > errors.overall.errorRate.high)
            }
            let errorTarget = intent?.successCriteria.first { $0.metric == .errorRate && $0.slice.isEmpty && $0.label == nil }
            var threshold: Double?
            if case .max(let v)? = errorTarget?.bound { threshold = v }
            html += chart(SVGChart.intervals(title: "Error rate by slice (95% Wilson intervals)" + (threshold != nil ? "; dashed: the intent's maximum" : ""), sliceItems, threshold: threshold), &charts)
        } else {
            html += "<p class=\"muted\">\(e(errorsNote ?? ""))</p>"
        }
        html += "</section>"

        // Data.
        html += "<section><h2>Data</h2><div class=\"grid\">"
        var classCounts: [String: Int] = [:]
        for l in labels.values { classCounts[l.label, default: 0] += 1 }
        html += chart(SVGChart.bars(title: "Class balance (consensus labels)", classCounts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { SVGChart.Bar(label: $0.key, value: Double($0.value)) }), &charts)
        if let coverage {
            var bars: [SVGChart.Bar] = []
            for c in coverage {
                let shareTarget: Double? = c.minShare.map { $0 * Double(samples.count) }
                let target: Double? = c.minSamples.map(Double.init) ?? shareTarget
                bars.append(SVGChart.Bar(label: c.name, value: Double(c.count), target: target, color: c.met ? SVGChart.palette[2] : SVGChart.palette[3]))
            }
            html += chart(SVGChart.bars(title: "Coverage vs requirements (tick: target)", bars), &charts)
        }
        let ledger = try catalog.ledgerCounts()
        let kinds = Set(ledger.findings.keys).union(ledger.quarantine.keys).sorted { (ledger.findings[$0] ?? 0) + (ledger.quarantine[$0] ?? 0) > (ledger.findings[$1] ?? 0) + (ledger.quarantine[$1] ?? 0) }
        html += chart(SVGChart.stackedBars(title: "Findings and quarantine by reason", parts: ["findings", "quarantined"],
                                           rows: kinds.prefix(16).map { (label: $0, values: [Double(ledger.findings[$0] ?? 0), Double(ledger.quarantine[$0] ?? 0)]) }), &charts)
        html += "</div></section>"

        // Labels.
        html += "<section><h2>Labels</h2><div class=\"grid\">"
        var byLabel: [String: (Int, Int)] = [:]
        for l in scope.votes.values where l.annotators >= 2 {
            var v = byLabel[l.label] ?? (0, 0)
            v.0 += 1
            if l.agreeing == l.annotators { v.1 += 1 }
            byLabel[l.label] = v
        }
        html += chart(SVGChart.bars(title: "Agreement by label (unanimous share of samples labeled 2+ times)", byLabel.keys.sorted().map {
            SVGChart.Bar(label: "\($0) (\(byLabel[$0]!.0))", value: (Double(byLabel[$0]!.1) / Double(byLabel[$0]!.0) * 1000).rounded() / 10)
        }, unit: "%"), &charts)
        var byAnnotator: [String: (Int, Int)] = [:]
        for ev in try catalog.latestLabelEvents() where ev.status == "label" && (ev.source == "human" || ev.source == "import") {
            guard let consensus = scope.votes[ev.sampleId], consensus.annotators >= 2, let v = ev.value else { continue }
            var a = byAnnotator[ev.annotator] ?? (0, 0)
            a.0 += 1
            if v == consensus.label { a.1 += 1 }
            byAnnotator[ev.annotator] = a
        }
        html += chart(SVGChart.bars(title: "Agreement with the majority by annotator", byAnnotator.keys.sorted().map {
            SVGChart.Bar(label: "\($0) (\(byAnnotator[$0]!.0))", value: (Double(byAnnotator[$0]!.1) / Double(byAnnotator[$0]!.0) * 1000).rounded() / 10)
        }, unit: "%"), &charts)
        html += "</div>"
        if let li = labelIssues {
            html += "<h3>Likely label errors: \(li.flagged) of \(li.examined)</h3>"
            if !li.issues.isEmpty {
                html += "<table><tr><th>sample</th><th>labeled</th><th>likely</th><th>p(labeled)</th><th>p(likely)</th><th>origin</th></tr>"
                for i in li.issues.prefix(25) {
                    html += "<tr><td><code>\(e(i.sample))</code></td><td>\(e(i.given))</td><td>\(e(i.suggested))</td><td>\(String(format: "%.2f", i.selfConfidence))</td><td>\(String(format: "%.2f", i.suggestedProbability))</td><td>\(e(i.origin))\(i.line.map { ":\($0)" } ?? "")</td></tr>"
                }
                html += "</table>"
                if li.issues.count > 25 { html += "<p class=\"muted\">\(li.issues.count - 25) more: <code>strata findings --kind label-issue</code></p>" }
            }
        }
        html += "</section>"

        // Drift and history.
        html += "<section><h2>Drift and growth</h2><div class=\"grid\">"
        if let drift {
            html += chart(SVGChart.bars(title: driftTitle + " (PSI / KS D / shift; red: drifted)", drift.fields.map {
                SVGChart.Bar(label: ["label", "embedding"].contains($0.kind) ? $0.kind : $0.field, value: ($0.statistic * 1000).rounded() / 1000,
                             color: $0.drifted ? SVGChart.palette[3] : SVGChart.palette[0])
            }), &charts)
        } else {
            html += "<p class=\"muted\">Drift: \(e(driftNote ?? ""))</p>"
        }
        var perIngest: [String: Int] = [:]
        for s in samples { perIngest[s.ingestId, default: 0] += 1 }
        let order = try catalog.ingestOrder().filter { perIngest[$0] != nil }
        var total = 0.0
        let cumulative = order.map { total += Double(perIngest[$0]!); return total }
        html += chart(SVGChart.lines(title: "Samples after each ingest" + (scope.version != nil ? " (of this version's samples)" : ""), xLabels: order.enumerated().map { "#\($0.offset + 1)" },
                                     series: [(name: "samples", values: cumulative)]), &charts)
        html += "</div>"
        html += versionHistory(versions, current: scope.version?.id, &charts)
        html += "</section>"
        html += "<footer class=\"muted\">Generated by <code>strata report</code>. Intervals are 95% Wilson score intervals. Every figure here can be reproduced with <code>strata analyze ... --json</code>.</footer></main></body></html>\n"

        try FileIO.writeAtomically(Walker.absolute(path), Array(html.utf8))
        return ReportSummary(path: path, bytes: html.utf8.count, charts: charts, recommendations: act.count)
    }

    /// The dataset version history: samples per split over the versions (oldest first), labels per version, and a
    /// table of states and dates. Says how to start when there is no version yet.
    func versionHistory(_ versions: [VersionInfo], current: String?, _ charts: inout Int) -> String {
        var html = "<h3>Dataset versions</h3>"
        guard !versions.isEmpty else {
            return html + "<p class=\"muted\">No dataset version yet: freeze one with <code>strata version create v1</code> to follow the data over versions here.</p>"
        }
        let names = versions.map { $0.name + ($0.id == current ? " *" : "") }
        let splits = Set(versions.flatMap { $0.splits.keys }).sorted { Self.splitOrder($0, $1) }
        var series: [(name: String, values: [Double])] = [(name: "all samples", values: versions.map { Double($0.samples) })]
        for sp in splits { series.append((name: sp, values: versions.map { Double($0.splits[sp] ?? 0) })) }
        html += "<div class=\"grid\">"
        html += chart(SVGChart.lines(title: "Samples per split over versions" + (current != nil ? " (*: this report's version)" : ""), xLabels: names, series: series), &charts)
        var labelTotals: [String: Int] = [:]
        for v in versions { for (l, n) in v.labels { labelTotals[l, default: 0] += n } }
        let labelOrder = labelTotals.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
        let shown = Array(labelOrder.prefix(5)), rest = labelOrder.dropFirst(5)
        let parts = shown + (rest.isEmpty ? [] : ["other labels"]) + ["unlabeled"]
        html += chart(SVGChart.stackedBars(title: "Labels per version", parts: parts, rows: versions.enumerated().map { i, v in
            var values = shown.map { Double(v.labels[$0] ?? 0) }
            if !rest.isEmpty { values.append(Double(rest.reduce(0) { $0 + (v.labels[$1] ?? 0) })) }
            values.append(Double(max(v.samples - v.labels.values.reduce(0, +), 0)))
            return (label: names[i], values: values)
        }), &charts)
        html += "</div><table><tr><th>version</th><th>state</th><th>created</th><th>parent</th><th>samples</th><th>splits</th><th>pending / unresolved labels</th></tr>"
        for v in versions {
            let splitText = v.splits.sorted { Self.splitOrder($0.key, $1.key) }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            html += "<tr><td><code>\(e(v.name))</code> \(e(String(v.id.prefix(12))))</td><td><span class=\"badge state-\(e(v.state.rawValue))\">\(e(v.state.rawValue))</span></td><td>\(e(v.created.prefix(10)))</td><td>\(e(v.parent ?? "-"))</td><td>\(v.samples)</td><td>\(e(splitText))</td><td>\(v.pendingLabels) / \(v.unresolvedLabels)</td></tr>"
        }
        return html + "</table>"
    }

    /// train, validation, test first, then any other split names alphabetically.
    static func splitOrder(_ a: String, _ b: String) -> Bool {
        let known = ["train", "validation", "test"]
        switch (known.firstIndex(of: a), known.firstIndex(of: b)) {
        case let (x?, y?): return x < y
        case (_?, nil): return true
        case (nil, _?): return false
        default: return a < b
        }
    }

    private func chart(_ svg: String, _ count: inout Int) -> String {
        count += 1
        return "<figure>\(svg)</figure>"
    }

    private func e(_ s: some StringProtocol) -> String { SVGChart.esc(String(s)) }

    static func pct(_ v: Double) -> String { String(format: "%.1f%%", v * 100) }

    static func causeTitle(_ c: Cause) -> String {
        switch c {
        case .tooFewSamples: "Too few samples: collect more"
        case .labelTrouble: "Label trouble: relabel, clarify the rulebook"
        case .stale: "Stale or drifted: refresh"
        case .fine: "Fine"
        }
    }

    static func reportHead(title: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(SVGChart.esc(title))</title>
        <style>
        body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1d2330;background:#f5f6f8;margin:0}
        main{max-width:1340px;margin:0 auto;padding:24px 28px}
        header h1{margin:0 0 4px;font-size:26px}
        h2{font-size:19px;margin:28px 0 10px;border-bottom:1px solid #dde1e7;padding-bottom:4px}
        h3{font-size:16px;margin:6px 0}
        .muted{color:#6a7283}
        code{font:13px ui-monospace,"DejaVu Sans Mono",monospace;background:#eceef2;padding:1px 4px;border-radius:3px}
        .rec{background:#fff;border-left:6px solid #8c8c8c;border-radius:6px;padding:10px 16px;margin:10px 0;box-shadow:0 1px 2px rgba(0,0,0,.06)}
        .rec.label-trouble{border-color:#c44e52}.rec.too-few-samples{border-color:#e07b39}.rec.stale{border-color:#8172b2}
        .rec .cause{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#6a7283}
        .rec ul{margin:6px 0 0;padding-left:20px}.rec p{margin:4px 0}
        table{border-collapse:collapse;background:#fff;margin:8px 0;font-size:14px}
        th,td{padding:5px 10px;border-bottom:1px solid #e6e8ec;text-align:left;vertical-align:top}
        th{background:#eef0f4}
        .badge{padding:1px 7px;border-radius:9px;font-size:12px;color:#fff;background:#8c8c8c}
        .badge.state-active{background:#5aa469}.badge.state-draft{background:#8c8c8c}.badge.state-retired{background:#8172b2}
        .badge.pass{background:#5aa469}.badge.likely-pass{background:#8dbf7a}.badge.likely-fail{background:#e07b39}.badge.fail{background:#c44e52}
        .grid{display:flex;flex-wrap:wrap;gap:14px}
        figure{margin:8px 0;background:#fff;border-radius:6px;padding:8px;box-shadow:0 1px 2px rgba(0,0,0,.06)}
        svg.chart{display:block;max-width:100%;height:auto}
        svg text{font-size:12px;fill:#1d2330}
        svg .chart-title{font-size:13px;font-weight:600}
        svg .muted{fill:#6a7283}
        svg .value{fill:#3d4455}
        footer{margin:30px 0 10px;font-size:13px}
        </style></head><body><main>
        """
    }
}
