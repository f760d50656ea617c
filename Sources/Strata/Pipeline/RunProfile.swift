import Foundation
import StrataCore
import StrataEngine
import StrataMedia
import StrataQuality

/// The data profile of a run: computed by the driver from the run's input before any stage, handed to
/// `filter.quality` stages as `source_medians`, kept in the run's report (`strata runs show`) and printed by
/// `strata profile`. The summaries are pure (StrataQuality/Profile); this file reads the samples.
extension Workspace {
    /// The profile of every sample in the catalog, as the next `strata run` would compute it.
    public func dataProfile() throws -> DataProfile {
        try Workspace.profile(runItems(), context: StageContext(projectRoot: root, objects: objects))
    }

    /// The catalog's samples as work items, in the run's input order.
    func runItems() throws -> [WorkItem] {
        try catalog.runSamples { s in
            WorkItem(id: s.id, sample: s.id, source: s.source, modality: s.modality, format: s.format,
                     content: s.kind == "file" ? .raw(path: s.rawPath) : .object(sha256: s.id), origin: s.originPath, line: s.originLine,
                     collected: s.collected, size: s.size)
        }
    }

    /// Profiles `items` per source and modality. At most `DataProfile.sampleLimit` items of each are measured: those
    /// with the smallest content hashes, so the profile depends on the data only (not on ingest order or threads).
    static func profile(_ items: [WorkItem], context: StageContext) -> DataProfile {
        var groups: [String: [WorkItem]] = [:]
        for item in items { groups[item.source + "\u{1}" + item.modality, default: []].append(item) }
        var profiles: [SourceProfile] = []
        for (_, group) in groups {
            let first = group[0]
            let chosen = Array(group.sorted { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }.prefix(DataProfile.sampleLimit))
            var profile = SourceProfile(source: first.source, modality: first.modality, samples: group.count, measured: chosen.count, unreadable: 0)
            switch Modality(rawValue: first.modality) {
            case .image?:
                let measures = measure(chosen) { item -> (width: Int, height: Int, bands: Int, alpha: Bool)? in
                    guard let path = try? context.path(item), case .success(let info) = Media.imagePixelInfo(path: path),
                          case .success(let size) = Media.displaySize(path: path) else { return nil }
                    return (size.width, size.height, info.bands, info.hasAlpha)
                }
                profile.unreadable = chosen.count - measures.count
                profile.image = ImageProfile(measures)
            case .audio?:
                let measures = measure(chosen) { item -> (seconds: Double, sampleRate: Int, channels: Int, peak: Double)? in
                    guard let path = try? context.path(item), case .success(let a) = Media.decodeAudio(path: path), a.sampleRate > 0 else { return nil }
                    var peak: Float = 0
                    for v in a.samples { peak = max(peak, abs(v)) }
                    return (Double(a.frames) / Double(a.sampleRate), a.sampleRate, a.channels, Double(peak))
                }
                profile.unreadable = chosen.count - measures.count
                profile.audio = AudioProfile(measures)
            default:
                let measures = measure(chosen) { item -> TextMeasure? in
                    guard let text = try? context.text(item) else { return nil }
                    return TextMeasure(text)
                }
                profile.unreadable = chosen.count - measures.count
                profile.text = TextProfile(measures)
            }
            profiles.append(profile)
        }
        return DataProfile(sources: profiles)
    }

    /// `body` over `items` on every core; nil results (unreadable samples) are left out. Order is kept.
    static func measure<T: Sendable>(_ items: [WorkItem], _ body: @escaping @Sendable (WorkItem) -> T?) -> [T] {
        let slots = Slots<T?>(count: items.count)
        DispatchQueue.concurrentPerform(iterations: items.count) { i in slots.set(i, body(items[i])) }
        return (0..<items.count).compactMap { slots.take($0) }
    }

    /// `stages` with the profile's medians set as `source_medians` on every `filter.quality` stage (rebuilt), so the
    /// medians are part of the stage's parameters: its tasks' cache keys change when the data's typical size does.
    static func handProfile(_ profile: DataProfile, to stages: [(spec: PipelineSpec.Stage, built: BuiltStage)]) throws
        -> [(spec: PipelineSpec.Stage, built: BuiltStage)] {
        let medians = profile.stageMedians
        return try stages.map { spec, built in
            guard spec.uses == "filter.quality", !medians.isEmpty else { return (spec, built) }
            var s = spec
            s.params["source_medians"] = .map(medians.mapValues { .map($0.mapValues { .double($0) }) })
            return (s, try StageRegistry.build(s))
        }
    }
}

extension DataProfile {
    /// The profile as `strata profile` prints it.
    public var text: String {
        if sources.isEmpty { return "no samples: `strata ingest` first\n" }
        var out = ""
        func q(_ x: Quantiles, _ unit: String = "") -> String { "median \(num(x.median))\(unit) (5% \(num(x.p5)), 95% \(num(x.p95)))" }
        func counts(_ m: [String: Int]) -> String { m.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") }
        for s in sources {
            out += "\(s.source) (\(s.modality)): \(s.samples) samples"
            out += s.measured < s.samples ? ", \(s.measured) measured" : ""
            out += s.unreadable > 0 ? ", \(s.unreadable) unreadable" : ""
            out += "\n"
            if let t = s.text {
                out += "  characters: \(q(t.characters))\n  words: \(q(t.words))\n  scripts: \(counts(t.scripts))\n"
                out += "  without spaces between words: \(t.unspaced); technical: \(t.technical)\n"
            }
            if let i = s.image {
                out += "  width: \(q(i.width, " px"))\n  height: \(q(i.height, " px"))\n  shorter side: \(q(i.shorterSide, " px"))\n"
                out += "  channels: \(counts(i.channels)); with alpha: \(i.alpha)\n"
            }
            if let a = s.audio {
                out += "  duration: \(q(a.seconds, " s"))\n  sample rates: \(counts(a.sampleRates)) Hz; channels: \(counts(a.channels))\n"
                out += "  peak: \(q(a.peak))\n"
            }
        }
        return out
    }

    private func num(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e12 { return String(Int64(x)) }
        return String(format: "%.3g", x)
    }
}
