// The label store's vocabulary: submissions, stored events, rulebook versions, consensus and agreement reports.

import Foundation
import StrataCore
@_exported import StrataLabels

/// What an event says about its sample.
public enum LabelStatus: String, Codable, Sendable, CaseIterable {
    /// The sample has the label in `value`.
    case label
    /// The annotator skipped the sample (with a reason: no label fits, must not be labeled, ...).
    case skip
    /// The annotator could not decide (with a reason); such samples go to adjudication.
    case unclear
}

/// Who or what produced an event.
public enum LabelSource: String, Codable, Sendable, CaseIterable {
    case human
    case `import`
    case model
    case pseudo
}

/// The role an annotator acted in. Events by a `reviewer` or `admin` are adjudications.
public enum AnnotatorRole: String, Codable, Sendable, CaseIterable {
    case tasker, reviewer, admin, importer, model

    public var adjudicates: Bool { self == .reviewer || self == .admin }
}

/// A label event to append.
public struct LabelSubmission: Codable, Sendable, Equatable {
    /// A sample's full id or short id.
    public var sample: String
    public var status: LabelStatus
    /// The label, for status `label`; must be a label of the rulebook.
    public var value: String?
    /// Why the sample was skipped or is unclear (required for those); optional note for a label.
    public var reason: String?
    public var annotator: String
    public var role: AnnotatorRole
    public var source: LabelSource
    /// 0...1, for model or pseudo labels (optional).
    public var confidence: Double?
    /// The answers given on the decision path, in order (optional).
    public var answers: [String]?
    /// The rulebook version id the label was made under; nil = the current one. An import may name an older
    /// recorded version.
    public var rulebookVersion: String?
    /// ISO 8601 time; nil = now.
    public var createdAt: String?
    /// A key that makes an import idempotent: a second event with the same key is skipped.
    public var importKey: String?

    public init(sample: String, status: LabelStatus = .label, value: String? = nil, reason: String? = nil,
                annotator: String, role: AnnotatorRole = .tasker, source: LabelSource = .human,
                confidence: Double? = nil, answers: [String]? = nil, rulebookVersion: String? = nil,
                createdAt: String? = nil, importKey: String? = nil) {
        self.sample = sample; self.status = status; self.value = value; self.reason = reason
        self.annotator = annotator; self.role = role; self.source = source; self.confidence = confidence
        self.answers = answers; self.rulebookVersion = rulebookVersion; self.createdAt = createdAt; self.importKey = importKey
    }
}

/// A stored label event.
public struct LabelEvent: Codable, Sendable, Equatable {
    public var id: Int64
    /// The sample's full id.
    public var sample: String
    public var shortId: String
    public var status: LabelStatus
    public var value: String?
    public var reason: String?
    public var annotator: String
    public var role: AnnotatorRole
    public var source: LabelSource
    public var confidence: Double?
    public var rulebookVersion: String?
    public var answers: [String]?
    public var createdAt: String
}

/// The outcome of appending a batch.
public struct LabelAppendResult: Codable, Sendable, Equatable {
    /// The events stored, in submission order.
    public var stored: [LabelEvent]
    /// Submissions skipped because their import key was already stored.
    public var duplicates: Int
}

/// Bad submissions: nothing of the batch was stored.
public struct LabelInputError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable, Codable {
        /// No sample has this id or short id.
        case unknownSample = "unknown-sample"
        /// The value is not a label of the rulebook.
        case unknownLabel = "unknown-label"
        /// Any other invalid field.
        case invalid
    }
    public struct Problem: Sendable, Equatable, Codable {
        /// Position of the submission in the batch (0-based).
        public var index: Int
        public var field: String
        public var code: Code
        public var message: String
    }
    public var problems: [Problem]

    public var description: String {
        let shown = problems.prefix(20).map { "  submission \($0.index + 1), \($0.field): \($0.message)" }
        let more = problems.count > 20 ? ["  ... and \(problems.count - 20) more"] : []
        return (["\(problems.count) invalid label submission(s); nothing was stored:"] + shown + more).joined(separator: "\n")
    }
}

/// A recorded rulebook version.
public struct RulebookVersion: Codable, Sendable, Equatable {
    /// Hash of the canonical rulebook (16 hex digits); stored on every event made under it.
    public var id: String
    /// 1, 2, 3, ... in the order versions were first seen (`r1`, `r2`, ...).
    public var number: Int
    /// Label name -> hash of its definition and signs.
    public var labelHashes: [String: String]
    public var createdAt: String
}

/// A known answer for a gold sample.
public struct GoldSubmission: Codable, Sendable, Equatable {
    public var sample: String
    public var value: String
    public var note: String?
    public init(sample: String, value: String, note: String? = nil) { self.sample = sample; self.value = value; self.note = note }
}

/// The consensus of one sample.
public struct SampleConsensus: Codable, Sendable, Equatable {
    public var sample: String
    public var shortId: String
    public var state: ItemConsensus.State
    public var label: String?
    public var support: Double
    /// Vote key (label, `(skip)` or `(unclear)`) -> count, one vote per annotator (their latest event).
    public var votes: [String: Int]
    public var annotators: Int
    public var reason: String?
    /// Gold answer, when the sample is a gold sample.
    public var gold: String?
}

/// A number per annotator (a list rather than a dictionary, so JSON keys never depend on annotator names).
public struct AnnotatorScore: Codable, Sendable, Equatable {
    public var annotator: String
    public var value: Double

    static func list(_ d: [String: Double]) -> [AnnotatorScore] {
        d.sorted { $0.key < $1.key }.map { AnnotatorScore(annotator: $0.key, value: $0.value) }
    }
}

/// Consensus over every labeled sample.
public struct ConsensusReport: Codable, Sendable, Equatable {
    public var method: ConsensusMethod
    public var annotatorsPerSample: Int
    public var threshold: Double
    public var samples: [SampleConsensus]
    /// The samples a reviewer must settle (state `adjudicate`), in sample order.
    public var adjudication: [SampleConsensus]
    /// State -> number of samples.
    public var counts: [String: Int]
    /// Dawid-Skene's estimate of each annotator's accuracy (only with that method), by annotator name.
    public var estimatedAccuracy: [AnnotatorScore]?
    /// With Dawid-Skene: the annotators who share no sample with another annotator, whose samples were decided by
    /// majority voting (their vote as given) because there is nothing to estimate their confusion from.
    public var dawidSkeneFallback: DawidSkeneFallback?
}

/// Annotators left out of the Dawid-Skene fit (they never overlap with anyone) and how many samples they decide.
public struct DawidSkeneFallback: Codable, Sendable, Equatable {
    public var annotators: [String]
    public var samples: Int

    /// The line `strata label consensus` prints.
    public var message: String {
        let who = annotators.count == 1 ? "annotator \(annotators[0]) shares" : "annotators \(annotators.joined(separator: ", ")) share"
        return "dawid-skene: \(who) no sample with another annotator: nothing to estimate confusion from, so \(samples) sample(s) use majority voting (the vote as given)"
    }
}

/// Agreement of the project's annotators.
public struct LabelAgreementReport: Codable, Sendable, Equatable {
    public var rulebookVersion: Int
    /// The rulebook's agreement threshold.
    public var threshold: Double
    public var agreement: AgreementReport
    /// Labels whose one-vs-rest Krippendorff's alpha is below the threshold.
    public var labelsBelowThreshold: [String]
    /// Dawid-Skene's estimate of each annotator's accuracy, by annotator name.
    public var estimatedAccuracy: [AnnotatorScore]
}
