import Foundation
import StrataCatalog
import StrataCore
import StrataStore
#if canImport(Glibc)
import Glibc
#endif

extension IngestContext {
    /// Ingests a JSONL or CSV file as one sample per row. The file itself is kept read-only in `data/raw` as
    /// collected; each row's text becomes a sample in the object store with its origin (file and line).
    func ingestRecordFile(_ e: WalkEntry) throws {
        guard let recordOptions = options.records else { return }
        var batch = IngestBatch()
        if !options.recheck.contains(e.path), let st = e.status, let c = try ws.catalog.statCache(paths: [e.path])[e.path], c.size == st.size,
           c.mtimeNanos == st.mtimeNanos, c.inode == Int64(bitPattern: st.inode) {
            summary.alreadyIngested += 1
            return
        }
        let limits = ws.project.limits
        let x = IngestContext.examineContainer(e, maxFileBytes: limits.maxFileBytes)
        if let (kind, reason) = x.reject {
            try quarantine(kind: kind, reason: reason, origin: e.path, line: nil, sha: x.sha,
                           copyFrom: x.size <= limits.maxFileBytes ? e.path : nil, into: &batch)
            cacheStat(e, sha: x.sha ?? "", outcome: "quarantined", into: &batch)
            try flushAndCommit(batch)
            return
        }
        guard let sha = x.sha, let format = x.format else { return }
        // Keep the container as collected.
        let containerRaw: String
        let knownContainer = try ws.catalog.recordsContainer(sha256: sha)
        if let knownContainer {
            containerRaw = knownContainer
        } else {
            let shortId = try allocateShortId(sha)
            let dest = sourceDir + "/" + FileNaming.fileName(source: source, compactDate: compactDate, id: shortId, ext: format.fileExtension, pattern: ws.project.naming.pattern)
            if FileIO.status(dest) == nil { try FileIO.copyAtomically(from: e.path, to: dest, mode: 0o444) }
            guard let st = FileIO.status(dest) else { throw StrataError(.failure, "cannot stat \(dest) after copying it") }
            containerRaw = ws.relative(dest)
            batch.rawFiles.append(RawFileRow(path: containerRaw, sha256: sha, size: st.size, mtimeNanos: st.mtimeNanos,
                                             inode: Int64(bitPattern: st.inode), kind: "records", source: source))
        }

        var pending: [(row: SampleRow, text: [UInt8])] = []
        func flushRows() throws {
            let known = try ws.catalog.samples(ids: pending.map(\.row.id))
            try prefetchShortIds(pending.map(\.row.id).filter { known[$0] == nil })
            for (row, text) in pending {
                if let canonical = known[row.id] {
                    try recordDuplicate(sha: row.id, origin: row.originPath, line: row.originLine,
                                        canonicalOrigin: canonical.originPath, canonicalLine: canonical.originLine, into: &batch)
                    continue
                }
                if let first = seen[row.id] {
                    try recordDuplicate(sha: row.id, origin: row.originPath, line: row.originLine,
                                        canonicalOrigin: first.origin, canonicalLine: first.line, into: &batch)
                    continue
                }
                var r = row
                r.shortId = try allocateShortId(row.id)
                try ws.objects.put(text, sync: false)
                batch.samples.append(r)
                seen[r.id] = (r.originPath, r.originLine, r.shortId)
                summary.accepted += 1
            }
            pending.removeAll()
            // Labels of rows refer to samples that now exist (new or canonical).
            try flushAndCommit(batch)
            batch = IngestBatch()
        }

        let textField = recordOptions.textField
        var labelEventsForBatch: [LabelEventRow] = []
        func handle(_ item: RecordItem) throws {
            switch item {
            case .blank:
                summary.blankLines += 1
            case .problem(let p):
                summary.rowsSeen += 1
                try quarantine(kind: p.kind, reason: p.reason, origin: e.path, line: p.line, sha: FileIO.sha256(p.bytes), bytes: p.bytes, into: &batch)
            case .row(let line, let fields, let bytes):
                summary.rowsSeen += 1
                guard let value = fields[textField] else {
                    let have = fields.keys.sorted().joined(separator: ", ")
                    try quarantine(kind: "missing-field", reason: "the row has no field `\(textField)` (it has: \(have)); set the text field with --text-field",
                                   origin: e.path, line: line, sha: FileIO.sha256(bytes), bytes: bytes, into: &batch)
                    return
                }
                guard case .string(let text) = value else {
                    try quarantine(kind: "malformed-row", reason: "field `\(textField)` is \(value.typeName), expected a string",
                                   origin: e.path, line: line, sha: FileIO.sha256(bytes), bytes: bytes, into: &batch)
                    return
                }
                if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    try quarantine(kind: "empty", reason: "field `\(textField)` is empty", origin: e.path, line: line,
                                   sha: FileIO.sha256(bytes), bytes: bytes, into: &batch)
                    return
                }
                if text.utf8.contains(0) {
                    try quarantine(kind: "invalid-text", reason: "field `\(textField)` contains a NUL character", origin: e.path, line: line,
                                   sha: FileIO.sha256(bytes), bytes: bytes, into: &batch)
                    return
                }
                let content = Array(text.utf8)
                let sha = FileIO.sha256(content)
                var meta: [String: JSONValue] = [:]
                var rest = fields
                rest[textField] = nil
                var label: String?
                var labelProblem: (() -> Void)?
                if let lf = recordOptions.labelField {
                    switch rest.removeValue(forKey: lf) {
                    case .string(let s)?: label = s
                    case nil, .null?:
                        labelProblem = { [self] in
                            pendingFindings.append(finding(kind: "missing-label", sampleId: sha, origin: e.path, line: line,
                                                           reason: "the row has no label in field `\(lf)`; the sample was ingested without a label"))
                        }
                    case let other?:
                        labelProblem = { [self] in rejectLabelType(other, field: lf, sampleId: sha, origin: e.path, line: line) }
                    }
                }
                var externalId: String?
                if let idf = recordOptions.idField, let iv = rest.removeValue(forKey: idf) {
                    switch iv {
                    case .string(let s): externalId = s
                    case .int(let i): externalId = String(i)
                    default: externalId = iv.canonicalJSON
                    }
                }
                if let externalId {
                    if let first = externalIds[externalId] {
                        batch.findings.append(finding(kind: "duplicate-id", sampleId: sha, origin: e.path, line: line,
                                                      relatedOrigin: first.origin, relatedLine: first.line,
                                                      reason: "id `\(externalId)` was already used at \(first.origin):\(first.line)"))
                    } else {
                        externalIds[externalId] = (e.path, line)
                    }
                }
                if !rest.isEmpty { meta["fields"] = .object(rest) }
                if !options.tags.isEmpty { meta["tags"] = .object(options.tags.mapValues { .string($0) }) }
                pending.append((SampleRow(
                    id: sha, shortId: "", kind: "record", modality: "text", format: format.rawValue, size: content.count,
                    source: source, collected: FileNaming.isoDate(compact: compactDate), rawPath: containerRaw, rawLine: line,
                    originPath: e.path, originLine: line, externalId: externalId, metadata: JSONValue.object(meta).canonicalJSON,
                    ingestId: ingestId, createdAt: now), content))
                labelProblem?()
                if let label, let event = labelEvent(sampleId: sha, value: label, origin: e.path, line: line) {
                    labelEventsForBatch.append(event)
                }
                if pending.count >= 2000 {
                    try flushRows()
                    batch.labels = labelEventsForBatch
                    labelEventsForBatch.removeAll()
                }
            }
        }

        let maxRow = limits.maxRecordBytes
        if format == .csv {
            do {
                try RecordReader.readCSV(path: e.path, delimiter: e.path.lowercased().hasSuffix(".tsv") ? UInt8(ascii: "\t") : UInt8(ascii: ","),
                                         maxRecordBytes: maxRow, requiredColumn: textField, handle)
            } catch let error as RecordReader.MissingColumn {
                // The whole file lacks the text column: quarantine it (the container copy in data/raw stays as collected).
                try quarantine(kind: "missing-field", reason: error.description, origin: e.path, line: 1, sha: sha, into: &batch)
            }
        } else {
            try RecordReader.readJSONL(path: e.path, maxRecordBytes: maxRow, handle)
        }
        try flushRows()
        batch.labels = labelEventsForBatch
        // Label problems of rows are recorded against the row.
        try drainLabelProblems(into: &batch)
        cacheStat(e, sha: sha, outcome: "records", into: &batch)
        try flushAndCommit(batch)
    }

    static func examineContainer(_ e: WalkEntry, maxFileBytes: Int) -> Examined {
        var x = examine(e, maxFileBytes: maxFileBytes, maxImagePixels: 0)
        // Rows are validated one by one, so invalid UTF-8 in one row must not reject the file.
        if let r = x.reject, r.kind == "invalid-utf8", let (hex, size) = try? FileIO.sha256(e.path) {
            var prefix: [UInt8] = []
            try? FileIO.readChunks(e.path, chunkSize: 4096) { chunk in if prefix.isEmpty { prefix = Array(chunk) } }
            x = Examined(sha: hex, size: size, format: Sniffer.textFormat(prefix: prefix, fileExtension: (e.path as NSString).pathExtension.lowercased()))
        }
        if x.reject == nil, let f = x.format, f != .jsonl && f != .csv {
            x.reject = ("not-records", "--records expects JSONL or CSV, but the content is \(f.modality.rawValue) (\(f.rawValue))")
        }
        return x
    }
}
