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

/// Which samples get, keep, change or lose a pseudo label, which go to spot checks, and what is reported. Pure: the
/// service reads the inputs and applies the plan.
enum PseudoLabelPlanner {
    /// The splits of a run: the train split (never calibrates), the test splits (stay human-labeled) and the
    /// calibration splits.
    struct Splits: Equatable {
        var train: String
        var test: [String]
        var calibration: [String]
    }

    struct Inputs {
        var options: PseudoLabelOptions
        var model: String
        var classes: [String]
        var rulebookLabels: Set<String>
        var splits: Splits
        /// Sample ids of the pool, in catalog order.
        var pool: [String]
        /// Resolved human labels (the versions' rule).
        var humanLabels: [String: String]
        /// The split each pool sample gets now, and every split each sample was ever in.
        var split: [String: String]
        var everSplits: [String: Set<String>]
        /// The model's probabilities per sample.
        var probs: [String: [Double]]
        /// Samples with any label event that is not a pseudo one, and gold samples: never pseudo-labeled.
        var humanTouched: Set<String>
        var gold: Set<String>
        /// This model's latest pseudo event per sample.
        var current: [String: LabelEventRow]
        /// This model's pseudo-label states (spot checks included).
        var states: [PseudoLabelRow]
        var origins: [String: SampleOriginRow]
        var runId: String
        var pipelineRunId: String?
        var now: String
    }

    /// One label event to write: a label (`value`) or a withdrawal (nil).
    struct Write: Equatable {
        var sample: String
        var value: String?
        var p: Double
        var threshold: Double?
        var reason: String
    }

    struct Plan {
        var report: PseudoLabelReport
        var writes: [Write]
        /// Indices into `writes` routed to human spot checks.
        var spotChecks: Set<Int>
        /// Spot-check disagreements, refused classes and withdrawals.
        var findings: [FindingRow]
    }

    static func checkOptions(_ options: PseudoLabelOptions) throws {
        guard (0.5...1).contains(options.targetPrecision) else {
            throw StrataError.usage("the target precision must be between 0.5 and 1, got \(options.targetPrecision)")
        }
        guard (0...1).contains(options.spotCheckShare) else {
            throw StrataError.usage("the spot-check share must be between 0 and 1, got \(options.spotCheckShare)", fix: "use e.g. 0.05 for 5%")
        }
        guard options.minCalibrationSamples >= 1 else { throw StrataError.usage("the minimum number of calibration samples must be at least 1") }
    }

    /// Checks the per-class targets against the model's classes and the calibration splits against the project's.
    static func splits(_ options: PseudoLabelOptions, classes: [String], model: String, spec: SplitSpec) throws -> Splits {
        for (label, t) in options.classTargets {
            guard classes.contains(label) else {
                throw StrataError.usage("class target for `\(label)`: model `\(model)` has no class `\(label)`",
                                        fix: "its classes: \(classes.joined(separator: ", "))")
            }
            guard (0.5...1).contains(t) else { throw StrataError.usage("class target for `\(label)` must be between 0.5 and 1, got \(t)") }
        }
        let splitNames = spec.ratios.map(\.name)
        let trainSplit = splitNames.first ?? "train"
        let calibrationSplits = options.calibrationSplits ?? splitNames.filter { $0 != trainSplit }
        for s in calibrationSplits where !splitNames.contains(s) {
            throw StrataError.usage("calibration split `\(s)` is not a split of strata.yaml", fix: "splits: \(splitNames.joined(separator: ", "))")
        }
        if calibrationSplits.contains(trainSplit) {
            throw StrataError.usage("the train split `\(trainSplit)` cannot calibrate: the model has likely seen those samples",
                                    fix: "calibrate on held-out splits, e.g. \(splitNames.filter { $0 != trainSplit }.joined(separator: ", "))")
        }
        return Splits(train: trainSplit, test: Workspace.testSplits(spec), calibration: calibrationSplits)
    }

    static func fmt(_ x: Double) -> String { String(format: "%.4g", x) }

    /// Per-class thresholds calibrated on the held-out human labels; classes missing from the rulebook get none.
    struct Calibration {
        var classes: [PseudoLabeling.ClassCalibration]
        var thresholds: [Double?]
        var targets: [Double]
        var notInRulebook: Set<Int>
        /// Calibration samples used.
        var samples: Int
    }

    static func calibrate(_ x: Inputs) -> Calibration {
        let classes = x.classes, options = x.options
        // Calibration data: human consensus labels on held-out samples with this model's probabilities.
        var predicted: [Int] = [], confidence: [Double] = [], truth: [Int] = []
        for id in x.pool {
            guard let label = x.humanLabels[id], let split = x.split[id], x.splits.calibration.contains(split), let p = x.probs[id] else { continue }
            let t = PseudoLabeling.top(p)
            predicted.append(t.index); confidence.append(t.p); truth.append(classes.firstIndex(of: label) ?? -1)
        }
        let targets = classes.map { options.classTargets[$0] ?? options.targetPrecision }
        let calibration = PseudoLabeling.calibrate(classes: classes, predicted: predicted, confidence: confidence, truth: truth,
                                                   targets: targets, criterion: options.criterion, minSamples: options.minCalibrationSamples)
        var thresholds: [Double?] = calibration.map(\.threshold)
        var notInRulebook = Set<Int>()
        for (i, c) in classes.enumerated() where !x.rulebookLabels.contains(c) {
            thresholds[i] = nil
            notInRulebook.insert(i)
        }
        return Calibration(classes: calibration, thresholds: thresholds, targets: targets, notInRulebook: notInRulebook, samples: predicted.count)
    }

    /// What happens to each candidate, and the counts the report shows.
    struct Decisions {
        var writes: [Write] = []
        var candidates = 0, skippedTest = 0, added = 0, corrected = 0, unchanged = 0
        var acceptedByClass: [String: Int] = [:]
    }

    /// Candidates: no label event other than pseudo ones, not gold. Each gets, keeps, changes or loses this model's
    /// pseudo label; samples in a test split lose theirs.
    static func decide(_ x: Inputs, _ cal: Calibration) -> Decisions {
        let classes = x.classes, model = x.model, thresholds = cal.thresholds
        func inTest(_ id: String) -> Bool {
            if let s = x.split[id], x.splits.test.contains(s) { return true }
            return !(x.everSplits[id] ?? []).isDisjoint(with: x.splits.test)
        }
        var d = Decisions()
        for id in x.pool where !x.humanTouched.contains(id) && !x.gold.contains(id) {
            let old = x.current[id].flatMap { $0.status == "label" ? $0.value : nil }
            guard let probs = x.probs[id] else {
                if old != nil { d.writes.append(Write(sample: id, value: nil, p: 0, threshold: nil, reason: "pseudo label withdrawn: model \(model) has no prediction for this sample any more")) }
                continue
            }
            let top = PseudoLabeling.top(probs)
            if inTest(id) {
                d.skippedTest += 1
                if old != nil { d.writes.append(Write(sample: id, value: nil, p: top.p, threshold: nil, reason: "pseudo label withdrawn: the sample is in a test split (test data stays human-labeled)")) }
                continue
            }
            d.candidates += 1
            if let a = PseudoLabeling.accept(probs, thresholds: thresholds) {
                let value = classes[a.index]
                d.acceptedByClass[value, default: 0] += 1
                if old == value { d.unchanged += 1; continue }
                if old == nil { d.added += 1 } else { d.corrected += 1 }
                let t = thresholds[a.index]!
                d.writes.append(Write(sample: id, value: value, p: a.p, threshold: t,
                                      reason: "pseudo label by \(model): p=\(fmt(a.p)) >= threshold \(fmt(t)) (target precision \(fmt(cal.targets[a.index])))"
                                        + (old.map { "; replaces `\($0)`" } ?? "")))
            } else if let old {
                let t = thresholds[top.index]
                let why = t.map { "p=\(fmt(top.p)) for `\(classes[top.index])` is below its threshold \(fmt($0))" }
                    ?? "class `\(classes[top.index])` has no threshold in this run"
                d.writes.append(Write(sample: id, value: nil, p: top.p, threshold: t, reason: "pseudo label `\(old)` withdrawn: \(why)"))
            }
        }
        // Samples that left the pool or were labeled by people keep their old pseudo event: consensus ignores it.
        return d
    }

    /// What people said on earlier spot checks: the agreement, and a finding per disagreement.
    static func reviewSpotChecks(_ x: Inputs) -> (result: PseudoLabelReport.SpotCheckResult?, findings: [FindingRow]) {
        var checked = 0, agreed = 0
        var findings: [FindingRow] = []
        for st in x.states where st.spotCheck {
            guard let human = x.humanLabels[st.sampleId], let value = st.value ?? x.current[st.sampleId]?.value else { continue }
            checked += 1
            if human == value { agreed += 1; continue }
            let o = x.origins[st.sampleId]
            findings.append(FindingRow(
                key: Workspace.shortHash(FindingKind.pseudoLabelDisagrees.rawValue, x.model, st.sampleId, value, human),
                kind: FindingKind.pseudoLabelDisagrees.rawValue, stage: PseudoLabelOptions.stageKind, sampleId: st.sampleId,
                origin: o?.originPath, line: o?.originLine,
                reason: "spot check: people labeled `\(human)`, model \(x.model) pseudo-labeled `\(value)` (p=\(fmt(st.confidence)))",
                runId: x.pipelineRunId, createdAt: x.now))
        }
        guard checked > 0 else { return (nil, findings) }
        let p = Proportion(successes: agreed, trials: checked)
        return (.init(checked: checked, agreed: agreed, agreement: p.value, low: p.low, high: p.high), findings)
    }

    static func plan(_ x: Inputs) -> Plan {
        let options = x.options, model = x.model
        let cal = calibrate(x)
        let d = decide(x, cal)
        let writes = d.writes
        let withdrawn = writes.filter { $0.value == nil }.count

        // Spot checks: a deterministic share of the new labels, per class.
        let newLabels = writes.indices.filter { writes[$0].value != nil }
        let picked = PseudoLabeling.spotChecks(keys: newLabels.map { writes[$0].sample }, classes: newLabels.map { writes[$0].value! },
                                               share: options.spotCheckShare, seed: "spot-check/" + model)
        let spot = Set(picked.map { newLabels[$0] })
        let review = reviewSpotChecks(x)
        var findings = review.findings

        // Per-class results and messages.
        var notes: [String] = []
        var results: [PseudoLabelReport.ClassResult] = []
        for (i, c) in cal.classes.enumerated() {
            let message = classMessage(c, notInRulebook: cal.notInRulebook.contains(i), calibrationSplits: x.splits.calibration,
                                       minSamples: options.minCalibrationSamples)
            let status = cal.notInRulebook.contains(i) ? "not-in-rulebook" : c.status.rawValue
            if let message { notes.append("class `\(c.label)`: \(message)") }
            results.append(.init(label: c.label, status: status, target: c.target, calibrationSamples: c.samples, threshold: cal.thresholds[i],
                                 precision: c.precision?.value, precisionLow: c.precision?.low, precisionHigh: c.precision?.high,
                                 accepted: d.acceptedByClass[c.label] ?? 0, message: message))
            if let message {
                findings.append(FindingRow(
                    key: Workspace.shortHash(FindingKind.pseudoLabelClassRefused.rawValue, model, c.label, status, String(c.samples)),
                    kind: FindingKind.pseudoLabelClassRefused.rawValue, stage: PseudoLabelOptions.stageKind, sampleId: nil, origin: nil, line: nil,
                    reason: "model \(model), class `\(c.label)`: \(message)", runId: x.pipelineRunId, createdAt: x.now))
            }
        }
        if cal.samples == 0 {
            notes.append("no human-labeled samples with predictions in \(x.splits.calibration.joined(separator: "/")): nothing to calibrate on (create a version to assign splits, label validation samples, and predict them)")
        }
        let accepted = d.acceptedByClass.values.reduce(0, +)
        let spotBefore = Set(x.states.filter(\.spotCheck).map(\.sampleId))
        let spotTotal = spotBefore.union(spot.map { writes[$0].sample }).count
        let report = PseudoLabelReport(
            run: x.runId, model: model, dryRun: options.dryRun, options: options, trainSplit: x.splits.train, calibrationSplits: x.splits.calibration,
            testSplits: x.splits.test, calibrationSamples: cal.samples, classes: results, candidates: d.candidates, skippedTest: d.skippedTest,
            added: d.added, corrected: d.corrected, withdrawn: withdrawn, unchanged: d.unchanged, accepted: accepted, spotChecks: spot.count,
            spotChecksTotal: spotTotal, spotCheckResult: review.result, notes: notes)
        for w in writes where w.value == nil {
            let o = x.origins[w.sample]
            findings.append(FindingRow(key: Workspace.shortHash(FindingKind.pseudoLabelWithdrawn.rawValue, model, w.sample, x.runId),
                                       kind: FindingKind.pseudoLabelWithdrawn.rawValue, stage: PseudoLabelOptions.stageKind, sampleId: w.sample,
                                       origin: o?.originPath, line: o?.originLine, reason: w.reason, runId: x.pipelineRunId, createdAt: x.now))
        }
        return Plan(report: report, writes: writes, spotChecks: spot, findings: findings)
    }

    /// Why a class gets no pseudo labels and what to do (nil: it is calibrated).
    static func classMessage(_ c: PseudoLabeling.ClassCalibration, notInRulebook: Bool, calibrationSplits: [String], minSamples: Int) -> String? {
        if notInRulebook { return "`\(c.label)` is not a label of rulebook.yaml: add it to the rulebook or map the model's classes" }
        switch c.status {
        case .calibrated: return nil
        case .tooFewSamples:
            return "refused: \(c.samples) held-out human-labeled sample(s) predicted as `\(c.label)` in \(calibrationSplits.joined(separator: "/")), need \(minSamples): label more of those samples, or lower min_calibration_samples"
        case .unreachable:
            let best = c.precision.map { "best precision \(fmt($0.value)) [\(fmt($0.low)), \(fmt($0.high))] on \($0.trials)" } ?? "no cut with enough samples"
            return "refused: no threshold reaches precision \(fmt(c.target)) on \(c.samples) calibration samples (\(best)): lower the target for this class or improve the model"
        }
    }
}
