import Foundation
import StrataCore

/// The file formats of `strata label import|export`.
public enum LabelFileFormat: String, Codable, Sendable, CaseIterable {
    case csv
    case jsonl
    /// Label Studio JSON: export writes tasks Label Studio can import (with the events as annotations); import reads
    /// Label Studio's JSON export of annotated tasks.
    case labelStudio = "label-studio"

    /// The format a file name suggests: `.csv`, `.jsonl`/`.ndjson`, `.json` (Label Studio).
    public static func infer(path: String) -> LabelFileFormat? {
        switch (path as NSString).pathExtension.lowercased() {
        case "csv": .csv
        case "jsonl", "ndjson": .jsonl
        case "json": .labelStudio
        default: nil
        }
    }
}

/// One label read from a file, with where it was found.
struct LabelRecord: Sendable {
    var submission: LabelSubmission
    /// `line 12` or `task 3 annotation 2`, for messages.
    var location: String
}

/// A problem in an import file.
struct LabelFileProblem: Sendable {
    var location: String
    var message: String
}

/// A task for a Label Studio export: a sample's content and its events.
struct LabelStudioTask: Sendable {
    var sample: String
    var shortId: String
    /// `text`, `image` or `audio`: the data key Label Studio's config refers to (`$text`, `$image`, `$audio`).
    var dataKey: String
    /// The text, or a URL of the file.
    var content: String
    var events: [LabelEvent]
}

/// Reading and writing label files. Pure: bytes in, values out.
enum LabelFormats {
    static let columns = ["sample", "short_id", "status", "value", "reason", "annotator", "role", "source", "confidence",
                          "rulebook_version", "answers", "created_at"]

    // MARK: writing

    static func fields(_ e: LabelEvent) -> [String: JSONValue] {
        var f: [String: JSONValue] = [
            "sample": .string(e.sample), "short_id": .string(e.shortId), "status": .string(e.status.rawValue),
            "annotator": .string(e.annotator), "role": .string(e.role.rawValue), "source": .string(e.source.rawValue),
            "created_at": .string(e.createdAt),
        ]
        if let v = e.value { f["value"] = .string(v) }
        if let r = e.reason { f["reason"] = .string(r) }
        if let c = e.confidence { f["confidence"] = .number(c) }
        if let v = e.rulebookVersion { f["rulebook_version"] = .string(v) }
        if let a = e.answers { f["answers"] = .array(a.map(JSONValue.string)) }
        return f
    }

    static func jsonl(_ events: [LabelEvent]) -> [UInt8] {
        var out: [UInt8] = []
        for e in events {
            JSONValue.object(fields(e)).write(to: &out)
            out.append(0x0A)
        }
        return out
    }

    static func csv(_ events: [LabelEvent]) -> [UInt8] {
        var out = columns.joined(separator: ",") + "\n"
        for e in events {
            let row: [String] = [
                e.sample, e.shortId, e.status.rawValue, e.value ?? "", e.reason ?? "", e.annotator, e.role.rawValue,
                e.source.rawValue, e.confidence.map { "\($0)" } ?? "", e.rulebookVersion ?? "",
                e.answers.map { JSONValue.array($0.map(JSONValue.string)).canonicalJSON } ?? "", e.createdAt,
            ]
            out += row.map(csvField).joined(separator: ",") + "\n"
        }
        return Array(out.utf8)
    }

    static func csvField(_ s: String) -> String {
        let needsQuotes = s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) || s.first == " " || s.last == " "
        return needsQuotes ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// Label Studio tasks: `data` holds the content under `text`, `image` or `audio` plus `strata_id` and
    /// `strata_short_id`; each event is an annotation whose `result` is a `choices` region (from `label` to the
    /// data key), skips and unclear events are cancelled annotations. Each annotation also carries a `strata`
    /// object with the event's own fields, which Label Studio ignores and Strata's import uses for an exact round trip.
    static func labelStudio(_ tasks: [LabelStudioTask]) -> [UInt8] {
        var out: [UInt8] = Array("[\n".utf8)
        for (i, t) in tasks.enumerated() {
            let annotations: [JSONValue] = t.events.map { e in
                var a: [String: JSONValue] = [
                    "result": .array(e.value.map { v in
                        [JSONValue.object([
                            "from_name": "label", "to_name": .string(t.dataKey), "type": "choices",
                            "value": .object(["choices": .array([.string(v)])]),
                        ])]
                    } ?? []),
                    "was_cancelled": .bool(e.status != .label),
                    "created_at": .string(e.createdAt),
                    "strata": .object(fields(e)),
                ]
                if e.source == .model || e.source == .pseudo, let c = e.confidence { a["score"] = .number(c) }
                return .object(a)
            }
            var data: [String: JSONValue] = [t.dataKey: .string(t.content), "strata_id": .string(t.sample), "strata_short_id": .string(t.shortId)]
            // Label Studio keeps `data` as it is but drops unknown annotation keys and re-attributes imported
            // annotations to the importing user: the events also travel in `data`, in annotation order, so an
            // annotation that went out from Strata comes back as the same event.
            if !t.events.isEmpty { data["strata_events"] = .array(t.events.map { .object(fields($0)) }) }
            let task: JSONValue = .object(["data": .object(data), "annotations": .array(annotations)])
            task.write(to: &out)
            out.append(contentsOf: Array((i == tasks.count - 1 ? "\n" : ",\n").utf8))
        }
        out.append(contentsOf: Array("]\n".utf8))
        return out
    }

    /// A Label Studio labeling config for the rulebook's labels (single choice).
    static func labelStudioConfig(labels: [String], dataKey: String) -> String {
        let tag = switch dataKey { case "image": "Image"; case "audio": "Audio"; default: "Text" }
        var s = "<View>\n  <\(tag) name=\"\(dataKey)\" value=\"$\(dataKey)\"/>\n  <Choices name=\"label\" toName=\"\(dataKey)\" choice=\"single\" showInLine=\"true\">\n"
        for l in labels { s += "    <Choice value=\"\(xmlEscape(l))\"/>\n" }
        return s + "  </Choices>\n</View>\n"
    }

    static func xmlEscape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    // MARK: reading

    /// A submission from named fields (CSV columns or JSON keys); nil with problems when a field is wrong.
    static func submission(_ get: (String) -> JSONValue?, location: String, defaults: LabelImportDefaults,
                           problems: inout [LabelFileProblem], sampleName: String? = nil) -> LabelSubmission? {
        var ok = true
        func fail(_ m: String) { problems.append(LabelFileProblem(location: location, message: m)); ok = false }
        func text(_ key: String) -> String? {
            guard let v = get(key) else { return nil }
            switch v {
            case .null: return nil
            case .string(let s): return s.isEmpty ? nil : s
            case .int, .number: return v.asText ?? v.canonicalJSON
            default: fail("`\(key)` must be a string, found \(v.kindDescription)"); return nil
            }
        }
        guard let sample = text("sample") ?? text("short_id") else {
            fail(sampleName.map { "no `\($0)` (--id-field: the row's own id, as ingest recorded it)" } ?? "no `sample` (a sample id or short id)")
            return nil
        }
        var status = LabelStatus.label
        if let s = text("status") {
            if let st = LabelStatus(rawValue: s) { status = st } else { fail("status `\(s)` is not one of label, skip, unclear") }
        }
        var role = defaults.role
        if let r = text("role") {
            if let ro = AnnotatorRole(rawValue: r) { role = ro } else { fail("role `\(r)` is not one of \(AnnotatorRole.allCases.map(\.rawValue).joined(separator: ", "))") }
        }
        var source = defaults.source
        if let s = text("source") {
            if let so = LabelSource(rawValue: s) { source = so } else { fail("source `\(s)` is not one of human, import, model, pseudo") }
        }
        var confidence: Double?
        if let v = get("confidence"), v != .null {
            if let d = v.asDouble { confidence = d } else if case .string(let s) = v, let d = Double(s) { confidence = d } else if case .string(let s) = v, s.isEmpty {
                confidence = nil
            } else { fail("confidence must be a number between 0 and 1") }
        }
        var answers: [String]?
        if let v = get("answers"), v != .null {
            switch v {
            case .array(let items):
                answers = items.compactMap(\.asText)
                if answers?.count != items.count { fail("`answers` must be a list of strings") }
            case .string(let s) where s.isEmpty: break
            case .string(let s):
                if case .success(.array(let items)) = JSONRecord.parseValue(s), items.allSatisfy({ $0.asText != nil }) {
                    answers = items.compactMap(\.asText)
                } else { fail("`answers` must be a JSON list of strings such as [\"yes\",\"no\"]") }
            default: fail("`answers` must be a list of strings")
            }
        }
        guard ok else { return nil }
        return LabelSubmission(
            sample: sample, status: status, value: text("value") ?? text("label"), reason: text("reason"),
            annotator: text("annotator") ?? defaults.annotator, role: role, source: source, confidence: confidence,
            answers: answers, rulebookVersion: text("rulebook_version"), createdAt: text("created_at"))
    }

    /// `idField`: the field naming each row's sample by the user's own id (as ingest's `--id-field` recorded it)
    /// instead of `sample`/`short_id`; `LabelRecord.submission.sample` then holds that id, for the caller to resolve.
    static func parseJSONL(_ bytes: [UInt8], defaults: LabelImportDefaults, idField: String? = nil) -> ([LabelRecord], [LabelFileProblem]) {
        var records: [LabelRecord] = [], problems: [LabelFileProblem] = []
        var splitter = LineSplitter(maxLineBytes: 1 << 20)
        func handle(_ line: LineSplitter.Line) {
            switch line {
            case .tooLong(let n, _, _): problems.append(LabelFileProblem(location: "line \(n)", message: "the line is longer than 1 MiB"))
            case .line(let n, let b, _):
                if b.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
                switch JSONRecord.parseObject(b) {
                case .failure(let p): problems.append(LabelFileProblem(location: "line \(n)", message: p.message))
                case .success(let obj):
                    if let s = submission({ key in obj[idField.map { key == "sample" ? $0 : key == "short_id" ? "" : key } ?? key] },
                                          location: "line \(n)", defaults: defaults, problems: &problems, sampleName: idField) {
                        records.append(LabelRecord(submission: s, location: "line \(n)"))
                    }
                }
            }
        }
        splitter.feed(bytes, handle)
        splitter.finish(handle)
        return (records, problems)
    }

    static func parseCSV(_ bytes: [UInt8], defaults: LabelImportDefaults, idField: String? = nil) -> ([LabelRecord], [LabelFileProblem]) {
        var records: [LabelRecord] = [], problems: [LabelFileProblem] = []
        var parser = CSVParser(maxRecordBytes: 1 << 20)
        var header: [String]?
        func handle(_ event: CSVEvent) {
            switch event {
            case .problem(let line, let p): problems.append(LabelFileProblem(location: "line \(line)", message: p.message))
            case .record(let r):
                guard let h = header else {
                    header = r.fields.map { $0.trimmingCharacters(in: .whitespaces) }
                    if let idField {
                        if !header!.contains(idField) {
                            problems.append(LabelFileProblem(location: "line \(r.line)", message: "the header has no `\(idField)` column (--id-field; columns: \(header!.joined(separator: ", ")))"))
                        }
                    } else if !(header!.contains("sample") || header!.contains("short_id")) {
                        problems.append(LabelFileProblem(location: "line \(r.line)", message: "the header has no `sample` column (columns: \(columns.joined(separator: ", ")))"))
                    }
                    return
                }
                if r.fields.count != h.count {
                    problems.append(LabelFileProblem(location: "line \(r.line)", message: "\(r.fields.count) fields, the header has \(h.count)"))
                    return
                }
                let row = Dictionary(zip(h, r.fields), uniquingKeysWith: { a, _ in a })
                if let s = submission({ key in row[idField.map { key == "sample" ? $0 : key == "short_id" ? "" : key } ?? key].map(JSONValue.string) },
                                      location: "line \(r.line)", defaults: defaults, problems: &problems, sampleName: idField) {
                    records.append(LabelRecord(submission: s, location: "line \(r.line)"))
                }
            }
        }
        parser.feed(bytes, handle)
        parser.finish(handle)
        if header == nil { problems.append(LabelFileProblem(location: "line 1", message: "the file is empty; expected a header line")) }
        return (records, problems)
    }

    /// Reads Label Studio's JSON export (a list of tasks with `annotations`, and optionally `predictions`).
    /// The sample is `data.strata_id` (or `data.strata_short_id`, or the data key named by `sampleKey`).
    static func parseLabelStudio(_ bytes: [UInt8], defaults: LabelImportDefaults, sampleKey: String?) -> ([LabelRecord], [LabelFileProblem]) {
        var records: [LabelRecord] = [], problems: [LabelFileProblem] = []
        let root: JSONValue
        switch JSONRecord.parseValue(String(decoding: bytes, as: UTF8.self), maxDepth: 64) {
        case .failure(let p): return ([], [LabelFileProblem(location: "the file", message: "is not valid JSON: \(p.message)")])
        case .success(let v): root = v
        }
        let tasks: [JSONValue]
        switch root {
        case .array(let a): tasks = a
        case .object: tasks = [root]
        default: return ([], [LabelFileProblem(location: "the file", message: "must be a JSON list of tasks (Label Studio's JSON export)")])
        }
        for (t, task) in tasks.enumerated() {
            let taskName = "task \(t + 1)" + (task["id"].map { " (id \($0.asText ?? $0.canonicalJSON))" } ?? "")
            guard case .object(let data)? = task["data"] else {
                problems.append(LabelFileProblem(location: taskName, message: "has no `data` object"))
                continue
            }
            // An empty or blank id is no id (found by fuzz-labels: it became an entry without a sample).
            let sample = [sampleKey.flatMap { data[$0]?.asText }, data["strata_id"]?.asText, data["strata_short_id"]?.asText]
                .lazy.compactMap { $0 }.first { !$0.allSatisfy(\.isWhitespace) }
            let entries: [(kind: String, value: JSONValue)] =
                (task["annotations"]?.arrayValue ?? []).map { ("annotation", $0) } + (task["predictions"]?.arrayValue ?? []).map { ("prediction", $0) }
            let exported = data["strata_events"]?.arrayValue ?? []
            for (a, (kind, entry)) in entries.enumerated() {
                let location = "\(taskName) \(kind) \(a + 1)"
                var own = entry["strata"]
                if own == nil, kind == "annotation", a < exported.count, sameOutcome(entry, exported[a]) { own = exported[a] }
                if case .object(let s)? = own {
                    // Written by Strata: the event's own fields.
                    if let sub = submission({ s[$0] }, location: location, defaults: defaults, problems: &problems) {
                        records.append(LabelRecord(submission: sub, location: location))
                    }
                    continue
                }
                guard let sample else {
                    problems.append(LabelFileProblem(location: taskName, message: "has no `data.strata_id` (or it is empty); export the tasks from Strata, or name the data field that holds the sample id with --sample-field"))
                    break
                }
                switch labelStudioSubmission(entry, kind: kind, sample: sample, defaults: defaults) {
                case .success(let sub): records.append(LabelRecord(submission: sub, location: location))
                case .failure(let message): problems.append(LabelFileProblem(location: location, message: message.text))
                }
            }
        }
        return (records, problems)
    }
}

extension LabelFormats {
    /// A problem message of one import entry.
    struct ImportMessage: Error {
        var text: String
    }

    /// The submission a Label Studio annotation or prediction (not written by Strata) stands for: its one choice,
    /// or a skip when it was cancelled.
    static func labelStudioSubmission(_ entry: JSONValue, kind: String, sample: String,
                                      defaults: LabelImportDefaults) -> Result<LabelSubmission, ImportMessage> {
        var choices: [String] = []
        for r in entry["result"]?.arrayValue ?? [] {
            for c in r["value"]?["choices"]?.arrayValue ?? [] { if let s = c.asText { choices.append(s) } }
        }
        let cancelled = entry["was_cancelled"] == .bool(true)
        var sub = LabelSubmission(sample: sample, annotator: defaults.annotator, role: defaults.role, source: defaults.source,
                                  createdAt: entry["created_at"]?.asText)
        if kind == "prediction" {
            sub.source = .model
            sub.role = .model
            sub.annotator = "model:" + (entry["model_version"]?.asText ?? "label-studio")
            sub.confidence = entry["score"]?.asDouble
        } else if let by = entry["completed_by"] {
            switch by {
            case .object(let o): sub.annotator = "label-studio:" + (o["email"]?.asText ?? o["id"].map { $0.asText ?? $0.canonicalJSON } ?? "unknown")
            default: sub.annotator = "label-studio:user-" + (by.asText ?? by.canonicalJSON)
            }
        }
        if cancelled {
            sub.status = .skip
            sub.reason = "cancelled in Label Studio"
        } else if choices.count == 1 {
            sub.value = choices[0]
        } else if choices.isEmpty {
            return .failure(ImportMessage(text: "has no `choices` result; Strata imports single-choice classification (a <Choices> tag)"))
        } else {
            return .failure(ImportMessage(text: "has \(choices.count) choices (\(choices.joined(separator: ", "))); Strata labels are single-choice"))
        }
        return .success(sub)
    }

    /// Whether a Label Studio annotation says what an exported Strata event said (the same choice, or cancelled
    /// for a skip or unclear event).
    static func sameOutcome(_ annotation: JSONValue, _ event: JSONValue) -> Bool {
        var choices: [String] = []
        for r in annotation["result"]?.arrayValue ?? [] {
            for c in r["value"]?["choices"]?.arrayValue ?? [] { if let s = c.asText { choices.append(s) } }
        }
        let cancelled = annotation["was_cancelled"] == .bool(true)
        if event["status"]?.asText == "label" { return !cancelled && choices == [event["value"]?.asText ?? ""] }
        return cancelled
    }
}

/// Defaults for fields an import file leaves out.
public struct LabelImportDefaults: Sendable {
    public var annotator: String
    public var role: AnnotatorRole
    public var source: LabelSource
    public init(annotator: String, role: AnnotatorRole = .importer, source: LabelSource = .import) {
        self.annotator = annotator; self.role = role; self.source = source
    }
}

extension JSONValue {
    subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
    var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
}

/// Reading a label file without a project: what `strata label import` would append, and what it would refuse.
/// Sample ids and label names are not checked here (that needs the catalog and the rulebook); everything about the
/// file itself is. Used by the importer's fuzz target, and by anyone who wants to validate a file before importing.
public enum LabelFileReader {
    public struct Entry: Sendable, Equatable {
        /// `line 12` or `task 3 annotation 2`.
        public var location: String
        public var submission: LabelSubmission
    }
    public struct Problem: Sendable, Equatable {
        public var location: String
        public var message: String
    }

    public static func read(_ bytes: [UInt8], format: LabelFileFormat, defaults: LabelImportDefaults,
                            sampleField: String? = nil) -> (entries: [Entry], problems: [Problem]) {
        let (records, problems) = switch format {
        case .csv: LabelFormats.parseCSV(bytes, defaults: defaults)
        case .jsonl: LabelFormats.parseJSONL(bytes, defaults: defaults)
        case .labelStudio: LabelFormats.parseLabelStudio(bytes, defaults: defaults, sampleKey: sampleField)
        }
        return (records.map { Entry(location: $0.location, submission: $0.submission) },
                problems.map { Problem(location: $0.location, message: $0.message) })
    }
}
