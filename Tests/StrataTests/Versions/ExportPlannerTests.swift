import Foundation
import StrataCatalog
import StrataCore
import StrataStore
import XCTest
@testable import Strata

/// The export planner on plain values, and the per-format shard writers on a temporary file.
final class ExportPlannerTests: XCTestCase {
    static func member(_ id: String, _ split: String, label: String? = nil) -> VersionMemberRow {
        VersionMemberRow(versionId: "v", sampleId: id, contentSha: id, label: label, split: split, transforms: "[]")
    }

    func testFoldersAndSplitOrder() {
        XCTAssertEqual(ExportPlanner.folder(version: "v3", modality: nil, format: .parquet), "v3/parquet")
        XCTAssertEqual(ExportPlanner.folder(version: "v3", modality: "image", format: .webdataset), "v3-image/webdataset")
        let spec = SplitSpec(ratios: [("train", 0.8), ("validation", 0.1), ("test", 0.1)])
        XCTAssertEqual(ExportPlanner.splitOrder(spec: spec, versionSplits: ["holdout", "test", "extra"]),
                       ["train": 0, "validation": 1, "test": 2, "extra": 3, "holdout": 4])
    }

    func testModalitySelection() throws {
        let members = [Self.member("a", "train"), Self.member("b", "train"), Self.member("c", "test")]
        let modalityOf = ["a": "text", "b": "image", "c": "text"]
        XCTAssertEqual(try ExportPlanner.select(members, modality: nil, modalityOf: modalityOf, version: "v1"), members)
        XCTAssertEqual(try ExportPlanner.select(members, modality: "text", modalityOf: modalityOf, version: "v1").map(\.sampleId), ["a", "c"])
        XCTAssertThrowsError(try ExportPlanner.select(members, modality: "audio", modalityOf: modalityOf, version: "v1")) {
            XCTAssertEqual("\($0)", "version v1 has no audio samples\n  fix: modalities in it: image, text")
        }
        XCTAssertThrowsError(try ExportPlanner(format: .jsonl).plan(members, modalityOf: modalityOf, splitOrder: [:], version: "v1")) {
            XCTAssertEqual("\($0)", "version v1 mixes modalities (image, text): one export holds one kind of content\n"
                + "  fix: export one modality at a time: add --modality image (each goes to data/ready/v1-<modality>/<format>/)")
        }
    }

    func testMembersAreOrderedBySplitThenIdAndCutIntoShards() throws {
        let members = ["e", "a", "d", "b", "c"].map { Self.member($0, "train") } + [Self.member("z", "test"), Self.member("y", "extra")]
        let modalityOf = Dictionary(uniqueKeysWithValues: members.map { ($0.sampleId, "text") })
        let order = ["train": 0, "test": 1, "extra": 2]
        let plan = try ExportPlanner(format: .jsonl, shardSize: 2).plan(members, modalityOf: modalityOf, splitOrder: order, version: "v1")
        XCTAssertEqual(plan.modality, "text")
        XCTAssertEqual(plan.members.map(\.sampleId), ["a", "b", "c", "d", "e", "z", "y"])
        XCTAssertEqual(plan.splits, ["train": 5, "test": 1, "extra": 1])
        XCTAssertEqual(plan.shards, [
            .init(split: "train", path: "data/train-00000-of-00003.jsonl", members: 0..<2),
            .init(split: "train", path: "data/train-00001-of-00003.jsonl", members: 2..<4),
            .init(split: "train", path: "data/train-00002-of-00003.jsonl", members: 4..<5),
            .init(split: "test", path: "data/test-00000-of-00001.jsonl", members: 5..<6),
            .init(split: "extra", path: "data/extra-00000-of-00001.jsonl", members: 6..<7),
        ])
        let tar = try ExportPlanner(format: .webdataset, shardSize: 3).plan(members, modalityOf: modalityOf, splitOrder: order, version: "v1")
        XCTAssertEqual(tar.shards.map(\.path), ["data/train-000000.tar", "data/train-000001.tar", "data/test-000000.tar", "data/extra-000000.tar"])
        // Defaults: 100,000 samples per shard, 10,000 for WebDataset; a shard size below 1 counts as 1.
        XCTAssertEqual(try ExportPlanner(format: .parquet).plan(members, modalityOf: modalityOf, splitOrder: order, version: "v1").shards.map(\.path),
                       ["data/train-00000-of-00001.parquet", "data/test-00000-of-00001.parquet", "data/extra-00000-of-00001.parquet"])
        XCTAssertEqual(try ExportPlanner(format: .csv, shardSize: 0).plan(members, modalityOf: modalityOf, splitOrder: order, version: "v1").shards.count, 7)
        let empty = try ExportPlanner(format: .csv).plan([], modalityOf: [:], splitOrder: order, version: "v1")
        XCTAssertEqual(empty.modality, "text")
        XCTAssertEqual(empty.shards, [])
    }

    // MARK: Writers

    func write(_ format: ExportFormat, _ rows: [ExportRow], labelNames: [String] = []) throws -> (text: [UInt8], folder: String, media: Int) {
        let folder = NSTemporaryDirectory() + "strata-writer-\(UInt64.random(in: 0...UInt64.max))"
        try FileIO.makeDirectories(folder + "/data")
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        let sink = try HashingFileSink(path: folder + "/data/shard")
        var writer = try ExportWriters.make(ExportOptions(format: format), modality: "text", sink: sink, folder: folder,
                                            labelNames: labelNames, mtime: 0)
        for row in rows { try writer.append(row) }
        try writer.finish()
        let sha = try sink.close()
        let bytes = try FileIO.readAll(folder + "/data/shard")
        XCTAssertEqual(sha, FileIO.sha256(bytes))
        return (bytes, folder, writer.mediaFiles)
    }

    static let rows = [
        ExportRow(id: "id1", key: "id1", text: "hello, \"world\"", bytes: nil, fileName: "id1.txt", label: "yes", split: "train",
                  origin: "in/a.jsonl:1", metadata: .object(["source": .string("chat")])),
        ExportRow(id: "id2", key: "id2", text: nil, bytes: [1, 2, 3], fileName: "id2.png", label: nil, split: "test",
                  origin: "in/b.png", metadata: .object([:])),
    ]

    func testJSONLAndCSVRowsAndMediaFiles() throws {
        let jsonl = try write(.jsonl, Self.rows)
        XCTAssertEqual(String(decoding: jsonl.text, as: UTF8.self),
                       #"{"content":"hello, \"world\"","id":"id1","label":"yes","metadata":{"source":"chat"},"origin":"in/a.jsonl:1","split":"train"}"# + "\n"
                       + #"{"content":"files/test/id2.png","id":"id2","label":null,"metadata":{},"origin":"in/b.png","split":"test"}"# + "\n")
        XCTAssertEqual(jsonl.media, 1)
        XCTAssertEqual(try FileIO.readAll(jsonl.folder + "/files/test/id2.png"), [1, 2, 3])

        let csv = try write(.csv, Self.rows)
        XCTAssertEqual(String(decoding: csv.text, as: UTF8.self),
                       "id,content,label,split,origin,metadata\n"
                       + #"id1,"hello, ""world""",yes,train,in/a.jsonl:1,"{""source"":""chat""}""# + "\n"
                       + "id2,files/test/id2.png,,test,in/b.png,{}\n")
        XCTAssertEqual(csv.media, 1)
    }

    func testWebDatasetEntriesAndLabelIndexes() throws {
        let tar = try write(.webdataset, Self.rows, labelNames: ["no", "yes"])
        // Entry names sit at the start of each 512-byte header.
        var names: [String] = []
        var offset = 0
        while offset + 512 <= tar.text.count, tar.text[offset] != 0 {
            let header = tar.text[offset..<(offset + 512)]
            names.append(String(decoding: header.prefix(100).prefix { $0 != 0 }, as: UTF8.self))
            let size = Int(String(decoding: header.dropFirst(124).prefix(11), as: UTF8.self), radix: 8)!
            if names.last == "id1.cls" { XCTAssertEqual(Array(tar.text[(offset + 512)..<(offset + 512 + size)]), Array("1".utf8)) }
            offset += 512 + (size + 511) / 512 * 512
        }
        XCTAssertEqual(names, ["id1.txt", "id1.json", "id1.cls", "id2.png", "id2.json"])
        XCTAssertEqual(tar.text.count, offset + 1024, "two zero blocks end the archive")
        XCTAssertEqual(tar.media, 0)
    }

    // MARK: Rows

    func testRowMetadataAndReCleanedMediaDescribedFromItsBytes() {
        let text = SampleRow(id: "0123456789abcdef0123", shortId: "0123", kind: "record", modality: "text", format: "jsonl", size: 5,
                             source: "chat", collected: "2026-01-02", rawPath: "data/raw/chat/rows.jsonl", rawLine: 7,
                             originPath: "in/rows.jsonl", originLine: 7, externalId: "t-1", metadata: #"{"fields":{"lang":"en"}}"#,
                             ingestId: "i", createdAt: "c")
        let m = VersionMemberRow(versionId: "v", sampleId: text.id, contentSha: "c1", label: "yes", split: "train", transforms: #"[{"stage":"trim"}]"#)
        let row = ExportRow(member: m, sample: text, bytes: Array("hello".utf8), described: nil)
        XCTAssertEqual(row.key, "0123456789abcdef")
        XCTAssertEqual(row.text, "hello")
        XCTAssertNil(row.bytes)
        XCTAssertEqual(row.fileName, "0123456789abcdef.jsonl")
        XCTAssertEqual(row.origin, "in/rows.jsonl:7")
        XCTAssertEqual(row.metadata.canonicalJSON,
                       #"{"collected":"2026-01-02","external_id":"t-1","fields":{"lang":"en"},"format":"jsonl","raw":"data/raw/chat/rows.jsonl:7","source":"chat","transforms":[{"stage":"trim"}]}"#)

        // Audio a cleaning stage rewrote from MP3 to WAV: named and described as WAV; the raw's format and probe kept.
        let audio = SampleRow(id: "feedfacefeedface99", shortId: "feed", kind: "file", modality: "audio", format: "mp3", size: 9,
                              source: "mic", collected: "2026-01-02", rawPath: "data/raw/mic/a.mp3", rawLine: nil,
                              originPath: "in/a.mp3", originLine: nil, externalId: nil, metadata: #"{"probe":{"codec":"mp3"}}"#,
                              ingestId: "i", createdAt: "c")
        let am = VersionMemberRow(versionId: "v", sampleId: audio.id, contentSha: "c2", label: nil, split: "test", transforms: "[]")
        let wav = ExportRow(member: am, sample: audio, bytes: [1, 2], described: (.wav, .object(["codec": .string("pcm_16")])))
        XCTAssertNil(wav.text)
        XCTAssertEqual(wav.bytes, [1, 2])
        XCTAssertEqual(wav.fileName, "feedfacefeedface.wav")
        XCTAssertEqual(wav.metadata.canonicalJSON,
                       #"{"collected":"2026-01-02","format":"wav","probe":{"codec":"pcm_16"},"raw":"data/raw/mic/a.mp3","raw_format":"mp3","raw_probe":{"codec":"mp3"},"source":"mic"}"#)
        let kept = ExportRow(member: am, sample: audio, bytes: [1, 2], described: nil)
        XCTAssertEqual(kept.fileName, "feedfacefeedface.mp3")
        XCTAssertEqual(kept.metadata.canonicalJSON, #"{"collected":"2026-01-02","format":"mp3","probe":{"codec":"mp3"},"raw":"data/raw/mic/a.mp3","source":"mic"}"#)
    }
}
