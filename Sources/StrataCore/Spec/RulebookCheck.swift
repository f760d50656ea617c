import Yams

/// The checks of `strata rulebook check` beyond decoding: labels reachable from the decision path, leaves that are
/// labels or policies, no duplicates, examples present. Pure: the caller checks that `sample:` examples exist.
public enum RulebookCheck {
    public struct Result: Sendable {
        public var spec: RulebookSpec
        /// Problems that make the rulebook unfit for taskers.
        public var errors: [SpecIssue]
        /// Things worth fixing that do not block labeling.
        public var warnings: [SpecIssue]
        /// Every `sample:` example, for the caller to look up.
        public var sampleExamples: [SampleExample]
    }

    public struct SampleExample: Sendable, Equatable {
        public var ref: String
        public var label: String
        public var line: Int?
        public var column: Int?
        public var path: String
    }

    /// Decodes `yaml` (throwing the decode problems, with lines) and runs the checks.
    public static func run(yaml: String, file: String = "rulebook.yaml") throws(SpecError) -> Result {
        let spec = try RulebookSpec.decode(yaml: yaml, file: file)
        // Decoding succeeded, so the YAML composes and has the expected shape; walk it again for line numbers.
        let root = (try? Yams.compose(yaml: yaml)) ?? nil
        var errors: [SpecIssue] = [], warnings: [SpecIssue] = []
        var samples: [SampleExample] = []
        func issue(_ node: Node?, _ path: String, _ message: String, _ fix: String?) -> SpecIssue {
            SpecIssue(file: file, line: node?.mark?.line, column: node?.mark?.column, path: path, message: message, fix: fix)
        }

        // Labels: examples and signs.
        let labelNodes = root?.mapping?["labels"]?.sequence.map(Array.init) ?? []
        var nameNode: [String: Node] = [:]
        var fitsOwner: [String: (label: String, node: Node?)] = [:]
        for (i, label) in spec.labels.enumerated() {
            let node = i < labelNodes.count ? labelNodes[i] : nil
            let path = "labels[\(i)]"
            nameNode[label.name] = node?.mapping?["name"] ?? node
            var seenSigns = Set<String>()
            for (s, sign) in label.signs.enumerated() where !seenSigns.insert(sign.lowercased()).inserted {
                errors.append(issue(node?.mapping?["signs"]?.sequence?[s] ?? node, "\(path).signs[\(s)]",
                                    "the sign \"\(sign)\" is listed twice for `\(label.name)`", "remove one of them"))
            }
            if label.fits.isEmpty {
                warnings.append(issue(nameNode[label.name], path, "`\(label.name)` has no `fits` example",
                                      "add one or two examples that fit, each with a `why`; taskers learn labels from examples"))
            }
            var seen: [String: String] = [:]
            for (key, examples) in [("fits", label.fits), ("not_fits", label.notFits)] {
                let exampleNodes = node?.mapping?[key]?.sequence.map(Array.init) ?? []
                for (e, example) in examples.enumerated() {
                    let eNode = e < exampleNodes.count ? exampleNodes[e] : nil
                    let ePath = "\(path).\(key)[\(e)]"
                    let (kind, content) = switch example.content {
                    case .text(let t): ("text", t)
                    case .sample(let s): ("sample", s)
                    }
                    if content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                        errors.append(issue(eNode, ePath, "the example is empty", "write the example's text, or remove it"))
                        continue
                    }
                    if kind == "sample" {
                        samples.append(SampleExample(ref: content, label: label.name, line: eNode?.mark?.line, column: eNode?.mark?.column, path: ePath))
                    }
                    let k = kind + ":" + content
                    if let other = seen[k] {
                        let message = other == key ? "this example is listed twice under `\(key)`"
                            : "this example is both under `fits` and `not_fits` of `\(label.name)`"
                        errors.append(issue(eNode, ePath, message, "keep it in one place"))
                    } else {
                        seen[k] = key
                    }
                    if key == "fits" {
                        if let owner = fitsOwner[k], owner.label != label.name {
                            errors.append(issue(eNode, ePath, "this example also fits `\(owner.label)` (line \(owner.node?.mark?.line ?? 0))",
                                                "an example that fits two labels confuses taskers: keep it under one label, or sharpen the definitions"))
                        } else {
                            fitsOwner[k] = (label.name, eNode)
                        }
                    }
                }
            }
        }

        // The decision path.
        if let path = spec.decisionPath {
            var questions: [String: Int?] = [:]
            func walk(_ n: RulebookSpec.DecisionNode, _ node: Node?, _ p: String) {
                if let earlier = questions[n.question] {
                    errors.append(issue(node?.mapping?["question"] ?? node, "\(p).question",
                                        "the question \"\(n.question)\" is asked twice on the decision path (first on line \(earlier ?? 0))",
                                        "ask each question once; merge the branches that lead to it"))
                } else {
                    questions[n.question] = node?.mapping?["question"]?.mark?.line
                }
                if n.answers.count < 2 {
                    errors.append(issue(node, p, "the question \"\(n.question)\" has only one answer", "add the other answers a tasker may give"))
                }
                let answerNodes = node?.mapping?["answers"]?.sequence.map(Array.init) ?? []
                var seen: [String: Int] = [:]
                for (i, a) in n.answers.enumerated() {
                    let aNode = i < answerNodes.count ? answerNodes[i] : nil
                    let aPath = "\(p).answers[\(i)]"
                    if let first = seen[a.answer.lowercased()] {
                        errors.append(issue(aNode?.mapping?["answer"] ?? aNode, "\(aPath).answer",
                                            "the answer \"\(a.answer)\" is listed twice for \"\(n.question)\" (first as answer \(first + 1))",
                                            "give each answer of a question a different text"))
                    } else {
                        seen[a.answer.lowercased()] = i
                    }
                    switch a.outcome {
                    case .next(let next): walk(next, aNode?.mapping?["next"], "\(aPath).next")
                    case .skip(let reason), .escalate(let reason):
                        if reason.trimmingCharacters(in: .whitespaces).isEmpty {
                            errors.append(issue(aNode, aPath, "the leaf gives no reason", "say why, e.g. `skip: personal data`"))
                        }
                    case .label: break
                    }
                }
            }
            walk(path, root?.mapping?["decision_path"], "decision_path")
            let reachable = spec.reachableLabels
            for (i, label) in spec.labels.enumerated() where !reachable.contains(label.name) {
                errors.append(issue(nameNode[label.name], "labels[\(i)].name",
                                    "the label `\(label.name)` is not reachable from the decision path",
                                    "add an answer that leads to `label: \(label.name)` under `decision_path`, or remove the label"))
            }
        } else if spec.labels.count > 1 {
            warnings.append(issue(root, "", "the rulebook has no `decision_path`",
                                  "add guided questions whose answers lead to the labels; taskers decide more consistently"))
        }
        return Result(spec: spec, errors: SpecNode.sorted(errors), warnings: SpecNode.sorted(warnings), sampleExamples: samples)
    }
}
