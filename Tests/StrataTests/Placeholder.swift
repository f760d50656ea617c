import XCTest
final class StrataTestsPlaceholder: XCTestCase { func testNothing() {} }
