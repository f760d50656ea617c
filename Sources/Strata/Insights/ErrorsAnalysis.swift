import Foundation
import StrataAnalysis
import StrataCatalog
import StrataCore

/// `strata analyze errors`: predictions against labels, per slice, against the intent, with recommendations.
public struct ErrorsReport: Codable, Sendable {
    public var model: String
    /// The dataset version analysed (nil: the live project).
    public var version: String?
    public var classes: [String]
    /// Samples with both a prediction and a label.
    public var evaluated: Int
    /// Predicted samples without a label (not evaluated).
    public var unlabeled: Int
    public var overall: SliceReport
    public var slices: [SliceReport]
    public var checks: [IntentCheck]
    public var labelIssues: Int?
    /// How far the model can judge labels; when it cannot, no recommendation rests on its view of the labels.
    public var trust: ModelTrust
    public var recommendations: [Recommendation]
}

/// Predictions against labels, pure: which samples are evaluated, the per-slice reports, and the findings.
enum ErrorsPlanner {
    /// The evaluated pairs: every predicted sample of the scope that has a label.
    struct Pairs {
        var evaluation: Evaluation
        /// Index into the scope's samples per evaluated sample.
        var samples: [Int]
        /// Predicted samples without a label.
        var unlabeled: Int
    }

    /// Classes grow by any label or prediction outside the model's class list (in order of appearance).
    static func pairs(_ preds: ModelPredictions, labels: [String: AnalysisLabel], samples: [AnalysisSample]) -> Pairs {
        let index = Dictionary(uniqueKeysWithValues: samples.enumerated().map { ($0.element.id, $0.offset) })
        var classes = preds.classes
        var truth: [Int] = [], predicted: [Int] = [], facts: [[String: String]] = [], evalSamples: [Int] = []
        var unlabeled = 0
        for r in preds.rows {
            guard let i = index[r.sampleId] else { continue }
            guard let l = labels[r.sampleId] else { unlabeled += 1; continue }
            if !classes.contains(l.label) { classes.append(l.label) }
            if !classes.contains(r.label) { classes.append(r.label) }
            truth.append(classes.firstIndex(of: l.label)!)
            predicted.append(classes.firstIndex(of: r.label)!)
            facts.append(samples[i].facts)
            evalSamples.append(i)
        }
        return Pairs(evaluation: Evaluation(classes: classes, truth: truth, predicted: predicted, facts: facts), samples: evalSamples,
                     unlabeled: unlabeled)
    }

    /// The error report of each non-empty slice of the evaluated samples.
    static func sliceReports(_ pairs: Pairs, samples: [AnalysisSample], intent: IntentSpec?) -> [SliceReport] {
        let position = Dictionary(uniqueKeysWithValues: pairs.samples.enumerated().map { ($0.element, $0.offset) })
        return AnalysisSlices.slices(samples, members: pairs.samples, intent: intent).filter { !$0.members.isEmpty }.map { s in
            pairs.evaluation.report(kind: s.kind, name: s.name, members: s.members.compactMap { position[$0] })
        }
    }

    /// Every sample that makes one of the intent's unacceptable mistakes, then every failing intent check.
    static func findings(_ pairs: Pairs, checks: [IntentCheck], intent: IntentSpec?, model: String, samples: [AnalysisSample],
                         stage: String, at time: String) -> [FindingRow] {
        let eval = pairs.evaluation
        let modelDetail = JSONValue.object(["model": .string(model)]).canonicalJSON
        var findings: [FindingRow] = []
        for m in intent?.unacceptableMistakes ?? [] {
            guard let t = eval.classes.firstIndex(of: m.truth), let p = eval.classes.firstIndex(of: m.predicted) else { continue }
            for (n, i) in pairs.samples.enumerated() where eval.truth[n] == t && eval.predicted[n] == p {
                findings.append(AnalysisFindings.row(.unacceptableMistake, stage: stage, sample: samples[i],
                                                     reason: "`\(m.truth)` predicted as `\(m.predicted)` by model `\(model)`" + (m.why.map { " (\($0))" } ?? ""),
                                                     detail: modelDetail, key: AnalysisFindings.key(stage, model, samples[i].id), at: time))
            }
        }
        for c in checks where c.verdict.failing {
            findings.append(AnalysisFindings.row(.intentFailure, stage: stage, sample: nil,
                                                 reason: String(format: "%@: observed %.1f%% (95%% CI %.1f%%-%.1f%%, %d samples), %@", c.description, c.observed * 100,
                                                                c.low * 100, c.high * 100, c.samples, c.verdict.rawValue),
                                                 detail: modelDetail, key: AnalysisFindings.key(stage, model, c.description), at: time))
        }
        return findings
    }
}

/// `strata analyze errors`: reads the predictions, the scope and the intent, plans, and replaces the model's findings.
struct ErrorsService {
    let workspace: Workspace

    func run(model: String?, version: String?) throws -> ErrorsReport {
        let intent = try? workspace.intent()
        let preds = try workspace.modelPredictions(model)
        let scope = try workspace.analysisScope(version: version)
        let samples = scope.samples
        let pairs = ErrorsPlanner.pairs(preds, labels: scope.labels, samples: samples)
        let eval = pairs.evaluation
        guard !eval.truth.isEmpty else {
            throw StrataError.project("none of the \(preds.rows.count) samples model `\(preds.model)` predicted has a label, so there is nothing to compare",
                                      fix: "import labels (`strata ingest --label-field`, a manifest) or label samples, then analyze again")
        }
        let overall = eval.report(kind: "all", name: "all samples")
        let reports = ErrorsPlanner.sliceReports(pairs, samples: samples, intent: intent)
        let checks = intent.map { eval.check($0) } ?? []
        var issues: LabelIssuePlanner.Computation?
        if preds.hasProbs {
            issues = try LabelIssuePlanner.compute(preds, labels: scope.labels, samples: Dictionary(uniqueKeysWithValues: samples.map { ($0.id, $0) }))
        }
        // Trust from the probabilities when there are some (calibration included), else from the predicted labels.
        let trust = issues?.report.trust ?? ModelTrust.assess(classes: eval.classes, truth: eval.truth, predicted: eval.predicted)
        let coverage = try intent.map { try workspace.coverage(intent: $0, facts: samples.map(\.facts)) } ?? []
        let recommendations = RecommendationPlanner.recommend(
            RecommendationPlanner.Inputs(samples: samples, labels: scope.labels, votes: scope.votes, intent: intent, coverage: coverage,
                                         eval: (eval, pairs.samples), issues: issues, today: Date()),
            trust: trust)
        let stage = scope.stage("analyze.errors")
        let findings = ErrorsPlanner.findings(pairs, checks: checks, intent: intent, model: preds.model, samples: samples, stage: stage,
                                              at: Workspace.now())
        try workspace.storeAnalysisFindings(findings, stage: stage, model: preds.model, command: "analyze errors")
        return ErrorsReport(model: preds.model, version: scope.version?.name, classes: eval.classes, evaluated: eval.truth.count,
                            unlabeled: pairs.unlabeled, overall: overall, slices: reports, checks: checks, labelIssues: issues?.report.flagged,
                            trust: trust, recommendations: recommendations)
    }
}

/// Evidence per slice (requirements, sources, tags and fields, classes) and the recommendations it leads to. Pure;
/// works without predictions too (coverage, agreement, freshness only).
enum RecommendationPlanner {
    struct Inputs {
        var samples: [AnalysisSample]
        var labels: [String: AnalysisLabel]
        var votes: [String: AnalysisLabel]
        var intent: IntentSpec?
        /// The intent's coverage rows over `samples` (empty without an intent).
        var coverage: [CoverageRow]
        var eval: (Evaluation, [Int])?
        var issues: LabelIssuePlanner.Computation?
        var today: Date
    }

    static func recommend(_ inputs: Inputs, trust: ModelTrust? = nil) -> [Recommendation] {
        Recommender.recommend(evidence(inputs), model: trust)
    }

    /// The evidence of every slice, "all samples" first, then the slices, then one per class.
    static func evidence(_ x: Inputs) -> [SliceEvidence] {
        let samples = x.samples, intent = x.intent
        let all = Array(samples.indices)
        var evalPosition: [Int: Int] = [:]
        if let eval = x.eval { for (n, i) in eval.1.enumerated() { evalPosition[i] = n } }
        func evidence(kind: String, name: String, members: [Int], maxAge: Int?) -> SliceEvidence {
            var e = SliceEvidence(kind: kind, name: name, count: members.count)
            if let cov = x.coverage.first(where: { $0.category == kind && $0.name == name }) {
                e.required = cov.minSamples ?? cov.minShare.map { Int(($0 * Double(samples.count)).rounded(.up)) }
                e.coverageGap = cov.gap
            }
            if let (ev, _) = x.eval {
                let positions = members.compactMap { evalPosition[$0] }
                if !positions.isEmpty {
                    let errors = positions.filter { ev.truth[$0] != ev.predicted[$0] }.count
                    e.errorRate = Proportion(successes: errors, trials: positions.count)
                }
            }
            var confusions: [String: Int] = [:]
            for i in members {
                let s = samples[i]
                if x.labels[s.id] != nil { e.labeled += 1 }
                // Agreement counts every sample with votes, contested ones included (they are the disagreement).
                if let v = x.votes[s.id], v.annotators >= 2 { e.multiAnnotated += 1; if v.agreeing == v.annotators { e.unanimous += 1 } }
                if let hit = x.issues?.issuesBySample[s.id] {
                    e.labelIssues += 1
                    confusions["`\(hit.given)` -> `\(hit.suggested)`", default: 0] += 1
                }
            }
            if x.issues == nil { e.labeled = 0 }
            if let top = confusions.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }) {
                e.topIssue = "\(top.key) (\(top.value))"
                e.topIssueCount = top.value
            }
            if let maxAge {
                e.maxAgeDays = maxAge
                e.stale = members.filter { (AnalysisSlices.ageDays(samples[$0].collected, today: x.today) ?? 0) > maxAge }.count
            }
            return e
        }
        var list = [evidence(kind: "all", name: "all samples", members: all, maxAge: intent?.maxAgeDays)]
        var seenMembers = Set<[Int]>()
        for s in AnalysisSlices.slices(samples, members: all, intent: intent) where !["month", "label"].contains(s.kind) {
            // A tag or field slice with the same samples as a requirement says the same thing twice.
            if !seenMembers.insert(s.members).inserted && !["scenarios", "edge_cases", "noise"].contains(s.kind) { continue }
            let req = AnalysisSlices.requirement(intent, kind: s.kind, name: s.name)
            list.append(evidence(kind: s.kind, name: s.name, members: s.members, maxAge: req?.maxAgeDays ?? intent?.maxAgeDays))
        }
        // Class slices: support against the median class, and labels moved between two classes.
        var byClass: [String: [Int]] = [:]
        for i in all { if let l = x.labels[samples[i].id]?.label { byClass[l, default: []].append(i) } }
        if byClass.count >= 2 {
            let sizes = byClass.values.map(\.count).sorted()
            let median = sizes[sizes.count / 2]
            let shifts = labelShifts(eval: x.eval?.0, issues: x.issues)
            for name in byClass.keys.sorted() {
                var e = evidence(kind: "label", name: name, members: byClass[name]!, maxAge: nil)
                e.medianClassCount = median
                e.shift = shifts.first { $0.to == name }
                list.append(e)
            }
        }
        return list
    }

    /// Labels moved from one class to another: from the confident joint when there are probabilities (only confident
    /// disagreements count), else from the confusion matrix.
    static func labelShifts(eval: Evaluation?, issues: LabelIssuePlanner.Computation?) -> [LabelShift] {
        if let r = issues?.report, !r.confidentJoint.isEmpty {
            let support = r.classes.map { r.trust.support[$0] ?? 0 }
            return ConfusionPattern.shifts(classes: r.classes, counts: r.confidentJoint, support: support)
        }
        guard let eval else { return [] }
        let confusion = eval.report(kind: "all", name: "all").confusion
        return ConfusionPattern.shifts(classes: eval.classes, counts: confusion, support: confusion.map { $0.reduce(0, +) })
    }
}

extension Workspace {
    /// `strata analyze errors`: error rate, per-class precision/recall and confusion per slice with Wilson
    /// intervals, the intent's success criteria and unacceptable mistakes, and recommendations.
    public func analyzeErrors(model: String?, version: String? = nil) throws -> ErrorsReport {
        try ErrorsService(workspace: self).run(model: model, version: version)
    }

    /// Recommendations without predictions: coverage, agreement and freshness of `scope`.
    func recommendationsWithoutModel(_ scope: AnalysisScope, intent: IntentSpec?) throws -> [Recommendation] {
        let coverage = try intent.map { try self.coverage(intent: $0, facts: scope.samples.map(\.facts)) } ?? []
        return RecommendationPlanner.recommend(.init(samples: scope.samples, labels: scope.labels, votes: scope.votes, intent: intent,
                                                     coverage: coverage, eval: nil, issues: nil, today: Date()))
    }

    /// Recommendations from everything known, with predictions when a model has them (the report's top section).
    public func recommendations(model: String?, version: String? = nil) throws -> [Recommendation] {
        if (try? catalog.predictionSets().isEmpty) == false, let r = try? analyzeErrors(model: model, version: version) { return r.recommendations }
        return try recommendationsWithoutModel(try analysisScope(version: version), intent: try? intent())
    }
}
