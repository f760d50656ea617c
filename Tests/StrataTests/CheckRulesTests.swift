import StrataCatalog
import StrataCore
import XCTest
@testable import Strata

/// The rules of `strata check` on plain values: what the service read, in; problems, out.
final class CheckRulesTests: XCTestCase {
    static let sha = "0123456789" + String(repeating: "a", count: 54)

    func testRawFolderRules() {
        let good = FileNaming.fileName(source: "web", compactDate: "20260101", id: "0123456789", ext: "txt")
        let writable = FileNaming.fileName(source: "web", compactDate: "20260102", id: "0123456789", ext: "png")
        let wrongId = FileNaming.fileName(source: "web", compactDate: "20260103", id: "9999999999", ext: "txt")
        let otherSource = FileNaming.fileName(source: "mail", compactDate: "20260101", id: "0123456789", ext: "txt")
        let unknown = FileNaming.fileName(source: "web", compactDate: "20260104", id: "0123456789", ext: "txt")
        func row(_ name: String) -> RawFileRow {
            RawFileRow(path: "data/raw/web/" + name, sha256: Self.sha, size: 1, mtimeNanos: 0, inode: 0, kind: "file", source: "web")
        }
        let known = Dictionary(uniqueKeysWithValues: [good, writable, wrongId, otherSource].map { ("data/raw/web/" + $0, row($0)) })
        let folder = RawFolderListing(source: "web", isDirectory: true, entries: [
            .init(name: ".tmp-123-abc", mode: 0o100644), .init(name: good, mode: 0o100444), .init(name: "notes.txt", mode: 0o100444),
            .init(name: otherSource, mode: 0o100444), .init(name: unknown, mode: 0o100444), .init(name: writable, mode: 0o100644),
            .init(name: wrongId, mode: 0o100444),
        ])
        let problems = CheckRules.rawFolder(folder, known: known, sampleFormats: ["data/raw/web/" + writable: "jpeg"],
                                            pattern: FileNaming.defaultPattern)
        XCTAssertEqual(problems.map { "\($0.category) \($0.path ?? "-"): \($0.message)" }, [
            "raw data/raw/web/.tmp-123-abc: a temporary file left by an interrupted ingest",
            "names data/raw/web/notes.txt: the name does not follow the naming pattern {source}_{date}_{id}.{ext} (strata.yaml)",
            "names data/raw/web/\(otherSource): the name says source `mail` but the file is in data/raw/web/",
            "catalog data/raw/web/\(unknown): the file is in data/raw but not in the catalog",
            "names data/raw/web/\(writable): the extension .png does not match the content (jpeg)",
            "raw data/raw/web/\(writable): raw file is writable (raw data is kept read-only)",
            "names data/raw/web/\(wrongId): the id in the name does not match the file's content hash",
        ])
        XCTAssertEqual(problems[5].fix, "chmod a-w 'data/raw/web/\(writable)'")
        XCTAssertEqual(CheckRules.rawFolder(RawFolderListing(source: "stray.txt", isDirectory: false, entries: []), known: [:], sampleFormats: [:],
                                            pattern: FileNaming.defaultPattern),
                       [CheckProblem(category: "layout", path: "data/raw/stray.txt", message: "a file directly under data/raw (raw data lives in data/raw/<source>/)",
                                     fix: "ingest it with `strata ingest FILE --source NAME` instead of copying it by hand")])
        XCTAssertEqual(CheckRules.rawFolder(RawFolderListing(source: "web", isDirectory: true, entries: [.init(name: good, mode: 0o100444)]),
                                            known: known, sampleFormats: [:], pattern: FileNaming.defaultPattern), [], "a sound folder has no problem")
    }

    func testSpecRules() {
        XCTAssertEqual(CheckRules.spec(file: "intent.yaml", text: nil),
                       [CheckProblem(category: "spec", path: "intent.yaml", message: "intent.yaml is missing or unreadable",
                                     fix: "run `strata init --force` to write a template")])
        let bad = CheckRules.spec(file: "pipeline.yaml", text: "version: 1\nstages:\n  - name: near\n    uses: dedup.near\n    params: {treshold: 0.9}\n")
        XCTAssertEqual(bad.count, 1)
        XCTAssertEqual(bad.first?.line, 3)
        XCTAssertEqual(bad.first?.fix, "see docs/pipeline.md for each stage kind's parameters")
        XCTAssertEqual(CheckRules.spec(file: "pipeline.yaml", text: "version: 1\nstages:\n  - name: exact\n    uses: dedup.exact\n"), [])
    }

    func testFormatsObjectsCoverageAndRawChanges() {
        let project = ProjectSpec(name: "p", modalities: [.image], formats: [.image: [.png]])
        XCTAssertEqual(CheckRules.formats([("image", "png", 5), ("image", "jpeg", 2), ("image", "no-such-format", 1)], project: project).map(\.message),
                       ["2 image sample(s) are jpeg, which strata.yaml does not allow (allowed: png)"])
        XCTAssertNil(CheckRules.object(Self.sha, present: true, intact: true))
        XCTAssertEqual(CheckRules.object(Self.sha, present: false, intact: true)?.message,
                       "the content of record sample 0123456789aa is missing from the object store")
        XCTAssertEqual(CheckRules.object(Self.sha, present: true, intact: false)?.message, "object 0123456789aa no longer matches its hash")
        XCTAssertEqual(CheckRules.object(Self.sha, present: true, intact: false)?.path, ".strata/objects/01/" + String(Self.sha.dropFirst(2)))
        let short = CoverageRow(category: "label", name: "cat", selector: "label=cat", count: 3, share: 0.1, minSamples: 10, minShare: nil, gap: 7, met: false)
        let met = CoverageRow(category: "label", name: "dog", selector: "label=dog", count: 30, share: 0.9, minSamples: 10, minShare: nil, gap: 0, met: true)
        XCTAssertEqual(CheckRules.coverage([short, met], required: false), [], "gaps are problems only when coverage is required")
        XCTAssertEqual(CheckRules.coverage([short, met], required: true).map(\.message), ["label `cat`: 3 sample(s), needs at least 10 (7 more)"])
        XCTAssertEqual(CheckRules.rawChanges(modified: ["data/raw/a"], missing: ["data/raw/b"], origins: ["data/raw/a": "in/a"]).map(\.fix), [
            "raw data is immutable: copy the original back over it (its origin: in/a) and `chmod a-w` it; put edits in a cleaning stage instead",
            "copy it back from its origin (unknown) or a backup, then `chmod a-w` it",
        ])
        XCTAssertEqual(CheckRules.layout(missing: ["data/ready"]).map(\.message), ["the folder data/ready is missing"])
        XCTAssertEqual(CheckRules.catalogIntegrity([]), [])
    }
}
