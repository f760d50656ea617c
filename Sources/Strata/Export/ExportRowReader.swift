import Foundation
import StrataCatalog
import StrataCore
import StrataMedia
import StrataStore

/// Reads one export row: a member's bytes (object store or raw file) and the metadata every format carries.
extension Workspace {
    func exportRow(_ m: VersionMemberRow, sample s: SampleRow) throws -> ExportRow {
        let bytes: [UInt8]
        if objects.contains(m.contentSha) {
            bytes = try objects.get(m.contentSha)
        } else if m.contentSha == s.id && s.kind == "file" {
            bytes = try FileIO.readAll(root + "/" + s.rawPath)
        } else {
            throw StrataError(.failure, "the content of sample \(s.shortId) (\(m.contentSha.prefix(12))) is missing",
                              fix: "run `strata version verify` to list what is missing; restore \(ObjectStore.projectDirectory) from a backup")
        }
        let isText = s.modality == Modality.text.rawValue
        // A cleaning stage may have rewritten media bytes (clean.audio writes WAV or FLAC, clean.image may convert):
        // those are described from the bytes.
        var described: (format: FileFormat, probe: JSONValue?)?
        if !isText && m.contentSha != s.id {
            let path = objects.contains(m.contentSha) ? objects.path(for: m.contentSha) : nil
            described = Workspace.describeMedia(bytes: bytes, path: path, modality: s.modality)
        }
        return ExportRow(member: m, sample: s, bytes: bytes, described: described)
    }

    /// The format (from the bytes, never a name) and the probe (in ingest's shape) of exported media content.
    static func describeMedia(bytes: [UInt8], path: String?, modality: String) -> (format: FileFormat, probe: JSONValue?)? {
        guard case .media(let format) = Sniffer.sniff(prefix: Array(bytes.prefix(Sniffer.prefixLength)), totalSize: bytes.count) else { return nil }
        switch format.modality {
        case .image:
            guard case .success(let p) = Media.validateImage(bytes: bytes, maxPixels: Int.max) else { return (format, nil) }
            return (format, .object(["width": .int(Int64(p.width)), "height": .int(Int64(p.height)), "bands": .int(Int64(p.bands)),
                                     "color_space": .string(p.colorSpace), "orientation": .int(Int64(p.orientation))]))
        case .audio:
            // libsndfile opens files only: the object store's file, or a temporary copy.
            var file = path
            var temporary: String?
            if file == nil {
                let t = NSTemporaryDirectory() + "strata-export-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
                guard (try? FileIO.writeAtomically(t, bytes, sync: false)) != nil else { return (format, nil) }
                file = t; temporary = t
            }
            defer { if let temporary { try? FileManager.default.removeItem(atPath: temporary) } }
            guard let file, case .success(let p) = Media.validateAudio(path: file) else { return (format, nil) }
            return (format, .object(["container": .string(p.container), "codec": .string(p.codec), "sample_rate": .int(Int64(p.sampleRate)),
                                     "channels": .int(Int64(p.channels)), "frames": .int(Int64(p.frames)), "duration": .number(p.duration)]))
        case .text:
            return (format, nil)
        }
    }
}

extension ExportRow {
    /// The row of member `m` of sample `s` whose exported bytes are `bytes`: text or media, the file name, and the
    /// metadata every format carries (the sample's own fields, source, collection date, format, raw path, external
    /// id, transforms). `described`: the format and probe of re-cleaned media, read from its bytes; the export then
    /// names and describes what it holds, and keeps the raw's as `raw_format`/`raw_probe`. Pure.
    init(member m: VersionMemberRow, sample s: SampleRow, bytes: [UInt8], described: (format: FileFormat, probe: JSONValue?)?) {
        var meta: [String: JSONValue] = [:]
        if case .success(let o) = JSONRecord.parseObject(s.metadata) { meta = o }
        meta["source"] = .string(s.source)
        meta["collected"] = .string(s.collected)
        meta["format"] = .string(s.format)
        meta["raw"] = .string(s.rawPath + (s.rawLine.map { ":\($0)" } ?? ""))
        if let e = s.externalId { meta["external_id"] = .string(e) }
        if let t = try? JSONRecord.parseValue(m.transforms).get(), t != .array([]) { meta["transforms"] = t }
        let isText = s.modality == Modality.text.rawValue
        var ext = (s.rawPath as NSString).pathExtension
        if let described {
            if described.format.rawValue != s.format {
                meta["raw_format"] = .string(s.format)
                ext = described.format.fileExtension
            }
            meta["format"] = .string(described.format.rawValue)
            if let probe = described.probe {
                if let old = meta["probe"], old != probe { meta["raw_probe"] = old }
                meta["probe"] = probe
            }
        }
        let key = String(s.id.prefix(16))
        self.init(id: s.id, key: key, text: isText ? String(decoding: bytes, as: UTF8.self) : nil,
                  bytes: isText ? nil : bytes, fileName: key + (ext.isEmpty ? "" : "." + ext),
                  label: m.label, split: m.split, origin: Workspace.origin(s), metadata: .object(meta))
    }
}
