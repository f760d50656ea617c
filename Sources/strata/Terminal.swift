import Foundation
import Strata
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
final class TerminalProgress: ProgressReporter, @unchecked Sendable {
    private let lock = NSLock()
    private var label = ""
    private var total: Int?
    private var done = 0
    private var started = Date()
    private var lastDraw = Date.distantPast
    private var lastPlainPercent = -1

    func begin(_ label: String, total: Int?) {
        lock.withLock {
            self.label = label; self.total = total; done = 0; started = Date(); lastDraw = .distantPast; lastPlainPercent = -1
        }
    }

    func advance(by count: Int) {
        lock.withLock {
            done += count
            draw(final: false)
        }
    }

    func end() {
        lock.withLock {
            draw(final: true)
            if Terminal.isTTY { FileHandle.standardError.write(Data("\n".utf8)) }
        }
    }

    func note(_ line: String) {
        lock.withLock {
            if Terminal.isTTY { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            Terminal.note(line)
        }
    }

    private func draw(final: Bool) {
        let now = Date()
        let elapsed = max(now.timeIntervalSince(started), 0.001)
        let rate = Double(done) / elapsed
        if Terminal.isTTY {
            if !final && now.timeIntervalSince(lastDraw) < 0.1 { return }
            lastDraw = now
            var line = "\r\u{1B}[K\(label) "
            if let total, total > 0 {
                let fraction = min(1, Double(done) / Double(total))
                let width = 30
                let filled = Int(fraction * Double(width))
                line += "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
                line += "\(done)/\(total) \(Int(fraction * 100))%"
                if rate > 0 && done < total {
                    line += " eta \(Int(Double(total - done) / rate))s"
                }
            } else {
                line += "\(done)"
            }
            line += String(format: " %.0f/s", rate)
            FileHandle.standardError.write(Data(line.utf8))
        } else if let total, total > 0 {
            let percent = done * 100 / total
            if final || percent / 25 > lastPlainPercent / 25 {
                if percent != lastPlainPercent {
                    lastPlainPercent = percent
                    Terminal.note("\(label): \(done)/\(total) (\(percent)%)")
                }
            }
        }
    }
}
