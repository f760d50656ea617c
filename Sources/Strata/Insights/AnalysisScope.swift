import Foundation
import StrataAnalysis
import StrataCatalog
import StrataCore

// What every analysis reads: the labels (one rule), the samples with their selector-visible facts, and the scope
// (the live project or one dataset version). The reading is I/O; the slicing and the finding rows are pure.

/// A sample's label for the analyses: the consensus of its annotators.
public struct AnalysisLabel: Sendable, Equatable {
    public var label: String
    /// Annotators whose latest event labels the sample.
    public var annotators: Int
    /// How many of them gave `label`.
    public var agreeing: Int
}

/// A sample as the analyses see it.
struct AnalysisSample: Sendable, Equatable {
    var id: String
    var shortId: String
    var kind: String
    var ingestId: String
    var origin: String
    var line: Int?
    var size: Int
    var collected: String
    /// Selector-visible values: tags, fields, probe, then source/modality/format/collected/label (and a version's
    /// split) over them.
    var facts: [String: String]
    /// In a version: the exact content exported (cleaned or raw).
    var contentSha: String? = nil

    /// The sample's modality (nil when its facts carry none the project knows).
    var modality: Modality? { facts["modality"].flatMap(Modality.init(rawValue:)) }
}

/// What an analysis looks at: the live project (every sample, the labels rule applied to the label store now), or a
/// dataset version (exactly its members, each with the label frozen in it, and its split as a field).
struct AnalysisScope {
    var version: VersionRow?
    /// Ground truth per sample id.
    var labels: [String: AnalysisLabel]
    /// Agreement figures per sample id (label votes from the label store, for the scope's samples).
    var votes: [String: AnalysisLabel]
    var samples: [AnalysisSample]
    /// Findings of a versioned analysis go to their own stage (`analyze.errors@v1`), so they never replace the live
    /// project's.
    func stage(_ base: String) -> String { version.map { "\(base)@\($0.name)" } ?? base }
    var name: String { version.map { "version \($0.name)" } ?? "the project" }
}

/// Slices of samples, pure.
enum AnalysisSlices {
    /// Slices over `members` (indices into `samples`): the intent's requirements, then source, month, and each tag or
    /// field with 2 to 20 distinct values.
    static func slices(_ samples: [AnalysisSample], members: [Int], intent: IntentSpec?) -> [Slice] {
        var out: [Slice] = []
        for item in intent?.allRequirements ?? [] {
            let m = members.filter { item.requirement.selector.matches(samples[$0].facts) }
            out.append(Slice(kind: item.category.rawValue, name: item.requirement.name, members: m))
        }
        var byKey: [String: [String: [Int]]] = [:]
        for i in members {
            for (k, v) in samples[i].facts where !["collected", "modality", "format", "label"].contains(k) {
                byKey[k, default: [:]][v, default: []].append(i)
            }
            byKey["month", default: [:]][String(samples[i].collected.prefix(7)), default: []].append(i)
        }
        for key in byKey.keys.sorted() {
            let values = byKey[key]!
            guard values.count >= 2 && values.count <= 20 || (key == "source" && !values.isEmpty) else { continue }
            for v in values.keys.sorted() { out.append(Slice(kind: key, name: v, members: values[v]!)) }
        }
        return out
    }

    /// The intent requirement a slice stands for (nil for source, tag and field slices).
    static func requirement(_ intent: IntentSpec?, kind: String, name: String) -> IntentSpec.Requirement? {
        intent?.allRequirements.first { $0.category.rawValue == kind && $0.requirement.name == name }?.requirement
    }

    /// Whole days from the date at the start of `isoDate` (`yyyy-MM-dd...`, UTC) to `today`; nil when it is no date.
    static func ageDays(_ isoDate: String, today: Date) -> Int? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        guard let d = f.date(from: String(isoDate.prefix(10))) else { return nil }
        return Int(today.timeIntervalSince(d) / 86400)
    }

    /// Parses `key=value[,key=value]` (values may be `a|b`) into a selector.
    static func parseSelector(_ text: String, option: String) throws -> SpecSelector {
        var conditions: [String: [String]] = [:]
        for part in text.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, !kv[0].isEmpty, !kv[1].isEmpty else {
                throw StrataError.usage("\(option) `\(text)`: `\(part)` is not `field=value`", fix: "write it like `source=field-app` or `collected=2026-03-01|2026-03-02`")
            }
            conditions[kv[0]] = kv[1].split(separator: "|").map(String.init)
        }
        return SpecSelector(conditions)
    }
}

/// Finding rows of the analyses, pure: the key is a short hash of the stage and what the finding is about, so a
/// rerun replaces the same finding instead of adding one.
enum AnalysisFindings {
    static func key(_ parts: String...) -> String { Workspace.shortHash(parts.joined(separator: "\u{1F}")) }

    static func row(_ kind: FindingKind, stage: String, sample: AnalysisSample?, reason: String, detail: String = "{}", key: String,
                    at time: String) -> FindingRow {
        FindingRow(key: key, kind: kind.rawValue, stage: stage, sampleId: sample?.id, origin: sample?.origin, line: sample?.line,
                   relatedSampleId: nil, relatedOrigin: nil, relatedLine: nil, reason: reason, detail: detail, runId: nil, createdAt: time)
    }
}

extension Workspace {
    // MARK: the one place labels are read

    /// The labels the analyses use, by the same rule as dataset versions (`VersionLabels.rule`): the consensus
    /// label of decided and adjudicated samples, and of pending samples whose votes all agree (labels imported with
    /// the data, a second annotator still to come). A sample waiting for a reviewer (a tie, agreement below the
    /// threshold) or with split pending votes has no label: analyses do not score a model against a coin flip.
    /// `annotators` and `agreeing` count label votes only (skip and unclear are not labels).
    ///
    /// - important: This is the single place analyses read live labels; every analysis follows it, and
    ///   `--version V` reads the same rule's result frozen in the version.
    public func analysisLabels() throws -> [String: AnalysisLabel] {
        try analysisLabelSet().labels
    }

    /// Ground-truth labels (the rule above) and, for agreement figures, every sample with label votes (its
    /// resolved label, else its most voted one).
    func analysisLabelSet() throws -> (labels: [String: AnalysisLabel], votes: [String: AnalysisLabel], counts: [String: [String: Int]]) {
        var labels: [String: AnalysisLabel] = [:], votes: [String: AnalysisLabel] = [:], counts: [String: [String: Int]] = [:]
        for s in try labelStore().consensus().samples {
            let labelVotes = s.votes.filter { !($0.key.hasPrefix("(") && $0.key.hasSuffix(")")) }
            let annotators = labelVotes.values.reduce(0, +)
            if !labelVotes.isEmpty { counts[s.sample] = labelVotes }
            let top = labelVotes.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.first?.key
            if case .labeled(let l, _) = VersionLabels.rule(s) {
                labels[s.sample] = AnalysisLabel(label: l, annotators: annotators, agreeing: labelVotes[l] ?? 0)
            }
            if let l = labels[s.sample]?.label ?? top {
                votes[s.sample] = AnalysisLabel(label: l, annotators: annotators, agreeing: labelVotes[l] ?? 0)
            }
        }
        return (labels, votes, counts)
    }

    func analysisScope(version ref: String?) throws -> AnalysisScope {
        let set = try analysisLabelSet()
        guard let ref else {
            return AnalysisScope(version: nil, labels: set.labels, votes: set.votes, samples: try analysisSamples(labels: set.labels))
        }
        let v = try version(ref)
        var members: [String: VersionMemberRow] = [:]
        for m in try catalog.versionMembers(v.id) { members[m.sampleId] = m }
        var labels: [String: AnalysisLabel] = [:], votes: [String: AnalysisLabel] = [:]
        for (id, m) in members {
            let counts = set.counts[id] ?? [:]
            let annotators = counts.values.reduce(0, +)
            if let l = m.label, !l.isEmpty {
                // The version's label; agreement counts the label votes of the label store for that label.
                let label = AnalysisLabel(label: l, annotators: annotators, agreeing: counts[l] ?? 0)
                labels[id] = label
                votes[id] = label
            } else if let live = set.votes[id] {
                votes[id] = live
            }
        }
        return AnalysisScope(version: v, labels: labels, votes: votes, samples: try analysisSamples(labels: labels, members: members))
    }

    func analysisSamples(labels: [String: AnalysisLabel], members: [String: VersionMemberRow]? = nil) throws -> [AnalysisSample] {
        let origins = try catalog.sampleOrigins()
        return try catalog.sampleFacts().compactMap { r in
            guard let o = origins[r.id] else { return nil }
            let member = members?[r.id]
            if members != nil && member == nil { return nil }
            var facts: [String: String] = [:]
            if case .object(let meta)? = JSONRecord.parse(Array(r.metadata.utf8)) {
                for key in ["probe", "fields", "tags"] { facts.merge(Self.flatStrings(meta[key])) { $1 } }
            }
            facts["source"] = r.source; facts["modality"] = r.modality; facts["format"] = r.format; facts["collected"] = r.collected
            if let member { facts["split"] = member.split }
            if let l = labels[r.id] { facts["label"] = l.label } else { facts.removeValue(forKey: "label") }
            return AnalysisSample(id: r.id, shortId: o.shortId, kind: o.kind, ingestId: o.ingestId, origin: o.originPath, line: o.originLine,
                                  size: o.size, collected: r.collected, facts: facts, contentSha: member?.contentSha)
        }.sorted { $0.id < $1.id }
    }

    /// Replaces the findings of `stage` (and `model`, when given) under the project lock.
    func storeAnalysisFindings(_ findings: [FindingRow], stage: String, model: String? = nil, command: String) throws {
        let lock = try self.lock(command)
        defer { withExtendedLifetime(lock) {} }
        if let model { try catalog.replaceFindings(stage: stage, model: model, with: findings) }
        else { try catalog.replaceFindings(stage: stage, with: findings) }
    }
}
