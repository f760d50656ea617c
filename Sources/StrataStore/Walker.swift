import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One entry found while walking the user's input paths.
public struct WalkEntry: Sendable {
    public enum Problem: Sendable, Equatable {
        case unreadable(String)
        case symlinkLoop
        case notRegular(String)
    }

    /// Absolute, lexically normalised path as the user would recognise it (symlinks not resolved).
    public var path: String
    public var status: FileIO.Status?
    public var problem: Problem?
}

/// Walks files and folders depth-first in sorted order. Follows symbolic links to files and folders, but never
/// enters a folder twice (by device and inode), so link loops terminate and are reported.
public enum Walker {
    public static func walk(_ roots: [String], skipHidden: Bool = false, _ visit: (WalkEntry) throws -> Void) throws {
        var seenDirs = Set<[UInt64]>()
        for root in roots {
            let abs = absolute(root)
            guard let lst = FileIO.status(abs, followLinks: false) else {
                try visit(WalkEntry(path: abs, status: nil, problem: .unreadable(String(cString: strerror(errno)))))
                continue
            }
            try walkEntry(abs, lstatus: lst, seenDirs: &seenDirs, skipHidden: skipHidden, visit)
        }
    }

    private static func walkEntry(
        _ path: String, lstatus: FileIO.Status, seenDirs: inout Set<[UInt64]>, skipHidden: Bool,
        _ visit: (WalkEntry) throws -> Void
    ) throws {
        var st = lstatus
        if st.isSymlink {
            guard let target = FileIO.status(path, followLinks: true) else {
                let loop = errno == ELOOP
                try visit(WalkEntry(path: path, status: nil, problem: loop ? .symlinkLoop : .unreadable("broken symbolic link")))
                return
            }
            st = target
        }
        if st.isDirectory {
            var raw = stat()
            stat(path, &raw)
            let key: [UInt64] = [UInt64(raw.st_dev), UInt64(raw.st_ino)]
            if seenDirs.contains(key) {
                if lstatus.isSymlink { try visit(WalkEntry(path: path, status: nil, problem: .symlinkLoop)) }
                return
            }
            seenDirs.insert(key)
            guard let dir = opendir(path) else {
                try visit(WalkEntry(path: path, status: nil, problem: .unreadable(String(cString: strerror(errno)))))
                return
            }
            defer { closedir(dir) }
            var names: [String] = []
            while let ent = readdir(dir) {
                let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                    String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
                }
                if name == "." || name == ".." { continue }
                if skipHidden && name.hasPrefix(".") { continue }
                names.append(name)
            }
            names.sort()
            // Stat relative to the open folder: the kernel does not resolve the whole path again for every entry.
            let fd = dirfd(dir)
            for name in names {
                let child = path == "/" ? "/\(name)" : "\(path)/\(name)"
                var raw = stat()
                guard fstatat(fd, name, &raw, AT_SYMLINK_NOFOLLOW) == 0 else {
                    try visit(WalkEntry(path: child, status: nil, problem: .unreadable(String(cString: strerror(errno)))))
                    continue
                }
                let cst = FileIO.Status(raw)
                try walkEntry(child, lstatus: cst, seenDirs: &seenDirs, skipHidden: skipHidden, visit)
            }
        } else if st.isRegular {
            try visit(WalkEntry(path: path, status: st, problem: nil))
        } else {
            try visit(WalkEntry(path: path, status: st, problem: .notRegular("not a regular file (device, socket or pipe)")))
        }
    }

    /// Absolute and lexically normalised (no `.` or `..` segments), without resolving symbolic links.
    public static func absolute(_ path: String) -> String {
        let base = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var parts: [Substring] = []
        for seg in base.split(separator: "/", omittingEmptySubsequences: true) {
            if seg == "." { continue }
            if seg == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(seg)
        }
        return "/" + parts.joined(separator: "/")
    }
}
