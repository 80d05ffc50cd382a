// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "portcullis",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "portcullis", targets: ["portcullis"]),
        .executable(name: "portcullis-rooms", targets: ["portcullis-rooms"]),
        .executable(name: "portcullis-bench", targets: ["portcullis-bench"]),
        .executable(name: "portcullis-fuzz", targets: ["portcullis-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CJWT",
            pkgConfig: "libjwt",
            providers: [.apt(["libjwt-dev"])]
        ),
        // Only the tests link hiredis: the reference RESPParser and RESPCommandFormatter are
        // checked against. No pkgConfig: hiredis.pc adds -D_FILE_OFFSET_BITS=64, which SwiftPM
        // refuses with a warning; the headers live under the default include path and the
        // module map links it.
        .systemLibrary(
            name: "CHiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // Raw deflate for permessage-deflate (RFC 7692), wrapped by PortcullisWire.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "PortcullisConfig",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "PortcullisAuth",
            dependencies: ["PortcullisConfig", "CJWT", "COpenSSL"]
        ),
        // Pure protocol state machines and codecs (WebSocket message layer, permessage-deflate
        // over zlib, raw protocol, Engine.IO/Socket.IO, ActionCable, typed close causes); no IO.
        .target(name: "PortcullisWire", dependencies: ["CZlib"]),
        // Pure HTTP/1.1 request rules: strict head parser, framing, chunked bodies, target and
        // path normalization, response framing checks; no IO (fuzzed on its own).
        .target(name: "PortcullisHTTP"),
        // sd_notify over $NOTIFY_SOCKET (READY, RELOADING, STOPPING, WATCHDOG), no libsystemd.
        .target(name: "PortcullisSystemd"),
        .target(
            name: "PortcullisBus",
            dependencies: [
                "PortcullisConfig",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "PortcullisEdge",
            dependencies: [
                "PortcullisConfig",
                "PortcullisSystemd",
                "PortcullisAuth",
                "PortcullisBus",
                "PortcullisWire",
                "PortcullisHTTP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "portcullis",
            dependencies: [
                "PortcullisConfig",
                "PortcullisSystemd",
                "PortcullisEdge",
                "PortcullisAuth",
                "PortcullisBus",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "PortcullisRooms",
            dependencies: [
                "PortcullisBus",
                "PortcullisConfig",
                "PortcullisWire",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "portcullis-rooms",
            dependencies: [
                "PortcullisRooms",
                "PortcullisSystemd",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                "PortcullisConfig",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // libFuzzer target over PortcullisHTTP (scripts/fuzz, docs/fuzzing.md); a plain build
        // gives a replay driver instead. Not installed.
        .executableTarget(
            name: "portcullis-fuzz",
            dependencies: ["PortcullisHTTP"]
        ),
        // WebSocket load generator and broadcast floor for scripts/bench/ws; not installed.
        .executableTarget(
            name: "portcullis-bench",
            dependencies: [
                "PortcullisBus",
                "PortcullisAuth",
                "PortcullisWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "PortcullisConfigTests",
            dependencies: ["PortcullisConfig"]
        ),
        .testTarget(
            name: "PortcullisAuthTests",
            dependencies: ["PortcullisAuth"]
        ),
        // Test-only helpers shared by test targets (a real redis-server per suite).
        .target(
            name: "PortcullisTestSupport",
            dependencies: [
                "PortcullisBus",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/PortcullisTestSupport"
        ),
        .testTarget(
            name: "PortcullisHTTPTests",
            dependencies: ["PortcullisHTTP"]
        ),
        .testTarget(
            name: "PortcullisWireTests",
            dependencies: ["PortcullisWire", "PortcullisTestSupport"]
        ),
        .testTarget(
            name: "PortcullisBenchTests",
            dependencies: [
                "portcullis-bench",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "PortcullisBusTests",
            dependencies: [
                "PortcullisBus",
                "CHiredis",
                "PortcullisConfig",
                "PortcullisTestSupport",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "PortcullisRoomsTests",
            dependencies: [
                "PortcullisRooms",
                "PortcullisTestSupport",
                "PortcullisBus",
                "PortcullisWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "PortcullisEdgeTests",
            dependencies: [
                "PortcullisEdge",
                "PortcullisConfig",
                "PortcullisAuth",
                "PortcullisBus",
                "PortcullisWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// Release builds skip the runtime exclusivity checks of our modules (debug builds, which
// every test runs, keep them): on the proxy path they cost measurable CPU per request
// (docs/performance.md). The compile-time checks stay on.
for target in package.targets where target.type != .system {
    target.swiftSettings =
        (target.swiftSettings ?? []) + [
            .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
        ]
}
