import ArgumentParser
import Foundation
import Strata

@main
struct Main {
    static func main() {
        signal(SIGPIPE, SIG_IGN)  // `strata ... | head` and programs run by command stages end with EPIPE, not a crash
        do {
            var command = try StrataCommand.parseAsRoot()
            try command.run()
            fflush(nil)
        } catch let error as StrataError {
            fflush(nil)
            Terminal.error("\(error)")
            exit(error.kind == .interrupted ? 130 : 2)
        } catch let code as ExitCode {
            fflush(nil)
            exit(code.rawValue)
        } catch {
            fflush(nil)
            let code = StrataCommand.exitCode(for: error)
            if code == .success {
                StrataCommand.exit(withError: error)  // --help, --version
            }
            let message = ParseErrorText.rewrite(StrataCommand.fullMessage(for: error), arguments: Array(CommandLine.arguments.dropFirst()))
            if !message.isEmpty { Terminal.error(message) }
            exit(2)
        }
    }
}

struct StrataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata",
        abstract: "Strata: training data with intent, structure, a rulebook, versions and a repeatable pipeline.",
        discussion: """
            Exit codes: 0 success, 1 findings (e.g. `strata check` found problems), 2 usage or input error.
            Every command takes --json for scripts. Start with `strata demo` or `strata init`.
            """,
        version: "0.1.0",
        subcommands: [
            Init.self, Demo.self, Ingest.self, Status.self, Check.self, Doctor.self,
            Run.self, Runs.self, Profile.self, Findings.self, Quarantine.self,
            Rulebook.self, Label.self,
            Version.self, Export.self, Models.self, Lineage.self,
            Predictions.self, Analyze.self, Suggest.self, Report.self,
            Remote.self, Push.self, Pull.self, Fetch.self, Clone.self,
            Task.self, BenchParquet.self,
        ])
}

/// Options every project command takes.
struct ProjectOptions: ParsableArguments {
    @Option(name: [.customShort("C"), .customLong("project")], help: "The project folder (default: the current folder or the nearest one above with strata.yaml).")
    var project: String = "."

    @Flag(help: "Print machine-readable JSON on stdout instead of text.")
    var json = false

    func open() throws -> Workspace {
        try Workspace.open(at: project, progress: json ? SilentProgress() : TerminalProgress())
    }
}
