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
    let findingKind = FindingKind.duplicate.rawValue

    init(_ p: inout StageParams) throws {
        keep = KeepPolicy(rawValue: try p.string("keep", default: "first", allowed: KeepPolicy.allCases.map(\.rawValue)))!
        normalize = try p.bool("normalize", default: true)
    }

    func applies(to item: WorkItem) -> Bool { true }

    func annotate(_ item: WorkItem, context: StageContext) throws -> [UInt8] {
        guard item.kind == .text, normalize else { return Array(item.id.utf8) }
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
        "same \(normalize && item.kind == .text ? "normalized " : "")content as \(kept.place) (kept by policy `\(keep.rawValue)`)"
    }
}

/// `dedup.near`: for text, MinHash over n-gram shingles with LSH banding, candidate pairs decided on the measured
/// Jaccard of their shingle sets; for images, perceptual hashes (dHash, pHash) within a Hamming distance, found by
/// multi-index hashing, then verified on the pixels against the source's own nearest-neighbour distances; for audio,
/// Chromaprint fingerprints aligned at their best offset (log-mel signatures for clips too short for Chromaprint).
/// Pairs are clustered with union-find and one member per cluster is kept (`keep`), the same for every modality.
///
/// With `shingle: auto` (the default) a text shorter than `short_words` words also carries a signature of its
/// character `char_ngram`-grams; a pair of two such texts is a near duplicate when their character Jaccard reaches
/// `char_threshold` (or their word Jaccard reaches `threshold`). Longer texts are compared on word n-grams only
/// (scripts written without spaces on character n-grams, as before), so long documents cost what they did.
struct NearDedupStage: GlobalStage {
    /// 3: binary signatures (`m:` + 4 bytes per permutation) in length-prefixed annotation files.
    /// 4: text candidates are confirmed on the exact Jaccard of their shingle sets (`confirmPairs`).
    /// 5: images whose shorter side is below `image_min_side` (default 16) get no perceptual hash.
    /// 6: short texts carry a character signature (`t:`); images are composited over a contrasting background and
    ///    carry a 16x16 thumbnail verified on the pixels; short audio carries a log-mel signature.
    /// 7: short-audio pairs are also decided on their waveforms' correlation (`audio_short_min_waveform`).
    /// 8: image crops searched in half-pixel steps; transparent images verified on their premultiplied layer.
    static let codeVersion = 8
    let media: MediaNearDup
    let modalities: Set<String>
    let config: MinHashConfig
    let hasher: MinHasher
    /// Auto mode only: texts under this many words also get a character signature (0: never).
    let shortWords: Int
    let charNgram: Int
    /// The character n-gram size for short texts in scripts written without spaces (a character carries more).
    let charNgramNoSpace: Int
    let charThreshold: Double
    /// Bands of the character signature (rows: permutations / charBands).
    let charBands: Int
    let keep: KeepPolicy
    let partitions: Int
    let findingKind = FindingKind.nearDuplicate.rawValue
    /// Shingle sets of the texts checked by `confirmPairs`, so `reason` can quote the measured Jaccard.
    let measured = MeasuredSets()

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
        // Read (and validated) in every mode, so switching `shingle` in the init pipeline needs no other edit;
        // only `auto` gives short texts character signatures.
        let shortWordsParam = try p.int("short_words", default: 64, min: 0, max: 100_000)
        shortWords = c.shingle == .auto ? shortWordsParam : 0
        charNgram = try p.int("char_ngram", default: 5, min: 1, max: 32)
        charNgramNoSpace = try p.int("char_ngram_no_space", default: 3, min: 1, max: 32)
        charThreshold = try p.double("char_threshold", default: 0.5, min: 0.01, max: 1)
        charBands = try p.int("char_bands", default: 32, min: 1, max: 1024)
        guard c.permutations % charBands == 0 else {
            throw StageError("stage `\(p.stage)`: params.permutations (\(c.permutations)) must be a multiple of params.char_bands (\(charBands))")
        }
        keep = KeepPolicy(rawValue: try p.string("keep", default: "first", allowed: KeepPolicy.allCases.map(\.rawValue)))!
        partitions = try p.int("partitions", default: 4, min: 1, max: 1024)
        media = try MediaNearDup(&p)
        let ms = try p.strings("modalities")
        for m in ms where Modality(rawValue: m) == nil {
            throw StageError("stage `\(p.stage)`: params.modalities has `\(m)`; allowed: text, image, audio")
        }
        modalities = ms.isEmpty ? Set(Modality.allCases.map(\.rawValue)) : Set(ms)
    }

    func applies(to item: WorkItem) -> Bool { modalities.contains(item.modality) }

    func indexed(_ annotation: Annotation) -> Bool { MediaNearDup.isMedia(annotation) }

    func indexedPairs(partition: Int, entries: [(index: Int, annotation: [UInt8])]) -> [(Int, Int)] {
        media.pairs(partition: partition, partitions: partitions, entries: entries)
    }

    /// The primary shingles of a text (the configured mode; `auto` resolves per text) and, for a short text in auto
    /// mode, its character shingles.
    func textShingles(_ text: String) -> (primary: [UInt64], mode: ShingleMode, chars: [UInt64]?, charN: Int) {
        let mode = config.shingle == .auto ? Shingler.resolvedMode(text) : config.shingle
        let primary = Shingler.shingles(text, n: config.ngram, mode: mode)
        let charN = mode == .characters ? charNgramNoSpace : charNgram
        guard shortWords > 0, !primary.isEmpty else { return (primary, mode, nil, charN) }
        // Units: words for word mode, letters for scripts without spaces (about 4 to a word in the budget).
        let units = primary.count + config.ngram - 1
        let short = mode == .words ? units < shortWords : units < 4 * shortWords
        guard short else { return (primary, mode, nil, charN) }
        let chars = mode == .characters && charN == config.ngram ? primary : Shingler.shingles(text, n: charN, mode: .characters)
        return (primary, mode, chars, charN)
    }

    func annotate(_ item: WorkItem, context: StageContext) throws -> [UInt8] {
        if item.kind != .text { return Array(try media.annotate(item, context: context).utf8) }
        let s = textShingles(try context.text(item))
        guard let chars = s.chars else { return Signature.encode(hasher, s.primary) }
        var out = Signature.encode(hasher, s.primary)
        out[0] = 0x74 // `t:`: a primary signature followed by a character signature
        out += Signature.encode(hasher, chars).dropFirst(2)
        return out
    }

    var signatureBytes: Int { 2 + 4 * config.permutations }

    func bandKeys(partition: Int, annotation: Annotation) -> [UInt64] {
        let rows = config.permutations / config.bands
        let short = annotation.count == 2 * signatureBytes - 2
        guard annotation.count == signatureBytes || short else { return [] }
        var keys = stride(from: partition, to: config.bands, by: partitions).map { Signature.bandKey(annotation, band: $0, rows: rows) }
        if short {
            // The character signature's bands follow the primary's; the band index is mixed into each key, so
            // keys of the two signatures never collide.
            let charRows = config.permutations / charBands
            let chars = Array(annotation.dropFirst(4 * config.permutations))[...]
            for band in stride(from: partition, to: charBands, by: partitions) {
                keys.append(Signature.bandKey(chars, band: band, rows: charRows, tag: config.bands + band))
            }
        }
        return keys
    }

    /// The primary and (for short texts) character signatures of a text annotation.
    func signatures(_ a: Annotation) -> (primary: [UInt32], chars: [UInt32]?)? {
        if a.count == signatureBytes { return (Signature.decode(a), nil) }
        guard a.count == 2 * signatureBytes - 2 else { return nil }
        let all = Signature.decode(a)
        return (Array(all[..<config.permutations]), Array(all[config.permutations...]))
    }

    /// Whether the estimates leave a pair worth checking exactly.
    func plausible(_ a: Annotation, _ b: Annotation) -> Bool {
        guard let x = signatures(a), let y = signatures(b) else { return false }
        if LSH.estimatedJaccard(x.primary, y.primary) >= config.threshold - exactCheckMargin { return true }
        if let cx = x.chars, let cy = y.chars, LSH.estimatedJaccard(cx, cy) >= charThreshold - exactCheckMargin { return true }
        return false
    }

    func confirm(_ a: Annotation, _ b: Annotation) -> Bool {
        if MediaNearDup.isMedia(a) || MediaNearDup.isMedia(b) { return media.confirm(a, b) }
        guard let x = signatures(a), let y = signatures(b) else { return false }
        if LSH.estimatedJaccard(x.primary, y.primary) >= config.threshold { return true }
        if let cx = x.chars, let cy = y.chars { return LSH.estimatedJaccard(cx, cy) >= charThreshold }
        return false
    }

    /// How far below the threshold a text candidate's signature estimate may be and still be checked exactly:
    /// four standard deviations of the estimate at its widest (J = 0.5), 0.18 with 128 permutations. A pair whose
    /// true Jaccard reaches the threshold has an estimate this far below it with a probability under 1 in 10^4.
    var exactCheckMargin: Double { 4 * (0.25 / Double(config.permutations)).squareRoot() }

    /// The exact shingle sets of a text, as `textShingles` cuts it.
    func sets(_ text: String) -> MeasuredSets.Entry {
        let s = textShingles(text)
        return MeasuredSets.Entry(primary: Shingler.unique(s.primary), mode: s.mode, chars: s.chars.map(Shingler.unique), charN: s.charN)
    }

    /// The measured Jaccard that decides a pair: character n-grams when both texts are short (auto mode) and that
    /// reaches `char_threshold` or the primary n-grams do not reach `threshold`; else the primary n-grams.
    func measure(_ a: MeasuredSets.Entry, _ b: MeasuredSets.Entry) -> (jaccard: Double, unit: String, limit: Double, passed: Bool) {
        let primary = Shingler.jaccard(a.primary, b.primary)
        if let ca = a.chars, let cb = b.chars {
            let c = Shingler.jaccard(ca, cb)
            if c >= charThreshold || primary < config.threshold {
                return (c, "character \(a.charN)-gram", charThreshold, c >= charThreshold)
            }
        }
        let unit = a.mode == .characters && b.mode == .characters ? "character" : "word"
        return (primary, "\(unit) \(config.ngram)-gram", config.threshold, primary >= config.threshold)
    }

    /// Text candidates are decided on the exact Jaccard of their shingle sets (the items' content is read again
    /// and shingled, in parallel), so a pair at or above the threshold is not lost to the signature estimate's
    /// noise (a standard deviation of 0.035 at 0.8 with 128 permutations) and a pair below it is never merged.
    /// Candidates whose estimates lie more than `exactCheckMargin` below the thresholds are rejected without
    /// reading them. Image and audio candidates are decided by their annotations (`confirm`); short-audio pairs that
    /// pass are then decided on their decoded waveforms (`MediaNearDup.confirmWaveforms`).
    func confirmPairs(_ pairs: [(Int, Int)], annotations: [Int: [UInt8]], items: [Int: WorkItem], context: StageContext) throws -> [Bool] {
        var decided = [Bool](repeating: false, count: pairs.count)
        var check: [Int] = [], short: [Int] = []
        for (n, (i, j)) in pairs.enumerated() {
            let a = annotations[i]![...], b = annotations[j]![...]
            if MediaNearDup.isMedia(a) || MediaNearDup.isMedia(b) {
                decided[n] = media.confirm(a, b)
                if decided[n] && a.first == 0x73 && b.first == 0x73 { short.append(n) }
                continue
            }
            if plausible(a, b) { check.append(n) }
        }
        if !short.isEmpty {
            let answers = try media.confirmWaveforms(short.map { (items[pairs[$0].0]!, items[pairs[$0].1]!, annotations[pairs[$0].0]!, annotations[pairs[$0].1]!) },
                                                     context: context)
            for (k, n) in short.enumerated() { decided[n] = answers[k] }
        }
        if check.isEmpty { return decided }
        let checked = check
        // Pair by pair, in parallel: each pair's two texts are read and shingled when it is checked. The sets of
        // texts in a confirmed pair are kept (by annotation) for `reason`; memory stays near the duplicates' size.
        let answers = Slots<Bool>(count: check.count)
        let failure = FirstError()
        let chunks = min(check.count, ProcessInfo.processInfo.activeProcessorCount * 4)
        let measured = self.measured
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            var k = c
            while k < checked.count {
                let (i, j) = pairs[checked[k]]
                do {
                    let a = sets(try context.text(items[i]!))
                    let b = sets(try context.text(items[j]!))
                    let passed = measure(a, b).passed
                    answers.set(k, passed)
                    if passed {
                        measured.set(annotations[i]!, a)
                        measured.set(annotations[j]!, b)
                    }
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
        guard let a = measured.get(annotations.0), let b = measured.get(annotations.1) else {
            // Not measured in this process (cannot happen for a pair decided here); say what the signatures say.
            let x = signatures(annotations.0), y = signatures(annotations.1)
            let j = x.flatMap { x in y.map { LSH.estimatedJaccard(x.primary, $0.primary) } } ?? 0
            return "near duplicate of \(kept.place) (signature estimate \(fmt2(j)); kept by policy `\(keep.rawValue)`)"
        }
        let m = measure(a, b)
        if m.passed {
            return "near duplicate of \(kept.place) (\(m.unit) Jaccard \(fmt2(m.jaccard)) >= \(fmt2(m.limit)), measured; kept by policy `\(keep.rawValue)`)"
        }
        return "near duplicate of \(kept.place), linked through other members of its group (\(m.unit) Jaccard to it \(fmt2(m.jaccard)) < \(fmt2(m.limit)), measured; each link >= the threshold; kept by policy `\(keep.rawValue)`)"
    }
}

/// Two decimals, rounded down, so a value shown as meeting a threshold really does (0.799 shows as 0.79).
func fmt2(_ x: Double) -> String {
    let v = (x * 100 + 1e-9).rounded(.down) / 100
    return String(format: "%.2f", v)
}

/// Exact shingle sets of texts checked by `dedup.near`, keyed by their annotation (a signature), for reasons.
final class MeasuredSets: Sendable {
    struct Entry: Sendable {
        var primary: [UInt64]
        var mode: ShingleMode
        var chars: [UInt64]?
        var charN: Int
    }
    private let sets = Locked<[[UInt8]: Entry]>([:])
    func set(_ annotation: [UInt8], _ e: Entry) { sets.withLock { $0[annotation] = e } }
    func get(_ annotation: Annotation) -> Entry? { sets.withLock { $0[Array(annotation)] } }
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
    /// `tag`: the band index mixed into the key (default `band`).
    static func bandKey(_ s: Annotation, band: Int, rows: Int, tag: Int? = nil) -> UInt64 {
        s.withUnsafeBufferPointer { sig in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: rows) { values in
                for r in 0..<rows { values[r] = value(sig, band * rows + r) }
                return LSH.bandKey(UnsafeBufferPointer(values), band: tag ?? band)
            }
        }
    }

    static func decode(_ s: Annotation) -> [UInt32] {
        let k = max(0, (s.count - 2) / 4)
        return s.withUnsafeBufferPointer { sig in (0..<k).map { value(sig, $0) } }
    }
}

