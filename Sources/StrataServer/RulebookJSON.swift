import StrataCore

/// The rulebook as JSON-ready dictionaries (for `/api/rulebook`, the queue answer and the pages).
enum RulebookJSON {
    static func labels(_ r: RulebookSpec) -> [[String: Any]] {
        r.labels.enumerated().map { i, l in
            [
                "name": l.name, "definition": l.definition, "signs": l.signs, "key": i < 9 ? "\(i + 1)" : "",
                "fits": l.fits.map(example), "notFits": l.notFits.map(example),
            ]
        }
    }

    static func example(_ e: RulebookSpec.Example) -> [String: Any] {
        switch e.content {
        case .text(let t): ["text": t, "why": e.why]
        case .sample(let s): ["sample": s, "why": e.why]
        }
    }

    static func node(_ n: RulebookSpec.DecisionNode) -> [String: Any] {
        [
            "question": n.question,
            "answers": n.answers.map { a -> [String: Any] in
                var out: [String: Any] = ["answer": a.answer]
                switch a.outcome {
                case .label(let l): out["label"] = l
                case .skip(let r): out["skip"] = r
                case .escalate(let r): out["escalate"] = r
                case .next(let n): out["next"] = node(n)
                }
                return out
            },
        ]
    }

    static func policies(_ r: RulebookSpec) -> [String: Any] {
        [
            "unclear": ["action": r.policies.unclear.action.rawValue, "note": r.policies.unclear.note ?? ""],
            "noFit": ["action": r.policies.noFit.action.rawValue, "note": r.policies.noFit.note ?? ""],
            "doNotLabel": r.policies.doNotLabel.map { ["what": $0.what, "action": $0.action.rawValue] },
        ]
    }

    static func rulebook(_ r: RulebookSpec, version: String) -> [String: Any] {
        var out: [String: Any] = [
            "version": version, "labels": labels(r), "policies": policies(r),
            "annotatorsPerSample": r.annotatorsPerSample, "goldRate": r.goldRate, "agreementThreshold": r.agreementThreshold,
        ]
        if let p = r.decisionPath { out["decisionPath"] = node(p) }
        return out
    }
}
