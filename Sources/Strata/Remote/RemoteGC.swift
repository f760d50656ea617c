import Foundation
import StrataCatalog
import StrataCore
import StrataRemote
import StrataStore

/// What `strata remote gc` removes, planned from listings with no I/O of its own: packs none of whose objects a
/// version record references, packs without an index, unreferenced loose objects; only those written before
/// the grace period began. A push writes its objects before its version record, so an object younger than the
/// grace period may belong to a push still running; it is kept for a later gc.
struct RemoteGCPlan: Equatable {
    var unreferencedPacks: [String] = []
    var packsWithoutIndex: [String] = []
    var unreferencedLoose: [String] = []
    var wastedInKeptPacks = 0
    var bytes = 0
    var keptRecent = 0

    /// Keys to delete, in a safe order: an index before its pack (a pack without an index is invisible).
    var deletions: [String] {
        unreferencedPacks.flatMap { [RemoteLayout.packIndex(RemoteGCPlan.packId($0)), $0] } + packsWithoutIndex + unreferencedLoose
    }

    static func packId(_ packKey: String) -> String { String(packKey.dropFirst("packs/".count).dropLast(".pack".count)) }

    /// - Parameters:
    ///   - packKeys: the listing of `packs/` with modification times; `indexes`: each indexed pack's index.
    /// Bytes are those of the unreferenced packs (loose objects' sizes are not in the listings and not counted).
    static func make(referenced: Set<String>, packKeys: [DatedKey], indexes: [String: PackIndex], looseKeys: [DatedKey],
                     now: Date, graceSeconds: Double) -> RemoteGCPlan {
        var plan = RemoteGCPlan()
        let cutoff = now.addingTimeInterval(-graceSeconds)
        // A grace period of 0 takes everything unreferenced, whatever the listing's times say: S3 servers round
        // Last-Modified up to the next second (OpenStack Swift's S3 API does), so a key written a moment ago can
        // look newer than `now`.
        func old(_ k: DatedKey?) -> Bool { graceSeconds <= 0 || (k?.modified ?? now) <= cutoff }
        let byKey = Dictionary(packKeys.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for k in packKeys where k.key.hasSuffix(".pack") {
            let id = packId(k.key)
            if let idx = indexes[id] {
                let unused = idx.entries.filter { !referenced.contains($0.key) }
                if unused.count == idx.entries.count {
                    // Both the pack and its index must be older than the grace period.
                    if old(k) && old(byKey[RemoteLayout.packIndex(id)]) { plan.unreferencedPacks.append(k.key); plan.bytes += idx.packSize }
                    else { plan.keptRecent += 1 }
                } else {
                    plan.wastedInKeptPacks += unused.values.reduce(0) { $0 + $1.length }
                }
            } else if byKey[RemoteLayout.packIndex(id)] == nil {
                if old(k) { plan.packsWithoutIndex.append(k.key) } else { plan.keptRecent += 1 }
            }
        }
        for k in looseKeys {
            guard let d = RemoteLayout.looseDigest(k.key), !referenced.contains(d) else { continue }
            if old(k) { plan.unreferencedLoose.append(k.key) } else { plan.keptRecent += 1 }
        }
        return plan
    }
}

extension Workspace {
    /// The default grace period of `strata remote gc`: a day, far longer than any push between writing its
    /// first pack and its version record.
    public static let remoteGCGraceHours = 24.0

    /// Removes from a remote what no pushed version references (with `dryRun`, only reports the same plan).
    public func remoteGC(remoteName: String?, dryRun: Bool, graceHours: Double = Workspace.remoteGCGraceHours) throws -> RemoteGCReport {
        guard graceHours >= 0 else { throw StrataError.usage("--grace-hours must be 0 or more", fix: "e.g. --grace-hours 24") }
        let config = try remote(remoteName)
        let backend = try Workspace.backend(config.url)
        return try Workspace.remoteCall {
            var referenced = Set<String>()
            let records = try backend.list("versions/")
            for key in records {
                let id = String(key.dropFirst("versions/".count).dropLast(".json".count))
                referenced.formUnion(RemoteVersions.referenced(by: try RemoteVersions.resolve(backend, id)))
            }
            let packKeys = try backend.listDated("packs/")
            var indexes: [String: PackIndex] = [:]
            for k in packKeys {
                guard let id = RemoteLayout.packId(ofIndex: k.key), let b = try backend.get(k.key) else { continue }
                indexes[id] = try PackIndex.decode(b, key: k.key)
            }
            let plan = RemoteGCPlan.make(referenced: referenced, packKeys: packKeys, indexes: indexes, looseKeys: try backend.listDated("objects/"),
                                         now: Date(), graceSeconds: graceHours * 3600)
            let deletions = plan.deletions
            if !dryRun && !deletions.isEmpty { try backend.delete(deletions) }
            return RemoteGCReport(remote: config.name, versions: records.count, unreferencedPacks: plan.unreferencedPacks, packsWithoutIndex: plan.packsWithoutIndex,
                                  unreferencedLooseObjects: plan.unreferencedLoose, unreferencedBytesInKeptPacks: plan.wastedInKeptPacks, bytes: plan.bytes,
                                  keptRecent: plan.keptRecent, graceHours: graceHours, dryRun: dryRun, removed: dryRun ? 0 : deletions.count)
        }
    }
}
