/// How to label, `rulebook.yaml`: labels with definitions and examples, policies for unclear and
/// unfitting samples, a decision path of questions, and the labeling setup (annotators, gold, agreement).
public struct RulebookSpec: Sendable, Equatable {
    public static let currentVersion = 1

    public var version: Int
    public var labels: [Label]
    public var policies: Policies
    /// The guided questions a tasker answers; nil when the rulebook has none.
    public var decisionPath: DecisionNode?
    /// Different annotators who label each sample (>= 1).
    public var annotatorsPerSample: Int
    /// Share of gold (known-answer) samples mixed into queues, 0...1.
    public var goldRate: Double
    /// Agreement below this flags a sample or label for review, 0...1.
    public var agreementThreshold: Double

    public init(
        version: Int = RulebookSpec.currentVersion, labels: [Label], policies: Policies = Policies(),
        decisionPath: DecisionNode? = nil, annotatorsPerSample: Int = 1, goldRate: Double = 0,
        agreementThreshold: Double = 0.7
    ) {
        self.version = version
        self.labels = labels
        self.policies = policies
        self.decisionPath = decisionPath
        self.annotatorsPerSample = annotatorsPerSample
        self.goldRate = goldRate
        self.agreementThreshold = agreementThreshold
    }

    public struct Label: Sendable, Equatable {
        /// Unique name: lower-case letters, digits, `_`, `-` and `.` (e.g. `noun.food`).
        public var name: String
        public var definition: String
        public var signs: [String]
        public var fits: [Example]
        public var notFits: [Example]
        public init(name: String, definition: String, signs: [String] = [], fits: [Example] = [], notFits: [Example] = []) {
            self.name = name
            self.definition = definition
            self.signs = signs
            self.fits = fits
            self.notFits = notFits
        }
    }

    /// An example of what fits (or does not fit) a label, and why.
    public struct Example: Sendable, Equatable {
        public enum Content: Sendable, Equatable {
            /// Inline text.
            case text(String)
            /// A reference to a sample (id or path).
            case sample(String)
        }
        public var content: Content
        public var why: String
        public init(content: Content, why: String) {
            self.content = content
            self.why = why
        }
    }

    public enum Action: String, Sendable, CaseIterable {
        case skip, escalate, flag
    }

    public struct Policy: Sendable, Equatable {
        public var action: Action
        public var note: String?
        public init(action: Action, note: String? = nil) {
            self.action = action
            self.note = note
        }
    }

    public struct DoNotLabel: Sendable, Equatable {
        public var what: String
        public var action: Action
        public init(what: String, action: Action) {
            self.what = what
            self.action = action
        }
    }

    public struct Policies: Sendable, Equatable {
        /// When the tasker cannot decide. Default: escalate.
        public var unclear: Policy
        /// When no label fits. Default: skip.
        public var noFit: Policy
        /// Samples that must not be labeled at all (personal data, ...).
        public var doNotLabel: [DoNotLabel]
        public init(unclear: Policy = Policy(action: .escalate), noFit: Policy = Policy(action: .skip), doNotLabel: [DoNotLabel] = []) {
            self.unclear = unclear
            self.noFit = noFit
            self.doNotLabel = doNotLabel
        }
    }

    /// A question with its answers.
    public struct DecisionNode: Sendable, Equatable {
        public var question: String
        public var answers: [Answer]
        public init(question: String, answers: [Answer]) {
            self.question = question
            self.answers = answers
        }
    }

    public struct Answer: Sendable, Equatable {
        public var answer: String
        public var outcome: Outcome
        public init(answer: String, outcome: Outcome) {
            self.answer = answer
            self.outcome = outcome
        }
    }

    /// Where an answer leads.
    public indirect enum Outcome: Sendable, Equatable {
        case label(String)
        case skip(reason: String)
        case escalate(reason: String)
        case next(DecisionNode)
    }

    /// The label named `name`, if defined.
    public func label(named name: String) -> Label? { labels.first { $0.name == name } }
}

extension RulebookSpec {
    /// Decodes and validates `rulebook.yaml`, reporting every problem at once.
    public static func decode(yaml: String, file: String = "rulebook.yaml") throws(SpecError) -> RulebookSpec {
        try SpecNode.read(yaml: yaml, file: file, emptyFix: "run `strata init` to write a commented rulebook.yaml") {
            root in decode(root)
        }
    }

    static func decode(_ root: SpecNode) -> RulebookSpec? {
        let version = root.specVersion(current: currentVersion)

        var labels: [Label] = []
        var labelsOK = true
        var firstLine: [String: Int] = [:]
        if let node = root.required("labels", fix: "add `labels:` with one entry per label"),
           let items = node.asList() {
            if items.isEmpty {
                node.report("defines no label", fix: "add at least one label with a `name` and a `definition`")
                labelsOK = false
            }
            for item in items where item.expectMap() {
                guard let label = decodeLabel(item) else { labelsOK = false; continue }
                if let line = firstLine[label.name] {
                    item.child("name")?.report(
                        "the label `\(label.name)` is already defined on line \(line)",
                        fix: "give each label a unique name, or merge the two definitions")
                    labelsOK = false
                } else {
                    firstLine[label.name] = item.child("name")?.line ?? 0
                }
                labels.append(label)
            }
        } else {
            labelsOK = false
        }

        var policies = Policies()
        if let node = root.map("policies") {
            if let p = node.map("unclear") { policies.unclear = decodePolicy(p) ?? policies.unclear }
            if let p = node.map("no_fit") { policies.noFit = decodePolicy(p) ?? policies.noFit }
            for item in node.list("do_not_label") where item.expectMap() {
                let what = item.requiredString("what", fix: "add `what:` describing the samples")
                let action = item.requiredEnum("action", Action.self)
                item.finish()
                if let what, let action { policies.doNotLabel.append(.init(what: what, action: action)) }
            }
            node.finish()
        }

        var decisionPath: DecisionNode?
        var pathOK = true
        if let node = root.map("decision_path") {
            let names = labels.map(\.name)
            decisionPath = decodeDecision(node, labelNames: labelsOK ? names : nil)
            pathOK = decisionPath != nil
        }

        let annotators = root.int("annotators_per_sample", min: 1, max: 100, example: "3") ?? 1
        let goldRate = root.double("gold_rate", min: 0, max: 1, example: "0.05") ?? 0
        let agreement = root.double("agreement_threshold", min: 0, max: 1, example: "0.7") ?? 0.7
        root.finish()

        guard let version, labelsOK, pathOK else { return nil }
        return RulebookSpec(
            version: version, labels: labels, policies: policies, decisionPath: decisionPath,
            annotatorsPerSample: annotators, goldRate: goldRate, agreementThreshold: agreement)
    }

    private static func decodeLabel(_ item: SpecNode) -> Label? {
        var name = item.requiredString("name", fix: "add `name:` with a short slug such as `billing`")
        if let n = name, !n.isLabelName {
            item.child("name")?.report(
                "the label name `\(n)` is not a slug",
                fix: "use lower-case letters, digits, `_`, `-` or `.`, such as `\(slugged(n))`")
            name = nil
        }
        let definition = item.requiredString("definition", fix: "add `definition:` with one sentence a new tasker understands")
        let signs = item.strings("signs")
        let fits = item.list("fits").compactMap(decodeExample)
        let notFits = item.list("not_fits").compactMap(decodeExample)
        item.finish()
        guard let name, let definition else { return nil }
        return Label(name: name, definition: definition, signs: signs, fits: fits, notFits: notFits)
    }

    static func slugged(_ s: String) -> String {
        let mapped = s.lowercased().map { c -> Character in
            c.isLetter || c.isNumber || c == "-" ? c : "_"
        }
        let slug = String(mapped).trimmingCharacters("_")
        return slug.isEmpty || !slug.isSlug ? "my_label" : slug
    }

    private static func decodeExample(_ item: SpecNode) -> Example? {
        guard item.expectMap(fix: "write `- text: \"...\"` with `why: ...` on the next line") else { return nil }
        let hasText = item.has("text"), hasSample = item.has("sample")
        var content: Example.Content?
        switch (hasText, hasSample) {
        case (true, true):
            item.report("has both `text` and `sample`", fix: "keep one: inline `text`, or a `sample` id or path")
        case (false, false):
            item.report("needs `text` or `sample`", fix: "add `text: \"...\"` or `sample: <id or path>`")
        case (true, false):
            content = item.string("text").map(Example.Content.text)
        case (false, true):
            content = item.string("sample").map(Example.Content.sample)
        }
        let why = item.requiredString("why", fix: "add `why:` saying what makes this example fit or not fit")
        item.finish()
        guard let content, let why else { return nil }
        return Example(content: content, why: why)
    }

    private static func decodePolicy(_ node: SpecNode) -> Policy? {
        let action = node.requiredEnum("action", Action.self)
        let note = node.string("note")
        node.finish()
        return action.map { Policy(action: $0, note: note) }
    }

    /// Decodes a question node. `labelNames` is nil when the labels had problems (leaves are then not checked).
    private static func decodeDecision(_ node: SpecNode, labelNames: [String]?) -> DecisionNode? {
        let question = node.requiredString("question", fix: "add `question:` that a tasker can answer by looking at the sample")
        var answers: [Answer] = []
        var ok = true
        if let list = node.required("answers", fix: "add `answers:` with one entry per possible answer"),
           let items = list.asList() {
            if items.isEmpty {
                list.report("lists no answer", fix: "add at least two answers")
                ok = false
            }
            for item in items where item.expectMap() {
                if let a = decodeAnswer(item, labelNames: labelNames) { answers.append(a) } else { ok = false }
            }
        } else {
            ok = false
        }
        node.finish()
        guard let question, ok else { return nil }
        return DecisionNode(question: question, answers: answers)
    }

    private static func decodeAnswer(_ item: SpecNode, labelNames: [String]?) -> Answer? {
        let answer = item.requiredString("answer", fix: "add `answer:` with the answer's text, such as \"yes\"")
        let kinds = ["label", "skip", "escalate", "next"]
        let present = kinds.filter { item.has($0) }
        var outcome: Outcome?
        if present.isEmpty {
            item.report("leads nowhere", fix: "add exactly one of `label: <name>`, `skip: <reason>`, `escalate: <reason>` or `next:` with a question")
        } else if present.count > 1 {
            let list = present.map { "`\($0)`" }.joined(separator: " and ")
            item.report("has \(list)", fix: "keep exactly one outcome per answer")
        } else {
            switch present[0] {
            case "label":
                if let node = item.child("label"), let name = node.asString() {
                    if let labelNames, !labelNames.contains(name) {
                        let fix = SpecSuggest.didYouMean(name, in: labelNames)
                            ?? "use one of the labels defined under `labels`: \(labelNames.joined(separator: ", "))"
                        node.report("unknown label `\(name)`", fix: fix)
                    } else {
                        outcome = .label(name)
                    }
                }
            case "skip":
                outcome = item.string("skip").map { Outcome.skip(reason: $0) }
            case "escalate":
                outcome = item.string("escalate").map { Outcome.escalate(reason: $0) }
            default:
                if let next = item.map("next"), let node = decodeDecision(next, labelNames: labelNames) {
                    outcome = .next(node)
                }
            }
        }
        item.finish()
        guard let answer, let outcome else { return nil }
        return Answer(answer: answer, outcome: outcome)
    }
}

extension String {
    fileprivate func trimmingCharacters(_ c: Character) -> String {
        var s = self[...]
        while s.first == c { s.removeFirst() }
        while s.last == c { s.removeLast() }
        return String(s)
    }
}
