import Foundation
import StrataCore

/// `command`: runs a program that reads samples as JSONL on stdin and writes JSONL on stdout.
///
/// Input lines: `{"id", "sample", "text" (text items), "content" (path for other items), "source", "origin", "line",
/// "modality", "format"}`. Output lines: `{"id": ..., "drop": "reason"}` to reject, `{"id": ..., "text": "..."}` to
/// replace the text, `{"id": ...}` (optionally with `"score"`) to keep. A non-zero exit fails the task (its stderr is in
/// the log); a malformed output line, or a sample the program did not answer for, is quarantined with the reason.
struct CommandStage: MapStage {
    static let codeVersion = 1
    let name: String
    let command: String
    let timeout: Double
    let paramsJSON: String

    init(name: String, command: String, _ p: inout StageParams) throws {
        self.name = name
        self.command = command
        timeout = try p.double("timeout_seconds", default: 600, min: 1)
        paramsJSON = SpecValue.map(p.values.merging(["command": .string(command)]) { a, _ in a }).canonicalJSON
    }

    func process(_ items: [WorkItem], context: StageContext) throws -> [ItemOutcome] {
        var input = [UInt8]()
        for item in items {
            var obj: [String: JSONValue] = [
                "id": .string(item.id), "sample": .string(item.sample), "source": .string(item.source),
                "origin": .string(item.origin), "modality": .string(item.modality), "format": .string(item.format),
            ]
            if let l = item.line { obj["line"] = .int(Int64(l)) }
            if item.kind == .text {
                obj["text"] = .string(try context.text(item))
            } else {
                obj["content"] = .string(try context.path(item))
            }
            input += JSONValue.object(obj).serialize()
            input.append(0x0A)
        }
        let (status, stdout, stderr) = try run(input: input, cwd: context.projectRoot)
        if !stderr.isEmpty { context.log(String(decoding: stderr.prefix(64 * 1024), as: UTF8.self)) }
        guard status == 0 else {
            let tail = String(decoding: stderr.suffix(2000), as: UTF8.self)
            throw StageError("stage `\(name)`: command `\(command)` exited with status \(status)\(tail.isEmpty ? "" : ": \(tail)")")
        }
        var byId: [String: WorkItem] = [:]
        for item in items { byId[item.id] = item }
        var answered: [String: ItemOutcome] = [:]
        var malformed: [String] = []
        var lineNo = 0
        for line in stdout.split(separator: 0x0A, omittingEmptySubsequences: true) {
            lineNo += 1
            guard case .success(let obj) = JSONRecord.parseObject(Array(line)), case .string(let id)? = obj["id"] else {
                malformed.append("output line \(lineNo) is not a JSON object with a string `id`: \(String(decoding: line.prefix(200), as: UTF8.self))")
                continue
            }
            guard let item = byId[id] else {
                malformed.append("output line \(lineNo) names id `\(id.prefix(16))`, which was not in the input")
                continue
            }
            if case .string(let reason)? = obj["drop"] {
                answered[id] = .reject(item, kind: FindingKind.droppedByCommand.rawValue, reason: "`\(command)`: \(reason)")
            } else if case .string(let text)? = obj["text"], item.kind == .text {
                var kept = text == (try context.text(item)) ? item
                    : try context.replaceContent(item, with: Array(text.utf8), transform: Transform(stage: name, uses: "command", params: paramsJSON, changes: ["text"]))
                if let s = obj["score"]?.asDouble { kept.score = s }
                answered[id] = .keep(kept)
            } else {
                var kept = item
                if let s = obj["score"]?.asDouble { kept.score = s }
                answered[id] = .keep(kept)
            }
        }
        let note = malformed.isEmpty ? "" : " (\(malformed.count) malformed output line(s): \(malformed[0]))"
        for m in malformed { context.log(m) }
        return items.map { item in
            answered[item.id] ?? .reject(item, kind: FindingKind.commandNoAnswer.rawValue, reason: "`\(command)` returned no line for this sample\(note)")
        }
    }

    /// A program that exits without reading all its input must not kill Strata with SIGPIPE: the write fails with EPIPE.
    private static let ignoreSIGPIPE: Void = { signal(SIGPIPE, SIG_IGN); return () }()

    private func run(input: [UInt8], cwd: String) throws -> (Int32, [UInt8], [UInt8]) {
        CommandStage.ignoreSIGPIPE
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
        p.standardInput = inPipe
        p.standardOutput = outPipe
        p.standardError = errPipe
        do { try p.run() } catch {
            throw StageError("stage `\(name)`: cannot start `\(command)`: \(error.localizedDescription)")
        }
        let group = DispatchGroup()
        nonisolated(unsafe) var out = Data(), err = Data()
        group.enter(); DispatchQueue.global().async { out = outPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter(); DispatchQueue.global().async { err = errPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let writer = inPipe.fileHandleForWriting
        DispatchQueue.global().async {
            try? writer.write(contentsOf: Data(input))
            try? writer.close()
        }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            p.terminate()
            throw StageError("stage `\(name)`: command `\(command)` did not finish within \(Int(timeout)) s (params.timeout_seconds)")
        }
        p.waitUntilExit()
        return (p.terminationStatus, Array(out), Array(err))
    }
}
