import Foundation
import StrataCatalog
import StrataCore
import StrataRemote
import StrataStore

/// The remote's pack indexes and loose objects, as an inventory. Indexes never change once written, so each is
/// read once and kept in `.strata/remote-cache/<remote>/idx/`.
struct RemoteIndexCache {
    let backend: any RemoteBackend
    let cache: String

    func inventory() throws -> RemoteInventory {
        var inv = RemoteInventory()
        try FileIO.makeDirectories(cache + "/idx")
        for key in try backend.list("packs/") {
            guard let id = RemoteLayout.packId(ofIndex: key) else { continue }
            let local = cache + "/idx/" + id + ".idx"
            let bytes: [UInt8]
            if FileIO.status(local) != nil { bytes = try FileIO.readAll(local) } else {
                guard let b = try backend.get(key) else { continue }
                bytes = b
                try FileIO.writeAtomically(local, b, sync: false)
            }
            inv.add(try PackIndex.decode(bytes, key: key))
        }
        for key in try backend.list("objects/") { if let d = RemoteLayout.looseDigest(key) { inv.addLoose(d) } }
        return inv
    }
}

/// Reading version references and records from a remote.
enum RemoteVersions {
    /// The remote's version references (not the claims a store without conditional writes keeps beside them).
    static func refKeys(_ backend: any RemoteBackend) throws -> [String] {
        try backend.list("refs/versions/").filter { !$0.contains(".claims/") && !$0.hasSuffix("/") }
    }

    /// Every object id a version record needs: its manifest, its spec snapshots, its members' content and raw content.
    static func referenced(by r: RemoteVersionRecord) -> Set<String> {
        var s: Set<String> = [r.version.id]
        for m in r.members { s.insert(m.contentSha); s.insert(m.sampleId) }
        s.formUnion((try? JSONDecoder().decode(VersionSummary.self, from: Data(r.version.summary.utf8)))?.specs.values.map { $0 } ?? [])
        return s
    }

    static func resolve(_ backend: any RemoteBackend, _ ref: String) throws -> RemoteVersionRecord {
        var id: String?
        if let b = try backend.get(RemoteLayout.ref(ref)) {
            id = String(decoding: b, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } else if ref.count >= 4 {
            let matches = try backend.list("versions/").filter { $0.hasPrefix("versions/" + ref) }
            if matches.count > 1 { throw StrataError.usage("`\(ref)` matches more than one version on \(backend.display)", fix: "give more characters") }
            id = matches.first.map { String($0.dropFirst("versions/".count).dropLast(".json".count)) }
        }
        guard let id, let bytes = try backend.get(RemoteLayout.versionRecord(id)) else {
            let names = try refKeys(backend).map { String($0.dropFirst("refs/versions/".count)) }
            throw StrataError.usage("no version `\(ref)` on \(backend.display)",
                                    fix: names.isEmpty ? "push one first (`strata push`)" : "versions there: \(names.joined(separator: ", "))")
        }
        let record: RemoteVersionRecord
        do { record = try JSONDecoder().decode(RemoteVersionRecord.self, from: Data(bytes)) } catch {
            throw StrataError(.failure, "\(backend.display): \(RemoteLayout.versionRecord(id)) is not a version record: \(UserErrors.inline(error))")
        }
        guard record.version.id == id else {
            throw StrataError(.failure, "\(backend.display): \(RemoteLayout.versionRecord(id)) describes version \(record.version.id), not \(id)")
        }
        return record
    }
}
