import Foundation
import Testing
@testable import MLPKit

/// What a search decides reaches the next step: `best.json` is a Keras config that carries the
/// search's recipe, a search folder goes on with what it records and refuses other data, flags
/// that do not apply are refused, and the messages and help say what the tools do.
@Suite struct HandOverTests {
    let archive = fixture("cifar/cifar-100-python.tar.gz")

    /// `mlp-train --model best.json -o x.h5` with no other option trains what `--retrain`
    /// trains: the batch size the search chose, the best trial's best epoch, the search's seed
    /// and data; the predictions of `x.h5` equal `final.h5`'s to the bit. The optimizer entry is
    /// in the shape Keras's own `to_json()` writes (Keras 3 loads it: the interchange check).
    @Test func bestJSONTrainsWhatRetrainTrains() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let search = folder.appendingPathComponent("search").path
        let tune = try runTool("mlp-tune", ["--data", archive, "--output-dir", search, "--trials", "3", "--epochs", "3", "--units", "16",
                                            "--hidden-layers", "1", "--batch-size", "16,32", "--seed", "2", "--retrain"])
        #expect(tune.status == 0, "\(tune.stderr)")
        let bestPath = search + "/best.json"
        let config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bestPath))) as? [String: Any])
        let optimizer = try #require((config["compile_config"] as? [String: Any])?["optimizer"] as? [String: Any])
        #expect(optimizer["module"] as? String == "keras.optimizers" && optimizer.keys.contains("registered_name"))
        let record = try #require(config["mlp_tune"] as? [String: Any])
        let batch = try #require(record["batch_size"] as? Int), bestEpoch = try #require(record["best_epoch"] as? Int)

        // From another folder, without --data: the file says where the data is.
        let elsewhere = folder.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let train = try runTool("mlp-train", ["--model", bestPath, "-o", "x.h5"], in: elsewhere)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("batch size \(batch), \(bestEpoch) epoch") && train.stdout.contains("seed 2 and the data from best.json"),
                "\(train.stdout)")
        let x = try ModelFile.load(path: elsewhere.appendingPathComponent("x.h5").path)
        #expect(x.record.entries["epochs_completed"] == String(bestEpoch) && x.record.entries["seed"] == "2")
        var predictions: [Data] = []
        for model in [elsewhere.appendingPathComponent("x.h5").path, search + "/final.h5"] {
            let npy = folder.appendingPathComponent(UUID().uuidString + ".npy").path
            let eval = try runTool("mlp-eval", [model, "--data", archive, "--predictions", npy])
            #expect(eval.status == 0, "\(eval.stderr)")
            predictions.append(try Data(contentsOf: URL(fileURLWithPath: npy)))
        }
        #expect(predictions[0] == predictions[1], "x.h5 and final.h5 predict differently")

        let layers = try runTool("mlp-train", ["--model", bestPath, "--layers", "128:relu", "-o", "y.h5"], in: elsewhere)
        expectCleanFailure(layers, naming: "--layers", problem: "describe the architecture that --model gives")
    }

    /// A search folder records its data: `--output-dir S` alone goes on with everything the
    /// folder records; a larger --trials extends it; a flag that differs is refused, naming it;
    /// a worker on other data is refused, naming both datasets.
    @Test func searchFolderGoesOnWithWhatItRecords() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let search = folder.appendingPathComponent("search").path
        let first = try runTool("mlp-tune", ["--data", archive, "--output-dir", search, "--trials", "2", "--epochs", "2", "--units", "8",
                                             "--hidden-layers", "1", "--seed", "5"])
        #expect(first.status == 0, "\(first.stderr)")
        let settings = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: search + "/search.json")))
            as? [String: Any])
        #expect((settings["data"] as? [String: Any])?["file"] as? String == archive)

        let again = try runTool("mlp-tune", ["--output-dir", search, "--trials", "3"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("data: \(archive), which") && again.stdout.contains("(2 trials already done)"), "\(again.stdout)")
        #expect(try String(contentsOfFile: search + "/trials.csv", encoding: .utf8).split(separator: "\n").count == 4)

        expectCleanFailure(try runTool("mlp-tune", ["--output-dir", search, "--epochs", "3"]), naming: "--epochs",
                           problem: "the search in \(search) has 2 epochs a trial")
        expectCleanFailure(try runTool("mlp-tune", ["--output-dir", search, "--units", "16"]), naming: "--units", problem: "units 8")
        expectCleanFailure(try runTool("mlp-tune", ["--output-dir", search, "--trials", "1"]), naming: "--trials", problem: "3 trials")
        let other = try runTool("mlp-tune", ["--output-dir", search, "--data", "synthetic"])
        expectCleanFailure(other, naming: search + "/search.json", problem: "this search runs on cifar100-fine")
        #expect(other.stderr.contains("this is synthetic-v1-fine"), "\(other.stderr)")
    }

    /// Options that do not apply to the algorithm are refused before any work; a learning
    /// sampler with fewer trials than its random start says so.
    @Test func flagsThatDoNotApplyAreRefused() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let hyperband = folder.appendingPathComponent("hb").path
        expectCleanFailure(try runTool("mlp-tune", ["--data", archive, "--output-dir", hyperband, "--algorithm", "hyperband", "--trials", "4"]),
                           naming: "--trials", problem: "Hyperband's schedule is --max-epochs")
        #expect(!FileManager.default.fileExists(atPath: hyperband))
        expectCleanFailure(try runTool("mlp-tune", ["--data", archive, "--output-dir", hyperband, "--max-epochs", "2"]),
                           naming: "--max-epochs", problem: "sets Hyperband's schedule")
        let tpe = try runTool("mlp-tune", ["--data", archive, "--output-dir", folder.appendingPathComponent("tpe").path, "--algorithm", "tpe",
                                           "--trials", "2", "--epochs", "1", "--units", "8", "--hidden-layers", "1"])
        #expect(tpe.status == 0, "\(tpe.stderr)")
        #expect(tpe.stdout.contains("tpe draws its first 10 trials at random") && tpe.stdout.contains("--trials 11"), "\(tpe.stdout)")
    }

    /// Each message names what the file or option is.
    @Test func messagesSayWhatTheFileIs() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("m.h5").path
        #expect(try runTool("mlp-train", ["--data", archive, "--epochs", "1", "--layers", "8", "-o", model]).status == 0)
        let onnx = folder.appendingPathComponent("m.onnx").path
        #expect(try runTool("mlp-export", [model, "-o", onnx]).status == 0)
        expectCleanFailure(try runTool("mlp-train", ["--data", archive, "--model", onnx, "-o", model]), naming: onnx, problem: "is an ONNX model")
        let notes = folder.appendingPathComponent("notes.txt").path
        try Data("notes\n".utf8).write(to: URL(fileURLWithPath: notes))
        expectCleanFailure(try runTool("mlp-train", ["--data", notes, "-o", model]), naming: notes, problem: "is not a dataset this toolchain reads")
        expectCleanFailure(try runTool("mlp-inspect", [notes]), naming: notes, problem: "ONNX")
        let bestConfig = folder.appendingPathComponent("best.json").path
        try Data(ModelConfig.json(for: try ModelFile.load(path: model).model).utf8).write(to: URL(fileURLWithPath: bestConfig))
        expectCleanFailure(try runTool("mlp-tune", ["--data", archive, "--output-dir", folder.appendingPathComponent("s").path, "--space", bestConfig]),
                           naming: bestConfig, problem: "is a Keras model config")
        let checkpoint = folder.appendingPathComponent("c.onnx").path
        expectCleanFailure(try runTool("mlp-train", ["--data", archive, "--checkpoint", checkpoint, "-o", model]),
                           naming: "--checkpoint", problem: ".onnx is not a format written here")
        expectCleanFailure(try runTool("mlp-train", ["--data", archive, "-o", folder.appendingPathComponent("t.txt").path]),
                           naming: "--output:", problem: ".txt is not a format written here")
        let weights = try runTool("mlp-inspect", [onnx, "--weights"])
        #expect(weights.status == 0 && weights.stderr.contains("--weights describes a .keras or .h5 model's weights"), "\(weights.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try runTool("mlp-inspect", [onnx, "--json"]).stdout.utf8))
            as? [String: Any])
        #expect(json["total_params"] as? Int == 8 * 3072 + 8 + 8 * 100 + 100)
        let nested = folder.appendingPathComponent("a/b").path
        expectCleanFailure(try runTool("mlp-tune", ["--data", archive, "--output-dir", nested]), naming: nested, problem: "does not exist")
        let inspect = try runTool("mlp-inspect", [model])
        #expect(inspect.stdout.contains("holdout_sha256"), "\(inspect.stdout)")
    }

    /// The help says what the tools do now, in one vocabulary.
    @Test func helpSaysWhatTheToolsDo() throws {
        let eval = try runTool("mlp-eval", ["--help"]).stdout
        #expect(!eval.contains("Keras's .h5) on the CIFAR-100") && eval.contains("--roc-plot <file>") && eval.contains("--predictions <file>"))
        let tune = try runTool("mlp-tune", ["--help"]).stdout
        #expect(!tune.contains("a given model file") && tune.contains("--output-dir <folder>"))
        let bench = try runTool("mlp-bench", ["--help"]).stdout
        #expect(!bench.contains("(default: the generated"), "\(bench)")
        let train = try runTool("mlp-train", ["--help"]).stdout
        #expect(!train.contains("JSON otherwise") && train.contains("--model <file>") && train.contains("-o, --output <file>"))
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("final-history.csv") && !readme.contains("`.h5` (or `.hdf5`), `--plot`"))
        let run = try runTool("mlp-train", ["--data", archive, "--epochs", "1", "--layers", "8", "-o",
                                            FileManager.default.temporaryDirectory.appendingPathComponent("h-\(UUID()).h5").path])
        #expect(!run.stdout.contains("test:") && run.stdout.contains("holdout: 100 images"), "\(run.stdout)")
    }
}
