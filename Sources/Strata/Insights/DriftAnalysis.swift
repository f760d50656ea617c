import Foundation
import StrataAnalysis
import StrataCatalog
import StrataCore
import StrataStore

public struct DriftReport: Codable, Sendable {
    public var reference: String
    public var current: String
    public var referenceCount: Int
    public var currentCount: Int
    public var fields: [FieldDrift]
}

/// Which samples drift compares, pure: the two sides, their names and the findings' stage.
enum DriftPlanner {
    struct Sides: Equatable {
        var reference: [AnalysisSample]
        var current: [AnalysisSample]
        var referenceName: String
        var currentName: String
        var stage: String
    }

    /// Samples matching `selector` (every sample without one).
    static func filter(_ samples: [AnalysisSample], _ selector: SpecSelector?) -> [AnalysisSample] {
        samples.filter { s in selector.map { $0.matches(s.facts) } ?? true }
    }

    /// `from` against `to` (two versions), or `from` against every live sample added since (not in it).
    static func betweenVersions(from a: AnalysisScope, to b: AnalysisScope?, live: AnalysisScope?, reference: String?, current: String?,
                                r: SpecSelector?, c: SpecSelector?) throws -> Sides {
        let fromName = a.version!.name
        let ref = filter(a.samples, r)
        let refName = "version \(fromName)" + (reference.map { " (\($0))" } ?? "")
        if let b {
            return Sides(reference: ref, current: filter(b.samples, c), referenceName: refName,
                         currentName: "version \(b.version!.name)" + (current.map { " (\($0))" } ?? ""),
                         stage: "analyze.drift@\(fromName)..\(b.version!.name)")
        }
        let inVersion = Set(a.samples.map(\.id))
        let cur = filter((live?.samples ?? []).filter { !inVersion.contains($0.id) }, c)
        guard !cur.isEmpty else {
            throw StrataError.usage("every sample of the project is in version \(fromName): there is no new batch to compare with it",
                                    fix: "ingest the new batch first, or compare two versions: `strata analyze drift --from \(fromName) --to V2`")
        }
        return Sides(reference: ref, current: cur, referenceName: refName,
                     currentName: "samples added since version \(fromName)" + (current.map { " (\($0))" } ?? ""), stage: "analyze.drift@\(fromName)..now")
    }

    /// Within one scope: the latest ingest against earlier samples of the same modalities, or the selectors' sides
    /// (one selector alone: its samples against every other sample).
    static func withinScope(_ scope: AnalysisScope, ingestOrder: [String], reference: String?, current: String?,
                            r: SpecSelector?, c: SpecSelector?) throws -> Sides {
        let samples = scope.samples
        let stage = scope.stage("analyze.drift")
        let within = scope.version.map { " of version \($0.name)" } ?? ""
        guard r != nil || c != nil else {
            let withSamples = ingestOrder.filter { id in samples.contains { $0.ingestId == id } }
            guard withSamples.count >= 2, let last = withSamples.last else {
                throw StrataError.usage("drift needs two sets of samples, and \(scope.name) has only one ingest with samples",
                                        fix: "name them: `strata analyze drift --reference source=a --current source=b` (any field=value selectors), or compare two versions with `--from V1 --to V2`")
            }
            let cur = samples.filter { $0.ingestId == last }
            // A batch is compared with earlier data of its own modalities (text with text, images with images).
            let modalities = Set(cur.compactMap(\.modality))
            let ref = samples.filter { s in s.ingestId != last && s.modality.map(modalities.contains) == true }
            guard !ref.isEmpty else {
                throw StrataError.usage("the latest ingest (\(last)) is the first with \(modalities.map(\.rawValue).sorted().joined(separator: ", ")) samples, so there is nothing earlier to compare it with",
                                        fix: "name both sides: `strata analyze drift --reference source=a --current source=b`")
            }
            return Sides(reference: ref, current: cur, referenceName: "earlier samples of the same modality\(within)",
                         currentName: "samples of the latest ingest (\(last))\(within)", stage: stage)
        }
        return Sides(reference: samples.filter { s in r.map { $0.matches(s.facts) } ?? !(c!.matches(s.facts)) },
                     current: samples.filter { s in c.map { $0.matches(s.facts) } ?? !(r!.matches(s.facts)) },
                     referenceName: (reference ?? "every sample not matching \(current!)") + within,
                     currentName: (current ?? "every sample not matching \(reference!)") + within, stage: stage)
    }

    /// The drift of every categorical and numeric fact, size and label between the sides (text and embeddings are
    /// added by the service, which reads them).
    static func factFields(reference ref: [AnalysisSample], current cur: [AnalysisSample]) -> [FieldDrift] {
        var fields: [FieldDrift] = []
        var keys = Set<String>()
        for s in ref + cur { keys.formUnion(s.facts.keys) }
        for key in keys.sorted() where !["collected", "label"].contains(key) {
            let rv = ref.compactMap { $0.facts[key] }, cv = cur.compactMap { $0.facts[key] }
            guard rv.count + cv.count > 0 else { continue }
            let rn = rv.compactMap(Double.init), cn = cv.compactMap(Double.init)
            if rn.count == rv.count, cn.count == cv.count, !rn.isEmpty, !cn.isEmpty {
                fields.append(Drift.numeric(key, reference: rn, current: cn))
            } else if Set(rv + cv).count <= 50 {
                fields.append(Drift.categorical(key, reference: rv.isEmpty ? [] : rv + Array(repeating: "(missing)", count: ref.count - rv.count),
                                                current: cv + Array(repeating: "(missing)", count: cur.count - cv.count)))
            }
        }
        fields.append(Drift.numeric("size", reference: ref.map { Double($0.size) }, current: cur.map { Double($0.size) }))
        let rl = ref.compactMap { $0.facts["label"] }, cl = cur.compactMap { $0.facts["label"] }
        if !rl.isEmpty && !cl.isEmpty { fields.append(Drift.categorical("label", kind: "label", reference: rl, current: cl)) }
        return fields
    }

    /// One `drift` finding per drifted field.
    static func findings(_ fields: [FieldDrift], sides: Sides, at time: String) -> [FindingRow] {
        fields.filter(\.drifted).map { f in
            AnalysisFindings.row(.drift, stage: sides.stage, sample: nil,
                                 reason: String(format: "%@ `%@` drifted (%@ %.3f%@): %@", f.kind, f.field, f.pValue == nil ? "statistic" : "KS D", f.statistic,
                                                f.pValue.map { String(format: ", p=%.2g", $0) } ?? "", f.detail) + " [\(sides.referenceName) -> \(sides.currentName)]",
                                 key: AnalysisFindings.key(sides.stage, f.field), at: time)
        }
    }
}

/// `strata analyze drift`: reads the scopes, the record texts and the embeddings; replaces the drift findings.
struct DriftService {
    let workspace: Workspace

    func run(reference: String?, current: String?, model: String?, version: String?, from: String?, to: String?) throws -> DriftReport {
        let r = try reference.map { try AnalysisSlices.parseSelector($0, option: "--reference") }
        let c = try current.map { try AnalysisSlices.parseSelector($0, option: "--current") }
        let sides: DriftPlanner.Sides
        if from != nil || to != nil {
            guard version == nil else {
                throw StrataError.usage("--version cannot be combined with --from/--to", fix: "compare two versions with `--from V1 --to V2`, or selectors within one version with `--version V --reference ... --current ...`")
            }
            guard let from else { throw StrataError.usage("--to \(to!) needs --from", fix: "give the earlier version: `strata analyze drift --from V1 --to \(to!)`") }
            let a = try workspace.analysisScope(version: from)
            let b = try to.map { try workspace.analysisScope(version: $0) }
            let live = b == nil ? try workspace.analysisScope(version: nil) : nil
            sides = try DriftPlanner.betweenVersions(from: a, to: b, live: live, reference: reference, current: current, r: r, c: c)
        } else {
            let scope = try workspace.analysisScope(version: version)
            let order = r == nil && c == nil ? try workspace.catalog.ingestOrder() : []
            sides = try DriftPlanner.withinScope(scope, ingestOrder: order, reference: reference, current: current, r: r, c: c)
        }
        guard !sides.reference.isEmpty, !sides.current.isEmpty else {
            throw StrataError.usage("drift needs samples on both sides: reference \(sides.reference.count), current \(sides.current.count)", fix: "check the selectors against `strata findings`/`strata check` field names")
        }
        let fields = try self.fields(reference: sides.reference, current: sides.current, model: model)
        try workspace.storeAnalysisFindings(DriftPlanner.findings(fields, sides: sides, at: Workspace.now()), stage: sides.stage, command: "analyze drift")
        return DriftReport(reference: sides.referenceName, current: sides.currentName, referenceCount: sides.reference.count,
                           currentCount: sides.current.count, fields: fields)
    }

    /// The drift of every field between two sets of samples (each carrying its own label in `facts["label"]`), with
    /// text statistics of record samples and the model's embeddings when it has them.
    func fields(reference ref: [AnalysisSample], current cur: [AnalysisSample], model: String?) throws -> [FieldDrift] {
        var fields = DriftPlanner.factFields(reference: ref, current: cur)
        func texts(_ list: [AnalysisSample]) -> [String] {
            list.prefix(20_000).compactMap { s in
                guard s.kind == "record" else { return nil }
                // A version's text is the content it froze (cleaned when the pipeline changed it), else the raw record.
                let bytes = s.contentSha.flatMap { try? workspace.objects.get($0) } ?? (try? workspace.objects.get(s.id))
                return bytes.map { String(decoding: $0, as: UTF8.self) }
            }
        }
        let rt = texts(ref), ct = texts(cur)
        if !rt.isEmpty && !ct.isEmpty {
            let a = Drift.textStatistics(rt), b = Drift.textStatistics(ct)
            fields.append(Drift.numeric("text characters", kind: Modality.text.rawValue, reference: a.chars, current: b.chars))
            fields.append(Drift.numeric("text words", kind: Modality.text.rawValue, reference: a.words, current: b.words))
        }
        if let preds = try? workspace.modelPredictions(model), preds.embeddingDim != nil {
            var emb: [String: [Double]] = [:]
            for r in preds.rows { if let e = r.embedding { emb[r.sampleId] = e.map(Double.init) } }
            let re = ref.compactMap { emb[$0.id] }, ce = cur.compactMap { emb[$0.id] }
            if let d = Drift.embedding(reference: re, current: ce) { fields.append(d) }
        }
        return fields
    }
}

extension Workspace {
    /// `strata analyze drift`: compares a reference set with a current one: PSI for categorical fields,
    /// Kolmogorov-Smirnov for numeric ones, the label distribution, text length, and embeddings when the model has
    /// them. The sides:
    /// - default: everything before the latest ingest against the latest ingest (of the same modalities);
    /// - `reference`/`current` selectors (field=value), within the project or within `version`;
    /// - `from` and `to`: two dataset versions, each with its own members and frozen labels (selectors narrow
    ///   each side); `from` alone: the version against every sample added since (not in it).
    public func analyzeDrift(reference: String?, current: String?, model: String?, version: String? = nil,
                             from: String? = nil, to: String? = nil) throws -> DriftReport {
        try DriftService(workspace: self).run(reference: reference, current: current, model: model, version: version, from: from, to: to)
    }
}
