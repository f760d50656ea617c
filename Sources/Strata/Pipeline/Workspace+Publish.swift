import Foundation
import StrataCatalog
import StrataCore
import StrataEngine
import StrataStore
#if canImport(Glibc)
import Glibc
#endif

/// The last step of a run: the surviving samples become `data/cleaned/` and the catalog's cleaned set.
extension Workspace {
    /// Writes the surviving samples to `data/cleaned/<source>/` (files as files; text records as one JSONL per source)
    /// and replaces the catalog's cleaned set. Files of earlier runs that are no longer in the set are removed:
    /// `data/cleaned` is derived data, rebuilt from raw data by `strata run`.
    /// `alongside` gets the rows on another thread while they are written to the catalog (it is finished when this returns).
    func publishCleanedSet(_ items: [WorkItem], runId: String,
                           alongside: (@Sendable ([CleanedSampleRow]) -> Void)? = nil) throws -> [CleanedSampleRow] {
        let objectsStore = objects
        let objectsDir = OpenDirectory(objectsStore.root)
        var rows: [CleanedSampleRow] = []
        var keepPaths = Set<String>()
        var records: [String: [WorkItem]] = [:]
        let date = Workspace.today()
        let pattern = project.naming.pattern
        for item in items {
            if item.content.isObject && item.line != nil {
                records[item.source, default: []].append(item)
                continue
            }
            let format = FileFormat(name: item.format) ?? .txt
            let ext = item.content.isObject && item.modality == Modality.text.rawValue ? "txt" : format.fileExtension
            let shortId = String(item.id.prefix(max(project.naming.idLength, 10)))
            let compact = FileNaming.compactDate(item.collected) ?? date
            let rel = "data/cleaned/\(item.source)/" + FileNaming.fileName(source: item.source, compactDate: compact, id: shortId, ext: ext, pattern: pattern)
            let abs = root + "/" + rel
            if FileIO.status(abs) == nil {
                try FileIO.makeDirectories((abs as NSString).deletingLastPathComponent)
                let src: String
                switch item.content {
                case .raw(let path): src = root + "/" + path
                case .object(let sha): src = objectsStore.path(for: sha)
                }
                if link(src, abs) != 0 { try FileIO.copyAtomically(from: src, to: abs, mode: 0o444) }
            }
            keepPaths.insert(rel)
            rows.append(CleanedSampleRow(sampleId: item.sample, contentSha: item.id, path: rel, line: nil, transforms: Workspace.transformsJSON(item.transforms),
                                         score: item.score, runId: runId))
        }
        for (source, list) in records.sorted(by: { $0.key < $1.key }) {
            let (rel, recordRows) = try writeRecordFile(source: source, list: list, date: date, runId: runId,
                                                        objects: objectsStore, objectsDir: objectsDir)
            keepPaths.insert(rel)
            rows += recordRows
        }
        rows.sort(by: Workspace.cleanedRowOrder)
        let side = DispatchGroup()
        defer { side.wait() }
        if let alongside {
            let finished = rows
            DispatchQueue.global().async(group: side) { alongside(finished) }
        }
        var t0 = Date()
        FileIO.syncFileSystem(cleanedDir)
        Profile.shared.add("publish: syncfs", Date().timeIntervalSince(t0))
        t0 = Date()
        try catalog.replaceCleanedSet(rows)
        catalog.releaseMemory()
        Profile.shared.add("publish: replace cleaned rows", Date().timeIntervalSince(t0))
        // Remove derived files no longer in the cleaned set.
        let fm = FileManager.default
        for source in (try? fm.contentsOfDirectory(atPath: cleanedDir)) ?? [] where !source.hasPrefix(".") {
            for name in (try? fm.contentsOfDirectory(atPath: cleanedDir + "/" + source)) ?? [] {
                let rel = "data/cleaned/\(source)/\(name)"
                if !keepPaths.contains(rel) { unlink(root + "/" + rel) }
            }
        }
        return rows
    }

    /// Writes one source's cleaned records as one JSONL file named by its content hash; its project-relative path
    /// and the records' catalog rows (line numbers from 1).
    func writeRecordFile(source: String, list: [WorkItem], date: String, runId: String, objects objectsStore: ObjectStore,
                         objectsDir: OpenDirectory) throws -> (path: String, rows: [CleanedSampleRow]) {
        let pattern = project.naming.pattern
        // Streamed to a temp file in 1 MiB pieces (bounded memory), hashed on the way; renamed to its
        // content-derived name at the end.
        let dir = root + "/data/cleaned/" + source
        try FileIO.makeDirectories(dir)
        let tmp = FileIO.tempName(in: dir)
        let fd = Glibc.open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444)
        guard fd >= 0 else { throw StrataError(.failure, "\(FileError("create", tmp))") }
        var hasher = StreamingSHA256()
        var lineRows: [(WorkItem, Int)] = []
        lineRows.reserveCapacity(list.count)
        do {
            defer { close(fd) }
            // Records are read and encoded in parallel, a window at a time (bounded memory), then hashed and
            // written in order: the file's bytes are the same as a one-by-one loop would write.
            let piece = 256
            let window = piece * max(2, ProcessInfo.processInfo.activeProcessorCount * 4)
            var start = 0
            while start < list.count {
                let first = start, end = min(start + window, list.count)
                let pieces = (end - first + piece - 1) / piece
                let buffers = Slots<[UInt8]>(count: pieces)
                let failure = FirstError()
                DispatchQueue.concurrentPerform(iterations: pieces) { p in
                    let lo = first + p * piece, hi = min(lo + piece, end)
                    var bytes = [UInt8]()
                    bytes.reserveCapacity((hi - lo) * 1400)
                    do {
                        for item in list[lo..<hi] {
                            guard case .object(let digest) = item.content else {
                                throw StrataError(.failure, "cleaned record \(item.place) is not in the object store (\(item.content))")
                            }
                            let text = try objectsStore.read(digest, size: item.size, in: objectsDir)
                            Workspace.writeCleanedRecord(item, source: source, text: text, to: &bytes)
                        }
                    } catch {
                        failure.set(error)
                    }
                    buffers.set(p, bytes)
                }
                if let e = failure.take() { throw e }
                for p in 0..<pieces {
                    let bytes = buffers.take(p)
                    hasher.update(bytes)
                    try FileIO.writeAll(fd, bytes, path: tmp)
                }
                for n in start..<end { lineRows.append((list[n], n + 1)) }
                start = end
            }
        } catch {
            unlink(tmp)
            throw error
        }
        let sha = hasher.finalize()
        let rel = "data/cleaned/\(source)/" + FileNaming.fileName(source: source, compactDate: date, id: String(sha.prefix(max(project.naming.idLength, 10))), ext: "jsonl", pattern: pattern)
        if FileIO.status(root + "/" + rel) == nil {
            guard rename(tmp, root + "/" + rel) == 0 else { unlink(tmp); throw StrataError(.failure, "\(FileError("rename into place", rel))") }
        } else {
            unlink(tmp)
        }
        let rows = lineRows.map { item, line in
            CleanedSampleRow(sampleId: item.sample, contentSha: item.id, path: rel, line: line,
                             transforms: Workspace.transformsJSON(item.transforms), score: item.score, runId: runId)
        }
        return (rel, rows)
    }

    /// One line of a cleaned JSONL file: {"id", "line", "origin", "sample", "source", "text", "transforms"}, keys in
    /// sorted order, as `JSONValue.object` would write them. `text` is the record's UTF-8 bytes (invalid sequences are
    /// replaced, as `String(decoding:as:)` does).
    static func writeCleanedRecord(_ item: WorkItem, source: String, text: [UInt8], to bytes: inout [UInt8]) {
        bytes.append(contentsOf: #"{"id":"#.utf8); JSONValue.writeString(item.id, to: &bytes)
        if let l = item.line { bytes.append(contentsOf: #","line":"#.utf8); bytes.append(contentsOf: String(l).utf8) }
        bytes.append(contentsOf: #","origin":"#.utf8); JSONValue.writeString(item.origin, to: &bytes)
        bytes.append(contentsOf: #","sample":"#.utf8); JSONValue.writeString(item.sample, to: &bytes)
        bytes.append(contentsOf: #","source":"#.utf8); JSONValue.writeString(source, to: &bytes)
        bytes.append(contentsOf: #","text":"#.utf8); JSONValue.writeString(String(decoding: text, as: UTF8.self), to: &bytes)
        if !item.transforms.isEmpty {
            bytes.append(contentsOf: #","transforms":"#.utf8)
            JSONValue.array(item.transforms.map { .string($0.stage + ":" + $0.changes.joined(separator: ",")) }).write(to: &bytes)
        }
        bytes.append(contentsOf: "}\n".utf8)
    }
}
