import XCTest
final class StrataLanguagePlaceholder: XCTestCase { func testNothing() {} }
