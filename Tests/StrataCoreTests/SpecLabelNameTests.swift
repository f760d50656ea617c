import StrataCore
import XCTest

final class SpecLabelNameTests: XCTestCase {
    func testHierarchicalLabelNamesWithDotsAreAccepted() throws {
        let spec = try RulebookSpec.decode(yaml: """
            version: 1
            labels:
              - name: noun.food
                definition: something people eat
              - name: "7"
                definition: the digit seven
            """, file: "rulebook.yaml")
        XCTAssertEqual(spec.labels.map(\.name), ["noun.food", "7"])
    }

    func testLabelNamesMustStillStartWithALetterOrDigit() {
        XCTAssertThrowsError(try RulebookSpec.decode(yaml: "version: 1\nlabels:\n  - name: .hidden\n    definition: x\n", file: "rulebook.yaml")) { error in
            XCTAssertTrue("\(error)".contains("rulebook.yaml:3"), "\(error)")
        }
    }
}
