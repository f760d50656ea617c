import XCTest
@testable import StrataCore

final class SpecPipelineTests: XCTestCase {
    func testEmptyStageListIsValid() throws {
        XCTAssertEqual(try PipelineSpec.decode(yaml: "version: 1\nstages: []\n", file: "pipeline.yaml"), PipelineSpec(stages: []))
        XCTAssertEqual(try PipelineSpec.decode(yaml: "version: 1\n", file: "pipeline.yaml").stages, [])
    }

    func testStagesAndParams() throws {
        let spec = try PipelineSpec.decode(yaml: """
            version: 1
            stages:
              - name: near-dups
                uses: dedup.near
                params:
                  threshold: 0.85
                  bands: 16
                  fields: [text, title]
                  lowercase: true
                  shingle: {size: 5, unit: "word"}
                  seed: ~
              - name: score
                uses: command
                command: python3 score.py --min 0.5
            """, file: "pipeline.yaml")
        XCTAssertEqual(spec.stages.map(\.name), ["near-dups", "score"])
        XCTAssertEqual(spec.stages[0].params, [
            "threshold": .double(0.85), "bands": .int(16), "fields": .list([.string("text"), .string("title")]),
            "lowercase": .bool(true), "shingle": .map(["size": .int(5), "unit": .string("word")]), "seed": .null,
        ])
        XCTAssertEqual(SpecValue.map(spec.stages[0].params).canonicalJSON,
                       #"{"bands":16,"fields":["text","title"],"lowercase":true,"seed":null,"shingle":{"size":5,"unit":"word"},"threshold":0.85}"#)
        XCTAssertEqual(spec.stage(named: "score")?.command, "python3 score.py --min 0.5")
    }

    func testStageProblems() {
        let error = specError { () throws(SpecError) in
            try PipelineSpec.decode(yaml: """
                version: 1
                stages:
                  - name: clean
                    uses: clean.text
                  - name: clean
                    uses: dedup.exact
                  - name: lower
                    uses: clean.text
                    command: tr A-Z a-z
                  - name: score
                    uses: command
                  - name: q
                    uses: filter.quality
                    params: [1, 2]
                  - nme: x
                    uses: dedup.near
                """, file: "pipeline.yaml")
        }
        XCTAssertEqual(error.issues.map(\.message), [
            "the stage name `clean` is already used on line 3",
            "only `uses: command` stages take a `command`",
            "missing required key `command`",
            "expected a map of `key: value` lines, found a list",
            "missing required key `name`",
            "unknown key `nme`",
        ])
        XCTAssertEqual(error.issues.last?.fix, "did you mean `name`?")
    }
}
