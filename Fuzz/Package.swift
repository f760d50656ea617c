// swift-tools-version:6.2
// Note: `-sanitize=fuzzer -sanitize=address` as two flags loses the coverage instrumentation (the last wins); one
// comma-separated flag keeps both.
// libFuzzer targets for every parser of untrusted input. Built separately from the main package because every
// module (Strata's and its dependencies') is compiled with coverage instrumentation:
//   swift build --package-path Fuzz -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
// `bash Fuzz/run.sh [SECONDS]` builds them and runs each on its committed seed corpus.
import PackageDescription

let package = Package(
    name: "StrataFuzz",
    dependencies: [.package(name: "Strata", path: "..")],
    targets: [
        .executableTarget(name: "fuzz-json", dependencies: [.product(name: "StrataCore", package: "Strata")]),
        .executableTarget(name: "fuzz-csv", dependencies: [.product(name: "StrataCore", package: "Strata")]),
        .executableTarget(name: "fuzz-lines", dependencies: [.product(name: "StrataCore", package: "Strata")]),
        .executableTarget(name: "fuzz-spec", dependencies: [.product(name: "StrataCore", package: "Strata")]),
        // The label importers live in the Strata library (with the catalog and media code it links).
        .executableTarget(name: "fuzz-labels", dependencies: [.product(name: "Strata", package: "Strata")]),
        // The label server's request bodies (LabelRequestBody, in the Strata library: the server only calls it).
        .executableTarget(name: "fuzz-bodies", dependencies: [.product(name: "Strata", package: "Strata")]),
    ]
)
