import Foundation
import StrataCatalog
import StrataCore
import StrataStore
#if canImport(Glibc)
import Glibc
#endif

/// A row of a record file before its JSON is parsed (JSONL) or as the CSV reader produced it.
enum RawRecordRow: Sendable {
    case jsonl(line: Int, bytes: [UInt8])
    case item(RecordItem)
}

/// The label cell of a row, as read on a worker thread (the rulebook check and conflicts come later, in order).
enum RecordLabel: Sendable {
    case none
    case value(String)
    case missing(field: String)
    case wrongType(JSONValue, field: String)
}

/// A row of a record file, validated and hashed on a worker thread; decided in file order afterwards.
enum PreparedRecord: Sendable {
    case blank
    case problem(line: Int, kind: FindingKind, reason: String, bytes: [UInt8], sha: String)
    /// `row.shortId` is empty until the row is decided. `hasUnusedLabelField`: no `--label-field` was given but the
    /// row has a `label` field.
    case sample(row: SampleRow, text: [UInt8], label: RecordLabel, hasUnusedLabelField: Bool)
}

/// What every row of one record file shares (built once per file, read by the worker threads).
struct RecordFileFacts: Sendable {
    var origin: String
    var containerRaw: String
    var format: FileFormat
    var textField: String
    var labelField: String?
    var idField: String?
    var source: String
    var collected: String
    var ingestId: String
    var now: String
    var tags: JSONValue?
}

extension IngestContext {
    /// Rows decided per batch: one catalog lookup of each kind and one commit per batch.
    static let recordBatchRows = 4096

    /// Ingests a JSONL or CSV file as one sample per row. The file itself is kept read-only in `data/raw` as
    /// collected; each row's text becomes a sample in the object store with its origin (file and line).
    ///
    /// The file is read in order; rows are gathered in batches of `recordBatchRows`, parsed, validated and hashed
    /// on all workers, then decided in file order (duplicates, short ids, labels) with one lookup per batch.
    func ingestRecordFile(_ e: WalkEntry, progressBytes: (Int) -> Void) throws {
        guard let recordOptions = options.records else { return }
        var batch = IngestBatch()
        // Unchanged since an ingest with the same field options (outcome `records:<fields>`) or quarantined whole:
        // skipped. A file ingested with other fields (now with --label-field, say) is read again.
        if !options.reread, !options.recheck.contains(e.path), let st = e.status,
           let c = try ws.catalog.statCache(paths: [e.path])[e.path], c.size == st.size,
           c.mtimeNanos == st.mtimeNanos, c.inode == Int64(bitPattern: st.inode),
           c.outcome == "quarantined" || c.outcome == IngestContext.recordOutcome(recordOptions) {
            summary.alreadyIngested += 1
            progressBytes(st.size)
            return
        }
        let limits = ws.project.limits
        // Rows are streamed, so the file as a whole has no size limit: each row has (limits.max_record_bytes).
        let x = IngestContext.examineContainer(e)
        if let (kind, reason) = x.reject {
            try quarantine(kind: kind.rawValue, reason: reason, origin: e.path, line: nil, sha: x.sha,
                           copyFrom: x.size <= limits.maxFileBytes ? e.path : nil, into: &batch)
            cacheStat(e, sha: x.sha ?? "", outcome: "quarantined", into: &batch)
            try flushAndCommit(batch)
            progressBytes(x.size)
            return
        }
        guard let sha = x.sha, let format = x.format else { return }
        if !ws.project.allows(format) {
            let allowed = ws.project.allowedFormats(for: .text).map(\.rawValue)
            let reason = "\(format.rawValue) records are not an allowed text format (strata.yaml allows \(allowed.joined(separator: ", "))); "
                + "convert the file (e.g. to JSONL), or add \(format.rawValue) to `formats: text:` in strata.yaml"
            try quarantine(kind: FindingKind.formatNotAllowed.rawValue, reason: reason, origin: e.path, line: nil, sha: sha, copyFrom: e.path, into: &batch)
            cacheStat(e, sha: sha, outcome: "quarantined", into: &batch)
            try flushAndCommit(batch)
            progressBytes(x.size)
            return
        }
        // Keep the container as collected.
        let containerRaw: String
        if let knownContainer = try ws.catalog.recordsContainer(sha256: sha) {
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
        let facts = RecordFileFacts(
            origin: e.path, containerRaw: containerRaw, format: format, textField: recordOptions.textField,
            labelField: recordOptions.labelField, idField: recordOptions.idField, source: source,
            collected: FileNaming.isoDate(compact: compactDate), ingestId: ingestId, now: now,
            tags: options.tags.isEmpty ? nil : .object(options.tags.mapValues { .string($0) }))

        var raw: [RawRecordRow] = []
        raw.reserveCapacity(IngestContext.recordBatchRows)
        func flush() throws {
            if raw.isEmpty { return }
            let t0 = Date()
            let prepared = parallelMap(raw, workers: options.workers) { IngestContext.prepare($0, facts) }
            Profile.shared.add("records-prepare", Date().timeIntervalSince(t0))
            raw.removeAll(keepingCapacity: true)
            try decide(prepared, facts, into: &batch)
        }
        func add(_ row: RawRecordRow) throws {
            raw.append(row)
            if raw.count >= IngestContext.recordBatchRows { try flush() }
        }

        let maxRow = limits.maxRecordBytes
        if format == .csv {
            do {
                try RecordReader.readCSV(path: e.path, delimiter: e.path.lowercased().hasSuffix(".tsv") ? UInt8(ascii: "\t") : UInt8(ascii: ","),
                                         maxRecordBytes: maxRow, requiredColumn: recordOptions.textField, progress: progressBytes) { try add(.item($0)) }
            } catch let error as RecordReader.MissingColumn {
                // The whole file lacks the text column: quarantine it (the container copy in data/raw stays as collected).
                try quarantine(kind: FindingKind.missingField.rawValue, reason: error.description, origin: e.path, line: 1, sha: sha, into: &batch)
            }
        } else {
            var splitter = LineSplitter(maxLineBytes: maxRow)
            func handle(_ line: LineSplitter.Line) throws {
                switch line {
                case .tooLong(let n, _, let length): try add(.item(RecordReader.tooLong(line: n, length: length, maxRecordBytes: maxRow)))
                case .line(let n, let bytes, _): try add(.jsonl(line: n, bytes: bytes))
                }
            }
            try FileIO.readChunks(e.path) { chunk in
                try splitter.feed(chunk, handle)
                progressBytes(chunk.count)
            }
            try splitter.finish(handle)
        }
        try flush()
        try drainLabelProblems(into: &batch)
        cacheStat(e, sha: sha, outcome: IngestContext.recordOutcome(recordOptions), into: &batch)
        try flushAndCommit(batch)
    }

    /// The stat-cache outcome of a record file: which fields it was read with, so reading it with other fields
    /// (a label field added, say) reads it again instead of calling it unchanged.
    static func recordOutcome(_ r: RecordOptions) -> String {
        "records:" + Workspace.shortHash(r.textField, r.labelField ?? "", r.idField ?? "")
    }

    /// Parses (JSONL), validates and hashes one row. Pure: runs on the worker threads.
    static func prepare(_ raw: RawRecordRow, _ f: RecordFileFacts) -> PreparedRecord {
        let item: RecordItem
        switch raw {
        case .jsonl(let n, let bytes): item = RecordReader.jsonlItem(line: n, bytes: bytes)
        case .item(let i): item = i
        }
        switch item {
        case .blank:
            return .blank
        case .problem(let p):
            return .problem(line: p.line, kind: p.kind, reason: p.reason, bytes: p.bytes, sha: FileIO.sha256(p.bytes))
        case .row(let line, let fields, let bytes):
            func reject(_ kind: FindingKind, _ reason: String) -> PreparedRecord {
                .problem(line: line, kind: kind, reason: reason, bytes: bytes, sha: FileIO.sha256(bytes))
            }
            guard let value = fields[f.textField] else {
                let have = fields.keys.sorted().joined(separator: ", ")
                return reject(.missingField, "the row has no field `\(f.textField)` (it has: \(have)); set the text field with --text-field")
            }
            guard case .string(let text) = value else {
                return reject(.malformedRow, "field `\(f.textField)` is \(value.typeName), expected a string")
            }
            if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                return reject(.empty, "field `\(f.textField)` is empty")
            }
            if text.utf8.contains(0) {
                return reject(.invalidText, "field `\(f.textField)` contains a NUL character")
            }
            let content = Array(text.utf8)
            let sha = FileIO.sha256(content)
            var rest = fields
            rest[f.textField] = nil
            var label = RecordLabel.none
            var unusedLabel = false
            if let lf = f.labelField {
                switch rest.removeValue(forKey: lf) {
                case .string(let s)?: label = .value(s)
                case nil, .null?: label = .missing(field: lf)
                case let other?: label = .wrongType(other, field: lf)
                }
            } else if case .string? = rest["label"] {
                unusedLabel = true
            }
            var externalId: String?
            if let idf = f.idField, let iv = rest.removeValue(forKey: idf) {
                switch iv {
                case .string(let s): externalId = s
                case .int(let i): externalId = String(i)
                default: externalId = iv.canonicalJSON
                }
            }
            var meta: [String: JSONValue] = [:]
            if !rest.isEmpty { meta["fields"] = .object(rest) }
            if let tags = f.tags { meta["tags"] = tags }
            let row = SampleRow(
                id: sha, shortId: "", kind: "record", modality: "text", format: f.format.rawValue, size: content.count,
                source: f.source, collected: f.collected, rawPath: f.containerRaw, rawLine: line,
                originPath: f.origin, originLine: line, externalId: externalId, metadata: JSONValue.object(meta).canonicalJSON,
                ingestId: f.ingestId, createdAt: f.now)
            return .sample(row: row, text: content, label: label, hasUnusedLabelField: unusedLabel)
        }
    }

    /// Decides a batch of prepared rows in file order (planned by `RecordBatchPlanner` against the catalog's facts),
    /// then applies the plan: quarantine, duplicates, short ids, labels; writes the new samples' texts to the object
    /// store and commits the batch.
    func decide(_ prepared: [PreparedRecord], _ f: RecordFileFacts, into batch: inout IngestBatch) throws {
        let t0 = Date()
        defer { Profile.shared.add("records-decide", Date().timeIntervalSince(t0)) }
        var ids: [String] = []
        for p in prepared { if case .sample(let row, _, _, _) = p { ids.append(row.id) } }
        let known = try ws.catalog.samples(ids: ids)
        try prefetchShortIds(ids.filter { known[$0] == nil })
        // The facts of this run the batch can meet, copied out for the planner (small dictionaries: capturing the
        // run's own maps would copy them whole on the next write, once per batch).
        var seenFacts: [String: RecordOrigin] = [:]
        var idFacts: [String: RecordOrigin] = [:]
        for p in prepared {
            guard case .sample(let row, _, _, _) = p else { continue }
            if let s = seen[row.id] { seenFacts[row.id] = RecordOrigin(origin: s.origin, line: s.line) }
            if let e = row.externalId, let first = externalIds[e] { idFacts[e] = RecordOrigin(origin: first.origin, line: first.line) }
        }
        let planner = RecordBatchPlanner(
            known: known.mapValues { RecordOrigin(origin: $0.originPath, line: $0.originLine) },
            seenBefore: { seenFacts[$0] }, externalIdBefore: { idFacts[$0] })
        var texts: [[UInt8]] = []
        var labelRows: [(sampleId: String, value: String, line: Int)] = []
        for step in planner.plan(prepared, origin: f.origin) {
            switch step {
            case .blank:
                summary.blankLines += 1
            case .reject(let line, let kind, let reason, let bytes, let sha):
                summary.rowsSeen += 1
                try quarantine(kind: kind.rawValue, reason: reason, origin: f.origin, line: line, sha: sha, bytes: bytes, into: &batch)
            case .unusedLabelField:
                summary.unimportedLabelRows += 1
            case .firstExternalId(let externalId, let line):
                externalIds[externalId] = (f.origin, line)
            case .duplicateId(let sampleId, let line, let externalId, let first):
                batch.findings.append(finding(kind: .duplicateId, sampleId: sampleId, origin: f.origin, line: line,
                                              relatedOrigin: first.origin, relatedLine: first.line,
                                              reason: "id `\(externalId)` was already used at \(first.origin):\(first.line ?? 0)"))
            case .duplicate(let sampleId, let line, let canonical, let externalId):
                summary.rowsSeen += 1
                try recordDuplicate(sha: sampleId, origin: f.origin, line: line, canonicalOrigin: canonical.origin,
                                    canonicalLine: canonical.line, externalId: externalId, into: &batch)
            case .accept(var row, let text):
                summary.rowsSeen += 1
                let line = row.originLine ?? 0
                row.shortId = try allocateShortId(row.id)
                texts.append(text)
                batch.samples.append(row)
                seen[row.id] = (f.origin, line, row.shortId)
                labelsLoaded.insert(row.id)  // new: no labels in the catalog yet
                summary.accepted += 1
            case .label(let sampleId, let value, let line):
                labelRows.append((sampleId, value, line))
            case .missingLabel(let sampleId, let line, let field):
                pendingFindings.append(finding(kind: .missingLabel, sampleId: sampleId, origin: f.origin, line: line,
                                               reason: "the row has no label in field `\(field)`; the sample was ingested without a label"))
            case .wrongLabelType(let sampleId, let line, let value, let field):
                rejectLabelType(value, field: field, sampleId: sampleId, origin: f.origin, line: line)
            }
        }
        // Labels of rows refer to samples that exist (new in this batch, or canonical): one lookup for the batch.
        try prefetchLabelState(labelRows.map { ($0.sampleId, IngestContext.labelImportKey(origin: f.origin, line: $0.line, sampleId: $0.sampleId, value: $0.value)) })
        for l in labelRows {
            if let event = labelEvent(sampleId: l.sampleId, value: l.value, origin: f.origin, line: l.line) { batch.labels.append(event) }
        }
        // Texts are hashed and compressed on all workers; the committer writes them as one pack (sequential writes,
        // one fsync) before it commits the batch's rows.
        Profile.shared.add("records-decide-rows", Date().timeIntervalSince(t0))
        let t1 = Date()
        let pack = PackObject.encode(texts, workers: options.workers)
        Profile.shared.add("records-encode", Date().timeIntervalSince(t1))
        try drainLabelProblems(into: &batch)
        try commitInBackground(batch, pack: pack)
        batch = IngestBatch()
    }

    /// Examines a record file as a container: hashed and sniffed, with no limit on its size (its rows are streamed
    /// and limited one by one by `limits.max_record_bytes`).
    static func examineContainer(_ e: WalkEntry) -> Examined {
        var x = examine(e, maxFileBytes: Int.max, maxImagePixels: 0)
        // Rows are validated one by one, so invalid UTF-8 in one row must not reject the file.
        if let r = x.reject, r.kind == .invalidUTF8, let (hex, size) = try? FileIO.sha256(e.path) {
            var prefix: [UInt8] = []
            try? FileIO.readChunks(e.path, chunkSize: 4096) { chunk in if prefix.isEmpty { prefix = Array(chunk) } }
            x = Examined(sha: hex, size: size, format: Sniffer.textFormat(prefix: prefix, fileExtension: (e.path as NSString).pathExtension.lowercased()))
        }
        if x.reject == nil, let f = x.format, f != .jsonl && f != .csv {
            x.reject = (.notRecords, "--records expects JSONL or CSV, but the content is \(f.modality.rawValue) (\(f.rawValue))")
        }
        return x
    }
}
