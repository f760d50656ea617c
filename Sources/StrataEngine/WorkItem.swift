import Foundation
import StrataCore

/// One sample as it flows through the pipeline. `id` is the SHA-256 of its current content; `sample` is the raw
/// sample it descends from (the lineage root), so every output can be traced back to what was collected.
public struct WorkItem: Codable, Sendable, Equatable {
    public var id: String
    public var sample: String
    public var source: String
    public var modality: String
    public var format: String
    /// Where the current bytes are.
    public var content: ContentRef
    public var origin: String
    public var line: Int?
    public var collected: String
    /// Transforms applied so far, oldest first.
    public var transforms: [Transform]
    /// A quality score set by `filter.quality` (higher is better), used by keep policies.
    public var score: Double?
    public var size: Int

    public init(id: String, sample: String, source: String, modality: String, format: String, content: ContentRef, origin: String,
                line: Int?, collected: String, transforms: [Transform] = [], score: Double? = nil, size: Int) {
        self.id = id; self.sample = sample; self.source = source; self.modality = modality; self.format = format
        self.content = content; self.origin = origin; self.line = line; self.collected = collected
        self.transforms = transforms; self.score = score; self.size = size
    }

    /// `origin:line` or `origin`, for messages.
    public var place: String { line.map { "\(origin):\($0)" } ?? origin }
}

/// One step of lineage: which stage changed the content, with which parameters.
public struct Transform: Codable, Sendable, Equatable {
    public var stage: String
    public var uses: String
    public var params: String
    public var changes: [String]
    public init(stage: String, uses: String, params: String, changes: [String]) {
        self.stage = stage; self.uses = uses; self.params = params; self.changes = changes
    }
}

/// What a stage decided for one item.
public enum ItemOutcome: Codable, Sendable, Equatable {
    /// The item goes on (possibly with new content and lineage).
    case keep(WorkItem)
    /// The item is rejected: it goes to quarantine with a stable kind and a reason.
    case reject(WorkItem, kind: String, reason: String)
    /// The item duplicates `of` (which is kept).
    case duplicate(WorkItem, of: WorkItem, kind: String, reason: String)
}

/// A stable, comparable summary of a stage's effect on its input.
public struct StageCounts: Codable, Sendable, Equatable {
    public var inputs = 0
    public var kept = 0
    public var rejected = 0
    public var duplicates = 0
    public var reasons: [String: Int] = [:]
    public init() {}

    /// inputs = outputs + quarantined + removed as duplicates.
    public var balanced: Bool { inputs == kept + rejected + duplicates }

    public mutating func add(_ o: ItemOutcome) {
        inputs += 1
        switch o {
        case .keep: kept += 1
        case .reject(_, let kind, _): rejected += 1; reasons[kind, default: 0] += 1
        case .duplicate(_, _, let kind, _): duplicates += 1; reasons[kind, default: 0] += 1
        }
    }
}
