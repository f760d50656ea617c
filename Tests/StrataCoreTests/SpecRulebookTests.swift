import XCTest
@testable import StrataCore

final class SpecRulebookTests: XCTestCase {
    static let valid = """
        version: 1
        labels:
          - name: billing
            definition: Money questions.
            signs: [invoice, refund]
            fits:
              - text: "charged twice"
                why: a charge
            not_fits:
              - sample: data/raw/a.txt
                why: a login problem
          - name: account
            definition: Login and security.
        policies:
          unclear: {action: flag, note: mark it}
          do_not_label:
            - what: card numbers
              action: skip
        decision_path:
          question: Money?
          answers:
            - answer: "yes"
              label: billing
            - answer: "no"
              next:
                question: Login?
                answers:
                  - answer: "yes"
                    label: account
                  - answer: unsure
                    escalate: unclear topic
                  - answer: neither
                    skip: no label fits
        annotators_per_sample: 3
        gold_rate: 0.1
        """

    func testValidRulebookDecodes() throws {
        let spec = try RulebookSpec.decode(yaml: Self.valid, file: "rulebook.yaml")
        XCTAssertEqual(spec.labels.map(\.name), ["billing", "account"])
        XCTAssertEqual(spec.labels[0].fits, [.init(content: .text("charged twice"), why: "a charge")])
        XCTAssertEqual(spec.labels[0].notFits, [.init(content: .sample("data/raw/a.txt"), why: "a login problem")])
        XCTAssertEqual(spec.policies.unclear, .init(action: .flag, note: "mark it"))
        XCTAssertEqual(spec.policies.noFit, .init(action: .skip))
        XCTAssertEqual(spec.policies.doNotLabel, [.init(what: "card numbers", action: .skip)])
        XCTAssertEqual(spec.annotatorsPerSample, 3)
        XCTAssertEqual(spec.goldRate, 0.1)
        XCTAssertEqual(spec.agreementThreshold, 0.7)
        let path = try XCTUnwrap(spec.decisionPath)
        XCTAssertEqual(path.answers[0].outcome, .label("billing"))
        guard case .next(let next) = path.answers[1].outcome else { return XCTFail("expected a next question") }
        XCTAssertEqual(next.answers.map(\.outcome), [
            .label("account"), .escalate(reason: "unclear topic"), .skip(reason: "no label fits"),
        ])
    }

    func testLeafNamingAnUnknownLabelSuggestsOne() {
        let yaml = Self.valid.replacingOccurrences(of: "label: account", with: "label: acount")
        let error = specError { () throws(SpecError) in try RulebookSpec.decode(yaml: yaml, file: "rulebook.yaml") }
        XCTAssertEqual(error.only()?.description,
            "rulebook.yaml:29:20 decision_path.answers[1].next.answers[0].label: unknown label `acount`. "
            + "Fix: did you mean `account`?")
    }

    func testDuplicateLabelsAndBadAnswers() {
        let error = specError { () throws(SpecError) in
            try RulebookSpec.decode(yaml: """
                version: 1
                labels:
                  - name: spam
                    definition: Unwanted.
                  - name: spam
                    definition: Also unwanted.
                  - name: Not Spam
                    definition: Wanted.
                    fits:
                      - why: no content
                decision_path:
                  question: Spam?
                  answers:
                    - answer: "yes"
                      label: spam
                      skip: maybe
                    - answer: "no"
                gold_rate: 2
                """, file: "rulebook.yaml")
        }
        XCTAssertEqual(error.issues.map(\.message), [
            "the label `spam` is already defined on line 3",
            "the label name `Not Spam` is not a slug",
            "needs `text` or `sample`",
            "has `label` and `skip`",
            "leads nowhere",
            "must be between 0 and 1, found 2",
        ])
        XCTAssertEqual(error.issues[1].fix, "use lower-case letters, digits, `_`, `-` or `.`, such as `not_spam`")
    }
}
