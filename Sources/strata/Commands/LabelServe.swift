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

        @Option(help: "A sample handed to a tasker and not answered within this time goes back to the queue for others: 90s, 30m, 2h (a bare number is seconds; 0 or `never` turns it off).")
        var claimTimeout: String = "30m"

        func validate() throws {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
            guard Self.duration(claimTimeout) != nil else {
                throw ValidationError("--claim-timeout `\(claimTimeout)` is not a duration; use e.g. 90s, 30m, 2h, or 0 to turn it off")
            }
        }

        /// Seconds of a duration such as `90s`, `30m`, `2h` or `45`; `.some(nil)` for 0 or `never` (no timeout).
        static func duration(_ text: String) -> TimeInterval?? {
            let t = text.trimmingCharacters(in: .whitespaces).lowercased()
            if t == "never" { return .some(nil) }
            var unit: Double = 1
            var number = Substring(t)
            if let last = t.last, "smh".contains(last) {
                unit = last == "s" ? 1 : last == "m" ? 60 : 3600
                number = t.dropLast()
            }
            guard let v = Double(number), v >= 0, v.isFinite else { return nil }
            return .some(v == 0 ? nil : v * unit)
        }

        func run() throws {
            LabelServer.runTasksOnEventLoops()
            let ws = try options.open()
            let desk = try LabelDesk(workspace: ws, claimTimeout: Self.duration(claimTimeout) ?? LabelDesk.defaultClaimTimeout)
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
