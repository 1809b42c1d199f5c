import Foundation
import Testing
@testable import MLPKit

/// The search space, Hyperband against KerasTuner's own oracle (Fixtures/tuning/make.py), the
/// trial store shared by workers, and mlp-tune end to end.
@Suite struct TuningTests {
    static let archive = fixture("cifar/cifar-100-python.tar.gz")

    /// The cases of a fixture that lists them; an error, not zero cases, when it is missing or empty.
    static func cases(_ relative: String) throws -> [[String: Any]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture(relative)))
        guard let cases = try JSONSerialization.jsonObject(with: data) as? [[String: Any]], !cases.isEmpty else {
            throw MLPError.format(path: fixture(relative), problem: "no cases")
        }
        return cases
    }

    static func hyperbandCases() throws -> [Int] { Array(try cases("tuning/hyperband.json").indices) }

    /// One worker's whole search, trial by trial, against the trials KerasTuner's
    /// HyperbandOracle creates with the same scores: the same brackets, rounds, epochs and
    /// promotions, in the same order.
    @Test(arguments: try hyperbandCases())
    func hyperbandMatchesKerasTuner(_ index: Int) throws {
        let item = try Self.cases("tuning/hyperband.json")[index]
        let hyperband = Hyperband(maxEpochs: try #require(item["max_epochs"] as? Int), factor: try #require(item["factor"] as? Int),
                                  iterations: try #require(item["iterations"] as? Int))
        let scores = try doubles(item["scores"])
        let expected = try #require(item["trials"] as? [[String: Any]])
        var entries: [Hyperband.Entry] = []
        var made: [[String: Any]] = []
        while made.count <= expected.count {
            let step = hyperband.next(after: entries, objective: Monitor("val_accuracy"))
            let number = entries.count, score = scores[number % scores.count]
            switch step {
            case .done:
                break
            case .wait:
                Issue.record("a lone worker waits after \(number) trials")
            case .new(let slot):
                entries.append(Hyperband.Entry(number: number, slot: slot, pastTrial: nil, score: score, finished: true))
                made.append(["bracket": slot.bracket, "round": slot.round, "epochs": hyperband.epochs(bracket: slot.bracket, round: 0),
                             "initial_epoch": 0])
                continue
            case .promote(let past, let slot):
                entries.append(Hyperband.Entry(number: number, slot: slot, pastTrial: past, score: score, finished: true))
                made.append(["bracket": slot.bracket, "round": slot.round, "epochs": hyperband.epochs(bracket: slot.bracket, round: slot.round),
                             "initial_epoch": hyperband.epochs(bracket: slot.bracket, round: slot.round - 1), "past_trial": past])
                continue
            }
            break
        }
        #expect(made.count == expected.count, "\(made.count) trials against KerasTuner's \(expected.count)")
        for (number, (ours, theirs)) in zip(made, expected).enumerated() {
            for key in ["bracket", "round", "epochs", "initial_epoch"] {
                #expect(ours[key] as? Int == theirs[key] as? Int, "trial \(number): \(key)")
            }
            #expect(ours["past_trial"] as? Int == theirs["past_trial"] as? Int, "trial \(number): past trial")
        }
    }

    static func drawCases() throws -> [Int] { Array(try cases("tuning/draws.json").indices) }

    /// The same seed draws KerasTuner's trials: every value equal, bit for bit, to what its
    /// RandomSearchOracle draws (Fixtures/tuning/make.py), through repeats thrown away and a
    /// space that runs out, and for seeds of one, two and three 32-bit words.
    @Test(arguments: try drawCases())
    func drawsMatchKerasTuner(_ index: Int) throws {
        let item = try Self.cases("tuning/draws.json")[index]
        let spaceData = try JSONSerialization.data(withJSONObject: try #require(item["space"]))
        let space = try SearchSpace(json: String(decoding: spaceData, as: UTF8.self), source: "draws.json")
        let seed = try #require(item["seed"] as? NSNumber).uint64Value
        let expected = try #require(item["trials"] as? [[String: Any]])
        #expect(expected.count >= 6)
        let drawn = RandomSampler(space: space, seed: seed).samples(count: expected.count + 1)
        // KerasTuner stops where the space runs out; otherwise it was asked for exactly these.
        #expect(drawn.count == (expected.count < 10 ? expected.count : expected.count + 1))
        for (number, (ours, theirs)) in zip(drawn, expected).enumerated() {
            #expect(Set(ours.values.keys) == Set(theirs.keys), "trial \(number)")
            for (key, value) in theirs {
                let mine = try #require(ours[key], "trial \(number): \(key)")
                switch mine {
                case .double(let v): #expect(v == Double(try #require(value as? String)), "trial \(number): \(key) \(v) against \(value)")
                case .int(let v): #expect(v == (value as? Int), "trial \(number): \(key)")
                case .string(let v): #expect(v == (value as? String), "trial \(number): \(key)")
                // KerasTuner's Choice keeps booleans as 1 and 0.
                case .bool(let v): #expect((v ? 1 : 0) == (value as? Int), "trial \(number): \(key)")
                }
            }
        }
    }

    /// The README's space JSON, read and drawn from: every value within its range, the same
    /// values for the same seed and index.
    @Test func spaceFromJSON() throws {
        let text = #"{"learning_rate": {"log_uniform": [0.0001, 0.01]}, "layers": {"int": [1, 3]}, "units": {"choice": [64, 128, 256, 512]}, "dropout": {"uniform": [0.0, 0.5]}, "optimizer": {"choice": ["adam", "rmsprop"]}, "batch_norm": {"choice": [true, false]}, "batch_size": 128}"#
        let space = try SearchSpace(json: text, source: "space.json")
        #expect(space.entries.map(\.key) == ["learning_rate", "layers", "units", "dropout", "optimizer", "batch_size", "batch_norm"])
        let sampler = RandomSampler(space: space, seed: 5)
        var seen = Set<HyperparameterValues>()
        let drawn = sampler.samples(count: 400)
        #expect(drawn.count == 400)
        #expect(drawn[7] == sampler.sample(index: 7) && drawn[199] == sampler.sample(index: 199))
        for values in drawn.prefix(200) {
            let rate = try #require(values["learning_rate"]?.number)
            #expect(rate >= 1e-4 && rate <= 1e-2)
            #expect([1, 2, 3].contains(values["layers"]?.number))
            #expect([64, 128, 256, 512].contains(values["units"]?.number))
            #expect((0...0.5).contains(try #require(values["dropout"]?.number)))
            #expect(values["optimizer"] == .string("adam") || values["optimizer"] == .string("rmsprop"))
            #expect(values["batch_size"] == .int(128))
            seen.insert(values)
        }
        #expect(seen.count == 200)
        // Spread on a log scale: about half the rates below 1e-3.
        let low = drawn.compactMap { $0["learning_rate"]?.number }.filter { $0 < 1e-3 }.count
        #expect((150...250).contains(low), "\(low) of 400 rates below 1e-3")
        // A discrete space runs out of new values.
        let small = RandomSampler(space: try SearchSpace(entries: [("units", .choice([.int(64), .int(128)]))]), seed: 1)
        let both = small.samples(count: 3)
        #expect(both.count == 2 && both[0] != both[1] && small.sample(index: 2) == nil)
    }

    /// An unknown key or a malformed range is one error naming the key (and the file).
    @Test(arguments: [
        (#"{"learning_rat": {"log_uniform": [0.001, 0.1]}}"#, "'learning_rat': unknown hyperparameter"),
        (#"{"learning_rate": {"log_uniform": [0.0, 0.1]}}"#, "'learning_rate': log_uniform needs a low above 0"),
        (#"{"layers": {"int": [3, 1]}}"#, "'layers': int needs [low, high]"),
        (#"{"units": {"choice": [64, 64.5]}}"#, "'units': 64.5 is not a whole number"),
        (#"{"dropout": {"uniform": [0, 1.5]}}"#, "'dropout': 1.5 is outside [0, 0.95]"),
        (#"{"optimizer": {"choice": ["adam", "lion"]}}"#, "'optimizer': must be a choice of"),
        (#"{"dropout": {"normal": [0, 1]}}"#, "'dropout': unknown range 'normal'"),
        (#"[1, 2]"#, "the search space is not a JSON object"),
    ])
    func badSpaces(_ text: String, _ problem: String) {
        #expect {
            _ = try SearchSpace(json: text, source: "space.json")
        } throws: { error in
            "\(error)".hasPrefix("space.json: ") && "\(error)".contains(problem)
        }
    }

    @Test func spaceFromFlags() throws {
        #expect(try SearchSpace.distribution(key: "learning_rate", flag: "1e-4:1e-2") == .logUniform(1e-4, 1e-2))
        #expect(try SearchSpace.distribution(key: "layers", flag: "1:3") == .int(1, 3))
        #expect(try SearchSpace.distribution(key: "units", flag: "64,128,256,512") == .choice([.int(64), .int(128), .int(256), .int(512)]))
        #expect(try SearchSpace.distribution(key: "dropout", flag: "0:0.5") == .uniform(0, 0.5))
        #expect(try SearchSpace.distribution(key: "optimizer", flag: "adam,rmsprop") == .choice([.string("adam"), .string("rmsprop")]))
        #expect(try SearchSpace.distribution(key: "batch_size", flag: "128") == .choice([.int(128)]))
        #expect(try SearchSpace.distribution(key: "batch_norm", flag: "true,false") == .choice([.bool(true), .bool(false)]))
        #expect(throws: MLPError.setting("units", problem: "'1:x' is not LOW:HIGH with LOW at most HIGH")) {
            try SearchSpace.distribution(key: "units", flag: "1:x")
        }
        // Absurd whole numbers are refused, not converted (a Double beyond Int's range traps).
        #expect(throws: MLPError.setting("units", problem: "'64:1e300' is not a range of whole numbers from -2^31 to 2^31")) {
            try SearchSpace.distribution(key: "units", flag: "64:1e300")
        }
        #expect(try SearchSpace.distribution(key: "units", flag: "64,1e300") == .choice([.int(64), .double(1e300)]))
        #expect(throws: MLPError.self) { try SearchSpace.standard.replacing("units", with: .choice([.int(64), .double(1e300)])) }
    }

    // MARK: mlp-tune end to end

    func trials(in folder: URL) throws -> [[String: Any]] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("trials").path).sorted()
        return try names.map { name in
            let data = try Data(contentsOf: folder.appendingPathComponent("trials/\(name)/trial.json"))
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
    }

    func tune(_ folder: URL, _ arguments: [String], interruptOn marker: String? = nil) throws -> RunResult {
        try runTool("mlp-tune", ["--data", Self.archive, "--output-dir", folder.path] + arguments, interruptOn: marker)
    }

    /// A random search writes every file; run again, it runs no trial again; extended, it runs
    /// only the new ones; retrained, final.h5 is there for mlp-eval --compare.
    @Test func searchWritesEverythingAndResumes() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try tune(folder, ["--trials", "3", "--epochs", "2", "--units", "32,64", "--seed", "7"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.components(separatedBy: "\ntrial ").count - 1 == 3, "\(first.stdout)")
        for name in ["search.json", "trials.csv", "trials.svg", "best.h5", "best.json"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), "\(name)")
        }
        let csv = try String(contentsOf: folder.appendingPathComponent("trials.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv.first == "trial,learning_rate,layers,units,dropout,optimizer,score,best_epoch,epochs,seconds,status,bracket,round,from_trial,reason")
        #expect(csv.count == 4)
        let records = try trials(in: folder)
        #expect(records.count == 3 && records.allSatisfy { $0["status"] as? String == "completed" })
        for record in records {
            let trial = String(format: "%04d", try #require(record["trial"] as? Int))
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("trials/\(trial)/model.h5").path))
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("trials/\(trial)/history.csv").path))
        }
        // best.json is a model config mlp-train reads, with the optimizer recorded.
        let best = try String(contentsOf: folder.appendingPathComponent("best.json"), encoding: .utf8)
        let model = try ModelConfig.model(fromJSON: best, source: "best.json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(best.utf8)) as? [String: Any])
        #expect(((object["compile_config"] as? [String: Any])?["optimizer"] as? [String: Any])?["class_name"] != nil)
        let bestTrial = try #require((object["mlp_tune"] as? [String: Any])?["trial"] as? Int)
        #expect(try ModelFile.load(path: folder.appendingPathComponent("best.h5").path).model.parameters.map(\.count)
                == model.parameters.map(\.count))
        let bestRecord = try #require(records.first { $0["trial"] as? Int == bestTrial })
        // Every score present (a missing one fails here instead of comparing a stand-in).
        let bestScore = try #require((bestRecord["score"] as? NSNumber)?.doubleValue)
        let scores = records.compactMap { ($0["score"] as? NSNumber)?.doubleValue }
        #expect(scores.count == records.count)
        #expect(scores.allSatisfy { $0 <= bestScore })

        let again = try tune(folder, ["--trials", "3", "--epochs", "2", "--units", "32,64"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(!again.stdout.contains("\ntrial "), "\(again.stdout)")
        #expect(again.stdout.contains("seed 7") && again.stdout.contains("(3 trials already done)"))
        let more = try tune(folder, ["--trials", "4", "--epochs", "2", "--units", "32,64", "--retrain"])
        #expect(more.status == 0, "\(more.stderr)")
        #expect(more.stdout.components(separatedBy: "\ntrial ").count - 1 == 1)
        let after = try trials(in: folder)
        #expect(after.count == 4 && after.allSatisfy { ($0["runs"] as? [Any])?.count == 1 })
        let final = folder.appendingPathComponent("final.h5").path
        let compared = try runTool("mlp-eval", ["--compare", folder.appendingPathComponent("best.h5").path, final, "--data", Self.archive, "--ci", "50"])
        #expect(compared.status == 0 && compared.stdout.contains("95% CI of B − A"), "\(compared.stderr)")
        // Another search's settings in the same folder are refused, naming what differs.
        let other = try tune(folder, ["--trials", "4", "--epochs", "3", "--units", "32,64"])
        expectCleanFailure(other, naming: "--epochs", problem: "has 2 epochs a trial (its search.json)")
    }

    /// Two workers on one folder split the trials and never run one twice.
    /// With the TPE too: past its 10 random trials, two workers still run every trial once, and
    /// no two trials share their values.
    @Test(arguments: [("random", 8, 150), ("tpe", 13, 50)])
    func twoWorkersShareTheSearch(_ algorithm: String, _ count: Int, _ epochs: Int) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let arguments = ["mlp-tune", "--data", Self.archive, "--output-dir", folder.path, "--trials", String(count), "--epochs", String(epochs),
                         "--units", "16,32,48,64", "--seed", "3", "--threads", "1", "--algorithm", algorithm]
        let workers = try (0..<2).map { _ -> Process in
            let process = Process()
            process.executableURL = productsFolder.appendingPathComponent("mlp-tune")
            process.arguments = Array(arguments.dropFirst())
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        for worker in workers { worker.waitUntilExit() }
        #expect(workers.allSatisfy { $0.terminationStatus == 0 })
        let records = try trials(in: folder)
        #expect(records.count == count && records.allSatisfy { $0["status"] as? String == "completed" })
        let values = records.compactMap { ($0["hyperparameters"] as? [String: Any]).map { "\($0.sorted { $0.key < $1.key })" } }
        #expect(Set(values).count == count, "two trials share their values: \(values)")
        let runs = records.map { ($0["runs"] as? [[String: Any]]) ?? [] }
        #expect(runs.allSatisfy { $0.count == 1 }, "a trial ran twice: \(runs)")
        let names = Set(runs.compactMap { $0.first?["worker"] as? String }.map { $0.split(separator: ":").dropLast().joined(separator: ":") })
        #expect(names.count == 2, "the work was not shared: \(names)")
    }

    /// Hyperband end to end: every trial completes, promoted ones included, and a promoted
    /// trial goes on from its past trial's model, optimizer state and all.
    @Test func hyperbandPromotionsComplete() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try tune(folder, ["--algorithm", "hyperband", "--max-epochs", "3", "--factor", "3", "--units", "8,16",
                                       "--optimizer", "adam,rmsprop", "--seed", "4"])
        #expect(result.status == 0, "\(result.stderr)")
        let records = try trials(in: folder)
        // KerasTuner's schedule for max_epochs 3, factor 3: brackets 3×1→1×3 and 2×3 (checked above).
        #expect(records.count == 6, "\(records.map { $0["trial"] ?? "?" })")
        #expect(records.allSatisfy { $0["status"] as? String == "completed" }, "\(records.compactMap { $0["reason"] })")
        let promoted = try #require(records.first { $0["past_trial"] != nil })
        let number = try #require(promoted["trial"] as? Int), past = try #require(promoted["past_trial"] as? Int)
        let before = try ModelFile.load(path: folder.appendingPathComponent(String(format: "trials/%04d/model.h5", past)).path)
        let after = try ModelFile.load(path: folder.appendingPathComponent(String(format: "trials/%04d/model.h5", number)).path)
        #expect(after.optimizer?.kerasClassName == before.optimizer?.kerasClassName)
        #expect((after.optimizer?.iterations ?? 0) > (before.optimizer?.iterations ?? 0))
    }

    /// A trial that diverges is recorded as failed, with the reason, and the search goes on.
    @Test func divergingTrialFails() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try tune(folder, ["--trials", "3", "--epochs", "5", "--learning-rate", "0.001,10", "--optimizer", "sgd",
                                       "--activation", "linear", "--hidden-layers", "1", "--units", "128", "--dropout", "0", "--seed", "3"])
        #expect(result.status == 0, "\(result.stderr)")
        let records = try trials(in: folder)
        #expect(records.count == 2, "the space holds two distinct trials")
        let failed = try #require(records.first { $0["status"] as? String == "failed" })
        #expect((failed["reason"] as? String)?.contains("training diverged in epoch") == true)
        #expect(records.contains { $0["status"] as? String == "completed" })
        #expect(try String(contentsOf: folder.appendingPathComponent("trials.csv"), encoding: .utf8).contains(",failed,"))
    }

    /// Ctrl-C in the middle of a trial leaves a folder that resumes: the finished trials stay,
    /// the interrupted one runs again.
    @Test func interruptedSearchResumes() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let arguments = ["--trials", "2", "--epochs", "300", "--units", "16", "--hidden-layers", "1", "--seed", "2", "--threads", "1"]
        let stopped = try tune(folder, arguments, interruptOn: "space:")
        #expect(stopped.status == 130, "\(stopped.stderr)")
        #expect(stopped.stderr.contains("run the same command again to go on"))
        let left = try trials(in: folder)
        #expect(left.count == 1 && left[0]["status"] as? String == "running")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("trials/0000/claim").path))
        let resumed = try tune(folder, arguments)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let records = try trials(in: folder)
        #expect(records.count == 2 && records.allSatisfy { $0["status"] as? String == "completed" })
        #expect(records.map { ($0["runs"] as? [Any])?.count } == [2, 1], "the interrupted trial is taken again, once")
    }

    /// The learning samplers resume as random search does: Ctrl-C past their random start, then
    /// the same command again, gives the search an uninterrupted run gives (training with one
    /// thread is deterministic, so every value, score and best epoch is compared), with each
    /// trial run once, or twice if it was the one interrupted.
    @Test(arguments: [("tpe", 10), ("bayesian", 15)])
    func interruptedLearningSearchResumes(_ algorithm: String, _ randomStart: Int) throws {
        let whole = try temporaryFolder(), stopped = try temporaryFolder()
        defer {
            try? FileManager.default.removeItem(at: whole)
            try? FileManager.default.removeItem(at: stopped)
        }
        let count = randomStart + 3
        let arguments = ["--algorithm", algorithm, "--trials", String(count), "--epochs", "30", "--units", "16,32",
                         "--hidden-layers", "1", "--seed", "2", "--threads", "1"]
        let reference = try tune(whole, arguments)
        #expect(reference.status == 0, "\(reference.stderr)")
        // Stopped while the model proposes: after its first proposed trial finishes.
        let first = try tune(stopped, arguments, interruptOn: "trial \(randomStart):")
        #expect(first.status == 130, "\(first.stderr)")
        let left = try trials(in: stopped)
        let interrupted = Set(left.filter { $0["status"] as? String == "running" }.compactMap { $0["trial"] as? Int })
        #expect(left.count < count && interrupted.count <= 1, "\(left.map { $0["status"] ?? "?" })")
        let resumed = try tune(stopped, arguments)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let records = try trials(in: stopped)
        #expect(records.count == count && records.allSatisfy { $0["status"] as? String == "completed" })
        for record in records {
            let trial = try #require(record["trial"] as? Int), runs = try #require(record["runs"] as? [Any])
            #expect(runs.count == (interrupted.contains(trial) ? 2 : 1), "trial \(trial) ran \(runs.count) times")
        }
        // trial, the values, score and best epoch of every trial: the same search.
        func table(_ folder: URL) throws -> [String] {
            try String(contentsOf: folder.appendingPathComponent("trials.csv"), encoding: .utf8).split(separator: "\n")
                .map { $0.split(separator: ",", omittingEmptySubsequences: false).prefix(8).joined(separator: ",") }
        }
        let expected = try table(whole), got = try table(stopped)
        #expect(expected.count == count + 1)
        #expect(got == expected)
    }

    /// A trial's values read back from its record are the values drawn, to the last bit:
    /// JSONSerialization reads these two 17-digit decimals one unit in the last place low, which
    /// let a search draw a trial twice after a trial folder was removed. Checked against Swift's
    /// own correctly rounded parse of the same text.
    @Test func trialValuesReadBackExactly() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = FolderStorage(folder: folder.appendingPathComponent("search").path)
        try store.prepare()
        let rate = try #require(Double("0.0005285006792644589")), dropout = try #require(Double("0.33856291340013517"))
        let values = HyperparameterValues(values: ["learning_rate": .double(rate), "dropout": .double(dropout), "layers": .int(1),
                                              "optimizer": .string("adam"), "batch_norm": .bool(true)])
        try store.write(TrialRecord(number: 0, hyperparameters: values, epochs: 2, initialEpoch: 0, seed: 1))
        let text = try String(contentsOfFile: store.folder.record(0), encoding: .utf8)
        #expect(text.contains("0.0005285006792644589") && text.contains("0.33856291340013517"), "\(text)")
        let read = try #require(try store.records().first)
        #expect(read.hyperparameters == values, "\(read.hyperparameters) against \(values)")
    }

    /// The holdout split is never read: a folder without one tunes.
    @Test func noHoldoutNeeded() throws {
        let folder = try temporaryFolder(), data = try temporaryFolder()
        defer {
            try? FileManager.default.removeItem(at: folder)
            try? FileManager.default.removeItem(at: data)
        }
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = ["-xzf", Self.archive, "-C", data.path]
        try tar.run()
        tar.waitUntilExit()
        try FileManager.default.removeItem(at: data.appendingPathComponent("cifar-100-python/test"))
        let result = try runTool("mlp-tune", ["--data", data.path, "--output-dir", folder.path, "--trials", "1", "--epochs", "1",
                                              "--units", "16", "--hidden-layers", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        let eval = try runTool("mlp-eval", [folder.appendingPathComponent("best.h5").path, "--data", data.path])
        expectCleanFailure(eval, naming: data.path, problem: "no CIFAR-100 test split found")
    }

    /// After every trial, best.json names the best trial so far and best.h5 is its model, byte
    /// for byte: when the best changed (the files are replaced) and when it did not (they are
    /// kept, not copied again). The search below sees both.
    @Test func bestFilesFollowTheBestTrial() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Learnable: the label is the brightest of the first three pixels.
        var generator = SeededGenerator(seed: 5)
        let images = (0..<(120 * 8)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let labels = (0..<120).map { row -> Int32 in
            let first = images[(row * 8)..<(row * 8 + 3)]
            return Int32(first.firstIndex(of: first.max()!)! - row * 8)
        }
        let data = ImageDataset(images: images, labels: labels, shape: [8], classNames: ["a", "b", "c"])
        let pair = DatasetPair(train: data, test: data.slice(0..<0), name: "tiny", source: "tiny", checksum: "")
        let rates: [HyperValue] = [1e-4, 3e-3, 1e-2, 3e-2, 0.1].map { .double($0) }
        let settings = TuningSettings(space: try SearchSpace(entries: [("learning_rate", .choice(rates)), ("units", .choice([.int(8)]))]),
                                      schedule: .trials(5, epochs: 4), objective: Monitor("val_accuracy"), seed: 1,
                                      validationSplit: 0.25)
        let store = FolderStorage(folder: folder.path)
        let tuner = try Tuner(settings: settings, storage: store, data: pair)
        tuner.log = { _ in }
        var bests: [Int] = []
        var mismatches: [String] = []
        tuner.report = { report in
            guard let best = report.best?.number else { return }
            bests.append(best)
            let json = FileManager.default.contents(atPath: folder.path + "/best.json")
                .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
            if (json?["mlp_tune"] as? [String: Any])?["trial"] as? Int != best { mismatches.append("best.json after trial \(report.record.number)") }
            if FileManager.default.contents(atPath: folder.path + "/best.h5") != FileManager.default.contents(atPath: store.folder.model(best)) {
                mismatches.append("best.h5 after trial \(report.record.number)")
            }
        }
        #expect(try tuner.run())
        #expect(mismatches.isEmpty, "\(mismatches)")
        #expect(bests.count == 5)
        let changes = zip(bests, bests.dropFirst()).filter { $0 != $1 }.count
        #expect(changes >= 1 && changes < 4, "best trial after each trial: \(bests)")
    }

    /// A worker that died leaves its claim to expire; the next worker takes the trial.
    @Test func staleClaimIsTakenOver() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var generator = SeededGenerator(seed: 4)
        let images = (0..<(60 * 8)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let data = ImageDataset(images: images, labels: (0..<60).map { Int32($0 % 3) }, shape: [8], classNames: ["a", "b", "c"])
        let pair = DatasetPair(train: data, test: data.slice(0..<0), name: "tiny", source: "tiny", checksum: "")
        let settings = TuningSettings(space: try SearchSpace(entries: [("units", .choice([.int(4), .int(6)]))]),
                                      schedule: .trials(2, epochs: 1), objective: Monitor("val_accuracy"), seed: 1,
                                      validationSplit: 0.25)
        // The dead worker: it claimed trial 0 and stopped.
        let dead = FolderStorage(folder: folder.path, timeout: 0.5)
        let deadTuner = try Tuner(settings: settings, storage: dead, data: pair)
        _ = deadTuner
        try dead.locked {
            try dead.claim(.trial(0))
            try AtomicFile.write(Data(#"{"trial": 0, "hyperparameters": {"units": 4}, "status": "running", "epochs": 1, "initial_epoch": 0, "seed": "9", "runs": [{"worker": "dead", "started": 0}]}"#.utf8),
                                 to: dead.folder.record(0))
        }
        #expect(dead.isClaimed(.trial(0)))
        Thread.sleep(forTimeInterval: 0.7)
        #expect(!dead.isClaimed(.trial(0)))
        let store = FolderStorage(folder: folder.path, timeout: 0.5)
        let tuner = try Tuner(settings: settings, storage: store, data: pair)
        tuner.log = { _ in }
        #expect(try tuner.run())
        let records = try store.records()
        #expect(records.count == 2 && records.allSatisfy { $0.status == .completed })
        #expect(records[0].runs.map(\.worker) == ["dead", store.worker])
    }
}
