import StrataCatalog
import StrataCore

/// Where a sample was first seen: its origin file and line.
struct RecordOrigin: Sendable, Equatable {
    var origin: String
    var line: Int?
}

/// What to do with one row of a record batch, decided without touching a disk or the catalog.
enum RecordStep: Sendable, Equatable {
    case blank
    /// The row is not a sample: quarantine it.
    case reject(line: Int, kind: FindingKind, reason: String, bytes: [UInt8], sha: String)
    /// A new sample (its short id is allocated when the step is applied).
    case accept(row: SampleRow, text: [UInt8])
    /// The same text as a sample already known (in the catalog or earlier in this ingest).
    case duplicate(sampleId: String, line: Int, canonical: RecordOrigin, externalId: String?)
    /// The row's external id was first used at `first`.
    case duplicateId(sampleId: String, line: Int, externalId: String, first: RecordOrigin)
    /// The first use of an external id in this ingest.
    case firstExternalId(String, line: Int)
    case label(sampleId: String, value: String, line: Int)
    case missingLabel(sampleId: String, line: Int, field: String)
    case wrongLabelType(sampleId: String, line: Int, value: JSONValue, field: String)
    /// The row has a `label` field but no `--label-field` was given.
    case unusedLabelField
}

/// The planning half of record ingest: decides a batch of parsed rows, in file order, against the facts the catalog
/// and this ingest already hold (known samples, samples and external ids seen earlier in the run). Pure: the I/O
/// half (`IngestContext.decide`) looks the facts up, applies the steps and writes texts.
struct RecordBatchPlanner {
    /// Samples in the catalog before this batch, by content id.
    var known: [String: RecordOrigin]
    /// A sample created earlier in this ingest, by content id.
    var seenBefore: (String) -> RecordOrigin?
    /// An external id used earlier in this ingest.
    var externalIdBefore: (String) -> RecordOrigin?

    /// The steps for `prepared` (rows of the file `origin`), in file order.
    func plan(_ prepared: [PreparedRecord], origin: String) -> [RecordStep] {
        var steps: [RecordStep] = []
        steps.reserveCapacity(prepared.count)
        var seenHere: [String: RecordOrigin] = [:]
        var idsHere: [String: RecordOrigin] = [:]
        for p in prepared {
            switch p {
            case .blank:
                steps.append(.blank)
            case .problem(let line, let kind, let reason, let bytes, let sha):
                steps.append(.reject(line: line, kind: kind, reason: reason, bytes: bytes, sha: sha))
            case .sample(let row, let text, let label, let unusedLabel):
                let line = row.originLine ?? 0
                if unusedLabel { steps.append(.unusedLabelField) }
                if let externalId = row.externalId {
                    if let first = idsHere[externalId] ?? externalIdBefore(externalId) {
                        steps.append(.duplicateId(sampleId: row.id, line: line, externalId: externalId, first: first))
                    } else {
                        idsHere[externalId] = RecordOrigin(origin: origin, line: line)
                        steps.append(.firstExternalId(externalId, line: line))
                    }
                }
                if let canonical = known[row.id] ?? seenHere[row.id] ?? seenBefore(row.id) {
                    steps.append(.duplicate(sampleId: row.id, line: line, canonical: canonical, externalId: row.externalId))
                } else {
                    seenHere[row.id] = RecordOrigin(origin: origin, line: line)
                    steps.append(.accept(row: row, text: text))
                }
                switch label {
                case .none: break
                case .value(let v): steps.append(.label(sampleId: row.id, value: v, line: line))
                case .missing(let field): steps.append(.missingLabel(sampleId: row.id, line: line, field: field))
                case .wrongType(let v, let field): steps.append(.wrongLabelType(sampleId: row.id, line: line, value: v, field: field))
                }
            }
        }
        return steps
    }
}
