// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "mlp",
    products: [
        .library(name: "MLPKit", targets: ["MLPKit"]),
        .executable(name: "mlp-train", targets: ["mlp-train"]),
        .executable(name: "mlp-eval", targets: ["mlp-eval"]),
        .executable(name: "mlp-inspect", targets: ["mlp-inspect"]),
        .executable(name: "mlp-tune", targets: ["mlp-tune"]),
        .executable(name: "mlp-bench", targets: ["mlp-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CISAL", pkgConfig: "libisal", providers: [.apt(["libisal-dev"])]),
        .systemLibrary(name: "CZip", pkgConfig: "libzip", providers: [.apt(["libzip-dev"])]),
        // The training loop's element-wise passes, with AVX2 where the CPU has it; a stdio helper.
        .target(name: "CKernels"),
        // Matrix products through oneDNN (Debian's libdnnl-dev), each shape's primitive made once.
        .target(name: "CEngine", linkerSettings: [.linkedLibrary("dnnl")]),
        .target(
            name: "MLPKit",
            dependencies: [
                "CBLAS", "CEngine", "CHDF5", "CCrypto", "CISAL", "CKernels", "CZip",
            ]
        ),
        // What the executables share about command lines; the core library stays free of it.
        .target(name: "MLPCommandLine", dependencies: ["MLPKit", "CKernels", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "mlp-train", dependencies: ["MLPKit", "MLPCommandLine"]),
        .executableTarget(name: "mlp-eval", dependencies: ["MLPKit", "MLPCommandLine"]),
        .executableTarget(name: "mlp-inspect", dependencies: ["MLPKit", "MLPCommandLine"]),
        .executableTarget(name: "mlp-tune", dependencies: ["MLPKit", "MLPCommandLine"]),
        .executableTarget(name: "mlp-bench", dependencies: ["MLPKit", "MLPCommandLine"]),
        .testTarget(name: "MLPKitTests", dependencies: ["MLPKit"]),
    ]
)
