import Foundation
import StrataAnalysis
import StrataCatalog
import StrataCore

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
