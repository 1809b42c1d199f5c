import Foundation
import Testing
@testable import MLPKit

/// Tune → train → resume → evaluate as a user runs it: each step goes on with what the files
/// of the step before it record, and mistakes are caught before any data is loaded.
@Suite struct RoundTripTests {
    let archive = fixture("cifar/cifar-100-python.tar.gz")

    func weights(_ path: String) throws -> [Float] { try ModelFile.load(path: path).model.parameters.flatMap(\.value.array) }

    func options(_ path: String) throws -> [String: Any] {
        let text = try #require(try ModelFile.load(path: path).record.entries["options"])
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// An environment in which the default data location is empty and a download cannot
    /// succeed, so a tool that looked there would fail.
    func noDefaultData(_ folder: URL) -> [String: String] {
        ["KERAS_HOME": folder.appendingPathComponent("keras-home").path, "MLP_CIFAR100_URL": "http://127.0.0.1:9/none.tar.gz"]
    }

    /// `mlp-tune --retrain` then `mlp-train --model best.json`: the optimizer and learning rate
    /// of the best trial (its compile_config), not RMSprop at 0.001; a flag overrides the file.
    @Test func modelConfigCarriesItsOptimizer() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let search = folder.appendingPathComponent("search").path
        let tune = try runTool("mlp-tune", ["--data", archive, "--output-dir", search, "--trials", "2", "--epochs", "1", "--units", "16",
                                            "--hidden-layers", "1", "--optimizer", "adam,sgd", "--seed", "3", "--retrain"])
        #expect(tune.status == 0, "\(tune.stderr)")
        let best = search + "/best.json"
        let config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: best))) as? [String: Any])
        let compiled = try #require((config["compile_config"] as? [String: Any])?["optimizer"] as? [String: Any])
        let className = try #require(compiled["class_name"] as? String)
        let rate = try #require(((compiled["config"] as? [String: Any])?["learning_rate"] as? NSNumber)?.floatValue)
        let final = try ModelFile.load(path: search + "/final.h5")
        #expect(final.optimizer?.kerasClassName == className)

        let model = folder.appendingPathComponent("m.h5").path
        let train = try runTool("mlp-train", ["--data", archive, "--model", best, "--epochs", "1", "--seed", "1", "-o", model])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("optimizer \(className) (learning rate \(rate)) from \(best)'s compile_config"), "\(train.stdout)")
        let saved = try ModelFile.load(path: model)
        #expect(saved.optimizer?.kerasClassName == className)
        #expect(saved.optimizer?.learningRate == rate)
        #expect(try options(model)["optimizer"] as? String == className.lowercased())

        let overridden = try runTool("mlp-train", ["--data", archive, "--model", best, "--epochs", "1", "--seed", "1", "-o", model,
                                                   "--learning-rate", "0.0005"])
        #expect(overridden.status == 0, "\(overridden.stderr)")
        #expect(overridden.stdout.contains("optimizer \(className) (learning rate 0.0005) from \(best)'s compile_config, the learning rate from --learning-rate"))
        #expect(try ModelFile.load(path: model).optimizer?.learningRate == 0.0005)
    }

    /// `--resume` without `--seed` goes on with the recorded seed: 2 epochs then 1 more equal 3
    /// epochs in one run, bit for bit; the resumed file records the learning rate it trained at.
    @Test func resumeKeepsTheSeed() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = { folder.appendingPathComponent($0).path }
        let common = ["--data", archive, "--batch-size", "32", "--dropout", "0.2", "--optimizer", "adam"]
        #expect(try runTool("mlp-train", common + ["--epochs", "3", "--seed", "7", "-o", path("once.h5")]).status == 0)
        #expect(try runTool("mlp-train", common + ["--epochs", "2", "--seed", "7", "-o", path("first.h5")]).status == 0)
        let resumed = try runTool("mlp-train", ["--data", archive, "--batch-size", "32", "--epochs", "1", "--resume", path("first.h5"),
                                                "-o", path("resumed.h5")])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("; seed 7"), "\(resumed.stdout)")
        #expect(try weights(path("resumed.h5")) == weights(path("once.h5")))
        #expect(try ModelFile.load(path: path("resumed.h5")).record.entries["seed"] == "7")

        let slower = try runTool("mlp-train", ["--data", archive, "--epochs", "1", "--resume", path("first.h5"), "-o", path("slower.h5"),
                                               "--learning-rate", "0.0001"])
        #expect(slower.status == 0, "\(slower.stderr)")
        #expect((try options(path("slower.h5"))["learning_rate"] as? NSNumber)?.doubleValue == 0.0001)
        #expect((try options(path("slower.h5"))["optimizer"] as? String) == "adam")
        // Another optimizer cannot take over the saved one's state.
        let other = try runTool("mlp-train", ["--data", archive, "--resume", path("first.h5"), "-o", path("x.h5"), "--optimizer", "sgd"])
        expectCleanFailure(other, naming: "--optimizer", problem: "goes on with the optimizer")
    }

    /// `mlp-eval` and `--resume` use the label mode and the data a file records; other data
    /// gets a note naming both.
    @Test func evaluationUsesTheRecordedData() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("coarse.h5").path
        let train = try runTool("mlp-train", ["--data", archive, "--label-mode", "coarse", "--epochs", "1", "--seed", "1", "-o", model])
        #expect(train.status == 0, "\(train.stderr)")
        let environment = noDefaultData(folder)

        let eval = try runTool("mlp-eval", [model, "--json"], environment: environment)
        #expect(eval.status == 0, "\(eval.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        #expect((report["per_class"] as? [Any])?.count == 20)
        #expect(report["data"] as? String == archive)
        #expect(!eval.stderr.contains("note:"), "\(eval.stderr)")

        let given = try runTool("mlp-eval", [model, "--data", archive], environment: environment)
        #expect(given.status == 0, "\(given.stderr)")
        #expect(!given.stdout.contains("note:"))
        let other = try runTool("mlp-eval", [model, "--data", "synthetic"], environment: environment)
        #expect(other.status == 0, "\(other.stderr)")
        let note = try #require(other.stdout.split(separator: "\n").first { $0.hasPrefix("note:") })
        #expect(note.contains("was trained on cifar100-coarse") && note.contains("synthetic-v1-coarse"), "\(note)")
        #expect(note.split(separator: "sha256").count == 3, "\(note)")

        let resumed = try runTool("mlp-train", ["--resume", model, "--epochs", "1", "-o", model], environment: environment)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("data: \(archive), which \(model) records"))
        let compare = try runTool("mlp-eval", ["--compare", model, model, "--json"], environment: environment)
        #expect(compare.status == 0, "\(compare.stderr)")
        let comparison = try #require(try JSONSerialization.jsonObject(with: Data(compare.stdout.utf8)) as? [String: Any])
        #expect((comparison["accuracy"] as? [String: Any])?["b_minus_a"] as? Double == 0)
    }

    /// What needs only the arguments and the files' first bytes is refused before the data is
    /// read: here the data does not exist, so any later check would name it instead.
    @Test func mistakesBeforeTheWork() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let nowhere = "/nonexistent/cifar-100-python.tar.gz", output = folder.appendingPathComponent("m.h5").path
        func train(_ arguments: [String]) throws -> RunResult { try runTool("mlp-train", ["--data", nowhere, "-o", output] + arguments) }

        // A saved model's architecture is taken (its weights are not), a damaged one refused.
        let saved = fixture("keras/native/k3_bn_dropout_l2_adam.keras")
        expectCleanFailure(try train(["--model", saved]), naming: nowhere, problem: "no such file")
        let hostile = fixture("damaged/dotdot.keras")
        expectCleanFailure(try train(["--model", hostile]), naming: hostile, problem: "path outside the archive")
        let space = folder.appendingPathComponent("space.json").path
        try Data(#"{"learning_rate": {"log_uniform": [0.0001, 0.01]}, "layers": {"int": [1, 3]}}"#.utf8).write(to: URL(fileURLWithPath: space))
        expectCleanFailure(try train(["--model", space]), naming: space, problem: "is a search space")
        expectCleanFailure(try train(["--early-stopping", "2"]), naming: "--monitor", problem: "needs validation data")
        expectCleanFailure(try train(["--layers", ""]), naming: "--layers", problem: "'none' for no hidden layer")
        expectCleanFailure(try train(["--learning-rate", "-1"]), naming: "--learning-rate", problem: "above 0")
        expectCleanFailure(try train(["--dropout", "-0.5"]), naming: "--dropout", problem: "0 to below 1")
        let unknown = try train(["--epoch", "2"])
        #expect(unknown.stderr.contains("Did you mean '--epochs'? See mlp-train --help."), "\(unknown.stderr)")
    }

    /// An output's extension decides its format; a name asking for a format not written here
    /// is refused, and mlp-tune never writes into a folder of other files.
    @Test func outputsByName() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let pickle = folder.appendingPathComponent("model.pkl").path
        expectCleanFailure(try runTool("mlp-train", ["--data", "/nonexistent/x", "-o", pickle]), naming: pickle,
                           problem: ".pkl is not a format written here; name the file .h5 or .hdf5 or .keras")
        let png = folder.appendingPathComponent("curves.png").path
        expectCleanFailure(try runTool("mlp-train", ["--data", "/nonexistent/x", "-o", folder.appendingPathComponent("m.h5").path,
                                                     "--plot", png]), naming: png, problem: ".svg")
        let roc = folder.appendingPathComponent("roc.png").path
        expectCleanFailure(try runTool("mlp-eval", [fixture("keras/k3_mlp_adam.h5"), "--data", "/nonexistent/x", "--roc-plot", roc]),
                           naming: roc, problem: ".svg")
        #expect(!FileManager.default.fileExists(atPath: pickle) && !FileManager.default.fileExists(atPath: png))

        let theirs = folder.appendingPathComponent("theirs")
        try FileManager.default.createDirectory(at: theirs, withIntermediateDirectories: true)
        let precious = theirs.appendingPathComponent("best.h5")
        try Data("not ours".utf8).write(to: precious)
        let tune = try runTool("mlp-tune", ["--data", archive, "--output-dir", theirs.path, "--trials", "1", "--epochs", "1"])
        expectCleanFailure(tune, naming: theirs.path, problem: "give an empty or new folder")
        #expect(try String(contentsOf: precious, encoding: .utf8) == "not ours")
        // A folder of its own search is gone on with.
        let own = folder.appendingPathComponent("own").path
        let args = ["--data", archive, "--output-dir", own, "--trials", "1", "--epochs", "1", "--units", "8", "--hidden-layers", "1", "--seed", "1"]
        #expect(try runTool("mlp-tune", args).status == 0)
        let again = try runTool("mlp-tune", args)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("(1 trial already done)"), "\(again.stdout)")
    }

    /// mlp-tune's --hidden-layers is a number of layers: mlp-train's --layers spelling gets an
    /// answer that says so. Its former name, --layers, still works and says it is the former name.
    @Test func oneVocabulary() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try runTool("mlp-tune", ["--data", archive, "--output-dir", folder.path, "--hidden-layers", "512:relu"])
        expectCleanFailure(result, naming: "--hidden-layers", problem: "this is how many hidden layers")
        let huge = try runTool("mlp-tune", ["--data", archive, "--output-dir", folder.path, "--hidden-layers", "1:1e19"])
        expectCleanFailure(huge, naming: "--hidden-layers", problem: "whole numbers")
        let old = try runTool("mlp-tune", ["--data", archive, "--output-dir", folder.appendingPathComponent("old").path, "--layers", "1",
                                           "--units", "8", "--trials", "1", "--epochs", "1", "--seed", "1"])
        #expect(old.status == 0, "\(old.stderr)")
        #expect(old.stderr.contains("--layers is now --hidden-layers"), "\(old.stderr)")
        #expect(old.stdout.contains("layers 1"), "\(old.stdout)")
    }

    /// mlp-bench, run from another folder, finds mlp-train beside itself, and a Python that is
    /// not there is named before any benchmark runs.
    @Test func benchFindsItsSiblings() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = try runTool("mlp-bench", ["--data", archive, "--epochs", "2", "--skip-wide", "--compare-keras",
                                                "--python", "/nonexistent/python"], in: folder)
        expectCleanFailure(missing, naming: "/nonexistent/python", problem: "python")
        #expect(!missing.stdout.contains("epoch"), "the benchmark ran before the Python was checked: \(missing.stdout)")
        let bench = try runTool("mlp-bench", ["--data", archive, "--epochs", "2", "--skip-wide"], in: folder)
        #expect(bench.status == 0, "\(bench.stderr)")
        #expect(bench.stdout.contains("baseline"), "\(bench.stdout)")
        #expect(!bench.stdout.contains("OpenBLAS OpenBLAS"))
    }

    /// The model line, the history file and a missing model read as they should.
    @Test func wording() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let history = folder.appendingPathComponent("h.json").path
        let train = try runTool("mlp-train", ["--data", archive, "--layers", "32:relu", "--dropout", "0.2", "--epochs", "2", "--seed", "1",
                                              "--history", history, "-o", folder.appendingPathComponent("m.h5").path])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("Dense(32) → Dropout(rate 0.2) → Dense(100)"), "\(train.stdout)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: history))) as? [String: Any])
        #expect(object["epoch"] as? [Int] == [0, 1])
        expectCleanFailure(try runTool("mlp-inspect", [folder.path]), naming: folder.path, problem: "is a folder")
    }
}
