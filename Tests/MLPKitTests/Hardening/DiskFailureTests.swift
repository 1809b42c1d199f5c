import Foundation
import Testing
@testable import MLPKit

/// Writing to a full disk and to a read-only one, on a small tmpfs. Mounting one needs root (as
/// CI runs); elsewhere the test shows as skipped.
@Suite(.serialized) struct DiskFailureTests {
    let archive = fixture("cifar/cifar-100-python.tar.gz")

    /// Whether this process can mount a tmpfs: tried once on a scratch folder.
    static let canMount: Bool = {
        guard geteuid() == 0, let folder = try? temporaryFolder() else { return false }
        defer { try? FileManager.default.removeItem(at: folder) }
        guard (try? run("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", folder.path])) == 0 else { return false }
        _ = try? run("/bin/umount", [folder.path])
        return true
    }()

    static func run(_ tool: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test(.enabled(if: canMount, "mounting a tmpfs needs root"))
    func fullAndReadOnlyDisk() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try #require(try Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", folder.path]) == 0)
        defer { _ = try? Self.run("/bin/umount", [folder.path]) }
        let model = folder.appendingPathComponent("m.h5").path
        // A small model fits; the baseline (about 3 MB with its optimizer state) does not.
        let small = try runTool("mlp-train", ["--data", archive, "--epochs", "1", "--layers", "8", "--seed", "1", "-o", model])
        #expect(small.status == 0, "\(small.stderr)")
        let before = try Data(contentsOf: URL(fileURLWithPath: model))
        let full = try runTool("mlp-train", ["--data", archive, "--epochs", "1", "--seed", "1", "-o", model])
        expectCleanFailure(full, naming: model, problem: "No space left on device")
        #expect(try Data(contentsOf: URL(fileURLWithPath: model)) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["m.h5"])

        let search = folder.appendingPathComponent("search").path
        let tune = try runTool("mlp-tune", ["--data", archive, "--output-dir", search, "--trials", "2", "--epochs", "1", "--units", "512",
                                            "--hidden-layers", "2", "--seed", "1"])
        #expect(tune.status != 0 && tune.status < 128, "status \(tune.status): \(tune.stderr)")
        #expect(tune.stderr.split(separator: "\n").count == 1, "\(tune.stderr)")
        #expect(tune.stderr.contains(search) && tune.stderr.contains("No space left on device"), "\(tune.stderr)")

        #expect(try Self.run("/bin/mount", ["-o", "remount,ro", folder.path]) == 0)
        let readOnly = try runTool("mlp-train", ["--data", archive, "--epochs", "1", "--layers", "8", "--seed", "2", "-o", model])
        expectCleanFailure(readOnly, naming: model, problem: "not writable")
        let readOnlySearch = folder.appendingPathComponent("search-new").path
        let tuneReadOnly = try runTool("mlp-tune", ["--data", archive, "--output-dir", readOnlySearch, "--trials", "1", "--epochs", "1",
                                                    "--units", "8", "--hidden-layers", "1"])
        expectCleanFailure(tuneReadOnly, naming: readOnlySearch, problem: "cannot create the folder (Read-only file system)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: model)) == before)
    }
}
