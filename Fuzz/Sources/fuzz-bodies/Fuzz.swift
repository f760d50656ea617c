// Fuzzes the label server's request bodies (`LabelRequestBody`, the code the server runs on what clients send):
// the JSON answers of POST /api/labels and /api/review/decisions, and `application/x-www-form-urlencoded` forms
// (sign-in, CSRF field). The first byte picks the parser (even: JSON, odd: form).
// JSON properties: reading never crashes and gives the same result twice; the strict fast reader agrees with the
// general reader on every body it accepts (same keys and values, same answer or the same problem), and with
// JSONSerialization on its keys and strings (its numbers may differ in the last digit: found by this target); an
// accepted answer carries the body's `sample`; every problem has a message.
// Form properties: parsing never crashes and gives the same result twice; re-encoding the parsed fields (every byte
// but the unreserved ones percent-encoded) and parsing again gives the same fields.
import Foundation
import Strata

func equalValues(_ a: Any, _ b: Any) -> Bool {
    switch (a, b) {
    case (let x as String, let y as String): return x == y
    case (is NSNull, is NSNull): return true
    case (let x as [String], let y as [String]): return x == y
    case (let x as NSNumber, let y as NSNumber): return x.doubleValue == y.doubleValue || (x.doubleValue.isNaN && y.doubleValue.isNaN)
    case (let x as [String: Any], let y as [String: Any]): return equalObjects(x, y)
    case (let x as [Any], let y as [Any]): return x.count == y.count && zip(x, y).allSatisfy { equalValues($0, $1) }
    default: return false
    }
}

func equalObjects(_ a: [String: Any], _ b: [String: Any]) -> Bool {
    a.count == b.count && a.allSatisfy { k, v in b[k].map { equalValues(v, $0) } ?? false }
}

func outcome(_ o: [String: Any]) -> String {
    do { return "\(try LabelRequestBody.answer(from: o))" } catch { return "problem \(error)" }
}

let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)

func encode(_ s: String) -> String {
    var out = ""
    for b in s.utf8 {
        if unreserved.contains(b) { out.unicodeScalars.append(Unicode.Scalar(b)) } else { out += String(format: "%%%02X", b) }
    }
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBodies(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let body = UnsafeRawBufferPointer(start: data + 1, count: count - 1)
    if data[0] & 1 == 0 {
        let first = Result { () throws(LabelRequestBody.Problem) in try LabelRequestBody.object(body) }
        let second = Result { () throws(LabelRequestBody.Problem) in try LabelRequestBody.object(body) }
        switch (first, second) {
        case (.success(let a), .success(let b)):
            if !equalObjects(a, b) { fatalError("reading a body twice gave different objects") }
            let answer = Result { () throws(LabelRequestBody.Problem) in try LabelRequestBody.answer(from: a) }
            switch answer {
            case .success(let x): if x.sampleId != a["sample"] as? String { fatalError("the answer's sample is not the body's") }
            case .failure(let p): if p.message.isEmpty { fatalError("a problem without a message") }
            }
        case (.failure(let a), .failure(let b)):
            if a != b || a.message.isEmpty { fatalError("reading a body twice gave different problems, or one without a message") }
        default:
            fatalError("reading a body twice gave different outcomes")
        }
        if let strict = LabelRequestBody.strictObject(body) {
            let general: [String: Any]
            do { general = try LabelRequestBody.generalObject(body) } catch {
                fatalError("the strict reader accepted a body the general reader rejects: \(error)")
            }
            if !equalObjects(strict, general) { fatalError("the strict and general readers read different values: \(strict) vs \(general)") }
            if outcome(strict) != outcome(general) { fatalError("the strict and general objects give different answers") }
            // JSONSerialization, the reference reader, must accept it too, with the same keys and strings.
            guard let reference = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
                  Set(reference.keys) == Set(strict.keys) else {
                fatalError("the strict reader accepted a body JSONSerialization reads differently")
            }
            for (k, v) in strict where v is String || v is [String] {
                if !equalValues(v, reference[k]!) { fatalError("field \(k) differs from JSONSerialization's reading") }
            }
        }
    } else {
        let text = String(decoding: body, as: UTF8.self)
        let fields = LabelRequestBody.form(text)
        if fields != LabelRequestBody.form(text) { fatalError("parsing a form twice gave different fields") }
        let again = fields.sorted { $0.key < $1.key }.map { encode($0.key) + "=" + encode($0.value) }.joined(separator: "&")
        if LabelRequestBody.form(again) != fields { fatalError("re-encoded fields read back differently: \(fields)") }
    }
    return 0
}
