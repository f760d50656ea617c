import Foundation
import StrataCatalog
import StrataCore
import StrataStore
import XCTest
@testable import Strata

final class VersionLeakageTests: XCTestCase {
    func project(leakage: String) throws -> (TempProject, Workspace, [String]) {
        let p = try TempProject(modalities: "text")
        try String(contentsOfFile: p.root + "/strata.yaml", encoding: .utf8)
            .appending("\nsplits:\n  ratios: {train: 0.5, test: 0.5}\n  leakage: \(leakage)\n")
            .write(toFile: p.root + "/strata.yaml", atomically: true, encoding: .utf8)
        p.write("in/rows.jsonl", (0..<80).map { "{\"text\": \"message \($0)\"}" }.joined(separator: "\n") + "\n")
        let ws = try p.open()
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/in"], source: "chat", records: RecordOptions()))
        let ids = try ws.catalog.allSamples().map(\.id)
        return (p, ws, ids)
    }

    /// Near-duplicate findings between sample i and i+40 (as an annotating dedup stage would record them).
    func addPairs(_ ws: Workspace, _ ids: [String]) throws {
        try ws.catalog.addFindings((0..<40).map { i in
            FindingRow(key: "nd-\(i)", kind: "near-duplicate", stage: "near-dups", sampleId: ids[i + 40], origin: nil, line: nil,
                       relatedSampleId: ids[i], reason: "test pair", runId: nil, createdAt: "2026-01-01T00:00:00Z")
        })
    }

    func testGroupPolicyKeepsDuplicatesInOneSplit() throws {
        let (p, ws, ids) = try project(leakage: "group")
        defer { withExtendedLifetime(p) {} }
        try addPairs(ws, ids)
        let v = try ws.createVersion(name: "v1", message: "").version
        XCTAssertEqual(v.leakage, [])
        let split = Dictionary(uniqueKeysWithValues: try ws.catalog.versionMembers(v.id).map { ($0.sampleId, $0.split) })
        for i in 0..<40 { XCTAssertEqual(split[ids[i]], split[ids[i + 40]]) }
        XCTAssertEqual(v.splits, ["train": 40, "test": 40])
    }

    func testReportPolicyListsPairsAcrossSplitsAndRecordsFindings() throws {
        let (p, ws, ids) = try project(leakage: "report")
        defer { withExtendedLifetime(p) {} }
        try addPairs(ws, ids)
        let v = try ws.createVersion(name: "v1", message: "").version
        XCTAssertFalse(v.leakage.isEmpty, "with 40 independent pairs, some land apart")
        XCTAssertTrue(v.leakage.allSatisfy { $0.resolution == "reported" && $0.splits[0] != $0.splits[1] })
        XCTAssertEqual(v.samples, 80)
        XCTAssertEqual(try ws.findings(kind: "leakage").count, v.leakage.count)
    }

    func testDropPolicyRemovesTheTestSideOfInheritedPairs() throws {
        let (p, ws, ids) = try project(leakage: "report")
        try addPairs(ws, ids)
        let v1 = try ws.createVersion(name: "v1", message: "").version
        _ = try ws.promoteVersion("v1")
        let yaml = try String(contentsOfFile: p.root + "/strata.yaml", encoding: .utf8).replacingOccurrences(of: "leakage: report", with: "leakage: drop")
        try yaml.write(toFile: p.root + "/strata.yaml", atomically: true, encoding: .utf8)
        let v2 = try p.open().createVersion(name: "v2", message: "").version
        XCTAssertEqual(v2.leakage.count, v1.leakage.count)
        XCTAssertEqual(v2.samples, 80 - v1.leakage.count)
        let members = try ws.catalog.versionMembers(v2.id)
        let split = Dictionary(uniqueKeysWithValues: members.map { ($0.sampleId, $0.split) })
        for pair in v2.leakage {
            let dropped = String(pair.resolution.dropFirst("dropped:".count))
            XCTAssertNil(split[dropped])
            XCTAssertEqual(split[dropped == pair.a ? pair.b : pair.a], "train", "the train side is kept")
        }
    }

    func testVersionKeepsCleanedContentAfterTheCleanedFolderIsRewritten() throws {
        let p = try TempProject(modalities: "text")
        p.write("in/rows.jsonl", (0..<30).map { "{\"text\": \"  Message   number \($0) with <b>markup</b>  \"}" }.joined(separator: "\n") + "\n")
        // One template filled in: near duplicates by the default's character 5-grams; this test is about versions.
        let pipeline = p.root + "/pipeline.yaml"
        try String(contentsOfFile: pipeline, encoding: .utf8).replacingOccurrences(of: "shingle: auto,", with: "shingle: words,")
            .write(toFile: pipeline, atomically: true, encoding: .utf8)
        let ws = try p.open()
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/in"], source: "chat", records: RecordOptions()))
        _ = try ws.run(RunOptions(workers: 1))
        let cleaned = try ws.catalog.cleanedSet()
        XCTAssertFalse(cleaned.isEmpty)
        let v = try ws.createVersion(name: "v1", message: "").version
        XCTAssertEqual(v.runs.count, 1)
        let members = try ws.catalog.versionMembers(v.id)
        XCTAssertEqual(members.count, cleaned.count)
        let changed = members.filter { $0.contentSha != $0.sampleId }
        XCTAssertFalse(changed.isEmpty, "clean-text changed the spacing and markup")
        XCTAssertTrue(changed.allSatisfy { $0.transforms != "[]" })
        // The next run may rewrite data/cleaned; the version does not depend on it.
        _ = try? Process.run(URL(fileURLWithPath: "/bin/chmod"), arguments: ["-R", "u+w", p.root + "/data/cleaned"]).waitUntilExit()
        try FileManager.default.removeItem(atPath: p.root + "/data/cleaned")
        XCTAssertEqual(try ws.verifyVersion("v1"), [])
        let export = try ws.export("v1", options: ExportOptions(format: .jsonl))
        XCTAssertEqual(export.samples, members.count)
        // Every exported text is the version's content (cleaned where cleaning changed it).
        let contentOf = Dictionary(uniqueKeysWithValues: members.map { ($0.sampleId, $0.contentSha) })
        var seen = 0
        for shard in export.shards {
            let text = try String(contentsOfFile: p.root + "/" + export.directory + "/" + shard.path, encoding: .utf8)
            for line in text.split(separator: "\n") {
                guard case .success(let row) = JSONRecord.parseObject(String(line)), case .string(let id)? = row["id"],
                      case .string(let content)? = row["content"] else { XCTFail("bad row \(line)"); continue }
                XCTAssertEqual(FileIO.sha256(Array(content.utf8)), contentOf[id])
                seen += 1
            }
        }
        XCTAssertEqual(seen, members.count)
    }
}
