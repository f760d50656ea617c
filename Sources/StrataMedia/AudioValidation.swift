import CSndFile
import Foundation

/// What libsndfile reports about a valid audio file, after every frame was decoded.
public struct AudioProbe: Sendable, Codable, Equatable {
    /// wav, flac, ogg, mp3, aiff, ... (other libsndfile containers by their usual short name).
    public var container: String
    /// pcm_s8, pcm_u8, pcm_16, pcm_24, pcm_32, float, double, ulaw, alaw, vorbis, opus, mp3, ...
    public var codec: String
    public var sampleRate: Int
    public var channels: Int
    /// Frames (samples per channel) decoded; equals the header's count for a valid file.
    public var frames: Int
    /// Seconds: frames / sampleRate.
    public var duration: Double

    public init(container: String, codec: String, sampleRate: Int, channels: Int, frames: Int, duration: Double) {
        self.container = container
        self.codec = codec
        self.sampleRate = sampleRate
        self.channels = channels
        self.frames = frames
        self.duration = duration
    }
}

extension Media {
    /// Opens `path` with libsndfile and decodes every frame in chunks into one reused buffer.
    ///
    /// - `.empty`: a zero-byte file, or a valid header with no frames.
    /// - `.corrupt`: an unreadable header (libsndfile's message), a decode error, fewer
    ///   frames than the header claims, or a WAV/AIFF whose data chunk claims more bytes
    ///   than the file holds (libsndfile silently shortens such files; we do not).
    public static func validateAudio(path: String) -> Result<AudioProbe, MediaProblem> {
        switch fileSize(path) {
        case .failure(let problem): return .failure(problem)
        case .success(0): return .failure(.empty("file is empty (0 bytes)"))
        case .success: break
        }
        var info = SF_INFO()
        guard let file = sf_open(path, Int32(SFM_READ), &info) else {
            // sf_open(NULL) errors are kept in one process-global slot: read it at once.
            let message = String(cString: sf_strerror(nil))
            return .failure(.corrupt("not a readable audio file: unknown format or damaged header (libsndfile: \(message))"))
        }
        defer { sf_close(file) }

        let format = Int(info.format)
        let container = containerName(format & Int(SF_FORMAT_TYPEMASK), sub: format & Int(SF_FORMAT_SUBMASK))
        let codec = codecName(format & Int(SF_FORMAT_SUBMASK))
        let claimed = Int(info.frames)
        let channels = Int(info.channels)
        let sampleRate = Int(info.samplerate)
        guard channels > 0, sampleRate > 0 else {
            return .failure(.corrupt("audio header is invalid: \(channels) channels at \(sampleRate) Hz"))
        }
        guard claimed > 0 else { return .failure(.empty("audio has no samples")) }

        let chunkFrames = 4096
        var buffer = [Float](repeating: 0, count: chunkFrames * channels)
        var read = 0
        while true {
            let n = buffer.withUnsafeMutableBufferPointer { sf_readf_float(file, $0.baseAddress, sf_count_t(chunkFrames)) }
            if n <= 0 { break }
            read += Int(n)
        }
        let err = sf_error(file)
        if err != 0 {
            return .failure(.corrupt("audio data is corrupt after \(read) frames (libsndfile: \(String(cString: sf_strerror(file))))"))
        }
        if read < claimed {
            return .failure(.corrupt("audio data truncated: header says \(claimed) frames, read \(read)"))
        }
        if let shortfall = dataChunkShortfall(file) {
            if let bytesPerSample = bytesPerSample(format & Int(SF_FORMAT_SUBMASK)) {
                let headerFrames = shortfall.declared / (bytesPerSample * channels)
                return .failure(.corrupt("audio data truncated: header says \(headerFrames) frames, read \(read)"))
            }
            return .failure(.corrupt(
                "audio data truncated: data chunk says \(shortfall.declared) bytes, file holds \(shortfall.actual)"))
        }
        return .success(AudioProbe(
            container: container, codec: codec, sampleRate: sampleRate, channels: channels,
            frames: read, duration: Double(read) / Double(sampleRate)))
    }

    /// libsndfile shortens a WAV/AIFF whose data chunk claims more bytes than the file
    /// holds, and only notes it in its log ("data : 16000 (should be 9582)"); we report
    /// that as truncation. A size of 0xFFFFFFFF is the "unknown length" of streamed WAVs
    /// (e.g. written to a pipe) and is accepted.
    private static func dataChunkShortfall(_ file: OpaquePointer) -> (declared: Int, actual: Int)? {
        var log = [CChar](repeating: 0, count: 8192)
        let n = log.withUnsafeMutableBytes { sf_command(file, Int32(SFC_GET_LOG_INFO), $0.baseAddress, Int32($0.count - 1)) }
        guard n > 0 else { return nil }
        let text = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("data ") || trimmed.hasPrefix("SSND ") else { continue }
            guard let should = trimmed.range(of: "(should be "), let colon = trimmed.firstIndex(of: ":") else { continue }
            let declared = Int(trimmed[trimmed.index(after: colon)..<should.lowerBound].trimmingCharacters(in: .whitespaces))
            let actual = Int(trimmed[should.upperBound...].prefix { $0.isNumber })
            guard var declared, let actual, declared > actual, declared != 0xFFFF_FFFF else { continue }
            if trimmed.hasPrefix("SSND ") { declared -= 8 }  // AIFF's SSND size counts its offset and block-size words
            return (declared, actual)
        }
        return nil
    }

    private static func bytesPerSample(_ sub: Int) -> Int? {
        switch sub {
        case Int(SF_FORMAT_PCM_S8), Int(SF_FORMAT_PCM_U8), Int(SF_FORMAT_ULAW), Int(SF_FORMAT_ALAW): 1
        case Int(SF_FORMAT_PCM_16): 2
        case Int(SF_FORMAT_PCM_24): 3
        case Int(SF_FORMAT_PCM_32), Int(SF_FORMAT_FLOAT): 4
        case Int(SF_FORMAT_DOUBLE): 8
        default: nil
        }
    }

    static func containerName(_ major: Int, sub: Int) -> String {
        switch major {
        case Int(SF_FORMAT_WAV), Int(SF_FORMAT_WAVEX): "wav"
        case Int(SF_FORMAT_RF64): "rf64"
        case Int(SF_FORMAT_W64): "w64"
        case Int(SF_FORMAT_AIFF): "aiff"
        case Int(SF_FORMAT_FLAC): "flac"
        case Int(SF_FORMAT_OGG): "ogg"
        case Int(SF_FORMAT_MPEG): sub == Int(SF_FORMAT_MPEG_LAYER_III) ? "mp3" : "mpeg"
        case Int(SF_FORMAT_AU): "au"
        case Int(SF_FORMAT_CAF): "caf"
        case Int(SF_FORMAT_RAW): "raw"
        default: String(format: "sndfile-0x%06x", major)
        }
    }

    static func codecName(_ sub: Int) -> String {
        switch sub {
        case Int(SF_FORMAT_PCM_S8): "pcm_s8"
        case Int(SF_FORMAT_PCM_U8): "pcm_u8"
        case Int(SF_FORMAT_PCM_16): "pcm_16"
        case Int(SF_FORMAT_PCM_24): "pcm_24"
        case Int(SF_FORMAT_PCM_32): "pcm_32"
        case Int(SF_FORMAT_FLOAT): "float"
        case Int(SF_FORMAT_DOUBLE): "double"
        case Int(SF_FORMAT_ULAW): "ulaw"
        case Int(SF_FORMAT_ALAW): "alaw"
        case Int(SF_FORMAT_IMA_ADPCM): "ima_adpcm"
        case Int(SF_FORMAT_MS_ADPCM): "ms_adpcm"
        case Int(SF_FORMAT_GSM610): "gsm610"
        case Int(SF_FORMAT_VORBIS): "vorbis"
        case Int(SF_FORMAT_OPUS): "opus"
        case Int(SF_FORMAT_ALAC_16), Int(SF_FORMAT_ALAC_20), Int(SF_FORMAT_ALAC_24), Int(SF_FORMAT_ALAC_32): "alac"
        case Int(SF_FORMAT_MPEG_LAYER_I): "mp1"
        case Int(SF_FORMAT_MPEG_LAYER_II): "mp2"
        case Int(SF_FORMAT_MPEG_LAYER_III): "mp3"
        default: String(format: "sndfile-0x%04x", sub)
        }
    }
}
