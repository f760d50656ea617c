// Fuzzes the four spec decoders (strata.yaml, intent.yaml, rulebook.yaml, pipeline.yaml), which read user-written YAML.
// Properties: no crash; an error always names the file and at least one issue, and every line it names exists.
import StrataCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSpec(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let which = data[0] % 4
    let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: count - 1), as: UTF8.self)
    let lineCount = yamlLineCount(text)
    do {
        switch which {
        case 0: _ = try ProjectSpec.decode(yaml: text)
        case 1: _ = try IntentSpec.decode(yaml: text)
        case 2: _ = try RulebookSpec.decode(yaml: text)
        default: _ = try PipelineSpec.decode(yaml: text)
        }
    } catch {
        if error.issues.isEmpty { fatalError("a spec error without issues") }
        for issue in error.issues {
            if let line = issue.line, line < 1 || line > lineCount + 1 {
                fatalError("issue names line \(line) of a \(lineCount)-line file: \(issue)")
            }
        }
    }
    return 0
}

/// Lines as YAML counts them: LF, CR LF and a lone CR each end a line (as do NEL, LS and PS).
func yamlLineCount(_ text: String) -> Int {
    var count = 1
    var previous: Unicode.Scalar = " "
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n": if previous != "\r" { count += 1 }
        case "\r", "\u{85}", "\u{2028}", "\u{2029}": count += 1
        default: break
        }
        previous = scalar
    }
    return count
}
