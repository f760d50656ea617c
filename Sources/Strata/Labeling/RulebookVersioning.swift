import Foundation
import StrataCatalog
import StrataCore
import StrataStore

extension FindingKind {
    /// A label event whose label's definition changed in a newer rulebook version (stage `rulebook`).
    public static let labelDefinitionChanged: FindingKind = "label-definition-changed"
    /// A label event whose label is no longer in the rulebook (stage `rulebook`).
    public static let labelRemoved: FindingKind = "label-removed"
}

/// Rulebook versions as pure functions: a version's id and label hashes, and which label events a new version puts
/// up for review. `Workspace.recordRulebookVersion` reads the rulebook and the events and records the result.
enum RulebookVersioning {
    /// Hash of the canonical rulebook (16 hex digits).
    static func versionId(_ spec: RulebookSpec) -> String {
        String(FileIO.sha256(Array(spec.canonicalText.utf8)).prefix(16))
    }

    /// Hash of a label's definition and signs (16 hex digits).
    static func definitionHash(_ label: RulebookSpec.Label) -> String {
        String(FileIO.sha256(Array(RulebookSpec.definitionText(label).utf8)).prefix(16))
    }

    /// Label name -> definition hash.
    static func labelHashes(_ spec: RulebookSpec) -> [String: String] {
        var hashes: [String: String] = [:]
        for l in spec.labels { hashes[l.name] = definitionHash(l) }
        return hashes
    }

    /// The findings a new rulebook version raises: one per `label` event whose label's definition changed (kind
    /// `label-definition-changed`) or was removed (`label-removed`) since the version the event was made under.
    /// An event without a version (labels imported by `strata ingest`) counts as made under the version that was
    /// current at its time, or the first one when it is older than every version.
    /// - Parameters:
    ///   - events: every label event.
    ///   - versions: the versions recorded so far, oldest first (none: the first version raises nothing).
    ///   - newId, newHashes: the new version.
    static func reviewFindings(events: [LabelEventRow], versions: [RulebookVersion], newId: String, newHashes: [String: String],
                               now: String) -> [FindingRow] {
        guard let latest = versions.last else { return [] }
        let byId = Dictionary(versions.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let newNumber = latest.number + 1
        let formatter = Workspace.timeParser()
        let times = versions.map { Workspace.parseTime($0.createdAt, formatter) ?? .distantPast }
        func versionAt(_ time: String) -> RulebookVersion {
            guard let t = Workspace.parseTime(time, formatter), let i = times.lastIndex(where: { $0 <= t }) else { return versions[0] }
            return versions[i]
        }
        var findings: [FindingRow] = []
        for e in events where e.status == "label" {
            guard let value = e.value else { continue }
            let made = e.rulebookVersion.flatMap { byId[$0] } ?? versionAt(e.createdAt)
            guard let old = made.labelHashes[value], old != newHashes[value] else { continue }
            let removed = newHashes[value] == nil
            let kind: FindingKind = removed ? .labelRemoved : .labelDefinitionChanged
            let reason = removed
                ? "labeled `\(value)` by \(e.annotator) under rulebook r\(made.number); `\(value)` is no longer a label in r\(newNumber): relabel the sample"
                : "labeled `\(value)` by \(e.annotator) under rulebook r\(made.number); the definition of `\(value)` changed in r\(newNumber): review the label"
            findings.append(FindingRow(
                key: Workspace.shortHash(kind.rawValue, "\(e.id ?? 0)", newHashes[value] ?? "-"), kind: kind.rawValue, stage: "rulebook",
                sampleId: e.sampleId, origin: nil, line: nil, reason: reason,
                detail: JSONValue.object(["event": .int(e.id ?? 0), "label": .string(value), "annotator": .string(e.annotator),
                                          "madeUnder": .string(made.id), "current": .string(newId)]).canonicalJSON,
                runId: nil, createdAt: now))
        }
        return findings
    }
}
