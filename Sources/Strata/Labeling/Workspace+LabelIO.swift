import Foundation
import StrataCatalog
import StrataCore
import StrataStore

/// What `strata label import` did.
public struct LabelImportSummary: Codable, Sendable, Equatable {
    public var file: String
    public var format: LabelFileFormat
    /// Labels read from the file.
    public var read: Int
    /// Events stored (or gold answers set, with `gold`).
    public var stored: Int
    /// Labels already in the catalog (the same event imported before, or exported from this project).
    public var duplicates: Int
    public var gold: Bool
}

public struct LabelImportOptions: Sendable {
    public var path: String
    /// nil: from the file's extension.
    public var format: LabelFileFormat?
    /// Annotator for rows that name none (default `import:<file name>`).
    public var annotator: String?
    public var role: AnnotatorRole
    public var source: LabelSource
    /// Store the labels as the known answers of gold samples instead of as events.
    public var gold: Bool
    /// Label Studio: the `data` field holding the sample id, when the tasks were not exported by Strata.
    public var sampleField: String?
    /// CSV and JSONL: the field holding each row's own id, the external id ingest recorded with `--id-field`,
    /// instead of `sample`.
    public var idField: String?

    public init(path: String, format: LabelFileFormat? = nil, annotator: String? = nil, role: AnnotatorRole = .importer,
                source: LabelSource = .import, gold: Bool = false, sampleField: String? = nil, idField: String? = nil) {
        self.path = path; self.format = format; self.annotator = annotator; self.role = role; self.source = source
        self.gold = gold; self.sampleField = sampleField; self.idField = idField
    }
}

extension Workspace {
    /// Imports labels from a CSV, JSONL or Label Studio file: all or nothing (any bad row: nothing is stored and
    /// every problem is listed with its line), idempotent (a label already stored is counted as a duplicate).
    public func importLabels(_ options: LabelImportOptions) throws -> LabelImportSummary {
        try LabelImporter(workspace: self).run(options)
    }

    /// Every label event in a file format (see `LabelExporter.export`).
    public func exportLabels(format: LabelFileFormat, mediaURL: String? = nil) throws -> [UInt8] {
        try LabelExporter(workspace: self).export(format: format, mediaURL: mediaURL)
    }

    /// A Label Studio labeling config (XML) for the rulebook's labels and the project's main modality.
    public func labelStudioConfig() throws -> String {
        let spec = try rulebook()
        // Label Studio's data key is the modality's name (`$text`, `$image`, `$audio`).
        let modality = project.modalities.first ?? .text
        return LabelFormats.labelStudioConfig(labels: spec.labels.map(\.name), dataKey: modality.rawValue)
    }

    /// The data key and content of a sample for a labeling tool: the text itself, or a URL of the file.
    func taskContent(_ s: SampleRow, mediaURL: String?) throws -> (key: String, content: String) {
        if s.modality == Modality.text.rawValue {
            if s.kind == "record" { return ("text", String(decoding: try objects.get(s.id), as: UTF8.self)) }
            return ("text", String(decoding: try FileIO.readAll(root + "/" + s.rawPath, limit: 16 << 20), as: UTF8.self))
        }
        let url = mediaURL.map { $0 + s.rawPath } ?? "/data/local-files/?d=" + (root + "/" + s.rawPath).dropFirst()
        return (s.modality, url)
    }
}

/// Imports a label file: reads and parses it (`LabelFormats`), maps the user's own ids to samples, drops events
/// the catalog already holds, and appends the rest through the label store in one transaction. The mapping and the
/// duplicate check are pure (`mapExternalIds`, `fresh`).
struct LabelImporter {
    let workspace: Workspace

    func run(_ options: LabelImportOptions) throws -> LabelImportSummary {
        let path = Walker.absolute(options.path)
        guard let format = options.format ?? LabelFileFormat.infer(path: path) else {
            throw StrataError.usage("cannot tell the format of \(options.path) from its extension",
                                    fix: "add --format csv, --format jsonl or --format label-studio")
        }
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(path, limit: 1 << 30) } catch {
            throw StrataError.usage("cannot read \(options.path): \(error)", fix: "check the path")
        }
        let name = (path as NSString).lastPathComponent
        let defaults = LabelImportDefaults(annotator: options.annotator ?? "import:" + name, role: options.role, source: options.source)
        if options.idField != nil && format == .labelStudio {
            throw StrataError.usage("--id-field is for CSV and JSONL files", fix: "for Label Studio, name the data field with --sample-field")
        }
        var (records, problems) = switch format {
        case .csv: LabelFormats.parseCSV(bytes, defaults: defaults, idField: options.idField)
        case .jsonl: LabelFormats.parseJSONL(bytes, defaults: defaults, idField: options.idField)
        case .labelStudio: LabelFormats.parseLabelStudio(bytes, defaults: defaults, sampleKey: options.sampleField)
        }
        if let field = options.idField {
            problems += Self.mapExternalIds(&records, field: field, keys: try workspace.catalog.sampleKeys().map { ($0.id, $0.externalId) })
        }
        if !problems.isEmpty {
            throw Self.importError(name, problems.map { ($0.location, $0.message) })
        }
        let store = try workspace.labelStore()
        if options.gold {
            let gold = records.compactMap { r in r.submission.value.map { GoldSubmission(sample: r.submission.sample, value: $0, note: r.submission.reason) } }
            do { try store.setGold(gold) } catch let e as LabelInputError {
                let located = records.filter { $0.submission.value != nil }
                throw Self.importError(name, e.problems.map { (located[$0.index].location, "\($0.field): \($0.message)") })
            }
            return LabelImportSummary(file: options.path, format: format, read: records.count, stored: gold.count, duplicates: 0, gold: true)
        }

        // Skip events the catalog already holds (same sample, annotator, status, value, reason and time), so a file
        // exported from this project, or imported before, adds nothing the second time.
        let resolved = try workspace.catalog.resolveSampleRefs(records.map(\.submission.sample))
        var existing = Set<String>()
        for id in Set(resolved.values) {
            for e in try workspace.catalog.labelEventRows(sampleId: id) {
                existing.insert(Self.fingerprint(e.sampleId, e.annotator, e.status, e.value, e.reason, e.createdAt))
            }
        }
        let (fresh, duplicates) = Self.fresh(records, resolved: resolved, existing: existing)
        do {
            let result = try store.append(fresh.map(\.submission))
            return LabelImportSummary(file: options.path, format: format, read: records.count, stored: result.stored.count,
                                      duplicates: duplicates + result.duplicates, gold: false)
        } catch let e as LabelInputError {
            throw Self.importError(name, e.problems.map { (fresh[$0.index].location, "\($0.field): \($0.message)") })
        }
    }

    /// Replaces the user's own ids (as ingest recorded them with its `--id-field`) by sample ids; each must name
    /// exactly one sample. Returns the problems of the records that do not.
    /// - Parameter keys: every sample's id and external id.
    static func mapExternalIds(_ records: inout [LabelRecord], field: String, keys: [(id: String, externalId: String?)]) -> [LabelFileProblem] {
        var byExternal: [String: String] = [:], ambiguous = Set<String>()
        for k in keys {
            guard let e = k.externalId else { continue }
            if let old = byExternal[e], old != k.id { ambiguous.insert(e) } else { byExternal[e] = k.id }
        }
        var problems: [LabelFileProblem] = []
        for i in records.indices {
            let ref = records[i].submission.sample
            if ambiguous.contains(ref) {
                problems.append(LabelFileProblem(location: records[i].location, message: "\(field): `\(ref)` is the id of several samples (from different sources); use the `sample` column with Strata's id"))
            } else if let id = byExternal[ref] {
                records[i].submission.sample = id
            } else {
                problems.append(LabelFileProblem(location: records[i].location, message: "\(field): no sample was ingested with the id `\(ref)` (ingest's --id-field)"))
            }
        }
        return problems
    }

    /// The records not yet in the catalog, each with an import key, and how many were skipped as already stored.
    /// A record without a time is never a duplicate (its time is the time of the import).
    /// - Parameters:
    ///   - resolved: sample reference -> full id.
    ///   - existing: fingerprints of the stored events of those samples.
    static func fresh(_ records: [LabelRecord], resolved: [String: String], existing: Set<String>) -> (fresh: [LabelRecord], duplicates: Int) {
        var fresh: [LabelRecord] = []
        var duplicates = 0
        for var r in records {
            let s = r.submission
            let key = fingerprint(resolved[s.sample] ?? s.sample, s.annotator, s.status.rawValue, s.value, s.reason, s.createdAt ?? "")
            if s.createdAt != nil, existing.contains(key) { duplicates += 1; continue }
            r.submission.importKey = Workspace.shortHash("label-import", key)
            fresh.append(r)
        }
        return (fresh, duplicates)
    }

    static func fingerprint(_ sample: String, _ annotator: String, _ status: String, _ value: String?, _ reason: String?, _ time: String) -> String {
        [sample, annotator, status, value ?? "", reason ?? "", time].joined(separator: "\u{1F}")
    }

    static func importError(_ file: String, _ problems: [(String, String)]) -> StrataError {
        let shown = problems.prefix(20).map { "  \(file) \($0.0): \($0.1)" }
        let more = problems.count > 20 ? ["  ... and \(problems.count - 20) more"] : []
        return StrataError.usage((["\(problems.count) problem(s) in \(file); nothing was imported:"] + shown + more).joined(separator: "\n"),
                                 fix: "correct those rows and import the file again (labels already imported are skipped)")
    }
}

/// Writes every label event in a file format.
struct LabelExporter {
    let workspace: Workspace

    /// Label Studio: one task per sample of the project (labeled or not), with its events as annotations;
    /// `mediaURL` prefixes the project-relative path of image and audio files (default: Label Studio's local-files
    /// URL with the absolute path).
    func export(format: LabelFileFormat, mediaURL: String?) throws -> [UInt8] {
        let events = try workspace.labelStore().events()
        switch format {
        case .csv: return LabelFormats.csv(events)
        case .jsonl: return LabelFormats.jsonl(events)
        case .labelStudio:
            var bySample: [String: [LabelEvent]] = [:]
            for e in events { bySample[e.sample, default: []].append(e) }
            var tasks: [LabelStudioTask] = []
            for s in try workspace.catalog.allSamples() {
                let (key, content) = try workspace.taskContent(s, mediaURL: mediaURL)
                tasks.append(LabelStudioTask(sample: s.id, shortId: s.shortId, dataKey: key, content: content, events: bySample[s.id] ?? []))
            }
            return LabelFormats.labelStudio(tasks)
        }
    }
}
