import Foundation
import StrataCore
import XCTest
@testable import Strata

final class RulebookCheckTests: XCTestCase {
    func testAGoodRulebookIsRecordedAsAVersion() throws {
        let lp = try LabelProject()
        let r = try lp.ws.checkRulebook()
        XCTAssertTrue(r.ok, "\(r.errors)")
        XCTAssertEqual(r.labels, 2)
        XCTAssertEqual(r.version?.number, 1)
        // Neither label has a fits example: a warning each, with its line.
        XCTAssertEqual(r.warnings.count, 2)
        XCTAssertTrue(r.warnings[0].hasPrefix("rulebook.yaml:3:"), r.warnings[0])
        XCTAssertTrue(r.warnings[1].hasPrefix("rulebook.yaml:6:"), r.warnings[1])
    }

    func testProblemsAreListedWithLinesAndNothingIsRecorded() throws {
        let lp = try LabelProject()
        try lp.setRulebook("""
            version: 1
            labels:
              - name: billing
                definition: money
                signs: [invoice, Invoice]
                fits:
                  - text: refund please
                    why: a refund
                  - sample: nosuchsample
                    why: a real one
              - name: other
                definition: anything else
                fits:
                  - text: refund please
                    why: copied by mistake
              - name: spam
                definition: unsolicited
            decision_path:
              question: Is it about money?
              answers:
                - answer: "yes"
                  label: billing
                - answer: "Yes"
                  label: other
                - answer: "no"
                  next:
                    question: Is it about money?
                    answers:
                      - answer: "yes"
                        label: other
                      - answer: "no"
                        skip: no label fits

            """)
        let r = try lp.ws.checkRulebook()
        XCTAssertFalse(r.ok)
        XCTAssertNil(r.version)
        XCTAssertEqual(try lp.ws.rulebookVersions().count, 0)
        let expected = [
            ("rulebook.yaml:5:", "the sign \"Invoice\" is listed twice for `billing`"),
            ("rulebook.yaml:9:", "the example sample `nosuchsample` of `billing` is not in the catalog"),
            ("rulebook.yaml:14:", "this example also fits `billing` (line 7)"),
            ("rulebook.yaml:16:", "the label `spam` is not reachable from the decision path"),
            ("rulebook.yaml:23:", "the answer \"Yes\" is listed twice for \"Is it about money?\""),
            ("rulebook.yaml:27:", "the question \"Is it about money?\" is asked twice on the decision path (first on line 19)"),
        ]
        XCTAssertEqual(r.errors.count, expected.count, r.errors.joined(separator: "\n"))
        for (e, (prefix, text)) in zip(r.errors, expected) {
            XCTAssertTrue(e.hasPrefix(prefix), "\(e) should start with \(prefix)")
            XCTAssertTrue(e.contains(text), "\(e) should contain \(text)")
        }
    }

    func testDecodeErrorsKeepTheirLines() throws {
        let lp = try LabelProject()
        try lp.setRulebook("version: 1\nlabels:\n  - name: billing\n    definition: money\ndecision_path:\n  question: Money?\n  answers:\n    - answer: \"yes\"\n      label: biling\n")
        let r = try lp.ws.checkRulebook()
        XCTAssertFalse(r.ok)
        XCTAssertEqual(r.errors.count, 1)
        XCTAssertTrue(r.errors[0].hasPrefix("rulebook.yaml:9:"), r.errors[0])
        XCTAssertTrue(r.errors[0].contains("unknown label `biling`"), r.errors[0])
    }

    func testRenderWritesTheHandbookAndALabelStudioConfig() throws {
        let lp = try LabelProject()
        let short = try XCTUnwrap(try lp.ws.catalog.shortIds(for: [lp.ids[2]])[lp.ids[2]])
        try lp.setRulebook(LabelProject.rulebook.replacingOccurrences(
            of: "    definition: Anything that is not about billing.",
            with: "    definition: Anything that is not about billing <or> money & such.\n    fits:\n      - sample: \(short)\n        why: a plain question"))
        let out = lp.p.base + "/hb"
        let files = try lp.ws.renderRulebook(to: out)
        XCTAssertEqual(files.map { ($0 as NSString).lastPathComponent }, ["handbook.md", "handbook.html", "label-studio.xml"])
        let md = try String(contentsOfFile: out + "/handbook.md", encoding: .utf8)
        XCTAssertTrue(md.contains("Rulebook r1 ("), md)
        XCTAssertTrue(md.contains("- **Is the message about money the customer paid or owes?**"), md)
        XCTAssertTrue(md.contains("  - yes → label `billing`"), md)
        XCTAssertTrue(md.contains("mark unclear and escalate (unreadable)"), md)
        XCTAssertTrue(md.contains("- mentions an invoice"), md)
        // A sample example shows the sample's text.
        XCTAssertTrue(md.contains("sample `\(short)`: “customer message number 2 about something” — a plain question"), md)
        let html = try String(contentsOfFile: out + "/handbook.html", encoding: .utf8)
        XCTAssertTrue(html.hasPrefix("<!doctype html>"))
        XCTAssertTrue(html.contains("billing &lt;or&gt; money &amp; such"), "HTML is escaped")
        XCTAssertFalse(html.contains("<or>"))
        XCTAssertTrue(html.contains("id=\"label-billing\""))
        let xml = try String(contentsOfFile: out + "/label-studio.xml", encoding: .utf8)
        XCTAssertTrue(xml.contains("<Choice value=\"other\"/>"))
    }

    func testFollowingTheDecisionPath() throws {
        let spec = try RulebookSpec.decode(yaml: LabelProject.rulebook)
        XCTAssertEqual(spec.follow(["yes"]), .outcome(.label("billing")))
        XCTAssertEqual(spec.follow(["no", "no"]), .outcome(.escalate(reason: "unreadable")))
        XCTAssertEqual(spec.follow(["no"]), .incomplete(question: "Is it readable?"))
        XCTAssertEqual(spec.follow(["yes", "no"]), .tooMany(used: 1))
        XCTAssertEqual(spec.follow(["maybe"]), .invalid(index: 0, answer: "maybe", question: "Is the message about money the customer paid or owes?", expected: ["yes", "no"]))
        XCTAssertEqual(spec.reachableLabels, ["billing", "other"])
        XCTAssertEqual(spec.leaves.count, 3)
    }
}
