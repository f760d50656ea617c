/// One annotator's answer on an item.
public enum Vote: Hashable, Sendable, Codable, Comparable {
    case label(String)
    case skip
    case unclear

    /// The key used in vote counts: the label's name, `(skip)` or `(unclear)` (label names cannot contain
    /// parentheses, so the keys never collide).
    public var key: String {
        switch self {
        case .label(let l): l
        case .skip: "(skip)"
        case .unclear: "(unclear)"
        }
    }

    public init(key: String) {
        switch key {
        case "(skip)": self = .skip
        case "(unclear)": self = .unclear
        default: self = .label(key)
        }
    }
}

/// How votes become one label per item.
public enum ConsensusMethod: String, Sendable, Codable, CaseIterable {
    /// The most frequent answer; ties and low agreement go to adjudication.
    case majority
    /// Dawid-Skene EM: each annotator's answers are weighted by an estimated confusion matrix (their accuracy per
    /// true label), and the item's label is the most probable one.
    case dawidSkene = "dawid-skene"
}

public struct ConsensusOptions: Sendable, Equatable {
    public var method: ConsensusMethod
    /// Items with fewer votes than this are `pending` (the rulebook's annotators per sample).
    public var minAnnotators: Int
    /// Support (share of votes, or posterior probability for Dawid-Skene) below this goes to adjudication.
    public var threshold: Double

    public init(method: ConsensusMethod = .majority, minAnnotators: Int = 1, threshold: Double = 0.7) {
        self.method = method; self.minAnnotators = minAnnotators; self.threshold = threshold
    }
}

/// The consensus of one item.
public struct ItemConsensus: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        /// Enough annotators agree: `label` is the consensus.
        case decided
        /// A reviewer or admin decided (`label`, or skipped when their answer was a skip).
        case adjudicated
        /// Most annotators skipped the item.
        case skipped
        /// Needs a reviewer: a tie, agreement below the threshold, or annotators could not decide.
        case adjudicate
        /// Fewer votes than annotators per sample so far.
        case pending
    }

    public var item: String
    public var state: State
    /// The consensus label (for `decided` and `adjudicated`), or the leading one otherwise when there is one.
    public var label: String?
    /// Share of votes (majority) or posterior probability (Dawid-Skene) of the leading answer.
    public var support: Double
    /// Vote key -> count (see `Vote.key`).
    public var votes: [String: Int]
    public var annotators: Int
    /// Why the item needs adjudication or is pending.
    public var reason: String?
}

public enum Consensus {
    /// Decides each item from its votes (one per annotator: pass the latest answer of each) and the adjudications.
    /// Items are returned sorted by id; an item with no vote and no adjudication is absent.
    public static func decide(votes: [(item: String, annotator: String, vote: Vote)], adjudicated: [String: Vote] = [:],
                              options: ConsensusOptions) -> [ItemConsensus] {
        var byItem: [String: [String: Vote]] = [:]
        for v in votes { byItem[v.item, default: [:]][v.annotator] = v.vote }
        // Dawid-Skene is fitted on the answers of annotators who share items with others; the items of annotators
        // who never overlap with anyone have no posterior and fall back to their vote shares (majority).
        let isolated = options.method == .dawidSkene ? DawidSkene.isolatedAnnotators(votes: votes) : []
        let posteriors: [String: [String: Double]]? = options.method == .dawidSkene
            ? DawidSkene.fit(votes: votes.filter { !isolated.contains($0.annotator) }).posteriors : nil
        var out: [ItemConsensus] = []
        for item in Set(byItem.keys).union(adjudicated.keys).sorted() {
            let itemVotes = byItem[item] ?? [:]
            var counts: [String: Int] = [:]
            for v in itemVotes.values { counts[v.key, default: 0] += 1 }
            let n = itemVotes.count
            var result = ItemConsensus(item: item, state: .pending, label: nil, support: 0, votes: counts, annotators: n, reason: nil)
            if let a = adjudicated[item] {
                result.support = 1
                if case .label(let l) = a { result.state = .adjudicated; result.label = l } else { result.state = .skipped; result.reason = "adjudicated as \(a.key)" }
                out.append(result)
                continue
            }
            // Leading answers by support.
            var support: [(key: String, p: Double)]
            if let post = posteriors?[item] {
                support = post.map { ($0.key, $0.value) }
            } else {
                support = counts.map { ($0.key, Double($0.value) / Double(n)) }
            }
            support.sort { $0.p != $1.p ? $0.p > $1.p : $0.key < $1.key }
            guard let top = support.first else { continue }
            result.support = top.p
            let leader = Vote(key: top.key)
            if case .label(let l) = leader { result.label = l }
            let tied = support.filter { abs($0.p - top.p) < 1e-9 }.map(\.key)
            if n < options.minAnnotators {
                result.state = .pending
                result.reason = "\(n) of \(options.minAnnotators) annotators so far"
            } else if tied.count > 1 {
                result.state = .adjudicate
                result.label = nil
                result.reason = "tie between " + tied.sorted().joined(separator: " and ")
            } else if leader == .unclear {
                result.state = .adjudicate
                result.reason = "the annotators could not decide (unclear)"
            } else if top.p + 1e-12 < options.threshold {
                result.state = .adjudicate
                result.reason = "agreement \(format(top.p)) is below the threshold \(format(options.threshold))"
            } else if leader == .skip {
                result.state = .skipped
            } else {
                result.state = .decided
            }
            out.append(result)
        }
        return out
    }

    static func format(_ x: Double) -> String {
        let r = (x * 100).rounded() / 100
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
}
