import Foundation
import StrataCatalog
import StrataCore
import StrataEngine
import StrataStore

/// What a finished stage adds to the catalog: duplicates as findings (pointing at the kept sample), rejects as
/// quarantine entries, and the stage's counts.
struct StageMerge: Sendable, Equatable {
    var findings: [FindingRow]
    var quarantine: [QuarantineEntry]
    var stage: RunStageRow
}

/// Turns a stage's outcomes into catalog rows. Pure: outcomes in, rows out; the driver writes them.
enum OutcomeMerger {
    static func merge(runId: String, position: Int, report: StageReport, outcomes: [ItemOutcome], now: String) -> StageMerge {
        var findings: [FindingRow] = []
        var quarantine: [QuarantineEntry] = []
        for o in outcomes {
            switch o {
            case .keep: continue
            case .duplicate(let item, let kept, let kind, let reason):
                findings.append(FindingRow(
                    key: Workspace.shortHash(kind, report.name, item.sample, kept.sample), kind: kind, stage: report.name, sampleId: item.sample,
                    origin: item.origin, line: item.line, relatedSampleId: kept.sample, relatedOrigin: kept.origin, relatedLine: kept.line,
                    reason: reason, runId: runId, createdAt: now))
            case .reject(let item, let kind, let reason):
                // The rejected content stays where it is (a raw file or an object); the entry points at it.
                let stored: String
                switch item.content {
                case .raw(let path): stored = path
                case .object: stored = ObjectStore.projectPath(for: item.id)
                }
                quarantine.append(QuarantineEntry(kind: FindingKind(kind), stage: report.name, origin: item.origin, line: item.line,
                                                  reason: reason, source: item.source, sha256: item.id, sample: item.sample,
                                                  stored: stored, runId: runId, createdAt: now))
            }
        }
        let c = report.counts
        let stage = RunStageRow(runId: runId, position: position, name: report.name, uses: report.uses, inputs: c.inputs,
                                kept: c.kept, rejected: c.rejected, duplicates: c.duplicates, reasons: Workspace.json(c.reasons),
                                tasks: report.tasks, cachedTasks: report.cachedTasks, seconds: report.seconds)
        return StageMerge(findings: findings, quarantine: quarantine, stage: stage)
    }
}

extension Workspace {
    /// Records a finished stage: the reason records first (on disk), then findings, quarantine rows and counts in one
    /// catalog transaction.
    func mergeStage(runId: String, position: Int, report: StageReport, outcomes: [ItemOutcome]) throws {
        let merge = OutcomeMerger.merge(runId: runId, position: position, report: report, outcomes: outcomes, now: Workspace.now())
        try quarantineWriter.write(merge.quarantine)
        try catalog.mergeStage(merge.stage, findings: merge.findings, quarantine: merge.quarantine.map(\.row))
    }
}
