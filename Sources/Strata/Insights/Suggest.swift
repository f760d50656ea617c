import Foundation
import StrataAnalysis
import StrataCatalog
import StrataCore

/// One sample `strata suggest` proposes to label.
public struct SuggestedSample: Codable, Sendable, Equatable {
    public var rank: Int
    public var sample: String
    public var origin: String
    public var line: Int?
    public var score: Double
    public var slice: String
    public var predicted: String
}

public struct SuggestResult: Codable, Sendable {
    public var model: String
    public var strategy: String
    public var diversity: String
    public var budget: Int
    /// Unlabeled samples with probabilities (the candidates).
    public var candidates: Int
    public var picks: [SuggestedSample]
    /// Nothing was stored (`--dry-run`).
    public var dryRun: Bool
    /// Earlier priorities kept behind the new picks (still unlabeled, not picked again); 0 with `--replace`.
    public var keptEarlier: Int
    /// Earlier priorities dropped: their sample has a label now, or `--replace` cleared them.
    public var droppedEarlier: Int
}

extension Workspace {
    /// `strata suggest`: which unlabeled samples to label next, most useful first. The order is stored in the
    /// `labelPriority` table (rank 1 first), which the labeling queue reads. The new picks take ranks 1...N; earlier
    /// priorities whose sample is still unlabeled and was not picked again follow in their old order (`replace`:
    /// they are cleared instead). `dryRun`: the picks are computed and nothing is stored.
    public func suggest(budget: Int, strategy: UncertaintyStrategy, diversity: Diversity, model: String?,
                        dryRun: Bool = false, replace: Bool = false) throws -> SuggestResult {
        guard budget > 0 else { throw StrataError.usage("--budget must be at least 1") }
        let preds = try modelPredictions(model)
        guard preds.hasProbs else {
            throw StrataError.usage("model `\(preds.model)` has no probabilities, so there is no uncertainty to rank by",
                                    fix: "import `probs` with `strata predictions import FILE --model \(preds.model)`")
        }
        if diversity == .kcenter && preds.embeddingDim == nil {
            throw StrataError.usage("--diversity kcenter needs embeddings, and model `\(preds.model)` has none",
                                    fix: "import an `embedding` per sample, or use `--diversity per-slice`")
        }
        let intent = try? self.intent()
        let labels = try analysisLabels()
        let samples = try analysisSamples(labels: labels)
        let pool = SuggestPlanner.candidates(preds, labels: labels, samples: samples, intent: intent)
        let picks = ActiveLearning.select(pool.candidates, budget: budget, strategy: strategy, diversity: diversity, labeledEmbeddings: pool.labeledEmbeddings)
        let order = SuggestPlanner.priorities(picks.map { ($0.index, $0.score) }, pool: pool, samples: samples, labels: labels, model: preds.model,
                                              strategy: "\(strategy.rawValue)/\(diversity.rawValue)", earlier: try catalog.labelPriority(),
                                              replace: replace, at: Workspace.now())
        let (out, rows, kept, dropped) = (order.picks, order.rows, order.kept, order.dropped)
        if !dryRun {
            let lock = try self.lock("suggest")
            defer { withExtendedLifetime(lock) {} }
            try catalog.replaceLabelPriority(rows)
        }
        return SuggestResult(model: preds.model, strategy: strategy.rawValue, diversity: diversity.rawValue, budget: budget,
                             candidates: pool.candidates.count, picks: out, dryRun: dryRun, keptEarlier: kept, droppedEarlier: dropped)
    }
}

/// What `strata suggest` proposes, pure: the candidates (unlabeled samples with probabilities, each in its slice) and
/// the new priority order (the picks, then the earlier priorities still unlabeled).
enum SuggestPlanner {
    struct Pool {
        var candidates: [Candidate]
        /// The prediction row of each candidate (same order).
        var rows: [PredictionRow]
        /// Embeddings of labeled samples (k-center starts from them).
        var labeledEmbeddings: [[Double]]
    }

    /// A candidate's slice is the first intent requirement it matches, else its source.
    static func candidates(_ preds: ModelPredictions, labels: [String: AnalysisLabel], samples: [AnalysisSample], intent: IntentSpec?) -> Pool {
        let byId = Dictionary(uniqueKeysWithValues: samples.map { ($0.id, $0) })
        var pool = Pool(candidates: [], rows: [], labeledEmbeddings: [])
        for r in preds.rows {
            guard let s = byId[r.sampleId], let p = r.probs else { continue }
            if labels[r.sampleId] != nil {
                if let e = r.embedding { pool.labeledEmbeddings.append(e.map(Double.init)) }
                continue
            }
            let slice = intent?.allRequirements.first { $0.requirement.selector.matches(s.facts) }.map { "\($0.category.rawValue):\($0.requirement.name)" }
                ?? "source:\(s.facts["source"] ?? "")"
            pool.candidates.append(Candidate(index: pool.rows.count, probs: p, slice: slice, embedding: r.embedding.map { $0.map(Double.init) }))
            pool.rows.append(r)
        }
        return pool
    }

    struct Order {
        var picks: [SuggestedSample]
        /// The whole new `labelPriority` table, rank 1 first.
        var rows: [LabelPriorityRow]
        var kept: Int
        var dropped: Int
    }

    /// The picks take ranks 1...N; earlier priorities whose sample is still unlabeled and was not picked again follow
    /// in their old order (`replace`: they are dropped, as are those labeled since).
    static func priorities(_ picks: [(index: Int, score: Double)], pool: Pool, samples: [AnalysisSample], labels: [String: AnalysisLabel],
                           model: String, strategy: String, earlier: [LabelPriorityRow], replace: Bool, at time: String) -> Order {
        let byId = Dictionary(uniqueKeysWithValues: samples.map { ($0.id, $0) })
        var out: [SuggestedSample] = [], rows: [LabelPriorityRow] = []
        for (n, pick) in picks.enumerated() {
            let r = pool.rows[pick.index], s = byId[r.sampleId]!
            out.append(SuggestedSample(rank: n + 1, sample: s.shortId, origin: s.origin, line: s.line, score: pick.score,
                                       slice: pool.candidates[pick.index].slice, predicted: r.label))
            rows.append(LabelPriorityRow(sampleId: r.sampleId, rank: n + 1, score: pick.score, strategy: strategy, model: model, createdAt: time))
        }
        let picked = Set(rows.map(\.sampleId))
        var kept = 0, dropped = 0
        for old in earlier where !picked.contains(old.sampleId) {
            if replace || labels[old.sampleId] != nil { dropped += 1; continue }
            var row = old
            row.rank = rows.count + 1
            rows.append(row)
            kept += 1
        }
        return Order(picks: out, rows: rows, kept: kept, dropped: dropped)
    }
}
