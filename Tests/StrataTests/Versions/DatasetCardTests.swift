import Foundation
import StrataCatalog
import StrataCore
import XCTest
@testable import Strata

/// The dataset card's sections as values: no export folder, no catalog.
final class DatasetCardTests: XCTestCase {
    func card(format: String = "jsonl", modality: String = "text") throws -> DatasetCard {
        var summary = VersionSummary()
        summary.unresolvedLabels = 1
        summary.pendingLabels = 2
        summary.leakage = [
            LeakagePair(a: "a", b: "b", kind: "duplicate", splits: ["train", "test"], resolution: "dropped:b"),
            LeakagePair(a: "c", b: "d", kind: "near-duplicate", splits: ["train", "test"], resolution: "reported"),
        ]
        summary.excludedFindings = [ExcludedFindings(kind: "label-issue", samples: 3, reason: "user request")]
        let row = VersionRow(id: "abc123", name: "v2", state: .draft, parentId: nil, message: "second", createdAt: "2026-12-01T00:00:00Z",
                             sampleCount: 2, labelSetId: "ls1", summary: String(decoding: try JSONEncoder().encode(summary), as: UTF8.self))
        let result = ExportResult(version: "v2", versionId: "abc123", state: .draft, directory: "data/ready/v2/\(format)", format: format,
                                  compression: nil, samples: 2, splits: ["train": 1, "test": 1], shards: [
                                      ExportShard(path: "data/train-00000-of-00001.\(format)", split: "train", samples: 1, bytes: 10, sha256: "s1"),
                                      ExportShard(path: "data/test-00000-of-00001.\(format)", split: "test", samples: 1, bytes: 10, sha256: "s2"),
                                  ], mediaFiles: 0)
        return DatasetCard(projectName: "demo", splitSpec: SplitSpec(), result: result, info: VersionInfo(row, parentName: nil),
                           modality: modality, labelNames: ["x", "y"],
                           members: [VersionMemberRow(versionId: "abc123", sampleId: "a", contentSha: "a", label: "x", split: "train", transforms: "[]"),
                                     VersionMemberRow(versionId: "abc123", sampleId: "c", contentSha: "c", label: nil, split: "test", transforms: "[]")],
                           sourceOf: ["a": "chat", "c": "mail"], findingCounts: ["near-duplicate": 1, "empty": 2],
                           intent: nil, rulebook: nil, pipeline: nil)
    }

    func testCountsIssuesAndExclusions() throws {
        let card = try card()
        XCTAssertEqual(card.countsSection, "## Counts\n\n| split | samples | x | unlabeled |\n|---|---|---|---|\n"
                       + "| train | 1 | 1 | 0 |\n| test | 1 | 0 | 1 |\n\nBy source (slice): `chat` 1, `mail` 1\n\n")
        XCTAssertEqual(card.issuesSection, """
            ## Known issues

            - 1 sample(s) have no consensus label (a tie or low agreement); their `label` is empty.
            - 2 label(s) come from fewer annotators than the rulebook asks (1).
            - 1 sample(s) are unlabeled.
            - 2 duplicate pair(s) were found across splits: 1 resolved by dropping a sample, the rest reported.
            - 2 sample(s) have a `empty` finding in the ledger.
            - 1 sample(s) have a `near-duplicate` finding in the ledger.


            """)
        XCTAssertEqual(card.excludedSection, """
            ## Excluded samples

            - 3 sample(s) with an open `label-issue` finding were left out at the user's request (`strata version create --exclude-findings label-issue`); their ids are under `excluded` in the version manifest.

            Leaving flagged samples out removes them from every split, test included, so scores on this version are not comparable with a version that kept them.


            """)
        XCTAssertEqual(card.labelsSection, "## Labels\n\n(no rulebook labels)\n\n")
        XCTAssertTrue(card.markdown.hasPrefix(card.header + card.introduction + "## Intent\n\n(no intent.yaml was recorded with this version)\n\n"))
    }

    func testHeaderListsSplitsAndParquetFeatures() throws {
        XCTAssertEqual(try card(format: "parquet", modality: "image").header, """
            ---
            pretty_name: "demo v2"
            task_categories:
            - image-classification
            size_categories:
            - n<1K
            tags:
            - strata
            - strata-version-v2
            configs:
            - config_name: default
              data_files:
              - split: train
                path: "data/train-*.parquet"
              - split: test
                path: "data/test-*.parquet"
            dataset_info:
              features:
              - name: id
                dtype: string
              - name: content
                dtype: image
              - name: label
                dtype: string
              - name: split
                dtype: string
              - name: origin
                dtype: string
              - name: metadata
                dtype: string
              splits:
              - name: train
                num_examples: 1
              - name: test
                num_examples: 1
            ---


            """)
        XCTAssertEqual(try card(format: "csv", modality: "audio").introduction, """
            # demo: dataset version v2

            Exported by Strata from version `v2` (id `abc123`, draft). Load it with `datasets`:

            ```python
            from datasets import load_dataset
            ds = load_dataset("csv", data_dir="data")
            ```

            Images and audio are files under `files/<split>/`; the `content` column holds their relative path.


            """)
    }
}
