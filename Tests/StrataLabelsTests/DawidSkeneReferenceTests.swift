import Foundation
import XCTest
@testable import StrataLabels

/// Checks Dawid-Skene consensus against crowd-kit on overlapping and non-overlapping designs
/// (Tests/Fixtures/dawid-skene-reference.json, made once by Tests/python/dawid_skene_reference.py).
final class DawidSkeneReferenceTests: XCTestCase {
    struct Fit: Decodable {
        var posteriors: [String: [String: Double]]
        var accuracy: [String: Double]
    }
    struct Case: Decodable {
        var name: String
        var votes: [[String]]
        var all: Fit
        var connected: Fit
    }
    struct Reference: Decodable { var cases: [Case] }

    static func cases() throws -> [String: Case] {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/dawid-skene-reference.json")
        let r = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: file))
        return Dictionary(uniqueKeysWithValues: r.cases.map { ($0.name, $0) })
    }

    static func votes(_ c: Case) -> [(item: String, annotator: String, vote: Vote)] {
        c.votes.map { (item: $0[0], annotator: $0[1], vote: Vote.label($0[2])) }
    }

    static func leader(_ p: [String: Double]) -> String {
        p.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }!.key
    }

    /// Where every annotator overlaps with others, Strata's consensus is crowd-kit's: the same label for every item,
    /// posteriors within 0.1 (measured: 0.010 and 0.079; Strata smooths each confusion cell with 0.01, crowd-kit
    /// clips at 1e-10; with Strata's smoothing at 1e-6 the two agree to 1e-4), accuracies within 0.02.
    func testOverlappingDesignsMatchCrowdKit() throws {
        let all = try Self.cases()
        for name in ["overlap-full", "overlap-partial"] {
            let c = try XCTUnwrap(all[name])
            let votes = Self.votes(c)
            XCTAssertEqual(DawidSkene.isolatedAnnotators(votes: votes), [], name)
            let items = Consensus.decide(votes: votes, options: ConsensusOptions(method: .dawidSkene, threshold: 0))
            XCTAssertEqual(items.count, c.all.posteriors.count, name)
            var maxDiff = 0.0
            for item in items {
                let ref = try XCTUnwrap(c.all.posteriors[item.item])
                XCTAssertEqual(item.label, Self.leader(ref), "\(name) \(item.item)")
                maxDiff = max(maxDiff, abs(item.support - ref[item.label ?? ""]!))
            }
            XCTAssertLessThan(maxDiff, 0.1, name)
            let fit = DawidSkene.fit(votes: votes)
            for (annotator, acc) in c.all.accuracy {
                XCTAssertEqual(try XCTUnwrap(fit.accuracy[annotator]), acc, accuracy: 0.02, "\(name) \(annotator)")
            }
        }
    }

    /// Issue 18's design: no item has two annotators. Plain Dawid-Skene (crowd-kit, and Strata before the fix)
    /// overturns 20 of B's unopposed `dog` votes; Strata keeps every vote as given.
    func testNonOverlappingAnnotatorsKeepTheirVotes() throws {
        let c = try XCTUnwrap(try Self.cases()["disjoint-issue18"])
        let votes = Self.votes(c)
        let overturnedByPlainDS = votes.filter { v in Self.leader(c.all.posteriors[v.item]!) != v.vote.key }.count
        XCTAssertEqual(overturnedByPlainDS, 20, "the reference shows the failure this guards against")
        XCTAssertEqual(DawidSkene.isolatedAnnotators(votes: votes), ["A", "B"])
        let items = Consensus.decide(votes: votes, options: ConsensusOptions(method: .dawidSkene, minAnnotators: 1, threshold: 0.7))
        XCTAssertEqual(items.count, 120)
        XCTAssertEqual(items.filter { $0.state != .decided }.count, 0, "nothing goes to adjudication")
        let given = Dictionary(uniqueKeysWithValues: votes.map { ($0.item, $0.vote.key) })
        XCTAssertEqual(items.filter { $0.label != given[$0.item] }.count, 0, "no vote is overturned")
        XCTAssertEqual(Set(items.map(\.support)), [1])
    }

    /// Overlapping annotators plus one who never overlaps: the overlapping part matches crowd-kit fitted on it
    /// alone (same label everywhere; posteriors within 0.03 except two items with a 2-to-1 split vote, where the two
    /// EM runs settle on different fixed points, 0.24 and 0.21 apart), and the isolated annotator's votes stand.
    func testMixedDesignFitsTheConnectedPartAndKeepsIsolatedVotes() throws {
        let c = try XCTUnwrap(try Self.cases()["mixed"])
        let votes = Self.votes(c)
        XCTAssertEqual(DawidSkene.isolatedAnnotators(votes: votes), ["C"])
        let items = Consensus.decide(votes: votes, options: ConsensusOptions(method: .dawidSkene, threshold: 0))
        let given = Dictionary(votes.map { ($0.item, $0.vote.key) }, uniquingKeysWith: { a, _ in a })
        var far = 0
        for item in items {
            if let ref = c.connected.posteriors[item.item] {
                XCTAssertEqual(item.label, Self.leader(ref), item.item)
                if abs(item.support - ref[item.label ?? ""]!) > 0.03 { far += 1 }
            } else {
                XCTAssertTrue(item.item.hasPrefix("C"), item.item)
                XCTAssertEqual(item.label, given[item.item], item.item)
                XCTAssertEqual(item.support, 1, item.item)
            }
        }
        XCTAssertEqual(items.count, 52)
        XCTAssertLessThanOrEqual(far, 2)
    }
}
