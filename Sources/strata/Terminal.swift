import Foundation
import Strata
import StrataCore
#if canImport(Glibc)
import Glibc
#endif

enum Terminal {
    static let isTTY = isatty(2) != 0

    static func error(_ text: String) {
        FileHandle.standardError.write(Data("error: \(text)\n".utf8))
    }

    static func note(_ text: String) {
        FileHandle.standardError.write(Data("\(text)\n".utf8))
    }

    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = try encoder.encode(value)
        print(String(decoding: data, as: UTF8.self))
    }
}

/// Progress on stderr: a redrawn bar on a terminal (at most 10 redraws a second), a few plain lines otherwise.
final class TerminalProgress: ProgressReporter {
    private struct State: Sendable {
        var label = ""
        var total: Int?
        var done = 0
        var started = Date()
        var lastDraw = Date.distantPast
        var lastPlainPercent = -1
    }

    private let state = Locked(State())

    func begin(_ label: String, total: Int?) {
        state.withLock { $0 = State(label: label, total: total, started: Date()) }
    }

    func advance(by count: Int) {
        state.withLock { s in
            s.done += count
            TerminalProgress.draw(&s, final: false)
        }
    }

    func end() {
        state.withLock { s in
            TerminalProgress.draw(&s, final: true)
            if Terminal.isTTY { FileHandle.standardError.write(Data("\n".utf8)) }
        }
    }

    func note(_ line: String) {
        state.withLock { _ in
            if Terminal.isTTY { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            Terminal.note(line)
        }
    }

    private static func draw(_ s: inout State, final: Bool) {
        let now = Date()
        let elapsed = max(now.timeIntervalSince(s.started), 0.001)
        let rate = Double(s.done) / elapsed
        if Terminal.isTTY {
            if !final && now.timeIntervalSince(s.lastDraw) < 0.1 { return }
            s.lastDraw = now
            var line = "\r\u{1B}[K\(s.label) "
            if let total = s.total, total > 0 {
                let fraction = min(1, Double(s.done) / Double(total))
                let width = 30
                let filled = Int(fraction * Double(width))
                line += "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
                line += "\(s.done)/\(total) \(Int(fraction * 100))%"
                if rate > 0 && s.done < total {
                    line += " eta \(Int(Double(total - s.done) / rate))s"
                }
            } else {
                line += "\(s.done)"
            }
            line += String(format: " %.0f/s", rate)
            FileHandle.standardError.write(Data(line.utf8))
        } else if let total = s.total, total > 0 {
            let percent = s.done * 100 / total
            if final || percent / 25 > s.lastPlainPercent / 25 {
                if percent != s.lastPlainPercent {
                    s.lastPlainPercent = percent
                    Terminal.note("\(s.label): \(s.done)/\(total) (\(percent)%)")
                }
            }
        }
    }
}
