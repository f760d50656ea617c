import Foundation
import StrataCatalog
import StrataCore
import StrataStore
#if canImport(Glibc)
import Glibc
#endif

/// What `strata doctor` found and did: the deep check's problems grouped with an explanation, and the safe repairs.
public struct DoctorReport: Codable, Sendable {
    public struct Group: Codable, Sendable {
        public var category: String
        /// What this kind of problem means for the user's data, in plain words.
        public var explanation: String
        public var problems: [CheckProblem]
    }
    public var groups: [Group]
    /// Repairs `--fix` made (each is safe: it never deletes or changes user data).
    public var repaired: [String]
    /// Objects in the store that nothing references any more (reclaimed by `strata version gc`, never by doctor).
    public var collectableObjects: Int
    public var ok: Bool { groups.isEmpty }
}

extension Workspace {
    /// Problems only a deep check looks for: leftover temporary files, cleaned content and quarantine copies that
    /// the catalog names but the disk lacks, runs a crash left marked as running.
    func deepConsistencyProblems() throws -> [CheckProblem] {
        var problems: [CheckProblem] = []
        for path in strayTemporaryFiles() {
            problems.append(CheckProblem(category: "temp", path: relative(path),
                                         message: "a half-written temporary file left by an interrupted command (never visible as data)",
                                         fix: "`strata doctor --fix` removes it"))
        }
        for (sampleId, sha) in try catalog.cleanedContentHashes() {
            let rel = ObjectStore.projectPath(for: sha)
            if !objects.contains(sha) {
                problems.append(CheckProblem(category: "objects", path: rel,
                                             message: "the cleaned content of sample \(sampleId.prefix(12)) is missing from the object store",
                                             fix: "run `strata run --force` to rebuild the cleaned set"))
            } else if !objects.verify(sha) {
                problems.append(CheckProblem(category: "objects", path: rel,
                                             message: "the cleaned content of sample \(sampleId.prefix(12)) no longer matches its hash",
                                             fix: "delete the damaged object and run `strata run --force` to rebuild it"))
            }
        }
        for (id, path) in try catalog.storedQuarantinePaths() where FileIO.status(root + "/" + path) == nil {
            problems.append(CheckProblem(category: "quarantine", path: path,
                                         message: "quarantine record \(id) keeps a copy of the rejected input here, but the file is gone",
                                         fix: "the reason is still in the catalog (`strata quarantine show \(id)`); re-ingest the origin to restore the copy"))
        }
        for run in try catalog.unfinishedRuns() {
            problems.append(CheckProblem(category: "runs", path: ".strata/runs/\(run)",
                                         message: "run \(run) was interrupted (it is still marked running)",
                                         fix: "run `strata run` again: finished tasks are reused and the run completes"))
        }
        return problems
    }

    /// Temporary files (`.tmp-*`) under the folders Strata writes into whose writer is gone: the process id in the
    /// name (`.tmp-<pid>-...`) is not running. A temp file of a live process is a write in progress, not a problem.
    func strayTemporaryFiles(under bases: [String]? = nil) -> [String] {
        var out: [String] = []
        let fm = FileManager.default
        let folders = bases ?? [strataDir + "/objects", strataDir + "/cache", strataDir + "/runs", cleanedDir, root + "/data/ready", quarantineDir, rawDir]
        for base in folders {
            guard let walker = fm.enumerator(atPath: base) else { continue }
            while let rel = walker.nextObject() as? String {
                let name = (rel as NSString).lastPathComponent
                if name.hasPrefix(".tmp-") {
                    if Workspace.writerIsGone(name) { out.append(base + "/" + rel) }
                    walker.skipDescendants()
                }
            }
        }
        return out.sorted()
    }

    static func writerIsGone(_ tempName: String) -> Bool {
        let parts = tempName.dropFirst(5).split(separator: "-", maxSplits: 1)
        guard let first = parts.first, let pid = pid_t(first), pid > 0 else { return true }
        if pid == getpid() { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    /// Removes temporary files (and folders) whose writer is gone; returns how many. Called when a command starts
    /// after an interrupted one, so a `kill -9` leaves nothing behind once the next command ran.
    @discardableResult
    func removeStaleTemporaryFiles(under bases: [String]) -> Int {
        var removed = 0
        for path in strayTemporaryFiles(under: bases) {
            if unlink(path) == 0 || (try? FileManager.default.removeItem(atPath: path)) != nil { removed += 1 }
        }
        return removed
    }

    /// Objects nothing references: not a record sample's content, not cleaned content, not a task's cached output.
    func collectableObjectCount() throws -> Int {
        var referenced = Set(try catalog.recordSampleIds())
        for (_, sha) in try catalog.cleanedContentHashes() { referenced.insert(sha) }
        referenced.formUnion(cachedTaskObjectReferences())
        return objects.all().filter { !referenced.contains($0) }.count
    }

    /// Hashes named in the task cache's outputs (intermediate stage results a re-run reuses).
    func cachedTaskObjectReferences() -> Set<String> {
        var out = Set<String>()
        let fm = FileManager.default
        let base = strataDir + "/cache/tasks"
        guard let walker = fm.enumerator(atPath: base) else { return out }
        while let rel = walker.nextObject() as? String {
            guard let text = try? String(contentsOfFile: base + "/" + rel, encoding: .utf8) else { continue }
            var i = text.startIndex
            // Any 64-hex-digit run is a candidate digest; only ones in the store matter to the caller.
            var run = 0
            var start = i
            while i < text.endIndex {
                if text[i].isHexDigit && text[i].isLowercase || text[i].isNumber { if run == 0 { start = i }; run += 1 } else {
                    if run == 64 { out.insert(String(text[start..<i])) }
                    run = 0
                }
                i = text.index(after: i)
            }
            if run == 64 { out.insert(String(text[start..<i])) }
        }
        return out
    }

    /// Runs the deep check, explains each kind of problem, and with `fix` makes the repairs that are always safe.
    public func doctor(fix: Bool) throws -> DoctorReport { try Doctor(ws: self).run(fix: fix) }

    static func explain(_ category: String) -> String {
        switch category {
        case "layout": "The project's folders are not the standard layout; commands that write data may fail or put files where `strata check` cannot see them."
        case "spec": "A spec file does not decode; commands that read it stop until it is fixed. Your data is untouched."
        case "names": "A file in data/raw does not carry the name Strata gave it; lineage from its name (source, date, id) is unreliable."
        case "formats": "Samples are in a format the project no longer allows; exports would mix formats until a cleaning stage converts them."
        case "raw": "Raw data must never change after ingest; a changed, missing or writable raw file breaks the link from every label and version back to the original."
        case "catalog": "The catalog and the files disagree; some files are unknown to Strata or the database itself is damaged."
        case "objects": "Content the catalog needs is missing or damaged in the object store; the affected samples cannot be read or exported until it is restored."
        case "quarantine": "A rejected input's saved copy is missing; the reason is still recorded, but the copy cannot be released back."
        case "runs": "A pipeline run was interrupted; its finished tasks are cached, and the next `strata run` completes it."
        case "temp": "A command was interrupted while writing; the half-written file was never visible as data and is safe to remove."
        case "coverage": "The data does not meet a requirement of intent.yaml."
        default: "See docs/RELIABILITY.md."
        }
    }
}

/// `strata doctor`: the deep check, grouped and explained, after the repairs that are always safe (with `fix`).
struct Doctor {
    let ws: Workspace

    /// Runs the deep check, explains each kind of problem, and with `fix` makes the repairs that are always safe:
    /// removing temporary files, restoring the read-only mode of raw files, recreating missing layout folders.
    /// It never deletes samples, labels, objects or quarantine records.
    func run(fix: Bool) throws -> DoctorReport {
        var repaired: [String] = []
        if fix {
            let held = try ws.lock("doctor")
            defer { withExtendedLifetime(held) {} }
            do {
                for path in ws.strayTemporaryFiles() {
                    if unlink(path) == 0 || (try? FileManager.default.removeItem(atPath: path)) != nil {
                        repaired.append("removed the temporary file \(ws.relative(path)) (its writer is gone)")
                    }
                }
                for dir in Workspace.layout where FileIO.status(ws.root + "/" + dir)?.isDirectory != true {
                    try FileManager.default.createDirectory(atPath: ws.root + "/" + dir, withIntermediateDirectories: true)
                    repaired.append("recreated the folder \(dir)")
                }
                for row in try ws.catalog.rawFiles() {
                    let path = ws.root + "/" + row.path
                    if let st = FileIO.status(path), st.mode & 0o222 != 0, (try? FileIO.sha256(path).0) == row.sha256 {
                        chmod(path, mode_t(st.mode & 0o7555))
                        repaired.append("made \(row.path) read-only again (its content is unchanged)")
                    }
                }
            }
        }
        let report = try ws.check(deep: true)
        var groups: [String: [CheckProblem]] = [:]
        for p in report.problems { groups[p.category, default: []].append(p) }
        let ordered = groups.keys.sorted().map { DoctorReport.Group(category: $0, explanation: Workspace.explain($0), problems: groups[$0]!) }
        return DoctorReport(groups: ordered, repaired: repaired, collectableObjects: try ws.collectableObjectCount())
    }
}
