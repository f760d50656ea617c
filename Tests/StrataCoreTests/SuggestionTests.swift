import XCTest
@testable import StrataCore

/// Issue 18, bug 5: one "did you mean" algorithm for every mistyped name.
final class SuggestionTests: XCTestCase {
    func testClosestPrefersFewestEditsThenLongestCommonPrefix() {
        let kinds = ["clean.text", "clean.image", "clean.audio", "dedup.exact", "dedup.near", "filter.quality", "command"]
        XCTAssertEqual(Suggestion.closest(to: "dedup.neer", in: kinds), "dedup.near")
        XCTAssertEqual(Suggestion.closest(to: "dedup.exakt", in: kinds), "dedup.exact")
        XCTAssertEqual(Suggestion.closest(to: "clean.txt", in: kinds), "clean.text")
        XCTAssertNil(Suggestion.closest(to: "resize", in: kinds))
        let options = ["project", "json", "source", "date", "tag", "meta", "meta-file-column", "records", "text-field",
                       "label-field", "id-field", "workers"]
        XCTAssertEqual(Suggestion.closest(to: "label", in: options), "label-field", "a prefix, not `date` (3 edits)")
        XCTAssertEqual(Suggestion.closest(to: "sorce", in: options), "source")
        XCTAssertNil(Suggestion.closest(to: "zzzzzz", in: options))
    }
}
