import Foundation
import XCTest

/// The module map of docs/ARCHITECTURE.md, enforced. SwiftPM lets a module import anything built before it (a
/// transitive dependency's module is on the search path), so the build alone does not keep the layers; this test
/// reads every source file's imports and checks them against the targets' declared dependencies in Package.swift,
/// and the declared dependencies against the layering rules below.
final class ModuleGraphTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Modules every target may import: the platform and the standard library's.
    private static let platform: Set<String> = ["Foundation", "FoundationNetworking", "FoundationXML", "Dispatch", "Glibc", "Darwin", "Musl", "Synchronization"]

    /// The modules each package product brings (a product may bring several).
    private static let products: [String: Set<String>] = [
        "Yams": ["Yams"], "Crypto": ["Crypto"], "GRDB": ["GRDB"], "ArgumentParser": ["ArgumentParser"],
        "AsyncHTTPClient": ["AsyncHTTPClient", "NIOCore", "NIOHTTP1", "NIOPosix", "NIOFoundationCompat"],
        "Hummingbird": ["Hummingbird", "HTTPTypes", "Logging", "NIOCore", "NIOPosix"],
        "HummingbirdTesting": ["HummingbirdTesting", "HTTPTypes", "NIOCore"], "Mustache": ["Mustache"],
    ]

    /// Modules with no I/O: they may depend only on each other (and C kernels), never on files, the catalog,
    /// the network or the media libraries.
    private static let pure: Set<String> = ["StrataCore", "StrataQuality", "StrataAnalysis", "StrataLabels", "StrataParquet"]
    private static let pureMayUse: Set<String> = ["StrataCore", "StrataQuality", "Yams", "CStrataKernels", "CZstd", "CSnappy"]

    /// Declared dependencies of every target in Package.swift (names only: local targets and products).
    private func declaredDependencies() throws -> [String: Set<String>] {
        let text = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        var result: [String: Set<String>] = [:]
        let start = try NSRegularExpression(pattern: #"\.(?:target|executableTarget|testTarget|systemLibrary)\(\s*name:\s*"([^"]+)""#)
        let ns = text as NSString
        for m in start.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            let name = ns.substring(with: m.range(at: 1))
            // The target's arguments: up to the parenthesis that closes `.target(`.
            let chars = Array(text.utf16)
            var depth = 0, i = m.range.location, end = chars.count
            while i < chars.count {
                if chars[i] == 0x28 { depth += 1 } else if chars[i] == 0x29 { depth -= 1; if depth == 0 { end = i; break } }
                i += 1
            }
            let body = ns.substring(with: NSRange(location: m.range.location, length: end - m.range.location))
            var deps: Set<String> = []
            if let open = body.range(of: "dependencies: [") {
                var depth = 1, i = open.upperBound
                while i < body.endIndex && depth > 0 {
                    if body[i] == "[" { depth += 1 } else if body[i] == "]" { depth -= 1 }
                    i = body.index(after: i)
                }
                let list = String(body[open.upperBound..<i])
                let product = try NSRegularExpression(pattern: #"\.product\(name:\s*"([^"]+)""#)
                let plain = try NSRegularExpression(pattern: #"(?<![:\w])"([A-Za-z][A-Za-z0-9_]*)""#)
                let lns = list as NSString
                for p in product.matches(in: list, range: NSRange(location: 0, length: lns.length)) {
                    deps.formUnion(Self.products[lns.substring(with: p.range(at: 1))] ?? [lns.substring(with: p.range(at: 1))])
                }
                let withoutProducts = product.stringByReplacingMatches(in: list, range: NSRange(location: 0, length: lns.length), withTemplate: "")
                let wns = withoutProducts as NSString
                for p in plain.matches(in: withoutProducts, range: NSRange(location: 0, length: wns.length)) {
                    let dep = wns.substring(with: p.range(at: 1))
                    if !["swift-crypto", "GRDB.swift", "Yams", "hummingbird", "swift-mustache", "async-http-client",
                         "swift-argument-parser"].contains(dep) || dep == "Yams" {
                        deps.insert(dep)
                    }
                }
            }
            result[name] = deps
        }
        return result
    }

    private func imports(of folder: URL) throws -> [String: [String]] {
        var found: [String: [String]] = [:]
        let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)
        let pattern = try NSRegularExpression(pattern: #"^\s*(?:@testable\s+)?(?:@_exported\s+)?import\s+(?:struct\s+|class\s+|enum\s+|func\s+)?([A-Za-z_][A-Za-z0-9_]*)"#)
        while let url = files?.nextObject() as? URL {
            guard url.pathExtension == "swift" else { continue }
            // Imports are read from the file's header (imports, comments, blank lines, conditional compilation)
            // so that `import` inside a string literal (a Python snippet in a test) is not taken for one.
            for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
                let t = line.trimmingCharacters(in: .whitespaces)
                if let m = pattern.firstMatch(in: t, range: NSRange(location: 0, length: (t as NSString).length)) {
                    found[(t as NSString).substring(with: m.range(at: 1)), default: []].append(url.lastPathComponent)
                } else if !(t.isEmpty || t.hasPrefix("//") || t.hasPrefix("#if") || t.hasPrefix("#else") || t.hasPrefix("#elseif")
                            || t.hasPrefix("#endif") || t.hasPrefix("/*") || t.hasPrefix("*")) {
                    break
                }
            }
        }
        return found
    }

    func testEveryImportIsADeclaredDependency() throws {
        let declared = try declaredDependencies()
        XCTAssertGreaterThan(declared.count, 20, "Package.swift's targets were found")
        var problems: [String] = []
        for group in ["Sources", "Tests"] {
            let base = Self.root.appendingPathComponent(group)
            for name in try FileManager.default.contentsOfDirectory(atPath: base.path).sorted() {
                guard let deps = declared[name] else { continue }
                for (module, files) in try imports(of: base.appendingPathComponent(name)).sorted(by: { $0.key < $1.key }) {
                    if Self.platform.contains(module) || deps.contains(module) || module == "XCTest" || module == "Testing" { continue }
                    problems.append("\(group)/\(name) imports \(module) (in \(files.sorted().first!)) but does not declare it in Package.swift")
                }
            }
        }
        XCTAssertEqual(problems, [], problems.joined(separator: "\n"))
    }

    func testPureModulesDependOnNothingWithIO() throws {
        let declared = try declaredDependencies()
        for module in Self.pure.sorted() {
            let deps = try XCTUnwrap(declared[module], "\(module) is a target")
            XCTAssertEqual(deps.subtracting(Self.pureMayUse), [], "\(module) is pure (no files, catalog, network, media)")
        }
    }

    func testDependenciesPointDown() throws {
        // Each layer may depend only on layers below it. Changing a layer is a change to docs/ARCHITECTURE.md too.
        let layers: [[String]] = [
            ["StrataCore", "StrataLabels", "StrataParquet", "StrataLanguage", "CStrataSys", "CStrataKernels"],
            ["StrataQuality", "StrataAnalysis", "StrataStore", "StrataCatalog"],
            ["StrataMedia", "StrataRemote"],
            ["StrataEngine"],
            ["StrataSlurm", "StrataLabeling"],
            ["Strata"],
            ["StrataServer"],
            ["strata"],
        ]
        var level: [String: Int] = [:]
        for (i, names) in layers.enumerated() { for n in names { level[n] = i } }
        let declared = try declaredDependencies()
        for (module, deps) in declared.sorted(by: { $0.key < $1.key }) where !module.hasSuffix("Tests") {
            guard let mine = level[module] else { continue }
            for dep in deps.sorted() {
                guard let theirs = level[dep] else { continue }
                XCTAssertLessThan(theirs, mine, "\(module) depends on \(dep), which is not below it")
            }
        }
        XCTAssertNil(declared["StrataCore"]?.first { level[$0] != nil }, "StrataCore depends on no other module of ours")
    }
}
