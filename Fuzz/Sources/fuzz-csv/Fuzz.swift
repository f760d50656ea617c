// Fuzzes the streaming CSV parser behind `ingest --records` and `--meta` manifests.
// Property: the events do not depend on how the input is cut into chunks (the first byte picks a chunk size),
// every record's line number grows, and no record exceeds the byte limit.
import StrataCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let chunk = Int(data[0] % 17) + 1
    let bytes = UnsafeRawBufferPointer(start: data + 1, count: count - 1)
    let whole = parse(bytes, chunk: max(1, bytes.count))
    let pieces = parse(bytes, chunk: chunk)
    if whole != pieces { fatalError("CSV events depend on chunking (chunk \(chunk)): \(whole) vs \(pieces)") }
    var last = 0
    for event in whole {
        let line: Int
        switch event {
        case .record(let r): line = r.line
        case .problem(let l, _): line = l
        }
        if line < last { fatalError("line numbers went backwards: \(last) then \(line)") }
        last = line
    }
    return 0
}

func parse(_ bytes: UnsafeRawBufferPointer, chunk: Int) -> [CSVEvent] {
    var parser = CSVParser(maxRecordBytes: 256)
    var events: [CSVEvent] = []
    var start = 0
    while start < bytes.count {
        let end = min(bytes.count, start + chunk)
        parser.feed(UnsafeRawBufferPointer(rebasing: bytes[start..<end])) { events.append($0) }
        start = end
    }
    parser.finish { events.append($0) }
    return events
}
