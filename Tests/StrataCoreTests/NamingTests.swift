import Foundation
import StrataCore
import XCTest

final class NamingTests: XCTestCase {
    func testPathNamePartsMatchFoundation() {
        let names = ["a.txt", "a.", ".a", "..a", "a..b", "a.b.c", "a", "", ".a.b", "a. b", "..", ".", "caf\u{E9}.T\u{C9}X",
                     "photo one.PNG", "x.tar.gz", "no_ext_", "._x"]
        for n in names {
            let s = n as NSString
            XCTAssertEqual(PathName.ext(n), s.pathExtension, n)
            XCTAssertEqual(PathName.deletingExt(n), s.deletingPathExtension, n)
        }
        for p in ["/x/y.z", "x/y.z", "y.z", "/a/b/", "/", "a//b", "/x/.hidden", "dir/sub/file.txt", "/x/y.z//"] {
            XCTAssertEqual(PathName.last(p), (p as NSString).lastPathComponent, p)
        }
    }

    func testDefaultPatternRoundTrips() throws {
        let name = FileNaming.fileName(source: "cam-2", compactDate: "20260314", id: "a1b2c3d4e5", ext: "png")
        XCTAssertEqual(name, "cam-2_20260314_a1b2c3d4e5.png")
        let p = try XCTUnwrap(FileNaming.parse(name))
        XCTAssertEqual(p.source, "cam-2"); XCTAssertEqual(p.date, "20260314"); XCTAssertEqual(p.id, "a1b2c3d4e5"); XCTAssertEqual(p.ext, "png")
    }

    func testCustomPatternRoundTrips() throws {
        let pattern = "{date}-{source}-{id}.{ext}"
        let name = FileNaming.fileName(source: "helpdesk", compactDate: "20251231", id: "00ff00ff00", ext: "jsonl", pattern: pattern)
        XCTAssertEqual(name, "20251231-helpdesk-00ff00ff00.jsonl")
        let p = try XCTUnwrap(FileNaming.parse(name, pattern: pattern))
        XCTAssertEqual(p.source, "helpdesk"); XCTAssertEqual(p.id, "00ff00ff00")
        XCTAssertNil(FileNaming.parse(name))
    }

    func testNonConformingNamesAreRejected() {
        for bad in ["photo.png", "cam_2026_abcdef.png", "cam_20261301_abcdef0123.png", "Cam_20260101_abcdef0123.png",
                    "cam_20260101_ABCDEF0123.png", "cam_20260101_abc.png", "cam_20260101_abcdef0123", "../x_20260101_abcdef0123.png"] {
            XCTAssertNil(FileNaming.parse(bad), bad)
        }
    }

    func testSourceNamesAndDates() {
        XCTAssertNil(FileNaming.sourceNameProblem("support-tickets"))
        for bad in ["", "../../x", "a/b", "Upper", "-lead", "a_b", "a.b", String(repeating: "a", count: 65)] {
            XCTAssertNotNil(FileNaming.sourceNameProblem(bad), bad)
        }
        XCTAssertEqual(FileNaming.compactDate("2024-02-29"), "20240229")
        XCTAssertNil(FileNaming.compactDate("2023-02-29"))
        XCTAssertNil(FileNaming.compactDate("2023-2-01"))
        XCTAssertNil(FileNaming.compactDate("yesterday"))
    }
}
