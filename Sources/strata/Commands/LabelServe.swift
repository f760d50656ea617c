import ArgumentParser
import Dispatch
import Foundation
import Strata
import StrataServer

extension StrataCommand {
    /// `strata label serve`: the labeling web app and its JSON API.
    struct LabelServe: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Serve the labeling web app and its JSON API (taskers, reviewers, admins).",
            discussion: """
                Taskers sign in at http://HOST:PORT/ with the token `strata label taskers add` printed; API clients
                send `Authorization: Bearer TOKEN`. A label is acknowledged (201) only after it is committed to the
                catalog with a full fsync. Ctrl-C (or SIGTERM) stops the server after the pending commits.
                Examples:
                  strata label serve
                  strata label serve --port 9000 --host 0.0.0.0
                The API is described in docs/label-server.md and docs/openapi.yaml.
                """)

        @OptionGroup var options: ProjectOptions

        @Option(help: "Port to listen on (0 picks a free one and prints it).")
        var port: Int = 8080

        @Option(help: "Address to listen on. The default accepts only this machine; use 0.0.0.0 behind HTTPS for a team.")
        var host: String = "127.0.0.1"

        @Flag(help: "Mark the session cookie Secure (set this when the server is reached over HTTPS).")
        var secureCookies = false

        func validate() throws {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        }

        func run() throws {
            let ws = try options.open()
            let desk = try LabelDesk(workspace: ws)
            let server = try LabelServer(desk: desk, configuration: .init(host: host, port: port, secureCookies: secureCookies))
            let host = self.host
            let json = options.json
            let app = server.makeApplication { bound in
                if json {
                    print("{\"listening\":\"http://\(host):\(bound)\",\"port\":\(bound)}")
                } else {
                    print("strata label serve: listening on http://\(host):\(bound) (Ctrl-C stops)")
                }
                fflush(nil)
            }
            let done = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var failure: (any Error)?
            _Concurrency.Task {
                do { try await app.runService() } catch { failure = error }
                done.signal()
            }
            done.wait()
            desk.close()
            if let failure { throw StrataError(.failure, "the label server stopped: \(failure)", fix: "check that port \(port) is free (`--port 0` picks one)") }
        }
    }
}
