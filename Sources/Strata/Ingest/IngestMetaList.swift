import Foundation
import StrataCatalog
import StrataCore
import StrataStore

/// The `--meta` list of a file ingest (not a version manifest): one row per file, naming it in a column, with a label column and metadata columns.
final class IngestMetaList {
    struct Row {
        var line: Int
        var path: String
        var label: String?
        var fields: [String: JSONValue]
    }

    struct Problem {
        var line: Int
        var kind: FindingKind
        var reason: String
        var bytes: [UInt8]
    }

    let path: String
    let fileColumn: String
    private(set) var byPath: [String: [Row]] = [:]
    private(set) var problems: [Problem] = []
    private(set) var rowCount = 0

    init(path: String, fileColumn: String) {
        self.path = path
        self.fileColumn = fileColumn
    }

    func rows(for file: String) -> [Row]? { byPath[file] }

    static let fileColumns = ["file", "path", "filename", "file_name", "name"]

    static func load(path: String, fileColumn: String?, labelColumn: String, maxRowBytes: Int) throws -> IngestMetaList {
        guard let st = FileIO.status(path), st.isRegular else {
            throw StrataError.usage("cannot read the --meta file \(path): no such file", fix: "give the path of a CSV or JSONL manifest")
        }
        var rows: [(line: Int, fields: [String: JSONValue])] = []
        var problems: [Problem] = []
        let isCSV = path.lowercased().hasSuffix(".csv") || path.lowercased().hasSuffix(".tsv")
        if isCSV {
            let table = try RecordReader.readCSV(path: path, delimiter: path.lowercased().hasSuffix(".tsv") ? UInt8(ascii: "\t") : UInt8(ascii: ","),
                                                 maxRecordBytes: maxRowBytes)
            for p in table.problems { problems.append(Problem(line: p.line, kind: p.kind, reason: p.reason, bytes: p.bytes)) }
            for r in table.rows { rows.append((r.line, r.fields)) }
        } else {
            try RecordReader.readJSONL(path: path, maxRecordBytes: maxRowBytes) { item in
                switch item {
                case .row(let line, let fields, _): rows.append((line, fields))
                case .problem(let p): problems.append(Problem(line: p.line, kind: p.kind, reason: p.reason, bytes: p.bytes))
                case .blank: break
                }
            }
        }
        let allKeys = Set(rows.flatMap { $0.fields.keys })
        let column: String
        if let fileColumn {
            guard allKeys.contains(fileColumn) || rows.isEmpty else {
                throw StrataError.usage("the --meta file \(path) has no column `\(fileColumn)` (columns: \(allKeys.sorted().joined(separator: ", ")))")
            }
            column = fileColumn
        } else if let found = fileColumns.first(where: allKeys.contains) {
            column = found
        } else {
            throw StrataError.usage("the --meta file \(path) has no column naming the files (looked for \(fileColumns.joined(separator: ", ")))",
                                    fix: "name the column with --meta-file-column COLUMN")
        }
        let m = IngestMetaList(path: path, fileColumn: column)
        m.problems = problems
        let base = (path as NSString).deletingLastPathComponent
        for r in rows {
            m.rowCount += 1
            let rowBytes: [UInt8] = r.fields.isEmpty ? [] : Array(JSONValue.object(r.fields).canonicalJSON.utf8)
            guard case .string(let name)? = r.fields[column], !name.trimmingCharacters(in: .whitespaces).isEmpty else {
                m.problems.append(Problem(line: r.line, kind: .missingField, reason: "the row has no file name in column `\(column)`", bytes: rowBytes))
                continue
            }
            if let why = unsafePathReason(name) {
                m.problems.append(Problem(line: r.line, kind: .unsafePath, reason: "the row names `\(name)`: \(why); only paths inside \(base) are read", bytes: rowBytes))
                continue
            }
            let abs = Walker.absolute(base + "/" + name)
            var label: String?
            if let v = r.fields[labelColumn] {
                switch v {
                case .string(let s): label = s
                case .null: label = nil
                default:
                    m.problems.append(Problem(line: r.line, kind: .invalidLabel, reason: "the label in column `\(labelColumn)` is \(v.typeName), expected a string", bytes: rowBytes))
                    label = nil
                }
            }
            var fields = r.fields
            fields[column] = nil
            fields[labelColumn] = nil
            m.byPath[abs, default: []].append(Row(line: r.line, path: abs, label: label, fields: fields))
        }
        return m
    }

    /// Why a path from a meta-list row must not be followed, or nil if it is safe (relative, inside the folder).
    static func unsafePathReason(_ name: String) -> String? {
        if name.contains("\0") { return "it contains a NUL byte" }
        let decoded = name.removingPercentEncoding ?? name
        if name.hasPrefix("/") || decoded.hasPrefix("/") { return "it is an absolute path" }
        if name.hasPrefix("~") { return "it starts with ~" }
        if name.lowercased().contains("%2f") { return "it contains an encoded path separator" }
        // Only `/` separates path components on Linux: `..\x.png` is an ordinary file name, not a way out.
        let segments = decoded.split(separator: "/", omittingEmptySubsequences: true)
        if segments.contains("..") { return "it leaves the manifest's folder with `..`" }
        return nil
    }
}

extension IngestContext {
    /// Label events for a sample from its meta-list rows (source `import`), validated against the rulebook's labels.
    func labelEvents(for sampleId: String, rows: [IngestMetaList.Row]) -> [LabelEventRow] {
        guard let metaList else { return [] }
        var events: [LabelEventRow] = []
        for row in rows {
            guard let raw = row.label else { continue }
            if let event = labelEvent(sampleId: sampleId, value: raw, origin: metaList.path, line: row.line) { events.append(event) }
        }
        return events
    }

    /// One imported label, or nil when the value is empty (a `missing-label` finding) or not a label of the
    /// rulebook (quarantined as `invalid-label` when the ingest finishes). A label that differs from one the
    /// sample already has is kept (labels are events) and reported as `conflicting-label`.
    func labelEvent(sampleId: String, value raw: String, origin: String, line: Int) -> LabelEventRow? {
        let value = raw
        if value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            pendingFindings.append(finding(kind: .missingLabel, sampleId: sampleId, origin: origin, line: line,
                                           reason: "the label is empty; the sample was ingested without a label"))
            return nil
        }
        if !labelNames.isEmpty && !labelNames.contains(value) {
            let hint = labelNames.first { $0.lowercased() == value.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }
            let reason = "`\(value)` is not a label of rulebook.yaml (labels: \(labelNames.joined(separator: ", ")))" + (hint.map { "; did you mean `\($0)`?" } ?? "")
            pendingLabelProblems.append((origin, line, reason, sampleId))
            return nil
        }
        let importKey = IngestContext.labelImportKey(origin: origin, line: line, sampleId: sampleId, value: value)
        // Looked up per batch by `prefetchLabelState`; a label outside a prefetched batch falls back to one lookup.
        if !checkedImportKeys.contains(importKey) { try? prefetchLabelState([(sampleId, importKey)]) }
        if storedImportKeys.contains(importKey) { return nil }  // imported by an earlier run
        if !labelsLoaded.contains(sampleId) { try? prefetchLabelState([(sampleId, importKey)]) }
        var known = labelsBySample[sampleId] ?? []
        if let other = known.first(where: { $0.value != value }) {
            pendingFindings.append(finding(kind: .conflictingLabel, sampleId: sampleId, origin: origin, line: line,
                                           relatedSampleId: sampleId, relatedOrigin: other.origin, relatedLine: other.line,
                                           reason: "labeled `\(value)` here but `\(other.value)` at \(other.origin)\(other.line.map { ":\($0)" } ?? "")"))
        }
        known.append((value, origin, line))
        labelsBySample[sampleId] = known
        return LabelEventRow(sampleId: sampleId, status: "label", value: value, annotator: "import:" + (origin as NSString).lastPathComponent,
                             role: "importer", source: "import", importKey: importKey, createdAt: now)
    }

    /// The key that makes a label import idempotent: the same label from the same place is stored once.
    static func labelImportKey(origin: String, line: Int, sampleId: String, value: String) -> String {
        Workspace.shortHash("label", origin, "\(line)", sampleId, value)
    }

    /// Loads, in one query each for the whole batch, which of these import keys earlier runs stored and the labels
    /// the samples already have in the catalog (for conflicts). Before this, every label of an ingest ran these
    /// lookups one by one, and the one for existing labels scanned the whole label table: quadratic in rows.
    func prefetchLabelState(_ items: [(sampleId: String, importKey: String)]) throws {
        let keys = Array(Set(items.map(\.importKey)).subtracting(checkedImportKeys))
        if !keys.isEmpty {
            storedImportKeys.formUnion(try ws.catalog.existingImportKeys(keys))
            checkedImportKeys.formUnion(keys)
        }
        let ids = Array(Set(items.map(\.sampleId)).subtracting(labelsLoaded))
        if !ids.isEmpty {
            let stored = try ws.catalog.labelValues(sampleIds: ids)
            for id in ids {
                labelsLoaded.insert(id)
                guard let s = stored[id] else { continue }
                labelsBySample[id] = s.values.map { ($0, s.originPath, s.originLine) } + (labelsBySample[id] ?? [])
            }
        }
    }

    /// A label of the wrong JSON type: the sample is kept, the label is quarantined with the reason.
    func rejectLabelType(_ value: JSONValue, field: String, sampleId: String, origin: String, line: Int) {
        pendingLabelProblems.append((origin, line, "the label field `\(field)` is \(value.typeName) (\(value.canonicalJSON)), expected a string; the sample was ingested without this label", sampleId))
    }

    func commitMetaListProblems(_ metaList: IngestMetaList) throws {
        var batch = IngestBatch()
        for p in metaList.problems {
            try quarantine(kind: p.kind.rawValue, reason: p.reason, origin: metaList.path, line: p.line, sha: FileIO.sha256(p.bytes), bytes: p.bytes, into: &batch)
        }
        try flushAndCommit(batch)
    }

    /// Reports rows naming files that were not found, files that no row names, and conflicting labels.
    func finishMetaList(_ metaList: IngestMetaList, ingestedPaths: Set<String>) throws {
        var batch = IngestBatch()
        for (path, rows) in metaList.byPath.sorted(by: { $0.key < $1.key }) {
            if !ingestedPaths.contains(path) {
                for row in rows {
                    let exists = FileIO.status(path) != nil
                    let reason = exists ? "the row names \(path), which is not among the ingested paths" : "the row names \(path), which does not exist"
                    try quarantine(kind: FindingKind.missingFile.rawValue, reason: reason, origin: metaList.path, line: row.line, sha: nil,
                                   bytes: Array(JSONValue.object(row.fields.merging(["file": .string(path)]) { a, _ in a }).canonicalJSON.utf8), into: &batch)
                }
                continue
            }
            if rows.count > 1 {
                let lines = rows.map { String($0.line) }.joined(separator: ", ")
                for row in rows.dropFirst() {
                    batch.findings.append(finding(kind: .duplicateRow, sampleId: nil, origin: metaList.path, line: row.line,
                                                  relatedOrigin: metaList.path, relatedLine: rows[0].line,
                                                  reason: "\(path) is listed more than once (lines \(lines))"))
                }
            }
        }
        for path in ingestedPaths.sorted() where metaList.byPath[path] == nil {
            summary.unlistedFiles.append(path)
            batch.findings.append(finding(kind: .unlistedFile, sampleId: nil, origin: path, line: nil,
                                          reason: "no row of \((metaList.path as NSString).lastPathComponent) names this file; ingested without labels or metadata"))
        }
        try drainLabelProblems(into: &batch)
        try flushAndCommit(batch)
    }

    /// Moves label problems and findings gathered while reading rows into the batch.
    func drainLabelProblems(into batch: inout IngestBatch) throws {
        for (origin, line, reason, sampleId) in pendingLabelProblems {
            try quarantine(kind: FindingKind.invalidLabel.rawValue, reason: reason, origin: origin, line: line, sha: sampleId, into: &batch)
        }
        pendingLabelProblems.removeAll()
        batch.findings += pendingFindings
        pendingFindings.removeAll()
    }
}
