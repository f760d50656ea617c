import XCTest
@testable import StrataCore

final class SplitTests: XCTestCase {
    let base = """
        version: 1
        name: support
        modalities: [text]
        formats:
          text: [jsonl]

        """

    func testSplitsBlockDecodes() throws {
        let spec = try ProjectSpec.decode(yaml: base + """
            splits:
              ratios: {train: 0.7, dev: 0.2, test: 0.1}
              group_by: fields.session
              stratify: false
              seed: abc
              leakage: drop
            """)
        XCTAssertEqual(spec.splits.ratios.map(\.name), ["train", "dev", "test"])
        XCTAssertEqual(spec.splits.ratios.map(\.share), [0.7, 0.2, 0.1])
        XCTAssertEqual(spec.splits.groupBy, "fields.session")
        XCTAssertFalse(spec.splits.stratify)
        XCTAssertEqual(spec.splits.seed, "abc")
        XCTAssertEqual(spec.splits.leakage, .drop)
    }

    func testDefaultSplitsWhenTheBlockIsAbsent() throws {
        let spec = try ProjectSpec.decode(yaml: base)
        XCTAssertEqual(spec.splits, SplitSpec())
        XCTAssertEqual(spec.splits.ratios.map(\.name), ["train", "validation", "test"])
    }

    func testSharesThatDoNotAddUpAreReportedWithTheirLine() {
        let e = specError { () throws(SpecError) in try ProjectSpec.decode(yaml: base + "splits:\n  ratios: {train: 0.8, test: 0.1}\n") }
        let issue = e.only()
        XCTAssertEqual(issue?.line, 7)
        XCTAssertEqual(issue?.path, "splits.ratios")
        XCTAssertTrue(issue?.message.contains("add up to 0.9") == true, issue?.message ?? "")
    }

    func testUnknownKeyAndPolicyAreReported() {
        let e = specError { () throws(SpecError) in try ProjectSpec.decode(yaml: base + "splits:\n  leakage: ignore\n  grop_by: x\n") }
        XCTAssertEqual(e.issues.count, 2, e.description)
        XCTAssertTrue(e.description.contains("unknown"), e.description)
        XCTAssertTrue(e.description.contains("group_by"), e.description)
    }

    func units(_ n: Int, offset: Int = 0) -> [SplitPlanner.Unit] {
        (offset..<(offset + n)).map { i in
            // 60% a, 30% b, 10% c
            let label = i % 10 < 6 ? "a" : (i % 10 < 9 ? "b" : "c")
            return SplitPlanner.Unit(key: "s\(i)", members: ["s\(i)"], label: label)
        }
    }

    func counts(_ r: SplitPlanner.Result, _ units: [SplitPlanner.Unit]) -> [String: [String: Int]] {
        var c: [String: [String: Int]] = [:]
        for u in units { for m in u.members { c[u.label, default: [:]][r.split[m]!, default: 0] += 1 } }
        return c
    }

    func testEveryLabelIsSplitInTheConfiguredRatios() {
        let u = units(1000)
        let r = SplitPlanner.assign(units: u, previous: [:], spec: SplitSpec())
        let c = counts(r, u)
        for (label, total) in [("a", 600), ("b", 300), ("c", 100)] {
            XCTAssertEqual(c[label]!["train"]!, Int(Double(total) * 0.8), accuracy: 1, label)
            XCTAssertEqual(c[label]!["validation"]!, Int(Double(total) * 0.1), accuracy: 1, label)
            XCTAssertEqual(c[label]!["test"]!, Int(Double(total) * 0.1), accuracy: 1, label)
        }
    }

    func testAssignmentDoesNotDependOnInputOrder() {
        let u = units(500)
        let a = SplitPlanner.assign(units: u, previous: [:], spec: SplitSpec())
        let b = SplitPlanner.assign(units: u.reversed(), previous: [:], spec: SplitSpec())
        XCTAssertEqual(a.split, b.split)
        let seeded = SplitPlanner.assign(units: u, previous: [:], spec: SplitSpec(seed: "other"))
        XCTAssertNotEqual(a.split, seeded.split, "the seed changes the order new samples fill the splits")
    }

    func testAddingDataNeverMovesASampleAndKeepsTheRatios() {
        let first = units(1000)
        let r1 = SplitPlanner.assign(units: first, previous: [:], spec: SplitSpec())
        let all = first + units(1000, offset: 1000)
        let r2 = SplitPlanner.assign(units: all, previous: r1.split, spec: SplitSpec())
        for (id, s) in r1.split { XCTAssertEqual(r2.split[id], s, id) }
        XCTAssertEqual(r2.moved, [])
        let c = counts(r2, all)
        XCTAssertEqual(c["a"]!["train"]!, 960, accuracy: 1)
        XCTAssertEqual(c["c"]!["test"]!, 20, accuracy: 1)
    }

    func testAGroupLandsInOneSplitAndAGroupThatNowSpansSplitsIsReunited() {
        let g = SplitPlanner.Unit(key: "group:x", members: ["m1", "m2", "m3"], label: "a")
        let r = SplitPlanner.assign(units: [g] + units(50), previous: ["m1": "test", "m2": "test", "m3": "train"], spec: SplitSpec())
        XCTAssertEqual(Set(["m1", "m2", "m3"].map { r.split[$0]! }), ["test"])
        XCTAssertEqual(r.moved, ["m3"])
    }
}
