import Foundation
import StrataAnalysis
import StrataCatalog
import StrataCore

public struct FreshnessRow: Codable, Sendable, Equatable {
    public var kind: String
    public var slice: String
    public var count: Int
    public var maxAgeDays: Int?
    public var stale: Int
    public var oldest: String?
    public var newest: String?
    public var medianAgeDays: Int?
}

/// Coverage against the intent, pure once the rows are computed: the `coverage-gap` findings.
enum CoveragePlanner {
    static func findings(_ rows: [CoverageRow], stage: String, at time: String) -> [FindingRow] {
        rows.filter { !$0.met }.map { r in
            AnalysisFindings.row(.coverageGap, stage: stage, sample: nil,
                                 reason: "\(r.category) `\(r.name)` [\(r.selector)]: \(r.count) samples; \(r.shortfall)",
                                 key: AnalysisFindings.key(stage, r.category, r.name), at: time)
        }
    }
}

/// Age per slice against the intent, pure.
enum FreshnessPlanner {
    struct Result {
        var rows: [FreshnessRow]
        /// Stale samples (index into the samples) with the smallest age limit they exceed.
        var stale: [Int: Int]
    }

    /// "all samples", then each requirement and source slice; a requirement's own `max_age_days` overrides the intent's.
    static func plan(_ samples: [AnalysisSample], intent: IntentSpec?, today: Date) -> Result {
        let ages = samples.map { AnalysisSlices.ageDays($0.collected, today: today) }
        var rows: [FreshnessRow] = []
        var staleIds: [Int: Int] = [:]
        func row(kind: String, name: String, members: [Int], maxAge: Int?) -> FreshnessRow {
            let a = members.compactMap { ages[$0] }.sorted()
            var stale = 0
            if let maxAge { for i in members where (ages[i] ?? 0) > maxAge { stale += 1; staleIds[i] = min(staleIds[i] ?? .max, maxAge) } }
            let dates = members.map { samples[$0].collected }.sorted()
            return FreshnessRow(kind: kind, slice: name, count: members.count, maxAgeDays: maxAge, stale: stale, oldest: dates.first,
                                newest: dates.last, medianAgeDays: a.isEmpty ? nil : a[a.count / 2])
        }
        rows.append(row(kind: "all", name: "all samples", members: Array(samples.indices), maxAge: intent?.maxAgeDays))
        for s in AnalysisSlices.slices(samples, members: Array(samples.indices), intent: intent)
        where ["scenarios", "edge_cases", "noise", "source"].contains(s.kind) {
            let req = AnalysisSlices.requirement(intent, kind: s.kind, name: s.name)
            rows.append(row(kind: s.kind, name: s.name, members: s.members, maxAge: req?.maxAgeDays ?? intent?.maxAgeDays))
        }
        return Result(rows: rows, stale: staleIds)
    }

    /// One `stale` finding per stale sample, with its origin.
    static func findings(_ result: Result, samples: [AnalysisSample], today: Date, stage: String, at time: String) -> [FindingRow] {
        result.stale.keys.sorted().map { i in
            let age = AnalysisSlices.ageDays(samples[i].collected, today: today) ?? 0
            return AnalysisFindings.row(.stale, stage: stage, sample: samples[i],
                                        reason: "collected \(samples[i].collected), \(age) days ago: older than the \(result.stale[i]!) days the intent allows",
                                        key: AnalysisFindings.key(stage, samples[i].id), at: time)
        }
    }
}

extension Workspace {
    /// `strata analyze coverage`: each intent requirement against the data; gaps go to the ledger.
    public func analyzeCoverage(version: String? = nil) throws -> [CoverageRow] {
        let intent = try intent()
        let scope = try analysisScope(version: version)
        let rows = try coverage(intent: intent, facts: scope.samples.map(\.facts))
        let stage = scope.stage("analyze.coverage")
        try storeAnalysisFindings(CoveragePlanner.findings(rows, stage: stage, at: Workspace.now()), stage: stage, command: "analyze coverage")
        return rows
    }

    /// `strata analyze freshness`: age per slice against the intent's `max_age_days` (or a requirement's own);
    /// samples older than that are `stale` findings with their origin.
    public func analyzeFreshness(today: Date = Date(), version: String? = nil) throws -> [FreshnessRow] {
        let intent = try? self.intent()
        let scope = try analysisScope(version: version)
        let result = FreshnessPlanner.plan(scope.samples, intent: intent, today: today)
        let stage = scope.stage("analyze.freshness")
        let findings = FreshnessPlanner.findings(result, samples: scope.samples, today: today, stage: stage, at: Workspace.now())
        try storeAnalysisFindings(findings, stage: stage, command: "analyze freshness")
        return result.rows
    }
}
