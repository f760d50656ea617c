import XCTest
final class StrataCoreTestsPlaceholder: XCTestCase { func testNothing() {} }
