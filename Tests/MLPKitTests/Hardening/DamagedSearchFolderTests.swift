import Foundation
import Testing
@testable import MLPKit

/// A search folder that holds damage of every kind: values checked before they become counts,
/// garbage outputs rewritten, a lock from the future broken, truncated records refused in one
/// line naming them.
@Suite struct DamagedSearchFolderTests {
    let archive = fixture("cifar/cifar-100-python.tar.gz")

    /// A trial record holding an absurd width (a shared folder can hold anything) is refused
    /// in one line naming the record, before the width becomes a count.
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
        // Waited on, the lock would hold the worker for three claim timeouts and then stop it
        // with "the search folder stays locked".
        let again = try runTool("mlp-tune", arguments + ["--trials", "2"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(!FileManager.default.fileExists(atPath: lock.path))
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
}
