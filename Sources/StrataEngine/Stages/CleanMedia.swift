import Foundation
import StrataCore
import StrataMedia
import StrataQuality

/// `clean.image`: keeps images in the allowed formats and applies EXIF orientation, an optional size limit and
/// optional metadata stripping. An image is re-encoded only when one of these changes it (a JPEG that is already
/// fine is not recompressed); the new bytes get a `Transform` naming each change. Other modalities pass through.
struct CleanImageStage: MapStage {
    static let codeVersion = 1
    let name: String
    let formats: [ImageTarget]
    let target: ImageTarget
    let quality: Int
    let maxSide: Int?
    let autoOrient: Bool
    let stripMetadata: Bool
    let paramsJSON: String

    init(_ p: inout StageParams) throws {
        name = p.stage
        (formats, target) = try p.formats(default: [ImageTarget.jpeg, .png])
        quality = try p.int("quality", default: 90, min: 1, max: 100)
        maxSide = try p.optionalInt("max_side", min: 16)
        autoOrient = try p.bool("auto_orient", default: true)
        stripMetadata = try p.bool("strip_metadata", default: false)
        paramsJSON = SpecValue.map(p.values).canonicalJSON
    }

    func process(_ items: [WorkItem], context: StageContext) throws -> [ItemOutcome] {
        try items.map { item in
            guard item.kind == .image else { return .keep(item) }
            let path = try context.path(item)
            let header: ImageHeader
            switch Media.imageHeader(path: path) {
            case .success(let h): header = h
            case .failure(let problem): return .reject(item, kind: FindingKind.corrupt.rawValue, reason: problem.reason)
            }
            var changes: [String] = []
            let current = ImageTarget(rawValue: header.format)
            let out = current.flatMap { formats.contains($0) ? $0 : nil } ?? target
            if current != out { changes.append("format:\(header.format)->\(out.rawValue)") }
            if autoOrient && header.orientation != 1 { changes.append("orientation:\(header.orientation)->1") }
            let longer = max(header.width, header.height)
            if let maxSide, longer > maxSide { changes.append("resize:\(longer)->\(maxSide)") }
            if stripMetadata { changes.append("strip-metadata") }
            if changes.isEmpty { return .keep(item) }
            switch Media.convertImage(path: path, target: out, quality: quality, maxSide: maxSide, autoOrient: autoOrient, stripMetadata: stripMetadata) {
            case .failure(let problem):
                return .reject(item, kind: FindingKind.corrupt.rawValue, reason: problem.reason)
            case .success(let bytes):
                var next = try context.replaceContent(item, with: bytes, transform: Transform(stage: name, uses: "clean.image", params: paramsJSON, changes: changes))
                next.format = out.rawValue
                return .keep(next)
            }
        }
    }
}

/// `clean.audio`: mixes to mono, resamples (libsamplerate), trims leading and trailing silence and writes the
/// allowed format (16-bit WAV or FLAC through libsndfile). A clip is rewritten only when one of these changes it;
/// the transform names each change.
struct CleanAudioStage: MapStage {
    static let codeVersion = 1
    enum Target: String, CaseIterable { case wav, flac }
    let name: String
    let formats: [Target]
    let target: Target
    let sampleRate: Int?
    let mono: Bool
    let trim: Bool
    let silenceDB: Double
    let padSeconds: Double
    let paramsJSON: String

    init(_ p: inout StageParams) throws {
        name = p.stage
        (formats, target) = try p.formats(default: [Target.wav, .flac])
        sampleRate = try p.optionalInt("sample_rate", min: 1000)
        mono = try p.bool("mono", default: true)
        trim = try p.bool("trim_silence", default: true)
        silenceDB = try p.double("silence_db", default: -45, min: -120, max: 0)
        padSeconds = try p.double("trim_pad_seconds", default: 0.05, min: 0, max: 10)
        paramsJSON = SpecValue.map(p.values).canonicalJSON
    }

    func process(_ items: [WorkItem], context: StageContext) throws -> [ItemOutcome] {
        try items.map { item in
            guard item.kind == .audio else { return .keep(item) }
            let decoded: DecodedAudio
            switch Media.decodeAudio(path: try context.path(item)) {
            case .success(let d): decoded = d
            case .failure(let problem): return .reject(item, kind: FindingKind.corrupt.rawValue, reason: problem.reason)
            }
            var changes: [String] = []
            var channels = decoded.channels
            var samples = decoded.samples
            var rate = decoded.sampleRate
            if mono && channels > 1 {
                samples = decoded.mono
                changes.append("mono:\(channels)->1")
                channels = 1
            }
            if let sampleRate, sampleRate != rate {
                if channels == 1 {
                    samples = try Media.resample(samples, from: rate, to: sampleRate)
                } else {
                    // Resample each channel, then interleave again.
                    let frames = samples.count / channels
                    var out: [[Float]] = []
                    for c in 0..<channels {
                        out.append(try Media.resample((0..<frames).map { samples[$0 * channels + c] }, from: rate, to: sampleRate))
                    }
                    let n = out.map(\.count).min() ?? 0
                    samples = (0..<(n * channels)).map { out[$0 % channels][$0 / channels] }
                }
                changes.append("resample:\(rate)->\(sampleRate)")
                rate = sampleRate
            }
            if trim {
                let m = channels == 1 ? samples : DecodedAudio(samples: samples, sampleRate: rate, channels: channels).mono
                let range = AudioSignals.trimmedRange(m, sampleRate: rate, silenceDB: silenceDB, padSeconds: padSeconds)
                // An all-silent clip is left whole: filter.quality reports it as `mostly-silence`.
                if !range.isEmpty && range.count < m.count {
                    let cut = m.count - range.count
                    samples = Array(samples[(range.lowerBound * channels)..<(range.upperBound * channels)])
                    changes.append(String(format: "trim:%.3fs", Double(cut) / Double(rate)))
                }
            }
            let current = Target(rawValue: decoded.container)
            let out = current.flatMap { formats.contains($0) ? $0 : nil } ?? target
            if current != out { changes.append("format:\(decoded.container)->\(out.rawValue)") }
            if changes.isEmpty { return .keep(item) }
            let bytes = out == .flac ? try Encode.flac(samples, sampleRate: rate, channels: channels)
                : try Encode.wav(samples, sampleRate: rate, channels: channels)
            var next = try context.replaceContent(item, with: bytes, transform: Transform(stage: name, uses: "clean.audio", params: paramsJSON, changes: changes))
            next.format = out.rawValue
            return .keep(next)
        }
    }
}
