import Foundation
import StrataCore
import StrataMedia
import StrataStore
import XCTest
@testable import Strata

/// Issue 18: defects a new user met in the first week on real data.
final class FirstWeekTests: XCTestCase {
    /// Bug 4: UTF-8 read as Latin-1 carries C1 controls (U+0080..U+009F) inside each mis-decoded sequence;
    /// removing control characters first destroyed the sequence ("The â little"). Repair comes first.
    func testCleanTextRepairsMojibakeBeforeRemovingControlCharacters() throws {
        let p = try TempProject(modalities: "text")
        // "The — little" and "I’m sure" as UTF-8 bytes decoded as Latin-1 (C1 controls, not Windows-1252).
        func latin1(_ s: String) -> String { String(String.UnicodeScalarView(s.utf8.map { Unicode.Scalar($0) })) }
        let dash = latin1("The — little shop opened its doors again this spring, after a long and quiet winter.")
        let quote = latin1("I’m sure the parcel will arrive on Tuesday, the courier said when he called this morning.")
        func row(_ id: String, _ text: String) -> String {
            var escaped = ""
            for u in text.unicodeScalars { escaped += u.value < 0x20 || (u.value >= 0x7F && u.value < 0xA0) ? String(format: "\\u%04x", u.value) : String(u) }
            return #"{"id": "\#(id)", "text": "\#(escaped)"}"#
        }
        p.write("in/t.jsonl", [row("a", dash), row("b", quote)].joined(separator: "\n") + "\n")
        try """
            version: 1
            stages:
              - name: clean
                uses: clean.text
            """.write(toFile: p.root + "/pipeline.yaml", atomically: true, encoding: .utf8)
        let ws = try p.open()
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/in"], source: "s", records: RecordOptions(idField: "id")))
        _ = try ws.run(RunOptions(workers: 1))
        let texts = try ws.catalog.cleanedSet().map { row -> String in
            let file = try String(contentsOfFile: p.root + "/" + row.path, encoding: .utf8).split(separator: "\n")[row.line! - 1]
            guard case .success(let obj) = JSONRecord.parseObject(Array(file.utf8)), case .string(let t)? = obj["text"] else { return "" }
            return t
        }.sorted()
        XCTAssertEqual(texts, ["I’m sure the parcel will arrive on Tuesday, the courier said when he called this morning.",
                               "The — little shop opened its doors again this spring, after a long and quiet winter."])
    }

    /// Bug 10: a backslash is an ordinary character in a Linux file name; only a real `..` component is unsafe.
    func testManifestFileNameWithABackslashIsReadAndDotDotIsStillRefused() throws {
        let p = try TempProject()
        try """
            version: 1
            labels:
              - name: circle
                definition: a round shape
            """.write(toFile: p.root + "/rulebook.yaml", atomically: true, encoding: .utf8)
        p.write("m/images/..\\mnist_00566.png", Fixtures.png(1))
        p.write("m/labels.csv", """
            file,label
            images/..\\mnist_00566.png,circle
            images/../../x.png,circle

            """)
        let ws = try p.open()
        let s = try ws.ingest(IngestOptions(paths: [p.incoming + "/m"], source: "cam", metaFile: p.incoming + "/m/labels.csv"))
        XCTAssertEqual(s.accepted, 1)
        let q = try ws.quarantineList()
        XCTAssertEqual(q.map(\.kind), ["unsafe-path"])
        XCTAssertEqual(q.map(\.line), [3])
        XCTAssertEqual(q.first?.reason, "the row names `images/../../x.png`: it leaves the manifest's folder with `..`; only paths inside \(p.incoming)/m are read")
        XCTAssertNil(IngestMetaList.unsafePathReason("a\\..\\b.png"))
        XCTAssertNil(IngestMetaList.unsafePathReason("..\\b.png"))
        XCTAssertEqual(IngestMetaList.unsafePathReason("a/../../b.png"), "it leaves the manifest's folder with `..`")
        let labels = try ws.catalog.read { db in try String.fetchAll(db, sql: "SELECT value FROM labelEvent") }
        XCTAssertEqual(labels, ["circle"])
    }

    /// Bug 12: a draft was no parent, so a draft that had been exported (and trained on) did not pin its splits:
    /// adding data moved some of its samples between train and validation.
    func testAddingDataNeverMovesASampleOfTheLatestVersionEvenADraft() throws {
        let p = try TempProject(modalities: "text")
        let labels = ["billing", "technical", "account"]
        func ingest(_ name: String, _ range: Range<Int>) throws {
            p.write("\(name)/rows.jsonl", range.map { i in
                "{\"id\": \"r\(i)\", \"text\": \"message number \(i) about \(labels[i % 3])\", \"label\": \"\(labels[i % 3])\"}"
            }.joined(separator: "\n") + "\n")
            _ = try p.open().ingest(IngestOptions(paths: [p.incoming + "/" + name], source: "chat",
                                                  records: RecordOptions(textField: "text", labelField: "label", idField: "id")))
        }
        try ingest("a", 0..<300)
        let ws = try p.open()
        let v1 = try ws.createVersion(name: nil, message: "first").version
        XCTAssertEqual(v1.state, .draft)
        _ = try ws.export("v1", options: ExportOptions(format: .jsonl))
        let before = Dictionary(uniqueKeysWithValues: try ws.catalog.versionMembers(v1.id).map { ($0.sampleId, $0.split) })
        try ingest("b", 300..<420)
        let v2 = try p.open().createVersion(name: nil, message: "more").version
        let after = try ws.catalog.versionMembers(v2.id)
        XCTAssertEqual(after.count, 420)
        let moved = after.filter { before[$0.sampleId] != nil && before[$0.sampleId] != $0.split }.count
        XCTAssertEqual(moved, 0, "no sample of v1 changes split in v2")
        XCTAssertEqual(v2.splitsFrom, "v1")
        XCTAssertNil(v2.parent, "a draft stays out of lineage: it can still be replaced")
        // Re-creating the draft v2 under its own name keeps v2's splits too (the draft it replaces is the latest).
        try ingest("c", 420..<480)
        let v2b = try p.open().createVersion(name: "v2", message: "again").version
        let v2Splits = Dictionary(uniqueKeysWithValues: after.map { ($0.sampleId, $0.split) })
        XCTAssertEqual(try ws.catalog.versionMembers(v2b.id).filter { v2Splits[$0.sampleId] != nil && v2Splits[$0.sampleId] != $0.split }.count, 0)
    }

    /// Bug 1: clean.audio turned stereo OGG into mono WAV, but every export named the member `*.ogg` and described
    /// it as `format: ogg`, `channels: 2`. Names, extensions and metadata describe the exported bytes.
    func testExportedCleanedAudioIsNamedAndDescribedByItsBytes() throws {
        let p = try TempProject(modalities: "audio")
        let yaml = try String(contentsOfFile: p.root + "/strata.yaml", encoding: .utf8)
            .replacingOccurrences(of: "audio: [wav, flac]", with: "audio: [ogg, wav]")
        try yaml.write(toFile: p.root + "/strata.yaml", atomically: true, encoding: .utf8)
        let rate = 16_000
        for seed in 0..<2 {
            let mono = Synth.melody(seconds: 2, sampleRate: rate, seed: UInt64(40 + seed))
            var stereo = [Float](repeating: 0, count: mono.count * 2)
            for i in 0..<mono.count { stereo[2 * i] = mono[i]; stereo[2 * i + 1] = mono[i] * 0.5 }
            p.write("mic/clip\(seed).ogg", try Encode.oggVorbis(stereo, sampleRate: rate, channels: 2))
        }
        let ws = try p.open()
        let ingested = try ws.ingest(IngestOptions(paths: [p.incoming + "/mic"], source: "mic", date: "2026-03-01"))
        XCTAssertEqual(ingested.accepted, 2)
        _ = try ws.run(RunOptions(workers: 1))
        _ = try ws.createVersion(name: "v1", message: "")

        func check(_ meta: [String: JSONValue], _ what: String) {
            XCTAssertEqual(meta["format"], .string("wav"), what)
            XCTAssertEqual(meta["raw_format"], .string("ogg"), what)
            guard case .object(let probe)? = meta["probe"], case .object(let raw)? = meta["raw_probe"] else { return XCTFail("no probe: \(what)") }
            XCTAssertEqual(probe["channels"], .int(1), what)
            XCTAssertEqual(probe["container"], .string("wav"), what)
            XCTAssertEqual(raw["channels"], .int(2), what)
        }
        // WebDataset: member names and their JSON.
        let wds = try ws.export("v1", options: ExportOptions(format: .webdataset))
        var names: [String] = []
        for shard in wds.shards {
            let tar = try FileIO.readAll(p.root + "/" + wds.directory + "/" + shard.path)
            var offset = 0
            while offset + 512 <= tar.count, tar[offset] != 0 {
                let name = String(decoding: tar[offset..<offset + 100].prefix { $0 != 0 }, as: UTF8.self)
                let size = Int(String(decoding: tar[offset + 124..<offset + 135], as: UTF8.self), radix: 8) ?? 0
                let body = Array(tar[(offset + 512)..<(offset + 512 + size)])
                names.append(name)
                if name.hasSuffix(".wav") { XCTAssertEqual(Array(body.prefix(4)), Array("RIFF".utf8)) }
                if name.hasSuffix(".json"), case .success(let o) = JSONRecord.parseObject(body), case .object(let meta)? = o["metadata"] {
                    check(meta, name)
                }
                offset += 512 + (size + 511) / 512 * 512
            }
        }
        XCTAssertEqual(names.filter { $0.hasSuffix(".wav") }.count, 2, "\(names)")
        XCTAssertEqual(names.filter { $0.hasSuffix(".ogg") }.count, 0, "\(names)")
        // JSONL: the content path and the metadata.
        let jsonl = try ws.export("v1", options: ExportOptions(format: .jsonl))
        var rows = 0
        for shard in jsonl.shards {
            for line in try String(contentsOfFile: p.root + "/" + jsonl.directory + "/" + shard.path, encoding: .utf8).split(separator: "\n") {
                guard case .success(let o) = JSONRecord.parseObject(Array(line.utf8)), case .string(let content)? = o["content"],
                      case .object(let meta)? = o["metadata"] else { return XCTFail(String(line)) }
                XCTAssertTrue(content.hasSuffix(".wav"), content)
                XCTAssertEqual(Array(try FileIO.readAll(p.root + "/" + jsonl.directory + "/" + content).prefix(4)), Array("RIFF".utf8))
                check(meta, content)
                rows += 1
            }
        }
        XCTAssertEqual(rows, 2)
        // Parquet: the struct's path.
        let parquet = try ws.export("v1", options: ExportOptions(format: .parquet, compression: .uncompressed))
        let bytes = try FileIO.readAll(p.root + "/" + parquet.directory + "/" + parquet.shards[0].path)
        let text = String(decoding: bytes, as: UTF8.self)
        for sample in try ws.catalog.allSamples() {
            let key = String(sample.id.prefix(16))
            XCTAssertTrue(text.contains(key + ".wav"), "the Parquet `path` of \(key) names a .wav")
            XCTAssertFalse(text.contains(key + ".ogg"), "no .ogg name for \(key) in the Parquet file")
        }
    }

    /// Bug 6: the per-modality card listed every label with the whole version's counts (`animals 145` on the audio
    /// card, whose own counts table showed 0). The card and manifest count this export's samples.
    func testPerModalityCardCountsOnlyItsOwnSamples() throws {
        let p = try TempProject(modalities: "text,audio")
        try """
            version: 1
            labels:
              - name: animals
                definition: a text about animals
              - name: speech
                definition: a clip of someone speaking
              - name: music
                definition: a clip of music
            """.write(toFile: p.root + "/rulebook.yaml", atomically: true, encoding: .utf8)
        try String(contentsOfFile: p.root + "/strata.yaml", encoding: .utf8)
            .appending("\nsplits:\n  ratios: {train: 1.0}\n")
            .write(toFile: p.root + "/strata.yaml", atomically: true, encoding: .utf8)
        p.write("t/rows.jsonl", (0..<5).map { #"{"id": "r\#($0)", "text": "a text about animal number \#($0)", "label": "animals"}"# }
            .joined(separator: "\n") + "\n")
        p.write("a/a.wav", Fixtures.wav(1))
        p.write("a/b.wav", Fixtures.wav(2))
        p.write("a/c.wav", Fixtures.wav(3))
        p.write("a/labels.csv", "file,label\na.wav,speech\nb.wav,speech\nc.wav,\n")
        let ws = try p.open()
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/t"], source: "t", records: RecordOptions(textField: "text", labelField: "label", idField: "id")))
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/a"], source: "a", metaFile: p.incoming + "/a/labels.csv"))
        let v = try ws.createVersion(name: "v1", message: "").version
        XCTAssertEqual(v.labels, ["animals": 5, "speech": 2, "(none)": 1])
        let r = try ws.export("v1", options: ExportOptions(format: .jsonl, modality: "audio"))
        let card = try String(contentsOfFile: p.root + "/" + r.directory + "/README.md", encoding: .utf8)
        let start = try XCTUnwrap(card.range(of: "## Labels\n"))
        let end = try XCTUnwrap(card.range(of: "## Known issues"))
        XCTAssertEqual(String(card[start.lowerBound..<end.lowerBound]), """
            ## Labels

            | label | definition | samples |
            |---|---|---|
            | `speech` | a clip of someone speaking | 2 |

            No sample in this export has the labels `animals`, `music`.

            Each sample's label is the consensus of its label events (\(VersionLabels.method)); 1 annotator(s) per sample are asked for.

            ## Counts

            | split | samples | speech | unlabeled |
            |---|---|---|---|
            | train | 3 | 2 | 1 |

            By source (slice): `a` 3


            """)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: p.root + "/" + r.directory + "/manifest.json"))) as? [String: Any]
        XCTAssertEqual(manifest?["labels"] as? [String: Int], ["speech": 2, "(none)": 1])
    }

    /// Friction: `suggest` overwrote the queue's priorities each time and could not be previewed.
    func testSuggestDryRunStoresNothingAndKeepsEarlierPrioritiesBehindNewPicks() throws {
        let p = try TempProject(modalities: "text")
        try """
            version: 1
            labels:
              - name: billing
                definition: about money
              - name: other
                definition: anything else
            """.write(toFile: p.root + "/rulebook.yaml", atomically: true, encoding: .utf8)
        p.write("in/rows.jsonl", (0..<10).map { #"{"id": "r\#($0)", "text": "message number \#($0) about something"}"# }.joined(separator: "\n") + "\n")
        let ws = try p.open()
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/in"], source: "s", records: RecordOptions(idField: "id")))
        // r0 is the most uncertain, then r1, r2, ...
        let preds = p.write("preds.jsonl", (0..<10).map { i in
            let b = 0.5 + 0.04 * Double(i)
            return #"{"id": "r\#(i)", "probs": {"billing": \#(b), "other": \#(1 - b)}}"#
        }.joined(separator: "\n") + "\n")
        _ = try ws.importPredictions(file: preds, model: "m")
        func ranked() throws -> [String] {
            let external = Dictionary(uniqueKeysWithValues: try ws.catalog.sampleKeys().map { ($0.id, $0.externalId ?? "") })
            return try ws.catalog.labelPriority().map { external[$0.sampleId] ?? "?" }
        }
        let first = try ws.suggest(budget: 3, strategy: .margin, diversity: .none, model: nil)
        XCTAssertEqual(try ranked(), ["r0", "r1", "r2"])
        XCTAssertEqual(first.keptEarlier, 0)
        let preview = try ws.suggest(budget: 5, strategy: .margin, diversity: .none, model: nil, dryRun: true)
        XCTAssertTrue(preview.dryRun)
        XCTAssertEqual(preview.picks.count, 5)
        XCTAssertEqual(try ranked(), ["r0", "r1", "r2"], "a dry run stores nothing")
        // Label r0, then ask for 1 more: the new pick first, the earlier unlabeled ones behind it, r0 dropped.
        _ = try ws.appendLabels([LabelSubmission(sample: try ws.catalog.labelPriority()[0].sampleId, value: "billing", annotator: "ann")])
        let second = try ws.suggest(budget: 1, strategy: .margin, diversity: .none, model: nil)
        XCTAssertEqual(try ranked(), ["r1", "r2"])
        XCTAssertEqual([second.keptEarlier, second.droppedEarlier], [1, 1])
        let third = try ws.suggest(budget: 1, strategy: .entropy, diversity: .none, model: nil, replace: true)
        XCTAssertEqual(try ranked(), ["r1"])
        XCTAssertEqual([third.keptEarlier, third.droppedEarlier], [0, 1])
    }
}
