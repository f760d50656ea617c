import Foundation
import StrataAnalysis
import StrataCatalog
import StrataCore
import XCTest
@testable import Strata

/// The Insights context's pure parts, without a project on disk: slicing, freshness, drift sides, label issues,
/// errors findings, pseudo-label decisions, suggest's priority order, the predictions parser and the report renderer.
final class InsightsPlannerTests: XCTestCase {
    static let time = "2026-12-08T00:00:00.000Z"

    static func sample(_ id: String, ingest: String = "ing-1", modality: Modality = .text, collected: String = "2026-03-01",
                       facts: [String: String] = [:], label: String? = nil) -> AnalysisSample {
        var f = facts
        f["source"] = f["source"] ?? "src"
        f["modality"] = modality.rawValue
        f["collected"] = collected
        if let label { f["label"] = label }
        return AnalysisSample(id: id, shortId: String(id.prefix(4)), kind: "record", ingestId: ingest, origin: "in/\(id).jsonl", line: 1,
                              size: 10, collected: collected, facts: f)
    }

    static func intent(_ yaml: String) throws -> IntentSpec {
        try IntentSpec.decode(yaml: "version: 1\nuse_case: test\n" + yaml)
    }

    // MARK: slices and freshness

    func testSlicesPutRequirementsFirstAndSkipFieldsWithOneValue() throws {
        let samples = [
            Self.sample("a1", facts: ["channel": "email", "lang": "en"]),
            Self.sample("a2", facts: ["channel": "chat", "lang": "en"]),
            Self.sample("a3", collected: "2026-04-02", facts: ["channel": "email", "lang": "en"]),
        ]
        let intent = try Self.intent("requirements:\n  scenarios:\n    - name: mail\n      where: {channel: email}\n      min_samples: 5\n")
        let slices = AnalysisSlices.slices(samples, members: [0, 1, 2], intent: intent)
        XCTAssertEqual(slices.map { "\($0.kind)/\($0.name)/\($0.members)" }, [
            "scenarios/mail/[0, 2]",
            "channel/chat/[1]", "channel/email/[0, 2]",
            "month/2026-03/[0, 1]", "month/2026-04/[2]",
            "source/src/[0, 1, 2]",
        ])
    }

    func testFreshnessUsesTheRequirementsOwnLimitAndNamesTheLimitInTheFinding() throws {
        let intent = try Self.intent("""
            max_age_days: 100
            requirements:
              scenarios:
                - name: mail
                  where: {channel: email}
                  min_samples: 1
                  max_age_days: 30
            """)
        let today = ISO8601DateFormatter().date(from: "2026-05-01T00:00:00Z")!
        let samples = [
            Self.sample("old-mail", collected: "2026-03-01", facts: ["channel": "email"]),  // 61 days: stale for mail (30)
            Self.sample("old-chat", collected: "2026-03-01", facts: ["channel": "chat"]),   // 61 days: fine (100)
            Self.sample("ancient", collected: "2025-12-01", facts: ["channel": "chat"]),    // 151 days: stale (100)
        ]
        let r = FreshnessPlanner.plan(samples, intent: intent, today: today)
        XCTAssertEqual(r.rows.map { "\($0.kind)/\($0.slice): \($0.count) stale \($0.stale) max \($0.maxAgeDays ?? -1) median \($0.medianAgeDays ?? -1)" }, [
            "all/all samples: 3 stale 1 max 100 median 61",
            "scenarios/mail: 1 stale 1 max 30 median 61",
            "source/src: 3 stale 1 max 100 median 61",
        ])
        let findings = FreshnessPlanner.findings(r, samples: samples, today: today, stage: "analyze.freshness", at: Self.time)
        XCTAssertEqual(findings.map(\.reason), [
            "collected 2026-03-01, 61 days ago: older than the 30 days the intent allows",
            "collected 2025-12-01, 151 days ago: older than the 100 days the intent allows",
        ])
        XCTAssertEqual(Set(findings.map(\.kind)), [FindingKind.stale.rawValue])
        XCTAssertEqual(findings.map(\.sampleId), ["old-mail", "ancient"])
    }

    // MARK: drift

    func testDriftComparesTheLatestIngestWithEarlierSamplesOfItsModalityOnly() throws {
        let scope = AnalysisScope(version: nil, labels: [:], votes: [:], samples: [
            Self.sample("t1", ingest: "ing-1"), Self.sample("i1", ingest: "ing-1", modality: .image), Self.sample("t2", ingest: "ing-2"),
        ])
        let sides = try DriftPlanner.withinScope(scope, ingestOrder: ["ing-1", "ing-2"], reference: nil, current: nil, r: nil, c: nil)
        XCTAssertEqual(sides.reference.map(\.id), ["t1"])
        XCTAssertEqual(sides.current.map(\.id), ["t2"])
        XCTAssertEqual(sides.referenceName, "earlier samples of the same modality")
        XCTAssertEqual(sides.currentName, "samples of the latest ingest (ing-2)")
        XCTAssertEqual(sides.stage, "analyze.drift")

        let imagesLast = AnalysisScope(version: nil, labels: [:], votes: [:], samples: [
            Self.sample("t1", ingest: "ing-1"), Self.sample("i1", ingest: "ing-2", modality: .image),
        ])
        XCTAssertThrowsError(try DriftPlanner.withinScope(imagesLast, ingestOrder: ["ing-1", "ing-2"], reference: nil, current: nil, r: nil, c: nil)) {
            XCTAssertEqual("\($0)", """
                the latest ingest (ing-2) is the first with image samples, so there is nothing earlier to compare it with
                  fix: name both sides: `strata analyze drift --reference source=a --current source=b`
                """)
        }
    }

    func testOneDriftSelectorComparesItsSamplesWithEveryOther() throws {
        let scope = AnalysisScope(version: nil, labels: [:], votes: [:], samples: [
            Self.sample("a", facts: ["source": "app"]), Self.sample("b", facts: ["source": "web"]), Self.sample("c", facts: ["source": "mail"]),
        ])
        let c = try AnalysisSlices.parseSelector("source=app|mail", option: "--current")
        let sides = try DriftPlanner.withinScope(scope, ingestOrder: [], reference: nil, current: "source=app|mail", r: nil, c: c)
        XCTAssertEqual(sides.current.map(\.id), ["a", "c"])
        XCTAssertEqual(sides.reference.map(\.id), ["b"])
        XCTAssertEqual(sides.referenceName, "every sample not matching source=app|mail")
        XCTAssertThrowsError(try AnalysisSlices.parseSelector("source", option: "--reference")) {
            XCTAssertEqual("\($0)", """
                --reference `source`: `source` is not `field=value`
                  fix: write it like `source=field-app` or `collected=2026-03-01|2026-03-02`
                """)
        }
    }

    // MARK: label issues and errors

    /// 40 samples of two classes the model gets right with confidence, and one labeled `a` that the model is sure is `b`.
    static func confidentModel() -> (ModelPredictions, [String: AnalysisLabel], [String: AnalysisSample]) {
        var rows: [PredictionRow] = [], labels: [String: AnalysisLabel] = [:], samples: [String: AnalysisSample] = [:]
        for i in 0..<41 {
            let id = String(format: "s%03d", i)
            let truth = i % 2 == 0 ? "a" : "b"
            let given = i == 40 ? "a" : truth
            let probs = (i == 40 || truth == "b") ? [0.03, 0.97] : [0.96, 0.04]
            rows.append(PredictionRow(sampleId: id, label: probs[0] > probs[1] ? "a" : "b", probs: probs, embedding: nil, line: i + 1))
            labels[id] = AnalysisLabel(label: given, annotators: 1, agreeing: 1)
            samples[id] = sample(id, label: given)
        }
        return (ModelPredictions(model: "m", classes: ["a", "b"], hasProbs: true, embeddingDim: nil, rows: rows), labels, samples)
    }

    func testLabelIssuesFlagTheConfidentDisagreementAsAFindingWithItsOrigin() throws {
        let (preds, labels, samples) = Self.confidentModel()
        let c = try LabelIssuePlanner.compute(preds, labels: labels, samples: samples)
        XCTAssertEqual(c.report.examined, 41)
        XCTAssertEqual(c.report.issues.map { "\($0.sample) \($0.given)->\($0.suggested)" }, ["s040 a->b"])
        XCTAssertEqual(c.issueIds, ["s040"])
        let findings = LabelIssuePlanner.findings(c, stage: "analyze.label-issues", samples: samples, at: Self.time)
        XCTAssertEqual(findings.count, 1)
        XCTAssertEqual(findings[0].kind, FindingKind.labelIssue.rawValue)
        XCTAssertEqual(findings[0].origin, "in/s040.jsonl")
        XCTAssertEqual(findings[0].detail, #"{"model":"m","suggested":"b"}"#)
        XCTAssertTrue(findings[0].reason.hasPrefix("labeled `a` but model `m` gives that 0.03 and `b` 0.97: likely mislabeled, probably `b`"),
                      findings[0].reason)
    }

    func testLabelIssuesNeedProbabilities() {
        var (preds, labels, samples) = Self.confidentModel()
        preds.hasProbs = false
        XCTAssertThrowsError(try LabelIssuePlanner.compute(preds, labels: labels, samples: samples)) {
            XCTAssertEqual("\($0)", """
                model `m` has labels but no probabilities; label-issue detection needs out-of-sample probabilities
                  fix: import `probs` for each sample (cross-validated predictions, so no sample was in its own model's training data)
                """)
        }
    }

    func testErrorsFindEveryUnacceptableMistakeAndCountUnlabeledPredictions() throws {
        let samples = [Self.sample("x1"), Self.sample("x2"), Self.sample("x3"), Self.sample("x4")]
        let labels = ["x1": "cat", "x2": "cat", "x3": "dog"].mapValues { AnalysisLabel(label: $0, annotators: 1, agreeing: 1) }
        let rows = [("x1", "dog"), ("x2", "cat"), ("x3", "dog"), ("x4", "cat")].enumerated().map {
            PredictionRow(sampleId: $1.0, label: $1.1, probs: nil, embedding: nil, line: $0 + 1)
        }
        let preds = ModelPredictions(model: "m", classes: ["cat", "dog"], hasProbs: false, embeddingDim: nil, rows: rows)
        let pairs = ErrorsPlanner.pairs(preds, labels: labels, samples: samples)
        XCTAssertEqual(pairs.samples, [0, 1, 2])
        XCTAssertEqual(pairs.unlabeled, 1)
        let intent = try Self.intent("unacceptable_mistakes:\n  - truth: cat\n    predicted: dog\n    max_rate: 0.01\n    why: cats are never dogs\n")
        let findings = ErrorsPlanner.findings(pairs, checks: [], intent: intent, model: "m", samples: samples, stage: "analyze.errors", at: Self.time)
        XCTAssertEqual(findings.map { "\($0.kind) \($0.sampleId ?? "-"): \($0.reason)" },
                       ["unacceptable-mistake x1: `cat` predicted as `dog` by model `m` (cats are never dogs)"])
    }

    // MARK: pseudo-labels

    /// Classes a and b; 40 held-out validation samples labeled by people (the model right on all with p 0.9), and
    /// train-split candidates.
    static func pseudoInputs(candidates: [String: [Double]], current: [String: String] = [:], test: Set<String> = []) -> PseudoLabelPlanner.Inputs {
        var pool: [String] = [], labels: [String: String] = [:], split: [String: String] = [:], probs: [String: [Double]] = [:]
        for i in 0..<40 {
            let id = String(format: "v%02d", i)
            pool.append(id); split[id] = "validation"; labels[id] = i % 2 == 0 ? "a" : "b"
            probs[id] = i % 2 == 0 ? [0.9, 0.1] : [0.1, 0.9]
        }
        for (id, p) in candidates.sorted(by: { $0.key < $1.key }) { pool.append(id); split[id] = test.contains(id) ? "test" : "train"; probs[id] = p }
        var events: [String: LabelEventRow] = [:]
        for (id, v) in current {
            events[id] = LabelEventRow(sampleId: id, status: "label", value: v, annotator: "m", role: "model", source: "pseudo", importKey: nil, createdAt: time)
        }
        var options = PseudoLabelOptions(model: "m", targetPrecision: 0.9, minCalibrationSamples: 5)
        options.spotCheckShare = 0.5
        return .init(options: options, model: "m", classes: ["a", "b"], rulebookLabels: ["a", "b"],
                     splits: .init(train: "train", test: ["test"], calibration: ["validation"]), pool: pool, humanLabels: labels,
                     split: split, everSplits: [:], probs: probs, humanTouched: Set(labels.keys), gold: [], current: events, states: [],
                     origins: [:], runId: "run-1", pipelineRunId: nil, now: time)
    }

    func testPseudoLabelsAcceptAboveTheThresholdWithdrawBelowItAndLeaveTestAlone() {
        let inputs = Self.pseudoInputs(candidates: ["c1": [0.95, 0.05], "c2": [0.55, 0.45], "c3": [0.05, 0.95], "c4": [0.97, 0.03]],
                                       current: ["c2": "a"], test: ["c4"])
        let plan = PseudoLabelPlanner.plan(inputs)
        XCTAssertEqual(plan.report.classes.map { "\($0.label) \($0.status) \($0.threshold.map { String($0) } ?? "-")" }, ["a calibrated 0.9", "b calibrated 0.9"])
        XCTAssertEqual(plan.writes, [
            .init(sample: "c1", value: "a", p: 0.95, threshold: 0.9, reason: "pseudo label by m: p=0.95 >= threshold 0.9 (target precision 0.9)"),
            .init(sample: "c2", value: nil, p: 0.55, threshold: 0.9, reason: "pseudo label `a` withdrawn: p=0.55 for `a` is below its threshold 0.9"),
            .init(sample: "c3", value: "b", p: 0.95, threshold: 0.9, reason: "pseudo label by m: p=0.95 >= threshold 0.9 (target precision 0.9)"),
        ])
        XCTAssertEqual([plan.report.candidates, plan.report.skippedTest, plan.report.added, plan.report.withdrawn, plan.report.accepted], [3, 1, 2, 1, 2])
        // Half of each class's new labels, rounded up: both new labels are spot-checked.
        XCTAssertEqual(plan.spotChecks, [0, 2])
        XCTAssertEqual(plan.findings.map { "\($0.kind) \($0.sampleId ?? "-")" }, ["pseudo-label-withdrawn c2"])
    }

    func testPseudoLabelsRefuseAClassWithTooFewCalibrationSamplesAndSayWhatToDo() {
        var inputs = Self.pseudoInputs(candidates: ["c1": [0.95, 0.05]])
        inputs.options.minCalibrationSamples = 25
        let plan = PseudoLabelPlanner.plan(inputs)
        XCTAssertEqual(plan.writes, [])
        XCTAssertEqual(plan.report.notes, [
            "class `a`: refused: 20 held-out human-labeled sample(s) predicted as `a` in validation, need 25: label more of those samples, or lower min_calibration_samples",
            "class `b`: refused: 20 held-out human-labeled sample(s) predicted as `b` in validation, need 25: label more of those samples, or lower min_calibration_samples",
        ])
        XCTAssertEqual(plan.findings.map(\.kind), [FindingKind.pseudoLabelClassRefused.rawValue, FindingKind.pseudoLabelClassRefused.rawValue])
    }

    func testPseudoLabelSplitsRejectCalibratingOnTheTrainSplit() throws {
        let spec = SplitSpec()
        XCTAssertEqual(try PseudoLabelPlanner.splits(PseudoLabelOptions(model: "m"), classes: ["a"], model: "m", spec: spec),
                       .init(train: "train", test: ["test"], calibration: ["validation", "test"]))
        XCTAssertThrowsError(try PseudoLabelPlanner.splits(PseudoLabelOptions(model: "m", calibrationSplits: ["train"]), classes: ["a"], model: "m", spec: spec)) {
            XCTAssertEqual("\($0)", """
                the train split `train` cannot calibrate: the model has likely seen those samples
                  fix: calibrate on held-out splits, e.g. validation, test
                """)
        }
    }

    // MARK: suggest

    func testSuggestPutsPicksFirstThenKeepsEarlierUnlabeledPriorities() {
        let samples = [Self.sample("u1"), Self.sample("u2"), Self.sample("u3"), Self.sample("l1", label: "a")]
        let labels = ["l1": AnalysisLabel(label: "a", annotators: 1, agreeing: 1)]
        let rows = ["u1", "u2", "u3", "l1"].enumerated().map {
            PredictionRow(sampleId: $1, label: "a", probs: [0.6, 0.4], embedding: [Float($0), 0], line: $0 + 1)
        }
        let preds = ModelPredictions(model: "m", classes: ["a", "b"], hasProbs: true, embeddingDim: 2, rows: rows)
        let pool = SuggestPlanner.candidates(preds, labels: labels, samples: samples, intent: nil)
        XCTAssertEqual(pool.rows.map(\.sampleId), ["u1", "u2", "u3"])
        XCTAssertEqual(pool.labeledEmbeddings, [[3, 0]])
        XCTAssertEqual(pool.candidates.map(\.slice), ["source:src", "source:src", "source:src"])
        let earlier = ["u3", "l1", "u2"].enumerated().map {
            LabelPriorityRow(sampleId: $1, rank: $0 + 1, score: 0.1, strategy: "margin/none", model: "m", createdAt: Self.time)
        }
        let order = SuggestPlanner.priorities([(index: 1, score: 0.8)], pool: pool, samples: samples, labels: labels, model: "m",
                                              strategy: "margin/per-slice", earlier: earlier, replace: false, at: Self.time)
        XCTAssertEqual(order.rows.map { "\($0.rank) \($0.sampleId)" }, ["1 u2", "2 u3"])
        XCTAssertEqual([order.kept, order.dropped], [1, 1])
        XCTAssertEqual(order.picks.map { "\($0.rank) \($0.sample) \($0.slice)" }, ["1 u2 source:src"])
        let replaced = SuggestPlanner.priorities([(index: 1, score: 0.8)], pool: pool, samples: samples, labels: labels, model: "m",
                                                 strategy: "margin/per-slice", earlier: earlier, replace: true, at: Self.time)
        XCTAssertEqual(replaced.rows.map(\.sampleId), ["u2"])
        XCTAssertEqual([replaced.kept, replaced.dropped], [0, 2])
    }

    // MARK: predictions file

    func testPredictionsParserNamesEveryBadLineAndKeepsNothing() {
        let index = PredictionFileParser.SampleIndex([.init(id: "aaaa1111", shortId: "aaaa", externalId: "ext-1", ofDuplicateRow: false)])
        let text = """
            {"id":"ext-1","probs":{"x":0.7,"y":0.2}}
            {"id":"nope","label":"x"}
            {"id":"aaaa","probs":{"x":0.5,"y":0.5}}

            """
        let r = PredictionFileParser.parse(Array(text.utf8), name: "p.jsonl", samples: index)
        XCTAssertEqual(r.problems, [
            "p.jsonl line 2: unknown id `nope`: no sample has this id, short id or external id (see `strata findings`/`strata status`; predict only ingested samples)",
            "p.jsonl line 3: sample `aaaa` already has a prediction on line 1",
            "p.jsonl line 1: probabilities sum to 0.9, not 1 (tolerance 0.001): export softmax outputs, not logits",
        ])
        let good = PredictionFileParser.parse(Array(#"{"id":"aaaa","probs":[0.25,0.75],"classes":["x","y"],"embedding":[1,2]}"#.utf8), name: "p.jsonl", samples: index)
        XCTAssertEqual(good.problems, [])
        XCTAssertEqual(good.classes, ["x", "y"])
        XCTAssertEqual(good.embeddingDim, 2)
        XCTAssertEqual(good.rows, [PredictionRow(sampleId: "aaaa1111", label: "y", probs: [0.25, 0.75], embedding: [1, 2], line: 1)])
    }

    // MARK: report

    static func content() -> ReportContent {
        ReportContent(projectName: "demo <1>", generated: time, version: nil, scopeSamples: 3, projectSamples: 3, quarantined: 1, findings: 4,
                      labeled: 2, recommendations: [], errors: nil, errorsNote: "No model predictions yet.", maxErrorRate: nil,
                      classCounts: ["a": 2], coverage: nil, findingsByKind: ["stale": 2, "drift": 2], quarantineByKind: ["corrupt": 1],
                      agreementByLabel: [:], agreementByAnnotator: [:], labelIssues: nil, drift: nil, driftNote: "only one ingest",
                      driftTitle: "Drift", perIngest: [3], versions: [])
    }

    func testReportRendererIsPureAndEscapesWhatItShows() {
        var first = ReportRenderer(), second = ReportRenderer()
        let html = first.render(Self.content())
        XCTAssertEqual(html, second.render(Self.content()))
        XCTAssertEqual(first.charts, 5)
        XCTAssertTrue(html.contains("<header><h1>demo &lt;1&gt;</h1><p class=\"muted\">Strata report, 2026-12-08 00:00:00 UTC &middot; 3 samples &middot; 2 labeled &middot; 1 quarantined &middot; 4 findings</p></header>"))
        XCTAssertEqual(ReportRenderer().recommendations([]),
                       "<section><h2>Recommendations</h2><p>Every slice is fine: nothing to collect, relabel or refresh.</p></section>")
        // Equal counts in name order: drift before stale.
        let drift = html.range(of: ">drift</text>")!, stale = html.range(of: ">stale</text>")!
        XCTAssertLessThan(drift.lowerBound, stale.lowerBound)
        XCTAssertTrue(html.contains("<p class=\"muted\">Drift: only one ingest</p>"))
    }

    func testReportAgreementCountsOnlyPeopleOnSamplesWithTwoOrMoreAnnotators() {
        let votes = ["s1": AnalysisLabel(label: "a", annotators: 2, agreeing: 2), "s2": AnalysisLabel(label: "a", annotators: 2, agreeing: 1),
                     "s3": AnalysisLabel(label: "b", annotators: 1, agreeing: 1)]
        XCTAssertEqual(ReportPlanner.agreementByLabel(votes), ["a": .init(samples: 2, agreeing: 1)])
        let events = [ReportPlanner.LatestEvent(sampleId: "s1", annotator: "ann", status: "label", value: "a", source: "human"),
                      ReportPlanner.LatestEvent(sampleId: "s2", annotator: "ann", status: "label", value: "b", source: "human"),
                      ReportPlanner.LatestEvent(sampleId: "s2", annotator: "m", status: "label", value: "a", source: "pseudo"),
                      ReportPlanner.LatestEvent(sampleId: "s3", annotator: "ann", status: "label", value: "b", source: "human")]
        XCTAssertEqual(ReportPlanner.agreementByAnnotator(events, votes: votes), ["ann": .init(samples: 2, agreeing: 1)])
    }

    /// The whole page for a fixed content, pinned as a golden file (`Fixtures/insights/report-golden.html`). Set
    /// `STRATA_UPDATE_GOLDEN=1` to rewrite it after an intended change (the test then fails once, on purpose).
    func testReportPageMatchesTheGoldenFile() throws {
        let intent = try Self.intent("max_age_days: 3650\nrequirements:\n  scenarios:\n    - name: phone\n      where: {channel: phone}\n      min_samples: 5\n")
        let samples = [Self.sample("p1", facts: ["channel": "phone"], label: "a"), Self.sample("e1", facts: ["channel": "email"], label: "a"),
                       Self.sample("e2", facts: ["channel": "email"], label: "b")]
        let labels = ["p1": "a", "e1": "a", "e2": "b"].mapValues { AnalysisLabel(label: $0, annotators: 2, agreeing: 2) }
        let coverage = [CoverageRow(category: "scenarios", name: "phone", selector: "channel=phone", count: 1, share: 1.0 / 3, minSamples: 5,
                                    minShare: nil, gap: 4, met: false)]
        let recommendations = RecommendationPlanner.recommend(.init(
            samples: samples, labels: labels, votes: labels, intent: intent, coverage: coverage, eval: nil, issues: nil,
            today: ISO8601DateFormatter().date(from: "2026-12-08T00:00:00Z")!))
        var content = Self.content()
        content.recommendations = recommendations
        content.coverage = coverage
        content.agreementByLabel = ReportPlanner.agreementByLabel(labels)
        content.agreementByAnnotator = ["ann": .init(samples: 3, agreeing: 2)]
        content.perIngest = [2, 1]
        var renderer = ReportRenderer()
        let html = renderer.render(content)
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/insights/report-golden.html").standardized
        if ProcessInfo.processInfo.environment["STRATA_UPDATE_GOLDEN"] == "1" {
            try html.write(to: golden, atomically: true, encoding: .utf8)
            XCTFail("rewrote \(golden.path); run again without STRATA_UPDATE_GOLDEN")
        }
        XCTAssertEqual(html, try String(contentsOf: golden, encoding: .utf8))
        XCTAssertEqual(renderer.charts, 6)
    }
}
