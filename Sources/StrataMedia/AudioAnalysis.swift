import CChromaprint
import CSampleRate
import CSndFile
import Foundation

/// Decoded audio: interleaved float samples in [-1, 1].
public struct DecodedAudio: Sendable, Equatable {
    public var samples: [Float]
    public var sampleRate: Int
    public var channels: Int
    /// The container libsndfile read (wav, flac, ...).
    public var container: String

    public init(samples: [Float], sampleRate: Int, channels: Int, container: String = "raw") {
        self.samples = samples; self.sampleRate = sampleRate; self.channels = channels; self.container = container
    }

    public var frames: Int { channels > 0 ? samples.count / channels : 0 }

    /// The mean of the channels, frame by frame.
    public var mono: [Float] {
        if channels == 1 { return samples }
        var out = [Float](repeating: 0, count: frames)
        let scale = 1 / Float(channels)
        for f in 0..<frames {
            var s: Float = 0
            for c in 0..<channels { s += samples[f * channels + c] }
            out[f] = s * scale
        }
        return out
    }
}

extension Media {
    /// Decodes every frame of the audio file at `path` with libsndfile.
    public static func decodeAudio(path: String) -> Result<DecodedAudio, MediaProblem> {
        var info = SF_INFO()
        guard let file = sf_open(path, Int32(SFM_READ), &info) else {
            return .failure(.corrupt("not a readable audio file (libsndfile: \(String(cString: sf_strerror(nil))))"))
        }
        defer { sf_close(file) }
        let channels = Int(info.channels), rate = Int(info.samplerate)
        guard channels > 0, rate > 0 else { return .failure(.corrupt("audio header is invalid: \(channels) channels at \(rate) Hz")) }
        let format = Int(info.format)
        var samples = [Float]()
        samples.reserveCapacity(max(0, Int(info.frames)) * channels)
        let chunk = 8192
        var buffer = [Float](repeating: 0, count: chunk * channels)
        while true {
            let n = buffer.withUnsafeMutableBufferPointer { sf_readf_float(file, $0.baseAddress, sf_count_t(chunk)) }
            if n <= 0 { break }
            samples += buffer[0..<(Int(n) * channels)]
        }
        if sf_error(file) != 0 {
            return .failure(.corrupt("audio data is corrupt (libsndfile: \(String(cString: sf_strerror(file))))"))
        }
        if samples.isEmpty { return .failure(.empty("audio has no samples")) }
        return .success(DecodedAudio(samples: samples, sampleRate: rate, channels: channels,
                                     container: containerName(format & Int(SF_FORMAT_TYPEMASK), sub: format & Int(SF_FORMAT_SUBMASK))))
    }

    /// Mono samples resampled from `from` to `to` Hz with libsamplerate (sinc, medium quality).
    public static func resample(_ mono: [Float], from: Int, to: Int) throws -> [Float] {
        if from == to || mono.isEmpty { return mono }
        let ratio = Double(to) / Double(from)
        var out = [Float](repeating: 0, count: Int((Double(mono.count) * ratio).rounded(.up)) + 16)
        var generated = 0
        let rc: Int32 = mono.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                var data = SRC_DATA()
                data.data_in = input.baseAddress
                data.input_frames = input.count
                data.data_out = output.baseAddress
                data.output_frames = output.count
                data.src_ratio = ratio
                data.end_of_input = 1
                let rc = src_simple(&data, Int32(SRC_SINC_MEDIUM_QUALITY), 1)
                generated = data.output_frames_gen
                return rc
            }
        }
        guard rc == 0 else { throw EncodeError(reason: "resampling \(from) -> \(to) Hz failed (libsamplerate: \(String(cString: src_strerror(rc))))") }
        return Array(out[0..<generated])
    }

    /// Chromaprint's raw fingerprint of mono samples (one 32-bit value per 0.124 s frame, after about 1.5 s of
    /// start-up: a 2 s clip yields a handful of values, shorter clips none).
    public static func fingerprint(_ mono: [Float], sampleRate: Int) -> [UInt32] {
        guard let ctx = chromaprint_new(Int32(CHROMAPRINT_ALGORITHM_DEFAULT.rawValue)) else { return [] }
        defer { chromaprint_free(ctx) }
        guard chromaprint_start(ctx, Int32(sampleRate), 1) == 1 else { return [] }
        var pcm = [Int16](repeating: 0, count: mono.count)
        for i in 0..<mono.count { pcm[i] = Int16(max(-32768, min(32767, (mono[i] * 32767).rounded()))) }
        let fed = pcm.withUnsafeBufferPointer { chromaprint_feed(ctx, $0.baseAddress, Int32($0.count)) }
        guard fed == 1, chromaprint_finish(ctx) == 1 else { return [] }
        var raw: UnsafeMutablePointer<UInt32>?
        var size: Int32 = 0
        guard chromaprint_get_raw_fingerprint(ctx, &raw, &size) == 1, let raw else { return [] }
        defer { chromaprint_dealloc(raw) }
        return Array(UnsafeBufferPointer(start: raw, count: Int(size)))
    }
}
