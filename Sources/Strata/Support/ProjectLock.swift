import Foundation
import StrataStore
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a project for commands that write (ingest, quarantine release, ...).
/// A second writer waits (telling the user who holds the lock) up to `timeout`, then fails with a clear message.
/// Readers never take it: the catalog runs in WAL mode, so reads stay consistent while a writer works.
final class ProjectLock {
    private let fd: Int32

    init(path: String, command: String, timeout: TimeInterval, progress: any ProgressReporter) throws {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StrataError(.failure, "\(FileError("open the project lock", path))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            progress.note("waiting for another strata command on this project to finish (\(holder.isEmpty ? "unknown" : holder))")
            let deadline = Date().addingTimeInterval(timeout)
            while flock(fd, LOCK_EX | LOCK_NB) != 0 {
                if Date() > deadline {
                    close(fd)
                    throw StrataError(.project,
                        "another strata command is still working on this project (\(holder)); gave up after \(Int(timeout)) s",
                        fix: "wait for it to finish, or set STRATA_LOCK_TIMEOUT (seconds) to wait longer")
                }
                usleep(100_000)
            }
        }
        let info = "pid \(getpid()): strata \(command)\n"
        ftruncate(fd, 0)
        _ = info.withCString { write(fd, $0, strlen($0)) }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
