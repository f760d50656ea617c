import Foundation
import StrataCore
import XCTest

/// The one rendering of errors (`UserErrorText`) and the adaptation of errors that are not `UserError`s.
final class UserErrorTests: XCTestCase {
    struct Sample: UserError {
        var message: String
        var location: String?
        var details: [String] = []
        var fix: String?
    }

    func testRenderPutsLocationFirstDetailsIndentedAndFixLast() {
        let e = Sample(message: "expected a whole number", location: "strata.yaml:4:12 executor.workers",
                       details: ["found \"many\"", "two lines\nof output"], fix: "write a number such as 4")
        XCTAssertEqual(UserErrorText.render(e), """
            strata.yaml:4:12 executor.workers: expected a whole number
              found "many"
              two lines
              of output
              fix: write a number such as 4
            """)
        XCTAssertEqual(UserErrorText.render(Sample(message: "no version `v9`")), "no version `v9`")
        XCTAssertEqual(UserErrorText.inline(e), "strata.yaml:4:12 executor.workers: expected a whole number")
        XCTAssertEqual(e.exitCode, 2)
    }

    func testSpecErrorRendersEachIssueWithItsOwnFix() {
        let error = SpecError(file: "intent.yaml", issues: [
            SpecIssue(file: "intent.yaml", line: 3, column: 1, path: "use_cse", message: "unknown key `use_cse`", fix: "did you mean `use_case`?"),
            SpecIssue(file: "intent.yaml", line: 9, path: "", message: "the file ends inside a list"),
        ])
        XCTAssertEqual(UserErrorText.render(error), """
            intent.yaml: 2 problems
              intent.yaml:3:1 use_cse: unknown key `use_cse`
                fix: did you mean `use_case`?
              intent.yaml:9: the file ends inside a list
            """)
    }

    struct Remote: Decodable { var name: String; var url: String; var port: Int }
    struct Remotes: Decodable { var remotes: [Remote] }

    func testDecodingErrorsNameTheKeyPathAndTheShapeNotSwiftTypes() throws {
        let bad = #"{"remotes": [{"name": "a", "url": "s3://b", "port": 1}, {"name": "c", "url": 5, "port": 2}]}"#
        XCTAssertThrowsError(try JSONDecoder().decode(Remotes.self, from: Data(bad.utf8))) { error in
            let text = UserErrorText.render(UserErrorText.adapt(error))
            XCTAssertEqual(text, "remotes[1].url: expected a string")
        }
        let missing = #"{"remotes": [{"name": "a", "url": "s3://b"}]}"#
        XCTAssertThrowsError(try JSONDecoder().decode(Remotes.self, from: Data(missing.utf8))) { error in
            XCTAssertEqual(UserErrorText.inline(error), "remotes[0]: missing key `port`")
        }
        let notAList = #"{"remotes": {"a": 1}}"#
        XCTAssertThrowsError(try JSONDecoder().decode(Remotes.self, from: Data(notAList.utf8))) { error in
            XCTAssertEqual(UserErrorText.inline(error), "remotes: expected a list")
        }
    }

    func testRecordProblemIsAUserError() {
        let p = RecordProblem(kind: RecordProblem.malformedRow, message: "line 3: line is not valid JSON")
        XCTAssertEqual(UserErrorText.render(UserErrorText.adapt(p)), "line 3: line is not valid JSON")
    }
}
