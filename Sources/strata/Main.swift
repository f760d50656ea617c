import ArgumentParser
import Foundation
import Strata
import StrataCore

@main
struct Main {
    static func main() {
        signal(SIGPIPE, SIG_IGN)  // `strata ... | head` and programs run by command stages end with EPIPE, not a crash
        var command: any ParsableCommand
        do {
            command = try StrataCommand.parseAsRoot()
        } catch {
            argumentParserExit(error)
        }
        do {
            try command.run()
            fflush(nil)
        } catch let code as ExitCode {
            fflush(nil)
            exit(code.rawValue)
        } catch let error where error is ValidationError || StrataCommand.exitCode(for: error) == .success {
            argumentParserExit(error)  // a check made in run(): printed with the command's usage, like validate()'s
        } catch {
            fflush(nil)
            let user = UserErrors.adapt(error)
            Terminal.error(UserErrorText.render(user))
            exit(user.exitCode)
        }
    }

    /// Parse errors, --help and --version: swift-argument-parser's text under Strata's `error: ` (exit 2 for errors).
    static func argumentParserExit(_ error: any Error) -> Never {
        fflush(nil)
        if StrataCommand.exitCode(for: error) == .success {
            StrataCommand.exit(withError: error)  // --help, --version
        }
        let message = ParseErrorText.rewrite(StrataCommand.fullMessage(for: error), arguments: Array(CommandLine.arguments.dropFirst()))
        if !message.isEmpty { Terminal.error(message) }
        exit(2)
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
