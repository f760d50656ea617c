import Foundation
#if canImport(Glibc)
import Glibc
#endif
import StrataCatalog
import StrataCore
import StrataStore

/// A Strata project on disk: the facade every command and the server go through.
///
/// One file per user operation extends it (`Workspace+Init.swift`, `Workspace+Ingest.swift`, ...).
public final class Workspace: @unchecked Sendable {
    public let root: String
    public let project: ProjectSpec
    public let catalog: Catalog
    public let objects: ObjectStore
    public let progress: any ProgressReporter

    public var rawDir: String { root + "/data/raw" }
    public var cleanedDir: String { root + "/data/cleaned" }
    public var quarantineDir: String { root + "/quarantine" }
    public var strataDir: String { root + "/.strata" }

    /// The folders every project has.
    public static let layout = ["data/raw", "data/cleaned", "data/labeled", "data/ready", "quarantine", ".strata", ".strata/objects", ".strata/runs"]
    public static let specFiles = ["strata.yaml", "intent.yaml", "rulebook.yaml", "pipeline.yaml"]

    /// Opens the project containing `path` (searching upwards for `strata.yaml`).
    public static func open(at path: String = ".", progress: any ProgressReporter = SilentProgress()) throws -> Workspace {
        try Workspace(root: try projectRoot(containing: path), progress: progress)
    }

    /// The folder of the project containing `path` (the nearest one upwards with `strata.yaml`).
    public static func projectRoot(containing path: String) throws -> String {
        var dir = Walker.absolute(path)
        while true {
            if FileManager.default.fileExists(atPath: dir + "/strata.yaml") { return dir }
            if dir == "/" {
                throw StrataError.project("no Strata project here: no strata.yaml in \(Walker.absolute(path)) or any folder above it",
                                          fix: "run `strata init` to create one, or change into the project folder")
            }
            dir = (dir as NSString).deletingLastPathComponent
        }
    }

    init(root: String, progress: any ProgressReporter) throws {
        self.root = root
        self.progress = progress
        let file = root + "/strata.yaml"
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw StrataError.project("cannot read \(file): \(error.localizedDescription)")
        }
        do { project = try ProjectSpec.decode(yaml: text, file: "strata.yaml") } catch {
            throw StrataError(.project, wrapping: error, fix: "fix the lines listed above in strata.yaml (every other command needs a valid strata.yaml)")
        }
        for dir in Workspace.layout where !FileManager.default.fileExists(atPath: root + "/" + dir) {
            try FileIO.makeDirectories(root + "/" + dir)
        }
        if access(root + "/.strata", W_OK) != 0 && errno == EROFS {
            throw StrataError.project("the project \(root) is on a read-only file system; Strata needs to write its catalog and lock even to read",
                                      fix: "remount the file system read-write (or copy the project to a writable disk) and run the command again; nothing was changed")
        }
        catalog = try Catalog(path: root + "/.strata/catalog.sqlite")
        objects = ObjectStore(projectRoot: root)
    }

    /// Project-relative form of an absolute path inside the project.
    public func relative(_ path: String) -> String {
        path.hasPrefix(root + "/") ? String(path.dropFirst(root.count + 1)) : path
    }

    func lock(_ command: String) throws -> ProjectLock {
        let timeout = ProcessInfo.processInfo.environment["STRATA_LOCK_TIMEOUT"].flatMap(Double.init) ?? 600
        return try ProjectLock(path: strataDir + "/lock", command: command, timeout: timeout, progress: progress)
    }

    /// The current UTC time as ISO 8601 with milliseconds (`2026-11-30T19:06:10.123Z`), the format every catalog
    /// timestamp uses. Built with `gmtime_r` instead of a Foundation formatter: this runs several times per label on
    /// the label server's hot path, and a new `ISO8601DateFormatter` per call costs far more than the label itself.
    static func now() -> String { utcTimestamp(Date()) }

    /// `date` as `yyyy-MM-ddTHH:mm:ss.SSSZ` (UTC), the same text `ISO8601DateFormatter` with fractional seconds writes.
    static func utcTimestamp(_ date: Date) -> String {
        let t = date.timeIntervalSince1970
        var secs = time_t(t.rounded(.down))
        var ms = Int(((t - Double(secs)) * 1000).rounded(.down))
        if ms >= 1000 { ms = 999 } else if ms < 0 { ms = 0 }
        var tm = tm()
        gmtime_r(&secs, &tm)
        func pad(_ v: Int, _ n: Int) -> String {
            let s = String(v)
            return s.count >= n ? s : String(repeating: "0", count: n - s.count) + s
        }
        return pad(Int(tm.tm_year) + 1900, 4) + "-" + pad(Int(tm.tm_mon) + 1, 2) + "-" + pad(Int(tm.tm_mday), 2) + "T"
            + pad(Int(tm.tm_hour), 2) + ":" + pad(Int(tm.tm_min), 2) + ":" + pad(Int(tm.tm_sec), 2) + "." + pad(ms, 3) + "Z"
    }

    static func today() -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd"
        return f.string(from: Date())
    }

    static func shortHash(_ parts: String...) -> String {
        String(FileIO.sha256(Array(parts.joined(separator: "\u{1F}").utf8)).prefix(16))
    }

    /// Reads and decodes one of the four spec files.
    func readSpec(_ name: String) throws -> String {
        let file = root + "/" + name
        do { return try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw StrataError.project("cannot read \(name): \(error.localizedDescription)", fix: "restore it, or run `strata init --force` to rewrite the templates")
        }
    }

    public func intent() throws -> IntentSpec {
        do { return try IntentSpec.decode(yaml: try readSpec("intent.yaml"), file: "intent.yaml") } catch let e as StrataError { throw e } catch {
            throw StrataError(.project, wrapping: error)
        }
    }

    public func rulebook() throws -> RulebookSpec {
        do { return try RulebookSpec.decode(yaml: try readSpec("rulebook.yaml"), file: "rulebook.yaml") } catch let e as StrataError { throw e } catch {
            throw StrataError(.project, wrapping: error)
        }
    }
}
