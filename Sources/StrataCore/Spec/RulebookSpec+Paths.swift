/// Pure helpers over a rulebook: the text its version hashes are computed from, and walks over the decision path.
extension RulebookSpec {
    /// What a label *means*: its name, definition and signs, one per line. A change here changes the label's
    /// definition hash and flags the labels made under the old meaning for review. Examples and their notes are
    /// not part of it: adding an example clarifies a label without changing what it means.
    public static func definitionText(_ label: Label) -> String {
        (["label " + label.name, "definition " + label.definition] + label.signs.map { "sign " + $0 }).joined(separator: "\n")
    }

    /// A canonical serialization of the whole rulebook (independent of YAML layout and comments). Two rulebooks
    /// with the same canonical text are the same version.
    public var canonicalText: String {
        var out: [String] = ["version \(version)"]
        func example(_ kind: String, _ e: Example) {
            switch e.content {
            case .text(let t): out.append("\(kind) text \(Self.escape(t)) why \(Self.escape(e.why))")
            case .sample(let s): out.append("\(kind) sample \(Self.escape(s)) why \(Self.escape(e.why))")
            }
        }
        for l in labels {
            out.append("label \(l.name)")
            out.append("definition \(Self.escape(l.definition))")
            for s in l.signs { out.append("sign \(Self.escape(s))") }
            for e in l.fits { example("fits", e) }
            for e in l.notFits { example("not-fits", e) }
        }
        out.append("unclear \(policies.unclear.action.rawValue) \(Self.escape(policies.unclear.note ?? ""))")
        out.append("no-fit \(policies.noFit.action.rawValue) \(Self.escape(policies.noFit.note ?? ""))")
        for d in policies.doNotLabel { out.append("do-not-label \(d.action.rawValue) \(Self.escape(d.what))") }
        func node(_ n: DecisionNode, _ depth: Int) {
            out.append(String(repeating: " ", count: depth) + "question \(Self.escape(n.question))")
            for a in n.answers {
                let pad = String(repeating: " ", count: depth + 1)
                switch a.outcome {
                case .label(let l): out.append(pad + "answer \(Self.escape(a.answer)) label \(l)")
                case .skip(let r): out.append(pad + "answer \(Self.escape(a.answer)) skip \(Self.escape(r))")
                case .escalate(let r): out.append(pad + "answer \(Self.escape(a.answer)) escalate \(Self.escape(r))")
                case .next(let n2):
                    out.append(pad + "answer \(Self.escape(a.answer)) next")
                    node(n2, depth + 2)
                }
            }
        }
        if let decisionPath { node(decisionPath, 0) }
        out.append("annotators \(annotatorsPerSample)")
        out.append("gold \(goldRate)")
        out.append("agreement \(agreementThreshold)")
        return out.joined(separator: "\n")
    }

    private static func escape(_ s: String) -> String {
        var o = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": o += "\\\""
            case "\\": o += "\\\\"
            case "\n": o += "\\n"
            default: o.unicodeScalars.append(c)
            }
        }
        return o + "\""
    }

    /// Where a sequence of answers through the decision path leads.
    public enum PathResult: Sendable, Equatable {
        /// The answers end on a leaf.
        case outcome(Outcome)
        /// The answers stop before a leaf; `question` is the next one to answer.
        case incomplete(question: String)
        /// `answer` (at position `index`) is not one of the answers to `question`.
        case invalid(index: Int, answer: String, question: String, expected: [String])
        /// There are more answers than questions on the way to the leaf.
        case tooMany(used: Int)
    }

    /// Follows `answers` (each an answer text, case-sensitive) from the first question of the decision path.
    public func follow(_ answers: [String]) -> PathResult? {
        guard var node = decisionPath else { return nil }
        for (i, a) in answers.enumerated() {
            guard let answer = node.answers.first(where: { $0.answer == a }) else {
                return .invalid(index: i, answer: a, question: node.question, expected: node.answers.map(\.answer))
            }
            if case .next(let n) = answer.outcome {
                node = n
                continue
            }
            return i == answers.count - 1 ? .outcome(answer.outcome) : .tooMany(used: i + 1)
        }
        return .incomplete(question: node.question)
    }

    /// A leaf of the decision path and the answers that lead to it.
    public struct Leaf: Sendable, Equatable {
        public var answers: [String]
        public var outcome: Outcome
    }

    /// Every leaf of the decision path, depth first (empty without a decision path).
    public var leaves: [Leaf] {
        var out: [Leaf] = []
        func walk(_ n: DecisionNode, _ prefix: [String]) {
            for a in n.answers {
                if case .next(let next) = a.outcome { walk(next, prefix + [a.answer]) } else {
                    out.append(Leaf(answers: prefix + [a.answer], outcome: a.outcome))
                }
            }
        }
        if let decisionPath { walk(decisionPath, []) }
        return out
    }

    /// Labels some leaf of the decision path leads to.
    public var reachableLabels: Set<String> {
        Set(leaves.compactMap { if case .label(let l) = $0.outcome { l } else { nil } })
    }
}
