// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "Strata",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "strata", targets: ["strata"]),
        .library(name: "Strata", targets: ["Strata"]),
        // For the fuzz targets in Fuzz/ (a separate package built with -sanitize=fuzzer).
        .library(name: "StrataCore", targets: ["StrataCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // One trait only: with both defaults SwiftPM orders the -D flags differently between runs and rebuilds it.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // Domain values, spec decoding, naming rules, format sniffing, record parsing. No file system, no database.
        .target(name: "StrataCore", dependencies: [.product(name: "Yams", package: "Yams")]),
        // Linux calls that need _GNU_SOURCE (copy_file_range, syncfs).
        .target(name: "CStrataSys"),
        // Files: hashing, atomic writes, content-addressed object store, directory walking.
        .target(name: "StrataStore", dependencies: [
            "StrataCore", "CStrataSys", "CZstd",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The only module that imports GRDB.
        .target(name: "StrataCatalog", dependencies: [
            "StrataCore",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // Hot loops in C, compiled per instruction set (AVX-512, AVX2, baseline) and picked at load time: MinHash.
        .target(name: "CStrataKernels"),
        // Pure algorithms: MinHash/LSH, union-find, text normalization and quality signals. No I/O.
        .target(name: "StrataQuality", dependencies: ["StrataCore", "CStrataKernels"]),
        // Pure analyses: confident learning, intervals, drift, active learning, recommendations, SVG charts. No I/O.
        .target(name: "StrataAnalysis", dependencies: ["StrataCore"]),
        // Compact Language Detector 2 (Debian libcld2-dev) behind a C wrapper.
        .target(name: "CCLD2", linkerSettings: [.linkedLibrary("cld2")]),
        .target(name: "StrataLanguage", dependencies: ["CCLD2"]),
        // C media libraries behind Swift types.
        .systemLibrary(name: "CVips", pkgConfig: "vips", providers: [.apt(["libvips-dev"])]),
        .systemLibrary(name: "CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CChromaprint", pkgConfig: "libchromaprint", providers: [.apt(["libchromaprint-dev"])]),
        .systemLibrary(name: "CSampleRate", pkgConfig: "samplerate", providers: [.apt(["libsamplerate0-dev"])]),
        .target(name: "StrataMedia", dependencies: ["StrataCore", "StrataQuality", "CVips", "CSndFile", "CChromaprint", "CSampleRate"]),
        // Pure labeling algorithms: consensus (majority, Dawid-Skene), agreement (Cohen, Fleiss, Krippendorff). No I/O.
        .target(name: "StrataLabels"),
        // Zstandard (Debian libzstd-dev) for Parquet pages.
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // Snappy (Debian libsnappy-dev, C API) for Parquet pages.
        .systemLibrary(name: "CSnappy", pkgConfig: "snappy", providers: [.apt(["libsnappy-dev"])]),
        // A Parquet writer: Thrift compact footer, PLAIN and dictionary encodings, Snappy and Zstandard. No file I/O.
        .target(name: "StrataParquet", dependencies: ["CZstd", "CSnappy"]),
        // Pipeline stages, planner pieces, task runner and executors. Never imports the catalog.
        .target(name: "StrataEngine", dependencies: ["StrataCore", "StrataStore", "StrataQuality", "StrataLanguage", "StrataMedia"]),
        // The Slurm executors (a worker pool; one array job per step), Slurm's client commands, the ticket/lease queue
        // on the shared filesystem and the `strata task worker` loop.
        .target(name: "StrataSlurm", dependencies: ["StrataEngine", "StrataCore", "StrataStore"]),
        // The Workspace facade: one file per user operation.
        // Team remotes' storage: file://, s3:// (SigV4 over AsyncHTTPClient) and ssh:// backends, packs, transfer plans.
        .target(name: "StrataRemote", dependencies: [
            "StrataCore", "StrataStore",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
        .target(name: "Strata", dependencies: ["StrataCore", "StrataStore", "StrataCatalog", "StrataQuality", "StrataMedia", "StrataEngine", "StrataSlurm", "StrataAnalysis", "StrataLabels", "StrataParquet", "StrataRemote"]),
        // The labeling web app: routes, sessions, templates over the Workspace API. The only module importing Hummingbird.
        .target(name: "StrataServer", dependencies: [
            "Strata", "StrataCore",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Mustache", package: "swift-mustache"),
        ]),
        .executableTarget(name: "strata", dependencies: [
            "Strata", "StrataCore", "StrataStore", "StrataQuality", "StrataEngine", "StrataAnalysis", "StrataParquet", "StrataServer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "StrataCoreTests", dependencies: ["StrataCore"]),
        // Reads Sources/, Tests/ and Package.swift: the module map of docs/ARCHITECTURE.md, enforced.
        .testTarget(name: "ArchitectureTests"),
        .testTarget(name: "StrataEngineTests", dependencies: ["StrataEngine", "StrataCore", "StrataStore"]),
        .testTarget(name: "StrataSlurmTests", dependencies: ["StrataSlurm", "StrataEngine", "StrataCore", "StrataStore"]),
        .testTarget(name: "StrataStoreTests", dependencies: ["StrataStore", "StrataCore"]),
        .testTarget(name: "StrataMediaTests", dependencies: ["StrataMedia", "StrataQuality"]),
        .testTarget(name: "StrataQualityTests", dependencies: ["StrataQuality", "StrataCore"]),
        .testTarget(name: "StrataLanguageTests", dependencies: ["StrataLanguage", "CCLD2"]),
        .testTarget(name: "StrataAnalysisTests", dependencies: ["StrataAnalysis", "StrataCore"]),
        .testTarget(name: "StrataLabelsTests", dependencies: ["StrataLabels"]),
        .testTarget(name: "StrataTests", dependencies: ["Strata", "StrataCore", "StrataStore", "StrataCatalog", "StrataQuality", "StrataEngine", "StrataMedia", "StrataAnalysis", "StrataRemote"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "StrataParquetTests", dependencies: ["StrataParquet"]),
        .testTarget(name: "StrataRemoteTests", dependencies: ["StrataRemote", "StrataStore", "StrataCore"]),
        .testTarget(name: "StrataCLITests", dependencies: ["StrataCore", "StrataMedia", "StrataRemote"], exclude: ["Golden"]),
        .testTarget(name: "StrataCatalogTests", dependencies: [
            "StrataCatalog", "StrataCore",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "StrataServerTests", dependencies: [
            "StrataServer", "Strata", "StrataCatalog", "StrataCore", "StrataMedia",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
    ]
)
