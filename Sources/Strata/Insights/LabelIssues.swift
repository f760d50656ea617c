import Foundation
import StrataAnalysis
import StrataCatalog
import StrataCore

/// One likely label error.
public struct LabelIssue: Codable, Sendable, Equatable {
    public var sample: String
    public var origin: String
    public var line: Int?
    public var given: String
    public var suggested: String
    /// Probability the model gives the given label.
    public var selfConfidence: Double
    /// Probability of the suggested label.
    public var suggestedProbability: Double
    /// How often the model's predictions at this confidence were right, out of fold (nil when unmeasured): how sure
    /// this flag is.
    public var certainty: Double?
}

public struct LabelIssuesReport: Codable, Sendable {
    public var model: String
    /// The dataset version analysed (nil: the live project).
    public var version: String? = nil
    public var classes: [String]
    public var examined: Int
    public var flagged: Int
    public var thresholds: [String: Double]
    /// `confidentJoint[given][true]` in the order of `classes`.
    public var confidentJoint: [[Int]]
    /// Most likely errors first.
    public var issues: [LabelIssue]
    /// The model's trust measurement (docs/analysis.md, "Trust gating").
    public var trust: ModelTrust
    /// Flags confident learning raised but not reported: every flag of a weak model except its credible
    /// high-confidence disagreements, and every flag of a sample labeled with a starved class.
    public var withheld: Int
}

/// Confident learning over a model's predictions, gated by how far the model can be trusted. Pure: predictions,
/// labels and samples in, the report and its findings out.
enum LabelIssuePlanner {
    struct Computation {
        var report: LabelIssuesReport
        /// Flagged samples by full id, with what they are labeled and what the model suggests.
        var issuesBySample: [String: (given: String, suggested: String)]
        /// Full sample id per reported issue, in the report's order.
        var issueIds: [String]
    }

    static func compute(_ preds: ModelPredictions, labels: [String: AnalysisLabel], samples: [String: AnalysisSample]) throws -> Computation {
        guard preds.hasProbs else {
            throw StrataError.usage("model `\(preds.model)` has labels but no probabilities; label-issue detection needs out-of-sample probabilities",
                                    fix: "import `probs` for each sample (cross-validated predictions, so no sample was in its own model's training data)")
        }
        let k = preds.classes.count
        var probs: [Double] = [], given: [Int32] = [], ids: [String] = []
        for r in preds.rows {
            guard let p = r.probs, let l = labels[r.sampleId], let c = preds.classes.firstIndex(of: l.label) else { continue }
            probs += p
            given.append(Int32(c))
            ids.append(r.sampleId)
        }
        let result = given.isEmpty ? nil : ConfidentLearning.findLabelIssues(.init(probs: probs, labels: given, classes: k))
        let predictedClass = given.indices.map { i in (0..<k).max { probs[i * k + $0] < probs[i * k + $1] || (probs[i * k + $0] == probs[i * k + $1] && $0 > $1) }! }
        let policy = TrustPolicy()
        let trust = ModelTrust.assess(classes: preds.classes, truth: given.map { Int($0) }, predicted: predictedClass, probs: probs, policy: policy)
        let keepConfident = !trust.trustworthy && trust.confidentDisagreementsCredible(policy: policy)
        let starved = Set(trust.starved)
        var issues: [LabelIssue] = [], issueIds: [String] = [], bySample: [String: (String, String)] = [:], withheld = 0
        if let result {
            for (n, i) in result.ranked.enumerated() {
                let s = samples[ids[i]]
                let g = preds.classes[Int(given[i])], sug = preds.classes[result.suggested[n]]
                let pSug = probs[i * k + result.suggested[n]]
                // The gate: a weak model keeps only its credible high-confidence disagreements; a starved class is not judged.
                if starved.contains(g) || (!trust.trustworthy && !(keepConfident && pSug >= policy.credibleConfidence)) { withheld += 1; continue }
                issues.append(LabelIssue(sample: s?.shortId ?? ids[i], origin: s?.origin ?? "", line: s?.line, given: g, suggested: sug,
                                         selfConfidence: result.selfConfidence[n], suggestedProbability: pSug,
                                         certainty: trust.accuracy(atConfidence: pSug)))
                issueIds.append(ids[i])
                bySample[ids[i]] = (g, sug)
            }
        }
        var thresholds: [String: Double] = [:]
        if let result { for (c, t) in zip(preds.classes, result.thresholds) where t <= 1 { thresholds[c] = t } }
        let report = LabelIssuesReport(model: preds.model, classes: preds.classes, examined: given.count, flagged: issues.count,
                                       thresholds: thresholds, confidentJoint: result?.confidentJoint ?? [], issues: issues,
                                       trust: trust, withheld: withheld)
        return Computation(report: report, issuesBySample: bySample, issueIds: issueIds)
    }

    /// One `label-issue` finding per reported issue, with its origin and the model's reasoning.
    static func findings(_ c: Computation, stage: String, samples: [String: AnalysisSample], at time: String) -> [FindingRow] {
        let model = c.report.model
        return zip(c.report.issues, c.issueIds).compactMap { issue, id -> FindingRow? in
            guard let s = samples[id] else { return nil }
            return AnalysisFindings.row(
                .labelIssue, stage: stage, sample: s,
                reason: String(format: "labeled `%@` but model `%@` gives that %.2f and `%@` %.2f: likely mislabeled, probably `%@`",
                               issue.given, model, issue.selfConfidence, issue.suggested, issue.suggestedProbability, issue.suggested)
                    + (issue.certainty.map { String(format: " (the model is right %.0f%% of the time at this confidence; accuracy %.1f%% overall)", $0 * 100, c.report.trust.accuracy.value * 100) } ?? ""),
                detail: JSONValue.object(["model": .string(model), "suggested": .string(issue.suggested)]).canonicalJSON,
                key: AnalysisFindings.key(stage, model, id), at: time)
        }
    }
}

/// `strata analyze label-issues`: reads the predictions and the scope, plans, and replaces the model's findings.
struct LabelIssueService {
    let workspace: Workspace

    func run(model: String?, version: String?) throws -> LabelIssuesReport {
        let preds = try workspace.modelPredictions(model)
        let scope = try workspace.analysisScope(version: version)
        let byId = Dictionary(uniqueKeysWithValues: scope.samples.map { ($0.id, $0) })
        var c = try LabelIssuePlanner.compute(preds, labels: scope.labels, samples: byId)
        c.report.version = scope.version?.name
        let stage = scope.stage("analyze.label-issues")
        let findings = LabelIssuePlanner.findings(c, stage: stage, samples: byId, at: Workspace.now())
        try workspace.storeAnalysisFindings(findings, stage: stage, model: preds.model, command: "analyze label-issues")
        return c.report
    }
}

extension Workspace {
    /// `strata analyze label-issues`: confident learning on the model's out-of-sample probabilities; every flagged
    /// sample becomes a `label-issue` finding with its origin (replacing the previous run's for the same model; other
    /// models' findings stay).
    public func analyzeLabelIssues(model: String?, version: String? = nil) throws -> LabelIssuesReport {
        try LabelIssueService(workspace: self).run(model: model, version: version)
    }
}
