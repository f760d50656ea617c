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
        var problems: [CheckProblem] = []
        // Layout.
        for dir in Workspace.layout where FileIO.status(root + "/" + dir)?.isDirectory != true {
            problems.append(CheckProblem(category: "layout", path: dir, message: "the folder \(dir) is missing",
                                         fix: "run `strata init` in the project to recreate the layout (existing files are kept)"))
        }
        // Spec files: all four decode.
        for file in Workspace.specFiles {
            guard let text = try? String(contentsOfFile: root + "/" + file, encoding: .utf8) else {
                problems.append(CheckProblem(category: "spec", path: file, message: "\(file) is missing or unreadable",
                                             fix: "run `strata init --force` to write a template"))
                continue
            }
            do {
                switch file {
                case "strata.yaml": _ = try ProjectSpec.decode(yaml: text, file: file)
                case "intent.yaml": _ = try IntentSpec.decode(yaml: text, file: file)
                case "rulebook.yaml": _ = try RulebookSpec.decode(yaml: text, file: file)
                default:
                    let pipeline = try PipelineSpec.decode(yaml: text, file: file)
                    for stage in pipeline.stages {
                        do {
                            if stage.uses == PseudoLabelOptions.stageKind { _ = try PseudoLabelOptions(stage: stage) } else { _ = try StageRegistry.build(stage) }
                        } catch {
                            problems.append(CheckProblem(category: "spec", path: file, line: stage.line, message: "\(error)",
                                                         fix: "see docs/pipeline.md for each stage kind's parameters"))
                        }
                    }
                }
            } catch {
                for issue in error.issues {
                    problems.append(CheckProblem(category: "spec", path: file, line: issue.line,
                                                 message: "\(issue.path.isEmpty ? "" : issue.path + ": ")\(issue.message)", fix: issue.fix))
                }
            }
        }
        if let integrity = try? catalog.integrityCheck(), !integrity.isEmpty {
            for line in integrity {
                problems.append(CheckProblem(category: "catalog", path: ".strata/catalog.sqlite", message: "SQLite integrity check: \(line)",
                                             fix: "restore .strata/catalog.sqlite from a backup of the project"))
            }
        }

        // Raw files: recorded ones exist and are unchanged; every file on disk is known and well named.
        let rawRows = try catalog.rawFiles()
        var known: [String: RawFileRow] = [:]
        for r in rawRows { known[r.path] = r }
        let (modified, missing, hashed) = try verifyRawFiles(deep: deep)
        let origins = modified.isEmpty && missing.isEmpty ? [:] : try catalog.originsByRawPath()
        for path in modified {
            problems.append(CheckProblem(category: "raw", path: path, message: "raw file changed since it was ingested (its SHA-256 no longer matches)",
                                         fix: "raw data is immutable: copy the original back over it (its origin: \(origins[path] ?? "see `strata findings`")) and `chmod a-w` it; put edits in a cleaning stage instead"))
        }
        for path in missing {
            problems.append(CheckProblem(category: "raw", path: path, message: "raw file is missing",
                                         fix: "copy it back from its origin (\(origins[path] ?? "unknown")) or a backup, then `chmod a-w` it"))
        }
        let fm = FileManager.default
        let sampleFormats = try catalog.fileSampleFormats()
        for source in ((try? fm.contentsOfDirectory(atPath: rawDir)) ?? []).sorted() where !source.hasPrefix(".") {
            let dir = rawDir + "/" + source
            guard FileIO.status(dir)?.isDirectory == true else {
                problems.append(CheckProblem(category: "layout", path: relative(dir), message: "a file directly under data/raw (raw data lives in data/raw/<source>/)",
                                             fix: "ingest it with `strata ingest FILE --source NAME` instead of copying it by hand"))
                continue
            }
            if let why = FileNaming.sourceNameProblem(source) {
                problems.append(CheckProblem(category: "names", path: relative(dir), message: "source folder name: \(why)"))
            }
            for name in ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).sorted() where name != ".gitkeep" {
                let rel = relative(dir + "/" + name)
                if name.hasPrefix(".tmp-") {
                    problems.append(CheckProblem(category: "raw", path: rel, message: "a temporary file left by an interrupted ingest",
                                                 fix: "run `strata ingest` again (it cleans up), or delete the file"))
                    continue
                }
                guard let parsed = FileNaming.parse(name, pattern: project.naming.pattern) else {
                    problems.append(CheckProblem(category: "names", path: rel, message: "the name does not follow the naming pattern \(project.naming.pattern) (strata.yaml)",
                                                 fix: "files in data/raw are written by `strata ingest`; move this one out and ingest it"))
                    continue
                }
                if parsed.source != source {
                    problems.append(CheckProblem(category: "names", path: rel, message: "the name says source `\(parsed.source)` but the file is in data/raw/\(source)/"))
                }
                guard let row = known[rel] else {
                    problems.append(CheckProblem(category: "catalog", path: rel, message: "the file is in data/raw but not in the catalog",
                                                 fix: "move it out of data/raw and ingest it with `strata ingest`"))
                    continue
                }
                if let format = sampleFormats[rel].flatMap(FileFormat.init(name:)), format.fileExtension != parsed.ext {
                    problems.append(CheckProblem(category: "names", path: rel, message: "the extension .\(parsed.ext) does not match the content (\(format.rawValue))"))
                }
                if !row.sha256.hasPrefix(parsed.id) {
                    problems.append(CheckProblem(category: "names", path: rel, message: "the id in the name does not match the file's content hash"))
                }
                if let st = FileIO.status(dir + "/" + name), st.mode & 0o222 != 0 {
                    problems.append(CheckProblem(category: "raw", path: rel, message: "raw file is writable (raw data is kept read-only)",
                                                 fix: "chmod a-w '\(rel)'"))
                }
            }
        }
        // Formats: samples whose format the policy no longer allows.
        for (modality, format, n) in try catalog.formatCounts() {
            guard let f = FileFormat(name: format) else { continue }
            if !project.allows(f) {
                problems.append(CheckProblem(category: "formats", path: "strata.yaml",
                    message: "\(n) \(modality) sample(s) are \(format), which strata.yaml does not allow (allowed: \(project.allowedFormats(for: f.modality).map(\.rawValue).joined(separator: ", ")))",
                    fix: "convert them in a cleaning stage, or allow the format in strata.yaml (at most two per modality)"))
            }
        }
        // Objects: record samples' content must be in the store (and match its hash when deep).
        let recordIds = try catalog.recordSampleIds()
        var objectsChecked = 0
        for id in recordIds {
            objectsChecked += 1
            if !objects.contains(id) {
                problems.append(CheckProblem(category: "objects", path: ObjectStore.projectPath(for: id),
                                             message: "the content of record sample \(id.prefix(12)) is missing from the object store",
                                             fix: "re-ingest its origin file (see `strata findings`), or restore .strata/objects from a backup"))
            } else if deep && !objects.verify(id) {
                problems.append(CheckProblem(category: "objects", path: ObjectStore.projectPath(for: id),
                                             message: "object \(id.prefix(12)) no longer matches its hash", fix: "restore it by re-ingesting its origin"))
            }
        }
        if deep { problems += try deepConsistencyProblems() }
        // Coverage against the intent.
        var coverageRows: [CoverageRow] = []
        if let intent = try? intent() {
            coverageRows = try coverage(intent: intent)
            for row in coverageRows where !row.met && requireCoverage {
                problems.append(CheckProblem(category: "coverage", path: "intent.yaml",
                                             message: "\(row.category) `\(row.name)`: \(row.count) sample(s), \(row.shortfall)",
                                             fix: "collect more data matching \(row.selector) (strata ingest ... --tag ...)"))
            }
        }
        let samples = try catalog.sampleCount()
        return CheckReport(problems: problems, rawFilesChecked: rawRows.count, rawFilesHashed: hashed, samplesChecked: samples,
                           objectsChecked: objectsChecked, coverage: coverageRows, deep: deep)
    }
}
