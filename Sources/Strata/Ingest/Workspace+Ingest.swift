import Dispatch
import Foundation
import StrataCatalog
import StrataCore
import StrataMedia
import StrataStore
#if canImport(Glibc)
import Glibc
#endif

/// How rows of record files become samples (`strata ingest --records`).
public struct RecordOptions: Sendable {
    public var textField: String
    public var labelField: String?
    public var idField: String?
    public init(textField: String = "text", labelField: String? = nil, idField: String? = nil) {
        self.textField = textField; self.labelField = labelField; self.idField = idField
    }
}

public struct IngestOptions: Sendable {
    public var paths: [String]
    public var source: String
    /// `YYYY-MM-DD`; today (UTC) when nil.
    public var date: String?
    public var tags: [String: String]
    /// A CSV or JSONL meta list (`--meta`) naming files, with label and metadata columns.
    public var metaFile: String?
    public var metaFileColumn: String?
    public var metaLabelColumn: String
    public var records: RecordOptions?
    public var workers: Int
    /// Paths read again even if the stat cache says they are unchanged (used by `quarantine release`).
    public var recheck: Set<String> = []
    /// Reads every given file again even if the stat cache says it is unchanged (`ingest --reread`): rows and files
    /// already ingested add nothing, labels and ids not seen before are added.
    public var reread = false

    public init(paths: [String], source: String, date: String? = nil, tags: [String: String] = [:], metaFile: String? = nil,
                metaFileColumn: String? = nil, metaLabelColumn: String = "label", records: RecordOptions? = nil,
                workers: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.paths = paths; self.source = source; self.date = date; self.tags = tags; self.metaFile = metaFile
        self.metaFileColumn = metaFileColumn; self.metaLabelColumn = metaLabelColumn; self.records = records
        self.workers = max(1, workers)
    }
}

/// What one ingest did, for the summary line and `--json`.
public struct IngestSummary: Sendable, Codable {
    public var ingestId: String
    public var source: String
    public var filesSeen = 0
    public var rowsSeen = 0
    public var accepted = 0
    public var duplicates = 0
    public var alreadyIngested = 0
    public var quarantined = 0
    public var quarantinedByKind: [String: Int] = [:]
    public var findingsByKind: [String: Int] = [:]
    public var labelsImported = 0
    public var blankLines = 0
    /// Rows with a `label` field that were ingested without it because no `--label-field` was given.
    public var unimportedLabelRows = 0
    public var unlistedFiles: [String] = []
    public var seconds = 0.0
    /// `origin\nline` of every file or row this run rejected (including ones already in quarantine).
    public var quarantinedKeys: Set<String> = []

    /// The input was not empty but nothing of it was accepted (all quarantined): the command must not succeed.
    /// Unchanged files and exact duplicates of samples already in the project count as accepted before.
    public var acceptedNothing: Bool {
        quarantined > 0 && accepted == 0 && duplicates == 0 && alreadyIngested == 0 && labelsImported == 0
    }

    enum CodingKeys: String, CodingKey {
        case ingestId, source, filesSeen, rowsSeen, accepted, duplicates, alreadyIngested, quarantined, quarantinedByKind,
             findingsByKind, labelsImported, blankLines, unimportedLabelRows, unlistedFiles, seconds
    }
}

extension Workspace {
    static let ingestMarker = "ingest.inprogress"

    /// Ingests files and folders: detects format by content, validates, names and stores accepted samples
    /// read-only under `data/raw/<source>/`, records exact duplicates, and quarantines every rejected file or row
    /// with a reason. Idempotent, and safe to re-run after a crash at any point.
    public func ingest(_ options: IngestOptions) throws -> IngestSummary {
        let started = Date()
        if let problem = FileNaming.sourceNameProblem(options.source) {
            throw StrataError.usage("invalid --source `\(options.source)`: \(problem)", fix: "use a name such as `support-tickets` or `camera-2`")
        }
        let compactDate: String
        if let d = options.date {
            guard let c = FileNaming.compactDate(d) else {
                throw StrataError.usage("invalid --date `\(d)`: expected a real calendar date as YYYY-MM-DD", fix: "for example --date 2026-03-14")
            }
            compactDate = c
        } else {
            compactDate = Workspace.today()
        }
        for (k, v) in options.tags {
            if k.isEmpty || k.contains(where: { $0.isWhitespace || $0 == "=" }) {
                throw StrataError.usage("invalid --tag `\(k)=\(v)`: the key must be a non-empty word", fix: "--tag scenario=night")
            }
        }
        if options.paths.isEmpty { throw StrataError.usage("nothing to ingest: give at least one file or folder") }
        let roots = options.paths.map(Walker.absolute)
        for r in roots {
            if FileIO.status(r, followLinks: false) == nil {
                throw StrataError.usage("no such file or folder: \(r)", fix: "check the path; nothing was ingested")
            }
            for inside in ["/data/", "/quarantine/", "/.strata/"] where (r + "/").hasPrefix(root + inside) {
                throw StrataError.usage("\(r) is inside the project's own \(inside.dropFirst().dropLast()) folder",
                                        fix: "ingest data from where it was collected, outside the project's managed folders")
            }
        }

        let lock = try lock("ingest \(options.source)")
        defer { withExtendedLifetime(lock) {} }
        try recoverInterruptedIngest()
        let marker = strataDir + "/" + Workspace.ingestMarker
        try FileIO.writeAtomically(marker, Array(options.source.utf8))
        try catalog.relaxDurabilityForBulkWrites()

        let labelNames = (try? rulebook())?.labels.map(\.name) ?? []
        let context = IngestContext(
            workspace: self, options: options, compactDate: compactDate, labelNames: labelNames,
            ingestId: "ing-" + Workspace.shortHash(options.source, roots.joined(separator: "\n"), compactDate, Workspace.now()))
        do {
            return try ingestBody(options, roots: roots, context: context, marker: marker, started: started)
        } catch {
            // Let in-flight commits land (or fail) first, then remove the raw files this run wrote but never
            // committed, so a failed ingest (a full disk, say) leaves nothing unexplained behind. Re-running the
            // same command ingests them again.
            _ = try? context.waitForCommits()
            try? recoverInterruptedIngest()
            throw error
        }
    }

    private func ingestBody(_ options: IngestOptions, roots: [String], context: IngestContext, marker: String, started: Date) throws -> IngestSummary {
        let metaList: IngestMetaList?
        if let meta = options.metaFile {
            metaList = try IngestMetaList.load(path: Walker.absolute(meta), fileColumn: options.metaFileColumn,
                                         labelColumn: options.metaLabelColumn, maxRowBytes: project.limits.maxRecordBytes)
        } else {
            metaList = nil
        }
        context.metaList = metaList
        let optionsJSON = JSONValue.object([
            "date": .string(FileNaming.isoDate(compact: context.compactDate)),
            "tags": .object(options.tags.mapValues { .string($0) }),
            "meta": options.metaFile.map { .string(Walker.absolute($0)) } ?? .null,
            "meta_file_column": options.metaFileColumn.map { .string($0) } ?? .null,
            "meta_label_column": .string(options.metaLabelColumn),
            "records": options.records.map { r in .object(["text_field": .string(r.textField),
                                                         "label_field": r.labelField.map { .string($0) } ?? .null,
                                                         "id_field": r.idField.map { .string($0) } ?? .null]) } ?? .null,
        ]).canonicalJSON
        try catalog.beginIngest(id: context.ingestId, source: options.source,
                                roots: JSONValue.array(roots.map { .string($0) }).canonicalJSON,
                                options: optionsJSON, now: Workspace.now())
        try FileIO.makeDirectories(rawDir + "/" + options.source)

        // Walk first (cheap: names and stats), then work in batches.
        var entries: [WalkEntry] = []
        let manifestPath = options.metaFile.map(Walker.absolute)
        let walkStart = Date()
        try Walker.walk(roots) { entry in
            if entry.path == manifestPath { return }
            entries.append(entry)
        }
        Profile.shared.add("walk", Date().timeIntervalSince(walkStart))
        context.summary.filesSeen = entries.count
        if options.records == nil { context.seen.reserveCapacity(entries.count) }
        if let metaList {
            try context.commitMetaListProblems(metaList)
        }

        if options.records != nil {
            // Record files: progress by bytes (MiB), so one large file does not sit at 0/1 until it is done.
            let mib = 1 << 20
            let totalBytes = entries.reduce(0) { $0 + ($1.status?.size ?? 0) }
            let totalMiB = max(1, (totalBytes + mib - 1) / mib)
            progress.begin("ingest records (MiB)", total: totalMiB)
            var bytes = 0, reported = 0
            for entry in entries {
                try context.ingestRecordFile(entry) { n in
                    bytes += n
                    if bytes >= mib { progress.advance(by: bytes / mib); reported += bytes / mib; bytes %= mib }
                }
            }
            if reported < totalMiB { progress.advance(by: totalMiB - reported) }  // the last part of a MiB
        } else {
            progress.begin("ingest", total: entries.count)
        }
        let batchSize = 2048
        var start = options.records == nil ? 0 : entries.count
        // Files: batch N+1 is read and hashed in the background while batch N is decided on this thread.
        var previous: (pending: IngestContext.PendingBatch, count: Int)?
        while start < entries.count {
            let batch = Array(entries[start..<min(start + batchSize, entries.count)])
            let pending = try context.startBatch(batch)
            if let (p, n) = previous {
                try context.finishBatch(p)
                progress.advance(by: n)
            }
            previous = (pending, batch.count)
            start += batchSize
        }
        if let (p, n) = previous {
            try context.finishBatch(p)
            progress.advance(by: n)
        }
        progress.end()
        try context.waitForCommits()
        if let metaList {
            try context.finishMetaList(metaList, ingestedPaths: Set(entries.map(\.path)))
        }
        var summary = context.summary
        summary.seconds = Date().timeIntervalSince(started)
        Profile.shared.report()
        let counts = (try? String(decoding: JSONEncoder().encode(summary), as: UTF8.self)) ?? "{}"
        try catalog.finishIngest(id: context.ingestId, counts: counts, now: Workspace.now())
        unlink(marker)
        return summary
    }

    /// After a crash, removes what an unfinished ingest wrote but never committed: temp files, raw files still in
    /// the mode of a file being written (`FileIO.inProgressMode`) that no catalog row references, and raw files whose
    /// name and content prove they are Strata's own output but that no catalog row references. Anything else that
    /// is unknown is left alone for `strata check` to report.
    func recoverInterruptedIngest() throws {
        let marker = strataDir + "/" + Workspace.ingestMarker
        guard FileManager.default.fileExists(atPath: marker) else { return }
        let known = try catalog.rawFilePaths()
        let fm = FileManager.default
        var removed = 0
        for dir in [rawDir, quarantineDir] {
            guard let sources = try? fm.contentsOfDirectory(atPath: dir) else { continue }
            for s in sources {
                let sub = dir + "/" + s
                if s.hasPrefix(".tmp-") { unlink(sub); removed += 1; continue }
                guard dir == rawDir, FileIO.status(sub)?.isDirectory == true else { continue }
                for name in (try? fm.contentsOfDirectory(atPath: sub)) ?? [] {
                    let path = sub + "/" + name
                    if name.hasPrefix(".tmp-") { unlink(path); removed += 1; continue }
                    let rel = relative(path)
                    if !known.contains(rel), let st = FileIO.status(path, followLinks: false), st.isRegular,
                       st.mode & 0o7777 == FileIO.inProgressMode {
                        // Created under its final name and not finished (FileIO.createNew): never committed.
                        unlink(path)
                        removed += 1
                        continue
                    }
                    guard !known.contains(rel), let parsed = FileNaming.parse(name, pattern: project.naming.pattern), parsed.source == s,
                          let (hex, _) = try? FileIO.sha256(path), hex.hasPrefix(parsed.id) else { continue }
                    chmod(path, 0o644)
                    unlink(path)
                    removed += 1
                }
            }
        }
        removed += removeStaleTemporaryFiles(under: [strataDir + "/objects"])
        if removed > 0 { progress.note("recovered from an interrupted ingest: removed \(removed) uncommitted file(s)") }
        unlink(marker)
    }
}

/// State of one ingest run, shared by its batches.
final class IngestContext {
    let ws: Workspace
    let options: IngestOptions
    let compactDate: String
    let ingestId: String
    let labelNames: [String]
    var metaList: IngestMetaList?
    var summary: IngestSummary
    /// Samples created during this ingest, by content id (to catch duplicates inside one run).
    var seen: [String: (origin: String, line: Int?, shortId: String)] = [:]
    var shortIds = Set<String>()
    var takenShortIds = Set<String>()
    /// Writes batches' files and commits their rows on background threads, in order.
    let batchCommitter: IngestBatchCommitter
    /// One slab per batch in flight (three with the writer and committer, one examined, one being read) and a spare.
    let slabs = SlabPool(count: 6)
    var prefetchedShortIds = Set<String>()
    var externalIds: [String: (origin: String, line: Int)] = [:]
    var pendingLabelProblems: [(origin: String, line: Int, reason: String, sampleId: String)] = []
    var pendingFindings: [FindingRow] = []
    /// Labels given to samples during this ingest (and the catalog's, loaded on first use), to report conflicts.
    var labelsBySample: [String: [(value: String, origin: String, line: Int?)]] = [:]
    /// Samples whose labels in the catalog are already in `labelsBySample`.
    var labelsLoaded = Set<String>()
    /// Label import keys looked up in the catalog (`checkedImportKeys`) and those found there (`storedImportKeys`).
    var checkedImportKeys = Set<String>()
    var storedImportKeys = Set<String>()
    let now = Workspace.now()

    init(workspace: Workspace, options: IngestOptions, compactDate: String, labelNames: [String], ingestId: String) {
        self.ws = workspace; self.options = options; self.compactDate = compactDate; self.labelNames = labelNames
        self.ingestId = ingestId
        self.batchCommitter = IngestBatchCommitter(catalog: workspace.catalog, objects: workspace.objects, rawDir: workspace.rawDir, root: workspace.root)
        self.summary = IngestSummary(ingestId: ingestId, source: options.source)
    }

    var source: String { options.source }
    var sourceDir: String { ws.rawDir + "/" + options.source }

    // MARK: files

    /// A batch whose files are being read and hashed in the background while the previous batch is decided.
    final class PendingBatch: @unchecked Sendable {
        var batch: IngestBatch
        let todo: [WalkEntry]
        let slab: ContentSlab
        var examined: [Examined] = []
        let done = DispatchGroup()
        init(batch: IngestBatch, todo: [WalkEntry], slab: ContentSlab) { self.batch = batch; self.todo = todo; self.slab = slab }
    }

    func ingestFiles(_ entries: [WalkEntry]) throws {
        try finishBatch(try startBatch(entries))
    }

    /// Steps 1 and 2 of a batch: the stat-cache skip (on the calling thread), then reading, hashing and validating
    /// its files on the worker threads in the background, so that the caller can decide the previous batch meanwhile.
    func startBatch(_ entries: [WalkEntry]) throws -> PendingBatch {
        var batch = IngestBatch()
        // 1. Files already ingested unchanged (stat cache) are skipped without reading them.
        let cache = try ws.catalog.statCache(paths: entries.map(\.path))
        var todo: [WalkEntry] = []
        for e in entries {
            if !options.reread, !options.recheck.contains(e.path), let st = e.status, let c = cache[e.path], c.size == st.size, c.mtimeNanos == st.mtimeNanos,
               c.inode == Int64(bitPattern: st.inode) {
                summary.alreadyIngested += 1
                if c.outcome != "quarantined", let rows = metaList?.rows(for: e.path) {
                    batch.labels += labelEvents(for: c.sha256, rows: rows)
                }
                continue
            }
            todo.append(e)
        }
        // 2. Read, hash and validate in parallel. Small files are read into the batch's slab, each at its own offset
        // (its stat size + 1, so one `read` also proves the end of the file); the slab goes back to the pool once the
        // writer has written them.
        let limits = ws.project.limits
        let slab = slabs.take()
        var slots = [Range<Int>?](repeating: nil, count: todo.count)
        var slabBytes = 0
        for (i, e) in todo.enumerated() where e.problem == nil {
            guard let size = e.status?.size, size > 0, size <= IngestContext.smallFileBytes else { continue }
            slots[i] = slabBytes..<(slabBytes + size + 1)
            slabBytes += size + 1
        }
        slab.reserve(slabBytes)
        let pending = PendingBatch(batch: batch, todo: todo, slab: slab)
        let slotBox = Unchecked((slots, slab.base))
        let entriesToRead = todo
        let workers = options.workers
        pending.done.enter()
        DispatchQueue.global().async {
            let t0 = Date()
            pending.examined = parallelMap(Array(entriesToRead.indices), workers: workers) { i in
                let e = entriesToRead[i]
                let slot = slotBox.value.0[i].map { UnsafeMutableRawBufferPointer(start: slotBox.value.1 + $0.lowerBound, count: $0.count) }
                var x = IngestContext.examine(e, maxFileBytes: limits.maxFileBytes, maxImagePixels: limits.maxImagePixels, slot: slot)
                if x.reject == nil {
                    // Path work per file happens here, on all cores, rather than in the serial decide step.
                    let name = PathName.last(e.path)
                    x.nameProblem = IngestContext.fileNameProblem(name)
                    x.originalName = name
                    x.pathExtension = PathName.ext(name).lowercased()
                }
                return x
            }
            Profile.shared.add("examine", Date().timeIntervalSince(t0))
            pending.done.leave()
        }
        return pending
    }

    /// Steps 3 and 4 of a batch: decide each file in walk order, then hand the batch to the writer.
    func finishBatch(_ pending: PendingBatch) throws {
        let waitStart = Date()
        pending.done.wait()
        Profile.shared.add("wait-for-examine", Date().timeIntervalSince(waitStart))
        let t0 = Date()
        defer { Profile.shared.add("main-decide", Date().timeIntervalSince(t0)) }
        var batch = pending.batch
        let todo = pending.todo, examined = pending.examined, slab = pending.slab
        let limits = ws.project.limits
        var slabHandedOff = false
        defer { if !slabHandedOff { slabs.give(slab) } }
        // 3. Decide in walk order (deterministic names and duplicate choice).
        let candidates = examined.compactMap { $0.reject == nil ? $0.sha : nil }
        let known = try ws.catalog.samples(ids: candidates)
        try prefetchShortIds(candidates.filter { known[$0] == nil })
        if let metaList {
            // Labels from the metaList: one lookup of earlier imports and existing labels for the batch.
            var keys: [(String, String)] = []
            for (e, x) in zip(todo, examined) where x.reject == nil {
                guard let sha = x.sha else { continue }
                for row in metaList.rows(for: e.path) ?? [] {
                    if let value = row.label { keys.append((sha, IngestContext.labelImportKey(origin: metaList.path, line: row.line, sampleId: sha, value: value))) }
                }
            }
            try prefetchLabelState(keys)
        }
        var copies: [FileCopy] = []
        let collected = FileNaming.isoDate(compact: compactDate)
        let relativeSourceDir = ws.relative(sourceDir)
        let tagsJSON: JSONValue? = options.tags.isEmpty ? nil : .object(options.tags.mapValues { .string($0) })
        for (e, x) in zip(todo, examined) {
            let origin = e.path
            if let (kind, reason) = x.reject {
                try quarantine(kind: kind.rawValue, reason: reason, origin: origin, line: nil, sha: x.sha, copyFrom: x.size <= limits.maxFileBytes ? origin : nil, into: &batch)
                cacheStat(e, sha: x.sha ?? "", outcome: "quarantined", into: &batch)
                continue
            }
            guard let sha = x.sha, let format = x.format else { continue }
            if !ws.project.allows(format) {
                let allowed = ws.project.allowedFormats(for: format.modality).map(\.rawValue)
                let reason = allowed.isEmpty
                    ? "\(format.modality.rawValue) is not a modality of this project (strata.yaml modalities: \(ws.project.modalities.map(\.rawValue).joined(separator: ", ")))"
                    : "\(format.rawValue) is not an allowed \(format.modality.rawValue) format (strata.yaml allows \(allowed.joined(separator: ", "))); convert it, or add the format to strata.yaml (at most two per modality)"
                try quarantine(kind: FindingKind.formatNotAllowed.rawValue, reason: reason, origin: origin, line: nil, sha: sha, copyFrom: origin, into: &batch)
                cacheStat(e, sha: sha, outcome: "quarantined", into: &batch)
                continue
            }
            let ext = x.pathExtension ?? PathName.ext(PathName.last(origin)).lowercased()
            if !ext.isEmpty && !format.knownExtensions.contains(ext) {
                batch.findings.append(finding(kind: .wrongExtension, sampleId: sha, origin: origin, line: nil,
                    reason: "named .\(ext) but the content is \(format.rawValue); stored with .\(format.fileExtension)"))
            }
            if let why = x.nameProblem {
                batch.findings.append(finding(kind: .badFilename, sampleId: sha, origin: origin, line: nil,
                                              reason: "the original name \(why); stored under a conforming name in data/raw"))
            }
            let rows = metaList?.rows(for: origin) ?? []
            if let canonical = known[sha] {
                try recordDuplicate(sha: sha, origin: origin, line: nil, canonicalOrigin: canonical.originPath,
                                    canonicalLine: canonical.originLine, into: &batch)
                batch.labels += labelEvents(for: sha, rows: rows)
                cacheStat(e, sha: sha, outcome: "duplicate", into: &batch)
                continue
            }
            if let first = seen[sha] {
                try recordDuplicate(sha: sha, origin: origin, line: nil, canonicalOrigin: first.origin, canonicalLine: first.line, into: &batch)
                batch.labels += labelEvents(for: sha, rows: rows)
                cacheStat(e, sha: sha, outcome: "duplicate", into: &batch)
                continue
            }
            let shortId = try allocateShortId(sha)
            let name = FileNaming.fileName(source: source, compactDate: compactDate, id: shortId, ext: format.fileExtension, pattern: ws.project.naming.pattern)
            let dest = sourceDir + "/" + name
            copies.append(FileCopy(from: origin, to: dest, sha: sha, content: x.content))
            let originalName = x.originalName ?? PathName.last(origin)
            let metadata: String
            if tagsJSON == nil, x.probe == nil, rows.first?.fields.isEmpty ?? true {
                // The common case, without building and sorting a dictionary: the same text canonicalJSON gives.
                metadata = #"{"original_name":"# + JSONValue.string(originalName).canonicalJSON + "}"
            } else {
                var meta: [String: JSONValue] = ["original_name": .string(originalName)]
                if let tagsJSON { meta["tags"] = tagsJSON }
                if let probe = x.probe { meta["probe"] = probe }
                if let fields = rows.first?.fields, !fields.isEmpty { meta["fields"] = .object(fields) }
                metadata = JSONValue.object(meta).canonicalJSON
            }
            batch.samples.append(SampleRow(
                id: sha, shortId: shortId, kind: "file", modality: format.modality.rawValue, format: format.rawValue,
                size: x.size, source: source, collected: collected, rawPath: relativeSourceDir + "/" + name,
                rawLine: nil, originPath: origin, originLine: nil, externalId: nil,
                metadata: metadata, ingestId: ingestId, createdAt: now))
            batch.labels += labelEvents(for: sha, rows: rows)
            cacheStat(e, sha: sha, outcome: "sample", into: &batch)
            seen[sha] = (origin, nil, shortId)
            summary.accepted += 1
        }
        // 4. Write accepted files into data/raw, flush once and commit the batch: on one background thread, while
        //    the next batch is read and hashed. One writer avoids contention on the folder's lock in the kernel.
        try drainLabelProblems(into: &batch)
        slabHandedOff = try writeInBackground(batch, copies: copies, slab: slab)
    }

    /// Hands a batch of files and rows to the committer (see `IngestBatchCommitter.writeInBackground`).
    func writeInBackground(_ batch: IngestBatch, copies: [FileCopy], slab: ContentSlab) throws -> Bool {
        let tookSlab = try batchCommitter.writeInBackground(batch, copies: copies, slab: slab, slabs: slabs)
        if tookSlab { summary.labelsImported += batch.labels.count }
        return tookSlab
    }

    /// Commits a batch of record rows in the background (see `IngestBatchCommitter.commitInBackground`).
    func commitInBackground(_ batch: IngestBatch, pack: [PackObject] = []) throws {
        if try batchCommitter.commitInBackground(batch, pack: pack) { summary.labelsImported += batch.labels.count }
    }

    /// Flushes the files a batch wrote and commits its rows, after any batch still committing in the background.
    func flushAndCommit(_ batch: IngestBatch) throws {
        if try batchCommitter.flushAndCommit(batch) { summary.labelsImported += batch.labels.count }
    }

    func waitForCommits() throws { try batchCommitter.waitForCommits() }

    func cacheStat(_ e: WalkEntry, sha: String, outcome: String, into batch: inout IngestBatch) {
        guard let st = e.status else { return }
        batch.statCache.append(StatCacheRow(path: e.path, size: st.size, mtimeNanos: st.mtimeNanos,
                                            inode: Int64(bitPattern: st.inode), sha256: sha, outcome: outcome))
    }

    /// Loads which of these samples' default short ids are already taken, in one query, so allocation is in memory.
    func prefetchShortIds(_ shas: [String]) throws {
        let length = ws.project.naming.idLength
        takenShortIds.formUnion(try ws.catalog.takenShortIds(shas.map { String($0.prefix(length)) }))
        prefetchedShortIds.formUnion(shas.map { String($0.prefix(length)) })
    }

    func allocateShortId(_ sha: String) throws -> String {
        var length = ws.project.naming.idLength
        while length < sha.count {
            let candidate = String(sha.prefix(length))
            let taken = prefetchedShortIds.contains(candidate) ? takenShortIds.contains(candidate) : try ws.catalog.isShortIdTaken(candidate)
            if !shortIds.contains(candidate), !taken {
                shortIds.insert(candidate)
                return candidate
            }
            length += 2
        }
        return sha
    }

    /// The ASCII bytes a file name should not contain (shell and URL special characters).
    static let specialNameBytes: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for b in "()[]{}&;$!#'\"`*?<>|\\%".utf8 { table[Int(b)] = true }
        return table
    }()

    // MARK: ledger helpers

    static func quarantineKey(origin: String, line: Int?) -> String { "\(origin)\n\(line ?? 0)" }

    func finding(kind: FindingKind, sampleId: String?, origin: String?, line: Int?, relatedSampleId: String? = nil,
                 relatedOrigin: String? = nil, relatedLine: Int? = nil, reason: String) -> FindingRow {
        summary.findingsByKind[kind.rawValue, default: 0] += 1
        let key = Workspace.shortHash(kind.rawValue, "ingest", origin ?? "", "\(line ?? 0)", sampleId ?? "", relatedOrigin ?? "", "\(relatedLine ?? 0)")
        return FindingRow(key: key, kind: kind.rawValue, stage: "ingest", sampleId: sampleId, origin: origin, line: line,
                          relatedSampleId: relatedSampleId, relatedOrigin: relatedOrigin, relatedLine: relatedLine,
                          reason: reason, runId: ingestId, createdAt: now)
    }

    func recordDuplicate(sha: String, origin: String, line: Int?, canonicalOrigin: String, canonicalLine: Int?,
                         externalId: String? = nil, into batch: inout IngestBatch) throws {
        if try ws.catalog.occurrenceExists(originPath: origin, line: line ?? 0, sampleId: sha) {
            summary.alreadyIngested += 1
            return
        }
        batch.occurrences.append(OccurrenceRow(sampleId: sha, originPath: origin, originLine: line ?? 0, ingestId: ingestId, externalId: externalId))
        let at = canonicalLine.map { "\(canonicalOrigin):\($0)" } ?? canonicalOrigin
        batch.findings.append(finding(kind: .duplicate, sampleId: sha, origin: origin, line: line, relatedSampleId: sha,
                                      relatedOrigin: canonicalOrigin, relatedLine: canonicalLine,
                                      reason: "exact duplicate of \(at); not stored twice"))
        summary.duplicates += 1
    }

    /// Records a rejected file or row: a reason record and a copy of the bytes under `quarantine/`, and a catalog row.
    func quarantine(kind: String, reason: String, origin: String, line: Int?, sha: String?, copyFrom: String? = nil,
                    bytes: [UInt8]? = nil, extra: [String: JSONValue] = [:], into batch: inout IngestBatch) throws {
        // The one quarantine writer (Health/Quarantine.swift): the same id rule, record layout and catalog row as the
        // pipeline's entries.
        var entry = QuarantineEntry(kind: FindingKind(kind), stage: QuarantineEntry.ingestStage, origin: origin, line: line,
                                    reason: reason, source: source, sha256: sha, detail: extra, runId: ingestId, createdAt: now)
        let id = entry.id
        summary.quarantinedKeys.insert(IngestContext.quarantineKey(origin: origin, line: line))
        if batch.quarantine.contains(where: { $0.id == id }) { return }
        if let existing = try ws.catalog.quarantineEntry(id: id), existing.releasedAt == nil {
            summary.alreadyIngested += 1  // rejected before, unchanged: already in quarantine
            return
        }
        summary.quarantined += 1
        summary.quarantinedByKind[kind, default: 0] += 1
        let writer = ws.quarantineWriter
        entry.stored = copyFrom.flatMap { writer.keepCopy(id: id, from: $0) } ?? bytes.flatMap { writer.keepCopy(id: id, bytes: $0) }
        try writer.write(entry, replacing: true)
        batch.quarantine.append(entry.row)
    }
}
