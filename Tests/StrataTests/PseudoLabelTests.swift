import Foundation
import StrataCatalog
import StrataCore
import XCTest
@testable import Strata

/// A project with labeled and unlabeled support messages and a model's predictions for all of them. The model is
/// reliable on `billing` and `account` when confident, and never reliable on `technical`.
final class PseudoWorld {
    static let classes = ["account", "billing", "technical"]
    let project: TempProject
    /// Hidden true class of every unlabeled sample (by external id).
    var hidden: [String: String] = [:]

    init(labeled: Int = 1500, unlabeled: Int = 600, seed: UInt64 = 7) throws {
        project = try TempProject(modalities: "text")
        var rng = SplitMix64(seed: seed)
        var rows = "", unlabeledRows = ""
        // The model's top class and its probability p; the truth agrees with a chance that grows with p (never above
        // one half for `technical`).
        func draw(_ id: String) -> Int {
            let pred = rng.int(3), p = rng.unit(0.4, 1)
            let rightChance = pred == 2 ? 0.5 * p : min(1, 0.3 + 0.72 * p)
            let t = rng.unit(0, 1) < rightChance ? pred : (pred + 1 + rng.int(2)) % 3
            var v = [Double](repeating: (1 - p) / 2, count: 3)
            v[pred] = p
            probs[id] = v
            return t
        }
        for i in 0..<labeled {
            let t = draw("l\(i)")
            rows += "{\"id\": \"l\(i)\", \"text\": \"labeled message \(i) about \(PseudoWorld.classes[t])\", \"label\": \"\(PseudoWorld.classes[t])\"}\n"
        }
        for i in 0..<unlabeled {
            hidden["u\(i)"] = PseudoWorld.classes[draw("u\(i)")]
            unlabeledRows += "{\"id\": \"u\(i)\", \"text\": \"new message \(i)\"}\n"
        }
        project.write("labeled/rows.jsonl", rows)
        project.write("unlabeled/rows.jsonl", unlabeledRows)
        let ws = try project.open()
        _ = try ws.ingest(IngestOptions(paths: [project.incoming + "/labeled"], source: "helpdesk",
                                        records: RecordOptions(textField: "text", labelField: "label", idField: "id")))
        _ = try ws.ingest(IngestOptions(paths: [project.incoming + "/unlabeled"], source: "helpdesk",
                                        records: RecordOptions(textField: "text", idField: "id")))
        try writePredictions("preds-1.jsonl")
        _ = try ws.importPredictions(file: project.incoming + "/preds-1.jsonl", model: "m1")
    }

    /// The model's probabilities per external id.
    var probs: [String: [Double]] = [:]

    /// One JSONL line per sample; `alter` may change a sample's probabilities.
    func writePredictions(_ name: String, alter: (String, inout [Double]) -> Void = { _, _ in }) throws {
        var out = ""
        for id in probs.keys.sorted() {
            var v = probs[id]!
            alter(id, &v)
            out += "{\"id\": \"\(id)\", \"probs\": [\(v.map { String($0) }.joined(separator: ", "))], \"classes\": [\"account\", \"billing\", \"technical\"]}\n"
        }
        project.write(name, out)
    }
}

final class PseudoLabelTests: XCTestCase {
    func testPseudoLabelsReachTheTargetStayOutOfTestAndRerunAddsNothing() throws {
        let world = try PseudoWorld()
        let ws = try world.project.open()
        let options = PseudoLabelOptions(model: "m1", targetPrecision: 0.9, spotCheckShare: 0.1, minCalibrationSamples: 30)

        // Dry run: the same report, nothing written.
        let eventsBefore = try ws.catalog.labelEventCount()
        let dry = try ws.pseudoLabel(PseudoLabelOptions(model: "m1", targetPrecision: 0.9, spotCheckShare: 0.1, dryRun: true))
        XCTAssertEqual(try ws.catalog.labelEventCount(), eventsBefore)
        XCTAssertTrue(try ws.catalog.pseudoRuns().isEmpty)

        let r = try ws.pseudoLabel(options)
        XCTAssertEqual(r.added, dry.added)
        XCTAssertEqual(r.trainSplit, "train")
        XCTAssertEqual(r.calibrationSplits, ["validation", "test"])
        XCTAssertEqual(r.testSplits, ["test"])
        let byLabel = Dictionary(uniqueKeysWithValues: r.classes.map { ($0.label, $0) })
        XCTAssertEqual(byLabel["billing"]?.status, "calibrated")
        XCTAssertEqual(byLabel["account"]?.status, "calibrated")
        XCTAssertEqual(byLabel["technical"]?.status, "unreachable")
        XCTAssertTrue(byLabel["technical"]?.message?.contains("refused") == true)
        for c in r.classes where c.status == "calibrated" {
            XCTAssertGreaterThanOrEqual(c.precision!, 0.9)
            XCTAssertLessThanOrEqual(c.precisionLow!, c.precision!)
            XCTAssertGreaterThanOrEqual(c.calibrationSamples, 30)
        }
        XCTAssertGreaterThan(r.added, 50)
        XCTAssertEqual(r.accepted, r.added)
        XCTAssertGreaterThan(r.skippedTest, 0)

        // Events: source pseudo, annotator = the model, confidence = the probability (at or above the threshold).
        let pseudo = try ws.labelEvents().filter { $0.source == .pseudo }
        XCTAssertEqual(pseudo.count, r.added)
        let thresholds = Dictionary(uniqueKeysWithValues: r.classes.compactMap { c in c.threshold.map { (c.label, $0) } })
        for e in pseudo {
            XCTAssertEqual(e.annotator, "m1")
            XCTAssertEqual(e.role, .model)
            XCTAssertEqual(e.status, .label)
            XCTAssertGreaterThanOrEqual(e.confidence!, thresholds[e.value!]!)
            XCTAssertNotEqual(e.value, "technical")
        }
        // The accepted labels are right about as often as the target says, on data calibration never saw.
        let samples = try ws.catalog.samples(ids: pseudo.map(\.sample))
        let right = pseudo.filter { world.hidden[samples[$0.sample]!.externalId!] == $0.value }.count
        XCTAssertGreaterThanOrEqual(Double(right) / Double(pseudo.count), 0.85, "\(right) of \(pseudo.count)")

        // Never in test: the version created now puts none of them in a test split.
        let v = try ws.createVersion(name: "v1", message: "with pseudo labels").version
        XCTAssertEqual(v.pseudoLabels, r.added)
        XCTAssertEqual(v.pseudoExcludedFromTest, 0)
        let members = try ws.catalog.versionMembers(v.id)
        let pseudoIds = Set(pseudo.map(\.sample))
        XCTAssertFalse(members.contains { pseudoIds.contains($0.sampleId) && $0.split == "test" })
        XCTAssertEqual(members.filter { pseudoIds.contains($0.sampleId) }.count, r.added)
        let manifest = String(decoding: try ws.objects.get(v.id), as: UTF8.self)
        XCTAssertEqual(manifest.components(separatedBy: "\"label_source\":\"pseudo\"").count - 1, r.added)

        // Consensus and agreement are about people: pseudo-only samples are not in them.
        let consensus = try ws.labelStore().consensus()
        XCTAssertTrue(Set(consensus.samples.map(\.sample)).isDisjoint(with: pseudoIds))

        // Spot checks: ceil(10%) of each class's new labels, at the front of the labeling queue; the other pseudo-labeled
        // samples leave the human queue.
        var perClass: [String: Int] = [:]
        for e in pseudo { perClass[e.value!, default: 0] += 1 }
        XCTAssertEqual(r.spotChecks, perClass.values.map { Int((Double($0) * 0.1).rounded(.up)) }.reduce(0, +))
        let spot = Set(try ws.catalog.pseudoLabels(model: "m1").filter(\.spotCheck).map(\.sampleId))
        XCTAssertEqual(spot.count, r.spotChecks)
        try ws.catalog.refreshQueue(annotatorsPerSample: 1)
        let queue = try ws.catalog.queueOrder()
        XCTAssertEqual(Set(queue.prefix(spot.count)), spot)
        XCTAssertTrue(Set(queue).isDisjoint(with: pseudoIds.subtracting(spot)))

        // Idempotent: nothing changed, nothing written (only the run log grows).
        let count = try ws.catalog.labelEventCount()
        let again = try ws.pseudoLabel(options)
        XCTAssertEqual([again.added, again.corrected, again.withdrawn, again.spotChecks], [0, 0, 0, 0])
        XCTAssertEqual(again.unchanged, r.added)
        XCTAssertEqual(try ws.catalog.labelEventCount(), count)
        XCTAssertEqual(try ws.catalog.pseudoRuns(model: "m1").count, 2)
        XCTAssertEqual(Set(try ws.catalog.queueOrder().prefix(spot.count)), spot)
    }

    /// A new prediction set appends corrections and withdrawals; the earlier events stay; people's labels win.
    func testNewPredictionsAppendCorrectionsAndPeopleWin() throws {
        let world = try PseudoWorld(labeled: 1200, unlabeled: 300)
        let ws = try world.project.open()
        let first = try ws.pseudoLabel(PseudoLabelOptions(model: "m1", targetPrecision: 0.9, spotCheckShare: 0))
        XCTAssertGreaterThan(first.added, 20)
        let accepted = try ws.labelEvents().filter { $0.source == .pseudo }
        let ext = try ws.catalog.samples(ids: accepted.map(\.sample))
        let flip = Array(accepted.prefix(10)), drop = Array(accepted.dropFirst(10).prefix(5))
        let flipIds = Set(flip.map { ext[$0.sample]!.externalId! }), dropIds = Set(drop.map { ext[$0.sample]!.externalId! })
        let swap = ["account": 1, "billing": 0]
        let value = Dictionary(uniqueKeysWithValues: accepted.map { (ext[$0.sample]!.externalId!, $0.value!) })
        // The same outputs, except the flipped (now confidently the other class) and dropped (unsure) ones.
        try world.writePredictions("preds-2.jsonl") { id, probs in
            if flipIds.contains(id) { probs = [0.005, 0.005, 0.005]; probs[swap[value[id]!]!] = 0.99 }
            if dropIds.contains(id) { probs = [0.34, 0.33, 0.33] }
        }
        _ = try ws.importPredictions(file: world.project.incoming + "/preds-2.jsonl", model: "m1")
        let before = try ws.catalog.labelEventCount()
        let second = try ws.pseudoLabel(PseudoLabelOptions(model: "m1", targetPrecision: 0.9, spotCheckShare: 0))
        XCTAssertEqual(second.corrected, 10)
        XCTAssertEqual(second.withdrawn, 5)
        XCTAssertEqual(second.added, 0)
        XCTAssertEqual(try ws.catalog.labelEventCount(), before + 15)
        let history = try ws.labelEvents(sample: flip[0].sample)
        XCTAssertEqual(history.map(\.value), [flip[0].value, ["account", "billing"][swap[flip[0].value!]!]])
        let current = try ws.currentPseudoLabels()
        XCTAssertNil(current[drop[0].sample])
        XCTAssertEqual(try ws.labelEvents(sample: drop[0].sample).last?.status, .skip)
        XCTAssertTrue(try ws.findings(kind: "pseudo-label-withdrawn").count >= 5)

        // A person labels a pseudo-labeled sample differently: their label is the sample's label.
        let target = accepted[20]
        let other = target.value == "billing" ? "account" : "billing"
        try ws.appendLabels([LabelSubmission(sample: target.sample, value: other, annotator: "ana")])
        let resolution = try VersionLabels.resolve(ws)
        XCTAssertEqual(resolution.labels[target.sample], other)
        let pseudo = try VersionLabels.pseudoLabels(ws, excluding: resolution, splits: [:], spec: ws.project.splits)
        XCTAssertNil(pseudo.labels[target.sample])
        XCTAssertNotNil(pseudo.labels[accepted[21].sample])
    }

    func testTooLittleCalibrationDataRefusesEveryClassWithAClearMessage() throws {
        let world = try PseudoWorld(labeled: 60, unlabeled: 50)
        let ws = try world.project.open()
        let r = try ws.pseudoLabel(PseudoLabelOptions(model: "m1", minCalibrationSamples: 30))
        XCTAssertEqual(r.added, 0)
        XCTAssertTrue(r.classes.allSatisfy { $0.status == "too-few-samples" })
        XCTAssertTrue(r.classes[0].message!.contains("need 30"), r.classes[0].message!)
        XCTAssertEqual(try ws.findings(kind: "pseudo-label-class-refused").count, 3)
        XCTAssertThrowsError(try ws.pseudoLabel(PseudoLabelOptions(model: "nope"))) { XCTAssertTrue("\($0)".contains("no predictions for model `nope`")) }
        XCTAssertThrowsError(try ws.pseudoLabel(PseudoLabelOptions(model: "m1", calibrationSplits: ["train"]))) {
            XCTAssertTrue("\($0)".contains("cannot calibrate"))
        }
        XCTAssertThrowsError(try ws.pseudoLabel(PseudoLabelOptions(model: "m1", classTargets: ["cat": 0.9]))) {
            XCTAssertTrue("\($0)".contains("no class `cat`"))
        }
    }
}
