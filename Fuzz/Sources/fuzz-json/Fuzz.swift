// Fuzzes the byte-level JSON parser that reads every JSONL record, manifest row and API body.
// Properties checked on every input, beyond "does not crash":
// - a value that parses serializes to JSON that parses back to the same value (round trip);
// - parsing is deterministic and parseObject agrees with parseValue on objects.
import StrataCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: count)
    switch JSONRecord.parseValue(bytes, maxDepth: 32) {
    case .success(let value):
        let again = value.serialize()
        guard case .success(let reparsed) = again.withUnsafeBytes({ JSONRecord.parseValue($0, maxDepth: 64) }) else {
            fatalError("serialized JSON does not parse: \(String(decoding: again, as: UTF8.self))")
        }
        if !sameValue(value, reparsed) { fatalError("round trip changed the value: \(value) -> \(reparsed)") }
        if case .object = value {
            guard case .success = JSONRecord.parseObject(bytes, maxDepth: 32) else { fatalError("parseValue gave an object, parseObject failed") }
        }
    case .failure:
        if case .success = JSONRecord.parseObject(bytes, maxDepth: 32) { fatalError("parseObject accepted what parseValue rejected") }
    }
    return 0
}

/// Equality that treats NaN-free numbers by value (an int written as 1.0 may come back as int 1).
func sameValue(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.object(let x), .object(let y)):
        return x.count == y.count && x.allSatisfy { k, v in y[k].map { sameValue(v, $0) } ?? false }
    case (.array(let x), .array(let y)):
        return x.count == y.count && zip(x, y).allSatisfy { sameValue($0, $1) }
    case (.int(let x), .number(let y)), (.number(let y), .int(let x)):
        return Double(x) == y
    default:
        return a == b
    }
}
