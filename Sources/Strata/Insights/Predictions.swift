import Foundation
import StrataCatalog
import StrataCore
import StrataStore

/// What `strata predictions import` did.
public struct PredictionImportSummary: Codable, Sendable, Equatable {
    public var model: String
    public var file: String
    public var predictions: Int
    public var classes: [String]
    public var withProbabilities: Bool
    public var embeddingDim: Int?
    /// Predictions that replaced an earlier import of the same model.
    public var replaced: Int
}

/// A model's predictions as the analyses use them.
struct ModelPredictions {
    var model: String
    var classes: [String]
    var hasProbs: Bool
    var embeddingDim: Int?
    var rows: [PredictionRow]
}

extension Workspace {
    /// Imports model outputs from JSONL: one line per sample with `id` (the sample's id, short id or external id)
    /// and `probs` (an object class -> probability, or an array in the order of a `classes` field) and/or `label`,
    /// plus an optional `embedding`. Every line is checked first; nothing is stored unless the whole file is valid.
    /// A second import of the same model replaces its predictions.
    public func importPredictions(file: String, model: String) throws -> PredictionImportSummary {
        if model.isEmpty || model.utf8.count > 128 || model.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 }) {
            throw StrataError.usage("`\(model)` is not a usable model name", fix: "use a short name without spaces, such as `resnet-v2`")
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw StrataError.usage("cannot read \(file)", fix: "check the path of the predictions file")
        }
        let index = PredictionFileParser.SampleIndex(try catalog.sampleKeys().map {
            .init(id: $0.id, shortId: $0.shortId, externalId: $0.externalId, ofDuplicateRow: $0.ofDuplicateRow)
        })
        let parsed = PredictionFileParser.parse(Array(data), name: (file as NSString).lastPathComponent, samples: index)
        if !parsed.problems.isEmpty {
            throw StrataError.usage("\(file): \(parsed.problems.count == 1 ? "1 problem" : "\(parsed.problems.count) problems"); nothing was imported\n  " + parsed.problems.joined(separator: "\n  "),
                                    fix: "fix these lines and import the file again")
        }
        let lock = try self.lock("predictions import")
        defer { withExtendedLifetime(lock) {} }
        let replaced = try catalog.predictions(model: model).count
        try catalog.replacePredictions(model: model, classes: parsed.classes, hasProbs: parsed.hasProbs, embeddingDim: parsed.embeddingDim,
                                       sourceFile: Walker.absolute(file), rows: parsed.rows, at: Workspace.now())
        return PredictionImportSummary(model: model, file: file, predictions: parsed.rows.count, classes: parsed.classes, withProbabilities: parsed.hasProbs,
                                       embeddingDim: parsed.embeddingDim, replaced: replaced)
    }

    /// The predictions of `model`, or of the only (or latest) imported model when nil.
    func modelPredictions(_ model: String?) throws -> ModelPredictions {
        let sets = try catalog.predictionSets()
        guard !sets.isEmpty else {
            throw StrataError.project("no model predictions yet", fix: "import them with `strata predictions import FILE --model NAME`")
        }
        let set: PredictionSetRow
        if let model {
            guard let s = sets.first(where: { $0.model == model }) else {
                throw StrataError.usage("no predictions for model `\(model)`", fix: "models with predictions: \(sets.map(\.model).joined(separator: ", "))")
            }
            set = s
        } else {
            set = sets.last!
        }
        let classes = (try? JSONDecoder().decode([String].self, from: Data(set.classes.utf8))) ?? []
        return ModelPredictions(model: set.model, classes: classes, hasProbs: set.hasProbs, embeddingDim: set.embeddingDim,
                                rows: try catalog.predictions(model: set.model))
    }
}

extension Workspace {
    /// Models with imported predictions, oldest import first.
    public func predictionModels() throws -> [PredictionModelView] {
        let registered = Dictionary(try catalog.models().map { ($0.name, $0.versionId) }, uniquingKeysWith: { a, _ in a })
        return try catalog.predictionSets().map {
            let version = try registered[$0.model].flatMap { try catalog.versionsMatching($0).first?.name }
            return PredictionModelView(model: $0.model, count: $0.count, hasProbs: $0.hasProbs, embeddingDim: $0.embeddingDim,
                                       sourceFile: $0.sourceFile, importedAt: $0.importedAt, trainedOn: version)
        }
    }
}

/// A model with imported predictions.
public struct PredictionModelView: Codable, Sendable, Equatable {
    public var model: String
    public var count: Int
    public var hasProbs: Bool
    public var embeddingDim: Int?
    public var sourceFile: String
    public var importedAt: String
    /// The version the model was trained on when a model of this name is registered (`strata models register`).
    public var trainedOn: String?
}

/// Reads a predictions file (JSONL) against the project's sample keys, pure: every line is checked, and either all
/// rows come back or the problems (at most 20 shown, each naming its line) do.
enum PredictionFileParser {
    /// Tolerance on a probability vector's sum.
    static let probabilitySumTolerance = 1e-3

    /// A sample's keys a predictions line may use as `id`.
    struct SampleKey {
        var id: String
        var shortId: String
        var externalId: String?
        /// The external id belongs to a row ingested as an exact duplicate of another.
        var ofDuplicateRow: Bool
    }

    /// Sample id per key (id, short id, external id); keys shared by several samples are ambiguous.
    struct SampleIndex {
        var byKey: [String: String] = [:]
        var ambiguous = Set<String>()
        var duplicateRowIds = Set<String>()

        init(_ keys: [SampleKey]) {
            for k in keys {
                if k.ofDuplicateRow, let e = k.externalId { duplicateRowIds.insert(e) }
                byKey[k.id] = k.id
                if let old = byKey[k.shortId], old != k.id { ambiguous.insert(k.shortId) } else { byKey[k.shortId] = k.id }
                if let e = k.externalId {
                    if let old = byKey[e], old != k.id { ambiguous.insert(e) } else { byKey[e] = k.id }
                }
            }
        }
    }

    struct Result {
        var rows: [PredictionRow]
        /// The model's classes: declared, the keys of `probs` objects, or (labels only) the labels seen.
        var classes: [String]
        var hasProbs: Bool
        var embeddingDim: Int?
        var problems: [String]
    }

    /// Problems of a file, each naming its line; at most 20 are kept.
    struct Problems {
        var name: String
        var list: [String] = []
        mutating func add(_ line: Int, _ text: String) {
            if list.count < 20 { list.append("\(name) line \(line): \(text)") } else if list.count == 20 { list.append("(more problems not shown)") }
        }
    }

    /// A line's fields once its id, label, `classes` and embedding are checked (`probs` is checked against the
    /// classes of the whole file afterwards).
    struct Line {
        var line: Int
        var sample: String
        var label: String?
        var probs: JSONValue?
        var embedding: [Float]?
    }

    /// The lines of a file, with the classes they declare or name and the embedding length.
    struct Lines {
        var lines: [Line] = []
        var declaredClasses: [String]?
        var objectKeys = Set<String>()
        var embeddingDim: Int?
    }

    static func parse(_ data: [UInt8], name: String, samples: SampleIndex) -> Result {
        var problems = Problems(name: name)
        let file = lines(data, samples: samples, problems: &problems)
        let r = rows(file, problems: &problems)
        var list = problems.list
        if r.rows.isEmpty && list.isEmpty { list.append("\(name) has no predictions") }
        return Result(rows: r.rows, classes: r.classes, hasProbs: r.hasProbs, embeddingDim: file.embeddingDim, problems: list)
    }

    static func lines(_ data: [UInt8], samples: SampleIndex, problems: inout Problems) -> Lines {
        let byKey = samples.byKey, ambiguous = samples.ambiguous, duplicateRowIds = samples.duplicateRowIds
        var out = Lines()
        var seen: [String: Int] = [:], seenKey: [String: String] = [:]
        func problem(_ line: Int, _ text: String) { problems.add(line, text) }
        var lineNo = 0
        for slice in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNo += 1
            if slice.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { continue }
            let object: [String: JSONValue]
            switch JSONRecord.parseObject(Array(slice)) {
            case .success(let o): object = o
            case .failure(let p): problem(lineNo, p.message); continue
            }
            var idText: String?
            switch object["id"] {
            case .string(let s)?: idText = s
            case .int(let i)?: idText = String(i)
            default: problem(lineNo, "needs an `id` (the sample's id, short id or external id as exported)"); continue
            }
            let key = idText!
            guard let sample = byKey[key], !ambiguous.contains(key) else {
                problem(lineNo, ambiguous.contains(key) ? "id `\(key)` matches several samples; use the full sample id"
                              : "unknown id `\(key)`: no sample has this id, short id or external id (see `strata findings`/`strata status`; predict only ingested samples)")
                continue
            }
            if let first = seen[sample] {
                // Rows ingested as exact duplicates are one sample: the prediction of the first of them stands.
                if duplicateRowIds.contains(key) || duplicateRowIds.contains(seenKey[sample] ?? "") { continue }
                problem(lineNo, "sample `\(key)` already has a prediction on line \(first)"); continue
            }
            seen[sample] = lineNo
            seenKey[sample] = key
            var label: String?
            if let l = object["label"] {
                guard case .string(let s) = l else { problem(lineNo, "`label` must be a string, not \(l.kindDescription)"); continue }
                label = s
            }
            if case .array(let c)? = object["classes"] {
                let names = c.compactMap(\.asText)
                if names.count != c.count || Set(names).count != names.count || names.isEmpty {
                    problem(lineNo, "`classes` must be a non-empty list of distinct class names"); continue
                }
                if let d = out.declaredClasses, d != names { problem(lineNo, "`classes` differs from the first line that gave it: \(d)"); continue }
                out.declaredClasses = names
            }
            let probs = object["probs"]
            switch probs {
            case .object(let o)?: out.objectKeys.formUnion(o.keys)
            case .array?, nil: break
            case let other?: problem(lineNo, "`probs` must be an object (class -> probability) or an array, not \(other.kindDescription)"); continue
            }
            if probs == nil && label == nil { problem(lineNo, "needs `probs` or `label`"); continue }
            var embedding: [Float]?
            if let e = object["embedding"] {
                guard case .array(let items) = e, !items.isEmpty else { problem(lineNo, "`embedding` must be a non-empty array of numbers"); continue }
                let values = items.compactMap(\.asDouble)
                guard values.count == items.count, values.allSatisfy(\.isFinite) else { problem(lineNo, "`embedding` must hold only numbers"); continue }
                if let d = out.embeddingDim, d != values.count {
                    problem(lineNo, "`embedding` has \(values.count) values, but earlier lines have \(d): every embedding must have the same length"); continue
                }
                out.embeddingDim = values.count
                embedding = values.map { Float($0) }
            }
            out.lines.append(Line(line: lineNo, sample: sample, label: label, probs: probs, embedding: embedding))
        }
        return out
    }

    /// The prediction rows: probabilities checked against the file's classes (an array needs `classes`; every vector
    /// sums to 1), the label defaulting to the most probable class.
    static func rows(_ file: Lines, problems: inout Problems) -> (rows: [PredictionRow], classes: [String], hasProbs: Bool) {
        let declaredClasses = file.declaredClasses
        let classes: [String] = declaredClasses ?? file.objectKeys.sorted()
        let hasProbs = file.lines.contains { $0.probs != nil }
        func problem(_ line: Int, _ text: String) { problems.add(line, text) }
        var rows: [PredictionRow] = []
        for p in file.lines {
            var vector: [Double]?
            switch p.probs {
            case .array(let items)?:
                guard declaredClasses != nil else { problem(p.line, "`probs` is an array but no line gives `classes` (the class of each position)"); continue }
                guard items.count == classes.count else {
                    problem(p.line, "`probs` has \(items.count) values but there are \(classes.count) classes \(classes)"); continue
                }
                vector = items.compactMap(\.asDouble)
                if vector!.count != items.count { problem(p.line, "`probs` must hold only numbers"); continue }
            case .object(let o)?:
                if let unknown = o.keys.first(where: { !classes.contains($0) }) {
                    problem(p.line, "`probs` names class `\(unknown)`, which is not in `classes` \(classes)"); continue
                }
                var v = [Double](repeating: 0, count: classes.count)
                var bad = false
                for (k, value) in o { if let d = value.asDouble { v[classes.firstIndex(of: k)!] = d } else { bad = true } }
                if bad { problem(p.line, "`probs` values must be numbers"); continue }
                vector = v
            default: break
            }
            if let v = vector {
                if let bad = v.first(where: { !($0 >= 0 && $0 <= 1) }) { problem(p.line, "probability \(bad) is outside 0...1"); continue }
                let sum = v.reduce(0, +)
                if abs(sum - 1) > Self.probabilitySumTolerance {
                    problem(p.line, String(format: "probabilities sum to %.6g, not 1 (tolerance %g): export softmax outputs, not logits", sum, Self.probabilitySumTolerance)); continue
                }
            } else if hasProbs {
                problem(p.line, "has no `probs` while other lines do: give probabilities for every sample or for none"); continue
            }
            var label = p.label
            if let v = vector {
                var best = 0
                for c in v.indices where v[c] > v[best] { best = c }
                if label == nil { label = classes[best] }
            }
            if let l = label, hasProbs, !classes.contains(l) { problem(p.line, "`label` `\(l)` is not one of the classes \(classes)"); continue }
            rows.append(PredictionRow(sampleId: p.sample, label: label!, probs: vector, embedding: p.embedding, line: p.line))
        }
        return (rows, hasProbs ? classes : Array(Set(rows.map(\.label))).sorted(), hasProbs)
    }
}
