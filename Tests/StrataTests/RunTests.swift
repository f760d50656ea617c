import Foundation
import StrataCatalog
import StrataCore
import StrataEngine
import StrataStore
import XCTest
@testable import Strata

final class RunTests: XCTestCase {
    /// A text project with support messages: exact duplicates after case/space folding, near duplicates, junk.
    func makeProject(pipeline: String? = nil) throws -> (TempProject, Workspace) {
        let p = try TempProject(modalities: "text")
        var rows: [String] = []
        let words = ["invoice", "charged", "twice", "refund", "account", "locked", "password", "reset", "export", "crash",
                     "settings", "screen", "blank", "update", "plan", "renewal", "cancel", "subscription", "support", "email"]
        var rng = SplitMix64(seed: 3)
        var texts: [String] = []
        for i in 0..<60 {
            let n = 30 + rng.int(20)
            let text = (0..<n).map { _ in rng.pick(words) + String(rng.int(50)) }.joined(separator: " ")
            texts.append(text)
            rows.append(#"{"id": "m\#(i)", "text": "\#(text)"}"#)
        }
        rows.append(#"{"id": "d1", "text": "\#(texts[3].uppercased())"}"#)              // exact after case folding
        rows.append(#"{"id": "d2", "text": "  \#(texts[4])   "}"#)                      // exact after whitespace folding
        var near = texts[5].split(separator: " ").map(String.init)
        near[near.count - 1] = "changed"                                               // last word changed: Jaccard > 0.9
        rows.append(#"{"id": "n1", "text": "\#(near.joined(separator: " "))"}"#)
        rows.append(#"{"id": "j1", "text": "\#(Array(repeating: "buy now", count: 40).joined(separator: "\\n"))"}"#)  // repetitive
        rows.append(#"{"id": "j2", "text": "x"}"#)                                     // too short for min_length 3
        p.write("in/messages.jsonl", rows.joined(separator: "\n") + "\n")
        if let pipeline { try pipeline.write(toFile: p.root + "/pipeline.yaml", atomically: true, encoding: .utf8) }
        else {
            let yaml = try String(contentsOfFile: p.root + "/pipeline.yaml", encoding: .utf8)
                .replacingOccurrences(of: "min_length: 1", with: "min_length: 3")
            try yaml.write(toFile: p.root + "/pipeline.yaml", atomically: true, encoding: .utf8)
        }
        let ws = try p.open()
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/in"], source: "chat", date: "2026-02-01", records: RecordOptions(idField: "id")))
        return (p, ws)
    }

    func testDefaultPipelineRemovesDuplicatesAndJunkWithARecordForEach() throws {
        let (p, ws) = try makeProject()
        let report = try ws.run(RunOptions(workers: 2, shardSize: 16))
        XCTAssertEqual(report.stages.map(\.name), ["clean-text", "quality", "exact-dups", "near-dups"])
        for s in report.stages { XCTAssertTrue(s.counts.balanced, "\(s)") }
        let byName = Dictionary(uniqueKeysWithValues: report.stages.map { ($0.name, $0.counts) })
        XCTAssertEqual(byName["clean-text"]?.rejected, 1, "the 1-character text")
        XCTAssertEqual(byName["quality"]?.rejected, 1, "the repetitive text")
        XCTAssertEqual(byName["exact-dups"]?.duplicates, 2)
        XCTAssertEqual(byName["near-dups"]?.duplicates, 1)
        XCTAssertEqual(report.cleaned, 60)
        // Every removal is in the ledger with the origin of the kept sample.
        let exact = try ws.findings(kind: "duplicate", stage: "exact-dups")
        XCTAssertEqual(Set(exact.map(\.line)), [61, 62])
        XCTAssertEqual(Set(exact.compactMap(\.relatedLine)), [4, 5])
        XCTAssertEqual(exact.first?.relatedOrigin, p.incoming + "/in/messages.jsonl")
        let near = try ws.findings(kind: "near-duplicate")
        XCTAssertEqual(near.map(\.line), [63])
        XCTAssertEqual(near.map(\.relatedLine), [6])
        let q = try ws.quarantineList().filter { $0.stage != "ingest" }
        XCTAssertEqual(Set(q.map(\.stage)), ["clean-text", "quality"])
        XCTAssertEqual(Set(q.map(\.line)), [64, 65])
        // The cleaned set is on disk with lineage to the raw samples.
        let cleaned = try ws.catalog.cleanedSet()
        XCTAssertEqual(cleaned.count, 60)
        XCTAssertTrue(cleaned.allSatisfy { FileManager.default.fileExists(atPath: p.root + "/" + $0.path) })
        XCTAssertTrue(cleaned.allSatisfy { $0.path.hasPrefix("data/cleaned/chat/chat_") && $0.path.hasSuffix(".jsonl") })
        // The row with surrounding spaces survives exact dedup? No: it duplicates row 5 after folding. Cleaning trimmed
        // other texts only if they changed; every cleaned row points at its raw sample.
        let rawIds = Set(try ws.catalog.allSamples().map(\.id))
        XCTAssertTrue(cleaned.allSatisfy { rawIds.contains($0.sampleId) })
    }

    func testSecondRunDoesNothingAndAParameterChangeRerunsOnlyThatStage() throws {
        let (p, ws) = try makeProject()
        let first = try ws.run(RunOptions(workers: 2, shardSize: 16))
        XCTAssertFalse(first.nothingChanged)
        let before = try stateDigest(ws)
        let second = try ws.run(RunOptions(workers: 2, shardSize: 16))
        XCTAssertTrue(second.nothingChanged)
        XCTAssertTrue(second.stages.allSatisfy { $0.cachedTasks == $0.tasks })
        XCTAssertEqual(try stateDigest(ws), before)
        // Change near-dups only: the stages before it come from the cache.
        let yaml = try String(contentsOfFile: p.root + "/pipeline.yaml", encoding: .utf8).replacingOccurrences(of: "threshold: 0.8", with: "threshold: 0.9")
        try yaml.write(toFile: p.root + "/pipeline.yaml", atomically: true, encoding: .utf8)
        let third = try ws.run(RunOptions(workers: 2, shardSize: 16))
        for s in third.stages where s.name != "near-dups" { XCTAssertEqual(s.cachedTasks, s.tasks, s.name) }
        let near = try XCTUnwrap(third.stages.first { $0.name == "near-dups" })
        XCTAssertEqual(near.cachedTasks, 0)
        // --force re-runs everything.
        let forced = try ws.run(RunOptions(force: true, workers: 2, shardSize: 16))
        XCTAssertTrue(forced.stages.allSatisfy { $0.cachedTasks == 0 })
    }

    func testCommandStageDropsRewritesAndQuarantinesWhatItDoesNotAnswer() throws {
        let script = """
            import json, sys
            for line in sys.stdin:
                item = json.loads(line)
                t = item["text"]
                if "crash" in t.split()[0]:
                    print(json.dumps({"id": item["id"], "drop": "mentions a crash first"}))
                elif t.startswith("invoice"):
                    continue
                elif t.startswith("refund"):
                    print("not json")
                else:
                    print(json.dumps({"id": item["id"], "text": t.upper(), "score": 0.5}))
            """
        let (p, ws) = try makeProject(pipeline: """
            version: 1
            stages:
              - name: upper
                uses: command
                command: "python3 upper.py"
            """)
        try script.write(toFile: p.root + "/upper.py", atomically: true, encoding: .utf8)
        let report = try ws.run(RunOptions(workers: 2, shardSize: 10))
        let c = report.stages[0].counts
        XCTAssertTrue(c.balanced)
        XCTAssertEqual(c.inputs, 65)
        XCTAssertGreaterThan(c.reasons["dropped-by-command"] ?? 0, 0)
        XCTAssertGreaterThan(c.reasons["command-no-answer"] ?? 0, 0)
        let noAnswer = try ws.quarantineList().filter { $0.kind == "command-no-answer" }
        XCTAssertTrue(noAnswer.contains { $0.reason.contains("malformed output line") }, "\(noAnswer)")
        let cleaned = try ws.catalog.cleanedSet()
        // A sample whose text the command changed carries the command in its lineage; one it left alone does not.
        XCTAssertFalse(cleaned.isEmpty)
        for row in cleaned {
            XCTAssertEqual(row.contentSha != row.sampleId, row.transforms.contains("\"uses\":\"command\""), row.transforms)
        }
        XCTAssertTrue(cleaned.contains { $0.contentSha != $0.sampleId })
    }

    func testAFailingCommandIsRetriedThenStopsTheRunWithItsError() throws {
        let (p, ws) = try makeProject(pipeline: """
            version: 1
            stages:
              - name: exact
                uses: dedup.exact
              - name: broken
                uses: command
                command: "sh fail.sh"
            """)
        try "echo attempt >> attempts.txt; echo 'model file not found' >&2; exit 3\n".write(toFile: p.root + "/fail.sh", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ws.run(RunOptions(workers: 1, retries: 2, shardSize: 1000))) { error in
            XCTAssertTrue("\(error)".contains("exited with status 3"), "\(error)")
            XCTAssertTrue("\(error)".contains("model file not found"), "\(error)")
        }
        let attempts = try String(contentsOfFile: p.root + "/attempts.txt", encoding: .utf8).split(separator: "\n").count
        XCTAssertEqual(attempts, 3, "one try and two retries")
        let runs = try ws.runs()
        XCTAssertEqual(runs.first?.status, "failed")
        // The finished stage's work is kept: after fixing the command, only the command stage runs.
        try "cat >/dev/null; exit 0\n".write(toFile: p.root + "/fail.sh", atomically: true, encoding: .utf8)
        try "version: 1\nstages:\n  - name: exact\n    uses: dedup.exact\n".write(toFile: p.root + "/pipeline.yaml", atomically: true, encoding: .utf8)
        let again = try ws.run(RunOptions(workers: 1))
        XCTAssertEqual(again.stages[0].cachedTasks, again.stages[0].tasks)
    }

    func testBadStageParametersFailBeforeAnyWork() throws {
        let (p, ws) = try makeProject(pipeline: """
            version: 1
            stages:
              - name: near
                uses: dedup.near
                params: {treshold: 0.9}
            """)
        XCTAssertThrowsError(try ws.run(RunOptions())) { error in
            XCTAssertTrue("\(error)".contains("unknown parameter `treshold` (did you mean `threshold`?)"), "\(error)")
        }
        XCTAssertEqual(try ws.runs().count, 0)
        withExtendedLifetime(p) {}
    }

    func testRunsShowFlagsAJumpInTheRejectRate() throws {
        let (p, ws) = try makeProject()
        _ = try ws.run(RunOptions(workers: 2))
        let yaml = try String(contentsOfFile: p.root + "/pipeline.yaml", encoding: .utf8).replacingOccurrences(of: "min_length: 3", with: "min_length: 3, max_length: 200")
        try yaml.write(toFile: p.root + "/pipeline.yaml", atomically: true, encoding: .utf8)
        // The jump is large enough for the removal guard to stop the run; accepted here, as a user would.
        XCTAssertThrowsError(try ws.run(RunOptions(workers: 2)))
        _ = try ws.run(RunOptions(workers: 2, acceptRemovals: ["clean-text"]))
        let detail = try ws.runDetail(nil)
        XCTAssertTrue(detail.anomalies.contains { $0.contains("`clean-text` removed") }, "\(detail.anomalies)")
        XCTAssertTrue(try ws.runLogs(nil).contains("\"event\":\"run-end\""))
    }

    func testCleanTextNormalizesStripsHTMLRepairsMojibakeAndFiltersLanguages() throws {
        let p = try TempProject(modalities: "text")
        let rows = [
            #"{"id": "a", "text": "<p>The invoice for March was charged twice, please refund the second payment as soon as possible.</p>"}"#,
            #"{"id": "b", "text": "Der Drucker im zweiten Stock druckt seit gestern keine Seiten mehr, bitte schicken Sie einen Techniker."}"#,
            #"{"id": "c", "text": "The caf\u00c3\u00a9 menu export   fails\u200b every time I open the reports page on my phone today."}"#,
            #"{"id": "d", "text": "\uff28\uff45\uff4c\uff4c\uff4f support team, my account is locked after the password reset did not arrive."}"#,
        ]
        p.write("in/t.jsonl", rows.joined(separator: "\n") + "\n")
        try """
            version: 1
            stages:
              - name: clean
                uses: clean.text
                params: {normalize: nfkc, strip_html: true, languages: [en]}
            """.write(toFile: p.root + "/pipeline.yaml", atomically: true, encoding: .utf8)
        let ws = try p.open()
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/in"], source: "s", records: RecordOptions(idField: "id")))
        let report = try ws.run(RunOptions(workers: 1))
        XCTAssertEqual(report.stages[0].counts.reasons, ["language-not-allowed": 1])
        let q = try ws.quarantineList().filter { $0.stage == "clean" }
        XCTAssertEqual(q.map(\.line), [2])
        XCTAssertTrue(q[0].reason.contains("detected language `de`"), q[0].reason)
        let texts = try ws.catalog.cleanedSet().map { row -> String in
            let file = try String(contentsOfFile: p.root + "/" + row.path, encoding: .utf8).split(separator: "\n")[row.line! - 1]
            guard case .success(let obj) = JSONRecord.parseObject(Array(file.utf8)), case .string(let t)? = obj["text"] else { return "" }
            return t
        }.sorted()
        XCTAssertEqual(texts.count, 3)
        XCTAssertTrue(texts.contains { $0.hasPrefix("Hello support team") }, "\(texts)")            // NFKC of full-width letters
        XCTAssertTrue(texts.contains { $0.hasPrefix("The café menu export fails every") }, "\(texts)")  // mojibake, spaces, zero-width
        XCTAssertTrue(texts.contains { $0.hasPrefix("The invoice for March") && !$0.contains("<p>") }, "\(texts)")
    }

    /// The streamed run digest over rows in `cleanedRowOrder` hashes the same bytes as joining the sorted lines.
    func testRunDigestStreamsTheSortedLines() {
        var rows: [CleanedSampleRow] = []
        for i in 0..<3000 {
            // Ids of mixed lengths and a shared prefix, paths with spaces and non-ASCII, lines present or not.
            let id = i % 7 == 0 ? "ab" + String(i, radix: 16) : FileIO.sha256(Array("sample \(i)".utf8))
            rows.append(CleanedSampleRow(sampleId: id, contentSha: FileIO.sha256(Array("content \(i)".utf8)),
                                         path: i % 3 == 0 ? "data/cleaned/web/é \(i % 5).txt" : "data/cleaned/web/x.jsonl",
                                         line: i % 3 == 0 ? nil : i + 1, transforms: "[]", score: nil, runId: "run-x"))
        }
        rows.shuffle()
        let stageDigests = ["d1", "d2"]
        let lines = rows.map { "\($0.sampleId)\t\($0.contentSha)\t\($0.path)\t\($0.line.map(String.init) ?? "")" }.sorted()
        let expected = FileIO.sha256(Array((stageDigests + lines).joined(separator: "\n").utf8))
        XCTAssertEqual(Workspace.runDigest(stageDigests: stageDigests, cleanedRows: rows.sorted(by: Workspace.cleanedRowOrder)), expected)
        XCTAssertNotEqual(Workspace.runDigest(stageDigests: stageDigests, cleanedRows: rows), expected, "the order matters")
        XCTAssertEqual(Workspace.runDigest(stageDigests: [], cleanedRows: []), FileIO.sha256([UInt8]()))
    }
}
