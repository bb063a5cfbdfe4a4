// swift-tools-version:5.9
// llmring for Swift: CLLMRing is a system library target (module.modulemap over llmring.h,
// linking libllmring, found through pkg-config), LLMRing the Swift API over it.
//
// Install the library first (cmake --install build --prefix P) and make pkg-config find it:
//     export PKG_CONFIG_PATH=P/lib/pkgconfig LD_LIBRARY_PATH=P/lib   # DYLD_LIBRARY_PATH on macOS
//     swift test
import PackageDescription

let package = Package(
    name: "LLMRing",
    platforms: [.macOS(.v12), .iOS(.v15)],
    products: [
        .library(name: "LLMRing", targets: ["LLMRing"]),
    ],
    targets: [
        .systemLibrary(
            name: "CLLMRing",
            path: "Sources/CLLMRing",
            pkgConfig: "llmring",
            providers: [.brew(["llmring"]), .apt(["libllmring-dev"])]
        ),
        .target(name: "LLMRing", dependencies: ["CLLMRing"], path: "Sources/LLMRing"),
        .testTarget(name: "LLMRingTests", dependencies: ["LLMRing"], path: "Tests/LLMRingTests"),
    ]
)
