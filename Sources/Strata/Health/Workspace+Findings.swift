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
        if entry.stage != QuarantineEntry.ingestStage { throw Workspace.pipelineReleaseError(stage: entry.stage, count: 1) }
        guard let ingestId = try catalog.quarantineMatching(entry.id).first?.runId, let row = try catalog.ingest(id: ingestId) else {
            throw StrataError.project("the ingest that quarantined \(entry.id) is not recorded", fix: "ingest the fixed file again with `strata ingest`")
        }
        var options = try Workspace.ingestOptions(of: row, ingestId: ingestId)
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

    /// What a pipeline stage's quarantine entries cannot be released by, and what to do instead.
    static func pipelineReleaseError(stage: String, count: Int) -> StrataError {
        StrataError.usage("\(count) entr\(count == 1 ? "y was" : "ies were") quarantined by pipeline stage `\(stage)`, not by ingest: release re-admits only ingest entries",
                          fix: "the stage rejects them again on the next `strata run` unless its rule changes: change the stage's parameter in pipeline.yaml, or disable the rule (`disable: [RULE]`), then `strata run` (entries it no longer rejects are released as superseded)")
    }

    public struct BulkReleaseResult: Codable, Sendable {
        /// Unreleased entries that matched the filters (0: nothing to do, and the command exits 1).
        public var matched: Int
        /// Entries that now pass and were released.
        public var released: [String]
        /// Entries the re-run ingest rejected again, with the reason.
        public var stillFailing: [ReleaseResult]
        /// Entries of pipeline stages that matched but cannot be released (see `pipelineReleaseError`), per stage.
        public var skippedPipeline: [String: Int]
        public var ingests: [IngestSummary]
    }

    /// `strata quarantine release --kind K | --source S | --stage S | --all`: every unreleased entry that matches
    /// (all given filters together), re-ingested in one pass per original ingest (same roots and options, the
    /// entries' files rechecked). Pipeline entries are skipped and counted; when only they match, it is an error.
    public func releaseQuarantine(kind: String?, source: String?, stage: String?) throws -> BulkReleaseResult {
        let rows = try catalog.quarantine(kind: kind, stage: stage).filter { source == nil || $0.source == source }
        guard !rows.isEmpty else { return BulkReleaseResult(matched: 0, released: [], stillFailing: [], skippedPipeline: [:], ingests: []) }
        var skipped: [String: Int] = [:]
        for r in rows where r.stage != QuarantineEntry.ingestStage { skipped[r.stage, default: 0] += 1 }
        let ingestRows = rows.filter { $0.stage == QuarantineEntry.ingestStage }
        if ingestRows.isEmpty, skipped.count == 1, let (st, n) = skipped.first { throw Workspace.pipelineReleaseError(stage: st, count: n) }
        if ingestRows.isEmpty {
            throw StrataError.usage("all \(rows.count) matching entries were quarantined by pipeline stages (\(skipped.keys.sorted().joined(separator: ", "))), not by ingest: release re-admits only ingest entries",
                                    fix: "change the stage's parameter in pipeline.yaml, or disable the rule (`disable: [RULE]`), then `strata run`")
        }
        var result = BulkReleaseResult(matched: rows.count, released: [], stillFailing: [], skippedPipeline: skipped, ingests: [])
        var byIngest: [String: [QuarantineRow]] = [:]
        for r in ingestRows {
            guard let id = r.runId else {
                throw StrataError.project("the ingest that quarantined \(r.id) is not recorded", fix: "ingest the fixed file again with `strata ingest`")
            }
            byIngest[id, default: []].append(r)
        }
        for (ingestId, entries) in byIngest.sorted(by: { $0.key < $1.key }) {
            guard let row = try catalog.ingest(id: ingestId) else {
                throw StrataError.project("the ingest that quarantined \(entries[0].id) is not recorded", fix: "ingest the fixed file again with `strata ingest`")
            }
            var options = try Workspace.ingestOptions(of: row, ingestId: ingestId)
            options.recheck = Set(entries.map(\.origin))
            let summary = try ingest(options)
            result.ingests.append(summary)
            let now = Workspace.now()
            for e in entries {
                if summary.quarantinedKeys.contains(IngestContext.quarantineKey(origin: e.origin, line: e.line)) {
                    let again = try catalog.latestQuarantineReason(origin: e.origin, line: e.line)
                    result.stillFailing.append(ReleaseResult(id: e.id, released: false, reason: again ?? e.reason, ingest: nil))
                } else {
                    try catalog.markReleased(quarantineId: e.id, at: now)
                    result.released.append(e.id)
                }
            }
        }
        return result
    }

    /// The options an ingest was run with, to run it again.
    static func ingestOptions(of row: IngestRecord, ingestId: String) throws -> IngestOptions {
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
        return IngestOptions(paths: roots, source: source, date: opts["date"]?.stringValue, tags: tags,
                             metaFile: opts["meta"]?.stringValue, metaFileColumn: opts["meta_file_column"]?.stringValue,
                             metaLabelColumn: opts["meta_label_column"]?.stringValue ?? "label", records: records)
    }
}
