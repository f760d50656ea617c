import XCTest
final class StrataMediaTestsPlaceholder: XCTestCase { func testNothing() {} }
