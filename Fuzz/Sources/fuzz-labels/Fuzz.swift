// Fuzzes the label-file importer (`strata label import`): Label Studio's JSON export, label JSONL and label CSV.
// The first byte picks the format. Properties: reading never crashes, reading twice gives the same result, every
// entry and problem names where it was found, and each entry is a submission with a sample and an annotator.
// Whether a skip has its reason and a label a known value is the label store's check at append time (tests cover it),
// not the file reader's: the first run of this target stopped on exactly that wrong assumption.
import Strata

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLabels(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let formats = LabelFileFormat.allCases
    let format = formats[Int(data[0]) % formats.count]
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: count - 1))
    let defaults = LabelImportDefaults(annotator: "fuzz")
    let field: String? = data[0] & 0x80 != 0 ? "uid" : nil
    let first = LabelFileReader.read(bytes, format: format, defaults: defaults, sampleField: field)
    let second = LabelFileReader.read(bytes, format: format, defaults: defaults, sampleField: field)
    if first.entries != second.entries || first.problems != second.problems { fatalError("reading \(format) twice gave different results") }
    for p in first.problems where p.location.isEmpty || p.message.isEmpty { fatalError("a problem without a location or message: \(p)") }
    for e in first.entries {
        if e.location.isEmpty { fatalError("an entry without a location") }
        if e.submission.sample.isEmpty { fatalError("an entry without a sample at \(e.location)") }
        if format == .labelStudio, e.submission.source != .import, e.submission.source != .model, e.submission.annotator.isEmpty {
            fatalError("a Label Studio entry without an annotator at \(e.location)")
        }
    }
    return 0
}
