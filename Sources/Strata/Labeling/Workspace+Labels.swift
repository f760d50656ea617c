// The label store: append-only label events, gold answers, rulebook versions, consensus and agreement.
//
// API (names are stable; the labeling server builds on them):
//
//   let store = try workspace.labelStore()        // reads rulebook.yaml once, records its version if new
//   store.rulebook, store.version                   // RulebookSpec and RulebookVersion (id, number, labelHashes)
//   try store.append(LabelSubmission(sample: "3f2a9c", value: "billing", annotator: "ana"))   -> LabelEvent
//   try store.append([sub1, sub2, ...])             -> LabelAppendResult (stored events, skipped duplicate imports)
//       One transaction with synchronous=FULL: when append returns, the events are durable (kill -9 loses none).
//       All or nothing: any invalid submission throws LabelInputError (problems with index, field, code) and
//       nothing is stored.
//   try store.append(each: [sub1, sub2, ...])       -> [Result<LabelEvent, LabelInputError>]: the valid ones stored in
//       one durable transaction, the invalid ones reported one by one (group commit for a server).
//       In every append: `sample` may be a full id or a short id. skip/unclear need a `reason`, labels a `value`
//       that the rulebook defines; `answers` (decision-path answers, in order) must lead to the submitted outcome.
//   try store.events(sample: ref?, annotator: name?, afterId: id?, limit: n?) -> [LabelEvent]   (oldest first)
//   try store.samplesLabeled(by: annotator)         -> Set<String> full sample ids (never queue one twice)
//   try store.annotatorCounts()                     -> [sampleId: distinct annotators]
//   try store.goldLabels()                          -> [sampleId: value]
//   try store.setGold([GoldSubmission])             known answers for gold samples (replace)
//   try store.consensus(method: .majority | .dawidSkene)  -> ConsensusReport (per sample; `adjudication` queue)
//   try store.agreement()                           -> LabelAgreementReport (kappas, alpha, per label and annotator, gold)
//
// Conventions: per (sample, annotator) the LATEST event counts (corrections are new events); an event by a
// `reviewer` or `admin` whose status is `label` is an adjudication and decides the sample's consensus.
// Workspace shortcuts: `workspace.appendLabels(_:)`, `workspace.labelEvents(sample:annotator:)`,
// `workspace.recordRulebookVersion()`.

import Foundation
import StrataCatalog
import StrataCore

// The Workspace's entry points into the label store (`LabelStore`) and rulebook versions (`RulebookVersioning`).
extension Workspace {
    /// Opens the label store (reads and versions `rulebook.yaml`).
    public func labelStore() throws -> LabelStore { try LabelStore(workspace: self) }

    /// Appends label events durably in one transaction (see `LabelStore.append`).
    @discardableResult
    public func appendLabels(_ submissions: [LabelSubmission]) throws -> LabelAppendResult {
        try labelStore().append(submissions)
    }

    /// Label events, oldest first.
    public func labelEvents(sample: String? = nil, annotator: String? = nil) throws -> [LabelEvent] {
        try labelStore().events(sample: sample, annotator: annotator)
    }

    /// Every recorded rulebook version, oldest first.
    public func rulebookVersions() throws -> [RulebookVersion] {
        try catalog.rulebookVersions().map(Workspace.version)
    }

    static func version(_ r: RulebookVersionRow) -> RulebookVersion {
        let hashes = (try? JSONDecoder().decode([String: String].self, from: Data(r.labelHashes.utf8))) ?? [:]
        return RulebookVersion(id: r.id, number: r.number, labelHashes: hashes, createdAt: r.createdAt)
    }

    /// Hash of a label's definition and signs (16 hex digits).
    public static func definitionHash(_ label: RulebookSpec.Label) -> String { RulebookVersioning.definitionHash(label) }

    /// Reads `rulebook.yaml` and records its version in the catalog if it is new. When a label's definition
    /// changed (or a label was removed) since the version its events were made under, each such `label` event
    /// gets a finding for review: kind `label-definition-changed` (or `label-removed`), stage `rulebook`.
    @discardableResult
    public func recordRulebookVersion() throws -> (spec: RulebookSpec, version: RulebookVersion) {
        let text = try readSpec("rulebook.yaml")
        let spec: RulebookSpec
        do { spec = try RulebookSpec.decode(yaml: text, file: "rulebook.yaml") } catch {
            throw StrataError(.project, wrapping: error, fix: "fix rulebook.yaml (see `strata rulebook check`)")
        }
        let id = RulebookVersioning.versionId(spec)
        if let existing = try catalog.rulebookVersion(id: id) { return (spec, Workspace.version(existing)) }
        let hashes = RulebookVersioning.labelHashes(spec)
        let now = Workspace.now()
        let versions = try catalog.rulebookVersions().map(Workspace.version)
        // The first version puts nothing up for review: the events are read only when there are older versions.
        let findings = RulebookVersioning.reviewFindings(
            events: versions.isEmpty ? [] : try catalog.labelEventRows(), versions: versions, newId: id, newHashes: hashes, now: now)
        let hashesJSON = JSONValue.object(hashes.mapValues(JSONValue.string)).canonicalJSON
        let (row, _) = try catalog.recordRulebookVersion(id: id, labelHashes: hashesJSON, content: text, createdAt: now, findings: findings)
        return (spec, Workspace.version(row))
    }
}
