import Foundation
import StrataCore
import StrataStore

extension Workspace {
    public struct InitReport: Sendable, Codable {
        public var root: String
        public var created: [String]
        public var kept: [String]
    }

    /// Scaffolds a project: spec templates, the data layout and a `.gitignore`. Existing files are kept
    /// (never overwritten) unless `force` is set, in which case only the spec templates are rewritten.
    public static func initialize(at path: String, name: String? = nil, modalities: [Modality], force: Bool = false) throws -> InitReport {
        let root = Walker.absolute(path)
        if modalities.isEmpty { throw StrataError.usage("choose at least one modality", fix: "--modality text,image,audio") }
        let projectName = name ?? (root as NSString).lastPathComponent
        try FileIO.makeDirectories(root)
        var created: [String] = [], kept: [String] = []
        for dir in layout {
            if !FileManager.default.fileExists(atPath: root + "/" + dir) { created.append(dir + "/") }
            try FileIO.makeDirectories(root + "/" + dir)
        }
        let mods = modalities.sorted()
        let files: [(String, String)] = [
            ("strata.yaml", SpecTemplates.project(name: projectName, modalities: mods)),
            ("intent.yaml", SpecTemplates.intent(modalities: mods)),
            ("rulebook.yaml", SpecTemplates.rulebook(modalities: mods)),
            ("pipeline.yaml", SpecTemplates.pipeline(modalities: mods)),
            (".gitignore", gitignore),
        ]
        for (file, text) in files {
            let target = root + "/" + file
            let exists = FileManager.default.fileExists(atPath: target)
            if exists && !(force && file.hasSuffix(".yaml")) { kept.append(file); continue }
            try FileIO.writeAtomically(target, Array(text.utf8))
            created.append(file)
        }
        for dir in ["data/raw", "data/cleaned", "data/labeled", "data/ready", "quarantine"] {
            let keep = root + "/" + dir + "/.gitkeep"
            if !FileManager.default.fileExists(atPath: keep) { try FileIO.writeAtomically(keep, [UInt8]()) }
        }
        // Opening creates the catalog and checks that the templates decode.
        _ = try Workspace(root: root, progress: SilentProgress())
        return InitReport(root: root, created: created, kept: kept)
    }

    static let gitignore = """
        # Strata's catalog (SQLite), object store and run folders: machine state, not source. Back up the
        # whole project folder (the catalog holds label events) rather than committing these to git.
        .strata/
        # Raw and derived data are usually too large for git; keep the folders themselves.
        data/raw/*
        !data/raw/.gitkeep
        data/cleaned/*
        !data/cleaned/.gitkeep
        data/ready/*
        !data/ready/.gitkeep
        quarantine/*
        !quarantine/.gitkeep

        """
}
