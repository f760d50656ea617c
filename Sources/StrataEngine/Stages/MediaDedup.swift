import Foundation
import StrataCore
import StrataMedia
import StrataQuality

/// The image and audio half of `dedup.near`. Annotations are `i:<dHash hex><pHash hex>` for images and
/// `a:<hex of Chromaprint's raw fingerprint>` for audio; both are searched by the stage's own index
/// (`indexedPairs`): multi-index hashing over the hash chosen for images, an inverted index of fingerprint
/// halves for audio. Clusters and the keep policy are the text design's (union-find in `decide`, `KeepPolicy`).
struct MediaNearDup: Sendable {
    var imageHash: ImageDuplicates.HashKind = .both
    var imageMaxDistance = 24
    /// Images whose shorter side is below this many pixels are left out of the perceptual search: their 32x32 hash
    /// thumbnail is an upscaled handful of pixels, and natural look-alikes (two handwritten 1s at 8x8) collide.
    var imageMinSide = 16
    var audioMinSimilarity = 0.8
    /// In fingerprint frames (0.1238 s each).
    var audioMaxOffset = 40
    var audioMinOverlap = 8
    var audioMinSharedKeys = 2
    var audioMaxBucket = 500
    /// Pixel verification (`PixelMatch`): a hash candidate is a near duplicate when its pixel distance is at most
    /// `imagePixelRatio` times its source's median nearest-neighbour distance, within the two bounds.
    /// Clips shorter than this get a log-mel signature (`ShortAudio`) instead of a Chromaprint fingerprint.
    var audioShortSeconds = 5.0
    var audioShortMinSimilarity = 0.7
    var audioShortRatio = 1.0
    /// Short-audio pairs that pass the log-mel test are decided on the waveforms (`ShortAudio.waveformCorrelation`):
    /// only variants of one recording keep the same waveform; the same word by another voice does not.
    var audioShortMinWaveform = 0.9
    var imagePixelRatio = 0.1
    var imagePixelMin = 0.005
    var imagePixelMax = 0.1
    /// Transparent images: largest L1 distance of the two images' chromaticities (brightness keeps it; a recoloured
    /// icon of the same shape, which the gray pixel check cannot tell apart, moves it by 0.1 or more).
    var imageMaxColourShift = 0.03

    static let frameSeconds = 4096.0 / 3.0 / 11025.0
    /// Waveform correlations measured by `confirmWaveforms`, so `reason` can quote them.
    let waveforms = MeasuredWaveforms()

    init(_ p: inout StageParams) throws {
        imageHash = ImageDuplicates.HashKind(rawValue: try p.string("image_hash", default: "both", allowed: ImageDuplicates.HashKind.allCases.map(\.rawValue)))!
        imageMaxDistance = try p.int("image_max_distance", default: imageHash.defaultMaxDistance, min: 0, max: imageHash == .both ? 64 : 32)
        imageMinSide = try p.int("image_min_side", default: 16, min: 0, max: 4096)
        imagePixelRatio = try p.double("image_pixel_ratio", default: 0.1, min: 0, max: 10)
        imagePixelMin = try p.double("image_pixel_min_distance", default: 0.005, min: 0, max: 2)
        imagePixelMax = try p.double("image_pixel_max_distance", default: 0.1, min: 0, max: 2)
        imageMaxColourShift = try p.double("image_max_colour_shift", default: 0.03, min: 0, max: 2)
        audioMinSimilarity = try p.double("audio_min_similarity", default: 0.8, min: 0.5, max: 1)
        let offsetSeconds = try p.double("audio_max_offset_seconds", default: 5, min: 0, max: 600)
        audioMaxOffset = Int((offsetSeconds / MediaNearDup.frameSeconds).rounded(.up))
        audioMinOverlap = max(1, Int((try p.double("audio_min_overlap_seconds", default: 1, min: 0.1, max: 600) / MediaNearDup.frameSeconds).rounded()))
        audioMaxBucket = try p.int("audio_max_bucket", default: 500, min: 2)
        audioShortSeconds = try p.double("audio_short_seconds", default: 5, min: 0, max: 600)
        audioShortMinSimilarity = try p.double("audio_short_min_similarity", default: 0.7, min: 0, max: 1)
        audioShortRatio = try p.double("audio_short_ratio", default: 1.0, min: 0, max: 10)
        audioShortMinWaveform = try p.double("audio_short_min_waveform", default: 0.9, min: 0, max: 1)
    }

    // MARK: annotate

    func annotate(_ item: WorkItem, context: StageContext) throws -> String {
        let path = try context.path(item)
        switch item.kind {
        case .image?:
            if imageMinSide > 0, case .success(let size) = Media.displaySize(path: path), min(size.width, size.height) < imageMinSide {
                context.log("\(item.place): \(size.width)x\(size.height) is below image_min_side \(imageMinSide), too little detail for a perceptual hash; left out of near-duplicate search (exact duplicates are still removed)")
                return ""
            }
            switch Media.seenLayers(path: path) {
            case .success(let (g, premultiplied)):
                // `i:` dHash, pHash, the 32x32 verification thumbnail (hex), the source's key and, for an image
                // with alpha, the 32x32 premultiplied layer (hex). The hashes are taken from the premultiplied layer
                // when it has contrast (light or colored content: brightness scales it and no background choice
                // flips), else from the seen image (black ink on a transparent background).
                let layer = premultiplied.map { PixelMatch.thumbnail($0) } ?? []
                let hashed = PixelMatch.hasContrast(layer) ? premultiplied! : g
                var s = "i:" + PerceptualHash.hex(PerceptualHash.dHash(hashed)) + PerceptualHash.hex(PerceptualHash.pHash(hashed))
                for v in PixelMatch.thumbnail(g) { s += String(Self.hexDigits[Int(v >> 4)]) + String(Self.hexDigits[Int(v & 15)]) }
                s += PerceptualHash.hex(MediaNearDup.sourceKey(item.source))
                if !layer.isEmpty {
                    for v in layer { s += String(Self.hexDigits[Int(v >> 4)]) + String(Self.hexDigits[Int(v & 15)]) }
                    // and its chromaticity (red, green, blue shares, 0...255 each; gray when unknown)
                    let c = Media.alphaChromaticity(path: path) ?? (1.0 / 3, 1.0 / 3, 1.0 / 3)
                    for x in [c.r, c.g, c.b] {
                        let v = Int((x * 255).rounded())
                        s += String(Self.hexDigits[v >> 4]) + String(Self.hexDigits[v & 15])
                    }
                }
                return s
            case .failure(let problem):
                context.log("\(item.place): not hashed, left out of near-duplicate search: \(problem.reason)")
                return ""
            }
        case .audio?:
            switch Media.decodeAudio(path: path) {
            case .success(let audio):
                let seconds = Double(audio.frames) / Double(max(1, audio.sampleRate))
                if seconds < audioShortSeconds {
                    // `s:` and the hex of the log-mel signature (Chromaprint needs several seconds).
                    let mono = try Media.resample(audio.mono, from: audio.sampleRate, to: ShortAudio.sampleRate)
                    let sig = ShortAudio.signature(mono)
                    if sig.isEmpty {
                        context.log("\(item.place): no sound to compare; left out of near-duplicate search")
                        return ""
                    }
                    var s = "s:"
                    s.reserveCapacity(2 + 2 * sig.count)
                    for v in sig { s += String(Self.hexDigits[Int(v >> 4)]) + String(Self.hexDigits[Int(v & 15)]) }
                    return s + PerceptualHash.hex(MediaNearDup.sourceKey(item.source))
                }
                let fp = Media.fingerprint(audio.mono, sampleRate: audio.sampleRate)
                if fp.count < audioMinOverlap {
                    context.log("\(item.place): \(String(format: "%.2f", Double(audio.frames) / Double(audio.sampleRate))) s is too short for a fingerprint; left out of near-duplicate search")
                    return ""
                }
                var s = "a:"
                s.reserveCapacity(2 + fp.count * 8)
                for v in fp { let h = String(v, radix: 16); s += String(repeating: "0", count: 8 - h.count) + h }
                return s
            case .failure(let problem):
                context.log("\(item.place): not decoded, left out of near-duplicate search: \(problem.reason)")
                return ""
            }
        default:
            return ""
        }
    }

    // MARK: parse

    private static let hexDigits = Array("0123456789abcdef")

    /// FNV-1a 64 of a source name: images are verified against their own source's neighbours.
    static func sourceKey(_ source: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in source.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    static let thumbnailHex = 2 * PixelMatch.side * PixelMatch.side

    /// The verification thumbnail of an image annotation (empty when malformed).
    static func thumbnail<C: Collection>(_ a: C) -> [UInt8] where C.Element == UInt8, C.Index == Int {
        guard a.count >= 34 + thumbnailHex else { return [] }
        var out = [UInt8](repeating: 0, count: thumbnailHex / 2)
        var i = a.startIndex + 34
        for k in 0..<out.count {
            out[k] = hexValue(a[i]) << 4 | hexValue(a[i + 1])
            i += 2
        }
        return out
    }

    /// The premultiplied layer of an image annotation (empty for an image without alpha).
    static func premultiplied<C: Collection>(_ a: C) -> [UInt8] where C.Element == UInt8, C.Index == Int {
        let start = 34 + thumbnailHex + 16
        guard a.count >= start + thumbnailHex else { return [] }
        var out = [UInt8](repeating: 0, count: thumbnailHex / 2)
        var i = a.startIndex + start
        for k in 0..<out.count {
            out[k] = hexValue(a[i]) << 4 | hexValue(a[i + 1])
            i += 2
        }
        return out
    }

    /// The chromaticity of a transparent image's annotation (nil for an image without alpha).
    static func chromaticity<C: Collection>(_ a: C) -> (Double, Double, Double)? where C.Element == UInt8, C.Index == Int {
        let start = a.startIndex + 34 + 2 * thumbnailHex + 16
        guard a.count >= start - a.startIndex + 6 else { return nil }
        let v = (0..<3).map { k in Double(hexValue(a[start + 2 * k]) << 4 | hexValue(a[start + 2 * k + 1])) / 255 }
        return (v[0], v[1], v[2])
    }

    /// The L1 distance of two transparent images' chromaticities (0 when either has none).
    static func colourShift<C: Collection>(_ a: C, _ b: C) -> Double where C.Element == UInt8, C.Index == Int {
        guard let x = chromaticity(a), let y = chromaticity(b) else { return 0 }
        return abs(x.0 - y.0) + abs(x.1 - y.1) + abs(x.2 - y.2)
    }

    /// The thumbnails two image annotations are verified on: their premultiplied layers when both have one with
    /// contrast (transparent images: brightness changes scale that layer as a whole), else their seen thumbnails.
    static func verified(_ a: [UInt8], _ b: [UInt8]) -> ([UInt8], [UInt8]) {
        let la = premultiplied(a), lb = premultiplied(b)
        if PixelMatch.hasContrast(la) && PixelMatch.hasContrast(lb) { return (la, lb) }
        return (thumbnail(a), thumbnail(b))
    }

    /// The log-mel signature of a short-audio annotation.
    static func shortSignature<C: Collection>(_ a: C) -> [UInt8] where C.Element == UInt8, C.Index == Int {
        var out = [UInt8](repeating: 0, count: (a.count - 2) / 2)
        var i = a.startIndex + 2
        for k in 0..<out.count {
            out[k] = hexValue(a[i]) << 4 | hexValue(a[i + 1])
            i += 2
        }
        return out
    }

    static func source<C: Collection>(_ a: C) -> UInt64 where C.Element == UInt8, C.Index == Int {
        PerceptualHash.parseHex(a, offset: 34 + thumbnailHex) ?? 0
    }

    @inline(__always) static func hexValue(_ c: UInt8) -> UInt8 { c <= 0x39 ? c &- 0x30 : c &- 0x61 &+ 10 }

    static func isMedia(_ a: Annotation) -> Bool {
        a.count >= 2 && a[a.startIndex + 1] == 0x3A && (a[a.startIndex] == 0x69 || a[a.startIndex] == 0x61 || a[a.startIndex] == 0x73)
    }

    static func imageHashes<C: Collection>(_ a: C) -> (d: UInt64, p: UInt64)? where C.Element == UInt8, C.Index == Int {
        guard let d = PerceptualHash.parseHex(a, offset: 2), let p = PerceptualHash.parseHex(a, offset: 18) else { return nil }
        return (d, p)
    }

    static func fingerprint<C: Collection>(_ a: C) -> [UInt32] where C.Element == UInt8, C.Index == Int {
        var out: [UInt32] = []
        out.reserveCapacity((a.count - 2) / 8)
        var v: UInt32 = 0, n = 0
        for c in a.dropFirst(2) {
            v = v << 4 | (c <= 0x39 ? UInt32(c &- 0x30) : UInt32(c &- 0x61 &+ 10))
            n += 1
            if n == 8 { out.append(v); v = 0; n = 0 }
        }
        return out
    }

    // MARK: pair and confirm

    /// Verified image pairs (item indexes) from this partition's share of the hash chunks.
    func imagePairs(partition: Int, partitions: Int, images: [(index: Int, annotation: [UInt8])]) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        let chunks = (0..<(imageHash.words * HammingIndex.chunksPerWord)).filter { $0 % partitions == partition }
        guard !images.isEmpty && !chunks.isEmpty else { return [] }
        let hashes = images.map { MediaNearDup.imageHashes($0.annotation) ?? (0, 0) }
        let thumbs = images.map { MediaNearDup.thumbnail($0.annotation) }
        var prepared: [PixelMatch.Prepared?] = Array(repeating: nil, count: images.count)
        func ready(_ k: Int) -> PixelMatch.Prepared {
            if let p = prepared[k] { return p }
            let p = PixelMatch.Prepared(thumbs[k])
            prepared[k] = p
            return p
        }
        // Premultiplied layers of transparent images, used for a pair when both have contrast there.
        let layers = images.map { a in
            let l = MediaNearDup.premultiplied(a.annotation)
            return PixelMatch.hasContrast(l) ? l : []
        }
        var preparedLayers: [PixelMatch.Prepared?] = Array(repeating: nil, count: images.count)
        func pixelDistance(_ i: Int, _ j: Int) -> Double {
            guard !layers[i].isEmpty, !layers[j].isEmpty else { return 1 - PixelMatch.similarity(ready(i), ready(j)) }
            for k in [i, j] where preparedLayers[k] == nil { preparedLayers[k] = PixelMatch.Prepared(layers[k]) }
            return 1 - PixelMatch.similarity(preparedLayers[i]!, preparedLayers[j]!)
        }
        let sources = images.map { MediaNearDup.source($0.annotation) }
        // Each source's accept distance, from its own images' nearest-neighbour distances (computed only for
        // sources with a candidate pair in this partition).
        var members: [UInt64: [Int]] = [:]
        for (k, s) in sources.enumerated() { members[s, default: []].append(k) }
        var accept: [UInt64: Double] = [:]
        func limit(_ s: UInt64) -> Double {
            if let a = accept[s] { return a }
            let ks = members[s] ?? []
            let a = PixelMatch.acceptDistance(median: PixelMatch.medianNeighbourDistance(ks.map { thumbs[$0] }) { pixelDistance(ks[$0], ks[$1]) },
                                              ratio: imagePixelRatio, minDistance: imagePixelMin, maxDistance: imagePixelMax)
            accept[s] = a
            return a
        }
        let index = ImageDuplicates.index(hashes: hashes, kind: imageHash, maxDistance: imageMaxDistance, chunks: chunks)
        for (i, j) in index.pairs(confirm: { index.distance($0, $1) <= imageMaxDistance }) {
            // Within one source, closer than its typical neighbour; across sources, the stricter of the two.
            let l = min(limit(sources[i]), limit(sources[j]))
            if MediaNearDup.colourShift(images[i].annotation, images[j].annotation) <= imageMaxColourShift && pixelDistance(i, j) <= l {
                out.append((images[i].index, images[j].index))
            }
        }
        return out
    }

    func pairs(partition: Int, partitions: Int, entries: [(index: Int, annotation: [UInt8])]) -> [(Int, Int)] {
        let images = entries.filter { $0.annotation.first == 0x69 }
        let audio = entries.filter { $0.annotation.first == 0x61 }
        var out: [(Int, Int)] = []
        // Images: this partition searches its share of the 16-bit chunks.
        out += imagePairs(partition: partition, partitions: partitions, images: images)
        // Short audio: every pair whose mean band profiles agree, compared in full, in partition 0, and accepted when
        // far closer than the typical nearest neighbour of the source (as for images).
        let short = entries.filter { $0.annotation.first == 0x73 }
        if partition == 0 && short.count > 1 {
            let sigs = short.map { MediaNearDup.shortSignature($0.annotation.dropLast(16)) }
            let sources = short.map { PerceptualHash.parseHex($0.annotation, offset: $0.annotation.count - 16) ?? 0 }
            let profiles = sigs.map(ShortAudio.profile)
            var members: [UInt64: [Int]] = [:]
            for (k, s) in sources.enumerated() { members[s, default: []].append(k) }
            var accept: [UInt64: Double] = [:]
            for (s, ks) in members {
                accept[s] = PixelMatch.acceptDistance(median: ShortAudio.medianNeighbourDistance(ks.map { sigs[$0] }, profiles: ks.map { profiles[$0] }),
                                                      ratio: audioShortRatio, minDistance: 0.005, maxDistance: 1 - audioShortMinSimilarity)
            }
            for i in 0..<sigs.count {
                for j in (i + 1)..<sigs.count {
                    let li = sigs[i].count, lj = sigs[j].count
                    if min(li, lj) * 10 < max(li, lj) * 7 { continue }
                    if PixelMatch.pearson(profiles[i], profiles[j]) < 0.8 { continue }
                    let limit = min(accept[sources[i]] ?? 0, accept[sources[j]] ?? 0)
                    if 1 - ShortAudio.similarity(sigs[i], sigs[j]) <= limit { out.append((short[i].index, short[j].index)) }
                }
            }
        }
        // Audio: one inverted index, in partition 0.
        if partition == 0 && audio.count > 1 {
            let fps = audio.map { MediaNearDup.fingerprint($0.annotation) }
            for (i, j) in AudioMatch.candidates(fps, minShared: audioMinSharedKeys, maxBucket: audioMaxBucket)
            where AudioMatch.similarity(fps[i], fps[j], maxOffset: audioMaxOffset, minOverlap: audioMinOverlap).score >= audioMinSimilarity {
                out.append((audio[i].index, audio[j].index))
            }
        }
        return out
    }

    func confirm(_ a: Annotation, _ b: Annotation) -> Bool {
        guard let x = a.first, x == b.first else { return false }
        if x == 0x69 {
            guard let ha = MediaNearDup.imageHashes(Array(a)), let hb = MediaNearDup.imageHashes(Array(b)) else { return false }
            // The pair step applied the source-relative limit; this re-checks what the two annotations can settle.
            return ImageDuplicates.distance(ha, hb, kind: imageHash) <= imageMaxDistance
                && MediaNearDup.colourShift(Array(a), Array(b)) <= imageMaxColourShift
                && { let (x, y) = MediaNearDup.verified(Array(a), Array(b)); return PixelMatch.distance(x, y) <= imagePixelMax }()
        }
        if x == 0x73 {
            return ShortAudio.similarity(MediaNearDup.shortSignature(a.dropLast(16)), MediaNearDup.shortSignature(b.dropLast(16))) >= audioShortMinSimilarity
        }
        return AudioMatch.similarity(MediaNearDup.fingerprint(Array(a)), MediaNearDup.fingerprint(Array(b)),
                                     maxOffset: audioMaxOffset, minOverlap: audioMinOverlap).score >= audioMinSimilarity
    }

    func reason(kept: WorkItem, _ a: Annotation, _ b: Annotation, keep: KeepPolicy) -> String {
        if a.first == 0x69, let ha = MediaNearDup.imageHashes(Array(a)), let hb = MediaNearDup.imageHashes(Array(b)) {
            let dp = PerceptualHash.distance(ha.p, hb.p), dd = PerceptualHash.distance(ha.d, hb.d)
            let op = ImageDuplicates.distance(ha, hb, kind: imageHash) <= imageMaxDistance ? "<=" : ">"
            let which = switch imageHash {
            case .both: "pHash distance \(dp) + dHash distance \(dd) = \(dp + dd) \(op) \(imageMaxDistance) of 128 bits"
            case .phash: "pHash distance \(dp) \(op) \(imageMaxDistance) (dHash \(dd))"
            case .dhash: "dHash distance \(dd) \(op) \(imageMaxDistance) (pHash \(dp))"
            }
            let (x, y) = MediaNearDup.verified(Array(a), Array(b))
            let c = PixelMatch.similarity(x, y)
            let pixels = String(format: "pixel correlation %.3f after alignment", c)
            if ImageDuplicates.distance(ha, hb, kind: imageHash) > imageMaxDistance || 1 - c > imagePixelMax {
                return "near-duplicate image in the cluster of \(kept.place), linked through closer members (to the kept image: \(pixels); \(which); kept by policy `\(keep.rawValue)`)"
            }
            return "near-duplicate image of \(kept.place) (\(pixels), far closer than this source's typical nearest neighbour; \(which); kept by policy `\(keep.rawValue)`)"
        }
        if a.first == 0x73 {
            let c = ShortAudio.similarity(MediaNearDup.shortSignature(a.dropLast(16)), MediaNearDup.shortSignature(b.dropLast(16)))
            let w = waveforms.get(a, b).map { String(format: "; waveform correlation %.3f >= %.2f", $0, audioShortMinWaveform) } ?? ""
            return String(format: "near-duplicate audio of %@ (log-mel spectrogram correlation %.3f after time alignment, far closer than this source's typical nearest neighbour%@; kept by policy `%@`)",
                          kept.place, c, w, keep.rawValue)
        }
        let m = AudioMatch.similarity(MediaNearDup.fingerprint(Array(a)), MediaNearDup.fingerprint(Array(b)),
                                      maxOffset: audioMaxOffset, minOverlap: audioMinOverlap)
        return String(format: "near-duplicate audio of %@ (fingerprint similarity %.2f >= %.2f at an offset of %.1f s; kept by policy `%@`)",
                      kept.place, m.score, audioMinSimilarity, Double(m.offset) * MediaNearDup.frameSeconds, keep.rawValue)
    }
}

extension MediaNearDup {
    /// Decides short-audio pairs that passed `confirm` on their waveforms: both clips are decoded again, resampled
    /// to `ShortAudio.sampleRate` and accepted when `ShortAudio.waveformCorrelation` reaches
    /// `audioShortMinWaveform` (pairs are checked in parallel). Returns one answer per pair.
    func confirmWaveforms(_ pairs: [(WorkItem, WorkItem, [UInt8], [UInt8])], context: StageContext) throws -> [Bool] {
        if pairs.isEmpty { return [] }
        let answers = Slots<Bool>(count: pairs.count)
        let failure = FirstError()
        let chunks = min(pairs.count, ProcessInfo.processInfo.activeProcessorCount * 4)
        let waveforms = self.waveforms, limit = audioShortMinWaveform
        @Sendable func mono(_ item: WorkItem) throws -> [Float] {
            switch Media.decodeAudio(path: try context.path(item)) {
            case .success(let audio): return try Media.resample(audio.mono, from: audio.sampleRate, to: ShortAudio.sampleRate)
            case .failure: return []
            }
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            var k = c
            while k < pairs.count {
                let (x, y, ax, ay) = pairs[k]
                do {
                    let w = ShortAudio.waveformCorrelation(try mono(x), try mono(y))
                    waveforms.set(ax, ay, w)
                    answers.set(k, w >= limit)
                } catch {
                    failure.set(error); return
                }
                k += chunks
            }
        }
        if let e = failure.error { throw e }
        return (0..<pairs.count).map { answers.get($0) }
    }
}

/// Waveform correlations of short-audio pairs, by the pair's annotations (either order).
final class MeasuredWaveforms: Sendable {
    private let values = Locked<[[UInt8]: Double]>([:])
    func set(_ a: [UInt8], _ b: [UInt8], _ v: Double) { values.withLock { $0[a + [0] + b] = v; $0[b + [0] + a] = v } }
    func get(_ a: Annotation, _ b: Annotation) -> Double? { values.withLock { $0[Array(a) + [0] + Array(b)] } }
}
