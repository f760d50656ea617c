import StrataCatalog
import StrataCore
import StrataLabels

/// The label each sample carries in a version: the label store's consensus (majority), read once per version.
///
/// - `decided` and `adjudicated` samples take the consensus label.
/// - `pending` samples (fewer annotators than the rulebook asks, e.g. labels imported with the data) whose votes
///   all agree take that label and are counted as pending, so `version show` and the dataset card say so.
/// - `adjudicate` samples (ties, agreement below the threshold, unclear) are *unresolved*: no label.
/// - `skipped` samples have no label.
public enum VersionLabels {
    public static let method = "label-store consensus (majority; unanimous pending votes kept)"

    public struct Resolution: Sendable {
        public var labels: [String: String] = [:]
        public var unresolved: Set<String> = []
        public var pending: Set<String> = []
    }

    public static func resolve(_ ws: Workspace) throws -> Resolution {
        let report = try ws.labelStore().consensus(method: .majority)
        var r = Resolution()
        for c in report.samples {
            switch rule(c) {
            case .labeled(let l, let pending):
                r.labels[c.sample] = l
                if pending { r.pending.insert(c.sample) }
            case .unresolved: r.unresolved.insert(c.sample)
            case .none: break
            }
        }
        return r
    }

    public enum Outcome: Sendable, Equatable {
        case labeled(String, pending: Bool)
        case unresolved
        case none
    }

    /// The one label rule, shared by versions and analyses: a sample's consensus label when the consensus decides
    /// (or a reviewer adjudicated), its label when it is pending and every vote so far agrees; unresolved when it
    /// waits for adjudication; nothing otherwise (skipped, or pending with split votes).
    public static func rule(_ c: SampleConsensus) -> Outcome {
        switch c.state {
        case .decided, .adjudicated:
            return c.label.map { .labeled($0, pending: false) } ?? .none
        case .pending:
            if let l = c.label, c.votes.count == 1, c.votes[l] != nil { return .labeled(l, pending: true) }
            return .none
        case .adjudicate:
            return .unresolved
        case .skipped:
            return .none
        }
    }
}

extension VersionLabels {
    /// Pseudo labels a version takes, and the test-split samples whose pseudo label it leaves out.
    public struct PseudoResolution: Sendable {
        public var labels: [String: String] = [:]
        public var excludedFromTest: Set<String> = []
    }

    /// A pseudo label (source `pseudo`, written by `strata label pseudo` or a `label.pseudo` stage) is a sample's label
    /// only when the sample has no other label event at all (no human, import or model-import label, skip or unclear)
    /// and every model's latest pseudo event on it is a label with the same value. Samples in a test split never take
    /// one: test data stays human-labeled.
    public static func pseudoLabels(_ ws: Workspace, excluding resolution: Resolution, splits: [String: String], spec: SplitSpec) throws -> PseudoResolution {
        let current = try ws.currentPseudoLabels()
        guard !current.isEmpty else { return PseudoResolution() }
        let tests = Workspace.testSplits(spec)
        var out = PseudoResolution()
        for (sample, value) in current where resolution.labels[sample] == nil && !resolution.unresolved.contains(sample) {
            if let split = splits[sample], tests.contains(split) { out.excludedFromTest.insert(sample); continue }
            out.labels[sample] = value
        }
        return out
    }
}
