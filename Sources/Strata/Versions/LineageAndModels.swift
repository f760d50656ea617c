import Foundation
import StrataCatalog
import StrataCore
import StrataStore

public struct ModelInfo: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    public var versionId: String
    public var metrics: JSONValue?
    public var predictions: String?
    public var codeRev: String?
    public var registered: String
}

public struct ModelLineage: Codable, Sendable {
    public var model: ModelInfo
    public var version: VersionInfo
    /// The version's ancestors, nearest first.
    public var ancestors: [String]
    /// The predictions imported under the model's name (`strata predictions import --model NAME`), if any.
    public var predictions: ModelPredictionUse?
}

/// Where a registered model's imported predictions fall in the version it was trained on.
public struct ModelPredictionUse: Codable, Sendable, Equatable {
    public var count: Int
    public var importedAt: String
    /// Predictions per split of the training version.
    public var bySplit: [String: Int]
    /// Predictions on samples that are not in the training version (new data).
    public var outsideVersion: Int
    /// Predictions on the samples the model was trained on: error analysis on them overstates the model.
    public var onTrainingSamples: Int { bySplit["train"] ?? 0 }
}

public struct SampleLineage: Codable, Sendable {
    public struct Use: Codable, Sendable {
        public var version: String
        public var versionId: String
        public var state: VersionState
        public var label: String?
        public var split: String
        public var content: String
        public var transforms: JSONValue
        public var models: [String]
    }
    public var id: String
    public var shortId: String
    public var source: String
    public var origin: String
    public var raw: String
    public var versions: [Use]
    /// Every model trained on a version that contains the sample.
    public var models: [String]
}

public struct VersionLineage: Codable, Sendable {
    public var version: VersionInfo
    public var ancestors: [String]
    public var children: [String]
    public var models: [ModelInfo]
}

extension Workspace {
    /// Records a trained model against a version. The version must be active: a model must point at data that can
    /// never change. Metrics (a JSON object) and predictions (any file) are stored in the object store.
    public func registerModel(name: String, version ref: String, metricsFile: String?, predictionsFile: String?,
                              codeRev: String?) throws -> ModelInfo {
        let lock = try lock("models register")
        defer { withExtendedLifetime(lock) {} }
        guard !name.isEmpty, name.utf8.count <= 128, !name.contains(where: { $0.isWhitespace || $0 == "/" }) else {
            throw StrataError.usage("invalid model name `\(name)`", fix: "use a name without spaces or `/`, e.g. intent-clf-2026-11")
        }
        if try catalog.model(named: name) != nil {
            throw StrataError.usage("a model named `\(name)` is already registered; model records never change",
                                    fix: "register the new model under another name (e.g. `\(name)-2`)")
        }
        let v = try version(ref)
        guard v.state == .active else {
            throw StrataError.usage("version \(v.name) is \(v.state); models are registered against active versions only",
                                    fix: v.state == .draft ? "promote it first: `strata version promote \(v.name)` (an active version can never change)"
                                        : "register against the active version the model was trained on")
        }
        var objects: [(digest: String, kind: String)] = []
        var metrics: String? = nil
        var metricsObject: String? = nil
        if let metricsFile {
            let bytes = try readUserFile(metricsFile, what: "metrics")
            guard case .success(let obj) = JSONRecord.parseObject(bytes) else {
                throw StrataError.usage("\(metricsFile): not a JSON object", fix: "write the metrics as one JSON object, e.g. {\"accuracy\": 0.93, \"f1\": 0.9}")
            }
            metrics = JSONValue.object(obj).canonicalJSON
            metricsObject = try self.objects.put(bytes)
            objects.append((metricsObject!, "metrics"))
        }
        var predictions: String? = nil
        if let predictionsFile {
            let bytes = try readUserFile(predictionsFile, what: "predictions")
            predictions = try self.objects.put(bytes)
            objects.append((predictions!, "predictions"))
        }
        let row = ModelRow(name: name, versionId: v.id, metrics: metrics, metricsObject: metricsObject, predictionsObject: predictions,
                           codeRev: codeRev, createdAt: Workspace.now())
        try catalog.insertModel(row, objects: objects)
        return try modelInfo(row)
    }

    func readUserFile(_ path: String, what: String) throws -> [UInt8] {
        do { return try FileIO.readAll(path) } catch {
            throw StrataError.usage("cannot read the \(what) file \(path): \(error)", fix: "check the path")
        }
    }

    func modelInfo(_ m: ModelRow) throws -> ModelInfo {
        let v = try catalog.versionsMatching(m.versionId).first
        let metrics = m.metrics.flatMap { try? JSONRecord.parseValue($0).get() }
        return ModelInfo(name: m.name, version: v?.name ?? m.versionId, versionId: m.versionId, metrics: metrics,
                         predictions: m.predictionsObject, codeRev: m.codeRev, registered: m.createdAt)
    }

    public func models() throws -> [ModelInfo] {
        try catalog.models().map { try modelInfo($0) }
    }

    func ancestors(of v: VersionRow) throws -> [String] {
        var out: [String] = []
        var cur = v.parentId
        while let id = cur, let p = try catalog.versionsMatching(id).first, !out.contains(p.name) {
            out.append(p.name)
            cur = p.parentId
        }
        return out
    }

    public func lineage(model name: String) throws -> ModelLineage {
        guard let m = try catalog.model(named: name) else {
            let names = try catalog.models().map(\.name)
            throw StrataError.usage("no model `\(name)`", fix: names.isEmpty ? "register one with `strata models register NAME --version V`"
                                    : "registered models: \(names.joined(separator: ", "))")
        }
        let v = try version(m.versionId)
        var use: ModelPredictionUse? = nil
        if let set = try catalog.predictionSets().first(where: { $0.model == name }) {
            let bySplit = try catalog.predictionSplits(model: name, versionId: v.id)
            use = ModelPredictionUse(count: set.count, importedAt: set.importedAt, bySplit: bySplit,
                                     outsideVersion: set.count - bySplit.values.reduce(0, +))
        }
        return ModelLineage(model: try modelInfo(m), version: try info(v), ancestors: try ancestors(of: v), predictions: use)
    }

    public func lineage(sample ref: String) throws -> SampleLineage {
        let found = try catalog.samplesMatching(ref)
        guard found.count == 1, let s = found.first else {
            throw StrataError.usage(found.isEmpty ? "no sample `\(ref)`" : "`\(ref)` matches more than one sample",
                                    fix: found.isEmpty ? "give a sample id or short id (see `strata findings` or an export's `id` column)" : "give more characters")
        }
        var uses: [SampleLineage.Use] = []
        var allModels: [String] = []
        for (v, m) in try catalog.versionsContaining(sampleId: s.id) {
            let models = try catalog.models(versionId: v.id).map(\.name)
            allModels.append(contentsOf: models)
            uses.append(.init(version: v.name, versionId: v.id, state: v.state, label: m.label, split: m.split, content: m.contentSha,
                              transforms: (try? JSONRecord.parseValue(m.transforms).get()) ?? .array([]), models: models))
        }
        return SampleLineage(id: s.id, shortId: s.shortId, source: s.source, origin: Workspace.origin(s),
                             raw: s.rawPath + (s.rawLine.map { ":\($0)" } ?? ""), versions: uses, models: allModels)
    }

    public func lineage(version ref: String) throws -> VersionLineage {
        let v = try version(ref)
        let children = try catalog.versions().filter { $0.parentId == v.id }.map(\.name)
        return VersionLineage(version: try info(v), ancestors: try ancestors(of: v), children: children,
                              models: try catalog.models(versionId: v.id).map { try modelInfo($0) })
    }
}
