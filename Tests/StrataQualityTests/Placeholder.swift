import XCTest
final class StrataQualityPlaceholder: XCTestCase { func testNothing() {} }
