import Foundation
import StrataCatalog
import StrataCore

/// The rules every label submission follows, with no I/O: the caller (`LabelStore`) resolves the sample references
/// and lists the recorded rulebook versions first, then these rules turn valid submissions into event rows and name
/// the field of every problem.
struct LabelSubmissionRules {
    let rulebook: RulebookSpec
    let labelNames: Set<String>
    /// The current rulebook version id, recorded on submissions that name none.
    let currentVersion: String
    /// Sample reference (full or short id) -> full id; references missing here are unknown samples.
    let resolved: [String: String]
    /// Rulebook version ids a submission may name.
    let knownVersions: Set<String>
    /// The time recorded on submissions without `createdAt`.
    let now: String

    /// Rows for the valid submissions (by index) and the problems of the others.
    func check(_ submissions: [LabelSubmission]) -> (valid: [Int: LabelEventRow], problems: [LabelInputError.Problem]) {
        var problems: [LabelInputError.Problem] = []
        var rows: [Int: LabelEventRow] = [:]
        rows.reserveCapacity(submissions.count)
        for (i, s) in submissions.enumerated() {
            let found = self.problems(s)
            if !found.isEmpty {
                problems += found.map { LabelInputError.Problem(index: i, field: $0.field, code: $0.code, message: $0.message) }
                continue
            }
            guard let sampleId = resolved[s.sample] else { continue }
            let answersJSON = s.answers.flatMap { $0.isEmpty ? nil : JSONValue.array($0.map(JSONValue.string)).canonicalJSON }
            rows[i] = LabelEventRow(
                sampleId: sampleId, status: s.status.rawValue, value: s.status == .label ? s.value : nil, reason: Self.reason(s),
                annotator: Self.trimmed(s.annotator, newlines: false), role: s.role.rawValue, source: s.source.rawValue,
                confidence: s.confidence, rulebookVersion: s.rulebookVersion ?? currentVersion, answers: answersJSON,
                importKey: s.importKey, createdAt: s.createdAt ?? now)
        }
        return (rows, problems)
    }

    /// The problems of one submission (their `index` is 0), in field order.
    func problems(_ s: LabelSubmission) -> [LabelInputError.Problem] {
        var problems: [LabelInputError.Problem] = []
        func problem(_ field: String, _ code: LabelInputError.Code, _ message: String) {
            problems.append(.init(index: 0, field: field, code: code, message: message))
        }
        if resolved[s.sample] == nil {
            problem("sample", .unknownSample, s.sample.isEmpty ? "the sample is empty" : "no sample has the id or short id `\(s.sample)`")
        }
        let annotator = Self.trimmed(s.annotator, newlines: false)
        if annotator.isEmpty || annotator.count > 200 || annotator.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            problem("annotator", .invalid, "the annotator must be a name of 1 to 200 characters without control characters")
        }
        switch s.status {
        case .label:
            if let v = s.value, !v.isEmpty {
                if !labelNames.contains(v) {
                    let names = rulebook.labels.map(\.name)
                    problem("value", .unknownLabel, "`\(v)` is not a label of rulebook.yaml (labels: \(names.joined(separator: ", ")))")
                }
            } else {
                problem("value", .invalid, "a label event needs a `value` (one of the rulebook's labels)")
            }
        case .skip, .unclear:
            if s.value != nil { problem("value", .invalid, "a \(s.status.rawValue) event has no value; put the explanation in `reason`") }
            if Self.reason(s) == nil { problem("reason", .invalid, "a \(s.status.rawValue) event needs a `reason`") }
        }
        if let c = s.confidence, !(c >= 0 && c <= 1) { problem("confidence", .invalid, "confidence must be between 0 and 1, got \(c)") }
        if let v = s.rulebookVersion, !knownVersions.contains(v) {
            problem("rulebookVersion", .invalid, "`\(v)` is not a recorded rulebook version")
        }
        if let answers = s.answers, !answers.isEmpty {
            if let message = pathProblem(answers, status: s.status, value: s.value) { problem("answers", .invalid, message) }
        }
        if let t = s.createdAt, !Workspace.isISO8601(t) {
            problem("createdAt", .invalid, "`\(t)` is not an ISO 8601 time such as 2026-01-31T12:00:00Z")
        }
        return problems
    }

    /// The submission's reason, trimmed; nil when empty.
    static func reason(_ s: LabelSubmission) -> String? {
        s.reason.map { trimmed($0, newlines: true) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `trimmingCharacters(in: .whitespaces or .whitespacesAndNewlines)`, skipping Foundation when both ends are
    /// visible ASCII (nothing to trim; the common case, and the label server checks every answer).
    static func trimmed(_ s: String, newlines: Bool) -> String {
        if let f = s.utf8.first, let l = s.utf8.last, f > 0x20, f < 0x7F, l > 0x20, l < 0x7F { return s }
        return s.trimmingCharacters(in: newlines ? .whitespacesAndNewlines : .whitespaces)
    }

    /// Why `answers` do not lead to the submitted outcome, or nil when they do.
    func pathProblem(_ answers: [String], status: LabelStatus, value: String?) -> String? {
        guard let result = rulebook.follow(answers) else { return "the rulebook has no decision path; send no answers" }
        switch result {
        case .invalid(let index, let answer, let question, let expected):
            return "answer \(index + 1) `\(answer)` is not an answer to \"\(question)\" (answers: \(expected.joined(separator: ", ")))"
        case .incomplete(let question):
            return "the answers stop before a decision; the next question is \"\(question)\""
        case .tooMany(let used):
            return "the decision path ends after \(used) answer(s); \(answers.count) were sent"
        case .outcome(let outcome):
            switch (outcome, status) {
            case (.label(let l), .label) where l == value: return nil
            case (.skip, .skip), (.escalate, .unclear): return nil
            case (.label(let l), _): return "the answers lead to the label `\(l)`, not to this \(status == .label ? "label" : status.rawValue)"
            case (.skip, _): return "the answers lead to skip, not to this \(status.rawValue)"
            case (.escalate, _): return "the answers lead to escalate (status unclear), not to this \(status.rawValue)"
            case (.next, _): return "the answers stop before a decision"
            }
        }
    }
}
