import Dispatch
import Foundation
import StrataCatalog
import StrataCore
import StrataStore

/// A file of a batch to place in data/raw: copied from `from`, or written from `content` (a small file read once).
struct FileCopy: Sendable {
    var from: String
    var to: String
    var sha: String
    var content: IngestContext.Content?
}

/// The batch committer of an ingest: writes each batch's files into data/raw, flushes the file system and commits
/// the batch's catalog rows on background threads, in order, while the caller reads and decides the next batch.
/// At most three batches are in flight (bounded memory). The first failure is kept and thrown by the next call.
final class IngestBatchCommitter: Sendable {
    private let catalog: Catalog
    private let objects: ObjectStore
    private let rawDir: String
    private let root: String
    /// Writes batches' files (one writer avoids contention on the folder's lock in the kernel).
    private let writer = DispatchQueue(label: "strata.ingest.writer")
    /// Commits batches' rows, so writing the next batch's files overlaps this commit.
    private let rows = DispatchQueue(label: "strata.ingest.commit")
    /// Batches in flight between the main thread, the file writer and the row committer.
    private let slots = DispatchSemaphore(value: 3)
    private let errors = FirstError()
    private static let fix = "batches before this one are committed; fix the cause and run the same command again"

    init(catalog: Catalog, objects: ObjectStore, rawDir: String, root: String) {
        self.catalog = catalog; self.objects = objects; self.rawDir = rawDir; self.root = root
    }

    /// Writes a batch's files to data/raw, flushes the file system and commits the batch's rows, on the writer
    /// queue. Returns whether it took the batch (and `slab`, given back to `slabs` once the files are written).
    func writeInBackground(_ batch: IngestBatch, copies: [FileCopy], slab: ContentSlab, slabs: SlabPool) throws -> Bool {
        if let error = errors.take() { throw error }
        if batch.isEmpty && copies.isEmpty { return false }
        let catalog = self.catalog, rawDir = self.rawDir, root = self.root, errors = self.errors, rows = self.rows
        let box = Unchecked((batch, copies))
        let waitStart = Date()
        slots.wait()
        Profile.shared.add("wait-for-writer", Date().timeIntervalSince(waitStart))
        let slots = self.slots
        // The slot taken here is given back when the batch's commit ends (or when writing its files fails).
        writer.async {
            var (batch, copies) = box.value
            do {
                let t0 = Date()
                var statusByPath: [String: FileIO.Status] = [:]
                for c in copies {
                    // The name comes from the content hash, so replacing a leftover of an interrupted run is harmless.
                    if let content = c.content {
                        let slash = c.to.lastIndex(of: "/")!
                        statusByPath[c.to] = try content.withBytes {
                            try FileIO.createNew(dir: String(c.to[..<slash]), name: String(c.to[c.to.index(after: slash)...]), $0, mode: 0o444)
                        }
                    } else {
                        statusByPath[c.to] = try FileIO.copyAtomically(from: c.from, to: c.to, mode: 0o444)
                    }
                }
                copies = []
                slabs.give(slab)
                for i in batch.samples.indices {
                    guard let st = statusByPath[root + "/" + batch.samples[i].rawPath] else { continue }
                    batch.samples[i].rawMtimeNanos = st.mtimeNanos
                    batch.samples[i].rawInode = Int64(bitPattern: st.inode)
                }
                let t1 = Date()
                FileIO.syncFileSystem(rawDir)
                Profile.shared.add("writer-files", t1.timeIntervalSince(t0))
                Profile.shared.add("writer-syncfs", Date().timeIntervalSince(t1))
                let committed = Unchecked(batch)
                rows.async {
                    defer { slots.signal() }
                    let t2 = Date()
                    do { try catalog.commit(committed.value) } catch {
                        errors.set(StrataError(.failure, "\(error)", fix: IngestBatchCommitter.fix))
                    }
                    Profile.shared.add("writer-commit", Date().timeIntervalSince(t2))
                }
            } catch {
                errors.set(StrataError(.failure, "\(error)", fix: IngestBatchCommitter.fix))
                if !copies.isEmpty { slabs.give(slab) }
                slots.signal()
            }
        }
        return true
    }

    /// Writes a batch's texts as one pack, syncs the file system and commits the batch's rows on the row thread, so
    /// the next batch is read, prepared and decided meanwhile. Decisions never depend on a batch still committing:
    /// samples, short ids and labels of this run are also kept in memory. Returns whether the batch was queued.
    func commitInBackground(_ batch: IngestBatch, pack: [PackObject] = []) throws -> Bool {
        if let error = errors.take() { throw error }
        if batch.isEmpty && pack.isEmpty { return false }
        let waitStart = Date()
        slots.wait()
        Profile.shared.add("wait-for-commit", Date().timeIntervalSince(waitStart))
        let box = Unchecked(batch), catalog = self.catalog, objects = self.objects, rawDir = self.rawDir
        let errors = self.errors, slots = self.slots
        rows.async {
            defer { slots.signal() }
            let t0 = Date()
            do {
                try objects.writePack(pack)
            } catch {
                errors.set(StrataError(.failure, "cannot store the batch's texts in .strata/objects/pack: \(error)", fix: IngestBatchCommitter.fix))
                return
            }
            Profile.shared.add("commit-pack", Date().timeIntervalSince(t0))
            let t1 = Date()
            FileIO.syncFileSystem(rawDir)  // the texts of the batch's rows (and its quarantine records) are on disk before the rows
            do { try catalog.commit(box.value) } catch {
                errors.set(StrataError(.failure, "\(error)", fix: IngestBatchCommitter.fix))
            }
            Profile.shared.add("commit-syncfs-rows", Date().timeIntervalSince(t1))
        }
        return true
    }

    /// Flushes the files a batch wrote and commits its rows on the calling thread, after every batch still in
    /// flight. Returns whether there was anything to commit.
    func flushAndCommit(_ batch: IngestBatch) throws -> Bool {
        try waitForCommits()
        if batch.isEmpty { return false }
        let t0 = Date()
        FileIO.syncFileSystem(rawDir)
        let t1 = Date()
        try catalog.commit(batch)
        Profile.shared.add("flush-syncfs", t1.timeIntervalSince(t0))
        Profile.shared.add("flush-commit", Date().timeIntervalSince(t1))
        return true
    }

    /// Waits for every batch in flight; throws the first failure of one.
    func waitForCommits() throws {
        writer.sync {}
        rows.sync {}
        if let error = errors.take() { throw error }
    }
}
