import Foundation
import StrataCatalog
import StrataCore
import StrataEngine
import StrataStore

/// One source folder under `data/raw` as `strata check` found it on disk.
struct RawFolderListing: Sendable, Equatable {
    struct Entry: Sendable, Equatable {
        var name: String
        /// The file's mode bits (nil when it could not be stat'ed).
        var mode: UInt32?
    }
    /// The folder's name (the source).
    var source: String
    var isDirectory: Bool
    /// The folder's entries other than `.gitkeep`, sorted by name.
    var entries: [Entry]
}

/// The rules of `strata check`, as pure functions over what `CheckService` read: each turns facts into problems,
/// with no disk or catalog access, so each is tested on plain values.
enum CheckRules {
    /// The project's folders that are missing.
    static func layout(missing: [String]) -> [CheckProblem] {
        missing.map {
            CheckProblem(category: "layout", path: $0, message: "the folder \($0) is missing",
                         fix: "run `strata init` in the project to recreate the layout (existing files are kept)")
        }
    }

    /// One spec file: `text` nil when it is missing or unreadable. Each decoding issue is a problem with its line;
    /// every pipeline stage is built, so bad parameters are reported too.
    static func spec(file: String, text: String?) -> [CheckProblem] {
        guard let text else {
            return [CheckProblem(category: "spec", path: file, message: "\(file) is missing or unreadable",
                                 fix: "run `strata init --force` to write a template")]
        }
        var problems: [CheckProblem] = []
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
        return problems
    }

    /// The lines of SQLite's integrity check (none when the catalog is sound).
    static func catalogIntegrity(_ lines: [String]) -> [CheckProblem] {
        lines.map {
            CheckProblem(category: "catalog", path: ".strata/catalog.sqlite", message: "SQLite integrity check: \($0)",
                         fix: "restore .strata/catalog.sqlite from a backup of the project")
        }
    }

    /// Recorded raw files that changed or are gone; `origins` maps a raw path to where it was ingested from.
    static func rawChanges(modified: [String], missing: [String], origins: [String: String]) -> [CheckProblem] {
        modified.map { path in
            CheckProblem(category: "raw", path: path, message: "raw file changed since it was ingested (its SHA-256 no longer matches)",
                         fix: "raw data is immutable: copy the original back over it (its origin: \(origins[path] ?? "see `strata findings`")) and `chmod a-w` it; put edits in a cleaning stage instead")
        } + missing.map { path in
            CheckProblem(category: "raw", path: path, message: "raw file is missing",
                         fix: "copy it back from its origin (\(origins[path] ?? "unknown")) or a backup, then `chmod a-w` it")
        }
    }

    /// One folder under `data/raw`: it is a folder with a valid source name, and each file in it is known to the
    /// catalog, follows the naming pattern, has the extension of its content and the id of its hash, and is read-only.
    /// `known` maps a raw path to its catalog row, `sampleFormats` a raw path to its sample's format.
    static func rawFolder(_ folder: RawFolderListing, known: [String: RawFileRow], sampleFormats: [String: String],
                          pattern: String) -> [CheckProblem] {
        let dir = "data/raw/" + folder.source
        guard folder.isDirectory else {
            return [CheckProblem(category: "layout", path: dir, message: "a file directly under data/raw (raw data lives in data/raw/<source>/)",
                                 fix: "ingest it with `strata ingest FILE --source NAME` instead of copying it by hand")]
        }
        var problems: [CheckProblem] = []
        if let why = FileNaming.sourceNameProblem(folder.source) {
            problems.append(CheckProblem(category: "names", path: dir, message: "source folder name: \(why)"))
        }
        for entry in folder.entries {
            let name = entry.name, rel = dir + "/" + name
            if name.hasPrefix(".tmp-") {
                problems.append(CheckProblem(category: "raw", path: rel, message: "a temporary file left by an interrupted ingest",
                                             fix: "run `strata ingest` again (it cleans up), or delete the file"))
                continue
            }
            guard let parsed = FileNaming.parse(name, pattern: pattern) else {
                problems.append(CheckProblem(category: "names", path: rel, message: "the name does not follow the naming pattern \(pattern) (strata.yaml)",
                                             fix: "files in data/raw are written by `strata ingest`; move this one out and ingest it"))
                continue
            }
            if parsed.source != folder.source {
                problems.append(CheckProblem(category: "names", path: rel, message: "the name says source `\(parsed.source)` but the file is in data/raw/\(folder.source)/"))
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
            if let mode = entry.mode, mode & 0o222 != 0 {
                problems.append(CheckProblem(category: "raw", path: rel, message: "raw file is writable (raw data is kept read-only)",
                                             fix: "chmod a-w '\(rel)'"))
            }
        }
        return problems
    }

    /// Samples whose format the project's policy no longer allows (`counts`: modality, format, samples).
    static func formats(_ counts: [(modality: String, format: String, count: Int)], project: ProjectSpec) -> [CheckProblem] {
        var problems: [CheckProblem] = []
        for (modality, format, n) in counts {
            guard let f = FileFormat(name: format), !project.allows(f) else { continue }
            problems.append(CheckProblem(category: "formats", path: "strata.yaml",
                message: "\(n) \(modality) sample(s) are \(format), which strata.yaml does not allow (allowed: \(project.allowedFormats(for: f.modality).map(\.rawValue).joined(separator: ", ")))",
                fix: "convert them in a cleaning stage, or allow the format in strata.yaml (at most two per modality)"))
        }
        return problems
    }

    /// A record sample's content that is missing from the object store, or (deep) no longer matches its hash.
    static func object(_ id: String, present: Bool, intact: Bool) -> CheckProblem? {
        if !present {
            return CheckProblem(category: "objects", path: ObjectStore.projectPath(for: id),
                                message: "the content of record sample \(id.prefix(12)) is missing from the object store",
                                fix: "re-ingest its origin file (see `strata findings`), or restore .strata/objects from a backup")
        }
        if !intact {
            return CheckProblem(category: "objects", path: ObjectStore.projectPath(for: id),
                                message: "object \(id.prefix(12)) no longer matches its hash", fix: "restore it by re-ingesting its origin")
        }
        return nil
    }

    /// Coverage rows that fall short of the intent; problems only when coverage is required (a release gate).
    static func coverage(_ rows: [CoverageRow], required: Bool) -> [CheckProblem] {
        guard required else { return [] }
        return rows.filter { !$0.met }.map { row in
            CheckProblem(category: "coverage", path: "intent.yaml",
                         message: "\(row.category) `\(row.name)`: \(row.count) sample(s), \(row.shortfall)",
                         fix: "collect more data matching \(row.selector) (strata ingest ... --tag ...)")
        }
    }
}
