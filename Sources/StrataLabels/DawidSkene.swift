import Foundation

/// Dawid & Skene (1979): estimates each annotator's confusion matrix and the items' true-label probabilities by EM.
///
/// Start: each item's class probabilities are its vote shares (majority voting, soft). M-step: class priors and
/// per-annotator confusion matrices from the current probabilities (with a small additive smoothing so that an
/// answer never seen for a class is unlikely, not impossible). E-step: each item's class probabilities from the
/// priors and the confusion rows of the answers it received. Stops when no probability moves by more than
/// `tolerance`, or after `maxIterations`. Deterministic: no random initialization.
public enum DawidSkene {
    public struct Result: Sendable, Equatable {
        /// Item -> vote key -> probability.
        public var posteriors: [String: [String: Double]]
        /// Annotator -> estimated probability of answering correctly (sum over classes of prior x diagonal).
        public var accuracy: [String: Double]
        /// Class (vote key) -> estimated prior.
        public var priors: [String: Double]
        public var iterations: Int
    }

    /// Annotators none of whose items was answered by anyone else. Their answers give the model nothing to estimate
    /// a confusion matrix from: with no other answer to compare, EM can only explain them through the class priors,
    /// and a row of the matrix for a class the annotator never answered stays uniform, so an unopposed vote drifts
    /// to the majority class. `Consensus` leaves them out of the fit and takes their votes as they are.
    public static func isolatedAnnotators(votes: [(item: String, annotator: String, vote: Vote)]) -> Set<String> {
        var annotatorsOf: [String: Set<String>] = [:]
        for v in votes { annotatorsOf[v.item, default: []].insert(v.annotator) }
        var shared = Set<String>()
        for set in annotatorsOf.values where set.count > 1 { shared.formUnion(set) }
        return Set(votes.map(\.annotator)).subtracting(shared)
    }

    public static func fit(votes: [(item: String, annotator: String, vote: Vote)], maxIterations: Int = 1000,
                           tolerance: Double = 1e-6, smoothing: Double = 0.01) -> Result {
        let items = Array(Set(votes.map(\.item))).sorted()
        let annotators = Array(Set(votes.map(\.annotator))).sorted()
        let classes = Array(Set(votes.map(\.vote.key))).sorted()
        let I = items.count, J = annotators.count, K = classes.count
        if I == 0 || K == 0 { return Result(posteriors: [:], accuracy: [:], priors: [:], iterations: 0) }
        let ii = Dictionary(uniqueKeysWithValues: items.enumerated().map { ($1, $0) })
        let ai = Dictionary(uniqueKeysWithValues: annotators.enumerated().map { ($1, $0) })
        let ci = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        // One answer per (item, annotator): the last one given.
        var answerOf: [[Int: Int]] = Array(repeating: [:], count: I)
        for v in votes { answerOf[ii[v.item]!][ai[v.annotator]!] = ci[v.vote.key]! }
        let answers: [[(j: Int, l: Int)]] = answerOf.map { $0.map { (j: $0.key, l: $0.value) }.sorted { $0.j < $1.j } }

        var T = [[Double]](repeating: [Double](repeating: 0, count: K), count: I)
        for i in 0..<I {
            for a in answers[i] { T[i][a.l] += 1 }
            let s = T[i].reduce(0, +)
            for k in 0..<K { T[i][k] /= s }
        }
        var prior = [Double](repeating: 1 / Double(K), count: K)
        var pi = [[[Double]]](repeating: [[Double]](repeating: [Double](repeating: 0, count: K), count: K), count: J)
        var iterations = 0
        while iterations < maxIterations {
            iterations += 1
            // M-step.
            for k in 0..<K {
                var s = 0.0
                for i in 0..<I { s += T[i][k] }
                prior[k] = (s + smoothing) / (Double(I) + Double(K) * smoothing)
            }
            for j in 0..<J { for k in 0..<K { for l in 0..<K { pi[j][k][l] = smoothing } } }
            for i in 0..<I { for a in answers[i] { for k in 0..<K { pi[a.j][k][a.l] += T[i][k] } } }
            for j in 0..<J {
                for k in 0..<K {
                    let s = pi[j][k].reduce(0, +)
                    for l in 0..<K { pi[j][k][l] /= s }
                }
            }
            // E-step.
            var delta = 0.0
            for i in 0..<I {
                var logp = (0..<K).map { log(prior[$0]) }
                for a in answers[i] { for k in 0..<K { logp[k] += log(pi[a.j][k][a.l]) } }
                let m = logp.max()!
                var s = 0.0
                for k in 0..<K { logp[k] = exp(logp[k] - m); s += logp[k] }
                for k in 0..<K {
                    let p = logp[k] / s
                    delta = max(delta, abs(p - T[i][k]))
                    T[i][k] = p
                }
            }
            if delta < tolerance { break }
        }
        var posteriors: [String: [String: Double]] = [:]
        for i in 0..<I {
            var p: [String: Double] = [:]
            for k in 0..<K { p[classes[k]] = T[i][k] }
            posteriors[items[i]] = p
        }
        var accuracy: [String: Double] = [:]
        for j in 0..<J {
            var acc = 0.0
            for k in 0..<K { acc += prior[k] * pi[j][k][k] }
            accuracy[annotators[j]] = acc
        }
        var priors: [String: Double] = [:]
        for k in 0..<K { priors[classes[k]] = prior[k] }
        return Result(posteriors: posteriors, accuracy: accuracy, priors: priors, iterations: iterations)
    }
}
