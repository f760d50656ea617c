import Foundation

/// How uncertain a prediction is.
public enum UncertaintyStrategy: String, Sendable, Codable, CaseIterable {
    /// 1 - (p1 - p2): the two most likely classes are close.
    case margin
    /// Shannon entropy of the probabilities, normalized to 0...1.
    case entropy
    /// 1 - p1.
    case leastConfidence = "least-confidence"

    public func score<C: Collection>(_ probs: C) -> Double where C.Element == Double {
        switch self {
        case .margin:
            var p1 = -Double.infinity, p2 = -Double.infinity
            for p in probs { if p > p1 { p2 = p1; p1 = p } else if p > p2 { p2 = p } }
            return probs.count < 2 ? 0 : 1 - (p1 - p2)
        case .leastConfidence:
            return 1 - (probs.max() ?? 1)
        case .entropy:
            guard probs.count > 1 else { return 0 }
            let h = probs.reduce(0) { $0 - ($1 > 0 ? $1 * log($1) : 0) }
            return h / log(Double(probs.count))
        }
    }
}

/// How to keep a batch of picks from being all alike.
public enum Diversity: String, Sendable, Codable, CaseIterable {
    /// Most uncertain first, nothing else.
    case none
    /// Equal quotas per slice, taken round-robin (most uncertain first within each slice).
    case perSlice = "per-slice"
    /// k-center greedy (Sener and Savarese 2018) over embeddings, among the most uncertain candidates.
    case kcenter
}

/// An unlabeled sample that could be labeled next.
public struct Candidate: Sendable {
    public var index: Int
    public var probs: [Double]
    public var slice: String
    public var embedding: [Double]?
    public init(index: Int, probs: [Double], slice: String = "", embedding: [Double]? = nil) {
        self.index = index
        self.probs = probs
        self.slice = slice
        self.embedding = embedding
    }
}

public struct Pick: Sendable, Equatable, Codable {
    public var index: Int
    public var score: Double
}

public enum ActiveLearning {
    /// Chooses up to `budget` candidates in priority order.
    /// - Parameters:
    ///   - labeledEmbeddings: embeddings of already labeled samples; k-center treats them as existing centers.
    public static func select(_ candidates: [Candidate], budget: Int, strategy: UncertaintyStrategy, diversity: Diversity,
                              labeledEmbeddings: [[Double]] = []) -> [Pick] {
        let scored = candidates.map { (c: $0, s: strategy.score($0.probs)) }
            .sorted { $0.s != $1.s ? $0.s > $1.s : $0.c.index < $1.c.index }
        let n = min(budget, scored.count)
        guard n > 0 else { return [] }
        switch diversity {
        case .none:
            return scored.prefix(n).map { Pick(index: $0.c.index, score: $0.s) }
        case .perSlice:
            var queues: [String: [Pick]] = [:]
            var order: [String] = []
            for x in scored {
                if queues[x.c.slice] == nil { order.append(x.c.slice) }
                queues[x.c.slice, default: []].append(Pick(index: x.c.index, score: x.s))
            }
            order.sort()
            var cursor = [String: Int](), out: [Pick] = []
            while out.count < n {
                var progressed = false
                for s in order where out.count < n {
                    let i = cursor[s, default: 0]
                    if let q = queues[s], i < q.count { out.append(q[i]); cursor[s] = i + 1; progressed = true }
                }
                if !progressed { break }
            }
            return out
        case .kcenter:
            let pool = Array(scored.prefix(min(scored.count, max(n * 10, n))))
            guard pool.allSatisfy({ $0.c.embedding != nil }) else {
                return scored.prefix(n).map { Pick(index: $0.c.index, score: $0.s) }
            }
            let points = pool.map { $0.c.embedding! }
            var nearest = [Double](repeating: .infinity, count: points.count)
            func d2(_ a: [Double], _ b: [Double]) -> Double {
                var s = 0.0
                for i in 0..<min(a.count, b.count) { let t = a[i] - b[i]; s += t * t }
                return s
            }
            for c in labeledEmbeddings { for i in points.indices { nearest[i] = min(nearest[i], d2(points[i], c)) } }
            var chosen: [Int] = [], taken = [Bool](repeating: false, count: points.count)
            while chosen.count < n {
                var best = -1, bestD = -1.0
                for i in points.indices where !taken[i] {
                    // Ties (and the first pick without labeled centers) go to the more uncertain candidate.
                    if nearest[i] > bestD { best = i; bestD = nearest[i] }
                }
                if best < 0 { break }
                taken[best] = true
                chosen.append(best)
                for i in points.indices where !taken[i] { nearest[i] = min(nearest[i], d2(points[i], points[best])) }
            }
            return chosen.map { Pick(index: pool[$0].c.index, score: pool[$0].s) }
        }
    }
}
