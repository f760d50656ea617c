import Foundation
import StrataCore
import StrataQuality

/// `dedup.exact`: items whose normalized content is identical (text: NFC, case and whitespace folded; media: bytes).
struct ExactDedupStage: GlobalStage {
    static let codeVersion = 1
    let keep: KeepPolicy
    let normalize: Bool
    let partitions = 1
    let findingKind = "duplicate"

    init(_ p: inout StageParams) throws {
        keep = KeepPolicy(rawValue: try p.string("keep", default: "first", allowed: KeepPolicy.allCases.map(\.rawValue)))!
        normalize = try p.bool("normalize", default: true)
    }

    func applies(to item: WorkItem) -> Bool { true }

    func annotate(_ item: WorkItem, context: StageContext) throws -> String {
        guard item.modality == "text", normalize else { return item.id }
        return "n:" + ExactKey.normalizedHash(try context.text(item))
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
    static let codeVersion = 2
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

    func annotate(_ item: WorkItem, context: StageContext) throws -> String {
        if item.modality != "text" { return try media.annotate(item, context: context) }
        let sig = hasher.signature(Shingler.shingles(try context.text(item), n: config.ngram, mode: config.shingle))
        return Signature.encode(sig)
    }

    func bandKeys(partition: Int, annotation: Annotation) -> [UInt64] {
        let rows = config.permutations / config.bands
        return stride(from: partition, to: config.bands, by: partitions).map { Signature.bandKey(annotation, band: $0, rows: rows) }
    }

    func confirm(_ a: Annotation, _ b: Annotation) -> Bool {
        if MediaNearDup.isMedia(a) || MediaNearDup.isMedia(b) { return media.confirm(a, b) }
        return LSH.estimatedJaccard(Signature.decode(a), Signature.decode(b)) >= config.threshold
    }

    func reason(of item: WorkItem, duplicating kept: WorkItem, annotations: (Annotation, Annotation)) -> String {
        if MediaNearDup.isMedia(annotations.0) { return media.reason(kept: kept, annotations.0, annotations.1, keep: keep) }
        let j = LSH.estimatedJaccard(Signature.decode(annotations.0), Signature.decode(annotations.1))
        return String(format: "near duplicate of %@ (estimated Jaccard %.2f >= %.2f; kept by policy `%@`)", kept.place, j, config.threshold, keep.rawValue)
    }
}

/// Compact text form of a MinHash signature (hex of the 32-bit values).
enum Signature {
    static func encode(_ sig: [UInt32]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(sig.count * 8)
        for v in sig {
            var shift: UInt32 = 28
            while true {
                out.append(digits[Int((v >> shift) & 0xF)])
                if shift == 0 { break }
                shift -= 4
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The LSH key of one band straight from the hex text (the same value as `LSH.bandKeys(decode(s))[band]`).
    static func bandKey(_ s: Annotation, band: Int, rows: Int) -> UInt64 {
        s.withUnsafeBufferPointer { hex in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: rows) { values in
                var p = band * rows * 8
                for r in 0..<rows {
                    var v: UInt32 = 0
                    for _ in 0..<8 where p < hex.count {
                        let c = hex[p]
                        v = v << 4 | (c <= 0x39 ? UInt32(c &- 0x30) : UInt32(c &- 0x61 &+ 10))
                        p += 1
                    }
                    values[r] = v
                }
                return LSH.bandKey(UnsafeBufferPointer(values), band: band)
            }
        }
    }

    static func decode(_ s: Annotation) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(s.count / 8)
        var v: UInt32 = 0
        var n = 0
        for c in s {
            let d: UInt32 = c <= 0x39 ? UInt32(c - 0x30) : UInt32(c - 0x61 + 10)
            v = v << 4 | d
            n += 1
            if n == 8 { out.append(v); v = 0; n = 0 }
        }
        return out
    }
}
