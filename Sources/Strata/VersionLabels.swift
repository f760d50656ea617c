import StrataCatalog

/// The consensus label of each sample, as a version records it.
///
/// ONE function so the labeling module's consensus can replace it: today a sample's label is the majority over
/// the latest `label` event of each (sample, annotator); a tie, or only skip/unclear events, leaves it unresolved.
public enum VersionLabels {
    public static let method = "majority-of-latest-per-annotator"

    public static func resolve(_ events: [LabelEventRow]) -> (labels: [String: String], unresolved: Set<String>) {
        // Latest event per (sample, annotator): events come ordered by id, which is the order they were added.
        var latest: [String: [String: LabelEventRow]] = [:]
        for e in events { latest[e.sampleId, default: [:]][e.annotator] = e }
        var labels: [String: String] = [:]
        var unresolved = Set<String>()
        for (sample, byAnnotator) in latest {
            var votes: [String: Int] = [:]
            for e in byAnnotator.values where e.status == "label" {
                if let v = e.value { votes[v, default: 0] += 1 }
            }
            let ranked = votes.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            guard let top = ranked.first else { unresolved.insert(sample); continue }
            if ranked.count > 1 && ranked[1].value == top.value { unresolved.insert(sample); continue }
            labels[sample] = top.key
        }
        return (labels, unresolved)
    }
}
