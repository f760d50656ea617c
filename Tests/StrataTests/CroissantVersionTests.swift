import XCTest
@testable import Strata

final class CroissantVersionTests: XCTestCase {
    func testVersionNamesBecomeSemanticVersionsWhenTheyCan() {
        XCTAssertEqual(Workspace.croissantVersion("v1"), "1.0.0")
        XCTAssertEqual(Workspace.croissantVersion("V2.1"), "2.1.0")
        XCTAssertEqual(Workspace.croissantVersion("2.1.3"), "2.1.3")
        XCTAssertEqual(Workspace.croissantVersion("v10.0"), "10.0.0")
        // Not a version number: kept as named.
        XCTAssertEqual(Workspace.croissantVersion("spring-release"), "spring-release")
        XCTAssertEqual(Workspace.croissantVersion("v1.2.3.4"), "v1.2.3.4")
        XCTAssertEqual(Workspace.croissantVersion("v01"), "v01")
        XCTAssertEqual(Workspace.croissantVersion("v1."), "v1.")
        XCTAssertEqual(Workspace.croissantVersion("v"), "v")
        XCTAssertEqual(Workspace.croissantVersion("v١"), "v١")
    }
}
