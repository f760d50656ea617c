/// What the model is for, `intent.yaml`: use case, environment, inputs, success criteria,
/// unacceptable mistakes, and machine-checkable data requirements.
public struct IntentSpec: Sendable, Equatable {
    public static let currentVersion = 1

    public var version: Int
    /// One or two sentences: who uses the model, for what decision.
    public var useCase: String
    public var environment: Environment
    public var inputs: Inputs
    public var successCriteria: [SuccessCriterion]
    public var unacceptableMistakes: [UnacceptableMistake]
    public var requirements: Requirements
    /// Samples collected longer ago than this are stale (`max_age_days`; a requirement can set its own).
    public var maxAgeDays: Int?

    public init(
        version: Int = IntentSpec.currentVersion, useCase: String, environment: Environment = Environment(),
        inputs: Inputs = Inputs(), successCriteria: [SuccessCriterion] = [],
        unacceptableMistakes: [UnacceptableMistake] = [], requirements: Requirements = Requirements()
    ) {
        self.version = version
        self.useCase = useCase
        self.environment = environment
        self.inputs = inputs
        self.successCriteria = successCriteria
        self.unacceptableMistakes = unacceptableMistakes
        self.requirements = requirements
    }

    /// Where and how the model meets its inputs.
    public struct Environment: Sendable, Equatable {
        public var devices: [String]
        public var languageStyle: [String]
        public var network: String?
        public var userBehaviour: [String]
        public var workflow: String?
        public init(
            devices: [String] = [], languageStyle: [String] = [], network: String? = nil,
            userBehaviour: [String] = [], workflow: String? = nil
        ) {
            self.devices = devices
            self.languageStyle = languageStyle
            self.network = network
            self.userBehaviour = userBehaviour
            self.workflow = workflow
        }
    }

    /// Descriptions of the inputs the model will see.
    public struct Inputs: Sendable, Equatable {
        public var good: [String]
        public var bad: [String]
        public var messy: [String]
        public var rare: [String]
        public init(good: [String] = [], bad: [String] = [], messy: [String] = [], rare: [String] = []) {
            self.good = good
            self.bad = bad
            self.messy = messy
            self.rare = rare
        }
    }

    public enum Metric: String, Sendable, CaseIterable {
        case accuracy, precision, recall, f1
        case errorRate = "error_rate"
    }

    /// A threshold the metric must reach (`min`) or stay under (`max`).
    public enum Bound: Sendable, Equatable {
        case min(Double)
        case max(Double)
    }

    /// A metric threshold, overall or for one label and/or slice.
    public struct SuccessCriterion: Sendable, Equatable {
        public var metric: Metric
        public var bound: Bound
        /// Restricts the metric to one label (per-class precision, recall, ...).
        public var label: String?
        /// Restricts the metric to the samples this selector matches; empty means all.
        public var slice: SpecSelector
        public init(metric: Metric, bound: Bound, label: String? = nil, slice: SpecSelector = SpecSelector()) {
            self.metric = metric
            self.bound = bound
            self.label = label
            self.slice = slice
        }
    }

    /// A (truth, prediction) confusion that must stay rare.
    public struct UnacceptableMistake: Sendable, Equatable {
        public var truth: String
        public var predicted: String
        /// Highest acceptable share of `truth` samples predicted as `predicted` (0...1).
        public var maxRate: Double
        public var why: String?
        public init(truth: String, predicted: String, maxRate: Double, why: String? = nil) {
            self.truth = truth
            self.predicted = predicted
            self.maxRate = maxRate
            self.why = why
        }
    }

    /// A coverage target: enough samples matching `where`.
    public struct Requirement: Sendable, Equatable {
        public var name: String
        public var description: String?
        public var selector: SpecSelector
        public var minSamples: Int?
        /// Share of all samples, 0...1.
        public var minShare: Double?
        /// Overrides the intent's `max_age_days` for this requirement.
        public var maxAgeDays: Int?
        public init(name: String, description: String? = nil, selector: SpecSelector, minSamples: Int? = nil, minShare: Double? = nil) {
            self.name = name
            self.description = description
            self.selector = selector
            self.minSamples = minSamples
            self.minShare = minShare
        }
    }

    public struct Requirements: Sendable, Equatable {
        public var scenarios: [Requirement]
        public var edgeCases: [Requirement]
        public var noise: [Requirement]
        public init(scenarios: [Requirement] = [], edgeCases: [Requirement] = [], noise: [Requirement] = []) {
            self.scenarios = scenarios
            self.edgeCases = edgeCases
            self.noise = noise
        }
    }

    /// The group a requirement is listed under.
    public enum RequirementCategory: String, Sendable, CaseIterable {
        case scenarios
        case edgeCases = "edge_cases"
        case noise
    }

    public struct CategorizedRequirement: Sendable, Equatable {
        public var category: RequirementCategory
        public var requirement: Requirement
    }

    /// Every requirement with its category: scenarios, then edge cases, then noise.
    public var allRequirements: [CategorizedRequirement] {
        requirements.scenarios.map { .init(category: .scenarios, requirement: $0) }
            + requirements.edgeCases.map { .init(category: .edgeCases, requirement: $0) }
            + requirements.noise.map { .init(category: .noise, requirement: $0) }
    }
}

extension IntentSpec {
    /// Decodes and validates `intent.yaml`, reporting every problem at once.
    public static func decode(yaml: String, file: String = "intent.yaml") throws(SpecError) -> IntentSpec {
        try SpecNode.read(yaml: yaml, file: file, emptyFix: "run `strata init` to write a commented intent.yaml") {
            root in decode(root)
        }
    }

    static func decode(_ root: SpecNode) -> IntentSpec? {
        let version = root.specVersion(current: currentVersion)
        let useCase = root.requiredString(
            "use_case", fix: "add `use_case:` with one or two sentences on who uses the model and for what")

        var environment = Environment()
        if let node = root.map("environment") {
            environment.devices = node.strings("devices")
            environment.languageStyle = node.strings("language_style")
            environment.network = node.string("network")
            environment.userBehaviour = node.strings("user_behaviour")
            environment.workflow = node.string("workflow")
            node.finish()
        }

        var inputs = Inputs()
        if let node = root.map("inputs") {
            inputs.good = node.strings("good")
            inputs.bad = node.strings("bad")
            inputs.messy = node.strings("messy")
            inputs.rare = node.strings("rare")
            node.finish()
        }

        var criteria: [SuccessCriterion] = []
        for item in root.list("success_criteria") where item.expectMap() {
            if let c = decodeCriterion(item) { criteria.append(c) }
            item.finish()
        }

        var mistakes: [UnacceptableMistake] = []
        for item in root.list("unacceptable_mistakes") where item.expectMap() {
            let truth = item.requiredString("truth", fix: "add `truth:` with the true label")
            let predicted = item.requiredString("predicted", fix: "add `predicted:` with the wrong prediction")
            let maxRate = item.requiredDouble("max_rate", min: 0, max: 1, example: "0.01")
            let why = item.string("why")
            item.finish()
            if let truth, let predicted, let maxRate {
                if truth == predicted {
                    item.report("`truth` and `predicted` are both `\(truth)`, which is a correct prediction",
                                fix: "name the wrong label under `predicted`")
                }
                mistakes.append(.init(truth: truth, predicted: predicted, maxRate: maxRate, why: why))
            }
        }

        let maxAgeDays = root.int("max_age_days", min: 1, example: "365")
        var requirements = Requirements()
        if let node = root.map("requirements") {
            var seen: [String: Int] = [:]
            func decodeList(_ key: String) -> [Requirement] {
                var result: [Requirement] = []
                for item in node.list(key) where item.expectMap() {
                    guard let r = decodeRequirement(item) else { continue }
                    if let line = seen[r.name] {
                        item.report("the requirement name `\(r.name)` is already used on line \(line)",
                                    fix: "give each requirement its own name")
                    } else {
                        seen[r.name] = item.line ?? 0
                    }
                    result.append(r)
                }
                return result
            }
            requirements.scenarios = decodeList("scenarios")
            requirements.edgeCases = decodeList("edge_cases")
            requirements.noise = decodeList("noise")
            node.finish()
        }
        root.finish()

        guard let version, let useCase else { return nil }
        var intent = IntentSpec(
            version: version, useCase: useCase, environment: environment, inputs: inputs,
            successCriteria: criteria, unacceptableMistakes: mistakes, requirements: requirements)
        intent.maxAgeDays = maxAgeDays
        return intent
    }

    private static func decodeCriterion(_ item: SpecNode) -> SuccessCriterion? {
        let metric = item.requiredEnum("metric", Metric.self)
        let hasMin = item.has("min"), hasMax = item.has("max")
        var bound: Bound?
        switch (hasMin, hasMax) {
        case (true, true):
            item.report("has both `min` and `max`", fix: "keep exactly one: `min` for accuracy-like metrics, `max` for error_rate")
        case (false, false):
            item.report("needs a threshold", fix: "add `min: 0.9` (or `max: 0.05` for error_rate)")
        case (true, false):
            bound = item.double("min", min: 0, max: 1, example: "0.9").map(Bound.min)
        case (false, true):
            bound = item.double("max", min: 0, max: 1, example: "0.05").map(Bound.max)
        }
        let label = item.string("label")
        let slice = item.child("slice").map { $0.asSelector() }
        item.finish()
        guard let metric, let bound, slice != .some(nil) else { return nil }
        return SuccessCriterion(metric: metric, bound: bound, label: label, slice: (slice ?? nil) ?? SpecSelector())
    }

    private static func decodeRequirement(_ item: SpecNode) -> Requirement? {
        let name = item.requiredString("name", fix: "add `name:` with a short name such as `night_photos`")
        let description = item.string("description")
        var selector: SpecSelector?
        if let whereNode = item.required("where", fix: "add `where:` with the metadata that picks these samples, such as `{lighting: night}`") {
            selector = whereNode.asSelector()
            if selector?.isEmpty == true {
                whereNode.report("an empty selector matches every sample", fix: "add at least one `field: value`")
                selector = nil
            }
        }
        let minSamples = item.int("min_samples", min: 0, example: "50")
        let minShare = item.double("min_share", min: 0, max: 1, example: "0.05")
        let maxAge = item.int("max_age_days", min: 1, example: "365")
        if !item.has("min_samples"), !item.has("min_share") {
            item.report("needs a target", fix: "add `min_samples: 50`, `min_share: 0.05`, or both")
        }
        item.finish()
        guard let name, let selector else { return nil }
        if item.has("min_samples"), minSamples == nil { return nil }
        if item.has("min_share"), minShare == nil { return nil }
        guard minSamples != nil || minShare != nil else { return nil }
        var requirement = Requirement(name: name, description: description, selector: selector, minSamples: minSamples, minShare: minShare)
        requirement.maxAgeDays = maxAge
        return requirement
    }
}
