import Foundation

/// Why a slice needs attention.
public enum Cause: String, Sendable, Codable, CaseIterable {
    /// Too few samples: below the intent's requirement, or too few to measure the error rate precisely.
    case tooFewSamples = "too-few-samples"
    /// Labels disagree or many are likely wrong.
    case labelTrouble = "label-trouble"
    /// Collected too long ago, or drifted away from current data.
    case stale
    /// Nothing to do.
    case fine
}

/// Everything known about one slice that bears on what to do next.
public struct SliceEvidence: Sendable, Equatable, Codable {
    public var kind: String
    public var name: String
    public var count: Int
    /// The intent's `min_samples` (or the count its `min_share` implies), when the slice is a requirement.
    public var required: Int?
    /// Samples still missing to meet the requirement.
    public var coverageGap: Int
    /// Errors of the model against the labels, when predictions exist.
    public var errorRate: Proportion?
    /// Samples with a label (the base of `labelIssues`).
    public var labeled: Int
    /// Samples confident learning flags as likely label errors.
    public var labelIssues: Int
    /// The most common flagged confusion: given label -> likely label, and how many flagged samples it has.
    public var topIssue: String?
    public var topIssueCount: Int = 0
    /// For a class slice (`kind` `label`): the median labeled count of the classes, for the relative support rule.
    public var medianClassCount: Int?
    /// For a class slice: labels moved into this class from another, read from the confusion pattern.
    public var shift: LabelShift?
    /// Samples with two or more annotators, and how many of them all agree.
    public var multiAnnotated: Int
    public var unanimous: Int
    /// Samples older than the intent's maximum age (when one is set).
    public var stale: Int
    public var maxAgeDays: Int?
    /// Population stability index of this slice's share between reference and current data, when measured.
    public var drift: Double?

    public init(kind: String, name: String, count: Int, required: Int? = nil, coverageGap: Int = 0, errorRate: Proportion? = nil,
                labeled: Int = 0, labelIssues: Int = 0, topIssue: String? = nil, topIssueCount: Int = 0, multiAnnotated: Int = 0, unanimous: Int = 0,
                stale: Int = 0, maxAgeDays: Int? = nil, drift: Double? = nil, medianClassCount: Int? = nil, shift: LabelShift? = nil) {
        self.topIssueCount = topIssueCount; self.medianClassCount = medianClassCount; self.shift = shift
        self.kind = kind; self.name = name; self.count = count; self.required = required; self.coverageGap = coverageGap
        self.errorRate = errorRate; self.labeled = labeled; self.labelIssues = labelIssues; self.topIssue = topIssue
        self.multiAnnotated = multiAnnotated; self.unanimous = unanimous; self.stale = stale; self.maxAgeDays = maxAgeDays
        self.drift = drift
    }
}

/// What to do about one slice, and why.
public struct Recommendation: Sendable, Equatable, Codable {
    public var kind: String
    public var slice: String
    public var cause: Cause
    /// One sentence: what to do.
    public var action: String
    /// The measurements behind it.
    public var evidence: [String]
    /// For `too-few-samples`: how many more samples to collect.
    public var collect: Int?
    /// How sure the verdict is and what it rests on (with the model's accuracy when it rests on the model).
    public var certainty: String = ""
}

/// Thresholds of the recommendation rules (documented in docs/analysis.md).
public struct RecommendationPolicy: Sendable, Equatable {
    /// The widest acceptable 95% interval on a slice's error rate before more samples are asked for.
    public var maxIntervalWidth = 0.25
    /// A slice's label-issue rate must exceed the project's rate with confidence (Wilson lower bound above it)
    /// and be at least this high.
    public var minIssueRate = 0.08
    public var minIssues = 3
    /// Label issues of a slice count as label trouble only when they are concentrated: one confusion (given ->
    /// likely) holds at least `minConcentration` of them, or the slice's rate is at least `minRateRatio` times the
    /// project's. Flags spread thinly over every class and slice are the model's errors, not a labeling problem.
    public var minConcentration = 0.5
    public var minRateRatio = 2.0
    /// The model's bar and the class-support bars (`TrustPolicy`).
    public var trust = TrustPolicy()
    /// Below this share of unanimous multi-annotated samples (with at least `minMultiAnnotated` of them) labels are trouble.
    public var minAgreement = 0.7
    public var minMultiAnnotated = 5
    /// Share of samples older than the maximum age that makes a slice stale.
    public var maxStaleShare = 0.5
    /// PSI above which a slice's share has drifted.
    public var maxDrift = 0.25
    public init() {}
}

public enum Recommender {
    /// Separates the causes for each slice: too few samples, label trouble, stale data, or fine. A slice can have
    /// several causes; `fine` is given only when it has none. Recommendations come worst first.
    ///
    /// `model` is the trust measurement of the model behind `errorRate` and `labelIssues`: when it is missing or not
    /// trustworthy, no verdict rests on the model's view of the labels (annotator agreement still counts).
    public static func recommend(_ slices: [SliceEvidence], policy: RecommendationPolicy = RecommendationPolicy(),
                                 model: ModelTrust? = nil) -> [Recommendation] {
        let modelJudges = model?.trustworthy ?? false
        let modelNote = model.map { "; " + $0.summary } ?? ""
        let totalLabeled = slices.first(where: { $0.kind == "all" })?.labeled ?? slices.reduce(0) { $0 + $1.labeled }
        let totalIssues = slices.first(where: { $0.kind == "all" })?.labelIssues ?? slices.reduce(0) { $0 + $1.labelIssues }
        let baseRate = totalLabeled > 0 ? Double(totalIssues) / Double(totalLabeled) : 0
        var out: [(Int, Recommendation)] = []
        for s in slices where s.kind != "all" {
            var found: [Recommendation] = []
            // Label trouble: disagreement, or significantly more likely label errors than elsewhere.
            let issues = Proportion(successes: s.labelIssues, trials: s.labeled)
            var labelEvidence: [String] = [], labelCertainty: [String] = []
            let starved = s.kind == "label" && s.medianClassCount.map { ModelTrust.isStarved(count: s.count, median: $0, policy: policy.trust) } == true
            let concentrated = s.labelIssues > 0 && (Double(s.topIssueCount) >= policy.minConcentration * Double(s.labelIssues)
                                                     || issues.value >= policy.minRateRatio * baseRate)
            if modelJudges, !starved, s.kind != "label", s.labeled > 0, s.labelIssues >= policy.minIssues, issues.value >= policy.minIssueRate,
               issues.low > baseRate, concentrated {
                labelCertainty.append("likely: the slice's label-issue rate is above the project's with 95% confidence\(modelNote)")
                labelEvidence.append("\(s.labelIssues) of \(s.labeled) labeled samples (\(pct(issues.value)), 95% CI \(pct(issues.low))-\(pct(issues.high))) are likely label errors, against \(pct(baseRate)) in the whole project" + (s.topIssue.map { "; most often \($0)" } ?? ""))
            }
            if s.multiAnnotated >= policy.minMultiAnnotated {
                let agree = Double(s.unanimous) / Double(s.multiAnnotated)
                if agree < policy.minAgreement {
                    labelEvidence.append("annotators agree on only \(s.unanimous) of \(s.multiAnnotated) samples labeled more than once (\(pct(agree)))")
                    labelCertainty.append("measured: annotators' votes, not the model")
                }
            }
            if modelJudges, !starved, let shift = s.shift {
                labelEvidence.append(shift.sentence)
                labelCertainty.append("likely (p=\(String(format: "%.1g", shift.pValue)))\(modelNote)")
            }
            if !labelEvidence.isEmpty {
                let which = s.shift.map { " (`\($0.to)` -> `\($0.from)`)" } ?? s.topIssue.map { " (\($0))" } ?? ""
                found.append(Recommendation(kind: s.kind, slice: s.name, cause: .labelTrouble,
                                            action: "review the flagged samples (`strata label review --from-findings`) and clarify the rulebook for the labels they confuse\(which) before adding data here",
                                            evidence: labelEvidence + errorEvidence(s), collect: nil, certainty: labelCertainty.joined(separator: "; ")))
            }
            // Too few samples: below the requirement, or an error rate that cannot be measured precisely enough.
            var fewEvidence: [String] = [], fewCertainty = "sure: counted"
            var collect = 0
            if starved, let median = s.medianClassCount {
                fewEvidence.append("\(s.count) labeled samples of this class against a median of \(median) per class (bar: \(policy.trust.minClassSupport), or \(Int(policy.trust.starvedShare * 100))% of the median)")
                collect = max(policy.trust.minClassSupport, median / 2) - s.count
            }
            if s.coverageGap > 0, let r = s.required {
                fewEvidence.append("\(s.count) samples against the \(r) the intent requires")
                collect = max(collect, s.coverageGap)
            }
            // A class is judged by its support (above), not by the precision of its error rate: the interval rule
            // named every healthy class of a small set.
            if s.kind != "label", let e = s.errorRate, e.trials > 0, e.width > policy.maxIntervalWidth {
                let need = Statistics.trialsForWidth(policy.maxIntervalWidth, rate: e.value)
                fewEvidence.append("error rate \(pct(e.value)) is measured on \(e.trials) samples: its 95% interval \(pct(e.low))-\(pct(e.high)) is wider than \(pct(policy.maxIntervalWidth)); about \(need) labeled samples narrow it enough")
                collect = max(collect, need - e.trials)
                fewCertainty = "sure: the interval follows from the counts\(modelNote)"
            }
            if !fewEvidence.isEmpty {
                found.append(Recommendation(kind: s.kind, slice: s.name, cause: .tooFewSamples,
                                            action: "collect about \(collect) more samples matching this slice, and label them",
                                            evidence: fewEvidence + errorEvidence(s), collect: collect, certainty: fewCertainty))
            }
            // Stale or drifted.
            var staleEvidence: [String] = []
            if let maxAge = s.maxAgeDays, s.count > 0, Double(s.stale) / Double(s.count) > policy.maxStaleShare {
                staleEvidence.append("\(s.stale) of \(s.count) samples were collected more than \(maxAge) days ago")
            }
            if let d = s.drift, d > policy.maxDrift {
                staleEvidence.append(String(format: "its share drifted between the reference and current data (PSI %.2f)", d))
            }
            if !staleEvidence.isEmpty {
                found.append(Recommendation(kind: s.kind, slice: s.name, cause: .stale,
                                            action: "refresh this slice with recently collected samples",
                                            evidence: staleEvidence, collect: nil, certainty: "sure: collection dates are counted"))
            }
            if found.isEmpty {
                var evidence = ["\(s.count) samples" + (s.required.map { " (requirement \($0) met)" } ?? "")]
                evidence += errorEvidence(s)
                if s.labeled > 0 { evidence.append("\(s.labelIssues) of \(s.labeled) labeled samples flagged as likely label errors") }
                found.append(Recommendation(kind: s.kind, slice: s.name, cause: .fine, action: "nothing to do", evidence: evidence, collect: nil))
            }
            for r in found { out.append((rank(r, s), r)) }
        }
        return out.sorted { $0.0 != $1.0 ? $0.0 > $1.0 : ($0.1.kind, $0.1.slice) < ($1.1.kind, $1.1.slice) }.map(\.1)
    }

    static func rank(_ r: Recommendation, _ s: SliceEvidence) -> Int {
        let requirement = ["scenarios", "edge_cases", "noise"].contains(s.kind) ? 1000 : 0
        switch r.cause {
        case .labelTrouble: return 3_000_000 + requirement + s.labelIssues
        case .tooFewSamples: return 2_000_000 + requirement + (r.collect ?? 0)
        case .stale: return 1_000_000 + requirement + s.stale
        case .fine: return requirement
        }
    }

    static func errorEvidence(_ s: SliceEvidence) -> [String] {
        guard let e = s.errorRate, e.trials > 0 else { return [] }
        return ["model error rate \(pct(e.value)) (95% CI \(pct(e.low))-\(pct(e.high)), \(e.trials) samples)"]
    }

    static func pct(_ v: Double) -> String { String(format: "%.1f%%", v * 100) }
}
