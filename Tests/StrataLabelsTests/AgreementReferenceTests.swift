import Foundation
import XCTest
@testable import StrataLabels

/// Checks the agreement statistics against values computed by scikit-learn, statsmodels and `krippendorff` on the
/// same matrices (Tests/Fixtures/agreement-reference.json, made by Tests/python/agreement_reference.py).
final class AgreementReferenceTests: XCTestCase {
    struct Reference: Decodable {
        struct Pair: Decodable { var a: Int; var b: Int; var items: Int; var kappa: Double }
        struct Case: Decodable {
            var name: String
            var categories: Int
            var matrix: [[Int?]]
            var cohen: [Pair]
            var fleiss: Double?
            var alpha: Double
            var alpha_per_category: [Double?]
        }
        var cases: [Case]
    }

    static func reference() throws -> Reference {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/agreement-reference.json")
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: file))
    }

    func testCohenKappaMatchesScikitLearn() throws {
        var checked = 0
        for c in try Self.reference().cases {
            let columns = (0..<c.matrix[0].count).map { a in c.matrix.map { $0[a] } }
            for p in c.cohen {
                let k = try XCTUnwrap(Agreement.cohenKappa(columns[p.a], columns[p.b]), "\(c.name) \(p.a)-\(p.b)")
                XCTAssertEqual(k, p.kappa, accuracy: 1e-9, "\(c.name) annotators \(p.a) and \(p.b)")
                XCTAssertEqual(Agreement.percentAgreement(columns[p.a], columns[p.b])?.items, p.items)
                checked += 1
            }
        }
        XCTAssertEqual(checked, 40)
    }

    func testFleissKappaMatchesStatsmodels() throws {
        var checked = 0
        for c in try Self.reference().cases {
            guard let expected = c.fleiss else { continue }
            let k = try XCTUnwrap(Agreement.fleissKappa(Agreement.counts(c.matrix, categories: c.categories)))
            XCTAssertEqual(k, expected, accuracy: 1e-9, c.name)
            checked += 1
        }
        XCTAssertEqual(checked, 2)
    }

    func testKrippendorffAlphaMatchesThePackageWithMissingData() throws {
        for c in try Self.reference().cases {
            let a = try XCTUnwrap(Agreement.krippendorffAlpha(c.matrix), c.name)
            XCTAssertEqual(a, c.alpha, accuracy: 1e-9, c.name)
        }
        // Krippendorff's own worked example gives 0.743.
        let textbook = try XCTUnwrap(try Self.reference().cases.first { $0.name == "krippendorff-textbook" })
        XCTAssertEqual(try XCTUnwrap(Agreement.krippendorffAlpha(textbook.matrix)), 0.743, accuracy: 0.0005)
    }

    func testPerLabelAlphaInTheReportMatchesOneVsRestReference() throws {
        for c in try Self.reference().cases {
            let annotators = (0..<c.matrix[0].count).map { "a\($0)" }
            let categories = (0..<c.categories).map { "c\($0)" }
            let table = RatingTable(items: c.matrix.indices.map { String(format: "i%03d", $0) }, annotators: annotators,
                                    categories: categories, cells: c.matrix)
            let report = AgreementReport.compute(table)
            XCTAssertEqual(try XCTUnwrap(report.krippendorffAlpha), c.alpha, accuracy: 1e-9)
            if let f = c.fleiss { XCTAssertEqual(try XCTUnwrap(report.fleissKappa), f, accuracy: 1e-9) }
            XCTAssertEqual(report.pairs.count, c.cohen.count, c.name)
            for (label, expected) in zip(report.labels, c.alpha_per_category) {
                if let expected {
                    XCTAssertEqual(try XCTUnwrap(label.krippendorffAlpha, "\(c.name) \(label.label)"), expected, accuracy: 1e-9)
                }
            }
        }
    }
}

final class AgreementBehaviourTests: XCTestCase {
    func testUndefinedStatisticsAreNil() {
        // One category only: chance agreement is 1, kappa and alpha are undefined.
        XCTAssertNil(Agreement.cohenKappa([0, 0, 0], [0, 0, 0]))
        XCTAssertNil(Agreement.krippendorffAlpha([[0, 0], [0, 0]]))
        // No item rated by both.
        XCTAssertNil(Agreement.cohenKappa([0, nil], [nil, 1]))
        // No item with two ratings.
        XCTAssertNil(Agreement.fleissKappa([[1, 0], [0, 1]]))
    }

    func testPerfectAgreementIsOne() {
        let m: [[Int?]] = [[0, 0, 0], [1, 1, nil], [2, 2, 2], [0, nil, 0]]
        XCTAssertEqual(Agreement.krippendorffAlpha(m)!, 1, accuracy: 1e-12)
        XCTAssertEqual(Agreement.cohenKappa(m.map { $0[0] }, m.map { $0[1] })!, 1, accuracy: 1e-12)
    }

    func testAnnotatorStatsAndGoldAccuracy() {
        let table = RatingTable(ratings: [
            ("s1", "ana", "a"), ("s1", "ben", "a"), ("s1", "cy", "b"),
            ("s2", "ana", "b"), ("s2", "ben", "b"), ("s2", "cy", "b"),
            ("s3", "ana", "a"), ("s3", "ben", "a"), ("s3", "cy", "b"),
        ])
        let r = AgreementReport.compute(table, gold: ["s1": "a", "s3": "a"])
        XCTAssertEqual(r.items, 3)
        XCTAssertEqual(r.ratings, 9)
        let byName = Dictionary(uniqueKeysWithValues: r.annotatorStats.map { ($0.annotator, $0) })
        XCTAssertEqual(byName["ana"]?.goldItems, 2)
        XCTAssertEqual(byName["ana"]?.goldAccuracy, 1)
        XCTAssertEqual(byName["cy"]?.goldAccuracy, 0)
        // ana agrees with ben everywhere and with cy on one item of three: 4 of 6 pairs.
        XCTAssertEqual(byName["ana"]!.agreement!, 4.0 / 6.0, accuracy: 1e-12)
        XCTAssertEqual(r.pairs.first { $0.a == "ana" && $0.b == "ben" }?.cohenKappa, 1)
        // Specific agreement on `b`: pairs on one item where one chose b: s1 (ana-cy, ben-cy) none both;
        // s2 three pairs all both; s3 two pairs none both -> 3 / 7.
        XCTAssertEqual(r.labels.first { $0.label == "b" }!.specificAgreement!, 3.0 / 7.0, accuracy: 1e-12)
    }
}
