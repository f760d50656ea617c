import XCTest
@testable import StrataCore

final class SpecProjectTests: XCTestCase {
    func testMinimalProjectDecodesWithDefaults() throws {
        let spec = try ProjectSpec.decode(yaml: """
            version: 1
            name: support
            modalities: [text]
            formats:
              text: [jsonl, txt]
            """, file: "strata.yaml")
        XCTAssertEqual(spec.name, "support")
        XCTAssertEqual(spec.modalities, [.text])
        XCTAssertEqual(spec.allowedFormats(for: .text), [.jsonl, .txt])
        XCTAssertEqual(spec.allowedFormats(for: .image), [])
        XCTAssertTrue(spec.allows(.jsonl))
        XCTAssertFalse(spec.allows(.csv))
        XCTAssertEqual(spec.naming, .init(pattern: "{source}_{date}_{id}.{ext}", idLength: 10))
        XCTAssertEqual(spec.limits, .init(maxFileBytes: 1_073_741_824, maxRecordBytes: 1_048_576, maxImagePixels: 50_000_000))
        XCTAssertEqual(spec.executor, .init(kind: .local, workers: nil))
        XCTAssertEqual(spec.defaults, [:])
    }

    func testFullProjectDecodes() throws {
        let spec = try ProjectSpec.decode(yaml: """
            version: 1
            name: shapes
            modalities: [image, audio]
            formats:
              image: [png, jpg]
              audio: [flac]
            naming: {pattern: "{date}-{source}-{id}.{ext}", id_length: 12}
            limits: {max_file_bytes: 1000, max_record_bytes: 100, max_image_pixels: 4000000}
            executor: {kind: slurm, workers: 16}
            defaults: {source: camera, split: "80/10/10"}
            """, file: "strata.yaml")
        XCTAssertEqual(spec.formats, [.image: [.png, .jpeg], .audio: [.flac]])
        XCTAssertTrue(spec.allows(.jpeg))
        XCTAssertEqual(spec.naming.pattern, "{date}-{source}-{id}.{ext}")
        XCTAssertEqual(spec.naming.idLength, 12)
        XCTAssertEqual(spec.limits.maxImagePixels, 4_000_000)
        XCTAssertEqual(spec.executor, .init(kind: .slurm, workers: 16))
        XCTAssertEqual(spec.defaults, ["source": "camera", "split": "80/10/10"])
    }

    func testThirdFormatNamesTheDiscipline() {
        let error = specError { () throws(SpecError) in
            try ProjectSpec.decode(yaml: """
                version: 1
                name: support
                modalities: [text]
                formats:
                  text: [jsonl, txt, csv]
                """, file: "strata.yaml")
        }
        let issue = error.only()
        XCTAssertEqual(issue?.line, 5)
        XCTAssertEqual(issue?.path, "formats.text[2]")
        XCTAssertEqual(issue?.fix, "keep one or two formats per modality; convert the rest during cleaning")
        XCTAssertEqual(issue?.message, "too many text formats (jsonl, txt, csv): at most 2 are allowed")
    }

    func testFormatOfTheWrongModality() {
        let error = specError { () throws(SpecError) in
            try ProjectSpec.decode(yaml: """
                version: 1
                name: shapes
                modalities: [image]
                formats:
                  image: [png, wav]
                """, file: "strata.yaml")
        }
        XCTAssertEqual(error.only()?.description,
            "strata.yaml:5:16 formats.image[1]: `wav` is an audio format, not an image format. "
            + "Fix: move it to `formats.audio`, or use one of: png, jpeg, webp, gif, tiff, bmp")
    }

    func testModalityWithoutFormatsAndFormatsWithoutModality() {
        let error = specError { () throws(SpecError) in
            try ProjectSpec.decode(yaml: """
                version: 1
                name: mixed
                modalities: [text, image]
                formats:
                  text: [txt]
                  audio: [wav]
                """, file: "strata.yaml")
        }
        XCTAssertEqual(error.issues.map(\.path), ["formats.image", "formats.audio"])
        XCTAssertEqual(error.issues.map(\.message), [
            "no formats listed for `image`",
            "lists formats for `audio`, which is not in `modalities`",
        ])
    }

    func testNewerVersionAsksToUpgrade() {
        let error = specError { () throws(SpecError) in
            try ProjectSpec.decode(yaml: "version: 2\nname: x\nmodalities: [text]\nformats: {text: [txt]}\n", file: "strata.yaml")
        }
        XCTAssertEqual(error.only()?.description,
            "strata.yaml:1:10 version: version 2 is newer than this strata understands (up to 1). Fix: upgrade strata")
    }

    func testNamingAndExecutorValuesAreChecked() {
        let error = specError { () throws(SpecError) in
            try ProjectSpec.decode(yaml: """
                version: 1
                name: x
                modalities: [text]
                formats: {text: [txt]}
                naming:
                  pattern: "{source}_{idd}"
                  id_length: 4
                executor: {kind: cloud, workers: "ten"}
                """, file: "strata.yaml")
        }
        XCTAssertEqual(error.issues.map(\.message), [
            "unknown placeholder `{idd}` (did you mean `id`?)",
            "the naming pattern needs `{date}`",
            "the naming pattern needs `{id}`",
            "the naming pattern needs `{ext}`",
            "must be between 6 and 64, found 4",
            "unknown kind `cloud`",
            "expected an integer, found \"ten\"",
        ])
        XCTAssertEqual(error.issues.last?.line, 8)
    }

    func testEmptyFileAndNonMapRoot() {
        let empty = specError { () throws(SpecError) in try ProjectSpec.decode(yaml: "# only a comment\n", file: "strata.yaml") }
        XCTAssertEqual(empty.only()?.message, "the file is empty")
        let list = specError { () throws(SpecError) in try ProjectSpec.decode(yaml: "- a\n- b\n", file: "strata.yaml") }
        XCTAssertEqual(list.only()?.message, "expected a map of `key: value` lines, found a list")
    }

    func testDuplicateKeyIsReported() {
        let error = specError { () throws(SpecError) in
            try ProjectSpec.decode(yaml: "version: 1\nname: a\nname: b\n", file: "strata.yaml")
        }
        XCTAssertEqual(error.only()?.message, "duplicate key `name` in one map")
        XCTAssertNotNil(error.only()?.line)
    }
}

final class SpecProjectSlurmTests: XCTestCase {
    func testSlurmSettingsDecode() throws {
        let spec = try ProjectSpec.decode(yaml: """
            version: 1
            name: x
            modalities: [text]
            formats: {text: [jsonl]}
            executor:
              kind: slurm
              partition: gpu-a100
              time_limit: 2-00:00:00
              cpus_per_task: 4
              mem_per_task: 512M
              tasks_per_job: 10
              sbatch_args: ["--account=ml"]
              poll_interval: 1
              command_timeout: 30
              mode: per-step
              launcher: sbatch
              lease_timeout: 45
              idle_timeout: 300
              stall_timeout: 600
            """, file: "strata.yaml")
        let s = spec.executor.slurm
        XCTAssertEqual(s.mode, .perStep)
        XCTAssertEqual(s.launcher, .sbatch)
        XCTAssertEqual(ProjectSpec.Slurm().launcher, .srun, "srun unless told otherwise")
        XCTAssertEqual(s.leaseTimeout, 45)
        XCTAssertEqual(s.idleTimeout, 300)
        XCTAssertEqual(s.stallTimeout, 600)
        XCTAssertEqual(spec.executor.kind, .slurm)
        XCTAssertEqual(s.partition, "gpu-a100")
        XCTAssertEqual(s.timeLimit, "2-00:00:00")
        XCTAssertEqual(s.cpusPerTask, 4)
        XCTAssertEqual(s.memPerTask, "512M")
        XCTAssertEqual(s.tasksPerJob, 10)
        XCTAssertEqual(s.sbatchArgs, ["--account=ml"])
        XCTAssertEqual(s.pollInterval, 1)
        XCTAssertEqual(s.commandTimeout, 30)
        XCTAssertNil(s.strataBinary)
        // An unquoted h:mm:ss is read as written, not as YAML's base-60 number.
        let unquoted = try ProjectSpec.decode(yaml: "version: 1\nname: x\nmodalities: [text]\nformats: {text: [jsonl]}\nexecutor: {time_limit: 1:30:00}\n")
        XCTAssertEqual(unquoted.executor.slurm.timeLimit, "1:30:00")
        XCTAssertEqual(unquoted.executor.slurm.mode, .workers, "workers mode unless asked otherwise")
        XCTAssertThrowsError(try ProjectSpec.decode(yaml: "version: 1\nname: x\nmodalities: [text]\nformats: {text: [jsonl]}\nexecutor: {mode: per-task}\n", file: "strata.yaml")) { e in
            XCTAssertTrue("\(e)".contains("strata.yaml:5") && "\(e)".contains("per-task"), "\(e)")
        }
        XCTAssertTrue(["30", "30:00", "1:30:00", "2-12", "2-12:30", "2-12:30:00", "UNLIMITED"].allSatisfy(ProjectSpec.Slurm.isTimeLimit))
        XCTAssertFalse(["", "1h", "1:2:3:4", "-5", "a-1", "1-2-3"].contains(where: ProjectSpec.Slurm.isTimeLimit))
    }

    func testBadSlurmSettingsAreReportedWithTheirLines() {
        let error = specError { () throws(SpecError) in
            try ProjectSpec.decode(yaml: """
                version: 1
                name: x
                modalities: [text]
                formats: {text: [jsonl]}
                executor:
                  kind: slurm
                  partition: "gpu queue"
                  time_limit: 1h
                  cpus_per_task: 0
                  mem_per_task: lots
                  sbatch_args: ["--array=0-3", "account=ml", "--qos=low"]
                  strata_binary: bin/strata
                  partiton: x
                """, file: "strata.yaml")
        }
        XCTAssertEqual(error.issues.map(\.message), [
            "`gpu queue` is not a partition name",
            "`1h` is not a Slurm time limit",
            "must be between 1 and 4096, found 0",
            "`lots` is not a memory size",
            "`--array` is set by Strata",
            "`account=ml` is not an sbatch option",
            "`bin/strata` is not an absolute path",
            "unknown key `partiton`",
        ])
        XCTAssertEqual(error.issues.map(\.line), [7, 8, 9, 10, 11, 11, 12, 13])
        XCTAssertEqual(error.issues.last?.fix, "did you mean `partition`?")
    }
}
