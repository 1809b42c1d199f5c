import Foundation
import Testing
import MLPKit

/// The third hardening round's findings: values from a search folder checked before they
/// become counts, the history written after every epoch, the caller's thread left as it was.
@Suite struct CodeHealthTests {
    let archive = fixture("cifar/cifar-100-python.tar.gz")

    /// A trial record holding an absurd width (a shared folder can hold anything) is refused
    /// in one line naming the record, where it used to trap converting 1e19 to an Int.
    @Test func absurdTrialRecordIsRefused() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let arguments = ["--data", archive, "--output-dir", folder.path, "--epochs", "1", "--units", "8", "--hidden-layers", "1", "--seed", "1"]
        #expect(try runTool("mlp-tune", arguments + ["--trials", "1"]).status == 0)
        let record = folder.appendingPathComponent("trials/0000/trial.json")
        let text = try String(contentsOf: record, encoding: .utf8)
        let damaged = text.replacingOccurrences(of: #""units":8"#, with: #""units":1e19"#)
        #expect(damaged != text, "the record's spelling of units changed: \(text)")
        try Data(damaged.utf8).write(to: record)
        expectCleanFailure(try runTool("mlp-tune", arguments + ["--trials", "2"]), naming: record.path, problem: "hyperparameter 'units'")
        let epochs = text.replacingOccurrences(of: #""epochs":1"#, with: #""epochs":1000000000"#)
        #expect(epochs != text)
        try Data(epochs.utf8).write(to: record)
        expectCleanFailure(try runTool("mlp-tune", arguments + ["--trials", "2"]), naming: record.path, problem: "epochs 1000000000 is outside")
    }

    /// A damaged search folder: a garbage trials.csv is rewritten, a lock stamped a year ahead
    /// (no worker's heartbeat) is broken instead of waited on, and a truncated search.json or
    /// trial record is refused in one line naming it.
    @Test func damagedSearchFolder() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let arguments = ["--data", archive, "--output-dir", folder.path, "--epochs", "1", "--units", "8", "--hidden-layers", "1", "--seed", "1",
                         "--claim-timeout", "5"]
        #expect(try runTool("mlp-tune", arguments + ["--trials", "1"]).status == 0)
        let csv = folder.appendingPathComponent("trials.csv")
        try Data([0x67, 0x00, 0xFF, 0x0A]).write(to: csv)
        let lock = folder.appendingPathComponent("lock")
        try Data("elsewhere:1:x".utf8).write(to: lock)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(365 * 86_400)], ofItemAtPath: lock.path)
        let started = Date()
        let again = try runTool("mlp-tune", arguments + ["--trials", "2"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(Date().timeIntervalSince(started) < 14, "waited on a lock from the future")
        let rows = try String(contentsOf: csv, encoding: .utf8).split(whereSeparator: \.isNewline)
        #expect(rows.count == 3 && rows[0].hasPrefix("trial,"), "\(rows)")

        let record = folder.appendingPathComponent("trials/0001/trial.json")
        let whole = try Data(contentsOf: record)
        try whole.prefix(whole.count / 2).write(to: record)
        expectCleanFailure(try runTool("mlp-tune", arguments + ["--trials", "3"]), naming: record.path, problem: "not a trial record")
        try whole.write(to: record)
        let settings = folder.appendingPathComponent("search.json")
        let text = try Data(contentsOf: settings)
        try text.prefix(text.count / 2).write(to: settings)
        expectCleanFailure(try runTool("mlp-tune", arguments + ["--trials", "3"]), naming: settings.path, problem: "not a search's settings")
    }

    /// The history file holds every finished epoch when the next begins, however short the
    /// epochs (it used to skip writes within a second of the last).
    @Test func historyAfterEveryEpoch() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("h.csv").path
        final class Reader: Callback {
            let path: String
            var rows: [Int] = []
            init(path: String) { self.path = path }
            func epochEnd(_ epoch: Int, logs: inout Logs, _ context: TrainingContext) throws {
                rows.append(((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(whereSeparator: \.isNewline).count - 1)
            }
        }
        let reader = Reader(path: path)
        var recipe = TrainingRecipe()
        recipe.start = .fresh(.layers([HiddenLayerSpec(units: 8, activation: .relu)]))
        recipe.epochs = 4
        recipe.seed = 1
        recipe.history = path
        let data = SyntheticCIFAR.make(trainCount: 64, testCount: 16)
        _ = try recipe.run(data: { data }, callbacks: [reader], log: { _ in })
        #expect(reader.rows == [1, 2, 3, 4])
    }

    /// Training leaves the caller's thread computing denormals as before (fit flushes them to
    /// zero while it runs, as TensorFlow does, and used to leave that switched on).
    @Test func fitRestoresTheFloatingPointControl() throws {
        let half = { (x: Float) in x / 2 }
        // The smallest normal float, from a value the compiler cannot know, so that halving it
        // happens at run time under the thread's control state.
        let tiny = Float(bitPattern: ProcessInfo.processInfo.processIdentifier > 0 ? 0x0080_0000 : 0)
        #expect(half(tiny) != 0)
        var recipe = TrainingRecipe()
        recipe.start = .fresh(.layers([HiddenLayerSpec(units: 8, activation: .relu)]))
        recipe.epochs = 1
        recipe.seed = 1
        _ = try recipe.run(data: { SyntheticCIFAR.make(trainCount: 64, testCount: 16) }, log: { _ in })
        #expect(half(tiny) != 0, "denormals are flushed to zero after training")
        #expect(withDenormalsFlushedToZero { half(tiny) } == 0)
        #expect(half(tiny) != 0)
    }
}

/// Writing to a full disk and to a read-only one, on a small tmpfs (mounting one needs root,
/// as CI runs; elsewhere the test says it was skipped).
@Suite(.serialized) struct FullDiskTests {
    let archive = fixture("cifar/cifar-100-python.tar.gz")

    func run(_ tool: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test func fullAndReadOnlyDisk() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        guard try run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", folder.path]) == 0 else {
            print("full-disk check skipped: cannot mount a tmpfs here (it needs root)")
            return
        }
        defer { _ = try? run("/bin/umount", [folder.path]) }
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

        #expect(try run("/bin/mount", ["-o", "remount,ro", folder.path]) == 0)
        let readOnly = try runTool("mlp-train", ["--data", archive, "--epochs", "1", "--layers", "8", "--seed", "2", "-o", model])
        expectCleanFailure(readOnly, naming: model, problem: "not writable")
        let readOnlySearch = folder.appendingPathComponent("new/search").path
        let tuneReadOnly = try runTool("mlp-tune", ["--data", archive, "--output-dir", readOnlySearch, "--trials", "1", "--epochs", "1",
                                                    "--units", "8", "--hidden-layers", "1"])
        expectCleanFailure(tuneReadOnly, naming: readOnlySearch, problem: "cannot create the folder (Read-only file system)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: model)) == before)
    }
}

/// `model.summary()`'s table, against counts worked by hand: a Dense layer has inputs × units
/// + units weights; BatchNormalization four per unit, of which the moving mean and variance
/// (two per unit) are not trainable; sizes are 4 bytes a weight in powers of 1024.
@Suite struct ModelSummaryTests {
    @Test func baselineCounts() {
        let model = Sequential.mlp(inputShape: [3072], hidden: [HiddenLayerSpec(units: 128, activation: .relu)], classes: 100, seed: 1)
        #expect(ModelSummary.rows(model).map(\.parameters) == [3072 * 128 + 128, 128 * 100 + 100])
        let table = ModelSummary.table(model)
        #expect(table.contains("Total params: 406,244 (1.55 MB)"), "\(table)")
        #expect(table.contains("Non-trainable params: 0 (0.00 B)"))
        #expect(table.contains("(None, 128)") && table.contains("393,344"))
    }

    @Test func batchNormalizationCounts() {
        let model = Sequential.mlp(inputShape: [3072], hidden: [HiddenLayerSpec(units: 64, activation: .relu)], classes: 10,
                                   batchNorm: true, seed: 1)
        #expect(ModelSummary.rows(model).map(\.parameters) == [3072 * 64 + 64, 4 * 64, 64 * 10 + 10])
        let table = ModelSummary.table(model)
        // 197,578 weights × 4 bytes = 790,312 B = 771.79 KB; 128 moving statistics = 512 B.
        #expect(table.contains("Total params: 197,578 (771.79 KB)"), "\(table)")
        #expect(table.contains("Trainable params: 197,450 (771.29 KB)"), "\(table)")
        #expect(table.contains("Non-trainable params: 128 (512.00 B)"), "\(table)")
    }
}
