import Foundation

/// Small SVG charts for the HTML report: horizontal bars, stacked bars, intervals and lines. Every chart is a
/// self-contained `<svg>` element with a `<title>`, text in the document's font, and no script.
public enum SVGChart {
    public static let palette = ["#3b6fb6", "#e07b39", "#5aa469", "#c44e52", "#8172b2", "#937860", "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd"]

    public struct Bar: Sendable {
        public var label: String
        public var value: Double
        /// Optional target drawn as a tick (coverage requirements).
        public var target: Double?
        public var color: String?
        public init(label: String, value: Double, target: Double? = nil, color: String? = nil) {
            self.label = label; self.value = value; self.target = target; self.color = color
        }
    }

    /// Horizontal bars with value labels and optional target ticks.
    public static func bars(title: String, _ bars: [Bar], unit: String = "", width: Int = 640) -> String {
        let rowH = 22, labelW = 190, top = 28
        let height = top + max(bars.count, 1) * rowH + 12
        let maxV = max(bars.map { max($0.value, $0.target ?? 0) }.max() ?? 1, 1e-9)
        let plotW = Double(width - labelW - 70)
        var s = open(title: title, width: width, height: height)
        if bars.isEmpty { s += text(x: 10, y: top + 14, "no data", cls: "muted") }
        for (i, b) in bars.enumerated() {
            let y = top + i * rowH
            let w = max(b.value / maxV * plotW, b.value > 0 ? 1 : 0)
            s += text(x: labelW - 6, y: y + 15, truncate(b.label, 30), anchor: "end")
            s += "<rect x=\"\(labelW)\" y=\"\(y + 3)\" width=\(q(w)) height=\"16\" rx=\"2\" fill=\"\(b.color ?? palette[0])\"/>"
            if let t = b.target {
                let x = Double(labelW) + t / maxV * plotW
                s += "<line x1=\(q(x)) x2=\(q(x)) y1=\"\(y)\" y2=\"\(y + rowH)\" stroke=\"#222\" stroke-width=\"2\"><title>target \(esc(format(t)))</title></line>"
            }
            s += text(x: labelW + Int(w) + 5, y: y + 15, format(b.value) + unit, cls: "value")
        }
        return s + "</svg>"
    }

    /// Horizontal stacked bars: each row splits into named parts (same order and colors in every row).
    public static func stackedBars(title: String, parts: [String], rows: [(label: String, values: [Double])], width: Int = 640) -> String {
        let rowH = 22, labelW = 190, top = 48
        let height = top + max(rows.count, 1) * rowH + 12
        let maxV = max(rows.map { $0.values.reduce(0, +) }.max() ?? 1, 1e-9)
        let plotW = Double(width - labelW - 70)
        var s = open(title: title, width: width, height: height)
        var lx = 10
        for (i, p) in parts.enumerated() {
            s += "<rect x=\"\(lx)\" y=\"26\" width=\"10\" height=\"10\" fill=\"\(palette[i % palette.count])\"/>"
            s += text(x: lx + 14, y: 35, truncate(p, 18))
            lx += 24 + min(p.count, 18) * 7
        }
        if rows.isEmpty { s += text(x: 10, y: top + 14, "no data", cls: "muted") }
        for (r, row) in rows.enumerated() {
            let y = top + r * rowH
            s += text(x: labelW - 6, y: y + 15, truncate(row.label, 30), anchor: "end")
            var x = Double(labelW)
            for (i, v) in row.values.enumerated() where v > 0 {
                let w = v / maxV * plotW
                s += "<rect x=\(q(x)) y=\"\(y + 3)\" width=\(q(w)) height=\"16\" fill=\"\(palette[i % palette.count])\"><title>\(esc(parts[safe: i] ?? "")): \(esc(format(v)))</title></rect>"
                x += w
            }
            s += text(x: Int(x) + 5, y: y + 15, format(row.values.reduce(0, +)), cls: "value")
        }
        return s + "</svg>"
    }

    public struct Interval: Sendable {
        public var label: String
        public var value: Double
        public var low: Double
        public var high: Double
        public var failing: Bool
        public init(label: String, value: Double, low: Double, high: Double, failing: Bool = false) {
            self.label = label; self.value = value; self.low = low; self.high = high; self.failing = failing
        }
    }

    /// Points with 95% interval whiskers on a 0...1 (or 0...`maxValue`) axis, with an optional threshold line.
    public static func intervals(title: String, _ items: [Interval], threshold: Double? = nil, maxValue: Double? = nil, width: Int = 640) -> String {
        let rowH = 22, labelW = 190, top = 40
        let height = top + max(items.count, 1) * rowH + 16
        let maxV = maxValue ?? min(1, max((items.map(\.high).max() ?? 0.1) * 1.1, threshold.map { $0 * 1.2 } ?? 0, 0.05))
        let plotW = Double(width - labelW - 70)
        func x(_ v: Double) -> Double { Double(labelW) + min(v, maxV) / maxV * plotW }
        var s = open(title: title, width: width, height: height)
        for t in stride(from: 0.0, through: maxV + 1e-9, by: maxV / 4) {
            s += "<line x1=\(q(x(t))) x2=\(q(x(t))) y1=\"\(top - 4)\" y2=\"\(height - 14)\" stroke=\"#e3e3e3\"/>"
            s += text(x: Int(x(t)), y: top - 8, String(format: "%.0f%%", t * 100), anchor: "middle", cls: "muted")
        }
        if let t = threshold {
            s += "<line x1=\(q(x(t))) x2=\(q(x(t))) y1=\"\(top - 4)\" y2=\"\(height - 14)\" stroke=\"#c44e52\" stroke-dasharray=\"4 3\"><title>threshold \(esc(format(t)))</title></line>"
        }
        if items.isEmpty { s += text(x: 10, y: top + 14, "no data", cls: "muted") }
        for (i, it) in items.enumerated() {
            let y = Double(top + i * rowH) + 11
            let color = it.failing ? "#c44e52" : palette[0]
            s += text(x: labelW - 6, y: Int(y) + 4, truncate(it.label, 30), anchor: "end")
            s += "<line x1=\(q(x(it.low))) x2=\(q(x(it.high))) y1=\(q(y)) y2=\(q(y)) stroke=\"\(color)\" stroke-width=\"2\"/>"
            s += "<circle cx=\(q(x(it.value))) cy=\(q(y)) r=\"4\" fill=\"\(color)\"><title>\(esc(String(format: "%.1f%% (95%% CI %.1f%%-%.1f%%)", it.value * 100, it.low * 100, it.high * 100)))</title></circle>"
            s += text(x: Int(x(it.high)) + 6, y: Int(y) + 4, String(format: "%.1f%%", it.value * 100), cls: "value")
        }
        return s + "</svg>"
    }

    /// Lines over ordered x labels (one series per name).
    public static func lines(title: String, xLabels: [String], series: [(name: String, values: [Double])], width: Int = 640, height: Int = 220) -> String {
        let left = 50, right = 20, top = 40, bottom = 40
        let maxV = max(series.flatMap(\.values).max() ?? 1, 1e-9)
        let plotW = Double(width - left - right), plotH = Double(height - top - bottom)
        func px(_ i: Int) -> Double { Double(left) + (xLabels.count > 1 ? Double(i) / Double(xLabels.count - 1) * plotW : plotW / 2) }
        func py(_ v: Double) -> Double { Double(top) + plotH - v / maxV * plotH }
        var s = open(title: title, width: width, height: height)
        s += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\(q(py(0))) y2=\(q(py(0))) stroke=\"#999\"/>"
        s += text(x: left - 6, y: Int(py(maxV)) + 4, format(maxV), anchor: "end", cls: "muted")
        s += text(x: left - 6, y: Int(py(0)) + 4, "0", anchor: "end", cls: "muted")
        for (i, l) in xLabels.enumerated() { s += text(x: Int(px(i)), y: height - bottom + 16, truncate(l, 12), anchor: "middle", cls: "muted") }
        var lx = left
        for (k, line) in series.enumerated() {
            let color = palette[k % palette.count]
            let points = line.values.enumerated().map { "\(String(format: "%.1f", px($0.offset))),\(String(format: "%.1f", py($0.element)))" }
            s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>"
            for (i, v) in line.values.enumerated() {
                s += "<circle cx=\(q(px(i))) cy=\(q(py(v))) r=\"3\" fill=\"\(color)\"><title>\(esc(line.name)) \(esc(xLabels[safe: i] ?? "")): \(esc(format(v)))</title></circle>"
            }
            s += "<rect x=\"\(lx)\" y=\"\(height - 14)\" width=\"10\" height=\"10\" fill=\"\(color)\"/>"
            s += text(x: lx + 14, y: height - 5, truncate(line.name, 20))
            lx += 30 + min(line.name.count, 20) * 7
        }
        if xLabels.isEmpty { s += text(x: left, y: top + 20, "no data", cls: "muted") }
        return s + "</svg>"
    }

    // MARK: helpers

    static func open(title: String, width: Int, height: Int) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"\(esc(title))\"><title>\(esc(title))</title>"
            + text(x: 10, y: 18, title, cls: "chart-title")
    }

    static func text(x: Int, y: Int, _ t: String, anchor: String = "start", cls: String = "") -> String {
        "<text x=\"\(x)\" y=\"\(y)\" text-anchor=\"\(anchor)\"\(cls.isEmpty ? "" : " class=\"\(cls)\"")>\(esc(t))</text>"
    }

    static func q(_ v: Double) -> String { "\"" + String(format: "%.1f", v.isFinite ? v : 0) + "\"" }

    public static func format(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e12 { return String(Int(v)) }
        return abs(v) >= 10 ? String(format: "%.1f", v) : String(format: "%.3g", v)
    }

    static func truncate(_ s: String, _ n: Int) -> String { s.count > n ? String(s.prefix(n - 1)) + "…" : s }

    /// Escapes text for XML/HTML content and attributes.
    public static func esc(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                if c.value < 0x20 && c != "\n" && c != "\t" { continue }
                out.unicodeScalars.append(c)
            }
        }
        return out
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
