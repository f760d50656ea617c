import ArgumentParser
import Foundation
import Strata
import StrataParquet

extension ExportFormat: ExpressibleByArgument {}

extension StrataCommand {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export a version as training-ready shards with manifest.json, a dataset card and croissant.json.",
            discussion: """
                Writes data/ready/<version>/<format>/ (or --out DIR): data/<split>-NNNNN-of-NNNNN.<ext> shards
                (WebDataset: <split>-NNNNNN.tar), manifest.json (version id, counts, each shard's SHA-256), README.md
                (a Hugging Face dataset card) and croissant.json. Columns: id, content, label, split, origin, metadata.
                One folder per format, so exports of several formats live side by side; exporting the same format
                again replaces its folder whole.
                Examples:
                  strata export v3 --format parquet
                  strata export v3 --format webdataset --shard-size 5000
                  strata export v3 --format jsonl --out /data/exports/v3-jsonl
                """)

        @OptionGroup var options: ProjectOptions
        @Argument(help: "A version name or id prefix.") var version: String
        @Option(help: "jsonl, csv, parquet or webdataset.") var format: ExportFormat = .parquet
        @Option(help: "Samples per shard (default 100000; WebDataset 10000).") var shardSize: Int?
        @Option(help: "Parquet compression: zstd, zstd:LEVEL, snappy or none.") var compression: String = "zstd"
        @Option(help: "Export only this modality (text, image or audio) into data/ready/<version>-<modality>/<format>/; a version that mixes modalities needs it.") var modality: String?
        @Option(help: "Write the export into this folder (new, empty, or an earlier export, which is replaced) instead of data/ready/<version>/<format>/.") var out: String?
        @Option(help: ArgumentHelp("Parquet rows per row group.", visibility: .hidden)) var rowGroupRows: Int = 1 << 20
        @Option(help: ArgumentHelp("Parquet data page size in bytes.", visibility: .hidden)) var pageBytes: Int = 1 << 20

        func validate() throws {
            if let s = shardSize, s < 1 { throw ValidationError("--shard-size must be at least 1") }
            if ParquetCompression(name: compression) == nil { throw ValidationError("unknown compression `\(compression)`: use zstd, zstd:LEVEL (1-22), snappy or none") }
            if let m = modality, !["text", "image", "audio"].contains(m) { throw ValidationError("--modality takes text, image or audio, not `\(m)`") }
            if rowGroupRows < 1 || pageBytes < 1 { throw ValidationError("row groups and pages need a positive size") }
        }

        func run() throws {
            let ws = try options.open()
            let r = try ws.export(version, options: ExportOptions(format: format, shardSize: shardSize,
                                                                 compression: ParquetCompression(name: compression)!,
                                                                 rowGroupRows: rowGroupRows, pageBytes: pageBytes, modality: modality, out: out))
            if options.json { return try Terminal.printJSON(r) }
            if r.state == .draft { Terminal.note("note: \(r.version) is a draft; promote it before training so it can never change") }
            print("exported \(r.version) (\(r.versionId.prefix(12))) as \(r.format)\(r.compression.map { "/\($0)" } ?? "") to \(r.directory)")
            print("samples: \(r.samples) in \(r.shards.count) shard(s): " + r.splits.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            if r.mediaFiles > 0 { print("media files: \(r.mediaFiles) under files/") }
            print("wrote manifest.json, README.md (dataset card), croissant.json")
        }
    }
}
