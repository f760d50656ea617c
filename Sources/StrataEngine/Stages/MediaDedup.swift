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

    static let frameSeconds = 4096.0 / 3.0 / 11025.0

    init(_ p: inout StageParams) throws {
        imageHash = ImageDuplicates.HashKind(rawValue: try p.string("image_hash", default: "both", allowed: ImageDuplicates.HashKind.allCases.map(\.rawValue)))!
        imageMaxDistance = try p.int("image_max_distance", default: imageHash.defaultMaxDistance, min: 0, max: imageHash == .both ? 64 : 32)
        imageMinSide = try p.int("image_min_side", default: 16, min: 0, max: 4096)
        audioMinSimilarity = try p.double("audio_min_similarity", default: 0.8, min: 0.5, max: 1)
        let offsetSeconds = try p.double("audio_max_offset_seconds", default: 5, min: 0, max: 600)
        audioMaxOffset = Int((offsetSeconds / MediaNearDup.frameSeconds).rounded(.up))
        audioMinOverlap = max(1, Int((try p.double("audio_min_overlap_seconds", default: 1, min: 0.1, max: 600) / MediaNearDup.frameSeconds).rounded()))
        audioMaxBucket = try p.int("audio_max_bucket", default: 500, min: 2)
    }

    // MARK: annotate

    func annotate(_ item: WorkItem, context: StageContext) throws -> String {
        let path = try context.path(item)
        switch item.modality {
        case "image":
            if imageMinSide > 0, case .success(let size) = Media.displaySize(path: path), min(size.width, size.height) < imageMinSide {
                context.log("\(item.place): \(size.width)x\(size.height) is below image_min_side \(imageMinSide), too little detail for a perceptual hash; left out of near-duplicate search (exact duplicates are still removed)")
                return ""
            }
            switch Media.imageHashes(path: path) {
            case .success(let h): return "i:" + PerceptualHash.hex(h.d) + PerceptualHash.hex(h.p)
            case .failure(let problem):
                context.log("\(item.place): not hashed, left out of near-duplicate search: \(problem.reason)")
                return ""
            }
        case "audio":
            switch Media.decodeAudio(path: path) {
            case .success(let audio):
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

    static func isMedia(_ a: Annotation) -> Bool {
        a.count >= 2 && a[a.startIndex + 1] == 0x3A && (a[a.startIndex] == 0x69 || a[a.startIndex] == 0x61)
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

    func pairs(partition: Int, partitions: Int, entries: [(index: Int, annotation: [UInt8])]) -> [(Int, Int)] {
        let images = entries.filter { $0.annotation.first == 0x69 }
        let audio = entries.filter { $0.annotation.first == 0x61 }
        var out: [(Int, Int)] = []
        // Images: this partition searches its share of the four 16-bit chunks.
        let chunks = (0..<(imageHash.words * HammingIndex.chunksPerWord)).filter { $0 % partitions == partition }
        if !images.isEmpty && !chunks.isEmpty {
            let hashes = images.map { MediaNearDup.imageHashes($0.annotation) ?? (0, 0) }
            let index = ImageDuplicates.index(hashes: hashes, kind: imageHash, maxDistance: imageMaxDistance, chunks: chunks)
            for (i, j) in index.pairs(confirm: { index.distance($0, $1) <= imageMaxDistance }) {
                out.append((images[i].index, images[j].index))
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
            return ImageDuplicates.distance(ha, hb, kind: imageHash) <= imageMaxDistance
        }
        return AudioMatch.similarity(MediaNearDup.fingerprint(Array(a)), MediaNearDup.fingerprint(Array(b)),
                                     maxOffset: audioMaxOffset, minOverlap: audioMinOverlap).score >= audioMinSimilarity
    }

    func reason(kept: WorkItem, _ a: Annotation, _ b: Annotation, keep: KeepPolicy) -> String {
        if a.first == 0x69, let ha = MediaNearDup.imageHashes(Array(a)), let hb = MediaNearDup.imageHashes(Array(b)) {
            let dp = PerceptualHash.distance(ha.p, hb.p), dd = PerceptualHash.distance(ha.d, hb.d)
            let which = switch imageHash {
            case .both: "pHash distance \(dp) + dHash distance \(dd) = \(dp + dd) <= \(imageMaxDistance) of 128 bits"
            case .phash: "pHash distance \(dp) <= \(imageMaxDistance) (dHash \(dd))"
            case .dhash: "dHash distance \(dd) <= \(imageMaxDistance) (pHash \(dp))"
            }
            if ImageDuplicates.distance(ha, hb, kind: imageHash) > imageMaxDistance {
                return "near-duplicate image in the cluster of \(kept.place), linked through closer members (to the kept image: \(which.replacingOccurrences(of: " <= ", with: " > ")); kept by policy `\(keep.rawValue)`)"
            }
            return "near-duplicate image of \(kept.place) (\(which); kept by policy `\(keep.rawValue)`)"
        }
        let m = AudioMatch.similarity(MediaNearDup.fingerprint(Array(a)), MediaNearDup.fingerprint(Array(b)),
                                      maxOffset: audioMaxOffset, minOverlap: audioMinOverlap)
        return String(format: "near-duplicate audio of %@ (fingerprint similarity %.2f >= %.2f at an offset of %.1f s; kept by policy `%@`)",
                      kept.place, m.score, audioMinSimilarity, Double(m.offset) * MediaNearDup.frameSeconds, keep.rawValue)
    }
}
