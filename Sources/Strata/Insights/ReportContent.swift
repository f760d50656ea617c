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

/// Everything the report shows, gathered once; `ReportRenderer` turns it into HTML without touching the project.
struct ReportContent {
    /// The dataset version a versioned report describes.
    struct VersionScope: Equatable {
        var id: String
        var name: String
        var state: String
    }
    /// Samples labeled two or more times, and how many of them every annotator agreed on (per label or annotator).
    struct Agreement: Equatable {
        var samples = 0
        var agreeing = 0
    }

    var projectName: String
    /// UTC time of generation (`yyyy-MM-ddTHH:mm:ss...`).
    var generated: String
    var version: VersionScope?
    /// Samples in scope (the version's members, or every sample of the project).
    var scopeSamples: Int
    /// Samples of the whole project, quarantined entries and findings (header figures).
    var projectSamples: Int
    var quarantined: Int
    var findings: Int
    var labeled: Int

    var recommendations: [Recommendation]
    var errors: ErrorsReport?
    /// Why there is no errors section (no predictions, or the analysis failed).
    var errorsNote: String?
    /// The intent's maximum overall error rate (drawn as the dashed line).
    var maxErrorRate: Double?

    var classCounts: [String: Int]
    var coverage: [CoverageRow]?
    var findingsByKind: [String: Int]
    var quarantineByKind: [String: Int]
    var agreementByLabel: [String: Agreement]
    var agreementByAnnotator: [String: Agreement]
    var labelIssues: LabelIssuesReport?

    var drift: DriftReport?
    var driftNote: String?
    var driftTitle: String
    /// Samples in scope per ingest, in ingest order (ingests without samples in scope left out).
    var perIngest: [Int]
    var versions: [VersionInfo]
}

/// The parts of the report's content that are computed, pure.
enum ReportPlanner {
    /// Consensus labels per class.
    static func classCounts(_ labels: [String: AnalysisLabel]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for l in labels.values { counts[l.label, default: 0] += 1 }
        return counts
    }

    /// Per label: samples with 2+ annotators, and the unanimous ones among them.
    static func agreementByLabel(_ votes: [String: AnalysisLabel]) -> [String: ReportContent.Agreement] {
        var byLabel: [String: ReportContent.Agreement] = [:]
        for l in votes.values where l.annotators >= 2 {
            byLabel[l.label, default: .init()].samples += 1
            if l.agreeing == l.annotators { byLabel[l.label, default: .init()].agreeing += 1 }
        }
        return byLabel
    }

    /// Per annotator: their latest human or imported labels on samples with 2+ annotators, and how many match the
    /// consensus.
    /// An annotator's latest event on a sample.
    struct LatestEvent {
        var sampleId: String
        var annotator: String
        var status: String
        var value: String?
        var source: String
    }

    static func agreementByAnnotator(_ events: [LatestEvent], votes: [String: AnalysisLabel]) -> [String: ReportContent.Agreement] {
        var byAnnotator: [String: ReportContent.Agreement] = [:]
        let people: Set<String> = [LabelSource.human.rawValue, LabelSource.import.rawValue]
        for ev in events where ev.status == "label" && people.contains(ev.source) {
            guard let consensus = votes[ev.sampleId], consensus.annotators >= 2, let v = ev.value else { continue }
            byAnnotator[ev.annotator, default: .init()].samples += 1
            if v == consensus.label { byAnnotator[ev.annotator, default: .init()].agreeing += 1 }
        }
        return byAnnotator
    }

    /// Samples per ingest in `order`, skipping ingests without samples.
    static func perIngest(_ samples: [AnalysisSample], order: [String]) -> [Int] {
        var counts: [String: Int] = [:]
        for s in samples { counts[s.ingestId, default: 0] += 1 }
        return order.compactMap { counts[$0] }
    }

    /// The intent's maximum overall error rate, when it has one.
    static func maxErrorRate(_ intent: IntentSpec?) -> Double? {
        let target = intent?.successCriteria.first { $0.metric == .errorRate && $0.slice.isEmpty && $0.label == nil }
        if case .max(let v)? = target?.bound { return v }
        return nil
    }
}

/// `strata report`: runs the analyses (each may fail and say so in place), gathers the content, renders and writes.
struct ReportService {
    let workspace: Workspace

    func content(model: String?, version: String?) throws -> ReportContent {
        let ws = workspace, catalog = workspace.catalog
        let intent = try? ws.intent()
        let scope = try ws.analysisScope(version: version)
        let hasPredictions = !(try catalog.predictionSets()).isEmpty
        var errors: ErrorsReport?, errorsNote: String?
        if hasPredictions {
            do { errors = try ws.analyzeErrors(model: model, version: version) } catch { errorsNote = "\(error)" }
        } else {
            errorsNote = "No model predictions yet: import them with `strata predictions import FILE --model NAME` to see errors by slice, intent checks and label issues."
        }
        let recommendations = try errors?.recommendations ?? ws.recommendationsWithoutModel(scope, intent: intent)
        var labelIssues: LabelIssuesReport?
        if hasPredictions, (try? ws.modelPredictions(model).hasProbs) == true { labelIssues = try? ws.analyzeLabelIssues(model: model, version: version) }
        var drift: DriftReport?, driftNote: String?, driftTitle = "Drift: latest batch vs earlier data"
        do {
            if let v = scope.version {
                guard let parent = v.parentId else {
                    throw StrataError.usage("version \(v.name) has no parent version to compare it with")
                }
                drift = try ws.analyzeDrift(reference: nil, current: nil, model: model, from: parent, to: v.id)
                driftTitle = "Drift: version \(drift!.reference.replacingOccurrences(of: "version ", with: "")) to \(v.name)"
            } else {
                drift = try ws.analyzeDrift(reference: nil, current: nil, model: model)
            }
        } catch { driftNote = "\(error)".components(separatedBy: "\n")[0] }
        let coverage: [CoverageRow]? = intent == nil ? nil : try? ws.analyzeCoverage(version: version)
        let versions = (try? ws.versionList()) ?? []
        let counts = try catalog.counts()
        let ledger = try catalog.ledgerCounts()
        let events = try catalog.latestLabelEvents().map {
            ReportPlanner.LatestEvent(sampleId: $0.sampleId, annotator: $0.annotator, status: $0.status, value: $0.value, source: $0.source)
        }
        let order = try catalog.ingestOrder()
        return ReportContent(
            projectName: ws.project.name, generated: Workspace.now(),
            version: scope.version.map { .init(id: $0.id, name: $0.name, state: $0.state.rawValue) }, scopeSamples: scope.samples.count,
            projectSamples: counts.samples, quarantined: counts.quarantined, findings: counts.findings, labeled: scope.labels.count,
            recommendations: recommendations, errors: errors, errorsNote: errorsNote, maxErrorRate: ReportPlanner.maxErrorRate(intent),
            classCounts: ReportPlanner.classCounts(scope.labels), coverage: coverage, findingsByKind: ledger.findings,
            quarantineByKind: ledger.quarantine, agreementByLabel: ReportPlanner.agreementByLabel(scope.votes),
            agreementByAnnotator: ReportPlanner.agreementByAnnotator(events, votes: scope.votes), labelIssues: labelIssues,
            drift: drift, driftNote: driftNote, driftTitle: driftTitle, perIngest: ReportPlanner.perIngest(scope.samples, order: order),
            versions: versions)
    }

    func write(to path: String, model: String?, version: String?) throws -> ReportSummary {
        let content = try self.content(model: model, version: version)
        var renderer = ReportRenderer()
        let html = renderer.render(content)
        try FileIO.writeAtomically(Walker.absolute(path), Array(html.utf8))
        return ReportSummary(path: path, bytes: html.utf8.count, charts: renderer.charts,
                             recommendations: content.recommendations.filter { $0.cause != .fine }.count)
    }
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
        try ReportService(workspace: self).write(to: path, model: model, version: version)
    }
}
