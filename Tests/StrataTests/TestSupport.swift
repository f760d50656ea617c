import Foundation
import StrataMedia
import StrataStore
import XCTest
@testable import Strata

/// A temporary folder with a fresh project in `project/` and user data in `incoming/`.
final class TempProject {
    let base: String
    let root: String
    let incoming: String

    init(modalities: String = "text,image,audio", file: StaticString = #filePath) throws {
        base = NSTemporaryDirectory() + "strata-test-" + UUID().uuidString
        root = base + "/project"
        incoming = base + "/incoming"
        try FileManager.default.createDirectory(atPath: incoming, withIntermediateDirectories: true)
        let mods = modalities.split(separator: ",").compactMap { Modality(rawValue: String($0)) }
        _ = try Workspace.initialize(at: root, modalities: mods)
    }

    func open() throws -> Workspace { try Workspace.open(at: root) }

    @discardableResult
    func write(_ rel: String, _ bytes: [UInt8]) -> String {
        let path = incoming + "/" + rel
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    @discardableResult
    func write(_ rel: String, _ text: String) -> String { write(rel, Array(text.utf8)) }

    deinit {
        _ = try? Process.run(URL(fileURLWithPath: "/bin/chmod"), arguments: ["-R", "u+rwX", base]).waitUntilExit()
        try? FileManager.default.removeItem(atPath: base)
    }
}

import StrataCore

enum Fixtures {
    static func png(_ seed: UInt64, size: Int = 48) -> [UInt8] {
        try! Encode.png(Synth.shape(Synth.Shape.allCases[Int(seed % 3)], size: size, night: false, blur: 0, seed: seed))
    }
    static func jpeg(_ seed: UInt64) -> [UInt8] {
        try! Encode.jpeg(Synth.shape(.circle, size: 48, night: false, blur: 0, seed: seed), quality: 85)
    }
    static func wav(_ seed: UInt64) -> [UInt8] {
        try! Encode.wav(Synth.tone(frequency: 300 + Double(seed), seconds: 0.2, sampleRate: 16_000, amplitude: 0.4, noise: 0.01, seed: seed),
                        sampleRate: 16_000, channels: 1)
    }
}
