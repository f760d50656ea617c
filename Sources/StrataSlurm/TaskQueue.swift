import Foundation
import StrataCore
import StrataEngine
import StrataStore
#if canImport(Glibc)
import Glibc
#endif

/// The files through which the driver hands a run's tasks to its Slurm workers, under
/// `.strata/runs/<run>/workers/` on the shared filesystem.
///
/// - `queue/t<seq>.json`: a task waiting for a worker (its `TaskSpec` and attempt), published by the driver with an
///   atomic rename;
/// - `claimed/t<seq>.json@<worker>`: the lease. A worker claims a task by renaming it here (only one rename can
///   win); the name says which worker holds it (`<array job>_<index>` with sbatch, the job id with srun);
/// - `done/t<seq>.json`: moved here by the worker once the task's result is in the task cache;
/// - `failed/t<seq>.json`: written by the worker when the task threw (the error, the worker, its host);
/// - `heartbeat/<worker>`: rewritten by each worker every second (a counter, its host, pid and task);
/// - `finished`: written by the driver at the end of the run; workers exit when they see it;
/// - `submit-<n>.sbatch` (or `.sh`) and `logs/<n>-<index>.log`: the worker submissions and their output.
public struct WorkerLayout: Sendable {
    public let dir: String
    public init(projectRoot: String, run: String) { dir = "\(projectRoot)/.strata/runs/\(run)/workers" }
    public var queue: String { dir + "/queue" }
    public var claimed: String { dir + "/claimed" }
    public var done: String { dir + "/done" }
    public var failed: String { dir + "/failed" }
    public var heartbeats: String { dir + "/heartbeat" }
    public var logs: String { dir + "/logs" }
    public var finished: String { dir + "/finished" }
    var temp: String { dir + "/tmp" }

    func create() throws {
        for d in [queue, claimed, done, failed, heartbeats, logs, temp] { try FileIO.makeDirectories(d) }
    }

    /// File names in `dir` (unsorted; empty when it does not exist).
    static func names(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { out.append(name) }
        }
        return out
    }
}

/// The name of one published task: `t<seq>.json`, `seq` zero-padded to 7 digits (so names sort in publishing order).
public struct Ticket: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let seq: Int
    public init(seq: Int) { self.seq = seq }

    /// Parses a file name; nil for anything that is not a ticket (a temporary file, a stray name).
    public init?(fileName: String) {
        guard fileName.hasPrefix("t"), fileName.hasSuffix(".json") else { return nil }
        let digits = fileName.dropFirst().dropLast(5)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let seq = Int(digits) else { return nil }
        self.seq = seq
    }

    public var fileName: String {
        let digits = String(seq)
        return "t" + String(repeating: "0", count: max(0, 7 - digits.count)) + digits + ".json"
    }
    public var description: String { fileName }
    public static func < (a: Ticket, b: Ticket) -> Bool { a.seq < b.seq }
}

/// A claimed ticket: `<ticket>@<worker>` in `claimed/`.
public struct Lease: Hashable, Sendable, CustomStringConvertible {
    public let ticket: Ticket
    /// The worker holding it (its heartbeat's name).
    public let worker: String
    public init(ticket: Ticket, worker: String) { self.ticket = ticket; self.worker = worker }

    /// Parses a file name of `claimed/`; nil when it is not `<ticket>@<worker>` with a worker name.
    public init?(fileName: String) {
        guard let at = fileName.firstIndex(of: "@"), let ticket = Ticket(fileName: String(fileName[..<at])) else { return nil }
        let worker = String(fileName[fileName.index(after: at)...])
        guard Lease.isWorkerName(worker) else { return nil }
        self.ticket = ticket
        self.worker = worker
    }

    public var fileName: String { "\(ticket.fileName)@\(worker)" }
    public var description: String { fileName }

    /// A worker name fits in a file name and leaves the lease parseable: no `/`, no `@`, not empty.
    public static func isWorkerName(_ s: String) -> Bool { !s.isEmpty && !s.contains("/") && !s.contains("@") && s != "." && s != ".." }
}

/// What a ticket holds: the task and which attempt this is.
struct TicketPayload: Codable {
    var task: TaskSpec
    var attempt: Int
}

/// What a worker writes when a task threw.
struct WorkerFailure: Codable {
    var worker: String
    var host: String
    var error: String
}

/// The ticket/lease queue of one run, both sides of it: the driver publishes tickets and reads where they went; a
/// worker claims one (the rename into `claimed/` is the lease), then moves it to `done/` or reports it `failed/`.
/// A ticket is always in exactly one of `queue/`, `claimed/`, `done/` or `failed/` (every move is one rename).
struct TaskQueue: Sendable {
    let layout: WorkerLayout

    init(layout: WorkerLayout) { self.layout = layout }

    // MARK: Driver side

    /// Publishes `payload` as `ticket`: written under a temporary name, then renamed into `queue/`.
    func publish(_ payload: TicketPayload, as ticket: Ticket) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let tmp = "\(layout.temp)/\(ticket.fileName)"
        try FileIO.writeAtomically(tmp, Array(try encoder.encode(payload)), sync: false)
        let path = "\(layout.queue)/\(ticket.fileName)"
        guard rename(tmp, path) == 0 else { throw FileError("rename into the worker queue", path) }
    }

    /// Tickets waiting in `queue/`.
    func queued() -> Set<Ticket> { Set(WorkerLayout.names(layout.queue).compactMap(Ticket.init(fileName:))) }

    /// Every lease in `claimed/`.
    func leases() -> [Lease] { WorkerLayout.names(layout.claimed).compactMap(Lease.init(fileName:)) }

    /// Tickets moved to `done/`, and any other name found there (removed: nothing the driver published).
    func done() -> [Ticket] {
        var out: [Ticket] = []
        for name in WorkerLayout.names(layout.done) {
            if let t = Ticket(fileName: name) { out.append(t) } else { unlink("\(layout.done)/\(name)") }
        }
        return out
    }

    /// Forgets a ticket of `done/` once its result is reported.
    func removeDone(_ ticket: Ticket) { unlink("\(layout.done)/\(ticket.fileName)") }

    /// Takes every failure report of `failed/` (each is removed); the report is nil when it cannot be read.
    func takeFailures() -> [(ticket: Ticket, failure: WorkerFailure?)] {
        var out: [(Ticket, WorkerFailure?)] = []
        for name in WorkerLayout.names(layout.failed) {
            let path = "\(layout.failed)/\(name)"
            let failure = (try? FileIO.readAll(path)).flatMap { try? JSONDecoder().decode(WorkerFailure.self, from: Data($0)) }
            unlink(path)
            if let t = Ticket(fileName: name) { out.append((t, failure)) }
        }
        return out
    }

    /// Tickets in `done/` or `failed/` (listed after `queue/` and `claimed/`: a ticket moving on is still seen).
    func finishing() -> Set<Ticket> {
        Set((WorkerLayout.names(layout.done) + WorkerLayout.names(layout.failed)).compactMap(Ticket.init(fileName:)))
    }

    /// Takes a lease back from its worker. False when the worker moved the ticket on first (the unlink decides).
    func revoke(_ lease: Lease) -> Bool { unlink("\(layout.claimed)/\(lease.fileName)") == 0 }

    /// Tells the workers the run is over.
    func markFinished(run: String) { try? FileIO.writeAtomically(layout.finished, Array("\(run)\n".utf8), sync: false) }

    // MARK: Worker side

    var isFinished: Bool { FileIO.status(layout.finished) != nil }

    /// Claims the first waiting ticket for `worker`; nil when none could be had.
    func claim(as worker: String) -> Lease? {
        for ticket in queued().sorted() {
            let lease = Lease(ticket: ticket, worker: worker)
            if rename("\(layout.queue)/\(ticket.fileName)", "\(layout.claimed)/\(lease.fileName)") == 0 { return lease }
        }
        return nil
    }

    func read(_ lease: Lease) throws -> TicketPayload {
        try JSONDecoder().decode(TicketPayload.self, from: Data(try FileIO.readAll("\(layout.claimed)/\(lease.fileName)")))
    }

    /// The task's result is in the task cache: the ticket moves to `done/`.
    func complete(_ lease: Lease) { rename("\(layout.claimed)/\(lease.fileName)", "\(layout.done)/\(lease.ticket.fileName)") }

    /// The task threw: the report goes to `failed/` (through a temporary file), the lease is dropped.
    func fail(_ lease: Lease, _ failure: WorkerFailure) {
        let tmp = "\(layout.temp)/\(lease.ticket.fileName).\(lease.worker).failed"
        if let bytes = try? JSONEncoder().encode(failure), (try? FileIO.writeAtomically(tmp, Array(bytes), sync: false)) != nil {
            rename(tmp, "\(layout.failed)/\(lease.ticket.fileName)")
        }
        drop(lease)
    }

    /// Gives up a lease without a report (its ticket could not be read).
    func drop(_ lease: Lease) { unlink("\(layout.claimed)/\(lease.fileName)") }
}
