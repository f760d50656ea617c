import ArgumentParser
import Foundation
import Strata

extension StrataCommand.Label {
    struct Review: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send flagged samples to the labeling queue for a person to look at.",
            discussion: """
                With --from-findings, every sample of the live project's `label-issue` findings (from `strata analyze
                label-issues`, most likely errors first) moves to the front of the labeling queue, after the samples
                `strata suggest` ranked. No label changes: the new answer is one more vote, and a disagreement with the
                old label goes to a reviewer by the rulebook's consensus rules. Exit code 1 when no sample could be
                queued (every one already has all its annotators).
                  strata analyze label-issues && strata label review --from-findings
                """)
        @OptionGroup var options: ProjectOptions
        @Flag(help: "Queue the samples of the `label-issue` findings.") var fromFindings = false

        func validate() throws {
            guard fromFindings else { throw ValidationError("say which samples to review: --from-findings (the `label-issue` findings)") }
        }

        func run() throws {
            let ws = try options.open()
            let r = try ws.queueFindingsForReview()
            defer { if r.queued.isEmpty { Foundation.exit(1) } }
            if options.json { return try Terminal.printJSON(r) }
            print("queued \(r.queued.count) of \(r.findings) flagged samples for review at the front of the labeling queue")
            if !r.full.isEmpty {
                print("\(r.full.count) already have every annotator the rulebook asks for; settle them as a reviewer: \(r.full.joined(separator: ", "))")
            }
        }
    }
}
