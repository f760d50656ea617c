import XCTest
@testable import StrataCore

final class SpecTemplateTests: XCTestCase {
    /// Every non-empty subset of the modalities.
    static let combinations: [[Modality]] = (1..<(1 << Modality.allCases.count)).map { mask in
        Modality.allCases.enumerated().filter { mask & (1 << $0.offset) != 0 }.map(\.element)
    }

    func testEveryTemplateDecodesForEveryModalityCombination() throws {
        XCTAssertEqual(Self.combinations.count, 7)
        for ms in Self.combinations {
            let context = "modalities \(ms.map(\.rawValue))"
            do {
                let project = try ProjectSpec.decode(yaml: SpecTemplates.project(name: "demo \"one\"", modalities: ms), file: "strata.yaml")
                XCTAssertEqual(project.name, "demo \"one\"", context)
                XCTAssertEqual(project.modalities, ms, context)
                for m in ms { XCTAssertEqual(project.allowedFormats(for: m).count, 2, context) }
                let intent = try IntentSpec.decode(yaml: SpecTemplates.intent(modalities: ms), file: "intent.yaml")
                let rulebook = try RulebookSpec.decode(yaml: SpecTemplates.rulebook(modalities: ms), file: "rulebook.yaml")
                let pipeline = try PipelineSpec.decode(yaml: SpecTemplates.pipeline(modalities: ms), file: "pipeline.yaml")
                // Sensible stages for the enabled modalities: cleaning per modality, then quality, exact and near dedup.
                let cleaning = (ms.contains(.text) ? ["clean.text"] : []) + (ms.contains(.image) ? ["clean.image"] : [])
                    + (ms.contains(.audio) ? ["clean.audio"] : [])
                XCTAssertEqual(pipeline.stages.map(\.uses), cleaning + ["filter.quality", "dedup.exact", "dedup.near"], context)
                XCTAssertNotNil(rulebook.decisionPath, context)
                XCTAssertFalse(intent.allRequirements.isEmpty, context)
                XCTAssertFalse(intent.successCriteria.isEmpty, context)
                // The intent speaks about labels the rulebook defines.
                let labels = Set(rulebook.labels.map(\.name))
                for mistake in intent.unacceptableMistakes {
                    XCTAssertTrue(labels.contains(mistake.truth) && labels.contains(mistake.predicted), context)
                }
                for criterion in intent.successCriteria {
                    if let label = criterion.label { XCTAssertTrue(labels.contains(label), context) }
                }
            } catch {
                XCTFail("\(context): \(error)")
            }
        }
    }

    func testEmptyModalityListMeansText() throws {
        let project = try ProjectSpec.decode(yaml: SpecTemplates.project(name: "x", modalities: []), file: "strata.yaml")
        XCTAssertEqual(project.modalities, [.text])
    }

    func testTemplatesCommentEveryTopLevelKey() {
        for ms in Self.combinations {
            for yaml in [SpecTemplates.project(name: "x", modalities: ms), SpecTemplates.intent(modalities: ms),
                         SpecTemplates.rulebook(modalities: ms), SpecTemplates.pipeline(modalities: ms)] {
                let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
                for (i, line) in lines.enumerated() where i > 0 && !line.hasPrefix(" ") && !line.hasPrefix("#") && !line.isEmpty {
                    XCTAssertTrue(lines[i - 1].hasPrefix("#"), "no comment above `\(line)`")
                }
            }
        }
    }

    func testSingleModalityTemplatesUseTheirExamples() {
        XCTAssertTrue(SpecTemplates.intent(modalities: [.text]).contains("support messages"))
        XCTAssertTrue(SpecTemplates.intent(modalities: [.image]).contains("conveyor belt"))
        XCTAssertTrue(SpecTemplates.intent(modalities: [.audio]).contains("wake word"))
        XCTAssertTrue(SpecTemplates.intent(modalities: [.text, .audio]).contains("written notes and voice memos"))
    }

    func testTemplateSourceNamesAndSampleNamesFollowTheNamingRules() {
        for m in [[Modality.text], [.image], [.audio], [.text, .image, .audio]] {
            let yaml = SpecTemplates.project(name: "x", modalities: m) + SpecTemplates.rulebook(modalities: m)
            // `source: NAME` (commented default) and sample paths `data/raw/<source>/<name>` must be valid names.
            for line in yaml.split(separator: "\n") {
                if let r = line.range(of: "source: "), line.contains("#") {
                    let name = line[r.upperBound...].trimmingCharacters(in: .whitespaces)
                    XCTAssertNil(FileNaming.sourceNameProblem(name), "\(name) in \(line)")
                }
                if let r = line.range(of: "data/raw/") {
                    let path = line[r.upperBound...].prefix { $0 != "\"" && $0 != " " && $0 != "," }
                    let parts = path.split(separator: "/")
                    XCTAssertEqual(parts.count, 2, String(path))
                    XCTAssertNotNil(FileNaming.parse(String(parts.last ?? "")), String(path))
                }
            }
        }
    }
}
