import Dispatch
import Foundation
import StrataCore
import StrataQuality

/// `dedup.exact`: items whose normalized content is identical (text: NFC, case and whitespace folded; media: bytes).
struct ExactDedupStage: GlobalStage {
    /// 2: annotation files are length-prefixed binary records.
    static let codeVersion = 2
    let keep: KeepPolicy
    let normalize: Bool
    let partitions = 1
    let findingKind = "duplicate"

    init(_ p: inout StageParams) throws {
        keep = KeepPolicy(rawValue: try p.string("keep", default: "first", allowed: KeepPolicy.allCases.map(\.rawValue)))!
        normalize = try p.bool("normalize", default: true)
    }

    func applies(to item: WorkItem) -> Bool { true }

    func annotate(_ item: WorkItem, context: StageContext) throws -> [UInt8] {
        guard item.modality == "text", normalize else { return Array(item.id.utf8) }
        return Array(("n:" + ExactKey.normalizedHash(bytes: try context.content(item))).utf8)
    }

    func bandKeys(partition: Int, annotation: Annotation) -> [UInt64] {
        // FNV-1a 64 of the key text: the same in every process (Swift's Hasher is seeded per process).
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in annotation { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return [h]
    }

    func confirm(_ a: Annotation, _ b: Annotation) -> Bool { a.elementsEqual(b) }

    func reason(of item: WorkItem, duplicating kept: WorkItem, annotations: (Annotation, Annotation)) -> String {
        "same \(normalize && item.modality == "text" ? "normalized " : "")content as \(kept.place) (kept by policy `\(keep.rawValue)`)"
    }
}

/// `dedup.near`: for text, MinHash over n-gram shingles with LSH banding, candidate pairs confirmed by estimated
/// Jaccard; for images, perceptual hashes (dHash, pHash) within a Hamming distance, found by multi-index hashing;
/// for audio, Chromaprint fingerprints aligned at their best offset. Pairs are clustered with union-find and one
/// member per cluster is kept (`keep`), the same for every modality.
struct NearDedupStage: GlobalStage {
    /// 3: binary signatures (`m:` + 4 bytes per permutation) in length-prefixed annotation files.
    /// 4: text candidates are confirmed on the exact Jaccard of their shingle sets (`confirmPairs`).
    /// 5: images whose shorter side is below `image_min_side` (default 16) get no perceptual hash.
    static let codeVersion = 5
    let media: MediaNearDup
    let modalities: Set<String>
    let config: MinHashConfig
    let hasher: MinHasher
    let keep: KeepPolicy
    let partitions: Int
    let findingKind = "near-duplicate"

    init(_ p: inout StageParams) throws {
        var c = MinHashConfig()
        c.permutations = try p.int("permutations", default: c.permutations, min: 8, max: 1024)
        c.bands = try p.int("bands", default: c.bands, min: 1, max: 1024)
        guard c.permutations % c.bands == 0 else {
            throw StageError("stage `\(p.stage)`: params.permutations (\(c.permutations)) must be a multiple of params.bands (\(c.bands))")
        }
        c.ngram = try p.int("ngram", default: c.ngram, min: 1, max: 32)
        switch try p.string("shingle", default: "auto", allowed: ["auto", "words", "characters"]) {
        case "words": c.shingle = .words
        case "characters": c.shingle = .characters
        default: c.shingle = .auto
        }
        c.threshold = try p.double("threshold", default: c.threshold, min: 0.01, max: 1)
        c.seed = UInt64(try p.int("seed", default: Int(c.seed), min: 0))
        config = c
        hasher = MinHasher(config: c)
        keep = KeepPolicy(rawValue: try p.string("keep", default: "first", allowed: KeepPolicy.allCases.map(\.rawValue)))!
        partitions = try p.int("partitions", default: 4, min: 1, max: 1024)
        media = try MediaNearDup(&p)
        let ms = try p.strings("modalities")
        for m in ms where Modality(rawValue: m) == nil {
            throw StageError("stage `\(p.stage)`: params.modalities has `\(m)`; allowed: text, image, audio")
        }
        modalities = ms.isEmpty ? ["text", "image", "audio"] : Set(ms)
    }

    func applies(to item: WorkItem) -> Bool { modalities.contains(item.modality) }

    func indexed(_ annotation: Annotation) -> Bool { MediaNearDup.isMedia(annotation) }

    func indexedPairs(partition: Int, entries: [(index: Int, annotation: [UInt8])]) -> [(Int, Int)] {
        media.pairs(partition: partition, partitions: partitions, entries: entries)
    }

    func annotate(_ item: WorkItem, context: StageContext) throws -> [UInt8] {
        if item.modality != "text" { return Array(try media.annotate(item, context: context).utf8) }
        let shingles = Shingler.shingles(try context.text(item), n: config.ngram, mode: config.shingle)
        return Signature.encode(hasher, shingles)
    }

    func bandKeys(partition: Int, annotation: Annotation) -> [UInt64] {
        let rows = config.permutations / config.bands
        guard annotation.count == 2 + 4 * config.permutations else { return [] }
        return stride(from: partition, to: config.bands, by: partitions).map { Signature.bandKey(annotation, band: $0, rows: rows) }
    }

    func confirm(_ a: Annotation, _ b: Annotation) -> Bool {
        if MediaNearDup.isMedia(a) || MediaNearDup.isMedia(b) { return media.confirm(a, b) }
        return LSH.estimatedJaccard(Signature.decode(a), Signature.decode(b)) >= config.threshold
    }

    /// How far below the threshold a text candidate's signature estimate may be and still be checked exactly:
    /// four standard deviations of the estimate at its widest (J = 0.5), 0.18 with 128 permutations. A pair whose
    /// true Jaccard reaches the threshold has an estimate this far below it with a probability under 1 in 10^4.
    var exactCheckMargin: Double { 4 * (0.25 / Double(config.permutations)).squareRoot() }

    /// Text candidates are decided on the exact Jaccard of their shingle sets (the items' content is read again
    /// and shingled, in parallel), so a pair at or above the threshold is not lost to the signature estimate's
    /// noise (a standard deviation of 0.035 at 0.8 with 128 permutations) and a pair below it is never merged.
    /// Candidates whose estimate lies more than `exactCheckMargin` below the threshold are rejected without
    /// reading them. Image and audio candidates are decided by their annotations (`confirm`).
    func confirmPairs(_ pairs: [(Int, Int)], annotations: [Int: [UInt8]], items: [Int: WorkItem], context: StageContext) throws -> [Bool] {
        var decided = [Bool](repeating: false, count: pairs.count)
        var check: [Int] = []
        let signatureBytes = 2 + 4 * config.permutations
        for (n, (i, j)) in pairs.enumerated() {
            let a = annotations[i]![...], b = annotations[j]![...]
            if MediaNearDup.isMedia(a) || MediaNearDup.isMedia(b) { decided[n] = media.confirm(a, b); continue }
            guard a.count == signatureBytes, b.count == signatureBytes else { continue }
            if LSH.estimatedJaccard(Signature.decode(a), Signature.decode(b)) < config.threshold - exactCheckMargin { continue }
            check.append(n)
        }
        if check.isEmpty { return decided }
        let checked = check
        // Pair by pair, in parallel: each pair's two texts are read and shingled when it is checked, so nothing but
        // the answers is held (a sample in several pairs is shingled once per pair; memory stays flat).
        let answers = ParallelSlots<Bool>(count: check.count)
        let failure = FirstError()
        let chunks = min(check.count, ProcessInfo.processInfo.activeProcessorCount * 4)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            var k = c
            while k < checked.count {
                let (i, j) = pairs[checked[k]]
                do {
                    let a = Shingler.shingleSet(try context.text(items[i]!), n: config.ngram, mode: config.shingle)
                    let b = Shingler.shingleSet(try context.text(items[j]!), n: config.ngram, mode: config.shingle)
                    answers.set(k, Shingler.jaccard(a, b) >= config.threshold)
                } catch {
                    failure.set(error); return
                }
                k += chunks
            }
        }
        if let e = failure.error { throw e }
        for (k, n) in check.enumerated() { decided[n] = answers.get(k) }
        return decided
    }

    func reason(of item: WorkItem, duplicating kept: WorkItem, annotations: (Annotation, Annotation)) -> String {
        if MediaNearDup.isMedia(annotations.0) { return media.reason(kept: kept, annotations.0, annotations.1, keep: keep) }
        // The decision was made on the exact Jaccard of a chain of candidate pairs; the estimate of this pair is
        // what the signatures say about the two samples directly.
        let j = LSH.estimatedJaccard(Signature.decode(annotations.0), Signature.decode(annotations.1))
        return String(format: "near duplicate of %@ (linked by pairs with shingle Jaccard >= %.2f; this pair estimated %.2f; kept by policy `%@`)", kept.place, config.threshold, j, keep.rawValue)
    }
}

/// Binary form of a MinHash signature in an annotation: `m:` then each 32-bit value little-endian. The tag keeps
/// text signatures apart from image (`i:`) and audio (`a:`) annotations of the same stage.
enum Signature {
    static func encode(_ hasher: MinHasher, _ shingles: [UInt64]) -> [UInt8] {
        let k = hasher.config.permutations
        return [UInt8](unsafeUninitializedCapacity: 2 + 4 * k) { out, initialized in
            out[0] = 0x6D; out[1] = 0x3A
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: k) { sig in
                shingles.withUnsafeBufferPointer { hasher.sign($0, into: sig.baseAddress!) }
                for i in 0..<k {
                    let v = sig[i].littleEndian
                    withUnsafeBytes(of: v) { b in for j in 0..<4 { out[2 + 4 * i + j] = b[j] } }
                }
            }
            initialized = 2 + 4 * k
        }
    }

    @inline(__always)
    static func value(_ s: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt32 {
        let p = 2 + 4 * i
        return UInt32(s[p]) | UInt32(s[p + 1]) << 8 | UInt32(s[p + 2]) << 16 | UInt32(s[p + 3]) << 24
    }

    /// The LSH key of one band (the same value as `LSH.bandKeys(decode(s))[band]`).
    static func bandKey(_ s: Annotation, band: Int, rows: Int) -> UInt64 {
        s.withUnsafeBufferPointer { sig in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: rows) { values in
                for r in 0..<rows { values[r] = value(sig, band * rows + r) }
                return LSH.bandKey(UnsafeBufferPointer(values), band: band)
            }
        }
    }

    static func decode(_ s: Annotation) -> [UInt32] {
        let k = max(0, (s.count - 2) / 4)
        return s.withUnsafeBufferPointer { sig in (0..<k).map { value(sig, $0) } }
    }
}

/// Values filled by concurrent workers, one slot each.
final class ParallelSlots<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [T?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: T) { lock.withLock { slots[i] = v } }
    func get(_ i: Int) -> T { lock.withLock { slots[i]! } }
}

/// The first error of concurrent workers.
final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var first: (any Error)?
    func set(_ e: any Error) { lock.withLock { if first == nil { first = e } } }
    var error: (any Error)? { lock.withLock { first } }
}
