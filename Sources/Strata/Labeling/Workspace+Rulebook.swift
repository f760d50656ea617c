import Foundation
import StrataCatalog
import StrataCore
import StrataStore

/// What `strata rulebook check` found.
public struct RulebookCheckReport: Codable, Sendable, Equatable {
    public var ok: Bool
    public var labels: Int
    /// `rulebook.yaml:12:5 labels[1].name: ...` lines.
    public var errors: [String]
    public var warnings: [String]
    /// The recorded version (only when the rulebook has no errors).
    public var version: RulebookVersion?
    /// Findings raised for labels whose definition changed with this version (`strata findings --stage rulebook`).
    public var flaggedForReview: Int
}

extension Workspace {
    /// Decodes and checks `rulebook.yaml` (labels reachable from the decision path, leaves that are labels or
    /// policies, no duplicates, `sample:` examples that exist in the catalog). A rulebook without errors is recorded
    /// as a version; labels made under an older definition are flagged for review.
    public func checkRulebook() throws -> RulebookCheckReport {
        let text = try readSpec("rulebook.yaml")
        let result: RulebookCheck.Result
        do { result = try RulebookCheck.run(yaml: text, file: "rulebook.yaml") } catch {
            return RulebookCheckReport(ok: false, labels: 0, errors: error.issues.map(\.description), warnings: [], version: nil, flaggedForReview: 0)
        }
        var errors = result.errors
        let refs = result.sampleExamples.map(\.ref)
        let resolved = try catalog.resolveSampleRefs(refs)
        let rawPaths = refs.contains(where: { resolved[$0] == nil }) ? try catalog.rawFilePaths() : []
        for e in result.sampleExamples where resolved[e.ref] == nil && !rawPaths.contains(e.ref) {
            errors.append(SpecIssue(file: "rulebook.yaml", line: e.line, column: e.column, path: e.path,
                                    message: "the example sample `\(e.ref)` of `\(e.label)` is not in the catalog",
                                    fix: "use a sample id, short id or data/raw path that `strata ingest` reported, or write the example inline with `text:`"))
        }
        errors.sort { ($0.line ?? Int.max) < ($1.line ?? Int.max) }
        var report = RulebookCheckReport(ok: errors.isEmpty, labels: result.spec.labels.count, errors: errors.map(\.description),
                                         warnings: result.warnings.map(\.description), version: nil, flaggedForReview: 0)
        if errors.isEmpty {
            let before = try catalog.findings(kind: nil, stage: "rulebook").count
            report.version = try recordRulebookVersion().version
            report.flaggedForReview = try catalog.findings(kind: nil, stage: "rulebook").count - before
        }
        return report
    }

    /// Writes the tasker handbook (`handbook.md`, `handbook.html`) and a Label Studio labeling config
    /// (`label-studio.xml`) into `dir` (default `handbook/` in the project), atomically. Returns the paths written.
    public func renderRulebook(to dir: String? = nil) throws -> [String] {
        let report = try checkRulebook()
        guard report.ok else {
            throw StrataError.project("rulebook.yaml has \(report.errors.count) problem(s):\n" + report.errors.map { "  " + $0 }.joined(separator: "\n"),
                                      fix: "fix them (see `strata rulebook check`), then render again")
        }
        let spec = try rulebook()
        var sampleText: [String: String] = [:]
        let refs = spec.labels.flatMap { $0.fits + $0.notFits }.compactMap { e -> String? in if case .sample(let s) = e.content { s } else { nil } }
        let resolved = try catalog.resolveSampleRefs(refs)
        for (ref, id) in resolved {
            if let s = try catalog.sample(id: id), s.modality == Modality.text.rawValue, let (_, text) = try? taskContent(s, mediaURL: nil) {
                sampleText[ref] = text.count > 400 ? String(text.prefix(400)) + "…" : text
            }
        }
        let version = report.version.map { "r\($0.number) (\($0.id))" }
        let ctx = RulebookHandbook.Context(project: project.name, version: version, sampleText: sampleText)
        let out = dir.map(Walker.absolute) ?? root + "/handbook"
        try FileIO.makeDirectories(out)
        let files = [
            ("handbook.md", RulebookHandbook.markdown(spec, ctx)),
            ("handbook.html", RulebookHandbook.html(spec, ctx)),
            ("label-studio.xml", try labelStudioConfig()),
        ]
        var written: [String] = []
        for (name, text) in files {
            try FileIO.writeAtomically(out + "/" + name, Array(text.utf8))
            written.append(out + "/" + name)
        }
        return written
    }
}
