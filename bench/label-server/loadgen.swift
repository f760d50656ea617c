// Load generator for bench/label-server: N clients, one keep-alive HTTP/1.1 connection and one OS thread each.
// Each client loops: GET /api/queue/next (its next sample), POST /api/labels (the answer), timing the POST.
// It stops at the deadline or when the server goes away (the benchmark kills it with -9 during the load), and
// writes every acknowledged (201) sample id to ACKED_FILE, one `annotator sample` pair per line.
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
nonisolated(unsafe) let host = args[1]
let port = portArg
let clients: [(String, String)] = try! String(contentsOfFile: args[3], encoding: .utf8).split(separator: "\n").map {
    let p = $0.split(separator: " "); return (String(p[0]), String(p[1]))
}

final class Client: @unchecked Sendable {
    let name: String, token: String
    var fd: Int32 = -1
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    var pending: [UInt8] = []
    var latencies: [Double] = []
    var acked: [String] = []
    var lastAck = 0.0
    var errors: [String: Int] = [:]
    init(name: String, token: String) { self.name = name; self.token = token }

    func connect() -> Bool {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        inet_pton(AF_INET, host, &addr.sin_addr)
        let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        return r == 0
    }

    func send(_ s: String) -> Bool {
        var bytes = Array(s.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            bytes = bytes.dropFirst(n)
        }
        return true
    }

    /// Reads one response; returns (status, body) or nil when the connection dropped.
    func receive() -> (Int, [UInt8])? {
        while true {
            if let end = find(pending, Array("\r\n\r\n".utf8)) {
                let head = String(decoding: pending[..<end], as: UTF8.self)
                let status = Int(head.split(separator: " ", maxSplits: 2)[1]) ?? 0
                var length = 0
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    length = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
                }
                if pending.count >= end + 4 + length {
                    let body = Array(pending[(end + 4)..<(end + 4 + length)])
                    pending.removeFirst(end + 4 + length)
                    return (status, body)
                }
            }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            pending.append(contentsOf: buffer[0..<n])
        }
    }

    func find(_ hay: [UInt8], _ needle: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle { return i }
        return nil
    }

    func run(until deadline: Double) {
        guard connect() else { errors["connect", default: 0] += 1; return }
        let auth = "Authorization: Bearer \(token)\r\nHost: \(host)\r\n"
        while now() < deadline {
            guard send("GET /api/queue/next HTTP/1.1\r\n\(auth)\r\n"), let (s1, b1) = receive() else { errors["connection", default: 0] += 1; return }
            guard s1 == 200, let id = sampleId(b1) else { errors["next \(s1)", default: 0] += 1; return }
            let body = "{\"sample\":\"\(id)\",\"value\":\"neutral\"}"
            let t0 = now()
            guard send("POST /api/labels HTTP/1.1\r\n\(auth)Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"),
                  let (s2, _) = receive() else { errors["connection", default: 0] += 1; return }
            if s2 == 201 {
                latencies.append(now() - t0)
                acked.append(id)
                lastAck = now()
            } else {
                errors["post \(s2)", default: 0] += 1
            }
        }
        close(fd)
    }

    func sampleId(_ body: [UInt8]) -> String? {
        let s = String(decoding: body, as: UTF8.self)
        guard let r = s.range(of: "\"id\":\"") else { return nil }
        return String(s[r.upperBound...].prefix(64))
    }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

let all = clients.map { Client(name: $0.0, token: $0.1) }
let start = now()
let deadline = start + seconds
var threads: [Thread] = []
let group = DispatchGroup()
for c in all {
    group.enter()
    let t = Thread { c.run(until: deadline); group.leave() }
    t.stackSize = 1 << 20
    t.start()
    threads.append(t)
}
group.wait()
let elapsed = now() - start
var lat = all.flatMap(\.latencies).sorted()
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
      + "\"elapsed\":\(String(format: "%.2f", elapsed)),\"errors\":\"\(errorText)\"}")
