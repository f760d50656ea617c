import Foundation
import StrataAnalysis
import StrataCatalog
import StrataCore
import StrataEngine

/// Options of a pseudo-label run: `strata label pseudo` flags or a `label.pseudo` stage's params.
public struct PseudoLabelOptions: Sendable, Codable, Equatable {
    /// The model whose imported predictions (with probabilities) are used.
    public var model: String
    /// Precision each class's accepted labels must reach on the calibration data (0.5...1).
    public var targetPrecision: Double
    /// Per-class targets that replace `targetPrecision` (label -> precision).
    public var classTargets: [String: Double]
    /// Share of newly accepted samples (per class, rounded up) routed to human spot checks (0...1).
    public var spotCheckShare: Double
    /// A class needs at least this many held-out human-labeled samples that the model predicts as it.
    public var minCalibrationSamples: Int
    public var criterion: PseudoLabeling.Criterion
    /// Splits whose human-labeled samples calibrate the thresholds; nil: every split except the train split.
    public var calibrationSplits: [String]?
    /// Compute and report, write nothing.
    public var dryRun: Bool

    public init(model: String, targetPrecision: Double = 0.95, classTargets: [String: Double] = [:], spotCheckShare: Double = 0.05,
                minCalibrationSamples: Int = 30, criterion: PseudoLabeling.Criterion = .point, calibrationSplits: [String]? = nil,
                dryRun: Bool = false) {
        self.model = model; self.targetPrecision = targetPrecision; self.classTargets = classTargets; self.spotCheckShare = spotCheckShare
        self.minCalibrationSamples = minCalibrationSamples; self.criterion = criterion; self.calibrationSplits = calibrationSplits
        self.dryRun = dryRun
    }

    /// The stage kind in pipeline.yaml.
    public static let stageKind = "label.pseudo"

    /// Options from a `uses: label.pseudo` stage's `params` (unknown or invalid parameters are errors).
    public init(stage: PipelineSpec.Stage) throws {
        var p = StageParams(stage: stage.name, values: stage.params)
        let model = try p.string("model", default: "")
        if model.isEmpty { throw StageError("stage `\(stage.name)`: `label.pseudo` needs params.model (a model with imported predictions)") }
        self.init(model: model)
        targetPrecision = try p.double("target_precision", default: 0.95, min: 0.5, max: 1)
        for (label, v) in try p.map("class_targets") {
            guard let x = v.double, x >= 0.5, x <= 1 else {
                throw StageError("stage `\(stage.name)`: params.class_targets.\(label) must be a precision between 0.5 and 1")
            }
            classTargets[label] = x
        }
        spotCheckShare = try p.double("spot_check_share", default: 0.05, min: 0, max: 1)
        minCalibrationSamples = try p.int("min_calibration_samples", default: 30, min: 1)
        let c = try p.string("criterion", default: "point", allowed: PseudoLabeling.Criterion.allCases.map(\.rawValue))
        criterion = PseudoLabeling.Criterion(rawValue: c) ?? .point
        let splits = try p.strings("calibration_splits")
        calibrationSplits = splits.isEmpty ? nil : splits
        dryRun = try p.bool("dry_run", default: false)
        try p.finish()
    }
}

/// What a pseudo-label run found and did.
public struct PseudoLabelReport: Codable, Sendable {
    public struct ClassResult: Codable, Sendable, Equatable {
        public var label: String
        /// `calibrated`, `too-few-samples`, `unreachable` or `not-in-rulebook`.
        public var status: String
        public var target: Double
        /// Held-out human-labeled samples predicted as this class.
        public var calibrationSamples: Int
        public var threshold: Double?
        /// Precision at and above the threshold on the calibration data, with its 95% Wilson interval.
        public var precision: Double?
        public var precisionLow: Double?
        public var precisionHigh: Double?
        /// Samples carrying this model's pseudo label of this class after the run.
        public var accepted: Int
        /// Why the class gets no pseudo labels, and what to do.
        public var message: String?
    }
    /// Human checks of earlier pseudo labels: spot-checked samples a person has labeled since.
    public struct SpotCheckResult: Codable, Sendable, Equatable {
        public var checked: Int
        public var agreed: Int
        public var agreement: Double
        public var low: Double
        public var high: Double
    }
    public var run: String
    public var model: String
    public var dryRun: Bool
    public var options: PseudoLabelOptions
    public var trainSplit: String
    public var calibrationSplits: [String]
    public var testSplits: [String]
    /// Human-labeled samples with predictions in the calibration splits.
    public var calibrationSamples: Int
    public var classes: [ClassResult]
    /// Samples without any non-pseudo label that have this model's probabilities (outside test splits).
    public var candidates: Int
    /// Unlabeled samples with predictions left alone because they are (or will be) in a test split.
    public var skippedTest: Int
    /// New pseudo labels (samples without one from this model before).
    public var added: Int
    /// Pseudo labels changed to another class (a new event; the old one stays in the history).
    public var corrected: Int
    /// Pseudo labels withdrawn (a `skip` event): below the threshold now, class refused, in a test split, or no prediction.
    public var withdrawn: Int
    /// Accepted with the same label as before: nothing written.
    public var unchanged: Int
    /// Samples carrying this model's pseudo label after the run.
    public var accepted: Int
    /// New samples routed to human spot checks in this run, and all of this model's spot checks.
    public var spotChecks: Int
    public var spotChecksTotal: Int
    public var spotCheckResult: SpotCheckResult?
    public var notes: [String]
}

extension Workspace {
    /// The splits that stay human-only: those named `test`, else the last split (when there are several).
    public static func testSplits(_ spec: SplitSpec) -> [String] {
        let names = spec.ratios.map(\.name)
        if names.contains("test") { return ["test"] }
        return names.count > 1 ? [names.last!] : []
    }

    /// Sample -> pseudo label, for samples where every model's latest pseudo event is a label with the same value.
    public func currentPseudoLabels() throws -> [String: String] {
        var values: [String: Set<String>] = [:], withdrawn = Set<String>()
        for e in try catalog.latestPseudoEvents() {
            if e.status == "label", let v = e.value { values[e.sampleId, default: []].insert(v) } else { withdrawn.insert(e.sampleId) }
        }
        var out: [String: String] = [:]
        for (s, v) in values where v.count == 1 && !withdrawn.contains(s) { out[s] = v.first! }
        return out
    }

    /// `strata label pseudo`: calibrates per-class thresholds for `options.model` on held-out human labels and stores
    /// the accepted model labels as label events with source `pseudo` (one durable transaction). See docs/analysis.md.
    public func pseudoLabel(_ options: PseudoLabelOptions) throws -> PseudoLabelReport {
        let lock = try options.dryRun ? nil : self.lock("label pseudo")
        defer { withExtendedLifetime(lock) {} }
        return try pseudoLabelLocked(options, pipelineRunId: nil)
    }

    /// The pseudo-label run itself; the caller holds the project lock (or writes nothing).
    func pseudoLabelLocked(_ options: PseudoLabelOptions, pipelineRunId: String?) throws -> PseudoLabelReport {
        try PseudoLabelService(workspace: self).run(options, pipelineRunId: pipelineRunId)
    }
}

/// `strata label pseudo` and the `label.pseudo` stage: reads what the planner needs, plans, and applies the plan in
/// one durable transaction (or, dry, writes nothing).
struct PseudoLabelService {
    let workspace: Workspace

    func run(_ options: PseudoLabelOptions, pipelineRunId: String?) throws -> PseudoLabelReport {
        let ws = workspace, catalog = workspace.catalog
        try PseudoLabelPlanner.checkOptions(options)
        let preds = try ws.modelPredictions(options.model)
        guard preds.hasProbs else {
            throw StrataError.usage("model `\(preds.model)` has no probabilities, so no threshold can be calibrated",
                                    fix: "import `probs` with `strata predictions import FILE --model \(preds.model)`")
        }
        let splits = try PseudoLabelPlanner.splits(options, classes: preds.classes, model: preds.model, spec: ws.project.splits)
        let store = try ws.labelStore()

        // The pool: the cleaned set of the last run, or every sample when nothing was cleaned (as versions do).
        let all = try catalog.allSamples()
        let cleaned = Set(try catalog.cleanedSet().map(\.sampleId))
        let pool = cleaned.isEmpty ? all : all.filter { cleaned.contains($0.id) }
        let resolution = try VersionLabels.resolve(ws)
        let parent = Workspace.splitSource(try catalog.versions())
        let (plan, _) = try ws.planSplits(samples: pool, labels: resolution.labels, parent: parent)
        var probs: [String: [Double]] = [:]
        for r in preds.rows { if let p = r.probs { probs[r.sampleId] = p } }
        var current: [String: LabelEventRow] = [:]
        for e in try catalog.latestPseudoEvents() where e.annotator == preds.model { current[e.sampleId] = e }
        let inputs = PseudoLabelPlanner.Inputs(
            options: options, model: preds.model, classes: preds.classes, rulebookLabels: Set(store.rulebook.labels.map(\.name)),
            splits: splits, pool: pool.map(\.id), humanLabels: resolution.labels, split: plan.split, everSplits: try catalog.splitsBySample(),
            probs: probs, humanTouched: try catalog.sampleIdsWithNonPseudoEvents(), gold: Set(try catalog.goldLabels().map(\.sampleId)),
            current: current, states: try catalog.pseudoLabels(model: preds.model), origins: try catalog.sampleOrigins(),
            runId: "pseudo-" + Workspace.compactTimestamp() + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 16),
            pipelineRunId: pipelineRunId, now: Workspace.now())
        let p = PseudoLabelPlanner.plan(inputs)
        if options.dryRun { return p.report }

        let rows = p.writes.enumerated().map { i, w -> PseudoLabelWrite in
            let event = LabelEventRow(sampleId: w.sample, status: w.value == nil ? "skip" : "label", value: w.value, reason: w.reason,
                                      annotator: preds.model, role: AnnotatorRole.model.rawValue, source: LabelSource.pseudo.rawValue,
                                      confidence: w.p, rulebookVersion: store.version.id, importKey: nil, createdAt: inputs.now)
            return PseudoLabelWrite(event: event, confidence: w.p, threshold: w.threshold, spotCheck: p.spotChecks.contains(i))
        }
        try catalog.applyPseudoLabels(rows, model: preds.model, runId: inputs.runId, findings: p.findings,
                                      run: PseudoRunRow(id: inputs.runId, model: preds.model, pipelineRunId: pipelineRunId, report: Workspace.json(p.report),
                                                        accepted: p.report.accepted, withdrawn: p.report.withdrawn, spotChecks: p.report.spotChecks,
                                                        createdAt: inputs.now))
        return p.report
    }
}
