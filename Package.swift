// swift-tools-version:6.1
import Foundation
import PackageDescription

/// `DMS_FUZZ=1` (set by `scripts/fuzz.sh`) builds the fuzzing binary `dms-fuzz`: every target of
/// ours gets libFuzzer's coverage instrumentation and AddressSanitizer, and the executable links
/// libFuzzer. Dependencies stay uninstrumented, so a fuzz build shares their objects with the
/// ordinary debug build. Only `--product dms-fuzz` links in this mode.
let fuzzing = ProcessInfo.processInfo.environment["DMS_FUZZ"] == "1"

let package = Package(
    name: "deep-model-server",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "deep-model-server", targets: ["deep-model-server"]),
        .executable(name: "deep-model-export", targets: ["deep-model-export"]),
        .executable(name: "deep-model-bench", targets: ["deep-model-bench"]),
        .library(name: "DMSServerApp", targets: ["DMSServerApp"]),
        .library(name: "DMSServices", targets: ["DMSServices"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .target(
            name: "DMSCore",
            dependencies: []
        ),
        .target(
            name: "DMSModelStore",
            dependencies: [
                "DMSCore",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "DMSRuntime",
            dependencies: [
                "DMSCore",
                "DMSModelStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "DMSMXNet",
            dependencies: ["DMSCore", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "DMSONNX",
            dependencies: ["DMSCore", .product(name: "Logging", package: "swift-log")]
        ),
        .systemLibrary(
            name: "CTurboJPEG",
            pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"])]
        ),
        .systemLibrary(
            name: "CPNG",
            pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]
        ),
        .target(name: "CPNGShim", dependencies: ["CPNG"]),
        .systemLibrary(
            name: "CZlibInflate",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(name: "CMallocTuning"),
        .target(
            name: "DMSVision",
            dependencies: ["DMSCore", "CTurboJPEG", "CPNGShim"]
        ),
        .target(
            name: "DMSPython",
            dependencies: [
                "DMSCore", .product(name: "Logging", package: "swift-log"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "DMSServices",
            dependencies: ["DMSCore", "DMSVision", "DMSRuntime", "DMSPython", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "DMSLogging",
            dependencies: [.product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "DMSHTTP",
            dependencies: [
                "CZlibInflate",
                "DMSCore",
                "DMSRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The Open Inference Protocol over gRPC. Generated/ holds the code scripts/generate-grpc.sh
        // makes from Protos/open_inference.proto (committed: builds need no protoc).
        .target(
            name: "DMSGRPC",
            dependencies: [
                "DMSCore",
                "DMSRuntime",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "DMSServerApp",
            dependencies: [
                "CMallocTuning",
                "DMSCore",
                "DMSModelStore",
                "DMSRuntime",
                "DMSMXNet",
                "DMSONNX",
                "DMSServices",
                "DMSPython",
                "DMSHTTP",
                "DMSGRPC",
                "DMSLogging",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "deep-model-server",
            dependencies: ["DMSServerApp"]
        ),
        .executableTarget(
            name: "deep-model-export",
            dependencies: ["DMSServerApp"]
        ),
        .executableTarget(
            name: "deep-model-bench",
            dependencies: ["DMSServerApp"]
        ),
        // An example server binary with a service written in Swift (docs/swift-services.md).
        .executableTarget(
            name: "dms-iris-server",
            dependencies: ["DMSServerApp", "DMSServices", "DMSCore"],
            path: "examples/swift-service"
        ),
        // The fuzz targets (docs/reliability.md): one function per parser of outside bytes, run by
        // libFuzzer in `dms-fuzz` and replayed over the committed corpus by DMSFuzzTargetsTests.
        .target(
            name: "DMSFuzzTargets",
            dependencies: [
                "DMSCore", "DMSModelStore", "DMSRuntime", "DMSVision", "DMSServices", "DMSPython", "DMSHTTP", "DMSGRPC",
                "DMSLogging", "DMSMXNet", "DMSONNX", "DMSServerApp",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "fuzz/Targets"
        ),
        .testTarget(name: "DMSFuzzTargetsTests", dependencies: ["DMSFuzzTargets"]),
        .testTarget(name: "DMSCoreTests", dependencies: ["DMSCore"]),
        .testTarget(
            name: "DMSModelStoreTests",
            dependencies: [
                "DMSModelStore", "DMSCore", "DMSMXNet", "DMSONNX",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"), .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "DMSRuntimeTests",
            dependencies: [
                "DMSRuntime", "DMSCore", "DMSModelStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]),
        .testTarget(name: "DMSServerAppTests", dependencies: ["DMSServerApp", "DMSCore", "DMSMXNet", "DMSONNX", "DMSPython", .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "DMSHTTPTests",
            dependencies: [
                "DMSHTTP", "DMSCore", "DMSRuntime", "DMSModelStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "DMSGRPCTests",
            dependencies: [
                "DMSGRPC", "DMSCore", "DMSRuntime",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ]),
        .testTarget(name: "DMSMXNetTests", dependencies: ["DMSMXNet", "DMSCore"]),
        .testTarget(
            name: "DMSONNXTests",
            dependencies: ["DMSONNX", "DMSCore", .product(name: "Logging", package: "swift-log")],
            exclude: ["make_models.py"],
            resources: [.copy("Resources/models")]
        ),
        .testTarget(name: "DMSServicesTests", dependencies: ["DMSServices", "DMSVision", "DMSCore"]),
        .testTarget(
            name: "DMSVisionTests",
            dependencies: ["DMSVision", "DMSCore"],
            resources: [.copy("Resources/vision")]
        ),
        .testTarget(name: "DMSLoggingTests", dependencies: ["DMSLogging", .product(name: "Logging", package: "swift-log")]),
    ]
)

if fuzzing {
    package.targets += [
        .target(name: "CLibFuzzer", path: "fuzz/CLibFuzzer"),
        .executableTarget(
            name: "dms-fuzz",
            dependencies: ["DMSFuzzTargets", "CLibFuzzer"],
            path: "fuzz/Driver",
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address", "-use-ld=lld"])]
        ),
    ]
    let cTargets: Set = ["CPNGShim", "CMallocTuning", "CLibFuzzer"]
    for target in package.targets where target.type == .regular || target.type == .executable {
        if cTargets.contains(target.name) {
            target.cSettings = (target.cSettings ?? []) + [.unsafeFlags(["-fsanitize=fuzzer-no-link,address"])]
        } else {
            target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-sanitize=fuzzer,address"])]
        }
    }
}
