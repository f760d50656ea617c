import Foundation
import StrataMedia
import XCTest

/// A fresh directory per test, removed afterwards.
class MediaTestCase: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("strata-media-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    @discardableResult
    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    func truncated(_ bytes: [UInt8], fraction: Double) -> [UInt8] {
        Array(bytes.prefix(Int(Double(bytes.count) * fraction)))
    }

    func sampleImage(seed: UInt64 = 7, size: Int = 128) -> RGBImage {
        Synth.shape(.circle, size: size, night: false, blur: 2, seed: seed)
    }

    func sampleTone(seconds: Double = 0.5, sampleRate: Int = 16_000) -> [Float] {
        Synth.tone(frequency: 440, seconds: seconds, sampleRate: sampleRate, amplitude: 0.5, noise: 0.05, seed: 3)
    }

    /// Asserts a failure of `kind` and returns its reason ("" on mismatch).
    @discardableResult
    func assertProblem<T>(_ result: Result<T, MediaProblem>, _ kind: MediaProblem.Kind,
                          file: StaticString = #filePath, line: UInt = #line) -> String {
        switch result {
        case .success(let value):
            XCTFail("expected \(kind.rawValue), got success \(value)", file: file, line: line)
            return ""
        case .failure(let problem):
            XCTAssertEqual(problem.kind, kind, "reason: \(problem.reason)", file: file, line: line)
            XCTAssertFalse(problem.reason.isEmpty, file: file, line: line)
            return problem.reason
        }
    }

    func value<T>(_ result: Result<T, MediaProblem>, file: StaticString = #filePath, line: UInt = #line) throws -> T {
        switch result {
        case .success(let v): return v
        case .failure(let p):
            XCTFail("unexpected \(p.kind.rawValue): \(p.reason)", file: file, line: line)
            throw p
        }
    }
}

/// Results gathered from several threads.
final class Collected<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Int: T] = [:]
    func set(_ i: Int, _ v: T) { lock.lock(); items[i] = v; lock.unlock() }
    var all: [Int: T] { lock.lock(); defer { lock.unlock() }; return items }
}
