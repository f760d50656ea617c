import Foundation
import StrataCatalog
import StrataCore

/// What `strata label review --from-findings` did.
public struct ReviewQueued: Codable, Sendable {
    /// The finding kind read (`label-issue`).
    public var kind: String
    public var findings: Int
    /// Samples moved to the front of the labeling queue, in review order (short ids).
    public var queued: [String]
    /// Samples every annotator slot of which is taken: for a reviewer (`strata label consensus`), not the queue.
    public var full: [String]
}

extension Workspace {
    /// `strata label review --from-findings`: sends the samples of the live project's `label-issue` findings (most
    /// likely errors first) to the front of the labeling queue, so a person looks at each label instead of a silent
    /// drop or relabel. Nothing is changed in the labels: the new answer is one more vote, and a disagreement with
    /// the old label goes to a reviewer by the usual consensus rules.
    public func queueFindingsForReview(kind: String = FindingKind.labelIssue.rawValue) throws -> ReviewQueued {
        let stage = kind == FindingKind.labelIssue.rawValue ? "analyze.label-issues" : nil
        let rows = try catalog.findings(kind: kind, stage: stage)
        var seen = Set<String>(), ids: [String] = [], short: [String: String] = [:]
        for r in rows { if let id = r.row.sampleId, seen.insert(id).inserted { ids.append(id); short[id] = r.sample ?? id } }
        guard !ids.isEmpty else {
            throw StrataError.project("there are no `\(kind)` findings of the live project to review",
                                      fix: "run `strata analyze label-issues` first (a model too weak to judge labels flags only what stays credible)")
        }
        let k = try rulebook().annotatorsPerSample
        let lock = try self.lock("label review")
        defer { withExtendedLifetime(lock) {} }
        try catalog.refreshQueue(annotatorsPerSample: k)
        let r = try catalog.queueForReview(ids, annotatorsPerSample: k)
        return ReviewQueued(kind: kind, findings: ids.count, queued: r.queued.map { short[$0]! }, full: r.full.map { short[$0]! })
    }
}
