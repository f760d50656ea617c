import Foundation
import StrataCore

/// The label server's request bodies, read without HTTP: the JSON answer of `POST /api/labels` and
/// `POST /api/review/decisions`, and `application/x-www-form-urlencoded` form posts (sign-in, CSRF field). They live
/// in the library, with no I/O, so that tests and the fuzz target `fuzz-bodies` run exactly the code the server runs
/// on what clients send.
public enum LabelRequestBody {
    /// What is wrong with a body, for a 400 answer; `field` names the JSON field at fault when there is one.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var field: String?
        public var description: String { field.map { "\($0): \(message)" } ?? message }
    }

    /// A JSON object body. The common answer bodies are read by a small strict reader (`strictObject`); anything it
    /// does not take, and every invalid body, goes through the general reader (`generalObject`), whose messages name
    /// the column. Both read numbers with Swift's correctly rounded conversion, so a body means the same whichever
    /// reader took it (with `JSONSerialization` as the general reader, the fuzz target `fuzz-bodies` found
    /// confidences one ulp apart depending on the path).
    public static func object(_ body: UnsafeRawBufferPointer) throws(Problem) -> [String: Any] {
        guard !body.isEmpty else { throw Problem(message: "the body is empty; send a JSON object") }
        if let fast = AnswerJSON.object(body) { return fast }
        return try generalObject(body)
    }

    /// The general reader alone (StrataCore's JSON reader, with its depth limit): any JSON object, as Foundation
    /// values (`String`, `NSNumber`, `Bool`, `NSNull`, arrays and dictionaries of them).
    public static func generalObject(_ body: UnsafeRawBufferPointer) throws(Problem) -> [String: Any] {
        switch JSONRecord.parseValue(body) {
        case .success(.object(let fields)): return fields.mapValues(foundationValue)
        case .success: throw Problem(message: "the body must be a JSON object")
        case .failure(let p):
            let prefix = "line is not valid JSON: "
            let what = p.message.hasPrefix(prefix) ? String(p.message.dropFirst(prefix.count)) : p.message
            throw Problem(message: "the body is not valid JSON: " + what.replacingOccurrences(of: "end of line", with: "end of the body"))
        }
    }

    static func foundationValue(_ v: JSONValue) -> Any {
        switch v {
        case .string(let s): s
        case .int(let i): NSNumber(value: i)
        case .number(let d): NSNumber(value: d)
        case .bool(let b): b
        case .null: NSNull()
        case .array(let a): a.map(foundationValue)
        case .object(let o): o.mapValues(foundationValue)
        }
    }

    /// The strict reader alone: a flat object of strings, numbers, null and lists of strings, or nil.
    public static func strictObject(_ body: UnsafeRawBufferPointer) -> [String: Any]? {
        AnswerJSON.object(body)
    }

    /// A JSON answer body turned into a `LabelDesk.Answer`, naming the field at fault.
    public static func answer(body: UnsafeRawBufferPointer) throws(Problem) -> LabelDesk.Answer {
        try answer(from: object(body))
    }

    /// A decoded JSON object turned into a `LabelDesk.Answer`, naming the field at fault.
    public static func answer(from o: [String: Any]) throws(Problem) -> LabelDesk.Answer {
        let allowed: Set<String> = ["sample", "value", "status", "reason", "answers", "confidence"]
        if let unknown = o.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw Problem(message: "unknown field `\(unknown)`; allowed: sample, value, status, reason, answers, confidence", field: unknown)
        }
        guard let sample = o["sample"] as? String else {
            throw Problem(message: o["sample"] == nil ? "missing field `sample` (the sample id)" : "`sample` must be a string", field: "sample")
        }
        var value: String?
        if let v = o["value"], !(v is NSNull) {
            guard let s = v as? String else { throw Problem(message: "`value` must be a string (a label name)", field: "value") }
            value = s
        }
        var reason: String?
        if let r = o["reason"], !(r is NSNull) {
            guard let s = r as? String else { throw Problem(message: "`reason` must be a string", field: "reason") }
            reason = s
        }
        let kind: LabelDesk.Answer.Kind
        if let s = o["status"] {
            guard let str = s as? String, let k = LabelDesk.Answer.Kind(rawValue: str) else {
                throw Problem(message: "`status` must be one of label, skip, unclear", field: "status")
            }
            kind = k
        } else {
            kind = .label
        }
        var answers: [String] = []
        if let p = o["answers"], !(p is NSNull) {
            guard let list = p as? [String] else {
                throw Problem(message: "`answers` must be a list of strings: the decision path's answers in order", field: "answers")
            }
            answers = list
        }
        var confidence: Double?
        if let c = o["confidence"], !(c is NSNull) {
            guard let n = c as? NSNumber, !(c is Bool) else {
                throw Problem(message: "`confidence` must be a number from 0 to 1", field: "confidence")
            }
            confidence = n.doubleValue
        }
        return LabelDesk.Answer(sampleId: sample, kind: kind, value: value, reason: reason, answers: answers, confidence: confidence)
    }

    /// An `application/x-www-form-urlencoded` body as a dictionary (`+` is a space, `%XX` a byte; the last value of a
    /// repeated name wins; a pair whose percent-encoding is invalid keeps its text as it was sent).
    public static func form(_ s: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in s.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ x: Substring) -> String {
                String(x).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(x)
            }
            out[decode(kv[0])] = kv.count > 1 ? decode(kv[1]) : ""
        }
        return out
    }
}
