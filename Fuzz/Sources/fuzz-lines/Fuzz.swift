// Fuzzes the line splitter that cuts JSONL files into records (copying and zero-copy paths).
// Properties: both paths and every chunking give the same lines; offsets and lengths add up to the input.
import StrataCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLines(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let chunk = Int(data[0] % 13) + 1
    let bytes = UnsafeRawBufferPointer(start: data + 1, count: count - 1)
    let whole = split(bytes, chunk: max(1, bytes.count), unsafe: false)
    let pieces = split(bytes, chunk: chunk, unsafe: false)
    let zeroCopy = split(bytes, chunk: chunk, unsafe: true)
    if whole != pieces || whole != zeroCopy { fatalError("lines depend on chunking or path (chunk \(chunk))") }
    for line in whole {
        if case .line(_, let b, let offset) = line {
            if offset + b.count > bytes.count { fatalError("line runs past the input") }
            if !b.elementsEqual(bytes[offset..<(offset + b.count)]) { fatalError("line bytes differ from the input at \(offset)") }
        }
    }
    return 0
}

func split(_ bytes: UnsafeRawBufferPointer, chunk: Int, unsafe: Bool) -> [LineSplitter.Line] {
    var splitter = LineSplitter(maxLineBytes: 64)
    var lines: [LineSplitter.Line] = []
    func keep(_ l: LineSplitter.UnsafeLine) {
        switch l {
        case .line(let n, let b, let o): lines.append(.line(number: n, bytes: Array(b), byteOffset: o))
        case .tooLong(let n, let o, let len): lines.append(.tooLong(number: n, byteOffset: o, length: len))
        }
    }
    var start = 0
    while start < bytes.count {
        let end = min(bytes.count, start + chunk)
        let piece = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        if unsafe { splitter.feedUnsafe(piece, keep) } else { splitter.feed(piece) { lines.append($0) } }
        start = end
    }
    if unsafe { splitter.finishUnsafe(keep) } else { splitter.finish { lines.append($0) } }
    return lines
}
