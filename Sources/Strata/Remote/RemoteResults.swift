import Foundation
import StrataCatalog

/// What `strata push` did.
public struct PushResult: Codable, Sendable {
    public var remote: String
    public var versions: [String]
    public var objectsUploaded: Int
    public var objectsAlreadyThere: Int
    public var packsUploaded: Int
    /// Objects sent inside packs (the rest went loose).
    public var packsObjects: Int
    public var bytesUploaded: Int
    public var labelEventsUploaded: Int
    public var findingsUploaded: Int
    public var seconds: Double
    /// Versions whose name already points at another version on the remote (not overwritten).
    public var conflicts: [String]
}

/// What `strata pull` (and `clone`) did.
public struct PullResult: Codable, Sendable {
    public var remote: String
    public var version: String
    public var versionId: String
    public var members: Int
    public var selected: Int
    public var objectsDownloaded: Int
    public var objectsAlreadyHere: Int
    public var bytesDownloaded: Int
    public var labelEventsAdded: Int
    public var findingsAdded: Int
    public var seconds: Double
}

/// A version a remote holds, as `strata fetch` lists it.
public struct RemoteVersionInfo: Codable, Sendable, Equatable {
    public var name: String
    public var id: String
    public var state: String
    public var samples: Int
    public var local: Bool
}

public struct FetchResult: Codable, Sendable {
    public var remote: String
    public var versions: [RemoteVersionInfo]
    public var labelEventsAdded: Int
    public var labelBatches: Int
    public var findingsAdded: Int
}

/// A version as stored on a remote (`versions/<id>.json`): its row, members and the samples they name.
struct RemoteVersionRecord: Codable {
    var format = "strata.remote-version/1"
    var version: VersionRow
    var members: [VersionMemberRow]
    var samples: [SampleRow]
}

/// What `strata remote gc` found (and, unless a dry run, removed): what no version record on the remote references.
public struct RemoteGCReport: Codable, Sendable {
    public var remote: String
    public var versions: Int
    /// Packs none of whose objects a version references (the pack and its index go).
    public var unreferencedPacks: [String]
    /// Packs with no index, left by a killed push.
    public var packsWithoutIndex: [String]
    public var unreferencedLooseObjects: [String]
    /// Bytes of objects in kept packs that nothing references (reclaimable only by repacking).
    public var unreferencedBytesInKeptPacks: Int
    /// Bytes of the packs and loose objects listed above.
    public var bytes: Int
    /// Unreferenced keys written within the grace period: a push may still be writing the version that needs them.
    public var keptRecent: Int
    public var graceHours: Double
    public var dryRun: Bool
    /// Keys removed (0 on a dry run).
    public var removed: Int
}
