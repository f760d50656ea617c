import Foundation
import StrataCatalog
import StrataCore
import StrataStore

/// `strata status`: what changed at the sources since the last ingest, like `git status`, answered from the stat
/// cache (only files whose size, mtime or inode changed are re-hashed). Raw-file immutability is `strata check`'s job.
public struct StatusReport: Codable, Sendable {
    public struct SourceStatus: Codable, Sendable {
        public var source: String
        public var samples: [String: Int]
        public var newFiles: [String: Int]
        public var modifiedFiles: Int
        public var missingFiles: Int
        public var quarantined: Int
        public var roots: [String]
        public var examples: [String]
    }

    public var sources: [SourceStatus]
    public var samples: Int
    public var occurrences: Int
    public var quarantined: Int
    public var findings: Int
    public var labelEvents: Int
    public var lastIngest: String?
    public var filesChecked: Int
    public var filesHashed: Int

    public var isClean: Bool {
        sources.allSatisfy { $0.newFiles.isEmpty && $0.modifiedFiles == 0 }
    }
}

extension Workspace {
    /// What changed at the sources since they were ingested, and what the catalog holds.
    public func status() throws -> StatusReport { try StatusScanner(ws: self).scan() }
}

/// `strata status`: walks the roots of every ingest and compares them with the stat cache (re-hashing only files
/// whose stat changed), then counts the catalog.
struct StatusScanner {
    let ws: Workspace

    func scan() throws -> StatusReport {
        // Load the stat cache on another thread while the sources are walked.
        let catalog = ws.catalog
        let loaded = Locked<Result<[String: CachedStat], any Error>?>(nil)
        let loading = DispatchGroup()
        loading.enter()
        DispatchQueue.global().async {
            let result = Result<[String: CachedStat], any Error> { try catalog.allCachedStats() }
            loaded.withLock { $0 = result }
            loading.leave()
        }
        struct IngestRow { var source: String; var roots: [String]; var meta: String? }
        let ingests: [IngestRow] = try catalog.ingests().map { row in
            let roots: [String]
            if case .array(let a)? = JSONRecord.parse(Array(row.roots.utf8)) { roots = a.compactMap(\.stringValue) } else { roots = [] }
            var meta: String?
            if case .object(let o)? = JSONRecord.parse(Array(row.options.utf8)) { meta = o["meta"]?.stringValue }
            return IngestRow(source: row.source, roots: roots, meta: meta)
        }
        var rootsBySource: [String: [String]] = [:]
        var manifests = Set<String>()
        for i in ingests {
            for r in i.roots where !(rootsBySource[i.source] ?? []).contains(r) { rootsBySource[i.source, default: []].append(r) }
            if let m = i.meta { manifests.insert(m) }
        }
        let c = try catalog.counts()
        var checked = 0, hashed = 0
        var sources: [StatusReport.SourceStatus] = []
        let allSources = Set(rootsBySource.keys).union(c.samplesBySource.keys).sorted()
        for source in allSources {
            var newFiles: [String: Int] = [:]
            var modified = 0, missing = 0
            var examples: [String] = []
            let roots = rootsBySource[source] ?? []
            for root in roots {
                let entries = try Workspace.walkInParallel(root).filter { !manifests.contains($0.path) }
                loading.wait()
                let cache = try loaded.value!.get()
                var matched = 0
                for entry in entries {
                    checked += 1
                    guard let st = entry.status else { continue }
                    if let c = cache[entry.path] {
                        matched += 1
                        if c.size == st.size && c.mtimeNanos == st.mtimeNanos && c.inode == Int64(bitPattern: st.inode) { continue }
                        hashed += 1
                        let recorded = try catalog.statCache(paths: [entry.path])[entry.path]?.sha256
                        if let (hex, _) = try? FileIO.sha256(entry.path), hex == recorded { continue }
                        modified += 1
                        if examples.count < 5 { examples.append("modified: \(entry.path)") }
                    } else {
                        newFiles[Workspace.peekModality(entry.path), default: 0] += 1
                        if examples.count < 5 { examples.append("new: \(entry.path)") }
                    }
                }
                // Files the cache knows under this root that the walk did not see are gone at the source.
                let prefix = root.hasSuffix("/") ? root : root + "/"
                var knownCount = 0
                for key in cache.keys where key == root || key.hasPrefix(prefix) { knownCount += 1 }
                if knownCount > matched {
                    let walked = Set(entries.map(\.path))
                    for path in cache.keys.filter({ $0 == root || $0.hasPrefix(prefix) }).sorted() where !walked.contains(path) {
                        missing += 1
                        if examples.count < 5 { examples.append("gone at source: \(path)") }
                    }
                }
            }
            sources.append(StatusReport.SourceStatus(source: source, samples: c.samplesBySource[source] ?? [:], newFiles: newFiles,
                                                     modifiedFiles: modified, missingFiles: missing,
                                                     quarantined: c.quarantinedBySource[source] ?? 0, roots: roots, examples: examples))
        }
        return StatusReport(sources: sources, samples: c.samples, occurrences: c.occurrences, quarantined: c.quarantined,
                            findings: c.findings, labelEvents: c.labelEvents,
                            lastIngest: c.lastIngest, filesChecked: checked, filesHashed: hashed)
    }

}

extension Workspace {
    /// Compares every raw file with the stat recorded at ingest; re-hashes only those whose stat changed
    /// (or all, when `deep`). Returns the changed and the missing files (project-relative).
    func verifyRawFiles(deep: Bool) throws -> (modified: [String], missing: [String], hashed: Int) {
        let rows = try catalog.rawFiles()
        var modified: [String] = [], missing: [String] = []
        var hashed = 0
        for r in rows {
            let abs = root + "/" + r.path
            guard let st = FileIO.status(abs) else { missing.append(r.path); continue }
            if !deep && st.size == r.size && st.mtimeNanos == r.mtimeNanos && Int64(bitPattern: st.inode) == r.inode { continue }
            hashed += 1
            if let (hex, _) = try? FileIO.sha256(abs), hex == r.sha256 { continue }
            modified.append(r.path)
        }
        return (modified, missing, hashed)
    }

    /// Every entry under `root`, walking its top-level folders on two threads (order is not kept: status only counts).
    static func walkInParallel(_ root: String) throws -> [WalkEntry] {
        let fm = FileManager.default
        guard FileIO.status(root, followLinks: false)?.isDirectory == true,
              let names = try? fm.contentsOfDirectory(atPath: root), names.count > 1 else {
            var out: [WalkEntry] = []
            try Walker.walk([root]) { out.append($0) }
            return out
        }
        let parts = parallelMap(names.sorted(), workers: 2) { name -> Result<[WalkEntry], StrataError> in
            var out: [WalkEntry] = []
            do { try Walker.walk([root + "/" + name]) { out.append($0) } } catch {
                return .failure(StrataError(.failure, "\(error)"))
            }
            return .success(out)
        }
        var all: [WalkEntry] = []
        for p in parts { all += try p.get() }
        return all
    }

    /// The modality of a file from its first bytes (for reporting new files without reading them whole).
    static func peekModality(_ path: String) -> String {
        var prefix: [UInt8] = []
        try? FileIO.readChunks(path, chunkSize: 4096) { chunk in if prefix.isEmpty { prefix = Array(chunk) } }
        switch Sniffer.sniff(prefix: prefix, totalSize: prefix.count) {
        case .media(let f): return f.modality.rawValue
        case .text: return "text"
        case .empty: return "empty"
        case .notMedia: return "other"
        }
    }
}
