import ArgumentParser
import Foundation
import Strata
import StrataAnalysis

extension PseudoLabeling.Criterion: ExpressibleByArgument {}

extension StrataCommand.Label {
    struct Pseudo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accept a model's labels above per-class thresholds calibrated to a target precision (source pseudo).",
            discussion: """
                Thresholds are calibrated per class on human consensus labels of held-out samples (every split except
                train, or --calibrate-on) that have the model's probabilities. Unlabeled samples whose top probability
                reaches its class's threshold get a label event with source `pseudo` (annotator = the model, confidence =
                the probability). Test-split samples are never pseudo-labeled. Re-running with nothing changed adds
                nothing; with new predictions it appends corrections and withdrawals. A share of the new labels goes to
                human spot checks at the front of the labeling queue. Same as a `uses: label.pseudo` stage in
                pipeline.yaml. See docs/analysis.md.

                Examples:
                  strata label pseudo --model resnet-v2 --dry-run
                  strata label pseudo --model resnet-v2 --target-precision 0.98 --class-target cat=0.99 --spot-check 0.1
                """)
        @OptionGroup var options: ProjectOptions
        @Option(help: "The model whose imported predictions to use.") var model: String
        @Option(help: "Precision the accepted labels of each class must reach on the calibration data.") var targetPrecision: Double = 0.95
        @Option(help: ArgumentHelp("A per-class target, LABEL=PRECISION (repeatable).", valueName: "label=precision")) var classTarget: [String] = []
        @Option(help: "Share of the new pseudo labels (per class, rounded up) routed to human spot checks.") var spotCheck: Double = 0.05
        @Option(help: "Held-out human-labeled samples a class needs (predicted as it) to be calibrated.") var minCalibrationSamples: Int = 30
        @Option(help: "point (observed precision reaches the target) or lower-bound (its 95% Wilson lower bound does).") var criterion: PseudoLabeling.Criterion = .point
        @Option(help: ArgumentHelp("Splits whose human labels calibrate (repeatable; default: every split except train).", valueName: "split")) var calibrateOn: [String] = []
        @Flag(help: "Calibrate and report; write nothing.") var dryRun = false

        func run() throws {
            var targets: [String: Double] = [:]
            for t in classTarget {
                let parts = t.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let v = Double(parts[1]) else {
                    throw ValidationError("--class-target `\(t)`: write LABEL=PRECISION, e.g. cat=0.99")
                }
                targets[parts[0]] = v
            }
            let ws = try options.open()
            let r = try ws.pseudoLabel(PseudoLabelOptions(
                model: model, targetPrecision: targetPrecision, classTargets: targets, spotCheckShare: spotCheck,
                minCalibrationSamples: minCalibrationSamples, criterion: criterion, calibrationSplits: calibrateOn.isEmpty ? nil : calibrateOn,
                dryRun: dryRun))
            if options.json { return try Terminal.printJSON(r) }
            print(Pseudo.render(r))
        }

        static func render(_ r: PseudoLabelReport) -> String {
            func f(_ x: Double?) -> String { x.map { String(format: "%.3f", $0) } ?? "-" }
            var lines = ["\(r.dryRun ? "dry run: " : "")pseudo labels from model \(r.model) (target precision \(f(r.options.targetPrecision)), \(r.options.criterion.rawValue))",
                         "calibrated on \(r.calibrationSamples) human-labeled sample(s) in \(r.calibrationSplits.joined(separator: ", ")); never in \(r.testSplits.isEmpty ? "(no test split)" : r.testSplits.joined(separator: ", "))",
                         "",
                         "class                 status            target  n    threshold  precision [95% CI]      accepted"]
            for c in r.classes {
                let ci = c.precision == nil ? "-" : "\(f(c.precision)) [\(f(c.precisionLow)), \(f(c.precisionHigh))]"
                lines.append(c.label.padding(toLength: 21, withPad: " ", startingAt: 0) + " " + c.status.padding(toLength: 17, withPad: " ", startingAt: 0)
                             + " " + f(c.target) + "   " + String(c.calibrationSamples).padding(toLength: 4, withPad: " ", startingAt: 0) + " "
                             + f(c.threshold).padding(toLength: 10, withPad: " ", startingAt: 0) + " " + ci.padding(toLength: 25, withPad: " ", startingAt: 0)
                             + " " + String(c.accepted))
            }
            lines.append("")
            lines.append("\(r.candidates) candidate(s) (unlabeled, with probabilities, outside test); \(r.skippedTest) left alone in test")
            lines.append("\(r.dryRun ? "would add" : "added") \(r.added), corrected \(r.corrected), withdrawn \(r.withdrawn), unchanged \(r.unchanged); \(r.accepted) sample(s) carry a pseudo label from \(r.model)")
            lines.append("spot checks: \(r.spotChecks) new (share \(f(r.options.spotCheckShare)) per class), \(r.spotChecksTotal) in all, served first by the labeling queue")
            if let s = r.spotCheckResult {
                lines.append("spot-check results: people agreed on \(s.agreed) of \(s.checked) (\(f(s.agreement)) [\(f(s.low)), \(f(s.high))])")
            }
            if r.added + r.corrected + r.withdrawn == 0 && !r.dryRun { lines.append("nothing changed: no label event written") }
            for n in r.notes { lines.append("note: " + n) }
            return lines.joined(separator: "\n")
        }
    }
}
