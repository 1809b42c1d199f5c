import Foundation
import Testing
@testable import MLPKit

/// The downloader against a local HTTP server on 127.0.0.1 that serves the fixture archive
/// whole, corrupted and truncated.
@Suite(.serialized) struct DownloadTests {
    let archive = fixture("cifar/cifar-100-python.tar.gz")

    /// Starts Tests/Harness/serve.py and returns it with its base URL: `file` at /good (and
    /// damaged), `folder`'s files at /files/NAME.
    func startServer(file: String? = nil, folder: String? = nil) throws -> (Process, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", packageRoot.appendingPathComponent("Tests/Harness/serve.py").path, file ?? archive] + (folder.map { [$0] } ?? [])
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let port = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return (process, "http://127.0.0.1:\(port)")
    }

    func stop(_ server: Process) {
        server.terminate()
        server.waitUntilExit()
    }

    func md5(of path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/md5sum")
        process.arguments = [path]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        process.waitUntilExit()
        return String(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(32))
    }

    func train(home: URL, url: String, md5: String) throws -> RunResult {
        try runTool("mlp-train", ["-o", home.appendingPathComponent("m.h5").path, "--epochs", "1", "--seed", "1"],
                    environment: ["KERAS_HOME": home.path, "MLP_CIFAR100_URL": url, "MLP_CIFAR100_MD5": md5])
    }

    @Test func downloadsVerifiesAndCaches() throws {
        let (server, base) = try startServer()
        defer { stop(server) }
        let home = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: home) }
        let checksum = try md5(of: archive)
        let first = try train(home: home, url: base + "/good", md5: checksum)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("Downloading CIFAR-100 from \(base)/good"))
        let cached = home.appendingPathComponent("datasets/cifar-100-python.tar.gz").path
        #expect(try Data(contentsOf: URL(fileURLWithPath: cached)) == Data(contentsOf: URL(fileURLWithPath: archive)))
        // Extracted beside the archive, as Keras keeps it.
        let extracted = home.appendingPathComponent("datasets/cifar-100-python").path
        #expect(try FileManager.default.contentsOfDirectory(atPath: extracted).sorted() == ["meta", "test", "train"])
        // The second run finds the data where Keras keeps it and downloads nothing.
        let second = try train(home: home, url: base + "/missing", md5: checksum)
        #expect(second.status == 0 && !second.stdout.contains("Downloading"))
    }

    @Test(arguments: [("corrupt", "checksum mismatch"), ("truncated", "truncated download"), ("missing", "HTTP status 404")])
    func badDownloadsLeaveNothingBehind(_ path: String, _ problem: String) throws {
        let (server, base) = try startServer()
        defer { stop(server) }
        let home = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: home) }
        let result = try train(home: home, url: base + "/" + path, md5: try md5(of: archive))
        expectCleanFailure(result, naming: base + "/" + path, problem: problem)
        #expect(result.stderr.contains("--data synthetic") && result.stderr.contains("--data PATH"))
        let folder = home.appendingPathComponent("datasets").path
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).isEmpty)
    }

    /// The official checksum guards the default download: a file with another MD5 is refused.
    @Test func officialChecksumIsEnforced() throws {
        let (server, base) = try startServer()
        defer { stop(server) }
        let home = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: home) }
        let result = try runTool("mlp-train", ["-o", home.appendingPathComponent("m.h5").path],
                                 environment: ["KERAS_HOME": home.path, "MLP_CIFAR100_URL": base + "/good"])
        expectCleanFailure(result, naming: base + "/good", problem: "expected eb9058c3a382ffc7106e4002c42a8d85")
    }

    /// A dataset named by --data is downloaded into Keras's cache under Keras's file names:
    /// Fashion-MNIST's four files (Keras checks none), then read from there without a download.
    @Test func downloadsFashionMNISTByName() throws {
        let (server, base) = try startServer(folder: fixture("datasets/fashion-mnist"))
        defer { stop(server) }
        let home = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: home) }
        let arguments = ["--data", "fashion_mnist", "-o", home.appendingPathComponent("m.h5").path, "--epochs", "1"]
        let first = try runTool("mlp-train", arguments + ["--download-url", base + "/files/"], environment: ["KERAS_HOME": home.path])
        #expect(first.status == 0, "\(first.stderr)")
        let cached = home.appendingPathComponent("datasets/fashion-mnist").path
        #expect(try FileManager.default.contentsOfDirectory(atPath: cached).sorted() == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
                                                                                        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"])
        for name in try FileManager.default.contentsOfDirectory(atPath: cached) {
            #expect(try Data(contentsOf: URL(fileURLWithPath: cached + "/" + name))
                    == Data(contentsOf: URL(fileURLWithPath: fixture("datasets/fashion-mnist/" + name))))
        }
        let second = try runTool("mlp-train", arguments + ["--download-url", base + "/missing/"], environment: ["KERAS_HOME": home.path])
        #expect(second.status == 0 && !second.stdout.contains("Downloading"), "\(second.stderr)")
    }

    /// CIFAR-10 and MNIST are checked against Keras's SHA-256: other bytes are refused, and
    /// nothing is left in the cache.
    @Test(arguments: [("cifar10", "datasets/cifar-10-python.tar.gz", CIFAR10.sha256), ("mnist", "numpy/images.npz", MNIST.sha256)])
    func kerasChecksumsAreEnforced(_ name: String, _ file: String, _ sha256: String) throws {
        let (server, base) = try startServer(file: fixture(file))
        defer { stop(server) }
        let home = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: home) }
        let result = try runTool("mlp-train", ["--data", name, "-o", home.appendingPathComponent("m.h5").path, "--download-url", base + "/good"],
                                 environment: ["KERAS_HOME": home.path])
        expectCleanFailure(result, naming: base + "/good", problem: sha256)
        let folder = home.appendingPathComponent("datasets").path
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).isEmpty)
    }
}
