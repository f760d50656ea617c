import Foundation
import StrataMedia
import XCTest

/// Strata's exports read by the real readers (pyarrow, DuckDB, Hugging Face datasets, webdataset, Python's csv),
/// every value compared (Tests/python/check_export.py).
final class ExportPeersTests: XCTestCase {
    static let script: String = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent("Tests/python/check_export.py").path
    }()

    /// Exports `version` with `--out dest` (a fresh folder per call).
    func export(_ project: String, _ version: String, _ args: [String], into dest: String) throws -> String {
        try? FileManager.default.removeItem(atPath: dest)
        let r = try CLI.run(["export", version, "-C", project, "--out", dest] + args)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        return dest
    }

    func checkPeers(_ mode: String, inputs: [[String: Any]], exports: [String], in t: TempDir) throws {
        _ = try PythonPeers.interpreter()
        let inputsPath = t.path + "/inputs.json"
        try JSONSerialization.data(withJSONObject: inputs).write(to: URL(fileURLWithPath: inputsPath))
        let r = try PythonPeers.run(ExportPeersTests.script, [mode, inputsPath] + exports)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.hasSuffix("OK\n"), r.stdout + r.stderr)
        // Every JSONL, CSV and Parquet export was also loaded through its croissant.json by mlcroissant.
        let croissantExports = exports.filter { !$0.hasPrefix("webdataset=") }.count
        XCTAssertEqual(r.stdout.components(separatedBy: "mlcroissant read").count - 1, croissantExports, r.stdout)
    }

    func testTextExportsReadByPyarrowDuckDBDatasetsCSVAndWebDataset() throws {
        _ = try PythonPeers.interpreter()
        let t = TempDir()
        let project = t.path + "/p"
        XCTAssertEqual(try CLI.run(["init", project, "--modality", "text"]).status, 0)
        let labels = ["billing", "technical", "account"]
        var inputs: [[String: Any]] = []
        var lines: [String] = []
        for i in 0..<500 {
            // Quotes, commas, newlines, tabs, non-ASCII and long texts; every 7th row unlabeled.
            var text = "row \(i): \"quoted\", comma\tand ünïcode ✓ \(String(repeating: "word\(i % 13) ", count: i % 40))"
            if i % 11 == 0 { text += "\nsecond line" }
            let label: String? = i % 7 == 0 ? nil : labels[i % 3]
            var row: [String: Any] = ["text": text, "id": "r\(i)", "n": i]
            if let label { row["label"] = label }
            lines.append(String(decoding: try JSONSerialization.data(withJSONObject: row), as: UTF8.self))
            inputs.append(["text": text, "label": label as Any])
        }
        t.write("in/rows.jsonl", Array((lines.joined(separator: "\n") + "\n").utf8))
        let ingest = try CLI.run(["ingest", t.path + "/in", "--source", "forum", "--records", "--text-field", "text",
                                  "--label-field", "label", "--id-field", "id", "-C", project])
        XCTAssertEqual(ingest.status, 0, ingest.stderr)
        XCTAssertEqual(try CLI.run(["version", "create", "v1", "-C", project]).status, 0)
        XCTAssertEqual(try CLI.run(["version", "promote", "v1", "-C", project]).status, 0)
        let out = t.path + "/exports"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let jsonl = try export(project, "v1", ["--format", "jsonl", "--shard-size", "150"], into: out + "/jsonl")
        let csv = try export(project, "v1", ["--format", "csv"], into: out + "/csv")
        // Small row groups and pages: several of each per file, dictionary and plain pages, nulls across pages.
        let zstd = try export(project, "v1", ["--format", "parquet", "--shard-size", "200", "--row-group-rows", "37", "--page-bytes", "700"], into: out + "/zstd")
        let snappy = try export(project, "v1", ["--format", "parquet", "--compression", "snappy", "--row-group-rows", "64"], into: out + "/snappy")
        let plain = try export(project, "v1", ["--format", "parquet", "--compression", "none"], into: out + "/none")
        let tar = try export(project, "v1", ["--format", "webdataset", "--shard-size", "120"], into: out + "/wds")
        try checkPeers("text", inputs: inputs, exports: ["jsonl=" + jsonl, "csv=" + csv, "parquet=" + zstd, "parquet=" + snappy,
                                                         "parquet=" + plain, "webdataset=" + tar], in: t)
    }

    func testImageExportsCarryTheBytesTheWayHuggingFaceImageDoes() throws {
        _ = try PythonPeers.interpreter()
        let t = TempDir()
        let project = t.path + "/p"
        XCTAssertEqual(try CLI.run(["init", project, "--modality", "image"]).status, 0)
        var inputs: [[String: Any]] = []
        var manifest = "file,label\n"
        for i in 0..<24 {
            let png = try Encode.png(Synth.shape(i % 2 == 0 ? .circle : .square, size: 24 + i, night: i % 3 == 0, blur: 0, seed: UInt64(i)))
            t.write("in/img\(i).png", png)
            let label: String? = i % 5 == 4 ? nil : (i % 2 == 0 ? "circle" : "square")
            manifest += "img\(i).png,\(label ?? "")\n"
            inputs.append(["b64": Data(png).base64EncodedString(), "label": label as Any])
        }
        t.write("in/labels.csv", Array(manifest.utf8))
        let ingest = try CLI.run(["ingest", t.path + "/in", "--source", "cam", "--meta", t.path + "/in/labels.csv", "-C", project])
        XCTAssertEqual(ingest.status, 0, ingest.stdout + ingest.stderr)
        XCTAssertEqual(try CLI.run(["version", "create", "-C", project]).status, 0)
        let out = t.path + "/exports"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let jsonl = try export(project, "v1", ["--format", "jsonl"], into: out + "/jsonl")
        let parquet = try export(project, "v1", ["--format", "parquet", "--row-group-rows", "5"], into: out + "/parquet")
        let tar = try export(project, "v1", ["--format", "webdataset"], into: out + "/wds")
        try checkPeers("image", inputs: inputs, exports: ["jsonl=" + jsonl, "parquet=" + parquet, "webdataset=" + tar], in: t)
    }
}
