import Foundation
import StrataCatalog
import StrataStore
import XCTest
@testable import Strata

final class VersionsTests: XCTestCase {
    /// Rows with the rulebook's template labels, in sessions of 4.
    func rows(_ range: Range<Int>) -> String {
        let labels = ["billing", "technical", "account"]
        return range.map { i in
            "{\"id\": \"r\(i)\", \"text\": \"message number \(i) about \(labels[i % 3])\", \"label\": \"\(labels[i % 3])\", \"session\": \"s\(i / 4)\"}"
        }.joined(separator: "\n") + "\n"
    }

    func ingest(_ p: TempProject, _ name: String, _ range: Range<Int>) throws {
        p.write("\(name)/rows.jsonl", rows(range))
        _ = try p.open().ingest(IngestOptions(paths: [p.incoming + "/" + name], source: "chat",
                                              records: RecordOptions(textField: "text", labelField: "label", idField: "id")))
    }

    func testCreateRecordsAManifestThatVerifiesAndSplitsStayStable() throws {
        let p = try TempProject(modalities: "text")
        try String(contentsOfFile: p.root + "/strata.yaml", encoding: .utf8)
            .appending("\nsplits:\n  ratios: {train: 0.8, validation: 0.1, test: 0.1}\n  group_by: fields.session\n")
            .write(toFile: p.root + "/strata.yaml", atomically: true, encoding: .utf8)
        try ingest(p, "a", 0..<240)
        let ws = try p.open()
        let v1 = try ws.createVersion(name: nil, message: "first").version
        XCTAssertEqual(v1.name, "v1")
        XCTAssertEqual(v1.state, .draft)
        XCTAssertEqual(v1.samples, 240)
        XCTAssertEqual(v1.labels, ["billing": 80, "technical": 80, "account": 80])
        // The manifest is an object named by its hash: the version verifies without the catalog.
        XCTAssertEqual(FileIO.sha256(try ws.objects.get(v1.id)), v1.id)
        XCTAssertEqual(try ws.verifyVersion("v1"), [])
        // Sessions (groups of 4) never span splits.
        let members = try ws.catalog.versionMembers(v1.id)
        let samples = try ws.catalog.samples(ids: members.map(\.sampleId))
        var splitOfSession: [String: Set<String>] = [:]
        for m in members {
            splitOfSession[Workspace.metadataValue(samples[m.sampleId]!, path: "fields.session")!, default: []].insert(m.split)
        }
        XCTAssertEqual(splitOfSession.count, 60)
        XCTAssertTrue(splitOfSession.values.allSatisfy { $0.count == 1 })
        XCTAssertEqual(v1.splits["train"]!, 192, accuracy: 8)

        // Same content: nothing new.
        XCTAssertTrue(try ws.createVersion(name: "again", message: "").unchanged)

        _ = try ws.promoteVersion("v1")
        try ingest(p, "b", 240..<480)
        let v2 = try p.open().createVersion(name: "v2", message: "more").version
        XCTAssertEqual(v2.parent, "v1")
        let before = Dictionary(uniqueKeysWithValues: members.map { ($0.sampleId, $0.split) })
        for m in try ws.catalog.versionMembers(v2.id) where before[m.sampleId] != nil {
            XCTAssertEqual(m.split, before[m.sampleId], "a sample never moves between splits")
        }
        let d = try ws.versionDiff("v1", "v2")
        XCTAssertEqual(d.added.count, 240)
        XCTAssertEqual(d.removed, [])
        XCTAssertEqual(d.labels["billing"], [80, 160])
    }

    func testActiveVersionsNeverChangeEvenThroughSQL() throws {
        let p = try TempProject(modalities: "text")
        try ingest(p, "a", 0..<30)
        let ws = try p.open()
        let v = try ws.createVersion(name: "v1", message: "").version
        // A draft can be replaced under its name.
        try ingest(p, "b", 30..<40)
        let replaced = try p.open().createVersion(name: "v1", message: "bigger")
        XCTAssertEqual(replaced.replacedDraft, v.id)
        XCTAssertEqual(replaced.version.samples, 40)
        _ = try ws.promoteVersion("v1")
        XCTAssertThrowsError(try ws.createVersion(name: "v1", message: "")) { XCTAssertTrue("\($0)".contains("permanent"), "\($0)") }
        let id = replaced.version.id
        for sql in ["UPDATE datasetVersion SET message = 'x' WHERE id = '\(id)'",
                    "DELETE FROM datasetVersion WHERE id = '\(id)'",
                    "UPDATE versionMember SET label = 'x' WHERE versionId = '\(id)'",
                    "DELETE FROM versionMember WHERE versionId = '\(id)'",
                    "INSERT INTO versionMember(versionId, sampleId, contentSha, split) SELECT '\(id)', id, id, 'train' FROM sample LIMIT 1",
                    "UPDATE datasetVersion SET state = 'draft' WHERE id = '\(id)'"] {
            XCTAssertThrowsError(try ws.catalog.write { db in try db.execute(sql: sql) }, sql) {
                XCTAssertTrue("\($0)".contains("never"), "\($0)")
            }
        }
        _ = try ws.retireVersion("v1")
        XCTAssertThrowsError(try ws.catalog.write { db in try db.execute(sql: "UPDATE datasetVersion SET state = 'active' WHERE id = '\(id)'") })
        XCTAssertEqual(try ws.versionShow("v1").state, .retired)
    }

    func testGCRemovesOnlyWhatNoVersionReferences() throws {
        let p = try TempProject(modalities: "text")
        try ingest(p, "a", 0..<20)
        let ws = try p.open()
        let first = try ws.createVersion(name: "d", message: "").version
        try ingest(p, "b", 20..<25)
        let second = try p.open().createVersion(name: "d", message: "").version
        XCTAssertTrue(ws.objects.contains(first.id))
        let dry = try ws.versionGC(dryRun: true)
        XCTAssertEqual(dry.removedObjects, [first.id])
        XCTAssertTrue(ws.objects.contains(first.id))
        let gc = try ws.versionGC(dryRun: false)
        XCTAssertEqual(gc.removedObjects, [first.id])
        XCTAssertFalse(ws.objects.contains(first.id))
        XCTAssertTrue(ws.objects.contains(second.id))
        XCTAssertEqual(try ws.verifyVersion("d"), [])
        // Record texts are never touched.
        for id in try ws.catalog.recordSampleIds() { XCTAssertTrue(ws.objects.contains(id)) }
        XCTAssertEqual(try ws.versionGC(dryRun: false).removedObjects, [])
    }

    func testModelsRegisterOnActiveVersionsAndLineageAnswersBothWays() throws {
        let p = try TempProject(modalities: "text")
        try ingest(p, "a", 0..<12)
        let ws = try p.open()
        let v = try ws.createVersion(name: "v1", message: "").version
        XCTAssertThrowsError(try ws.registerModel(name: "m1", version: "v1", metricsFile: nil, predictionsFile: nil, codeRev: nil)) {
            XCTAssertTrue("\($0)".contains("promote"), "\($0)")
        }
        _ = try ws.promoteVersion("v1")
        p.write("metrics.json", "{\"accuracy\": 0.91, \"f1\": 0.88}")
        p.write("bad.json", "[1, 2]")
        p.write("preds.jsonl", "{\"id\": \"x\", \"label\": \"billing\"}\n")
        XCTAssertThrowsError(try ws.registerModel(name: "m0", version: "v1", metricsFile: p.incoming + "/bad.json", predictionsFile: nil, codeRev: nil)) {
            XCTAssertTrue("\($0)".contains("bad.json: not a JSON object"), "\($0)")
        }
        let m = try ws.registerModel(name: "m1", version: "v1", metricsFile: p.incoming + "/metrics.json",
                                     predictionsFile: p.incoming + "/preds.jsonl", codeRev: "abc123")
        XCTAssertEqual(m.version, "v1")
        XCTAssertEqual(m.metrics, .object(["accuracy": .number(0.91), "f1": .number(0.88)]))
        XCTAssertEqual(try ws.objects.get(m.predictions!), Array("{\"id\": \"x\", \"label\": \"billing\"}\n".utf8))
        XCTAssertThrowsError(try ws.registerModel(name: "m1", version: "v1", metricsFile: nil, predictionsFile: nil, codeRev: nil))
        XCTAssertThrowsError(try ws.catalog.write { db in try db.execute(sql: "DELETE FROM model") })

        let lm = try ws.lineage(model: "m1")
        XCTAssertEqual(lm.version.id, v.id)
        XCTAssertEqual(Set(lm.version.specs.keys), ["strata.yaml", "intent.yaml", "rulebook.yaml", "pipeline.yaml"])
        let sampleId = try ws.catalog.versionMembers(v.id)[0].sampleId
        let ls = try ws.lineage(sample: String(sampleId.prefix(10)))
        XCTAssertEqual(ls.versions.map(\.version), ["v1"])
        XCTAssertEqual(ls.models, ["m1"])
        XCTAssertEqual(try ws.lineage(version: "v1").models.map(\.name), ["m1"])
        // A model keeps its data: gc leaves the predictions and metrics alone.
        XCTAssertEqual(try ws.versionGC(dryRun: true).removedObjects, [])

        // Predictions imported under the model's name are linked to it: where they fall in its training version.
        XCTAssertNil(lm.predictions)
        let members = try ws.catalog.versionMembers(v.id)
        try ingest(p, "later", 100..<103)  // new samples, not in v1
        let outside = try ws.catalog.allSamples().map(\.id).filter { id in !members.contains { $0.sampleId == id } }
        XCTAssertEqual(outside.count, 3)
        let predicted = members.prefix(5).map(\.sampleId) + outside
        p.write("m1-preds.jsonl", predicted.map { "{\"id\": \"\($0)\", \"label\": \"billing\"}" }.joined(separator: "\n") + "\n")
        _ = try ws.importPredictions(file: p.incoming + "/m1-preds.jsonl", model: "m1")
        var expected: [String: Int] = [:]
        for m in members.prefix(5) { expected[m.split, default: 0] += 1 }
        let use = try XCTUnwrap(try ws.lineage(model: "m1").predictions)
        XCTAssertEqual(use.count, 8)
        XCTAssertEqual(use.bySplit, expected)
        XCTAssertEqual(use.outsideVersion, 3)
        XCTAssertEqual(use.onTrainingSamples, expected["train"] ?? 0)
        XCTAssertEqual(try ws.predictionModels().map(\.trainedOn), ["v1"])
        _ = try ws.importPredictions(file: p.incoming + "/m1-preds.jsonl", model: "unregistered")
        XCTAssertEqual(try ws.predictionModels().map(\.trainedOn), ["v1", nil])
    }

    func testVersionLabelsComeFromTheLabelStoresConsensus() throws {
        let p = try TempProject(modalities: "text")
        p.write("a/rows.jsonl", (0..<4).map { "{\"text\": \"message \($0)\"}" }.joined(separator: "\n") + "\n")
        let ws = try p.open()
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/a"], source: "chat", records: RecordOptions()))
        let ids = try ws.catalog.allSamples().map(\.id)
        func event(_ s: Int, _ who: String, _ value: String?, status: String = "label") throws {
            try ws.catalog.write { db in
                try db.execute(sql: """
                    INSERT INTO labelEvent(sampleId, status, value, annotator, role, source, createdAt)
                    VALUES (?, ?, ?, ?, 'tasker', 'human', '2026-01-01T00:00:00Z')
                    """, arguments: [ids[s], status, value, who])
            }
        }
        try event(0, "ann1", "billing"); try event(0, "ann2", "technical"); try event(0, "ann1", "technical")  // latest per annotator: 2-0
        try event(1, "ann1", "billing"); try event(1, "ann2", "technical")                                     // tie
        try event(2, "ann1", "account")                                                                        // one annotator of two: pending
        try event(3, "ann1", nil, status: "skip"); try event(3, "ann2", nil, status: "skip")                   // skipped
        let r = try VersionLabels.resolve(ws)
        XCTAssertEqual(r.labels, [ids[0]: "technical", ids[2]: "account"])
        XCTAssertEqual(r.unresolved, [ids[1]])
        XCTAssertEqual(r.pending, [ids[2]])
        let v = try ws.createVersion(name: "v1", message: "").version
        XCTAssertEqual(v.unresolvedLabels, 1)
        XCTAssertEqual(v.pendingLabels, 1)
        XCTAssertEqual(v.labels, ["technical": 1, "account": 1, "(none)": 2])
    }
}
