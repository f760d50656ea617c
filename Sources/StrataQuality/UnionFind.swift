/// Disjoint sets over 0..<count: union by size, path halving. A value type; copies are independent.
public struct UnionFind: Sendable {
    private var parent: [Int]
    private var size: [Int]

    public init(count: Int) {
        parent = Array(0..<max(0, count))
        size = [Int](repeating: 1, count: max(0, count))
    }

    public var count: Int { parent.count }

    /// The representative of `a`'s set.
    public mutating func find(_ a: Int) -> Int {
        var x = a
        while parent[x] != x {
            parent[x] = parent[parent[x]]
            x = parent[x]
        }
        return x
    }

    /// Merges the sets of `a` and `b`; returns false when they were already one set.
    @discardableResult
    public mutating func union(_ a: Int, _ b: Int) -> Bool {
        var ra = find(a), rb = find(b)
        if ra == rb { return false }
        if size[ra] < size[rb] { swap(&ra, &rb) }
        parent[rb] = ra
        size[ra] += size[rb]
        return true
    }

    /// All sets (singletons included), each sorted ascending, ordered by their smallest member.
    public mutating func groups() -> [[Int]] {
        var slot = [Int](repeating: -1, count: parent.count)
        var out: [[Int]] = []
        for i in 0..<parent.count {
            let r = find(i)
            if slot[r] < 0 { slot[r] = out.count; out.append([]) }
            out[slot[r]].append(i)
        }
        return out
    }
}
