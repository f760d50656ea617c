/// The project config, `strata.yaml`: name, modalities, the one or two formats allowed per modality,
/// naming, limits, executor and defaults.
public struct ProjectSpec: Sendable, Equatable {
    /// The highest `version` this build of strata understands.
    public static let currentVersion = 1
    /// At most this many formats per modality: the rest are converted during cleaning.
    public static let maxFormatsPerModality = 2

    public var version: Int
    public var name: String
    /// The modalities of this project, in file order.
    public var modalities: [Modality]
    /// Allowed formats per modality, in file order (one or two each).
    public var formats: [Modality: [FileFormat]]
    public var naming: Naming
    public var limits: Limits
    public var executor: Executor
    /// Free `key: value` defaults for commands (such as `source: field_team`).
    public var defaults: [String: String]
    /// How dataset versions are split (the `splits:` block; see SplitSpec).
    public var splits: SplitSpec = SplitSpec()

    public init(
        version: Int = ProjectSpec.currentVersion, name: String, modalities: [Modality],
        formats: [Modality: [FileFormat]], naming: Naming = Naming(), limits: Limits = Limits(),
        executor: Executor = Executor(), defaults: [String: String] = [:]
    ) {
        self.version = version
        self.name = name
        self.modalities = modalities
        self.formats = formats
        self.naming = naming
        self.limits = limits
        self.executor = executor
        self.defaults = defaults
    }

    /// How stored files are named.
    public struct Naming: Sendable, Equatable {
        public static let defaultPattern = "{source}_{date}_{id}.{ext}"
        /// The placeholders a pattern may use.
        public static let placeholders = ["source", "date", "id", "ext"]
        public var pattern: String
        /// Characters of the content id in names (6...64).
        public var idLength: Int
        public init(pattern: String = Naming.defaultPattern, idLength: Int = 10) {
            self.pattern = pattern
            self.idLength = idLength
        }
    }

    /// Size limits enforced at ingest.
    public struct Limits: Sendable, Equatable {
        public var maxFileBytes: Int
        public var maxRecordBytes: Int
        public var maxImagePixels: Int
        public init(maxFileBytes: Int = 1 << 30, maxRecordBytes: Int = 1 << 20, maxImagePixels: Int = 50_000_000) {
            self.maxFileBytes = maxFileBytes
            self.maxRecordBytes = maxRecordBytes
            self.maxImagePixels = maxImagePixels
        }
    }

    /// Where pipeline tasks run.
    public struct Executor: Sendable, Equatable {
        public enum Kind: String, Sendable, CaseIterable { case local, slurm }
        public var kind: Kind
        /// Parallel tasks; nil lets the executor choose. On Slurm: array jobs running at once (`--array=...%N`).
        public var workers: Int?
        /// How tasks are submitted when `kind` is `slurm` (or `strata run --executor slurm`).
        public var slurm: Slurm
        public init(kind: Kind = .local, workers: Int? = nil, slurm: Slurm = Slurm()) {
            self.kind = kind
            self.workers = workers
            self.slurm = slurm
        }
    }

    /// The Slurm settings of `executor:`. Every field is optional: unset ones are left to the cluster's defaults.
    public struct Slurm: Sendable, Equatable {
        /// `--partition`.
        public var partition: String?
        /// `--time` per array job, in one of Slurm's forms (`30`, `1:30:00`, `2-00:00:00`).
        public var timeLimit: String?
        /// `--cpus-per-task`.
        public var cpusPerTask: Int?
        /// `--mem` of each array job, such as `4G` or `512M`.
        public var memPerTask: String?
        /// Further `sbatch` options, each one argument (`--account=ml`, `--qos=low`).
        public var sbatchArgs: [String]
        /// The `strata` binary the jobs run; default: the path of the binary that runs `strata run`.
        public var strataBinary: String?
        /// Tasks each array job runs one after the other; nil: one step's tasks are packed into `workers` jobs when
        /// `workers` is set, else one task per job.
        public var tasksPerJob: Int?
        /// Seconds between two looks at the queue (`squeue`); finished tasks are noticed sooner, from the task cache.
        public var pollInterval: Double
        /// Seconds any one Slurm command (sbatch, squeue, scontrol, scancel) may take before it counts as failed.
        public var commandTimeout: Double
        /// How tasks reach Slurm: one worker array job per run (`workers`, the default) or one array job per step.
        public enum Mode: String, Sendable, CaseIterable { case workers, perStep = "per-step" }
        public var mode: Mode
        /// Workers mode: how the workers are started. `srun`: one `srun` per worker, run by `strata run` in the
        /// background (Slurm grants an allocation request at once; the driver's machine must be allowed to run srun,
        /// as a login node is). `sbatch`: one worker array job (Slurm 22.05 starts batch jobs only at its
        /// once-a-second scheduling pass: 0-1 s later; independent of the driver's processes).
        public enum Launcher: String, Sendable, CaseIterable { case srun, sbatch }
        public var launcher: Launcher = .srun
        /// Workers mode: seconds without a heartbeat after which a running worker counts as lost.
        public var leaseTimeout: Double
        /// Workers mode: seconds a worker waits for work before it exits by itself.
        public var idleTimeout: Double
        /// Workers mode: seconds with tasks waiting and nothing moving (no task claimed or finished, no worker of the
        /// run running a task, waiting for its turn in Slurm's queue or being submitted) after which the run fails
        /// with a diagnosis instead of waiting forever; 0: never.
        public var stallTimeout: Double = 300
        public init(partition: String? = nil, timeLimit: String? = nil, cpusPerTask: Int? = nil, memPerTask: String? = nil,
                    sbatchArgs: [String] = [], strataBinary: String? = nil, tasksPerJob: Int? = nil,
                    pollInterval: Double = 1, commandTimeout: Double = 60, mode: Mode = .workers, leaseTimeout: Double = 30,
                    idleTimeout: Double = 120) {
            self.partition = partition; self.timeLimit = timeLimit; self.cpusPerTask = cpusPerTask; self.memPerTask = memPerTask
            self.sbatchArgs = sbatchArgs; self.strataBinary = strataBinary; self.tasksPerJob = tasksPerJob
            self.pollInterval = pollInterval; self.commandTimeout = commandTimeout
            self.mode = mode; self.leaseTimeout = leaseTimeout; self.idleTimeout = idleTimeout
        }

        /// sbatch options Strata sets itself: a user's value would break how it tracks the jobs.
        public static let reservedOptions = ["--array", "-a", "--output", "-o", "--error", "-e", "--parsable", "--wrap",
                                             "--chdir", "-D", "--wait", "-W", "--job-name", "-J",
                                             "--ntasks", "-n", "--nodes", "-N", "--input", "-i"]

        /// Whether `value` is a Slurm time limit: minutes, minutes:seconds, hours:minutes:seconds, days-hours,
        /// days-hours:minutes, days-hours:minutes:seconds, or `UNLIMITED`.
        public static func isTimeLimit(_ value: String) -> Bool {
            if ["unlimited", "infinite"].contains(value.lowercased()) { return true }
            let dayParts = value.split(separator: "-", omittingEmptySubsequences: false)
            guard dayParts.count <= 2 else { return false }
            let clock = dayParts.last!.split(separator: ":", omittingEmptySubsequences: false)
            let numbers = (dayParts.count == 2 ? [dayParts[0]] : []) + clock
            guard clock.count <= 3, numbers.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else { return false }
            return true
        }

        /// Whether `value` is a Slurm memory size: a whole number with an optional K, M, G or T suffix.
        public static func isMemory(_ value: String) -> Bool {
            var digits = Substring(value)
            if let last = digits.last, "KMGTkmgt".contains(last) { digits = digits.dropLast() }
            return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
        }
    }

    /// The formats allowed for `modality`, in file order; empty if the project does not have it.
    public func allowedFormats(for modality: Modality) -> [FileFormat] {
        formats[modality] ?? []
    }

    /// Whether files of format `f` are accepted as they are.
    public func allows(_ f: FileFormat) -> Bool {
        allowedFormats(for: f.modality).contains(f)
    }
}

extension ProjectSpec {
    /// Decodes and validates `strata.yaml`, reporting every problem at once.
    /// - Parameters:
    ///   - yaml: The file's text.
    ///   - file: The name used in messages, usually `strata.yaml`.
    public static func decode(yaml: String, file: String = "strata.yaml") throws(SpecError) -> ProjectSpec {
        try SpecNode.read(yaml: yaml, file: file, emptyFix: "run `strata init` to write a commented strata.yaml") {
            root in decode(root)
        }
    }

    static func decode(_ root: SpecNode) -> ProjectSpec? {
        let version = root.specVersion(current: currentVersion)
        let name = root.requiredString("name", fix: "add `name: my-project`")

        // modalities
        var modalities: [Modality] = []
        var modalitiesOK = true
        if let node = root.required("modalities", fix: "add `modalities: [text]` (text, image or audio)") {
            if let items = node.asList(fix: "write a list such as [text, image]") {
                if items.isEmpty {
                    node.report("lists no modality", fix: "add at least one of: text, image, audio")
                    modalitiesOK = false
                }
                for item in items {
                    guard let m = item.asEnum(Modality.self, what: "modality") else { modalitiesOK = false; continue }
                    if modalities.contains(m) {
                        item.report("`\(m.rawValue)` is listed twice", fix: "remove the repeated entry")
                    } else {
                        modalities.append(m)
                    }
                }
            } else {
                modalitiesOK = false
            }
        } else {
            modalitiesOK = false
        }

        // formats
        var formats: [Modality: [FileFormat]] = [:]
        let formatsNode = root.requiredMap(
            "formats", fix: "add `formats:` with one or two formats per modality, such as `text: [jsonl]`")
        if let formatsNode {
            for modality in Modality.allCases {
                guard let listNode = formatsNode.child(modality.rawValue) else {
                    if modalities.contains(modality) {
                        formatsNode.report(
                            key: modality.rawValue, "no formats listed for `\(modality.rawValue)`",
                            fix: "add `\(modality.rawValue): [\(exampleFormats(modality))]` under `formats`")
                    }
                    continue
                }
                if modalitiesOK, !modalities.contains(modality) {
                    listNode.report(
                        "lists formats for `\(modality.rawValue)`, which is not in `modalities`",
                        fix: "add \(modality.rawValue) to `modalities`, or remove `formats.\(modality.rawValue)`")
                }
                if let list = decodeFormats(listNode, modality: modality) { formats[modality] = list }
            }
            formatsNode.finish()
        }

        // naming
        var naming = Naming()
        if let node = root.map("naming") {
            if let patternNode = node.child("pattern"), let pattern = patternNode.asString() {
                if validatePattern(pattern, node: patternNode) { naming.pattern = pattern }
            }
            naming.idLength = node.int("id_length", min: 6, max: 64, example: "10") ?? naming.idLength
            node.finish()
        }

        // limits
        var limits = Limits()
        if let node = root.map("limits") {
            limits.maxFileBytes = node.int("max_file_bytes", min: 1, example: "1073741824") ?? limits.maxFileBytes
            limits.maxRecordBytes = node.int("max_record_bytes", min: 1, example: "1048576") ?? limits.maxRecordBytes
            limits.maxImagePixels = node.int("max_image_pixels", min: 1, example: "50000000") ?? limits.maxImagePixels
            node.finish()
        }

        // executor
        var executor = Executor()
        if let node = root.map("executor") {
            executor.kind = node.enumValue("kind", Executor.Kind.self) ?? .local
            executor.workers = node.int("workers", min: 1, max: 4096, example: "4")
            executor.slurm = decodeSlurm(node)
            node.finish()
        }

        let splits = root.map("splits").map(SplitSpec.decode) ?? SplitSpec()

        // defaults
        var defaults: [String: String] = [:]
        if let node = root.child("defaults"), let entries = node.asEntries() {
            for (key, value) in entries {
                if let s = value.asString(fix: "write a single value such as `\(key): something`") { defaults[key] = s }
            }
        }
        root.finish()

        guard let version, let name, modalitiesOK, formatsNode != nil else { return nil }
        var spec = ProjectSpec(
            version: version, name: name, modalities: modalities, formats: formats,
            naming: naming, limits: limits, executor: executor, defaults: defaults)
        spec.splits = splits
        return spec
    }

    /// The Slurm keys of `executor:`.
    static func decodeSlurm(_ node: SpecNode) -> Slurm {
        var slurm = Slurm()
        if let n = node.child("partition"), let p = n.asString() {
            if p.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.,-".contains($0)) }) { slurm.partition = p } else {
                n.report("`\(p)` is not a partition name", fix: "write the name `sinfo` lists, such as `batch`")
            }
        }
        // Read as written: YAML would turn an unquoted 1:30:00 into a number.
        if let n = node.child("time_limit"), let raw = n.node.scalar?.string ?? n.asString() {
            if Slurm.isTimeLimit(raw) { slurm.timeLimit = raw } else {
                n.report("`\(raw)` is not a Slurm time limit",
                         fix: "write minutes (`30`), hours:minutes:seconds (`\"1:30:00\"`) or days-hours:minutes:seconds (`\"2-00:00:00\"`)")
            }
        }
        slurm.cpusPerTask = node.int("cpus_per_task", min: 1, max: 4096, example: "1")
        if let n = node.child("mem_per_task"), let raw = n.node.scalar?.string ?? n.asString() {
            if Slurm.isMemory(raw) { slurm.memPerTask = raw.uppercased() } else {
                n.report("`\(raw)` is not a memory size", fix: "write a whole number with a unit, such as `4G` or `512M`")
            }
        }
        if let n = node.child("sbatch_args"), let items = n.asList(fix: "write a list such as [\"--account=ml\", \"--qos=low\"]") {
            for item in items {
                guard let arg = item.asString() else { continue }
                let option = String(arg.split(separator: "=", maxSplits: 1).first ?? "")
                if !arg.hasPrefix("-") {
                    item.report("`\(arg)` is not an sbatch option", fix: "write each option as one item starting with `-`, such as \"--qos=low\"")
                } else if Slurm.reservedOptions.contains(option) {
                    item.report("`\(option)` is set by Strata", fix: "remove it: Strata starts the jobs and names their logs itself")
                } else {
                    slurm.sbatchArgs.append(arg)
                }
            }
        }
        if let n = node.child("strata_binary"), let path = n.asString() {
            if path.hasPrefix("/") { slurm.strataBinary = path } else {
                n.report("`\(path)` is not an absolute path", fix: "write the path of `strata` on the compute nodes, such as /shared/bin/strata")
            }
        }
        slurm.tasksPerJob = node.int("tasks_per_job", min: 1, max: 1_000_000, example: "10")
        slurm.pollInterval = node.double("poll_interval", min: 0.1, max: 600, example: "1") ?? slurm.pollInterval
        slurm.commandTimeout = node.double("command_timeout", min: 1, max: 3600, example: "60") ?? slurm.commandTimeout
        slurm.mode = node.enumValue("mode", Slurm.Mode.self) ?? slurm.mode
        slurm.launcher = node.enumValue("launcher", Slurm.Launcher.self) ?? slurm.launcher
        slurm.leaseTimeout = node.double("lease_timeout", min: 3, max: 86_400, example: "30") ?? slurm.leaseTimeout
        slurm.idleTimeout = node.double("idle_timeout", min: 1, max: 86_400, example: "120") ?? slurm.idleTimeout
        slurm.stallTimeout = node.double("stall_timeout", min: 0, max: 604_800, example: "300") ?? slurm.stallTimeout
        return slurm
    }

    static func exampleFormats(_ modality: Modality) -> String {
        switch modality {
        case .text: "jsonl"
        case .image: "png, jpeg"
        case .audio: "wav"
        }
    }

    private static func decodeFormats(_ node: SpecNode, modality: Modality) -> [FileFormat]? {
        let own = FileFormat.formats(of: modality).map(\.rawValue)
        guard let items = node.asList(fix: "write a list such as [\(exampleFormats(modality))]") else { return nil }
        if items.isEmpty {
            node.report("lists no format", fix: "add one or two formats, such as [\(exampleFormats(modality))]")
            return nil
        }
        var result: [FileFormat] = []
        var ok = true
        for item in items {
            guard let raw = item.asString() else { ok = false; continue }
            guard let format = FileFormat(name: raw) else {
                let fix = SpecSuggest.didYouMean(raw.lowercased(), in: FileFormat.allCases.map(\.rawValue))
                    ?? "use one of the \(modality.rawValue) formats: \(own.joined(separator: ", "))"
                item.report("unknown format `\(raw)`", fix: fix)
                ok = false
                continue
            }
            guard format.modality == modality else {
                item.report(
                    "`\(raw)` is \(article(format.modality)) \(format.modality.rawValue) format, not \(article(modality)) \(modality.rawValue) format",
                    fix: "move it to `formats.\(format.modality.rawValue)`, or use one of: \(own.joined(separator: ", "))")
                ok = false
                continue
            }
            if result.contains(format) {
                item.report("`\(raw)` is listed twice", fix: "remove the repeated entry")
                continue
            }
            if result.count == maxFormatsPerModality {
                let listed = (result.map(\.rawValue) + [format.rawValue]).joined(separator: ", ")
                item.report(
                    "too many \(modality.rawValue) formats (\(listed)): at most \(maxFormatsPerModality) are allowed",
                    fix: "keep one or two formats per modality; convert the rest during cleaning")
                ok = false
                continue
            }
            result.append(format)
        }
        return ok ? result : nil
    }

    private static func article(_ m: Modality) -> String { m == .image || m == .audio ? "an" : "a" }

    /// Checks `{placeholder}`s and that all four appear: names carry source, date, id and type.
    private static func validatePattern(_ pattern: String, node: SpecNode) -> Bool {
        var ok = true
        var found: [String] = []
        var rest = pattern[...]
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else {
                node.report("unclosed `{` in the naming pattern", fix: "write placeholders as {source}, {date}, {id}, {ext}")
                return false
            }
            let name = String(rest[rest.index(after: open)..<close])
            if Naming.placeholders.contains(name) {
                found.append(name)
            } else {
                let hint = SpecSuggest.didYouMean(name, in: Naming.placeholders).map { " (\($0))" } ?? ""
                node.report(
                    "unknown placeholder `{\(name)}`\(hint)",
                    fix: "use only {source}, {date}, {id} and {ext}")
                ok = false
            }
            rest = rest[rest.index(after: close)...]
        }
        for required in Naming.placeholders where !found.contains(required) {
            node.report(
                "the naming pattern needs `{\(required)}`",
                fix: "use a pattern such as \"\(Naming.defaultPattern)\"")
            ok = false
        }
        if pattern.contains("/") {
            node.report("the naming pattern must not contain `/`", fix: "name files, not folders: \"\(Naming.defaultPattern)\"")
            ok = false
        }
        return ok
    }
}

extension SpecNode {
    /// Reads the required `version` key: 1...current; a newer one asks to upgrade strata.
    func specVersion(current: Int) -> Int? {
        guard let node = required("version", fix: "add `version: \(current)` as the first line"),
              let v = node.asInt(example: String(current))
        else { return nil }
        if v > current {
            node.report(
                "version \(v) is newer than this strata understands (up to \(current))",
                fix: "upgrade strata")
            return nil
        }
        if v < 1 {
            node.report("version must be at least 1, found \(v)", fix: "write `version: \(current)`")
            return nil
        }
        return v
    }
}
