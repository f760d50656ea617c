import Foundation
import StrataCatalog
import StrataCore
import StrataStore
import XCTest
@testable import Strata

final class LabelIOTests: XCTestCase {
    /// Events of every kind, with text that needs quoting in CSV and escaping in JSON.
    func seed(_ lp: LabelProject) throws {
        let store = try lp.ws.labelStore()
        _ = try store.append([
            LabelSubmission(sample: lp.ids[0], value: "billing", annotator: "ana", answers: ["yes"], createdAt: "2026-01-02T03:04:05Z"),
            LabelSubmission(sample: lp.ids[0], value: "other", reason: "second look, \"not\" money\nat all", annotator: "ben",
                            answers: ["no", "yes"], createdAt: "2026-01-02T03:05:00.250Z"),
            LabelSubmission(sample: lp.ids[1], status: .skip, reason: "personal data, flagged", annotator: "ana", createdAt: "2026-01-03T00:00:00Z"),
            LabelSubmission(sample: lp.ids[2], status: .unclear, reason: "unreadable", annotator: "ben", answers: ["no", "no"], createdAt: "2026-01-03T00:00:01Z"),
            LabelSubmission(sample: lp.ids[3], value: "other", annotator: "model:v1", role: .model, source: .model, confidence: 0.8125,
                            createdAt: "2026-01-04T00:00:00Z"),
            LabelSubmission(sample: lp.ids[3], value: "billing", annotator: "rita", role: .reviewer, createdAt: "2026-01-05T00:00:00Z"),
        ])
    }

    /// The fields that must survive a round trip (everything but the row id).
    func comparable(_ events: [LabelEvent]) -> [String] {
        events.map { e in
            [e.sample, e.status.rawValue, e.value ?? "-", e.reason ?? "-", e.annotator, e.role.rawValue, e.source.rawValue,
             e.confidence.map { "\($0)" } ?? "-", e.rulebookVersion ?? "-", (e.answers ?? []).joined(separator: "|"), e.createdAt]
                .joined(separator: " ¦ ")
        }.sorted()
    }

    func testRoundTripThroughEveryFormat() throws {
        let a = try LabelProject()
        try seed(a)
        let original = comparable(try a.ws.labelEvents())
        XCTAssertEqual(original.count, 6)
        for format in LabelFileFormat.allCases {
            let bytes = try a.ws.exportLabels(format: format)
            let file = a.p.base + "/labels." + (format == .labelStudio ? "json" : format.rawValue)
            try Data(bytes).write(to: URL(fileURLWithPath: file))

            // Into a second project with the same samples: the same events come back.
            let b = try LabelProject()
            let s = try b.ws.importLabels(LabelImportOptions(path: file))
            XCTAssertEqual(s.format, format)
            XCTAssertEqual(s.stored, 6, "\(format)")
            XCTAssertEqual(comparable(try b.ws.labelEvents()), original, "\(format)")

            // Back into the project it came from: nothing new.
            let again = try a.ws.importLabels(LabelImportOptions(path: file))
            XCTAssertEqual(again.stored, 0, "\(format)")
            XCTAssertEqual(again.duplicates, 6, "\(format)")
            XCTAssertEqual(try a.ws.catalog.labelEventCount(), 6)
        }
    }

    func testLabelStudioExportIsOneTaskPerSampleWithChoices() throws {
        let lp = try LabelProject(samples: 5)
        try seed(lp)
        let bytes = try lp.ws.exportLabels(format: .labelStudio)
        let tasks = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes)) as? [[String: Any]])
        XCTAssertEqual(tasks.count, 5)  // every sample, labeled or not
        let first = try XCTUnwrap(tasks.first { ($0["data"] as? [String: Any])?["strata_id"] as? String == lp.ids[0] })
        let data = try XCTUnwrap(first["data"] as? [String: Any])
        XCTAssertEqual(data["text"] as? String, "customer message number 0 about something")
        let annotations = try XCTUnwrap(first["annotations"] as? [[String: Any]])
        XCTAssertEqual(annotations.count, 2)
        let result = try XCTUnwrap((annotations[0]["result"] as? [[String: Any]])?.first)
        XCTAssertEqual(result["type"] as? String, "choices")
        XCTAssertEqual(result["from_name"] as? String, "label")
        XCTAssertEqual(result["to_name"] as? String, "text")
        XCTAssertEqual((result["value"] as? [String: Any])?["choices"] as? [String], ["billing"])
        // The labeling config names the same tags.
        let config = try lp.ws.labelStudioConfig()
        XCTAssertTrue(config.contains("<Text name=\"text\" value=\"$text\"/>"), config)
        XCTAssertTrue(config.contains("<Choices name=\"label\" toName=\"text\""), config)
        XCTAssertTrue(config.contains("<Choice value=\"billing\"/>"), config)
    }

    /// A file shaped like Label Studio's own JSON export (no `strata` objects): annotators from `completed_by`,
    /// cancelled annotations as skips, predictions as model labels.
    func testImportsLabelStudiosOwnExport() throws {
        let lp = try LabelProject(samples: 3)
        let export = """
            [
              {"id": 11, "data": {"text": "x", "strata_id": "\(lp.ids[0])"}, "project": 4,
               "annotations": [
                 {"id": 101, "completed_by": 7, "result": [{"id": "r1", "type": "choices", "from_name": "label", "to_name": "text",
                   "value": {"choices": ["billing"]}, "origin": "manual"}], "was_cancelled": false, "ground_truth": false,
                   "created_at": "2026-02-01T10:00:00.123456Z", "lead_time": 3.5},
                 {"id": 102, "completed_by": {"id": 8, "email": "ben@example.com"}, "result": [], "was_cancelled": true,
                   "created_at": "2026-02-01T10:01:00Z"}
               ],
               "predictions": [{"model_version": "m2", "score": 0.75, "result": [{"type": "choices", "from_name": "label",
                 "to_name": "text", "value": {"choices": ["other"]}}]}]},
              {"id": 12, "data": {"text": "y", "strata_short_id": "\(lp.ids[1].prefix(10))"}, "annotations": []}
            ]
            """
        let file = lp.p.base + "/ls-export.json"
        try export.write(toFile: file, atomically: true, encoding: .utf8)
        let s = try lp.ws.importLabels(LabelImportOptions(path: file))
        XCTAssertEqual(s.stored, 3)
        let events = try lp.ws.labelEvents(sample: lp.ids[0])
        XCTAssertEqual(events.map(\.annotator), ["label-studio:user-7", "label-studio:ben@example.com", "model:m2"])
        XCTAssertEqual(events.map(\.status), [.label, .skip, .label])
        XCTAssertEqual(events.map(\.value), ["billing", nil, "other"])
        XCTAssertEqual(events[2].source, .model)
        XCTAssertEqual(events[2].confidence, 0.75)
        XCTAssertEqual(events[0].createdAt, "2026-02-01T10:00:00.123456Z")
        XCTAssertEqual(events[1].reason, "cancelled in Label Studio")
        XCTAssertEqual(try lp.ws.importLabels(LabelImportOptions(path: file)).stored, 0)
    }

    /// A real export of Label Studio 1.23.2 (Tests/StrataTests/Fixtures/label-studio-1.23.2-export.json): Strata's
    /// tasks with six events were imported into Label Studio, one more task was labeled there, and the project was
    /// exported as JSON. Label Studio dropped the annotations' `strata` objects and re-attributed them to the
    /// importing user; the events that travel in `data.strata_events` let them come back as the same events.
    /// Found by fuzz-labels: an empty `strata_id` became an entry without a sample.
    func testAnEmptyOrBlankSampleIdIsAProblemNotAnEntry() {
        for id in ["", "  "] {
            let text = #"[{"id": 1, "annotations": [{"id": 2, "completed_by": 7, "result": [{"type": "choices", "value": {"choices": ["billing"]}}]}], "data": {"strata_id": "\#(id)"}}]"#
            let read = LabelFileReader.read(Array(text.utf8), format: .labelStudio, defaults: LabelImportDefaults(annotator: "a"))
            XCTAssertEqual(read.entries.count, 0, id)
            XCTAssertEqual(read.problems.count, 1, id)
            XCTAssertTrue(read.problems.first?.message.contains("strata_id") == true, "\(read.problems)")
        }
    }

    func testRealLabelStudioRoundTrip() throws {
        let p = try TempProject(modalities: "text")
        p.write("in/t.jsonl", (1...5).map { "{\"text\": \"ticket \($0): my invoice shows a charge I do not know\"}" }.joined(separator: "\n") + "\n")
        let ws = try p.open()
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/in"], source: "desk", records: RecordOptions(textField: "text")))
        let ids = (1...5).map { FileIO.sha256(Array("ticket \($0): my invoice shows a charge I do not know".utf8)) }.sorted()
        var subs: [LabelSubmission] = []
        for i in 0..<3 {
            subs.append(LabelSubmission(sample: ids[i], value: "billing", annotator: "ana", role: .importer, source: .import, createdAt: "2026-03-01T00:00:0\(i)Z"))
            subs.append(LabelSubmission(sample: ids[i], value: i == 2 ? "technical" : "billing", annotator: "ben", role: .importer, source: .import,
                                        createdAt: "2026-03-01T00:01:0\(i)Z"))
        }
        _ = try ws.appendLabels(subs)
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/label-studio-1.23.2-export.json").path
        let s = try ws.importLabels(LabelImportOptions(path: fixture))
        XCTAssertEqual(s.read, 7)
        XCTAssertEqual(s.duplicates, 6)
        XCTAssertEqual(s.stored, 1)
        let new = try XCTUnwrap(try ws.labelEvents(annotator: "label-studio:user-1").first)
        XCTAssertEqual(new.value, "account")
        XCTAssertEqual(new.sample, ids[3])
        XCTAssertEqual(new.source, .import)
    }

    func testBadRowsImportNothingAndNameTheirLines() throws {
        let lp = try LabelProject()
        let file = lp.p.base + "/bad.csv"
        try """
            sample,value,annotator,status
            \(lp.ids[0]),billing,ana,label
            \(lp.ids[1]),billling,ana,label
            nosuch,other,ana,label
            \(lp.ids[2]),,ana,maybe
            \(lp.ids[3]),other,ana

            """.write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try lp.ws.importLabels(LabelImportOptions(path: file))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("nothing was imported"), text)
            XCTAssertTrue(text.contains("bad.csv line 5: status `maybe` is not one of label, skip, unclear"), text)
            XCTAssertTrue(text.contains("bad.csv line 6: 3 fields, the header has 4"), text)
        }
        XCTAssertEqual(try lp.ws.catalog.labelEventCount(), 0)

        // With the parse problems fixed, the label and sample problems are reported with their lines.
        try """
            sample,value,annotator
            \(lp.ids[0]),billing,ana
            \(lp.ids[1]),billling,ana
            nosuch,other,ana

            """.write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try lp.ws.importLabels(LabelImportOptions(path: file))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("bad.csv line 3: value: `billling` is not a label of rulebook.yaml"), text)
            XCTAssertTrue(text.contains("bad.csv line 4: sample: no sample has the id or short id `nosuch`"), text)
        }
        XCTAssertEqual(try lp.ws.catalog.labelEventCount(), 0)
    }

    func testGoldImportFeedsAnnotatorAccuracy() throws {
        let lp = try LabelProject()
        let store = try lp.ws.labelStore()
        _ = try store.append([
            LabelSubmission(sample: lp.ids[0], value: "billing", annotator: "ana"),
            LabelSubmission(sample: lp.ids[0], value: "other", annotator: "ben"),
            LabelSubmission(sample: lp.ids[1], value: "other", annotator: "ana"),
            LabelSubmission(sample: lp.ids[1], value: "other", annotator: "ben"),
        ])
        let file = lp.p.base + "/gold.jsonl"
        try "{\"sample\": \"\(lp.ids[0])\", \"value\": \"billing\"}\n{\"sample\": \"\(lp.ids[1])\", \"label\": \"other\"}\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let s = try lp.ws.importLabels(LabelImportOptions(path: file, gold: true))
        XCTAssertEqual(s.stored, 2)
        XCTAssertEqual(try lp.ws.catalog.labelEventCount(), 4)  // gold answers are not events
        let r = try lp.ws.labelStore().agreement()
        let by = Dictionary(uniqueKeysWithValues: r.agreement.annotatorStats.map { ($0.annotator, $0) })
        XCTAssertEqual(by["ana"]?.goldAccuracy, 1)
        XCTAssertEqual(by["ben"]?.goldAccuracy, 0.5)
    }

    func testConsensusUsesLatestEventPerAnnotatorAndAdjudications() throws {
        let lp = try LabelProject()
        let store = try lp.ws.labelStore()
        _ = try store.append([
            // Sample 0: three agree.
            LabelSubmission(sample: lp.ids[0], value: "billing", annotator: "ana"),
            LabelSubmission(sample: lp.ids[0], value: "billing", annotator: "ben"),
            LabelSubmission(sample: lp.ids[0], value: "billing", annotator: "cy"),
            // Sample 1: ben corrects himself, which turns a 2-1 into 3-0.
            LabelSubmission(sample: lp.ids[1], value: "other", annotator: "ana"),
            LabelSubmission(sample: lp.ids[1], value: "billing", annotator: "ben"),
            LabelSubmission(sample: lp.ids[1], value: "other", annotator: "cy"),
            LabelSubmission(sample: lp.ids[1], value: "other", annotator: "ben"),
            // Sample 2: a three-way split, then a reviewer decides.
            LabelSubmission(sample: lp.ids[2], value: "billing", annotator: "ana"),
            LabelSubmission(sample: lp.ids[2], value: "other", annotator: "ben"),
            LabelSubmission(sample: lp.ids[2], status: .unclear, reason: "cannot tell", annotator: "cy"),
            // Sample 3: 2 of 3 agree, below... no: 0.67 >= 0.6 is decided; sample 4 is a tie with one unclear.
            LabelSubmission(sample: lp.ids[3], value: "other", annotator: "ana"),
            LabelSubmission(sample: lp.ids[3], value: "other", annotator: "ben"),
            LabelSubmission(sample: lp.ids[3], value: "billing", annotator: "cy"),
            LabelSubmission(sample: lp.ids[4], value: "other", annotator: "ana"),
        ])
        var r = try store.consensus()
        var by = Dictionary(uniqueKeysWithValues: r.samples.map { ($0.sample, $0) })
        XCTAssertEqual(by[lp.ids[0]]?.state, .decided)
        XCTAssertEqual(by[lp.ids[1]]?.state, .decided)
        XCTAssertEqual(by[lp.ids[1]]?.votes, ["other": 3])
        XCTAssertEqual(by[lp.ids[2]]?.state, .adjudicate)
        XCTAssertEqual(by[lp.ids[3]]?.state, .decided)
        XCTAssertEqual(by[lp.ids[3]]?.label, "other")
        XCTAssertEqual(by[lp.ids[4]]?.state, .pending)
        XCTAssertEqual(r.adjudication.map(\.sample), [lp.ids[2]])

        _ = try store.append(LabelSubmission(sample: lp.ids[2], value: "other", annotator: "rita", role: .reviewer))
        r = try store.consensus()
        by = Dictionary(uniqueKeysWithValues: r.samples.map { ($0.sample, $0) })
        XCTAssertEqual(by[lp.ids[2]]?.state, .adjudicated)
        XCTAssertEqual(by[lp.ids[2]]?.label, "other")
        XCTAssertTrue(r.adjudication.isEmpty)
        // The reviewer's decision is not a rating in the agreement report.
        XCTAssertFalse(try store.agreement().agreement.annotatorStats.contains { $0.annotator == "rita" })
    }
}
