import Foundation
import StrataCatalog
import StrataCore
import StrataStore

/// One entry of the findings ledger as users and scripts see it.
public struct FindingView: Codable, Sendable, Equatable {
    public var kind: String
    public var stage: String
    public var sample: String?
    public var origin: String?
    public var line: Int?
    public var relatedSample: String?
    public var relatedOrigin: String?
    public var relatedLine: Int?
    public var reason: String
    /// Set when the finding is a quarantined file or row.
    public var quarantineId: String?
}

/// A quarantined file or row.
public struct QuarantineView: Codable, Sendable, Equatable {
    public var id: String
    public var kind: String
    public var stage: String
    public var origin: String
    public var line: Int?
    public var reason: String
    public var stored: String?
    public var source: String?
    public var createdAt: String
    public var releasedAt: String?
}

extension Workspace {
    /// The ledger: findings recorded by every stage plus every quarantined (not released) file or row.
    public func findings(kind: String? = nil, stage: String? = nil) throws -> [FindingView] {
        var out = try catalog.findings(kind: kind, stage: stage).map { r, sample, related in
            FindingView(kind: r.kind, stage: r.stage, sample: sample, origin: r.origin, line: r.line, relatedSample: related,
                        relatedOrigin: r.relatedOrigin, relatedLine: r.relatedLine, reason: r.reason, quarantineId: nil)
        }
        for r in try catalog.quarantine(kind: kind, stage: stage) {
            out.append(FindingView(kind: r.kind, stage: r.stage, sample: nil, origin: r.origin, line: r.line, relatedSample: nil,
                                   relatedOrigin: nil, relatedLine: nil, reason: r.reason, quarantineId: r.id))
        }
        return out
    }

    public func quarantineList(includeReleased: Bool = false) throws -> [QuarantineView] {
        try catalog.quarantine(includeReleased: includeReleased).map(Workspace.view)
    }

    static func view(_ r: QuarantineRow) -> QuarantineView {
        QuarantineView(id: r.id, kind: r.kind, stage: r.stage, origin: r.origin, line: r.line, reason: r.reason,
                       stored: r.storedPath, source: r.source, createdAt: r.createdAt, releasedAt: r.releasedAt)
    }

    public func quarantineEntry(_ id: String) throws -> QuarantineView {
        let matches = try catalog.quarantineMatching(id)
        guard matches.count == 1 else {
            throw StrataError.usage(matches.isEmpty ? "no quarantine entry `\(id)`" : "`\(id)` matches several quarantine entries",
                                    fix: "see the ids with `strata quarantine list`")
        }
        return Workspace.view(matches[0])
    }

    public struct ReleaseResult: Codable, Sendable {
        public var id: String
        public var released: Bool
        public var reason: String?
        public var ingest: IngestSummary?
    }

    /// Re-admits a quarantined file or row after the user fixed its cause: re-runs the ingest that rejected it
    /// (same source, date, tags and manifest) and marks the entry released if the file or row now passes.
    public func releaseQuarantine(_ ref: String) throws -> ReleaseResult {
        let entry = try quarantineEntry(ref)
        if entry.releasedAt != nil { return ReleaseResult(id: entry.id, released: true, reason: "already released") }
        guard let ingestId = try catalog.quarantineMatching(entry.id).first?.runId, let row = try catalog.ingest(id: ingestId) else {
            throw StrataError.project("the ingest that quarantined \(entry.id) is not recorded", fix: "ingest the fixed file again with `strata ingest`")
        }
        let source = row.source
        let rootsJSON = row.roots
        let optionsJSON = row.options
        guard case .array(let rootValues)? = JSONRecord.parse(Array(rootsJSON.utf8)),
              case .object(let opts)? = JSONRecord.parse(Array(optionsJSON.utf8)) else {
            throw StrataError.project("cannot read the options of ingest \(ingestId)")
        }
        let roots = rootValues.compactMap { if case .string(let s) = $0 { s } else { nil } }
        var tags: [String: String] = [:]
        if case .object(let t)? = opts["tags"] { for (k, v) in t { if case .string(let s) = v { tags[k] = s } } }
        var records: RecordOptions?
        if case .object(let r)? = opts["records"] {
            records = RecordOptions(textField: r["text_field"]?.stringValue ?? "text", labelField: r["label_field"]?.stringValue,
                                    idField: r["id_field"]?.stringValue)
        }
        var options = IngestOptions(paths: roots, source: source, date: opts["date"]?.stringValue, tags: tags,
                                    metaFile: opts["meta"]?.stringValue, metaFileColumn: opts["meta_file_column"]?.stringValue,
                                    metaLabelColumn: opts["meta_label_column"]?.stringValue ?? "label", records: records)
        options.recheck = [entry.origin]
        let summary = try ingest(options)
        let key = IngestContext.quarantineKey(origin: entry.origin, line: entry.line)
        if summary.quarantinedKeys.contains(key) {
            let again = try catalog.latestQuarantineReason(origin: entry.origin, line: entry.line)
            return ReleaseResult(id: entry.id, released: false, reason: again ?? entry.reason, ingest: summary)
        }
        let now = Workspace.now()
        try catalog.markReleased(quarantineId: entry.id, at: now)
        return ReleaseResult(id: entry.id, released: true, reason: nil, ingest: summary)
    }
}
