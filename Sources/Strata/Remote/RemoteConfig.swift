import Foundation
import StrataCore
import StrataRemote
import StrataStore

/// A configured remote (`.strata/remotes.json`: names and URLs only; credentials never live in the project).
public struct RemoteConfig: Codable, Sendable, Equatable {
    public var name: String
    public var url: String
    public var isDefault: Bool
}

struct RemotesFile: Codable {
    var remotes: [RemoteConfig] = []
}

/// The project's remotes (`.strata/remotes.json`) and the backends their URLs open.
extension Workspace {
    var remotesPath: String { strataDir + "/remotes.json" }
    func remoteCache(_ name: String) -> String { strataDir + "/remote-cache/" + name }

    func loadRemotes() throws -> RemotesFile {
        guard FileIO.status(remotesPath) != nil else { return RemotesFile() }
        do { return try JSONDecoder().decode(RemotesFile.self, from: Data(try FileIO.readAll(remotesPath))) } catch {
            throw StrataError.project("\(remotesPath) is not valid: \(UserErrors.inline(error))", fix: "fix or remove the file, then `strata remote add` again")
        }
    }

    func saveRemotes(_ f: RemotesFile) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileIO.writeAtomically(remotesPath, Array(try enc.encode(f)) + [0x0A])
    }

    public func remoteList() throws -> [RemoteConfig] { try loadRemotes().remotes }

    public func remoteAdd(name: String, url: String, makeDefault: Bool) throws -> RemoteConfig {
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }) else {
            throw StrataError.usage("invalid remote name `\(name)`", fix: "use letters, digits, `-`, `_` and `.`")
        }
        do { _ = try RemoteURL.parse(url) } catch let e as RemoteError { throw StrataError.usage(e.message, fix: e.fix) }
        var f = try loadRemotes()
        if f.remotes.contains(where: { $0.name == name }) {
            throw StrataError.usage("a remote named `\(name)` already exists", fix: "remove it first (`strata remote remove \(name)`) or choose another name")
        }
        let isDefault = makeDefault || f.remotes.isEmpty
        if isDefault { for i in f.remotes.indices { f.remotes[i].isDefault = false } }
        let r = RemoteConfig(name: name, url: (try RemoteURL.parse(url)).description, isDefault: isDefault)
        f.remotes.append(r)
        try saveRemotes(f)
        return r
    }

    public func remoteRemove(name: String) throws {
        var f = try loadRemotes()
        guard let i = f.remotes.firstIndex(where: { $0.name == name }) else { throw unknownRemote(name, f) }
        let wasDefault = f.remotes[i].isDefault
        f.remotes.remove(at: i)
        if wasDefault, !f.remotes.isEmpty { f.remotes[0].isDefault = true }
        try saveRemotes(f)
    }

    func unknownRemote(_ name: String, _ f: RemotesFile) -> StrataError {
        StrataError.usage("no remote `\(name)`", fix: f.remotes.isEmpty ? "add one with `strata remote add NAME URL`"
                          : "known remotes: \(f.remotes.map(\.name).joined(separator: ", "))")
    }

    public func remote(_ name: String?) throws -> RemoteConfig {
        let f = try loadRemotes()
        if let name {
            guard let r = f.remotes.first(where: { $0.name == name }) else { throw unknownRemote(name, f) }
            return r
        }
        guard let r = f.remotes.first(where: \.isDefault) ?? f.remotes.first else {
            throw StrataError.usage("this project has no remote", fix: "add one with `strata remote add NAME URL`")
        }
        return r
    }

    static func backend(_ url: String) throws -> any RemoteBackend {
        try remoteCall { try Remotes.backend(for: try RemoteURL.parse(url)) }
    }

    /// Runs remote work, turning its errors into errors the CLI prints.
    static func remoteCall<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as RemoteError {
            throw StrataError(e.kind == .usage ? .usage : .failure, e.message, fix: e.fix)
        }
    }
}
