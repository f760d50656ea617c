import Foundation
import StrataCore
import StrataQuality
import XCTest
@testable import Strata

/// `dedup.near` decides candidate pairs on the exact Jaccard of the shingle sets: pairs just above the threshold
/// are found even where the 128-permutation estimate (standard deviation 0.035) falls below it, and pairs just
/// below are never merged even where the estimate rises above it.
final class NearDupExactTests: XCTestCase {
    static func shingles(_ words: [String]) -> Set<String> {
        Set((0...(words.count - 5)).map { words[$0..<($0 + 5)].joined(separator: " ") })
    }

    static func jaccard(_ a: [String], _ b: [String]) -> Double {
        let x = shingles(a), y = shingles(b)
        return Double(x.intersection(y).count) / Double(x.union(y).count)
    }

    /// A copy of `words` with single-word substitutions until its word-5-gram Jaccard to `words` lies in `range`.
    static func variant(_ words: [String], in range: ClosedRange<Double>, rng: inout SplitMix64, fresh: inout Int) -> [String] {
        var current = words
        for _ in 0..<2000 {
            var candidate = current
            candidate[rng.int(candidate.count)] = "new\(fresh)"
            fresh += 1
            let j = jaccard(words, candidate)
            if j < range.lowerBound { continue }
            current = candidate
            if j <= range.upperBound { return current }
        }
        XCTFail("no variant in \(range)")
        return current
    }

    func testPairsAreDecidedOnTheExactJaccardOfTheShingleSets() throws {
        let p = try TempProject(modalities: "text")
        var rng = SplitMix64(seed: 11)
        var fresh = 0
        var docs: [[String]] = []
        for _ in 0..<40 { docs.append((0..<300).map { _ in "w\(rng.int(5000))" }) }
        var above: [Int] = [], below: [Int] = []   // indexes of the variants in `docs`
        for i in 0..<12 {
            docs.append(Self.variant(docs[i], in: 0.81...0.84, rng: &rng, fresh: &fresh)); above.append(docs.count - 1)
        }
        for i in 12..<24 {
            docs.append(Self.variant(docs[i], in: 0.72...0.785, rng: &rng, fresh: &fresh)); below.append(docs.count - 1)
        }
        let rows = docs.enumerated().map { #"{"id": "t\#($0.offset)", "text": "\#($0.element.joined(separator: " "))"}"# }
        p.write("in/texts.jsonl", rows.joined(separator: "\n") + "\n")
        try """
            version: 1
            stages:
              - name: near-dups
                uses: dedup.near
                params: {threshold: 0.8, ngram: 5, permutations: 128, bands: 16}
            """.write(toFile: p.root + "/pipeline.yaml", atomically: true, encoding: .utf8)
        let ws = try p.open()
        _ = try ws.ingest(IngestOptions(paths: [p.incoming + "/in"], source: "t", date: "2026-02-01", records: RecordOptions(idField: "id")))
        let report = try ws.run(RunOptions(workers: 2, shardSize: 7))
        XCTAssertTrue(report.stages[0].counts.balanced)
        let removed = try ws.findings(kind: "near-duplicate")
        // Every removal is a variant of its own original whose exact Jaccard reaches the threshold.
        for f in removed {
            let doc = (f.line ?? 0) - 1, kept = (f.relatedLine ?? 0) - 1
            XCTAssertTrue(above.contains(doc), "removed \(doc), which is not a variant above the threshold")
            XCTAssertEqual(doc - 40, kept, "variant \(doc) is a near duplicate of document \(doc - 40)")
            XCTAssertGreaterThanOrEqual(Self.jaccard(docs[doc], docs[kept]), 0.8)
        }
        // The reason quotes the measured Jaccard that decided (two decimals, rounded down), not the estimate.
        for f in removed {
            let doc = (f.line ?? 0) - 1, kept = (f.relatedLine ?? 0) - 1
            let j = String(format: "%.2f", (Self.jaccard(docs[doc], docs[kept]) * 100 + 1e-9).rounded(.down) / 100)
            XCTAssertEqual(f.reason, "near duplicate of \(f.relatedOrigin ?? "?"):\(kept + 1) (word 5-gram Jaccard \(j) >= 0.80, measured; kept by policy `first`)")
        }
        // Banding (16 x 8) makes a pair at 0.81-0.84 a candidate with probability 0.96-0.99: every one is found here.
        XCTAssertEqual(Set(removed.compactMap { $0.line.map { $0 - 1 } }), Set(above))
        // Estimate and exact Jaccard disagree for some of these pairs (that is what this test is about).
        let config = MinHashConfig(threshold: 0.8)
        let hasher = MinHasher(config: config)
        let disagreements = (above + below).filter { v in
            let a = hasher.signature(text: docs[v].joined(separator: " ")), b = hasher.signature(text: docs[v - 40].joined(separator: " "))
            return (LSH.estimatedJaccard(a, b) >= 0.8) != (Self.jaccard(docs[v], docs[v - 40]) >= 0.8)
        }
        XCTAssertFalse(disagreements.isEmpty, "the corpus should include pairs the estimate alone decides wrongly")
    }
}
