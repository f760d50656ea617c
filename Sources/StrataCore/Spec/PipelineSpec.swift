/// The ordered processing stages, `pipeline.yaml`.
///
/// Stage kinds (`uses`) and their parameters are checked by the engine's stage registry;
/// here only the shape is checked.
public struct PipelineSpec: Sendable, Equatable {
    public static let currentVersion = 1
    /// The stage kind that runs an external program.
    public static let commandKind = "command"

    public var version: Int
    public var stages: [Stage]
    /// When a stage's removals stop the run (`guard:`).
    public var removalGuard: RemovalGuardSpec

    public init(version: Int = PipelineSpec.currentVersion, stages: [Stage] = [], removalGuard: RemovalGuardSpec = RemovalGuardSpec()) {
        self.version = version
        self.stages = stages
        self.removalGuard = removalGuard
    }

    public struct Stage: Sendable, Equatable {
        /// Unique slug, used in `strata run STAGE` and run directories.
        public var name: String
        /// The stage kind, such as `clean.text`, `dedup.exact`, `dedup.near`, `filter.quality`, `command`.
        public var uses: String
        public var params: [String: SpecValue]
        /// The program a `command` stage runs (reads JSONL samples on stdin, writes JSONL on stdout).
        public var command: String?
        /// The line of the stage's `name` in `pipeline.yaml` (for messages; not part of equality).
        public var line: Int?
        public init(name: String, uses: String, params: [String: SpecValue] = [:], command: String? = nil, line: Int? = nil) {
            self.name = name
            self.uses = uses
            self.params = params
            self.command = command
            self.line = line
        }

        public static func == (a: Stage, b: Stage) -> Bool {
            a.name == b.name && a.uses == b.uses && a.params == b.params && a.command == b.command
        }
    }

    /// The stage named `name`, if any.
    public func stage(named name: String) -> Stage? { stages.first { $0.name == name } }
}

extension PipelineSpec {
    /// Decodes and validates `pipeline.yaml`, reporting every problem at once.
    public static func decode(yaml: String, file: String = "pipeline.yaml") throws(SpecError) -> PipelineSpec {
        try SpecNode.read(yaml: yaml, file: file, emptyFix: "run `strata init` to write a commented pipeline.yaml") {
            root in decode(root)
        }
    }

    static func decode(_ root: SpecNode) -> PipelineSpec? {
        let version = root.specVersion(current: currentVersion)
        var stages: [Stage] = []
        var ok = true
        var firstLine: [String: Int] = [:]
        for item in root.list("stages") {
            guard item.expectMap(fix: "write each stage as `- name: ...` with `uses: ...` below it") else {
                ok = false
                continue
            }
            guard let stage = decodeStage(item) else { ok = false; continue }
            if let line = firstLine[stage.name] {
                item.child("name")?.report(
                    "the stage name `\(stage.name)` is already used on line \(line)",
                    fix: "give each stage a unique name")
                ok = false
                continue
            }
            firstLine[stage.name] = item.child("name")?.line ?? 0
            stages.append(stage)
        }
        let removalGuard = decodeGuard(root, stageNames: stages.map(\.name))
        root.finish()
        guard let version, ok, let removalGuard else { return nil }
        return PipelineSpec(version: version, stages: stages, removalGuard: removalGuard)
    }

    private static func decodeStage(_ item: SpecNode) -> Stage? {
        var name = item.requiredString("name", fix: "add `name:` with a short slug such as `clean`")
        if let n = name, !n.isSlug {
            item.child("name")?.report(
                "the stage name `\(n)` is not a slug",
                fix: "use lower-case letters, digits, `_` or `-`, such as `\(RulebookSpec.slugged(n))`")
            name = nil
        }
        let uses = item.requiredString("uses", fix: "add `uses:` with the stage kind, such as `dedup.exact`")
        var params: [String: SpecValue] = [:]
        var paramsOK = true
        if let node = item.child("params") {
            if case .map(let m)? = node.asValue(mapOnly: true) { params = m } else { paramsOK = false }
        }
        var command: String?
        var commandOK = true
        if let uses {
            if uses == commandKind {
                command = item.requiredString(
                    "command", fix: "add `command:` with the program to run, such as `python3 filters/score.py`")
                commandOK = command != nil
            } else if item.has("command") {
                item.report(
                    key: "command", "only `uses: command` stages take a `command`",
                    fix: "remove `command`, or set `uses: command`")
                commandOK = false
            }
        } else {
            item.allow("command")
        }
        let line = item.child("name")?.line
        item.finish()
        guard let name, let uses, paramsOK, commandOK else { return nil }
        return Stage(name: name, uses: uses, params: params, command: command, line: line)
    }
}

extension SpecNode {
    /// Like `asValue()`, but the top level must be a map.
    func asValue(mapOnly: Bool) -> SpecValue? {
        guard !mapOnly || expectMap(fix: "write parameters as `key: value` lines under `params:`") else { return nil }
        return asValue()
    }
}
