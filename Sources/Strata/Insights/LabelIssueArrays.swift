import Foundation
import StrataAnalysis
import StrataCore

// MARK: arrays from .npy files (the benchmark's direct path)

/// Timings of a label-issue run on arrays.
public struct ArrayLabelIssues: Sendable {
    public var flagged: [Int]
    public var readSeconds: Double
    public var computeSeconds: Double
    public var samples: Int
    public var classes: Int
}

extension Workspace {
    /// Confident learning on a probabilities matrix and a label vector in NumPy `.npy` files (float64 `(n, k)` in C
    /// order; int64 or int32 `(n,)`), outside any project: what `bench/label-issues` times against cleanlab.
    public static func labelIssues(probsNpy: String, labelsNpy: String) throws -> ArrayLabelIssues {
        let t0 = Date()
        let (probs, shape) = try NPY.readFloat64(probsNpy)
        let (labels, lshape) = try NPY.readLabels(labelsNpy)
        guard shape.count == 2, lshape.count == 1, lshape[0] == shape[0] else {
            throw StrataError.usage("\(probsNpy) has shape \(shape) and \(labelsNpy) \(lshape)", fix: "give probabilities of shape (n, k) and labels of shape (n,)")
        }
        let k = shape[1]
        if let bad = labels.first(where: { $0 < 0 || Int($0) >= k }) {
            throw StrataError.usage("\(labelsNpy): label \(bad) is outside 0..<\(k)")
        }
        let t1 = Date()
        let r = ConfidentLearning.findLabelIssues(.init(probs: probs, labels: labels, classes: k))
        let t2 = Date()
        return ArrayLabelIssues(flagged: r.ranked.sorted(), readSeconds: t1.timeIntervalSince(t0), computeSeconds: t2.timeIntervalSince(t1),
                                samples: shape[0], classes: k)
    }
}

/// A reader for NumPy's `.npy` format (version 1-3 headers), little-endian and C order only.
enum NPY {
    static func readFloat64(_ path: String) throws -> ([Double], [Int]) {
        let (descr, shape, offset) = try header(path)
        guard descr == "<f8" else { throw StrataError.usage("\(path) holds \(descr), not float64 (<f8)", fix: "save probabilities as float64") }
        let n = shape.reduce(1, *)
        let out = try [Double](unsafeUninitializedCapacity: n) { buffer, count in
            try readBody(path, offset: offset, into: UnsafeMutableRawBufferPointer(buffer))
            count = n
        }
        return (out, shape)
    }

    /// Reads the body of a .npy file straight into `buffer` (one open, large reads, no intermediate copy).
    static func readBody(_ path: String, offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw StrataError.usage("cannot open \(path)") }
        defer { close(fd) }
        var done = 0
        while done < buffer.count {
            let got = pread(fd, buffer.baseAddress! + done, min(buffer.count - done, 1 << 26), off_t(offset + done))
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { throw StrataError.usage("\(path) is truncated") }
            done += got
        }
    }

    /// The dtype, shape and body offset from a .npy header.
    static func header(_ path: String) throws -> (String, [Int], Int) {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StrataError.usage("cannot read \(path)") }
        defer { try? handle.close() }
        let head = handle.readData(ofLength: 65_536)
        let (descr, shape, start) = try parseHeader(head, path: path)
        return (descr, shape, start)
    }

    static func parseHeader(_ data: Data, path: String) throws -> (String, [Int], Int) {
        guard data.count >= 10, data.prefix(6) == Data([0x93]) + Data("NUMPY".utf8) else {
            throw StrataError.usage("\(path) is not a .npy file", fix: "write it with numpy.save")
        }
        let b = [UInt8](data.prefix(12))
        let headerLen: Int, start: Int
        if b[6] == 1 { headerLen = Int(b[8]) | Int(b[9]) << 8; start = 10 } else {
            headerLen = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24; start = 12
        }
        guard data.count >= start + headerLen else { throw StrataError.usage("\(path): the .npy header is too long") }
        let header = String(decoding: data[data.startIndex + start..<data.startIndex + start + headerLen], as: UTF8.self)
        guard !header.contains("'fortran_order': True") else { throw StrataError.usage("\(path) is in Fortran order", fix: "save a C-ordered array (numpy.ascontiguousarray)") }
        func field(_ name: String) -> String? {
            guard let r = header.range(of: "'\(name)': ") else { return nil }
            let rest = header[r.upperBound...]
            if rest.hasPrefix("'") { return String(rest.dropFirst().prefix { $0 != "'" }) }
            if rest.hasPrefix("(") { return String(rest.dropFirst().prefix { $0 != ")" }) }
            return nil
        }
        guard let descr = field("descr"), let shapeText = field("shape") else { throw StrataError.usage("\(path): cannot read the .npy header") }
        let shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        return (descr, shape, start + headerLen)
    }

    static func readLabels(_ path: String) throws -> ([Int32], [Int]) {
        let (descr, shape, offset) = try header(path)
        let n = shape.reduce(1, *)
        switch descr {
        case "<i8":
            let wide = try [Int64](unsafeUninitializedCapacity: n) { buffer, count in
                try readBody(path, offset: offset, into: UnsafeMutableRawBufferPointer(buffer)); count = n
            }
            return (wide.map { Int32(truncatingIfNeeded: $0) }, shape)
        case "<i4":
            let narrow = try [Int32](unsafeUninitializedCapacity: n) { buffer, count in
                try readBody(path, offset: offset, into: UnsafeMutableRawBufferPointer(buffer)); count = n
            }
            return (narrow, shape)
        default: throw StrataError.usage("\(path) holds \(descr), not int64 or int32 labels")
        }
    }
}
