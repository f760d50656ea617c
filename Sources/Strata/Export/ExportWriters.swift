import Foundation
import StrataCore
import StrataParquet
import StrataStore

/// Writes the rows of one export shard in one format. The executor makes one writer per shard, appends the
/// shard's rows in order and finishes it; the sink hashes and syncs the file.
protocol ExportShardWriter {
    mutating func append(_ row: ExportRow) throws
    mutating func finish() throws
    /// Media files written beside the shard (`files/<split>/<name>`, JSONL and CSV only).
    var mediaFiles: Int { get }
}

/// The writers of Strata's export formats.
enum ExportWriters {
    /// A writer for one shard. `folder`: the export folder being built (JSONL and CSV write media files into it);
    /// `labelNames`: the label order WebDataset's `.cls` indexes; `mtime`: the tar entries' time (the version's creation).
    static func make(_ options: ExportOptions, modality: String, sink: HashingFileSink, folder: String,
                     labelNames: [String], mtime: Int) throws -> any ExportShardWriter {
        switch options.format {
        case .jsonl: try JSONLShardWriter(sink: sink, media: MediaFolder(root: folder))
        case .csv: try CSVShardWriter(sink: sink, media: MediaFolder(root: folder))
        case .parquet: try ParquetShardWriter(sink: sink, modality: modality, options: options)
        case .webdataset: WebDatasetShardWriter(sink: sink, labelNames: labelNames, mtime: mtime)
        }
    }

    /// Where JSONL and CSV exports put image and audio bytes: `files/<split>/<name>`, named in the `content` column.
    struct MediaFolder {
        var root: String
        var written = 0

        /// The `content` cell of a row: its text, or the relative path of its media file (written here).
        mutating func content(_ row: ExportRow) throws -> String {
            guard let bytes = row.bytes else { return row.text ?? "" }
            let content = "files/\(row.split)/\(row.fileName)"
            try FileIO.makeDirectories(root + "/files/" + row.split)
            try FileIO.writeAtomically(root + "/" + content, bytes, sync: false)
            written += 1
            return content
        }
    }
}

/// JSON Lines: one object per row with `id`, `content`, `label`, `split`, `origin`, `metadata`.
struct JSONLShardWriter: ExportShardWriter {
    let sink: HashingFileSink
    var media: ExportWriters.MediaFolder
    private var buf: [UInt8] = []
    var mediaFiles: Int { media.written }

    init(sink: HashingFileSink, media: ExportWriters.MediaFolder) throws {
        self.sink = sink; self.media = media
    }

    mutating func append(_ row: ExportRow) throws {
        let content = try media.content(row)
        JSONValue.object([
            "id": .string(row.id), "content": .string(content), "label": row.label.map { .string($0) } ?? .null,
            "split": .string(row.split), "origin": .string(row.origin), "metadata": row.metadata,
        ]).write(to: &buf)
        buf.append(0x0A)
        if buf.count >= 1 << 20 { try sink.write(buf); buf.removeAll(keepingCapacity: true) }
    }

    mutating func finish() throws { try sink.write(buf); buf.removeAll() }
}

/// RFC 4180 CSV with a header row: `id,content,label,split,origin,metadata` (metadata as canonical JSON).
struct CSVShardWriter: ExportShardWriter {
    static let header = "id,content,label,split,origin,metadata\n"
    let sink: HashingFileSink
    var media: ExportWriters.MediaFolder
    private var buf: [UInt8] = []
    var mediaFiles: Int { media.written }

    init(sink: HashingFileSink, media: ExportWriters.MediaFolder) throws {
        self.sink = sink; self.media = media
        try sink.write(Array(Self.header.utf8))
    }

    mutating func append(_ row: ExportRow) throws {
        let content = try media.content(row)
        for (i, f) in [row.id, content, row.label ?? "", row.split, row.origin, row.metadata.canonicalJSON].enumerated() {
            if i > 0 { buf.append(0x2C) }
            CSVField.write(f, to: &buf)
        }
        buf.append(0x0A)
        if buf.count >= 1 << 20 { try sink.write(buf); buf.removeAll(keepingCapacity: true) }
    }

    mutating func finish() throws { try sink.write(buf); buf.removeAll() }
}

/// Parquet with Hugging Face `datasets` features in the footer; images and audio as the `{bytes, path}` struct.
struct ParquetShardWriter: ExportShardWriter {
    let writer: ParquetWriter
    let modality: String
    var mediaFiles: Int { 0 }

    init(sink: HashingFileSink, modality: String, options: ExportOptions) throws {
        self.modality = modality
        writer = try ParquetWriter(
            fields: Self.fields(modality: modality),
            options: .init(compression: options.compression, rowGroupRows: options.rowGroupRows, pageBytes: options.pageBytes),
            sink: { try sink.write($0) })
    }

    mutating func append(_ row: ExportRow) throws {
        let content: ParquetCell = row.text.map { .string($0) } ?? .group([.bytes(row.bytes ?? []), .string(row.fileName)])
        try writer.append([.string(row.id), content, row.label.map { .string($0) } ?? .null, .string(row.split),
                           .string(row.origin), .string(row.metadata.canonicalJSON)])
    }

    mutating func finish() throws {
        try writer.finish(metadata: [("huggingface", Self.huggingFaceFeatures(modality: modality))])
    }

    /// The columns (text content, or Hugging Face's `{bytes, path}` struct for images and audio).
    static func fields(modality: String) -> [ParquetField] {
        let content: ParquetField = modality == Modality.text.rawValue ? .string("content")
            : .group("content", [.binary("bytes"), .string("path")])
        return [.string("id", nullable: false), content, .string("label"), .string("split", nullable: false),
                .string("origin"), .string("metadata")]
    }

    /// The Hugging Face `datasets` feature description stored in the footer.
    static func huggingFaceFeatures(modality: String) -> String {
        let value: JSONValue = .object(["dtype": .string("string"), "_type": .string("Value")])
        let content: JSONValue = switch Modality(rawValue: modality) {
        case .image: .object(["_type": .string("Image")])
        case .audio: .object(["_type": .string("Audio")])
        default: value
        }
        return JSONValue.object(["info": .object(["features": .object([
            "id": value, "content": content, "label": value, "split": value, "origin": value, "metadata": value,
        ])])]).canonicalJSON
    }
}

/// WebDataset: a POSIX tar per shard; per sample `<key>.txt` or `<key>.<ext>`, `<key>.json` and, when labeled,
/// `<key>.cls` (the label's index in `labelNames`).
struct WebDatasetShardWriter: ExportShardWriter {
    let sink: HashingFileSink
    let labelNames: [String]
    let mtime: Int
    var mediaFiles: Int { 0 }

    mutating func append(_ row: ExportRow) throws {
        if let text = row.text {
            try sink.write(Tar.entry(name: row.key + ".txt", data: Array(text.utf8), mtime: mtime))
        } else if let bytes = row.bytes {
            let ext = (row.fileName as NSString).pathExtension.lowercased()
            try sink.write(Tar.entry(name: row.key + "." + (ext.isEmpty ? "bin" : ext), data: bytes, mtime: mtime))
        }
        var meta: [String: JSONValue] = ["id": .string(row.id), "split": .string(row.split), "origin": .string(row.origin),
                                         "metadata": row.metadata, "label": row.label.map { .string($0) } ?? .null]
        let labelIndex = row.label.flatMap { labelNames.firstIndex(of: $0) }
        if let i = labelIndex { meta["label_index"] = .int(Int64(i)) }
        try sink.write(Tar.entry(name: row.key + ".json", data: JSONValue.object(meta).serialize(), mtime: mtime))
        if let i = labelIndex {
            try sink.write(Tar.entry(name: row.key + ".cls", data: Array(String(i).utf8), mtime: mtime))
        }
    }

    mutating func finish() throws { try sink.write(Tar.end) }
}
