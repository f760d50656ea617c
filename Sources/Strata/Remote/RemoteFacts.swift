import Foundation
import StrataCatalog
import StrataCore
import StrataRemote
import StrataStore

/// The catalog facts that travel beside a version's objects: label events and findings, in immutable
/// append-only batches on the remote (`labels/`, `findings/`), merged as a union on arrival. Batches a project
/// has read are cached under `.strata/remote-cache/<remote>/` since they never change.
struct RemoteFacts {
    let catalog: Catalog
    let backend: any RemoteBackend
    let cache: String

    /// A label event's identity across projects: every field but the local row id.
    /// One JSON object per line, keys sorted (the batch layout of `labels/` and `findings/`).
    static func jsonLines<T: Encodable>(_ rows: [T]) throws -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        var lines: [UInt8] = []
        for r in rows { lines += Array(try enc.encode(r)) + [0x0A] }
        return lines
    }

    static func eventKey(_ e: LabelEventRow) -> String {
        var c = e
        c.id = nil
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return FileIO.sha256(Array((try? enc.encode(c)) ?? Data()))
    }

    /// Every label event on the remote (batches are immutable, so they are cached locally once read).
    func remoteLabelEvents() throws -> (events: [LabelEventRow], batches: Int) {
        try remoteBatches(folder: "labels")
    }

    /// Every row of the append-only batches in `folder/` on the remote (label events, findings).
    func remoteBatches<Row: Decodable>(folder: String) throws -> (events: [Row], batches: Int) {
        try FileIO.makeDirectories(cache + "/" + folder)
        var out: [Row] = []
        let keys = try backend.list(folder + "/")
        for key in keys {
            let name = (key as NSString).lastPathComponent
            let local = cache + "/" + folder + "/" + name
            var bytes: [UInt8]
            if FileIO.status(local) != nil { bytes = try FileIO.readAll(local) } else {
                guard let b = try backend.get(key) else { continue }
                let digest = String(name.dropLast(".jsonl".count))
                guard FileIO.sha256(b) == digest else {
                    throw StrataError(.failure, "\(backend.display): \(key) is corrupted: expected sha256 \(digest), found \(FileIO.sha256(b))",
                                      fix: "remove it from the remote and push the labels again from a project that has them")
                }
                bytes = b
                try FileIO.writeAtomically(local, b, sync: false)
            }
            for (i, line) in bytes.split(separator: 0x0A).enumerated() {
                do { out.append(try JSONDecoder().decode(Row.self, from: Data(line))) } catch {
                    throw StrataError(.failure, "\(key):\(i + 1): not a \(folder == "labels" ? "label event" : "finding"): \(UserErrors.inline(error))")
                }
            }
        }
        return (out, keys.count)
    }

    /// Uploads the label events the remote does not have yet as one new batch; returns how many.
    func pushLabels() throws -> Int {
        let remote = Set(try remoteLabelEvents().events.map(RemoteFacts.eventKey))
        let new = try catalog.labelEvents().filter { !remote.contains(RemoteFacts.eventKey($0)) }.map { e in var c = e; c.id = nil; return c }
        if !new.isEmpty {
            let lines = try RemoteFacts.jsonLines(new)
            try backend.put(RemoteLayout.labelBatch(FileIO.sha256(lines)), lines)
        }
        return new.count
    }

    /// Uploads the findings the remote does not have (findings are unique by their key) as one new batch.
    func pushFindings() throws -> Int {
        let remote = Set(try remoteBatches(folder: "findings").events.map { (f: FindingRow) in f.key })
        let new = try catalog.findings(kind: nil, stage: nil).map { $0.row }.filter { !remote.contains($0.key) }
            .map { f in var c = f; c.id = nil; return c }
        if !new.isEmpty {
            let lines = try RemoteFacts.jsonLines(new)
            try backend.put(RemoteLayout.findingBatch(FileIO.sha256(lines)), lines)
        }
        return new.count
    }

    /// Adds the remote's findings this project lacks (by key), for samples it has.
    func pullFindings() throws -> Int {
        let rows: [FindingRow] = try remoteBatches(folder: "findings").events
        let local = Set(try catalog.findings(kind: nil, stage: nil).map { $0.row.key })
        let known = try catalog.existingSampleIds(Set(rows.flatMap { [$0.sampleId, $0.relatedSampleId].compactMap { $0 } }))
        var seen = Set<String>()
        let add = rows.filter { f in
            !local.contains(f.key) && seen.insert(f.key).inserted
                && (f.sampleId.map(known.contains) ?? true) && (f.relatedSampleId.map(known.contains) ?? true)
        }.map { f -> FindingRow in var c = f; c.id = nil; return c }
        if !add.isEmpty { try catalog.addFindings(add) }
        return add.count
    }

    /// Adds the remote's label events this project lacks (a union: events are never changed or removed).
    func pullLabels() throws -> (added: Int, batches: Int) {
        let (events, batches) = try remoteLabelEvents()
        let local = Set(try catalog.labelEvents().map(RemoteFacts.eventKey))
        var seen = Set<String>()
        let fresh = events.filter { let k = RemoteFacts.eventKey($0); return !local.contains(k) && seen.insert(k).inserted }
        let known = try catalog.existingSampleIds(Set(fresh.map(\.sampleId)))
        let add = fresh.filter { known.contains($0.sampleId) }
        try catalog.appendRemoteLabelEvents(add)
        return (add.count, batches)
    }
}
