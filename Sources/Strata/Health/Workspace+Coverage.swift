import Foundation
import StrataCatalog
import StrataCore

/// One intent requirement (scenario, edge case or noise) measured against the data.
public struct CoverageRow: Codable, Sendable, Equatable {
    public var category: String
    public var name: String
    public var selector: String
    public var count: Int
    public var share: Double
    public var minSamples: Int?
    public var minShare: Double?
    /// Samples still needed to meet the target (0 when met).
    public var gap: Int
    public var met: Bool

    public var shortfall: String {
        var parts: [String] = []
        if let m = minSamples, count < m { parts.append("needs at least \(m) (\(m - count) more)") }
        if let s = minShare, share < s {
            parts.append(String(format: "share %.1f%% is below the required %.1f%%", share * 100, s * 100))
        }
        return parts.isEmpty ? "met" : parts.joined(separator: "; ")
    }
}

/// What a selector can see of a sample.
struct SampleFacts {
    var values: [String: String]
    var tags: [String: String]
    var fields: [String: String]
    var probe: [String: String]

    func value(_ key: String) -> String? {
        values[key] ?? tags[key] ?? fields[key] ?? probe[key]
    }
}

extension Workspace {
    /// Loads every sample's selector-visible facts: columns, tags, metadata fields, probe and majority label.
    func sampleFacts() throws -> [SampleFacts] {
        try catalog.sampleFacts().map { r in
            var values = ["source": r.source, "modality": r.modality, "format": r.format, "collected": r.collected]
            if let l = r.majorityLabel { values["label"] = l }
            var tags: [String: String] = [:], fields: [String: String] = [:], probe: [String: String] = [:]
            if case .object(let meta)? = JSONRecord.parse(Array(r.metadata.utf8)) {
                tags = Self.flatStrings(meta["tags"]); fields = Self.flatStrings(meta["fields"]); probe = Self.flatStrings(meta["probe"])
            }
            return SampleFacts(values: values, tags: tags, fields: fields, probe: probe)
        }
    }

    /// The scalar members of a JSON object as strings (for selectors).
    static func flatStrings(_ v: JSONValue?) -> [String: String] {
        guard case .object(let o)? = v else { return [:] }
        var m: [String: String] = [:]
        for (k, v) in o {
            switch v {
            case .string(let s): m[k] = s
            case .int(let i): m[k] = String(i)
            case .number(let d): m[k] = String(d)
            case .bool(let b): m[k] = String(b)
            default: break
            }
        }
        return m
    }

    /// Each requirement of the intent against the data: count, share, target and gap.
    ///
    /// `facts` are the samples to count (a version's members); by default every sample of the project, labeled by
    /// the analyses' rule (`analysisLabels()`).
    public func coverage(intent: IntentSpec) throws -> [CoverageRow] {
        try coverage(intent: intent, facts: try analysisSamples(labels: (try? analysisLabels()) ?? [:]).map(\.facts))
    }

    func coverage(intent: IntentSpec, facts: [[String: String]]) throws -> [CoverageRow] {
        let total = max(facts.count, 1)
        var rows: [CoverageRow] = []
        for item in intent.allRequirements {
            let category = item.category.rawValue
            let req = item.requirement
            let selector = req.selector.conditions
            let count = facts.filter { f in
                selector.allSatisfy { key, allowed in f[key].map(allowed.contains) ?? false }
            }.count
            let share = Double(count) / Double(total)
            var gap = 0
            if let m = req.minSamples { gap = max(gap, m - count) }
            if let s = req.minShare, share < s {
                // Adding k matching samples gives (count + k) / (total + k) >= s.
                let k = Int(((s * Double(facts.count) - Double(count)) / (1 - s)).rounded(.up))
                gap = max(gap, s >= 1 ? facts.count - count : k)
            }
            let met = (req.minSamples.map { count >= $0 } ?? true) && (req.minShare.map { share >= $0 } ?? true)
            let selectorText = selector.keys.sorted().map { k in "\(k)=\(selector[k]!.joined(separator: "|"))" }.joined(separator: ", ")
            rows.append(CoverageRow(category: category, name: req.name, selector: selectorText.isEmpty ? "(all samples)" : selectorText,
                                    count: count, share: facts.isEmpty ? 0 : share, minSamples: req.minSamples,
                                    minShare: req.minShare, gap: max(gap, 0), met: met))
        }
        return rows
    }
}
