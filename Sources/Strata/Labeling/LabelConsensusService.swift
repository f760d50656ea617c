import Foundation
import StrataCatalog
import StrataCore

/// Consensus and agreement over label events, as pure functions: `LabelStore` reads the events, the gold answers
/// and the short ids, and these decide (unit-tested without a catalog).
enum LabelConsensusService {
    typealias Votes = [(item: String, annotator: String, vote: Vote)]

    /// Per sample, the latest event of each annotator (adjudicating roles excluded), and the latest adjudication.
    /// Pseudo labels (source `pseudo`) are not votes: consensus and agreement are about people (and imported or model
    /// labels), and a pseudo label counts only where no such event exists (see `VersionLabels`).
    /// - Parameter events: label events, oldest first.
    static func effectiveVotes(_ events: [LabelEventRow]) -> (votes: Votes, adjudicated: [String: Vote]) {
        var latest: [String: [String: LabelEventRow]] = [:]
        var adjudicated: [String: Vote] = [:]
        for e in events where e.source != LabelSource.pseudo.rawValue {
            let role = AnnotatorRole(rawValue: e.role) ?? .importer
            if role.adjudicates {
                switch e.status {
                case "label": if let v = e.value { adjudicated[e.sampleId] = .label(v) }
                case "skip": adjudicated[e.sampleId] = .skip
                default: break  // a reviewer who cannot decide leaves the sample in the queue
                }
                continue
            }
            latest[e.sampleId, default: [:]][e.annotator] = e
        }
        var votes: Votes = []
        for (sample, byAnnotator) in latest {
            for (annotator, e) in byAnnotator {
                let vote: Vote = switch e.status {
                case "label": .label(e.value ?? "")
                case "skip": .skip
                default: .unclear
                }
                votes.append((sample, annotator, vote))
            }
        }
        votes.sort { ($0.item, $0.annotator) < ($1.item, $1.annotator) }
        return (votes, adjudicated)
    }

    /// Consensus per sample; ties, low agreement and unclear samples form the adjudication queue.
    /// - Parameters:
    ///   - shortIds: sample id -> short id (a missing one shows as the id's first 12 characters).
    ///   - gold: sample id -> known answer.
    static func consensus(votes: Votes, adjudicated: [String: Vote], method: ConsensusMethod, rulebook: RulebookSpec,
                          shortIds: [String: String], gold: [String: String]) -> ConsensusReport {
        let options = ConsensusOptions(method: method, minAnnotators: rulebook.annotatorsPerSample, threshold: rulebook.agreementThreshold)
        let items = Consensus.decide(votes: votes, adjudicated: adjudicated, options: options)
        let samples = items.map { c in
            SampleConsensus(sample: c.item, shortId: shortIds[c.item] ?? String(c.item.prefix(12)), state: c.state, label: c.label,
                            support: c.support, votes: c.votes, annotators: c.annotators, reason: c.reason, gold: gold[c.item])
        }
        var counts: [String: Int] = [:]
        for s in samples { counts[s.state.rawValue, default: 0] += 1 }
        // Annotators who share a sample with another one: Dawid-Skene can only estimate their accuracy. The others'
        // samples fall back to majority voting, and the report says so.
        var fallback: DawidSkeneFallback?
        var estimated: [AnnotatorScore]?
        if method == .dawidSkene {
            let isolated = DawidSkene.isolatedAnnotators(votes: votes)
            estimated = AnnotatorScore.list(DawidSkene.fit(votes: votes.filter { !isolated.contains($0.annotator) }).accuracy)
            if !isolated.isEmpty {
                let items = Set(votes.filter { isolated.contains($0.annotator) }.map(\.item)).subtracting(adjudicated.keys)
                fallback = DawidSkeneFallback(annotators: isolated.sorted(), samples: items.count)
            }
        }
        return ConsensusReport(
            method: method, annotatorsPerSample: options.minAnnotators, threshold: options.threshold, samples: samples,
            adjudication: samples.filter { $0.state == .adjudicate }, counts: counts,
            estimatedAccuracy: estimated, dawidSkeneFallback: fallback)
    }

    /// Agreement (Cohen's kappa per pair, Fleiss' kappa, Krippendorff's alpha; per label and per annotator) and
    /// annotator accuracy on gold samples. Ratings are each annotator's latest `label` vote per sample; skip and
    /// unclear are missing ratings; adjudications are not ratings.
    static func agreement(votes: Votes, rulebook: RulebookSpec, rulebookNumber: Int, gold: [String: String]) -> LabelAgreementReport {
        var ratings: [(item: String, annotator: String, category: String)] = []
        for v in votes { if case .label(let l) = v.vote { ratings.append((v.item, v.annotator, l)) } }
        let table = RatingTable(ratings: ratings, categories: rulebook.labels.map(\.name))
        let report = AgreementReport.compute(table, gold: gold)
        // Dawid-Skene needs items rated by several annotators; without any, its estimate means nothing. Annotators
        // who never overlap with anyone are left out of the fit (as in `consensus`), and only annotators with an
        // agreement figure get an estimate.
        let labels = votes.filter { if case .label = $0.vote { true } else { false } }
        let isolated = DawidSkene.isolatedAnnotators(votes: labels)
        let accuracy = DawidSkene.fit(votes: labels.filter { !isolated.contains($0.annotator) }).accuracy
            .filter { a in report.annotatorStats.contains { $0.annotator == a.key && $0.agreement != nil } }
        return LabelAgreementReport(
            rulebookVersion: rulebookNumber, threshold: rulebook.agreementThreshold, agreement: report,
            labelsBelowThreshold: report.labels.filter { ($0.krippendorffAlpha ?? 1) < rulebook.agreementThreshold && $0.ratings > 0 }.map(\.label),
            estimatedAccuracy: AnnotatorScore.list(accuracy))
    }
}
