import XCTest
@testable import StrataLabels

final class ConsensusTests: XCTestCase {
    typealias V = (item: String, annotator: String, vote: Vote)

    func testMajorityDecidesTiesAndLowAgreementGoToAdjudication() {
        let votes: [V] = [
            ("s1", "a", .label("x")), ("s1", "b", .label("x")), ("s1", "c", .label("x")),
            ("s2", "a", .label("x")), ("s2", "b", .label("y")), ("s2", "c", .label("x")),
            ("s3", "a", .label("x")), ("s3", "b", .label("y")),
            ("s4", "a", .label("x")), ("s4", "b", .label("y")), ("s4", "c", .label("z")),
            ("s5", "a", .skip), ("s5", "b", .skip), ("s5", "c", .label("x")),
            ("s6", "a", .unclear), ("s6", "b", .unclear), ("s6", "c", .label("x")),
            ("s7", "a", .label("x")),
        ]
        let r = Consensus.decide(votes: votes, options: ConsensusOptions(minAnnotators: 2, threshold: 0.6))
        let by = Dictionary(uniqueKeysWithValues: r.map { ($0.item, $0) })
        XCTAssertEqual(by["s1"]?.state, .decided)
        XCTAssertEqual(by["s1"]?.label, "x")
        XCTAssertEqual(by["s1"]?.support, 1)
        XCTAssertEqual(by["s2"]?.state, .decided)  // 2/3 >= 0.6
        XCTAssertEqual(by["s2"]!.support, 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(by["s3"]?.state, .adjudicate)
        XCTAssertEqual(by["s3"]?.reason, "tie between x and y")
        XCTAssertNil(by["s3"]?.label)
        XCTAssertEqual(by["s4"]?.state, .adjudicate)  // three-way tie
        XCTAssertEqual(by["s5"]?.state, .skipped)
        XCTAssertEqual(by["s6"]?.state, .adjudicate)
        XCTAssertEqual(by["s6"]?.reason, "the annotators could not decide (unclear)")
        XCTAssertEqual(by["s7"]?.state, .pending)
        XCTAssertEqual(by["s7"]?.reason, "1 of 2 annotators so far")
        XCTAssertEqual(by["s2"]?.votes, ["x": 2, "y": 1])

        // A higher threshold sends the 2-of-3 sample to adjudication.
        let strict = Consensus.decide(votes: votes, options: ConsensusOptions(minAnnotators: 2, threshold: 0.7))
        let s2 = strict.first { $0.item == "s2" }!
        XCTAssertEqual(s2.state, .adjudicate)
        XCTAssertEqual(s2.reason, "agreement 0.67 is below the threshold 0.7")
    }

    func testAdjudicationDecides() {
        let votes: [V] = [("s1", "a", .label("x")), ("s1", "b", .label("y"))]
        let r = Consensus.decide(votes: votes, adjudicated: ["s1": .label("y"), "s9": .skip], options: ConsensusOptions(minAnnotators: 2))
        XCTAssertEqual(r.map(\.item), ["s1", "s9"])
        XCTAssertEqual(r[0].state, .adjudicated)
        XCTAssertEqual(r[0].label, "y")
        XCTAssertEqual(r[1].state, .skipped)
    }

    /// Three careful annotators and two who answer at random: Dawid-Skene learns who to trust and beats the
    /// majority on the items where the careless ones outvote the careful.
    func testDawidSkeneWeightsAnnotatorsByAccuracy() {
        var rng = LCG(seed: 42)
        let labels = ["a", "b", "c"]
        var votes: [V] = []
        var truth: [String: String] = [:]
        for i in 0..<300 {
            let item = "s\(i)"
            let t = labels[rng.next(3)]
            truth[item] = t
            for (name, accuracy) in [("good1", 0.9), ("good2", 0.85), ("spam1", 0.0), ("spam2", 0.0), ("spam3", 0.0)] {
                let v = rng.unit() < accuracy ? t : labels[rng.next(3)]
                votes.append((item, name, .label(v)))
            }
        }
        let options = ConsensusOptions(minAnnotators: 1, threshold: 0)
        func accuracy(_ r: [ItemConsensus]) -> Double {
            Double(r.filter { $0.label == truth[$0.item] }.count) / Double(r.count)
        }
        let majority = accuracy(Consensus.decide(votes: votes, options: options))
        var ds = options
        ds.method = .dawidSkene
        let dsResult = Consensus.decide(votes: votes, options: ds)
        let dawid = accuracy(dsResult)
        XCTAssertGreaterThan(dawid, majority + 0.1, "majority \(majority), Dawid-Skene \(dawid)")
        XCTAssertGreaterThan(dawid, 0.9)

        let fit = DawidSkene.fit(votes: votes)
        XCTAssertGreaterThan(fit.accuracy["good1"]!, 0.85)
        XCTAssertLessThan(fit.accuracy["spam1"]!, 0.5)
        XCTAssertLessThan(fit.iterations, 1000, "EM did not converge")
        for p in fit.posteriors.values { XCTAssertEqual(p.values.reduce(0, +), 1, accuracy: 1e-9) }
    }

    func testDawidSkeneOnUnanimousVotesIsCertain() {
        let votes: [V] = [("s1", "a", .label("x")), ("s1", "b", .label("x")), ("s2", "a", .label("y")), ("s2", "b", .label("y"))]
        var o = ConsensusOptions(method: .dawidSkene, minAnnotators: 2, threshold: 0.9)
        let r = Consensus.decide(votes: votes, options: o)
        XCTAssertEqual(r.map(\.label), ["x", "y"])
        XCTAssertEqual(r.map(\.state), [.decided, .decided])
        o.minAnnotators = 3
        XCTAssertEqual(Consensus.decide(votes: votes, options: o).map(\.state), [.pending, .pending])
    }
}

/// A small deterministic generator for the tests.
struct LCG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func nextRaw() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 33
    }
    mutating func next(_ n: Int) -> Int { Int(nextRaw() % UInt64(n)) }
    mutating func unit() -> Double { Double(nextRaw()) / Double(1 << 31) }
}
