import ArgumentParser
import Foundation
import Strata

extension StrataCommand {
    /// `strata label taskers add|list|revoke`: who may use the labeling server.
    struct LabelTaskers: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "taskers",
            abstract: "Add, list and revoke the people (and API clients) who may use the labeling server.",
            subcommands: [Add.self, List.self, Revoke.self],
            defaultSubcommand: List.self)

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Add a tasker and print their token (shown once; only its hash is stored).",
                discussion: """
                    Roles: tasker (labels their own queue), reviewer (also settles disagreements), admin (also sees
                    progress, agreement and gold accuracy). Examples:
                      strata label taskers add ana --role tasker
                      strata label taskers add lee --role reviewer --json
                    """)
            @OptionGroup var options: ProjectOptions
            @Argument(help: "The tasker's name: letters, digits, `.`, `_` or `-`.") var name: String
            @Option(help: "tasker, reviewer or admin.") var role: String = "tasker"

            func run() throws {
                guard let r = TaskerRole(rawValue: role) else {
                    throw StrataError.usage("unknown role `\(role)`", fix: "use --role tasker, --role reviewer or --role admin")
                }
                let ws = try options.open()
                let (tasker, token) = try ws.addTasker(name: name, role: r)
                if options.json {
                    struct Out: Encodable { var name: String; var role: String; var token: String }
                    return try Terminal.printJSON(Out(name: tasker.name, role: tasker.role.rawValue, token: token))
                }
                print("added \(tasker.role.rawValue) \(tasker.name)")
                print("token: \(token)")
                Terminal.note("This token is shown only once: give it to \(tasker.name) now (sign in at the server's /login, or send `Authorization: Bearer TOKEN`).")
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List taskers and their roles (tokens are never shown again).")
            @OptionGroup var options: ProjectOptions

            func run() throws {
                let ws = try options.open()
                let list = try ws.taskers()
                let revoked = try ws.revokedTaskers()
                if options.json {
                    struct Out: Encodable { var name: String; var role: String; var createdAt: String; var revoked: Bool }
                    return try Terminal.printJSON(list.map { Out(name: $0.name, role: $0.role.rawValue, createdAt: $0.createdAt, revoked: revoked.contains($0.name)) })
                }
                if list.isEmpty { print("no taskers yet: `strata label taskers add NAME --role tasker`"); return }
                for t in list { print("\(t.name)\t\(t.role.rawValue)\tsince \(t.createdAt)\(revoked.contains(t.name) ? "\trevoked" : "")") }
            }
        }

        struct Revoke: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Revoke a tasker: their token and sessions stop working at once; their labels stay.",
                discussion: """
                    A running server sees the revocation on its next request (it keeps tokens in memory but checks
                    .strata/taskers.generation, which every revocation raises), so the next request with the token
                    (or a signed-in browser) gets 401. The tasker's labels, their answered assignments and their row stay
                    (labels keep naming them); unanswered claims go back to the queue after the claim timeout.
                    Example:
                      strata label taskers revoke ana
                    """)
            @OptionGroup var options: ProjectOptions
            @Argument(help: "The tasker to revoke.") var name: String

            func run() throws {
                try options.open().revokeTasker(name: name)
                if options.json {
                    struct Out: Encodable { var name: String; var revoked: Bool }
                    return try Terminal.printJSON(Out(name: name, revoked: true))
                }
                print("revoked \(name): their token and sessions no longer work; their labels stay")
            }
        }
    }
}
