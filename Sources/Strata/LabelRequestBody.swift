import Foundation

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
    /// does not take, and every invalid body, goes through `JSONSerialization`, whose messages name the position.
    public static func object(_ body: UnsafeRawBufferPointer) throws(Problem) -> [String: Any] {
        guard !body.isEmpty else { throw Problem(message: "the body is empty; send a JSON object") }
        if let fast = AnswerJSON.object(body) { return fast }
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: Data(body)) } catch {
            throw Problem(message: "the body is not valid JSON: \(describe(error))")
        }
        guard let object = parsed as? [String: Any] else { throw Problem(message: "the body must be a JSON object") }
        return object
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

    /// Foundation's JSON errors carry the position in their debug description; keep that part.
    public static func describe(_ error: any Error) -> String {
        let ns = error as NSError
        if let d = ns.userInfo["NSDebugDescription"] as? String { return d }
        return "\(error)"
    }
}
