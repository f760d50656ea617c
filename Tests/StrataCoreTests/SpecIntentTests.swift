import XCTest
@testable import StrataCore

final class SpecIntentTests: XCTestCase {
    static let valid = """
        version: 1
        use_case: "Route support messages"
        environment:
          devices: [web, email]
          network: office wifi
        inputs:
          good: ["one clear topic"]
          rare: ["legal threats"]
        success_criteria:
          - metric: accuracy
            min: 0.9
          - metric: error_rate
            max: 0.05
            label: billing
            slice: {channel: [email, chat]}
        unacceptable_mistakes:
          - truth: account
            predicted: billing
            max_rate: 0.02
        requirements:
          scenarios:
            - name: night
              where: {lighting: night}
              min_samples: 50
          edge_cases:
            - name: children
              description: kids
              where: {speaker_age: child, modality: audio}
              min_share: 0.1
          noise:
            - name: blur
              where: {blur: [motion, focus]}
              min_samples: 10
              min_share: 0.01
        """

    func testValidIntentDecodes() throws {
        let spec = try IntentSpec.decode(yaml: Self.valid, file: "intent.yaml")
        XCTAssertEqual(spec.useCase, "Route support messages")
        XCTAssertEqual(spec.environment.devices, ["web", "email"])
        XCTAssertEqual(spec.environment.network, "office wifi")
        XCTAssertEqual(spec.environment.workflow, nil)
        XCTAssertEqual(spec.inputs.rare, ["legal threats"])
        XCTAssertEqual(spec.successCriteria, [
            .init(metric: .accuracy, bound: .min(0.9)),
            .init(metric: .errorRate, bound: .max(0.05), label: "billing",
                  slice: SpecSelector(["channel": ["email", "chat"]])),
        ])
        XCTAssertEqual(spec.unacceptableMistakes, [.init(truth: "account", predicted: "billing", maxRate: 0.02)])
        XCTAssertEqual(spec.allRequirements.map(\.category), [.scenarios, .edgeCases, .noise])
        XCTAssertEqual(spec.allRequirements.map(\.requirement.name), ["night", "children", "blur"])
        let children = spec.requirements.edgeCases[0]
        XCTAssertEqual(children.selector, SpecSelector(["speaker_age": ["child"], "modality": ["audio"]]))
        XCTAssertEqual(children.minShare, 0.1)
        XCTAssertNil(children.minSamples)
        XCTAssertTrue(children.selector.matches(["speaker_age": "child", "modality": "audio", "x": "y"]))
        XCTAssertFalse(children.selector.matches(["speaker_age": "adult", "modality": "audio"]))
    }

    func testUnknownKeySuggestsTheClosestKey() {
        let error = specError { () throws(SpecError) in
            try IntentSpec.decode(yaml: "version: 1\n# the model\nuse_cse: Route support messages\n", file: "intent.yaml")
        }
        // The typo is unknown, and use_case is then missing.
        XCTAssertEqual(error.issues.count, 2)
        let unknown = error.issues.first { $0.message.hasPrefix("unknown key") }
        XCTAssertEqual(unknown?.line, 3)
        XCTAssertEqual(unknown?.column, 1)
        XCTAssertEqual(unknown?.path, "use_cse")
        XCTAssertEqual(unknown?.fix, "did you mean `use_case`?")
        XCTAssertTrue(error.description.contains("intent.yaml:3:1 use_cse: unknown key `use_cse`. Fix: did you mean `use_case`?"))
    }

    func testUnknownNestedKeyNamesItsPath() {
        let yaml = Self.valid.replacingOccurrences(of: "      min_samples: 50", with: "      min_sample: 50")
        let error = specError { () throws(SpecError) in try IntentSpec.decode(yaml: yaml, file: "intent.yaml") }
        let unknown = error.issues.first { $0.message == "unknown key `min_sample`" }
        XCTAssertEqual(unknown?.path, "requirements.scenarios[0].min_sample")
        XCTAssertEqual(unknown?.line, 24)
        XCTAssertEqual(unknown?.fix, "did you mean `min_samples`?")
    }

    func testWrongTypes() {
        let error = specError { () throws(SpecError) in
            try IntentSpec.decode(yaml: """
                version: 1
                use_case: [a, b]
                environment:
                  devices: phone
                """, file: "intent.yaml")
        }
        XCTAssertEqual(error.issues.map(\.message), [
            "expected a string, found a list",
            "expected a list, found \"phone\"",
        ])
        XCTAssertEqual(error.issues.map(\.line), [2, 4])
        XCTAssertEqual(error.issues.map(\.path), ["use_case", "environment.devices"])
    }

    func testMinShareOutsideZeroToOne() {
        let yaml = Self.valid.replacingOccurrences(of: "min_share: 0.1", with: "min_share: 1.5")
        let error = specError { () throws(SpecError) in try IntentSpec.decode(yaml: yaml, file: "intent.yaml") }
        let issue = error.only()
        XCTAssertEqual(issue?.path, "requirements.edge_cases[0].min_share")
        XCTAssertEqual(issue?.line, 29)
        XCTAssertEqual(issue?.message, "must be between 0 and 1, found 1.5")
    }

    func testMissingUseCaseIsReportedAtTheParentMap() {
        let error = specError { () throws(SpecError) in
            try IntentSpec.decode(yaml: "version: 1\nenvironment: {devices: [phone]}\n", file: "intent.yaml")
        }
        let issue = error.only()
        XCTAssertEqual(issue?.message, "missing required key `use_case`")
        XCTAssertEqual(issue?.path, "use_case")
        XCTAssertEqual(issue?.line, 1)
    }

    func testYAMLSyntaxErrorHasALine() {
        let error = specError { () throws(SpecError) in
            try IntentSpec.decode(yaml: "version: 1\nuse_case: \"unterminated\nenvironment: {}\n", file: "intent.yaml")
        }
        let issue = error.only()
        XCTAssertNotNil(issue?.line)
        XCTAssertEqual(issue?.path, "")
        XCTAssertTrue(issue?.message.hasPrefix("YAML syntax error:") ?? false, issue?.message ?? "")
        let bracket = specError { () throws(SpecError) in
            try IntentSpec.decode(yaml: "version: 1\nuse_case: x\nenvironment:\n  devices: [phone\n", file: "intent.yaml")
        }
        XCTAssertEqual(bracket.only()?.line, 5)
        XCTAssertTrue(bracket.description.hasPrefix("intent.yaml: 1 problem\n  intent.yaml:5:1: YAML syntax error:"),
                      bracket.description)
    }

    func testSeveralIssuesAreReportedAtOnceInLineOrder() {
        let error = specError { () throws(SpecError) in
            try IntentSpec.decode(yaml: """
                version: 1
                use_case: Route messages
                success_criteria:
                  - metric: acuracy
                    min: 0.9
                  - metric: recall
                    min: 0.8
                    max: 0.9
                unacceptable_mistakes:
                  - truth: account
                    predicted: billing
                    max_rate: -1
                requirements:
                  scenarios:
                    - name: night
                      where: {lighting: night}
                  noise:
                    - name: blur
                      where: {}
                      min_samples: ten
                """, file: "intent.yaml")
        }
        XCTAssertEqual(error.issues.map(\.line), [4, 6, 12, 15, 19, 20])
        XCTAssertEqual(error.issues.map(\.message), [
            "unknown metric `acuracy`",
            "has both `min` and `max`",
            "must be between 0 and 1, found -1",
            "needs a target",
            "an empty selector matches every sample",
            "expected an integer, found \"ten\"",
        ])
        XCTAssertEqual(error.issues[0].fix?.hasPrefix("did you mean `accuracy`?"), true)
        XCTAssertTrue(error.description.hasPrefix("intent.yaml: 6 problems\n"))
    }

    func testDescriptionFormatIsPinned() {
        let error = specError { () throws(SpecError) in
            try IntentSpec.decode(yaml: """
                version: 1
                use_cse: Route messages
                requirements:
                  scenarios:
                    - name: night
                      where: {lighting: night}
                      min_samples: 50
                    - name: day
                      where:
                        lighting: day
                      min_samples: ten
                """, file: "intent.yaml")
        }
        XCTAssertEqual(error.description, """
            intent.yaml: 3 problems
              intent.yaml:1:1 use_case: missing required key `use_case`. Fix: add `use_case:` with one or two sentences on who uses the model and for what
              intent.yaml:2:1 use_cse: unknown key `use_cse`. Fix: did you mean `use_case`?
              intent.yaml:11:20 requirements.scenarios[1].min_samples: expected an integer, found "ten". Fix: write a whole number such as 50
            """)
    }
}
