import Foundation
import StrataCatalog
import StrataCore
import StrataEngine
import StrataStore
#if canImport(Glibc)
import Glibc
#endif

/// One problem `strata check` found.
public struct CheckProblem: Codable, Sendable, Equatable {
    /// layout, spec, names, formats, raw, catalog, objects, coverage
    public var category: String
    public var path: String?
    public var line: Int?
    public var message: String
    public var fix: String?
}

public struct CheckReport: Codable, Sendable {
    public var problems: [CheckProblem]
    public var rawFilesChecked: Int
    public var rawFilesHashed: Int
    public var samplesChecked: Int
    public var objectsChecked: Int
    public var coverage: [CoverageRow]
    public var deep: Bool
    public var ok: Bool { problems.isEmpty }
}

extension Workspace {
    /// Checks layout, spec files, names, formats, raw immutability, catalog/file consistency and coverage
    /// against the intent. `deep` re-hashes every raw file and object instead of trusting unchanged stats.
    /// Coverage gaps are always reported in `coverage`; they count as problems only with `requireCoverage`
    /// (a project collecting data is expected to have gaps; a release gate is not).
    public func check(deep: Bool = false, requireCoverage: Bool = false) throws -> CheckReport {
        try CheckService(ws: self).check(deep: deep, requireCoverage: requireCoverage)
    }
}

/// `strata check`: reads the project (folders, spec files, the catalog, the object store) and hands what it read to
/// the pure `CheckRules`, in the order the report lists problems.
struct CheckService {
    let ws: Workspace

    func check(deep: Bool, requireCoverage: Bool) throws -> CheckReport {
        let root = ws.root, catalog = ws.catalog
        var problems = CheckRules.layout(missing: Workspace.layout.filter { FileIO.status(root + "/" + $0)?.isDirectory != true })
        for file in Workspace.specFiles {
            problems += CheckRules.spec(file: file, text: try? String(contentsOfFile: root + "/" + file, encoding: .utf8))
        }
        if let integrity = try? catalog.integrityCheck() { problems += CheckRules.catalogIntegrity(integrity) }

        // Raw files: recorded ones exist and are unchanged; every file on disk is known and well named.
        let rawRows = try catalog.rawFiles()
        var known: [String: RawFileRow] = [:]
        for r in rawRows { known[r.path] = r }
        let (modified, missing, hashed) = try ws.verifyRawFiles(deep: deep)
        let origins = modified.isEmpty && missing.isEmpty ? [:] : try catalog.originsByRawPath()
        problems += CheckRules.rawChanges(modified: modified, missing: missing, origins: origins)
        let sampleFormats = try catalog.fileSampleFormats()
        for folder in rawFolders() {
            problems += CheckRules.rawFolder(folder, known: known, sampleFormats: sampleFormats, pattern: ws.project.naming.pattern)
        }
        problems += CheckRules.formats(try catalog.formatCounts(), project: ws.project)
        // Objects: record samples' content must be in the store (and match its hash when deep).
        let recordIds = try catalog.recordSampleIds()
        for id in recordIds {
            let present = ws.objects.contains(id)
            if let p = CheckRules.object(id, present: present, intact: !(present && deep) || ws.objects.verify(id)) { problems.append(p) }
        }
        if deep { problems += try ws.deepConsistencyProblems() }
        // Coverage against the intent.
        var coverageRows: [CoverageRow] = []
        if let intent = try? ws.intent() {
            coverageRows = try ws.coverage(intent: intent)
            problems += CheckRules.coverage(coverageRows, required: requireCoverage)
        }
        return CheckReport(problems: problems, rawFilesChecked: rawRows.count, rawFilesHashed: hashed, samplesChecked: try catalog.sampleCount(),
                           objectsChecked: recordIds.count, coverage: coverageRows, deep: deep)
    }

    /// The folders (and stray files) under `data/raw`, sorted, with their entries' modes.
    func rawFolders() -> [RawFolderListing] {
        let fm = FileManager.default
        return ((try? fm.contentsOfDirectory(atPath: ws.rawDir)) ?? []).sorted().filter { !$0.hasPrefix(".") }.map { source in
            let dir = ws.rawDir + "/" + source
            guard FileIO.status(dir)?.isDirectory == true else { return RawFolderListing(source: source, isDirectory: false, entries: []) }
            let names = ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).sorted().filter { $0 != ".gitkeep" }
            return RawFolderListing(source: source, isDirectory: true,
                                    entries: names.map { .init(name: $0, mode: FileIO.status(dir + "/" + $0)?.mode) })
        }
    }
}
