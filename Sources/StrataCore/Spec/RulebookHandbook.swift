/// The tasker handbook: the rulebook rendered as Markdown and as a self-contained HTML page. Pure.
public enum RulebookHandbook {
    /// What the renderer knows besides the rulebook.
    public struct Context: Sendable {
        public var project: String
        /// `r3 (1f2e...)`, or nil when the version is not recorded.
        public var version: String?
        /// Text of `sample:` examples that are text samples, by reference.
        public var sampleText: [String: String]
        public init(project: String, version: String?, sampleText: [String: String] = [:]) {
            self.project = project; self.version = version; self.sampleText = sampleText
        }
    }

    // MARK: Markdown

    public static func markdown(_ spec: RulebookSpec, _ ctx: Context) -> String {
        var o: [String] = []
        o.append("# Labeling handbook: \(ctx.project)")
        o.append("")
        o.append("Rulebook \(ctx.version ?? "(not recorded yet)"). Each sample gets \(spec.annotatorsPerSample) annotator(s)"
                 + (spec.goldRate > 0 ? "; about \(percent(spec.goldRate)) of samples are gold samples with a known answer" : "")
                 + "; samples with agreement below \(percent(spec.agreementThreshold)) go to a reviewer.")
        o.append("")
        o.append("## Labels")
        o.append("")
        for l in spec.labels { o.append("- [`\(l.name)`](#label-\(anchor(l.name))): \(oneLine(l.definition))") }
        if let path = spec.decisionPath {
            o.append("")
            o.append("## Decision path")
            o.append("")
            o.append("Answer the questions in order; the answers lead to a label, a skip or an escalation.")
            o.append("")
            func walk(_ n: RulebookSpec.DecisionNode, _ depth: Int) {
                let pad = String(repeating: "  ", count: depth)
                o.append("\(pad)- **\(md(n.question))**")
                for a in n.answers {
                    switch a.outcome {
                    case .label(let l): o.append("\(pad)  - \(md(a.answer)) → label `\(l)`")
                    case .skip(let r): o.append("\(pad)  - \(md(a.answer)) → skip (\(md(r)))")
                    case .escalate(let r): o.append("\(pad)  - \(md(a.answer)) → mark unclear and escalate (\(md(r)))")
                    case .next(let next):
                        o.append("\(pad)  - \(md(a.answer)) →")
                        walk(next, depth + 2)
                    }
                }
            }
            walk(path, 0)
        }
        for l in spec.labels {
            o.append("")
            o.append("## <a id=\"label-\(anchor(l.name))\"></a>`\(l.name)`")
            o.append("")
            o.append(md(l.definition))
            if !l.signs.isEmpty {
                o.append("")
                o.append("**Signs**")
                o.append("")
                for s in l.signs { o.append("- \(md(s))") }
            }
            for (title, examples) in [("Fits", l.fits), ("Does not fit", l.notFits)] where !examples.isEmpty {
                o.append("")
                o.append("**\(title)**")
                o.append("")
                for e in examples { o.append("- \(exampleMarkdown(e, ctx)) — \(md(e.why))") }
            }
        }
        o.append("")
        o.append("## Policies")
        o.append("")
        o.append("- **Unclear** (you cannot decide): \(action(spec.policies.unclear.action))" + (spec.policies.unclear.note.map { ". \(md($0))" } ?? ""))
        o.append("- **No label fits**: \(action(spec.policies.noFit.action))" + (spec.policies.noFit.note.map { ". \(md($0))" } ?? ""))
        for d in spec.policies.doNotLabel { o.append("- **Do not label** \(md(d.what)): \(action(d.action))") }
        o.append("")
        return o.joined(separator: "\n")
    }

    static func exampleMarkdown(_ e: RulebookSpec.Example, _ ctx: Context) -> String {
        switch e.content {
        case .text(let t): return "“\(md(oneLine(t)))”"
        case .sample(let s):
            if let t = ctx.sampleText[s] { return "sample `\(s)`: “\(md(oneLine(t)))”" }
            return "sample `\(s)`"
        }
    }

    // MARK: HTML

    public static func html(_ spec: RulebookSpec, _ ctx: Context) -> String {
        var o: [String] = []
        o.append("""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Labeling handbook: \(h(ctx.project))</title>
            <style>
            body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1d232a}
            h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #d8dee4;padding-bottom:.2rem}
            code{background:#f2f4f6;padding:0 .25rem;border-radius:3px}
            .meta{color:#57606a}.label{border:1px solid #d8dee4;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}
            .fits li::marker{content:"✓ ";color:#1a7f37}.notfits li::marker{content:"✗ ";color:#cf222e}
            .why{color:#57606a}.q{font-weight:600}ul.path{list-style:none;padding-left:1rem}ul.path ul{list-style:none;border-left:2px solid #d8dee4;padding-left:1rem}
            .outcome{font-weight:600}
            </style></head><body>
            <h1>Labeling handbook: \(h(ctx.project))</h1>
            """)
        o.append("<p class=\"meta\">Rulebook \(h(ctx.version ?? "(not recorded yet)")). Each sample gets \(spec.annotatorsPerSample) annotator(s)"
                 + (spec.goldRate > 0 ? "; about \(percent(spec.goldRate)) of samples are gold samples with a known answer" : "")
                 + "; samples with agreement below \(percent(spec.agreementThreshold)) go to a reviewer.</p>")
        o.append("<h2>Labels</h2><ul>")
        for l in spec.labels { o.append("<li><a href=\"#label-\(anchor(l.name))\"><code>\(h(l.name))</code></a>: \(h(oneLine(l.definition)))</li>") }
        o.append("</ul>")
        if let path = spec.decisionPath {
            o.append("<h2>Decision path</h2><p>Answer the questions in order; the answers lead to a label, a skip or an escalation.</p><ul class=\"path\">")
            func walk(_ n: RulebookSpec.DecisionNode) {
                o.append("<li><span class=\"q\">\(h(n.question))</span><ul>")
                for a in n.answers {
                    switch a.outcome {
                    case .label(let l): o.append("<li>\(h(a.answer)) → <span class=\"outcome\">label <a href=\"#label-\(anchor(l))\"><code>\(h(l))</code></a></span></li>")
                    case .skip(let r): o.append("<li>\(h(a.answer)) → <span class=\"outcome\">skip</span> (\(h(r)))</li>")
                    case .escalate(let r): o.append("<li>\(h(a.answer)) → <span class=\"outcome\">mark unclear and escalate</span> (\(h(r)))</li>")
                    case .next(let next):
                        o.append("<li>\(h(a.answer)) →<ul>")
                        walk(next)
                        o.append("</ul></li>")
                    }
                }
                o.append("</ul></li>")
            }
            walk(path)
            o.append("</ul>")
        }
        for l in spec.labels {
            o.append("<section class=\"label\" id=\"label-\(anchor(l.name))\"><h2><code>\(h(l.name))</code></h2><p>\(h(l.definition))</p>")
            if !l.signs.isEmpty { o.append("<p><strong>Signs</strong></p><ul>" + l.signs.map { "<li>\(h($0))</li>" }.joined() + "</ul>") }
            for (title, cls, examples) in [("Fits", "fits", l.fits), ("Does not fit", "notfits", l.notFits)] where !examples.isEmpty {
                o.append("<p><strong>\(title)</strong></p><ul class=\"\(cls)\">")
                for e in examples {
                    let content: String = switch e.content {
                    case .text(let t): "“\(h(t))”"
                    case .sample(let s): "sample <code>\(h(s))</code>" + (ctx.sampleText[s].map { ": “\(h($0))”" } ?? "")
                    }
                    o.append("<li>\(content) <span class=\"why\">— \(h(e.why))</span></li>")
                }
                o.append("</ul>")
            }
            o.append("</section>")
        }
        o.append("<h2>Policies</h2><ul>")
        o.append("<li><strong>Unclear</strong> (you cannot decide): \(h(action(spec.policies.unclear.action)))" + (spec.policies.unclear.note.map { ". \(h($0))" } ?? "") + "</li>")
        o.append("<li><strong>No label fits</strong>: \(h(action(spec.policies.noFit.action)))" + (spec.policies.noFit.note.map { ". \(h($0))" } ?? "") + "</li>")
        for d in spec.policies.doNotLabel { o.append("<li><strong>Do not label</strong> \(h(d.what)): \(h(action(d.action)))</li>") }
        o.append("</ul></body></html>")
        return o.joined(separator: "\n") + "\n"
    }

    // MARK: helpers

    static func action(_ a: RulebookSpec.Action) -> String {
        switch a {
        case .skip: "skip the sample and give the reason"
        case .escalate: "mark it unclear with a reason; a reviewer decides"
        case .flag: "flag it (skip with the reason) and do not label it"
        }
    }

    static func percent(_ x: Double) -> String {
        let p = x * 100
        return p == p.rounded() ? "\(Int(p))%" : "\((p * 10).rounded() / 10)%"
    }

    static func oneLine(_ s: String) -> String {
        s.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }

    /// HTML-escapes text.
    public static func h(_ s: String) -> String {
        var o = ""
        o.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"": o += "&quot;"
            case "'": o += "&#39;"
            default: o.append(c)
            }
        }
        return o
    }

    /// Escapes Markdown's inline markup characters.
    static func md(_ s: String) -> String {
        var o = ""
        for c in s {
            if "\\`*_[]<>#|".contains(c) { o.append("\\") }
            o.append(c)
        }
        return o
    }

    static func anchor(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
    }
}
