import Foundation
import Testing
@testable import MLPKit

/// mlp-tune --pruner end to end: what each trial records after each epoch, which trials stop,
/// and the settings a folder keeps. The pruners' own decisions are checked against Optuna's in
/// PrunerTests and, for whole searches, by Tests/Harness/interchange_check.py.
@Suite struct PruningSearchTests {
    static let archive = fixture("cifar/cifar-100-python.tar.gz")

    func tune(_ folder: URL, _ arguments: [String]) throws -> RunResult {
        try runTool("mlp-tune", ["--data", Self.archive, "--output-dir", folder.path] + arguments)
    }

    func records(in folder: URL) throws -> [[String: Any]] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("trials").path).sorted()
        return try names.map { name in
            let data = try Data(contentsOf: folder.appendingPathComponent("trials/\(name)/trial.json"))
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
    }

    /// A trial's values by epoch (from 0), in order; an error when any is missing.
    func intermediateValues(_ record: [String: Any]) throws -> [Double] {
        let object = try #require(record["intermediate_values"] as? [String: Any])
        return try (0..<object.count).map { step in try #require((object[String(step)] as? NSNumber)?.doubleValue) }
    }

    /// numpy's percentile(values, 50): the middle value, or the mean of the two middle ones.
    func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Ten trials of four epochs on val_loss under the median pruner, one worker. Each trial
    /// records its loss after every epoch; a trial stops after the first epoch at which its best
    /// loss so far is above the median of the completed trials' losses at that epoch, once five
    /// have completed (Optuna's MedianPruner, recomputed here by hand from the records), and
    /// only then. A stopped trial is "pruned", scores its last value and keeps its epochs'
    /// history.
    @Test func medianPrunerStopsTrialsBehindTheMedian() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try tune(folder, ["--trials", "10", "--epochs", "4", "--units", "8,16", "--hidden-layers", "1", "--seed", "3",
                                       "--pruner", "median", "--objective", "val_loss"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("pruner median"), "\(result.stdout)")
        let records = try records(in: folder).sorted { ($0["trial"] as? Int ?? 0) < ($1["trial"] as? Int ?? 0) }
        #expect(records.count == 10)
        var completed: [[Double]] = []
        var pruned = 0
        for record in records {
            let number = try #require(record["trial"] as? Int)
            let status = try #require(record["status"] as? String)
            let values = try intermediateValues(record)
            let score = try #require((record["score"] as? NSNumber)?.doubleValue)
            // The first epoch at which the rule stops the trial, if any.
            var stop: Int?
            if completed.count >= 5 {
                stop = values.indices.first { step in
                    let best = values[...step].min()!
                    return best > median(completed.compactMap { step < $0.count ? $0[step] : nil })
                }
            }
            if let stop {
                #expect(status == "pruned", "trial \(number): the median rule stops it after epoch \(stop + 1)")
                #expect(values.count == stop + 1, "trial \(number) ran \(values.count) epochs, stopped after \(stop + 1)")
                #expect(score == values.last, "trial \(number): a pruned trial scores its last value")
                #expect(result.stdout.contains("trial \(number): ") && result.stdout.contains("pruned after epoch \(stop + 1)"))
                pruned += 1
            } else {
                #expect(status == "completed", "trial \(number)")
                #expect(values.count == 4, "trial \(number)")
                #expect(score == values.min(), "trial \(number): a completed trial scores its best epoch")
                completed.append(values)
            }
            let trial = String(format: "%04d", number)
            let history = try String(contentsOf: folder.appendingPathComponent("trials/\(trial)/history.csv"), encoding: .utf8)
            #expect(history.split(whereSeparator: \.isNewline).count == values.count + 1, "trial \(number)'s history")
        }
        // The seed was picked so that the rule stops some trials and lets others finish.
        #expect(pruned > 0 && pruned < 5, "\(pruned) pruned")
        let table = try String(contentsOf: folder.appendingPathComponent("trials.csv"), encoding: .utf8)
        #expect(table.split(separator: "\n").filter { $0.contains(",pruned,") }.count == pruned)
        // Optuna's journal records a pruned trial as PRUNED (state 2).
        let journal = try String(contentsOf: folder.appendingPathComponent("optuna-journal.log"), encoding: .utf8)
        let prunedStates = journal.split(separator: "\n").filter { $0.contains("\"op_code\":6") && $0.contains("\"state\":2") }
        #expect(prunedStates.count == pruned, "\(journal)")
    }

    /// The pruner is the folder's: a worker that names another is refused; one that names none
    /// goes on with it. Hyperband's schedule already stops trials, so a pruner beside it is
    /// refused, and so is a name no pruner has.
    @Test func prunerSettingsAreCheckedAndKept() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try tune(folder, ["--trials", "2", "--epochs", "2", "--units", "8", "--hidden-layers", "1", "--seed", "1",
                                      "--pruner", "successive-halving"])
        #expect(first.status == 0, "\(first.stderr)")
        let search = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("search.json"))) as? [String: Any])
        #expect((search["algorithm"] as? [String: Any])?["pruner"] as? String == "successive-halving")
        let other = try tune(folder, ["--trials", "3", "--pruner", "median"])
        expectCleanFailure(other, naming: "--pruner", problem: "has successive-halving (its search.json)")
        let more = try tune(folder, ["--trials", "3"])
        #expect(more.status == 0 && more.stdout.contains("pruner successive-halving"), "\(more.stderr)")
        let hyperband = try tune(try temporaryFolder(), ["--algorithm", "hyperband", "--pruner", "median"])
        expectCleanFailure(hyperband, naming: "--pruner", problem: "with --algorithm hyperband")
        let unknown = try tune(try temporaryFolder(), ["--pruner", "patient"])
        #expect(unknown.status != 0 && unknown.stderr.contains("--pruner must be one of none, hyperband, median"), "\(unknown.stderr)")
    }
}
