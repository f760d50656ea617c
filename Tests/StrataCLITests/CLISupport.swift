import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `strata` binary the way a user does.
enum CLI {
    static let binary: String = {
        if let env = ProcessInfo.processInfo.environment["STRATA_BIN"] { return env }
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            dir = dir.deletingLastPathComponent()
        }
        for config in ["debug", "release"] {
            let candidate = dir.appendingPathComponent(".build/\(config)/strata").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return dir.appendingPathComponent(".build/debug/strata").path
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    @discardableResult
    static func run(_ args: [String], cwd: String? = nil, timeout: TimeInterval = 300) throws -> Result {
        try runProgram(binary, args, cwd: cwd, timeout: timeout)
    }

    /// Runs a program to its end and captures both pipes (read while it runs, so a large output cannot block it).
    static func runProgram(_ executable: String, _ args: [String], cwd: String? = nil, timeout: TimeInterval) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data(), errData = Data()
        group.enter(); DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter(); DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            p.terminate()
            throw NSError(domain: "CLI", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(executable) \(args) timed out"])
        }
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Starts `strata args`, sends it SIGKILL after the delay, and waits for it to die.
    static func killed(_ args: [String], afterMicroseconds delay: Int) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        usleep(UInt32(delay))
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    static func json(_ args: [String], cwd: String? = nil) throws -> Any {
        let r = try run(args + ["--json"], cwd: cwd)
        guard let data = r.stdout.data(using: .utf8), let value = try? JSONSerialization.jsonObject(with: data) else {
            throw NSError(domain: "CLI", code: 2, userInfo: [NSLocalizedDescriptionKey: "not JSON (exit \(r.status)): \(r.stdout)\n\(r.stderr)"])
        }
        return value
    }
}

final class TempDir: @unchecked Sendable {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "strata-cli-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    @discardableResult
    func write(_ rel: String, _ bytes: [UInt8]) -> String {
        let p = path + "/" + rel
        try? FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }
    deinit {
        _ = try? Process.run(URL(fileURLWithPath: "/bin/chmod"), arguments: ["-R", "u+rwX", path]).waitUntilExit()
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// The Python interpreter with the test peers (`make pyenv`), from `STRATA_PYTHON`.
/// Locally a test that needs it is skipped when it is missing; under `CI=true` it fails instead.
enum PythonPeers {
    static func interpreter(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let env = ProcessInfo.processInfo.environment
        if let path = env["STRATA_PYTHON"], FileManager.default.isExecutableFile(atPath: path) { return path }
        if env["CI"] == "true" {
            XCTFail("STRATA_PYTHON is not set or not executable; run the suite with `make test`", file: file, line: line)
            throw XCTSkip("no Python peers")
        }
        throw XCTSkip("STRATA_PYTHON not set (run `make pyenv` and export STRATA_PYTHON=.build/pyenv/bin/python)")
    }

    /// Runs `python script args...` and returns its result; stdout/stderr are captured.
    static func run(_ script: String, _ args: [String] = [], cwd: String? = nil, timeout: TimeInterval = 600) throws -> CLI.Result {
        try CLI.runProgram(try interpreter(), [script] + args, cwd: cwd, timeout: timeout)
    }

    /// The folder of Python scripts the tests run (Tests/python).
    static let scriptsDir: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("python").path
    }()
}

/// Switches the init pipeline's text near duplicates to word 5-grams (`shingle: words`), for tests whose generated
/// rows are one template filled in: by the default's character 5-grams those are near duplicates of each other.
func useWordShingles(_ project: String) throws {
    let path = project + "/pipeline.yaml"
    let yaml = try String(contentsOfFile: path, encoding: .utf8)
    guard yaml.contains("shingle: auto,") else { throw CocoaError(.fileReadCorruptFile) }
    try yaml.replacingOccurrences(of: "shingle: auto,", with: "shingle: words,").write(toFile: path, atomically: true, encoding: .utf8)
}
