import Foundation
import StrataAnalysis
import StrataCatalog
import StrataCore
import StrataStore

/// A sample's label for the analyses: the consensus of its annotators.
public struct AnalysisLabel: Sendable, Equatable {
    public var label: String
    /// Annotators whose latest event labels the sample.
    public var annotators: Int
    /// How many of them gave `label`.
    public var agreeing: Int
}

/// A sample as the analyses see it.
struct AnalysisSample {
    var id: String
    var shortId: String
    var kind: String
    var ingestId: String
    var origin: String
    var line: Int?
    var size: Int
    var collected: String
    /// Selector-visible values: tags, fields, probe, then source/modality/format/collected/label (and a version's
    /// split) over them.
    var facts: [String: String]
    /// In a version: the exact content exported (cleaned or raw).
    var contentSha: String? = nil
}

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

public struct DriftReport: Codable, Sendable {
    public var reference: String
    public var current: String
    public var referenceCount: Int
    public var currentCount: Int
    public var fields: [FieldDrift]
}

public struct FreshnessRow: Codable, Sendable, Equatable {
    public var kind: String
    public var slice: String
    public var count: Int
    public var maxAgeDays: Int?
    public var stale: Int
    public var oldest: String?
    public var newest: String?
    public var medianAgeDays: Int?
}

extension Workspace {
    // MARK: the one place labels are read

    /// The labels the analyses use, by the same rule as dataset versions (`VersionLabels.rule`): the consensus
    /// label of decided and adjudicated samples, and of pending samples whose votes all agree (labels imported with
    /// the data, a second annotator still to come). A sample waiting for a reviewer (a tie, agreement below the
    /// threshold) or with split pending votes has no label: analyses do not score a model against a coin flip.
    /// `annotators` and `agreeing` count label votes only (skip and unclear are not labels).
    ///
    /// - important: This is the single place analyses read live labels; every analysis follows it, and
    ///   `--version V` reads the same rule's result frozen in the version.
    public func analysisLabels() throws -> [String: AnalysisLabel] {
        try analysisLabelSet().labels
    }

    /// Ground-truth labels (the rule above) and, for agreement figures, every sample with label votes (its
    /// resolved label, else its most voted one).
    func analysisLabelSet() throws -> (labels: [String: AnalysisLabel], votes: [String: AnalysisLabel], counts: [String: [String: Int]]) {
        var labels: [String: AnalysisLabel] = [:], votes: [String: AnalysisLabel] = [:], counts: [String: [String: Int]] = [:]
        for s in try labelStore().consensus().samples {
            let labelVotes = s.votes.filter { !($0.key.hasPrefix("(") && $0.key.hasSuffix(")")) }
            let annotators = labelVotes.values.reduce(0, +)
            if !labelVotes.isEmpty { counts[s.sample] = labelVotes }
            let top = labelVotes.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.first?.key
            if case .labeled(let l, _) = VersionLabels.rule(s) {
                labels[s.sample] = AnalysisLabel(label: l, annotators: annotators, agreeing: labelVotes[l] ?? 0)
            }
            if let l = labels[s.sample]?.label ?? top {
                votes[s.sample] = AnalysisLabel(label: l, annotators: annotators, agreeing: labelVotes[l] ?? 0)
            }
        }
        return (labels, votes, counts)
    }

    /// What an analysis looks at: the live project (every sample, the labels rule applied to the label store now),
    /// or a dataset version (exactly its members, each with the label frozen in it, and its split as a field).
    struct AnalysisScope {
        var version: VersionRow?
        /// Ground truth per sample id.
        var labels: [String: AnalysisLabel]
        /// Agreement figures per sample id (label votes from the label store, for the scope's samples).
        var votes: [String: AnalysisLabel]
        var samples: [AnalysisSample]
        /// Findings of a versioned analysis go to their own stage (`analyze.errors@v1`), so they never replace the
        /// live project's.
        func stage(_ base: String) -> String { version.map { "\(base)@\($0.name)" } ?? base }
        var name: String { version.map { "version \($0.name)" } ?? "the project" }
    }

    func analysisScope(version ref: String?) throws -> AnalysisScope {
        let set = try analysisLabelSet()
        guard let ref else {
            return AnalysisScope(version: nil, labels: set.labels, votes: set.votes, samples: try analysisSamples(labels: set.labels))
        }
        let v = try version(ref)
        var members: [String: VersionMemberRow] = [:]
        for m in try catalog.versionMembers(v.id) { members[m.sampleId] = m }
        var labels: [String: AnalysisLabel] = [:], votes: [String: AnalysisLabel] = [:]
        for (id, m) in members {
            let counts = set.counts[id] ?? [:]
            let annotators = counts.values.reduce(0, +)
            if let l = m.label, !l.isEmpty {
                // The version's label; agreement counts the label votes of the label store for that label.
                let label = AnalysisLabel(label: l, annotators: annotators, agreeing: counts[l] ?? 0)
                labels[id] = label
                votes[id] = label
            } else if let live = set.votes[id] {
                votes[id] = live
            }
        }
        return AnalysisScope(version: v, labels: labels, votes: votes, samples: try analysisSamples(labels: labels, members: members))
    }

    func analysisSamples(labels: [String: AnalysisLabel], members: [String: VersionMemberRow]? = nil) throws -> [AnalysisSample] {
        let origins = try catalog.sampleOrigins()
        return try catalog.sampleFacts().compactMap { r in
            guard let o = origins[r.id] else { return nil }
            let member = members?[r.id]
            if members != nil && member == nil { return nil }
            var facts: [String: String] = [:]
            if case .object(let meta)? = JSONRecord.parse(Array(r.metadata.utf8)) {
                for key in ["probe", "fields", "tags"] { facts.merge(Self.flatStrings(meta[key])) { $1 } }
            }
            facts["source"] = r.source; facts["modality"] = r.modality; facts["format"] = r.format; facts["collected"] = r.collected
            if let member { facts["split"] = member.split }
            if let l = labels[r.id] { facts["label"] = l.label } else { facts.removeValue(forKey: "label") }
            return AnalysisSample(id: r.id, shortId: o.shortId, kind: o.kind, ingestId: o.ingestId, origin: o.originPath, line: o.originLine,
                                  size: o.size, collected: r.collected, facts: facts, contentSha: member?.contentSha)
        }.sorted { $0.id < $1.id }
    }

    /// Slices over `members` (indices into `samples`): the intent's requirements, then source, month, and each tag or
    /// field with 2 to 20 distinct values.
    func slices(_ samples: [AnalysisSample], members: [Int], intent: IntentSpec?) -> [Slice] {
        var out: [Slice] = []
        for item in intent?.allRequirements ?? [] {
            let m = members.filter { item.requirement.selector.matches(samples[$0].facts) }
            out.append(Slice(kind: item.category.rawValue, name: item.requirement.name, members: m))
        }
        var byKey: [String: [String: [Int]]] = [:]
        for i in members {
            for (k, v) in samples[i].facts where !["collected", "modality", "format", "label"].contains(k) {
                byKey[k, default: [:]][v, default: []].append(i)
            }
            byKey["month", default: [:]][String(samples[i].collected.prefix(7)), default: []].append(i)
        }
        for key in byKey.keys.sorted() {
            let values = byKey[key]!
            guard values.count >= 2 && values.count <= 20 || (key == "source" && !values.isEmpty) else { continue }
            for v in values.keys.sorted() { out.append(Slice(kind: key, name: v, members: values[v]!)) }
        }
        return out
    }

    static func findingKey(_ parts: String...) -> String { shortHash(parts.joined(separator: "\u{1F}")) }

    func finding(kind: String, stage: String, sample: AnalysisSample?, reason: String, detail: String = "{}", key: String) -> FindingRow {
        FindingRow(key: key, kind: kind, stage: stage, sampleId: sample?.id, origin: sample?.origin, line: sample?.line,
                   relatedSampleId: nil, relatedOrigin: nil, relatedLine: nil, reason: reason, detail: detail, runId: nil, createdAt: Workspace.now())
    }

    // MARK: label issues

    struct LabelIssueComputation {
        var report: LabelIssuesReport
        var flaggedIds: Set<String>
        var issuesBySample: [String: (given: String, suggested: String)]
    }

    func computeLabelIssues(_ preds: ModelPredictions, labels: [String: AnalysisLabel], samples: [String: AnalysisSample]) throws -> LabelIssueComputation {
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
        var issues: [LabelIssue] = [], flagged = Set<String>(), bySample: [String: (String, String)] = [:], withheld = 0
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
                flagged.insert(ids[i])
                bySample[ids[i]] = (g, sug)
            }
        }
        var thresholds: [String: Double] = [:]
        if let result { for (c, t) in zip(preds.classes, result.thresholds) where t <= 1 { thresholds[c] = t } }
        let report = LabelIssuesReport(model: preds.model, classes: preds.classes, examined: given.count, flagged: issues.count,
                                       thresholds: thresholds, confidentJoint: result?.confidentJoint ?? [], issues: issues,
                                       trust: trust, withheld: withheld)
        return LabelIssueComputation(report: report, flaggedIds: flagged, issuesBySample: bySample)
    }

    /// `strata analyze label-issues`: confident learning on the model's out-of-sample probabilities; every flagged
    /// sample becomes a `label-issue` finding with its origin (replacing the previous run's for the same model; other
    /// models' findings stay).
    public func analyzeLabelIssues(model: String?, version: String? = nil) throws -> LabelIssuesReport {
        let preds = try modelPredictions(model)
        let scope = try analysisScope(version: version)
        let labels = scope.labels, samples = scope.samples
        let byId = Dictionary(uniqueKeysWithValues: samples.map { ($0.id, $0) })
        var c = try computeLabelIssues(preds, labels: labels, samples: byId)
        c.report.version = scope.version?.name
        let stage = scope.stage("analyze.label-issues")
        let findings = c.report.issues.compactMap { issue -> FindingRow? in
            guard let id = c.flaggedIds.first(where: { byId[$0]?.shortId == issue.sample }) ?? byId.values.first(where: { $0.shortId == issue.sample })?.id,
                  let s = byId[id] else { return nil }
            return finding(kind: "label-issue", stage: stage, sample: s,
                           reason: String(format: "labeled `%@` but model `%@` gives that %.2f and `%@` %.2f: likely mislabeled, probably `%@`",
                                          issue.given, preds.model, issue.selfConfidence, issue.suggested, issue.suggestedProbability, issue.suggested)
                               + (issue.certainty.map { String(format: " (the model is right %.0f%% of the time at this confidence; accuracy %.1f%% overall)", $0 * 100, c.report.trust.accuracy.value * 100) } ?? ""),
                           detail: JSONValue.object(["model": .string(preds.model), "suggested": .string(issue.suggested)]).canonicalJSON,
                           key: Self.findingKey(stage, preds.model, id))
        }
        let lock = try self.lock("analyze label-issues")
        defer { withExtendedLifetime(lock) {} }
        try catalog.replaceFindings(stage: stage, model: preds.model, with: findings)
        return c.report
    }

    // MARK: errors and recommendations

    /// `strata analyze errors`: error rate, per-class precision/recall and confusion per slice with Wilson
    /// intervals, the intent's success criteria and unacceptable mistakes, and recommendations.
    public func analyzeErrors(model: String?, version: String? = nil) throws -> ErrorsReport {
        let intent = try? self.intent()
        let preds = try modelPredictions(model)
        let scope = try analysisScope(version: version)
        let labels = scope.labels, samples = scope.samples
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
        guard !truth.isEmpty else {
            throw StrataError.project("none of the \(preds.rows.count) samples model `\(preds.model)` predicted has a label, so there is nothing to compare",
                                      fix: "import labels (`strata ingest --label-field`, a manifest) or label samples, then analyze again")
        }
        let eval = Evaluation(classes: classes, truth: truth, predicted: predicted, facts: facts)
        let overall = eval.report(kind: "all", name: "all samples")
        let sliceList = slices(samples, members: evalSamples, intent: intent)
        let position = Dictionary(uniqueKeysWithValues: evalSamples.enumerated().map { ($0.element, $0.offset) })
        let reports = sliceList.filter { !$0.members.isEmpty }.map { s in
            eval.report(kind: s.kind, name: s.name, members: s.members.compactMap { position[$0] })
        }
        let checks = intent.map { eval.check($0) } ?? []
        var issues: LabelIssueComputation?
        if preds.hasProbs {
            let byId = Dictionary(uniqueKeysWithValues: samples.map { ($0.id, $0) })
            issues = try computeLabelIssues(preds, labels: labels, samples: byId)
        }
        // Trust from the probabilities when there are some (calibration included), else from the predicted labels.
        let trust = issues?.report.trust ?? ModelTrust.assess(classes: classes, truth: truth, predicted: predicted)
        let recommendations = try recommend(samples: samples, labels: labels, votes: scope.votes, intent: intent, eval: (eval, evalSamples),
                                            issues: issues, trust: trust)

        // Findings: every sample that makes an unacceptable mistake, with its origin.
        let stage = scope.stage("analyze.errors")
        let modelDetail = JSONValue.object(["model": .string(preds.model)]).canonicalJSON
        var findings: [FindingRow] = []
        for m in intent?.unacceptableMistakes ?? [] {
            guard let t = classes.firstIndex(of: m.truth), let p = classes.firstIndex(of: m.predicted) else { continue }
            for (n, i) in evalSamples.enumerated() where truth[n] == t && predicted[n] == p {
                findings.append(finding(kind: "unacceptable-mistake", stage: stage, sample: samples[i],
                                        reason: "`\(m.truth)` predicted as `\(m.predicted)` by model `\(preds.model)`" + (m.why.map { " (\($0))" } ?? ""),
                                        detail: modelDetail, key: Self.findingKey(stage, preds.model, samples[i].id)))
            }
        }
        for c in checks where c.verdict.failing {
            findings.append(finding(kind: "intent-failure", stage: stage, sample: nil,
                                    reason: String(format: "%@: observed %.1f%% (95%% CI %.1f%%-%.1f%%, %d samples), %@", c.description, c.observed * 100,
                                                   c.low * 100, c.high * 100, c.samples, c.verdict.rawValue),
                                    detail: modelDetail, key: Self.findingKey(stage, preds.model, c.description)))
        }
        let lock = try self.lock("analyze errors")
        defer { withExtendedLifetime(lock) {} }
        try catalog.replaceFindings(stage: stage, model: preds.model, with: findings)
        return ErrorsReport(model: preds.model, version: scope.version?.name, classes: classes, evaluated: truth.count, unlabeled: unlabeled, overall: overall,
                            slices: reports, checks: checks, labelIssues: issues?.report.flagged, trust: trust, recommendations: recommendations)
    }

    /// Evidence per slice (requirements, sources, tags and fields) and the recommendations it leads to. Works
    /// without predictions too (coverage, agreement, freshness only).
    func recommend(samples: [AnalysisSample], labels: [String: AnalysisLabel], votes: [String: AnalysisLabel], intent: IntentSpec?,
                   eval: (Evaluation, [Int])?, issues: LabelIssueComputation?, trust: ModelTrust? = nil) throws -> [Recommendation] {
        let all = Array(samples.indices)
        let coverageRows = try intent.map { try self.coverage(intent: $0, facts: samples.map(\.facts)) } ?? []
        let today = Date()
        var evalPosition: [Int: Int] = [:]
        if let eval { for (n, i) in eval.1.enumerated() { evalPosition[i] = n } }
        func evidence(kind: String, name: String, members: [Int], maxAge: Int?) -> SliceEvidence {
            var e = SliceEvidence(kind: kind, name: name, count: members.count)
            if let cov = coverageRows.first(where: { $0.category == kind && $0.name == name }) {
                e.required = cov.minSamples ?? cov.minShare.map { Int(($0 * Double(samples.count)).rounded(.up)) }
                e.coverageGap = cov.gap
            }
            if let (ev, _) = eval {
                let positions = members.compactMap { evalPosition[$0] }
                if !positions.isEmpty {
                    let errors = positions.filter { ev.truth[$0] != ev.predicted[$0] }.count
                    e.errorRate = Proportion(successes: errors, trials: positions.count)
                }
            }
            var confusions: [String: Int] = [:]
            for i in members {
                let s = samples[i]
                if labels[s.id] != nil { e.labeled += 1 }
                // Agreement counts every sample with votes, contested ones included (they are the disagreement).
                if let v = votes[s.id], v.annotators >= 2 { e.multiAnnotated += 1; if v.agreeing == v.annotators { e.unanimous += 1 } }
                if let hit = issues?.issuesBySample[s.id] {
                    e.labelIssues += 1
                    confusions["`\(hit.given)` -> `\(hit.suggested)`", default: 0] += 1
                }
            }
            if issues == nil { e.labeled = 0 }
            if let top = confusions.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }) {
                e.topIssue = "\(top.key) (\(top.value))"
                e.topIssueCount = top.value
            }
            if let maxAge {
                e.maxAgeDays = maxAge
                e.stale = members.filter { (Self.ageDays(samples[$0].collected, today: today) ?? 0) > maxAge }.count
            }
            return e
        }
        var list = [evidence(kind: "all", name: "all samples", members: all, maxAge: intent?.maxAgeDays)]
        var seenMembers = Set<[Int]>()
        for s in slices(samples, members: all, intent: intent) where !["month", "label"].contains(s.kind) {
            // A tag or field slice with the same samples as a requirement says the same thing twice.
            if !seenMembers.insert(s.members).inserted && !["scenarios", "edge_cases", "noise"].contains(s.kind) { continue }
            let req = intent?.allRequirements.first { $0.category.rawValue == s.kind && $0.requirement.name == s.name }
            list.append(evidence(kind: s.kind, name: s.name, members: s.members, maxAge: req?.requirement.maxAgeDays ?? intent?.maxAgeDays))
        }
        // Class slices: support against the median class, and labels moved between two classes.
        var byClass: [String: [Int]] = [:]
        for i in all { if let l = labels[samples[i].id]?.label { byClass[l, default: []].append(i) } }
        if byClass.count >= 2 {
            let sizes = byClass.values.map(\.count).sorted()
            let median = sizes[sizes.count / 2]
            let shifts = Self.labelShifts(eval: eval?.0, issues: issues)
            for name in byClass.keys.sorted() {
                var e = evidence(kind: "label", name: name, members: byClass[name]!, maxAge: nil)
                e.medianClassCount = median
                e.shift = shifts.first { $0.to == name }
                list.append(e)
            }
        }
        return Recommender.recommend(list, model: trust)
    }

    /// Labels moved from one class to another: from the confident joint when there are probabilities (only confident
    /// disagreements count), else from the confusion matrix.
    static func labelShifts(eval: Evaluation?, issues: LabelIssueComputation?) -> [LabelShift] {
        if let r = issues?.report, !r.confidentJoint.isEmpty {
            let support = r.classes.map { r.trust.support[$0] ?? 0 }
            return ConfusionPattern.shifts(classes: r.classes, counts: r.confidentJoint, support: support)
        }
        guard let eval else { return [] }
        let confusion = eval.report(kind: "all", name: "all").confusion
        return ConfusionPattern.shifts(classes: eval.classes, counts: confusion, support: confusion.map { $0.reduce(0, +) })
    }

    static func ageDays(_ isoDate: String, today: Date) -> Int? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        guard let d = f.date(from: String(isoDate.prefix(10))) else { return nil }
        return Int(today.timeIntervalSince(d) / 86400)
    }

    /// Recommendations from everything known, with predictions when a model has them (the report's top section).
    public func recommendations(model: String?, version: String? = nil) throws -> [Recommendation] {
        if (try? catalog.predictionSets().isEmpty) == false, let r = try? analyzeErrors(model: model, version: version) { return r.recommendations }
        let scope = try analysisScope(version: version)
        return try recommend(samples: scope.samples, labels: scope.labels, votes: scope.votes, intent: try? intent(), eval: nil, issues: nil)
    }

    // MARK: coverage

    /// `strata analyze coverage`: each intent requirement against the data; gaps go to the ledger.
    public func analyzeCoverage(version: String? = nil) throws -> [CoverageRow] {
        let intent = try intent()
        let scope = try analysisScope(version: version)
        let rows = try coverage(intent: intent, facts: scope.samples.map(\.facts))
        let stage = scope.stage("analyze.coverage")
        let findings = rows.filter { !$0.met }.map { r in
            finding(kind: "coverage-gap", stage: stage, sample: nil, reason: "\(r.category) `\(r.name)` [\(r.selector)]: \(r.count) samples; \(r.shortfall)",
                    key: Self.findingKey(stage, r.category, r.name))
        }
        let lock = try self.lock("analyze coverage")
        defer { withExtendedLifetime(lock) {} }
        try catalog.replaceFindings(stage: stage, with: findings)
        return rows
    }

    // MARK: drift

    /// Parses `key=value[,key=value]` (values may be `a|b`) into a selector.
    static func parseSelector(_ text: String, option: String) throws -> SpecSelector {
        var conditions: [String: [String]] = [:]
        for part in text.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, !kv[0].isEmpty, !kv[1].isEmpty else {
                throw StrataError.usage("\(option) `\(text)`: `\(part)` is not `field=value`", fix: "write it like `source=field-app` or `collected=2026-03-01|2026-03-02`")
            }
            conditions[kv[0]] = kv[1].split(separator: "|").map(String.init)
        }
        return SpecSelector(conditions)
    }

    /// `strata analyze drift`: compares a reference set with a current one: PSI for categorical fields,
    /// Kolmogorov-Smirnov for numeric ones, the label distribution, text length, and embeddings when the model has
    /// them. The sides:
    /// - default: everything before the latest ingest against the latest ingest (of the same modalities);
    /// - `reference`/`current` selectors (field=value), within the project or within `version`;
    /// - `from` and `to`: two dataset versions, each with its own members and frozen labels (selectors narrow
    ///   each side); `from` alone: the version against every sample added since (not in it).
    public func analyzeDrift(reference: String?, current: String?, model: String?, version: String? = nil,
                             from: String? = nil, to: String? = nil) throws -> DriftReport {
        var ref: [AnalysisSample], cur: [AnalysisSample], refName: String, curName: String, stageName = "analyze.drift"
        let r = try reference.map { try Self.parseSelector($0, option: "--reference") }
        let c = try current.map { try Self.parseSelector($0, option: "--current") }
        if from != nil || to != nil {
            guard version == nil else {
                throw StrataError.usage("--version cannot be combined with --from/--to", fix: "compare two versions with `--from V1 --to V2`, or selectors within one version with `--version V --reference ... --current ...`")
            }
            guard let from else { throw StrataError.usage("--to \(to!) needs --from", fix: "give the earlier version: `strata analyze drift --from V1 --to \(to!)`") }
            let a = try analysisScope(version: from)
            ref = a.samples.filter { s in r.map { $0.matches(s.facts) } ?? true }
            refName = "version \(a.version!.name)" + (reference.map { " (\($0))" } ?? "")
            if let to {
                let b = try analysisScope(version: to)
                cur = b.samples.filter { s in c.map { $0.matches(s.facts) } ?? true }
                curName = "version \(b.version!.name)" + (current.map { " (\($0))" } ?? "")
                stageName += "@\(a.version!.name)..\(b.version!.name)"
            } else {
                let inVersion = Set(a.samples.map(\.id))
                let live = try analysisScope(version: nil)
                cur = live.samples.filter { s in !inVersion.contains(s.id) && (c.map { $0.matches(s.facts) } ?? true) }
                curName = "samples added since version \(a.version!.name)" + (current.map { " (\($0))" } ?? "")
                stageName += "@\(a.version!.name)..now"
                guard !cur.isEmpty else {
                    throw StrataError.usage("every sample of the project is in version \(a.version!.name): there is no new batch to compare with it",
                                            fix: "ingest the new batch first, or compare two versions: `strata analyze drift --from \(a.version!.name) --to V2`")
                }
            }
        } else {
            let scope = try analysisScope(version: version)
            stageName = scope.stage(stageName)
            let samples = scope.samples
            let within = scope.version.map { " of version \($0.name)" } ?? ""
            if r == nil && c == nil {
                let order = try catalog.ingestOrder()
                let withSamples = order.filter { id in samples.contains { $0.ingestId == id } }
                guard withSamples.count >= 2, let last = withSamples.last else {
                    throw StrataError.usage("drift needs two sets of samples, and \(scope.name) has only one ingest with samples",
                                            fix: "name them: `strata analyze drift --reference source=a --current source=b` (any field=value selectors), or compare two versions with `--from V1 --to V2`")
                }
                cur = samples.filter { $0.ingestId == last }
                // A batch is compared with earlier data of its own modalities (text with text, images with images).
                let modalities = Set(cur.compactMap { $0.facts["modality"] })
                ref = samples.filter { $0.ingestId != last && modalities.contains($0.facts["modality"] ?? "") }
                guard !ref.isEmpty else {
                    throw StrataError.usage("the latest ingest (\(last)) is the first with \(modalities.sorted().joined(separator: ", ")) samples, so there is nothing earlier to compare it with",
                                            fix: "name both sides: `strata analyze drift --reference source=a --current source=b`")
                }
                refName = "earlier samples of the same modality\(within)"; curName = "samples of the latest ingest (\(last))\(within)"
            } else {
                cur = samples.filter { s in c.map { $0.matches(s.facts) } ?? !(r!.matches(s.facts)) }
                ref = samples.filter { s in r.map { $0.matches(s.facts) } ?? !(c!.matches(s.facts)) }
                refName = (reference ?? "every sample not matching \(current!)") + within
                curName = (current ?? "every sample not matching \(reference!)") + within
            }
        }
        guard !ref.isEmpty, !cur.isEmpty else {
            throw StrataError.usage("drift needs samples on both sides: reference \(ref.count), current \(cur.count)", fix: "check the selectors against `strata findings`/`strata check` field names")
        }
        let fields = try driftFields(reference: ref, current: cur, model: model)
        let stage = stageName
        let findings = fields.filter(\.drifted).map { f in
            finding(kind: "drift", stage: stage, sample: nil,
                    reason: String(format: "%@ `%@` drifted (%@ %.3f%@): %@", f.kind, f.field, f.pValue == nil ? "statistic" : "KS D", f.statistic,
                                   f.pValue.map { String(format: ", p=%.2g", $0) } ?? "", f.detail) + " [\(refName) -> \(curName)]",
                    key: Self.findingKey(stage, f.field))
        }
        let lock = try self.lock("analyze drift")
        defer { withExtendedLifetime(lock) {} }
        try catalog.replaceFindings(stage: stage, with: findings)
        return DriftReport(reference: refName, current: curName, referenceCount: ref.count, currentCount: cur.count, fields: fields)
    }

    /// The drift of every field between two sets of samples (each carrying its own label in `facts["label"]`).
    func driftFields(reference ref: [AnalysisSample], current cur: [AnalysisSample], model: String?) throws -> [FieldDrift] {
        var fields: [FieldDrift] = []
        var keys = Set<String>()
        for s in ref + cur { keys.formUnion(s.facts.keys) }
        for key in keys.sorted() where !["collected", "label"].contains(key) {
            let rv = ref.compactMap { $0.facts[key] }, cv = cur.compactMap { $0.facts[key] }
            guard rv.count + cv.count > 0 else { continue }
            let rn = rv.compactMap(Double.init), cn = cv.compactMap(Double.init)
            if rn.count == rv.count, cn.count == cv.count, !rn.isEmpty, !cn.isEmpty {
                fields.append(Drift.numeric(key, reference: rn, current: cn))
            } else if Set(rv + cv).count <= 50 {
                fields.append(Drift.categorical(key, reference: rv.isEmpty ? [] : rv + Array(repeating: "(missing)", count: ref.count - rv.count),
                                                current: cv + Array(repeating: "(missing)", count: cur.count - cv.count)))
            }
        }
        fields.append(Drift.numeric("size", reference: ref.map { Double($0.size) }, current: cur.map { Double($0.size) }))
        let rl = ref.compactMap { $0.facts["label"] }, cl = cur.compactMap { $0.facts["label"] }
        if !rl.isEmpty && !cl.isEmpty { fields.append(Drift.categorical("label", kind: "label", reference: rl, current: cl)) }
        func texts(_ list: [AnalysisSample]) -> [String] {
            list.prefix(20_000).compactMap { s in
                guard s.kind == "record" else { return nil }
                // A version's text is the content it froze (cleaned when the pipeline changed it), else the raw record.
                let bytes = s.contentSha.flatMap { try? objects.get($0) } ?? (try? objects.get(s.id))
                return bytes.map { String(decoding: $0, as: UTF8.self) }
            }
        }
        let rt = texts(ref), ct = texts(cur)
        if !rt.isEmpty && !ct.isEmpty {
            let a = Drift.textStatistics(rt), b = Drift.textStatistics(ct)
            fields.append(Drift.numeric("text characters", kind: "text", reference: a.chars, current: b.chars))
            fields.append(Drift.numeric("text words", kind: "text", reference: a.words, current: b.words))
        }
        if let preds = try? modelPredictions(model), preds.embeddingDim != nil {
            var emb: [String: [Double]] = [:]
            for r in preds.rows { if let e = r.embedding { emb[r.sampleId] = e.map(Double.init) } }
            let re = ref.compactMap { emb[$0.id] }, ce = cur.compactMap { emb[$0.id] }
            if let d = Drift.embedding(reference: re, current: ce) { fields.append(d) }
        }
        return fields
    }

    // MARK: freshness

    /// `strata analyze freshness`: age per slice against the intent's `max_age_days` (or a requirement's own);
    /// samples older than that are `stale` findings with their origin.
    public func analyzeFreshness(today: Date = Date(), version: String? = nil) throws -> [FreshnessRow] {
        let intent = try? self.intent()
        let scope = try analysisScope(version: version)
        let samples = scope.samples
        let ages = samples.map { Self.ageDays($0.collected, today: today) }
        var rows: [FreshnessRow] = []
        var staleIds: [Int: Int] = [:]
        func row(kind: String, name: String, members: [Int], maxAge: Int?) -> FreshnessRow {
            let a = members.compactMap { ages[$0] }.sorted()
            var stale = 0
            if let maxAge { for i in members where (ages[i] ?? 0) > maxAge { stale += 1; staleIds[i] = min(staleIds[i] ?? .max, maxAge) } }
            let dates = members.map { samples[$0].collected }.sorted()
            return FreshnessRow(kind: kind, slice: name, count: members.count, maxAgeDays: maxAge, stale: stale, oldest: dates.first,
                                newest: dates.last, medianAgeDays: a.isEmpty ? nil : a[a.count / 2])
        }
        rows.append(row(kind: "all", name: "all samples", members: Array(samples.indices), maxAge: intent?.maxAgeDays))
        for s in slices(samples, members: Array(samples.indices), intent: intent) where ["scenarios", "edge_cases", "noise", "source"].contains(s.kind) {
            let req = intent?.allRequirements.first { $0.category.rawValue == s.kind && $0.requirement.name == s.name }
            rows.append(row(kind: s.kind, name: s.name, members: s.members, maxAge: req?.requirement.maxAgeDays ?? intent?.maxAgeDays))
        }
        let stage = scope.stage("analyze.freshness")
        let findings = staleIds.keys.sorted().map { i in
            finding(kind: "stale", stage: stage, sample: samples[i],
                    reason: "collected \(samples[i].collected), \(ages[i] ?? 0) days ago: older than the \(staleIds[i]!) days the intent allows",
                    key: Self.findingKey(stage, samples[i].id))
        }
        let lock = try self.lock("analyze freshness")
        defer { withExtendedLifetime(lock) {} }
        try catalog.replaceFindings(stage: stage, with: findings)
        return rows
    }
}

/// What `strata label review --from-findings` did.
public struct ReviewQueued: Codable, Sendable {
    /// The finding kind read (`label-issue`).
    public var kind: String
    public var findings: Int
    /// Samples moved to the front of the labeling queue, in review order (short ids).
    public var queued: [String]
    /// Samples every annotator slot of which is taken: for a reviewer (`strata label consensus`), not the queue.
    public var full: [String]
}

extension Workspace {
    /// `strata label review --from-findings`: sends the samples of the live project's `label-issue` findings (most
    /// likely errors first) to the front of the labeling queue, so a person looks at each label instead of a silent
    /// drop or relabel. Nothing is changed in the labels: the new answer is one more vote, and a disagreement with
    /// the old label goes to a reviewer by the usual consensus rules.
    public func queueFindingsForReview(kind: String = "label-issue") throws -> ReviewQueued {
        let stage = kind == "label-issue" ? "analyze.label-issues" : nil
        let rows = try catalog.findings(kind: kind, stage: stage)
        var seen = Set<String>(), ids: [String] = [], short: [String: String] = [:]
        for r in rows { if let id = r.row.sampleId, seen.insert(id).inserted { ids.append(id); short[id] = r.sample ?? id } }
        guard !ids.isEmpty else {
            throw StrataError.project("there are no `\(kind)` findings of the live project to review",
                                      fix: "run `strata analyze label-issues` first (a model too weak to judge labels flags only what stays credible)")
        }
        let k = try rulebook().annotatorsPerSample
        let lock = try self.lock("label review")
        defer { withExtendedLifetime(lock) {} }
        try catalog.refreshQueue(annotatorsPerSample: k)
        let r = try catalog.queueForReview(ids, annotatorsPerSample: k)
        return ReviewQueued(kind: kind, findings: ids.count, queued: r.queued.map { short[$0]! }, full: r.full.map { short[$0]! })
    }
}
