import Foundation
import StrataCatalog
import StrataCore

/// Plans an export from plain values read from the catalog: which members it holds, in what order, and which
/// shard files they go to. Pure: no disk, no database (the executor, `Workspace.export`, reads the version and
/// writes the plan's shards).
struct ExportPlanner {
    var format: ExportFormat
    /// Samples per shard (nil: the format's default).
    var shardSize: Int?

    /// One shard file of the plan.
    struct Shard: Equatable, Sendable {
        var split: String
        /// The shard's path inside the export folder (`data/<split>-NNNNN-of-NNNNN.<ext>`, `data/<split>-NNNNNN.tar`).
        var path: String
        /// The shard's members: a range of `Plan.members`.
        var members: Range<Int>
    }

    struct Plan: Sendable {
        /// The one modality of the export's samples (`text` for an empty one).
        var modality: String
        /// Members in export order: by split (in the spec's order), then sample id.
        var members: [VersionMemberRow]
        var shards: [Shard]
        /// Samples per split.
        var splits: [String: Int]
    }

    /// The export's folder under `data/ready/`: `<version>[-<modality>]/<format>`.
    static func folder(version: String, modality: String?, format: ExportFormat) -> String {
        (modality.map { "\(version)-\($0)" } ?? version) + "/" + format.rawValue
    }

    /// The split order: the spec's splits first, then any other split of the version by name.
    static func splitOrder(spec: SplitSpec, versionSplits: some Sequence<String>) -> [String: Int] {
        var order: [String: Int] = [:]
        for (i, r) in spec.ratios.enumerated() { order[r.name] = i }
        for s in versionSplits.sorted() where order[s] == nil { order[s] = order.count }
        return order
    }

    /// The members a `--modality` export takes (all of them without one). `modalityOf`: sample id -> modality.
    static func select(_ members: [VersionMemberRow], modality only: String?, modalityOf: [String: String],
                       version: String) throws -> [VersionMemberRow] {
        guard let only else { return members }
        let chosen = members.filter { modalityOf[$0.sampleId] == only }
        if chosen.isEmpty {
            throw StrataError.usage("version \(version) has no \(only) samples",
                                    fix: "modalities in it: \(Set(modalityOf.values).sorted().joined(separator: ", "))")
        }
        return chosen
    }

    /// Orders the members and cuts them into shards; refuses a mix of modalities (one export holds one kind of content).
    func plan(_ members: [VersionMemberRow], modalityOf: [String: String], splitOrder order: [String: Int],
              version: String) throws -> Plan {
        let sorted = members.sorted { (order[$0.split] ?? 99, $0.sampleId) < (order[$1.split] ?? 99, $1.sampleId) }
        let modalities = Set(members.compactMap { modalityOf[$0.sampleId] })
        guard modalities.count <= 1 else {
            throw StrataError.usage("version \(version) mixes modalities (\(modalities.sorted().joined(separator: ", "))): one export holds one kind of content",
                                    fix: "export one modality at a time: add --modality \(modalities.sorted().first ?? Modality.text.rawValue) (each goes to data/ready/\(version)-<modality>/<format>/)")
        }
        let size = max(1, shardSize ?? (format == .webdataset ? 10_000 : 100_000))
        var shards: [Shard] = []
        var splits: [String: Int] = [:]
        var index = 0
        while index < sorted.count {
            let split = sorted[index].split
            var end = index
            while end < sorted.count && sorted[end].split == split { end += 1 }
            let count = end - index
            splits[split] = count
            let n = (count + size - 1) / size
            for s in 0..<n {
                let name = format == .webdataset
                    ? String(format: "%@-%06d.tar", split, s)
                    : String(format: "%@-%05d-of-%05d.%@", split, s, n, format.fileExtension)
                shards.append(Shard(split: split, path: "data/" + name, members: (index + s * size)..<min(end, index + (s + 1) * size)))
            }
            index = end
        }
        return Plan(modality: modalities.first ?? Modality.text.rawValue, members: sorted, shards: shards, splits: splits)
    }
}
