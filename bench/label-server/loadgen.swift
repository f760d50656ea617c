// Load generator for bench/label-server: N clients, one keep-alive HTTP/1.1 connection and one OS thread each.
// Each client loops: GET /api/queue/next (its next sample), POST /api/labels (the answer), timing the POST.
// A client stops at the deadline or when the server goes away (the benchmark kills it with -9 during the load).
// At the end it writes every acknowledged (201) sample as an `annotator sample` line to ACKED_FILE and prints one
// JSON line: rate, POST latency percentiles, and its own CPU time (user + sys).
//
// Requests are pre-encoded bytes and responses are parsed in place in the receive buffer, so the generator takes
// little of the CPU the server competes for (see results.md: an earlier version that built Strings and arrays per
// response used about a quarter of a core at 2,500 labels/s).
//
// usage: loadgen HOST PORT TOKENS_FILE SECONDS ACKED_FILE
// Build: swiftc -O loadgen.swift -o loadgen
import Foundation
#if canImport(Glibc)
import Glibc
#endif

let args = CommandLine.arguments
guard args.count == 6, let portArg = UInt16(args[2]), let seconds = Double(args[4]) else {
    FileHandle.standardError.write(Data("usage: loadgen HOST PORT TOKENS_FILE SECONDS ACKED_FILE\n".utf8))
    exit(2)
}
let host = args[1]
let port = portArg
let tokens: [(String, String)] = try! String(contentsOfFile: args[3], encoding: .utf8).split(separator: "\n").map {
    let p = $0.split(separator: " "); return (String(p[0]), String(p[1]))
}

let contentLengthKey: [UInt8] = Array("content-length:".utf8)
let idKey: [UInt8] = Array("\"id\":\"".utf8)
let labelBodyStart: [UInt8] = Array("{\"sample\":\"".utf8)
let labelBodyEnd: [UInt8] = Array("\",\"value\":\"neutral\"}".utf8)
let crlfcrlf: [UInt8] = Array("\r\n\r\n".utf8)

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// One client: a connection and where it is in its GET, POST loop. Requests are built from pre-encoded bytes;
/// responses are parsed in place in the receive buffer.
final class Client: @unchecked Sendable {
    let name: String
    let getRequest: [UInt8]
    let postHead: [UInt8]
    var fd: Int32 = -1
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    var filled = 0
    var sampleId: [UInt8] = []
    var request: [UInt8] = []
    var t0 = 0.0
    var latencies: [Double] = []
    var acked: [String] = []
    var lastAck = 0.0
    var errors: [String: Int] = [:]

    init(name: String, token: String) {
        self.name = name
        let auth = "Authorization: Bearer \(token)\r\nHost: \(host)\r\n"
        getRequest = Array("GET /api/queue/next HTTP/1.1\r\n\(auth)\r\n".utf8)
        postHead = Array("POST /api/labels HTTP/1.1\r\n\(auth)Content-Type: application/json\r\nContent-Length: ".utf8)
        latencies.reserveCapacity(4096)
    }

    func connect() -> Bool {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        inet_pton(AF_INET, host, &addr.sin_addr)
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return r == 0
    }

    /// Sends all of `bytes` (the socket is blocking; a request fits the socket buffer, so this does not stall).
    func send(_ bytes: [UInt8]) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            off += n
        }
        return true
    }

    func sendNext() -> Bool { send(getRequest) }

    func sendLabel() -> Bool {
        let bodyCount = labelBodyStart.count + sampleId.count + labelBodyEnd.count
        request.removeAll(keepingCapacity: true)
        request += postHead
        request += Array(String(bodyCount).utf8)
        request += crlfcrlf
        request += labelBodyStart
        request += sampleId
        request += labelBodyEnd
        t0 = now()
        return send(request)
    }

    /// Reads what is there; returns false when the connection is gone.
    func readAvailable() -> Bool {
        if filled == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + filled, $0.count - filled, 0) }
        if n <= 0 { return false }
        filled += n
        return true
    }

    /// A complete response at the start of the buffer: (status, body range, total length), or nil.
    func response() -> (status: Int, body: Range<Int>, end: Int)? {
        buffer.withUnsafeBufferPointer { b -> (Int, Range<Int>, Int)? in
            guard filled >= 4 else { return nil }
            var headEnd = -1
            var i = 0
            while i + 3 < filled {
                if b[i] == 13, b[i + 1] == 10, b[i + 2] == 13, b[i + 3] == 10 { headEnd = i; break }
                i += 1
            }
            if headEnd < 0 { return nil }
            // "HTTP/1.1 201 ..."
            var status = 0
            var p = 9
            while p < headEnd, b[p] >= 48, b[p] <= 57 { status = status * 10 + Int(b[p] - 48); p += 1 }
            var length = 0
            var line = 0
            while line < headEnd {
                var e = line
                while e < headEnd, b[e] != 13 { e += 1 }
                // "content-length:" case-insensitively
                let key = contentLengthKey
                if e - line > key.count {
                    var match = true
                    for k in 0..<key.count where (b[line + k] | 0x20) != key[k] && !(key[k] == 58 && b[line + k] == 58) {
                        match = false; break
                    }
                    if match {
                        var q = line + key.count
                        while q < e, b[q] == 32 { q += 1 }
                        while q < e, b[q] >= 48, b[q] <= 57 { length = length * 10 + Int(b[q] - 48); q += 1 }
                    }
                }
                line = e + 2
            }
            let end = headEnd + 4 + length
            guard filled >= end else { return nil }
            return (status, (headEnd + 4)..<end, end)
        }
    }

    func consume(_ n: Int) {
        if n < filled { buffer.withUnsafeMutableBytes { b in _ = memmove(b.baseAddress!, b.baseAddress! + n, filled - n) } }
        filled -= n
    }

    /// `"id":"...` of the queue answer's sample.
    func extractSampleId(_ body: Range<Int>) -> [UInt8]? {
        let key = idKey
        var i = body.lowerBound
        while i + key.count <= body.upperBound {
            var match = true
            for k in 0..<key.count where buffer[i + k] != key[k] { match = false; break }
            if match {
                var e = i + key.count
                while e < body.upperBound, buffer[e] != UInt8(ascii: "\"") { e += 1 }
                return Array(buffer[(i + key.count)..<e])
            }
            i += 1
        }
        return nil
    }

    /// Waits for the next complete response; nil when the connection is gone.
    func awaitResponse() -> (status: Int, body: Range<Int>, end: Int)? {
        while true {
            if let r = response() { return r }
            if !readAvailable() { return nil }
        }
    }

    /// The client's loop, on its own thread.
    func run(until deadline: Double) {
        guard connect() else { errors["connect", default: 0] += 1; return }
        defer { close(fd) }
        while now() < deadline {
            guard sendNext(), let r1 = awaitResponse() else { errors["connection", default: 0] += 1; return }
            guard r1.status == 200, let id = extractSampleId(r1.body) else { errors["next \(r1.status)", default: 0] += 1; return }
            consume(r1.end)
            sampleId = id
            guard sendLabel(), let r2 = awaitResponse() else { errors["connection", default: 0] += 1; return }
            let t = now()
            if r2.status == 201 {
                latencies.append(t - t0)
                acked.append(String(decoding: sampleId, as: UTF8.self))
                lastAck = t
            } else {
                errors["post \(r2.status)", default: 0] += 1
            }
            consume(r2.end)
        }
    }
}

let all = tokens.map { Client(name: $0.0, token: $0.1) }
let start = now()
let deadline = start + seconds
let group = DispatchGroup()
for c in all {
    group.enter()
    let t = Thread { c.run(until: deadline); group.leave() }
    t.stackSize = 1 << 20
    t.start()
}
group.wait()
let elapsed = now() - start
var usage = rusage()
getrusage(RUSAGE_SELF.rawValue, &usage)
let cpuUser = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
let cpuSys = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6

let lat = all.flatMap(\.latencies).sorted()
let acked = all.map(\.acked.count).reduce(0, +)
var errors: [String: Int] = [:]
for c in all { errors.merge(c.errors, uniquingKeysWith: +) }
func pct(_ p: Double) -> Double { lat.isEmpty ? 0 : lat[min(lat.count - 1, Int(Double(lat.count) * p))] * 1000 }
var out = ""
for c in all { for id in c.acked { out += "\(c.name) \(id)\n" } }
try! out.write(toFile: args[5], atomically: true, encoding: .utf8)
// The load ends when the server is killed; the rate is over the time until the last acknowledgement.
let span = (all.map(\.lastAck).max() ?? start) - start
let errorText = errors.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ",")
print(String(format: "{\"clients\":%d,\"seconds\":%.2f,\"acked\":%d,\"per_second\":%.0f,\"p50_ms\":%.2f,\"p90_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f,",
             all.count, span, acked, Double(acked) / max(span, 0.001), pct(0.5), pct(0.9), pct(0.99), (lat.last ?? 0) * 1000)
      + String(format: "\"loadgen_user_s\":%.2f,\"loadgen_sys_s\":%.2f,", cpuUser, cpuSys)
      + "\"elapsed\":\(String(format: "%.2f", elapsed)),\"errors\":\"\(errorText)\"}")
