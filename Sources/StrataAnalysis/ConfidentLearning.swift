import Foundation

/// Confident learning (Northcutt, Jiang and Chuang, "Confident Learning: Estimating Uncertainty in Dataset Labels",
/// JAIR 2021) on out-of-sample predicted probabilities.
///
/// The steps and their defaults follow `cleanlab.filter.find_label_issues` (filter_by `prune_by_noise_rate`,
/// frac_noise 1, min_examples_per_class 1, calibrated confident joint), so the flagged set is the same on the same
/// inputs; only the work is organized differently (samples are grouped by given label once, and each pruning step
/// selects its top margins in linear time over that group instead of over every sample).
public enum ConfidentLearning {
    /// Predicted probabilities and given labels for `count` samples over `classes` classes.
    public struct Input: Sendable {
        /// Row-major, `count * classes` values; each row sums to 1.
        public var probs: [Double]
        /// The given (possibly noisy) label of each sample, in 0..<classes.
        public var labels: [Int32]
        public var classes: Int
        public var count: Int { labels.count }

        public init(probs: [Double], labels: [Int32], classes: Int) {
            precondition(classes > 0 && probs.count == labels.count * classes, "probs must hold labels.count * classes values")
            self.probs = probs
            self.labels = labels
            self.classes = classes
        }
    }

    public struct Result: Sendable {
        /// Per class: the mean predicted probability of the class over the samples given that label (2 for a class
        /// no sample has, so nothing is ever confidently counted in it).
        public var thresholds: [Double]
        /// `confidentJoint[given][true]`, calibrated to the label counts and rounded preserving row totals.
        public var confidentJoint: [[Int]]
        /// Flagged samples, most likely errors first (lowest self-confidence: the probability of the given label).
        public var ranked: [Int]
        /// The model's most likely class per flagged sample (same order as `ranked`).
        public var suggested: [Int]
        /// Self-confidence of each flagged sample (same order as `ranked`).
        public var selfConfidence: [Double]
    }

    static let clippingLowerBound = 2e-6
    static let absentClassThreshold = 2.0

    /// Splits 0..<n into `parts` contiguous ranges.
    static func chunks(_ n: Int, _ parts: Int) -> [Range<Int>] {
        let p = max(1, min(parts, n / 50_000 + 1))
        return (0..<p).map { i in (n * i / p)..<(n * (i + 1) / p) }
    }

    public static var defaultThreads: Int { max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8)) }

    /// Per-class thresholds: mean self-confidence of the samples given each label.
    public static func thresholds(_ input: Input, threads: Int = defaultThreads) -> [Double] {
        let k = input.classes
        let parts = chunks(input.count, threads)
        var sums = [[Double]](repeating: [], count: parts.count), counts = [[Int]](repeating: [], count: parts.count)
        input.probs.withUnsafeBufferPointer { p in
            input.labels.withUnsafeBufferPointer { labels in
                sums.withUnsafeMutableBufferPointer { sumsOut in
                    counts.withUnsafeMutableBufferPointer { countsOut in
                        nonisolated(unsafe) let p = p, labels = labels, sumsOut = sumsOut, countsOut = countsOut
                        DispatchQueue.concurrentPerform(iterations: parts.count) { part in
                            var s = [Double](repeating: 0, count: k), c = [Int](repeating: 0, count: k)
                            for i in parts[part] {
                                let l = Int(labels[i])
                                s[l] += p[i * k + l]
                                c[l] += 1
                            }
                            sumsOut[part] = s
                            countsOut[part] = c
                        }
                    }
                }
            }
        }
        return (0..<k).map { c in
            let n = counts.reduce(0) { $0 + $1[c] }, sum = sums.reduce(0.0) { $0 + $1[c] }
            return n > 0 ? max(sum / Double(n), clippingLowerBound) : absentClassThreshold
        }
    }

    /// The confident joint: for each sample, the class whose probability reaches its threshold (the most likely one
    /// when several do) is counted against the given label; every class keeps at least one on the diagonal.
    public static func confidentJoint(_ input: Input, thresholds t: [Double], calibrate: Bool = true, threads: Int = defaultThreads) -> [[Int]] {
        let k = input.classes
        let parts = chunks(input.count, threads)
        var partial = [[Int]](repeating: [], count: parts.count)
        let cut = t.map { $0 - 1e-6 }
        input.probs.withUnsafeBufferPointer { p in
            input.labels.withUnsafeBufferPointer { labels in
                cut.withUnsafeBufferPointer { cut in
                    partial.withUnsafeMutableBufferPointer { out in
                        nonisolated(unsafe) let p = p, labels = labels, cut = cut, out = out
                        DispatchQueue.concurrentPerform(iterations: parts.count) { part in
                            var local = [Int](repeating: 0, count: k * k)
                            for i in parts[part] {
                                let row = i * k
                                var confident = 0, firstConfident = k, argmax = 0, best = p[row]
                                for c in 0..<k {
                                    let v = p[row &+ c]
                                    let isConfident = v >= cut[c]
                                    confident &+= isConfident ? 1 : 0
                                    firstConfident = isConfident && firstConfident == k ? c : firstConfident
                                    argmax = v > best ? c : argmax
                                    best = v > best ? v : best
                                }
                                if confident == 0 { continue }
                                local[Int(labels[i]) &* k &+ (confident > 1 ? argmax : firstConfident)] &+= 1
                            }
                            out[part] = local
                        }
                    }
                }
            }
        }
        var cj = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for local in partial { for r in 0..<k { for c in 0..<k { cj[r][c] += local[r * k + c] } } }
        for c in 0..<k where cj[c][c] < 1 { cj[c][c] = 1 }
        guard calibrate else { return cj }
        var counts = [Int](repeating: 0, count: k)
        for l in input.labels { counts[Int(l)] += 1 }
        var calibrated = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
        for r in 0..<k {
            let rowSum = max(Double(cj[r].reduce(0, +)), 1e-100)
            for c in 0..<k { calibrated[r][c] = Double(cj[r][c]) / rowSum * Double(counts[r]) }
        }
        let total = max(calibrated.reduce(0) { $0 + $1.reduce(0, +) }, 1e-100)
        let n = Double(input.count)
        for r in 0..<k { for c in 0..<k { calibrated[r][c] = calibrated[r][c] / total * n } }
        return calibrated.map(roundPreservingSum)
    }

    /// Rounds half to even, then moves the rounding error onto the entries with the largest (or smallest) rounding
    /// residue so the rounded row keeps the rounded total of the original.
    static func roundPreservingSum(_ floats: [Double]) -> [Int] {
        var ints = floats.map { $0.rounded(.toNearestOrEven) }
        let target = floats.reduce(0, +).rounded(.toNearestOrEven)
        var sum = ints.reduce(0, +).rounded(.toNearestOrEven)
        while abs(sum - target) > 1e-6 {
            let diff = (target - sum).rounded(.toNearestOrEven)
            let increment: Double = diff < 0 ? -1 : 1
            let changes = min(Int(abs(diff)), floats.count)
            // Largest residues get the increments, smallest the decrements (ties: later index first when
            // incrementing, earlier when decrementing, as a stable ascending sort read backwards or forwards).
            let ascending = floats.indices.sorted { a, b in
                let ra = floats[a] - ints[a], rb = floats[b] - ints[b]
                return ra != rb ? ra < rb : a < b
            }
            let order = increment > 0 ? Array(ascending.reversed()) : ascending
            for i in order.prefix(changes) { ints[i] += increment }
            sum = ints.reduce(0, +).rounded(.toNearestOrEven)
        }
        return ints.map { Int($0) }
    }

    /// Finds likely label errors: for each given label k and other class j, the `confidentJoint[k][j]` samples given
    /// k with the largest margin p(j) - p(k) are flagged ("prune by noise rate"); samples whose most likely class is
    /// their given label are never flagged.
    ///
    /// Up to `maxHistogramClasses` classes this runs the histogram method (`findLabelIssuesHistogram`): three
    /// parallel passes over the matrix and no per-label sorting or selection over whole groups. Above it (the margin
    /// histograms would grow as classes squared), the grouped method (`findLabelIssuesGrouped`). Both flag the
    /// same samples, ties included (a test checks it).
    public static func findLabelIssues(_ input: Input, minExamplesPerClass: Int = 1, threads: Int = defaultThreads) -> Result {
        input.classes <= maxHistogramClasses
            ? findLabelIssuesHistogram(input, minExamplesPerClass: minExamplesPerClass, threads: threads)
            : findLabelIssuesGrouped(input, minExamplesPerClass: minExamplesPerClass, threads: threads)
    }

    static let maxHistogramClasses = 64

    /// The grouped method: samples grouped by given label (counting sort), then one task per label that finds each
    /// (label, other class) cut by a min-heap or quickselect over the label's margins.
    static func findLabelIssuesGrouped(_ input: Input, minExamplesPerClass: Int = 1, threads: Int = defaultThreads) -> Result {
        let k = input.classes, n = input.count
        let t = thresholds(input, threads: threads)
        let cj = confidentJoint(input, thresholds: t, threads: threads)
        // Group sample indices by given label (counting sort).
        var counts = [Int](repeating: 0, count: k)
        for l in input.labels { counts[Int(l)] += 1 }
        var start = [Int](repeating: 0, count: k + 1)
        for c in 0..<k { start[c + 1] = start[c] + counts[c] }
        var members = [Int32](repeating: 0, count: n)
        var fill = start
        for (i, l) in input.labels.enumerated() { members[fill[Int(l)]] = Int32(i); fill[Int(l)] += 1 }

        var flagged = [Bool](repeating: false, count: n)
        let pruneCounts = keepAtLeast(cj, n: minExamplesPerClass)
        // Each given label is pruned independently and touches only its own samples: one task per label.
        input.probs.withUnsafeBufferPointer { p in
            members.withUnsafeBufferPointer { members in
                flagged.withUnsafeMutableBufferPointer { flagged in
                    let order = (0..<k).sorted { counts[$0] > counts[$1] }
                    nonisolated(unsafe) let p = p, members = members, flagged = flagged
                    let counts = counts, start = start
                    DispatchQueue.concurrentPerform(iterations: k) { slot in
                        let given = order[slot]
                        guard counts[given] > minExamplesPerClass else { return }
                        let group = UnsafeBufferPointer(rebasing: members[start[given]..<start[given + 1]])
                        let m = group.count
                        // The group's rows, contiguous; margins and a scratch copy for the selection.
                        let rows = UnsafeMutableBufferPointer<Double>.allocate(capacity: m * k)
                        let margins = UnsafeMutableBufferPointer<Double>.allocate(capacity: m)
                        let scratch = UnsafeMutableBufferPointer<Double>.allocate(capacity: m)
                        defer { rows.deallocate(); margins.deallocate(); scratch.deallocate() }
                        for r in 0..<m {
                            let src = Int(group[r]) * k, dst = r * k
                            for c in 0..<k { rows[dst + c] = p[src + c] }
                        }
                        for other in 0..<k where other != given {
                            let prune = pruneCounts[given][other]
                            if prune <= 0 { continue }
                            let cut = min(prune, m)
                            let threshold: Double
                            if cut * 8 <= m {
                                // Few to flag: one pass keeping the cut largest margins in a min-heap.
                                threshold = topK(rows: rows, m: m, k: k, other: other, given: given, cut: cut, heap: scratch, margins: margins)
                            } else {
                                for r in 0..<m {
                                    let v = rows[r * k + other] - rows[r * k + given]
                                    margins[r] = v
                                    scratch[r] = v
                                }
                                threshold = kthLargest(UnsafeMutableBufferPointer(rebasing: scratch[0..<m]), cut)
                            }
                            // Flag everything above the cut-th largest margin, then enough of the ties at it.
                            var above = 0, tieCount = 0
                            for r in 0..<m {
                                let v = margins[r]
                                if v > threshold { flagged[Int(group[r])] = true; above += 1 }
                                else if v == threshold { scratch[tieCount] = Double(r); tieCount += 1 }
                            }
                            for t in 0..<min(max(cut - above, 0), tieCount) { flagged[Int(group[Int(scratch[t])])] = true }
                        }
                    }
                }
            }
        }
        var ranked: [Int] = [], suggested: [Int] = [], confidence: [Double] = []
        input.probs.withUnsafeBufferPointer { p in
            for i in 0..<n where flagged[i] {
                let r = i * k
                let given = Int(input.labels[i])
                // Not an issue when the given label is (within 1e-6 of) the most likely class.
                let boosted = p[r + given] + 1e-6
                var keep = false, argmax = 0
                for c in 0..<k {
                    if p[r + c] > p[r + argmax] { argmax = c }
                    if c != given && (p[r + c] > boosted || (p[r + c] == boosted && c < given)) { keep = true }
                }
                if !keep { continue }
                ranked.append(i)
                suggested.append(argmax)
                confidence.append(p[r + given])
            }
        }
        let order = ranked.indices.sorted { confidence[$0] < confidence[$1] || (confidence[$0] == confidence[$1] && ranked[$0] < ranked[$1]) }
        return Result(thresholds: t, confidentJoint: cj, ranked: order.map { ranked[$0] },
                      suggested: order.map { suggested[$0] }, selfConfidence: order.map { confidence[$0] })
    }

    /// The histogram method, for up to `maxHistogramClasses` classes.
    ///
    /// 1. One parallel pass: per given label, the sum of self-confidence (for the thresholds) and, per (given, other)
    ///    pair, a histogram of the margins p(other) - p(given) in `buckets` equal buckets over [-1, 1].
    /// 2. The confident joint (one parallel pass) and the prune counts.
    /// 3. From each pair's histogram, the bucket holding its cut-th largest margin: samples in higher buckets are
    ///    flagged outright; samples in that bucket are candidates (a few hundred), resolved exactly afterwards
    ///    (selection of the cut-th largest margin among them, ties in sample order, as the grouped method does).
    ///    One parallel pass flags and collects the candidates.
    /// 4. The flagged samples are ranked by self-confidence with a stable radix sort (their indices ascending within
    ///    a tie), instead of sorting all samples.
    static func findLabelIssuesHistogram(_ input: Input, minExamplesPerClass: Int = 1, threads: Int = defaultThreads) -> Result {
        let k = input.classes, n = input.count, kk = k * k
        let buckets = histogramBuckets(classes: k)
        let parts = chunks(n, threads * 2)
        let span = kk * buckets
        var sums = [Double](repeating: 0, count: parts.count * k)
        var labelCounts = [Int](repeating: 0, count: parts.count * k)
        let hist = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: parts.count * span)
        defer { hist.deallocate() }
        // Pass 1: sums and counts per given label, margin histograms per (given, other).
        input.probs.withUnsafeBufferPointer { p in
            input.labels.withUnsafeBufferPointer { labels in
                sums.withUnsafeMutableBufferPointer { sumsOut in
                    labelCounts.withUnsafeMutableBufferPointer { countsOut in
                        nonisolated(unsafe) let p = p, labels = labels, sumsOut = sumsOut, countsOut = countsOut, hist = hist
                        DispatchQueue.concurrentPerform(iterations: parts.count) { part in
                            let h = hist.baseAddress! + part * span
                            h.initialize(repeating: 0, count: span)
                            let s = sumsOut.baseAddress! + part * k, c = countsOut.baseAddress! + part * k
                            for i in parts[part] {
                                let g = Int(labels[i]), row = i &* k
                                let pg = p[row &+ g]
                                s[g] += pg
                                c[g] &+= 1
                                let base = h + g &* k &* buckets
                                for j in 0..<k { base[j &* buckets &+ bucket(p[row &+ j] - pg, buckets)] &+= 1 }
                            }
                        }
                    }
                }
            }
        }
        var counts = [Int](repeating: 0, count: k), total = [Double](repeating: 0, count: k)
        for part in 0..<parts.count { for c in 0..<k { counts[c] += labelCounts[part * k + c]; total[c] += sums[part * k + c] } }
        let t = (0..<k).map { c in counts[c] > 0 ? max(total[c] / Double(counts[c]), clippingLowerBound) : absentClassThreshold }
        for part in 1..<max(parts.count, 1) {
            let h = hist.baseAddress! + part * span
            for x in 0..<span { hist[x] &+= h[x] }
        }
        // Pass 2: the confident joint, then each pair's cut bucket.
        let cj = confidentJoint(input, thresholds: t, threads: threads)
        let pruneCounts = keepAtLeast(cj, n: minExamplesPerClass)
        var flagFrom = [Int](repeating: Int.max, count: kk)  // flag outright when the bucket is at least this
        var candidateBucket = [Int](repeating: -1, count: kk) // collect when the bucket is this
        var need = [Int](repeating: 0, count: kk)             // how many candidates of the pair to flag
        for g in 0..<k where counts[g] > minExamplesPerClass {
            for j in 0..<k where j != g && pruneCounts[g][j] > 0 {
                let cut = min(pruneCounts[g][j], counts[g]), h = hist.baseAddress! + (g * k + j) * buckets
                var above = 0, b = buckets - 1
                while b > 0 && above + Int(h[b]) < cut { above += Int(h[b]); b -= 1 }
                if cut - above >= Int(h[b]) { flagFrom[g * k + j] = b } else {
                    flagFrom[g * k + j] = b + 1
                    candidateBucket[g * k + j] = b
                    need[g * k + j] = cut - above
                }
            }
        }
        // Pass 3: flags (bit 0: flagged, bit 1: an issue if flagged, i.e. the given label is not the most likely),
        // the issues flagged outright and each pair's candidates, per part in sample order; each part then ranks
        // its issues by self-confidence.
        var flags = [UInt8](repeating: 0, count: n)
        var candidates = [[[Candidate]]](repeating: [[Candidate]](repeating: [], count: kk), count: parts.count)
        var collected = [[Flagged]](repeating: [], count: parts.count)
        input.probs.withUnsafeBufferPointer { p in
            input.labels.withUnsafeBufferPointer { labels in
                flags.withUnsafeMutableBufferPointer { flags in
                    candidates.withUnsafeMutableBufferPointer { candidatesOut in
                        collected.withUnsafeMutableBufferPointer { collectedOut in
                            flagFrom.withUnsafeBufferPointer { flagFrom in
                                candidateBucket.withUnsafeBufferPointer { candidateBucket in
                                    nonisolated(unsafe) let p = p, labels = labels, flags = flags, candidatesOut = candidatesOut
                                    nonisolated(unsafe) let collectedOut = collectedOut, flagFrom = flagFrom, candidateBucket = candidateBucket
                                    DispatchQueue.concurrentPerform(iterations: parts.count) { part in
                                        var local = [[Candidate]](repeating: [], count: kk)
                                        var issues: [Flagged] = []
                                        for i in parts[part] {
                                            let g = Int(labels[i]), row = i &* k, pair = g &* k
                                            let pg = p[row &+ g], boosted = pg + 1e-6
                                            var issue: UInt8 = 0, flag: UInt8 = 0
                                            for j in 0..<k where j != g {
                                                let v = p[row &+ j]
                                                issue |= (v > boosted ? 1 : 0) | (v == boosted && j < g ? 1 : 0)
                                                let margin = v - pg, b = bucket(margin, buckets)
                                                flag |= b >= flagFrom[pair &+ j] ? 1 : 0
                                                if b == candidateBucket[pair &+ j] {
                                                    local[pair &+ j].append(Candidate(index: Int32(truncatingIfNeeded: i), margin: margin))
                                                }
                                            }
                                            flags[i] = issue &* (2 | flag)
                                            if issue & flag != 0 { issues.append(flagged(p, i, k, pg)) }
                                        }
                                        radixSortStable(&issues)
                                        candidatesOut[part] = local
                                        collectedOut[part] = issues
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // Each pair's candidates: the need-th largest margin, everything above it, then ties in sample order.
        var extra: [Flagged] = []
        var scratch: [Double] = []
        input.probs.withUnsafeBufferPointer { p in
            for pair in 0..<kk where candidateBucket[pair] >= 0 {
                let all = candidates.flatMap { $0[pair] }
                scratch.removeAll(keepingCapacity: true)
                scratch.append(contentsOf: all.lazy.map(\.margin))
                let cutMargin = kthLargest(&scratch, need[pair])
                var remaining = need[pair]
                func take(_ c: Candidate) {
                    let i = Int(c.index)
                    remaining -= 1
                    guard flags[i] == 2 else { return }  // not an issue, or already flagged
                    flags[i] = 3
                    extra.append(flagged(p, i, k, p[i * k + pair / k]))
                }
                for c in all where c.margin > cutMargin { take(c) }
                for c in all where c.margin == cutMargin && remaining > 0 { take(c) }
            }
        }
        extra.sort { ($0.key, $0.index) < ($1.key, $1.index) }
        var ranked = extra
        for list in collected { ranked = merge(ranked, list) }
        return Result(thresholds: t, confidentJoint: cj, ranked: ranked.map { Int($0.index) },
                      suggested: ranked.map { Int($0.suggested) }, selfConfidence: ranked.map { Double(bitPattern: $0.key) })
    }

    /// A flagged sample: its self-confidence as sortable bits (non-negative doubles order as their bit patterns),
    /// its index and the model's most likely class (the first of equal maxima).
    @inline(__always)
    static func flagged(_ p: UnsafeBufferPointer<Double>, _ i: Int, _ k: Int, _ confidence: Double) -> Flagged {
        let row = i &* k
        var argmax = 0, best = p[row]
        for c in 1..<max(k, 1) { let v = p[row &+ c]; if v > best { best = v; argmax = c } }
        return Flagged(key: confidence > 0 ? confidence.bitPattern : 0, index: UInt32(truncatingIfNeeded: i), suggested: UInt32(truncatingIfNeeded: argmax))
    }

    /// Merges two lists sorted by (key, index).
    static func merge(_ a: [Flagged], _ b: [Flagged]) -> [Flagged] {
        if a.isEmpty { return b }
        if b.isEmpty { return a }
        var out: [Flagged] = []
        out.reserveCapacity(a.count + b.count)
        var i = 0, j = 0
        while i < a.count && j < b.count {
            if (b[j].key, b[j].index) < (a[i].key, a[i].index) { out.append(b[j]); j += 1 } else { out.append(a[i]); i += 1 }
        }
        out.append(contentsOf: a[i...])
        out.append(contentsOf: b[j...])
        return out
    }

    struct Candidate { var index: Int32; var margin: Double }
    struct Flagged { var key: UInt64; var index: UInt32; var suggested: UInt32 }

    /// Margin buckets per (given, other) pair: 2048 up to 16 classes, fewer above so the histograms stay near 1 MiB
    /// per part (wider buckets only mean more candidates to resolve exactly).
    static func histogramBuckets(classes k: Int) -> Int { k <= 16 ? 2048 : max(64, 1 << 18 / (k * k) * 2) }

    /// The bucket of a margin in [-1, 1]: (margin + 1) * buckets / 2 rounded to the nearest integer by the
    /// 1.5 * 2^52 trick (no branch, no conversion check), clamped to the buckets. Monotone: a larger margin never lands
    /// in a lower bucket. Out-of-range and NaN margins (invalid input) still land in a bucket.
    @inline(__always)
    static func bucket(_ margin: Double, _ buckets: Int) -> Int {
        let y = (margin + 1) * Double(buckets &>> 1) + roundingMagic
        let r = Int(truncatingIfNeeded: y.bitPattern) &- roundingMagicBits
        return min(max(r, 0), buckets &- 1)
    }

    static let roundingMagic = 6_755_399_441_055_744.0
    static let roundingMagicBits = Int(truncatingIfNeeded: roundingMagic.bitPattern)

    /// Stable least-significant-digit radix sort by `key` (11-bit digits; digits every key shares are skipped).
    static func radixSortStable(_ items: inout [Flagged]) {
        let n = items.count
        guard n > 1 else { return }
        var other = items
        let radix = 1 << 11, mask = UInt64(radix - 1)
        var count = [Int](repeating: 0, count: radix)
        var inItems = true
        for shift in stride(from: 0, to: 64, by: 11) {
            for x in 0..<radix { count[x] = 0 }
            items.withUnsafeBufferPointer { a in
                other.withUnsafeBufferPointer { b in
                    let src = inItems ? a : b
                    for it in src { count[Int((it.key >> UInt64(shift)) & mask)] += 1 }
                }
            }
            if count.contains(n) { continue }
            var sum = 0
            for x in 0..<radix { let c = count[x]; count[x] = sum; sum += c }
            items.withUnsafeMutableBufferPointer { a in
                other.withUnsafeMutableBufferPointer { b in
                    let (src, dst) = inItems ? (a, b) : (b, a)
                    for it in src {
                        let d = Int((it.key >> UInt64(shift)) & mask)
                        dst[count[d]] = it
                        count[d] += 1
                    }
                }
            }
            inItems.toggle()
        }
        if !inItems { items = other }
    }

    /// `pruneCounts[given][true]`: the confident joint with every diagonal entry raised to at least `n`, the
    /// increase taken evenly from that given label's non-zero off-diagonal entries (floored at 0), rounded
    /// preserving totals per true class.
    static func keepAtLeast(_ cj: [[Int]], n: Int) -> [[Int]] {
        let k = cj.count
        // Work on the transpose (rows = true class, columns = given label), as the reference does.
        var m = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
        for r in 0..<k { for c in 0..<k { m[r][c] = Double(cj[c][r]) } }
        let diagonal = (0..<k).map { m[$0][$0] }
        let newDiagonal = diagonal.map { max($0, Double(n)) }
        for c in 0..<k {
            let nonZero = (0..<k).filter { m[$0][c] != 0 }.count
            let per = (newDiagonal[c] - diagonal[c]) / max(Double(nonZero) - 1, 1)
            for r in 0..<k { m[r][c] = max(m[r][c] - per, 0) }
        }
        for c in 0..<k { m[c][c] = newDiagonal[c] }
        let rounded = m.map(roundPreservingSum)
        var out = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for r in 0..<k { for c in 0..<k { out[c][r] = rounded[r][c] } }
        return out
    }

    /// Writes each row's margin p(other) - p(given) to `margins` and returns the `cut`-th largest, keeping the
    /// largest ones in a min-heap of `cut` entries (in `heap`).
    @inline(__always)
    static func topK(rows: UnsafeMutableBufferPointer<Double>, m: Int, k: Int, other: Int, given: Int, cut: Int,
                     heap: UnsafeMutableBufferPointer<Double>, margins: UnsafeMutableBufferPointer<Double>) -> Double {
        var size = 0
        for r in 0..<m {
            let v = rows[r * k + other] - rows[r * k + given]
            margins[r] = v
            if size < cut {
                // Sift up.
                var i = size
                heap[i] = v
                size += 1
                while i > 0 {
                    let parent = (i - 1) / 2
                    if heap[parent] <= heap[i] { break }
                    heap.swapAt(parent, i)
                    i = parent
                }
            } else if v > heap[0] {
                // Replace the smallest and sift down.
                heap[0] = v
                var i = 0
                while true {
                    let l = 2 * i + 1, rgt = l + 1
                    var smallest = i
                    if l < size && heap[l] < heap[smallest] { smallest = l }
                    if rgt < size && heap[rgt] < heap[smallest] { smallest = rgt }
                    if smallest == i { break }
                    heap.swapAt(i, smallest)
                    i = smallest
                }
            }
        }
        return heap[0]
    }

    /// The `k`-th largest value (1-based) by quickselect; reorders `values`.
    static func kthLargest(_ values: inout [Double], _ k: Int) -> Double {
        values.withUnsafeMutableBufferPointer { kthLargest($0, k) }
    }

    /// The `k`-th largest value (1-based) by quickselect; reorders `values`.
    static func kthLargest(_ values: UnsafeMutableBufferPointer<Double>, _ k: Int) -> Double {
        var lo = 0, hi = values.count - 1
        let target = k - 1
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        while lo < hi {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let pivot = values[lo + Int((state >> 33) % UInt64(hi - lo + 1))]
            var i = lo, j = hi
            while i <= j {
                while values[i] > pivot { i += 1 }
                while values[j] < pivot { j -= 1 }
                if i <= j { values.swapAt(i, j); i += 1; j -= 1 }
            }
            if target <= j { hi = j } else if target >= i { lo = i } else { return values[target] }
        }
        return values[target]
    }
}
