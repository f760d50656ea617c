import XCTest
@testable import StrataCore

/// Runs `decode` and returns the SpecError it throws, failing the test if it succeeds.
func specError<T>(
    _ decode: () throws(SpecError) -> T, file: StaticString = #filePath, line: UInt = #line
) -> SpecError {
    do {
        let value = try decode()
        XCTFail("expected a SpecError, decoded \(value)", file: file, line: line)
        return SpecError(file: "", issues: [])
    } catch {
        return error
    }
}

extension SpecError {
    /// The single issue, failing the test if there is not exactly one.
    func only(file: StaticString = #filePath, line: UInt = #line) -> SpecIssue? {
        XCTAssertEqual(issues.count, 1, "issues: \(description)", file: file, line: line)
        return issues.first
    }
}
