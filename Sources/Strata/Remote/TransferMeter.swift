import Foundation
import StrataCore

/// Counts a transfer that several workers advance at once, and reports bytes/s and objects/s through the
/// progress reporter (a note at most every two seconds).
final class TransferMeter: Sendable {
    struct Counts: Sendable { var bytes = 0; var objects = 0; var lastNote = Date() }

    let progress: any ProgressReporter
    let verb: String
    let start = Date()
    let total: Int
    let totalObjects: Int
    private let counts = Locked(Counts())

    init(progress: any ProgressReporter, verb: String, total: Int, objects: Int) {
        self.progress = progress; self.verb = verb; self.total = total; self.totalObjects = objects
        if objects > 0 { progress.begin("\(verb == "pushed" ? "pushing" : "pulling") \(objects) objects", total: total) }
    }

    func advance(bytes b: Int, objects o: Int) {
        let note: Counts? = counts.withLock { c in
            c.bytes += b; c.objects += o
            guard Date().timeIntervalSince(c.lastNote) >= 2 else { return nil }
            c.lastNote = Date()
            return c
        }
        progress.advance(by: b)
        if let note { progress.note(line(note)) }
    }

    /// Bytes and objects counted so far.
    var bytes: Int { counts.value.bytes }
    var objects: Int { counts.value.objects }

    func line(_ c: Counts) -> String {
        let secs = max(Date().timeIntervalSince(start), 0.001)
        let mib = Double(c.bytes) / 1_048_576
        return "\(verb) \(c.objects)/\(totalObjects) objects, \(String(format: "%.1f", mib)) MiB at \(String(format: "%.1f", mib / secs)) MiB/s, \(Int(Double(c.objects) / secs)) objects/s"
    }

    func finish() { if totalObjects > 0 { progress.end() } }
}
