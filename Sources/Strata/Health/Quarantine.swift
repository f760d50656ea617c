import Foundation
import StrataCatalog
import StrataCore
import StrataStore

/// One quarantined file, row or sample: the facts of its reason record (`quarantine/<id>.json`) and of its catalog
/// row, built from plain values (no disk). Ingest and pipeline stages both make their entries here, so the record
/// layout and the id rule are spelled once (docs/findings-quarantine.md, "Reason records").
public struct QuarantineEntry: Sendable, Equatable {
    public var id: String
    public var kind: FindingKind
    /// `ingest`, or the name of the pipeline stage that rejected it.
    public var stage: String
    public var origin: String
    public var line: Int?
    public var reason: String
    public var source: String?
    /// The content hash of the rejected bytes (nil when they could not be read).
    public var sha256: String?
    /// The sample a pipeline stage rejected (nil for ingest entries: the input never became a sample).
    public var sample: String?
    /// Project-relative path of the kept copy (ingest) or of the rejected content (a stage's raw file or object).
    public var stored: String?
    /// Extra facts of the rejection (ingest's manifest field, a similar label, ...).
    public var detail: [String: JSONValue]
    /// The run (`run-...`) or ingest (`ingest-...`) that quarantined it.
    public var runId: String
    public var createdAt: String

    /// The stage name of ingest entries.
    public static let ingestStage = "ingest"

    public init(kind: FindingKind, stage: String, origin: String, line: Int?, reason: String, source: String?, sha256: String?,
                sample: String? = nil, stored: String? = nil, detail: [String: JSONValue] = [:], runId: String, createdAt: String) {
        self.id = QuarantineEntry.id(kind: kind, stage: stage, origin: origin, line: line, sample: sample, sha256: sha256)
        self.kind = kind; self.stage = stage; self.origin = origin; self.line = line; self.reason = reason
        self.source = source; self.sha256 = sha256; self.sample = sample; self.stored = stored; self.detail = detail
        self.runId = runId; self.createdAt = createdAt
    }

    /// The entry's id: `q-` and 12 hex digits. An ingest entry is keyed by where the input was (origin, line), its
    /// bytes and kind, since the input never became a sample; a stage entry by stage, sample, content and kind. The
    /// same rejection therefore always gets the same id, and a re-run or re-ingest adds no second entry.
    public static func id(kind: FindingKind, stage: String, origin: String, line: Int?, sample: String?, sha256: String?) -> String {
        let hash: String
        if stage != ingestStage, let sample {
            hash = Workspace.shortHash(stage, sample, sha256 ?? "", kind.rawValue)
        } else {
            hash = Workspace.shortHash(origin, "\(line ?? 0)", sha256 ?? "", kind.rawValue)
        }
        return "q-" + String(hash.prefix(12))
    }

    /// The reason record as written to `quarantine/<id>.json` (keys sorted; absent facts are left out).
    public var record: JSONValue {
        var r: [String: JSONValue] = [
            "id": .string(id), "kind": .string(kind.rawValue), "stage": .string(stage), "origin": .string(origin),
            "reason": .string(reason), "run": .string(runId), "created_at": .string(createdAt),
        ]
        if let line { r["line"] = .int(Int64(line)) }
        if let source { r["source"] = .string(source) }
        if let sha256 { r["sha256"] = .string(sha256) }
        if let sample { r["sample"] = .string(sample) }
        if let stored { r["stored"] = .string(stored) }
        if !detail.isEmpty { r["detail"] = .object(detail) }
        return .object(r)
    }

    /// The catalog row.
    public var row: QuarantineRow {
        QuarantineRow(id: id, kind: kind.rawValue, stage: stage, origin: origin, line: line, reason: reason, storedPath: stored,
                      source: source, contentSha256: sha256, detail: JSONValue.object(detail).canonicalJSON, runId: runId, createdAt: createdAt)
    }

    /// Keys of the record layouts, past and present; any other key of an old ingest record was a detail.
    static let recordKeys: Set<String> = ["id", "kind", "stage", "origin", "line", "reason", "run", "ingest", "created_at", "source",
                                          "sha256", "sample", "stored", "detail"]

    /// Reads a reason record: this layout, and the two written before it (ingest's, with the ingest id under `ingest`
    /// and its details as top-level keys; the run's, with `"line": null`). Nil when the record lacks a required key.
    public init?(record: JSONValue) {
        guard case .object(let r) = record, let id = r["id"]?.asText, let kind = r["kind"]?.asText, let stage = r["stage"]?.asText,
              let origin = r["origin"]?.asText, let reason = r["reason"]?.asText else { return nil }
        self.id = id; self.kind = FindingKind(kind); self.stage = stage; self.origin = origin; self.reason = reason
        line = r["line"]?.asInt.map { Int($0) }
        source = r["source"]?.asText
        sha256 = r["sha256"]?.asText
        sample = r["sample"]?.asText
        stored = r["stored"]?.asText
        runId = r["run"]?.asText ?? r["ingest"]?.asText ?? ""
        createdAt = r["created_at"]?.asText ?? ""
        if case .object(let d)? = r["detail"] {
            detail = d
        } else {
            detail = r.filter { !QuarantineEntry.recordKeys.contains($0.key) }
        }
    }
}

/// Writes quarantine entries: the reason record, and for ingest a read-only copy of the rejected bytes
/// (`quarantine/<id>.data`). Every write is atomic (temporary file, then rename). The catalog rows are written by
/// the caller, in the same transaction as the rest of its batch or stage (`QuarantineEntry.row`).
public struct QuarantineWriter: Sendable {
    /// The project's `quarantine/` folder.
    public let directory: String
    let projectRoot: String

    public init(projectRoot: String) {
        self.projectRoot = projectRoot
        directory = projectRoot + "/quarantine"
    }

    func relative(_ path: String) -> String {
        path.hasPrefix(projectRoot + "/") ? String(path.dropFirst(projectRoot.count + 1)) : path
    }

    /// Keeps a read-only copy of the file at `source` for entry `id`; its project-relative path, or nil when the file
    /// is not a regular file or could not be copied (the reason record is written all the same).
    public func keepCopy(id: String, from source: String) -> String? {
        guard FileIO.status(source)?.isRegular == true else { return nil }
        let dest = "\(directory)/\(id).data"
        return (try? FileIO.copyAtomically(from: source, to: dest, mode: 0o444)) != nil ? relative(dest) : nil
    }

    /// Keeps a read-only copy of `bytes` (a rejected row) for entry `id`; nil when empty or not writable.
    public func keepCopy(id: String, bytes: [UInt8]) -> String? {
        guard !bytes.isEmpty else { return nil }
        let dest = "\(directory)/\(id).data"
        return (try? FileIO.writeAtomically(dest, bytes, mode: 0o444, sync: false)) != nil ? relative(dest) : nil
    }

    /// Writes the entry's reason record. `replacing: false` keeps a record already there (a stage that rejects the
    /// same sample run after run keeps the first record; the catalog row names the latest run); ingest replaces it,
    /// since it only writes entries that are new or were released.
    public func write(_ entry: QuarantineEntry, replacing: Bool) throws {
        let path = "\(directory)/\(entry.id).json"
        if !replacing && FileIO.status(path) != nil { return }
        try FileIO.writeAtomically(path, Array((entry.record.canonicalJSON + "\n").utf8), sync: false)
    }

    /// Writes the reason records of `entries` (keeping existing ones) and flushes the folder to disk once.
    public func write(_ entries: [QuarantineEntry]) throws {
        for e in entries { try write(e, replacing: false) }
        if !entries.isEmpty { FileIO.syncFileSystem(directory) }
    }

    /// Reads the reason record of entry `id` (any layout); nil when there is none or it is not a record.
    public func read(id: String) -> QuarantineEntry? {
        guard let bytes = try? FileIO.readAll("\(directory)/\(id).json"),
              case .success(let value) = JSONRecord.parseValue(String(decoding: bytes, as: UTF8.self)) else { return nil }
        return QuarantineEntry(record: value)
    }
}

extension Workspace {
    /// The project's one quarantine writer.
    var quarantineWriter: QuarantineWriter { QuarantineWriter(projectRoot: root) }
}
