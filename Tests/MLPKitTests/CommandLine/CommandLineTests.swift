import Foundation
import Testing
@testable import MLPKit

/// The built executables, run as a user runs them.
@Suite struct CommandLineTests {
    let archive = fixture("cifar/cifar-100-python.tar.gz")

    func number(after label: String, in text: String) -> Double? {
        guard let range = text.range(of: label) else { return nil }
        return Double(text[range.upperBound...].prefix { "0123456789.".contains($0) })
    }

    /// Train on the small fixture, then evaluate and inspect the saved model.
    @Test func trainEvaluateInspect() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("m.h5").path
        let train = try runTool("mlp-train", ["--data", archive, "-o", model, "--epochs", "20", "--batch-size", "16", "--learning-rate", "0.0002", "--seed", "4"])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("Epoch 20/20"))
        #expect(train.stdout.contains("19/19 ━━━━━━━━━━━━━━━━━━━━"))
        let accuracy = try #require(number(after: "holdout: accuracy ", in: train.stdout))
        // 100 classes: chance is 0.01.
        #expect(accuracy > 0.5, "holdout accuracy \(accuracy)")

        let eval = try runTool("mlp-eval", [model, "--data", archive, "--json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        #expect(report["samples"] as? Int == 100)
        #expect(abs(((report["accuracy"] as? NSNumber)?.doubleValue ?? -1) - accuracy) < 1e-4)
        #expect((report["per_class"] as? [Any])?.count == 100)

        let inspect = try runTool("mlp-inspect", [model, "--json"])
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        #expect(summary["total_params"] as? Int == 3072 * 128 + 128 + 128 * 100 + 100)
        // Typed JSON: numbers as numbers, the options as an object, each layer's settings.
        let provenance = try #require(summary["provenance"] as? [String: Any])
        #expect(provenance["seed"] as? Int == 4)
        #expect(provenance["epochs_completed"] as? Int == 20)
        #expect((provenance["options"] as? [String: Any])?["batch_size"] as? Int == 16)
        #expect((provenance["dataset_sha256"] as? String)?.count == 64)
        let layers = try #require(summary["layers"] as? [[String: Any]])
        #expect(layers.count == 2)
        #expect((layers.first?["config"] as? [String: Any])?["units"] as? Int == 128)
        #expect((layers.first?["config"] as? [String: Any])?["activation"] as? String == "relu")
    }

    /// The same seed gives bit-identical models.
    @Test func sameSeedSameWeights() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var weights: [[Float]] = []
        for name in ["a.h5", "b.h5"] {
            let path = folder.appendingPathComponent(name).path
            let result = try runTool("mlp-train", ["--data", archive, "-o", path, "--epochs", "2", "--seed", "9", "--dropout", "0.2",
                                                   "--layers", "32:relu,16:tanh"])
            #expect(result.status == 0, "\(result.stderr)")
            weights.append(try ModelFile.load(path: path).model.parameters.flatMap(\.value.array))
        }
        #expect(weights[0] == weights[1])
    }

    @Test func validationSplitIsReported() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try runTool("mlp-train", ["--data", archive, "-o", folder.appendingPathComponent("m.h5").path,
                                               "--epochs", "1", "--validation-split", "0.2", "--seed", "1"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("validation: last 60 training images held out, training on 240"))
        #expect(result.stdout.contains(" - val_accuracy: ") && result.stdout.contains(" - val_loss: "))
    }

    /// --resume goes on from a saved model with its optimizer state: the iteration count carries
    /// on, and so does the training (the first resumed epoch starts where the last one ended).
    @Test func resumeTraining() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = folder.appendingPathComponent("a.h5").path, second = folder.appendingPathComponent("b.h5").path
        let common = ["--data", archive, "--batch-size", "16", "--learning-rate", "0.0002", "--seed", "2"]
        let a = try runTool("mlp-train", common + ["-o", first, "--epochs", "10", "--optimizer", "adam"])
        #expect(a.status == 0, "\(a.stderr)")
        let b = try runTool("mlp-train", common + ["-o", second, "--epochs", "2", "--resume", first])
        #expect(b.status == 0, "\(b.stderr)")
        #expect(b.stdout.contains("resuming \(first): Adam after 190 iterations"))
        let resumed = try ModelFile.load(path: second)
        #expect(resumed.optimizer?.kerasClassName == "Adam" && resumed.optimizer?.iterations == 190 + 2 * 19)
        // A fresh start would begin near log(100) = 4.6; the resumed run begins where training left off.
        let lastLoss = try #require(number(after: "loss: ", in: String(a.stdout.split(separator: "\n").last { $0.contains("19/19") } ?? "")))
        let resumedLoss = try #require(number(after: "loss: ", in: String(b.stdout.split(separator: "\n").first { $0.contains("19/19") } ?? "")))
        #expect(resumedLoss < lastLoss + 0.5 && resumedLoss < 3, "resumed at \(resumedLoss) after \(lastLoss)")
    }

    @Test func modelFromConfigFile() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("m.h5").path
        let result = try runTool("mlp-train", ["--data", archive, "-o", model, "--epochs", "1", "--seed", "1",
                                               "--model", packageRoot.appendingPathComponent("Models/baseline.json").path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try ModelFile.load(path: model).model.layers.map(\.name) == ["dense", "dense_1"])
    }

    /// Ctrl-C during training saves the model as trained so far, with its optimizer state and
    /// where it stopped, and says so in one line; training goes on from it with --resume.
    @Test func interruptSavesTheModelSoFar() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("m.h5").path
        let result = try runTool("mlp-train", ["--data", archive, "--epochs", "10000", "--batch-size", "16", "--seed", "4",
                                               "-o", model], interruptOn: "Epoch 3/")
        #expect(result.status == 130, "\(result.stderr)")
        let saved = try ModelFile.load(path: model)
        let interrupted = try #require(saved.record.entries["interrupted"])
        // "epoch E, step S of 19": 300 training images in steps of 16 make 19 steps an epoch.
        // The signal lands in epoch 3 or, on a fast machine, a little later.
        let words = interrupted.split(separator: " ")
        let epoch = try #require(Int(words[1].dropLast())), step = try #require(Int(words[3]))
        #expect(epoch >= 3 && words.last == "19", "\(interrupted)")
        #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.contains("interrupted in epoch \(epoch)")
                && result.stderr.contains(model), "\(result.stderr)")
        #expect(saved.optimizerStateRestored && saved.optimizer?.iterations == (epoch - 1) * 19 + step)
        let resumed = try runTool("mlp-train", ["--data", archive, "--epochs", "1", "--resume", model,
                                                "-o", folder.appendingPathComponent("more.h5").path])
        #expect(resumed.status == 0, "\(resumed.stderr)")
    }

    // MARK: Bad input: one line on standard error naming the file, a non-zero status.

    @Test func missingDataFile() throws {
        let result = try runTool("mlp-train", ["--data", "/nonexistent/cifar.tar.gz", "-o", "/tmp/never.h5"])
        expectCleanFailure(result, naming: "/nonexistent/cifar.tar.gz", problem: "no such file")
    }

    @Test func truncatedArchive() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: archive))
        let cut = folder.appendingPathComponent("cut.tar.gz").path
        try bytes.prefix(bytes.count / 3).write(to: URL(fileURLWithPath: cut))
        let result = try runTool("mlp-train", ["--data", cut, "-o", folder.appendingPathComponent("m.h5").path])
        expectCleanFailure(result, naming: cut, problem: "truncated gzip data")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("m.h5").path))
    }

    @Test func unwritableOutput() throws {
        let result = try runTool("mlp-train", ["--data", archive, "-o", "/nonexistent-folder/m.h5"])
        expectCleanFailure(result, naming: "/nonexistent-folder/m.h5", problem: "does not exist")
        let procResult = try runTool("mlp-train", ["--data", archive, "-o", "/proc/m.h5", "--epochs", "1"])
        expectCleanFailure(procResult, naming: "/proc/m.h5", problem: "cannot")
    }

    @Test func evalRejectsBadModels() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = folder.appendingPathComponent("notes.h5").path
        try Data("hello".utf8).write(to: URL(fileURLWithPath: text))
        expectCleanFailure(try runTool("mlp-eval", [text, "--data", archive]), naming: text,
                           problem: "not a model file: none of Keras's HDF5 (.h5), Keras 3's .keras zip, ONNX (mlp-export's output)")
        expectCleanFailure(try runTool("mlp-eval", ["/nonexistent/m.h5", "--data", archive]), naming: "/nonexistent/m.h5",
                           problem: "no such file")
        let small = fixture("keras/k3_mlp_adam.h5")
        expectCleanFailure(try runTool("mlp-eval", [small, "--data", archive]), naming: small,
                           problem: "takes 20 input values per sample, the images have 3072")
        expectCleanFailure(try runTool("mlp-inspect", [text]), naming: text, problem: "not a model file")
    }

    @Test func resumedModelThatDoesNotFitTheData() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let small = fixture("keras/k3_mlp_adam.h5")
        expectCleanFailure(try runTool("mlp-train", ["--data", archive, "--resume", small, "-o", folder.appendingPathComponent("m.h5").path]),
                           naming: small, problem: "takes 20 input values per sample, the images have 3072")
    }

    @Test func badModelConfig() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("bad.json").path
        try Data("{\"class_name\": \"Sequential\", \"config\": {\"layers\": [".utf8).write(to: URL(fileURLWithPath: config))
        expectCleanFailure(try runTool("mlp-train", ["--data", archive, "-o", folder.appendingPathComponent("m.h5").path, "--model", config]),
                           naming: config, problem: "not a JSON object")
    }

    @Test func optionRangesAreChecked() throws {
        let result = try runTool("mlp-train", ["-o", "/tmp/x.h5", "--epochs", "0"])
        expectCleanFailure(result, naming: "--epochs", problem: "must be 1 to 10000, got 0")
        #expect(result.status == 64)
        // Command-line mistakes caught by the parser itself: one line as well.
        expectCleanFailure(try runTool("mlp-train", ["-o", "/tmp/x.h5", "--bogus"]), naming: "--bogus", problem: "Unknown option")
        expectCleanFailure(try runTool("mlp-eval", []), naming: "--compare", problem: "give a model file")
        expectCleanFailure(try runTool("mlp-eval", ["--compare", "a.h5"]), naming: "--compare", problem: "takes two model files, got 1")
        expectCleanFailure(try runTool("mlp-inspect", ["a.h5", "b.h5"]), naming: "b.h5", problem: "Unexpected argument")
        let help = try runTool("mlp-inspect", ["--help"])
        #expect(help.status == 0 && help.stdout.contains("USAGE: mlp-inspect") && help.stderr.isEmpty)
        let layers = try runTool("mlp-train", ["-o", "/tmp/x.h5", "--data", archive, "--layers", "128:relux"])
        expectCleanFailure(layers, naming: "--layers", problem: "unknown activation 'relux'")
    }

    /// A run that diverges stops at its step and leaves the previous -o file as it was.
    @Test func divergingRunKeepsThePreviousFile() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("m.h5").path
        let model = Sequential.mlp(inputShape: [3072], hidden: [HiddenLayerSpec(units: 8, activation: .relu)], classes: 100, seed: 1)
        try KerasH5.save(CompiledModel(model: model, optimizer: RMSprop()), to: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let result = try runTool("mlp-train", ["--data", archive, "-o", path, "--layers", "128:linear", "--optimizer", "sgd",
                                               "--learning-rate", "10", "--seed", "1"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("training diverged in epoch") && result.stderr.contains("the loss is NaN"), "\(result.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    /// Mistakes found before any data is loaded: an unwritable folder, an output that is a
    /// folder, a --model or --resume that cannot be read, a value out of range.
    @Test func upFrontChecks() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A dataset that would take long to load if it were read: the checks come first.
        let missing = folder.appendingPathComponent("nowhere/m.h5").path
        expectCleanFailure(try runTool("mlp-train", ["--data", "synthetic", "-o", missing]), naming: missing, problem: "does not exist")
        expectCleanFailure(try runTool("mlp-train", ["--data", "synthetic", "-o", folder.path]), naming: folder.path, problem: "is a folder")
        let model = folder.appendingPathComponent("absent.json").path
        expectCleanFailure(try runTool("mlp-train", ["--data", "synthetic", "-o", folder.appendingPathComponent("m.h5").path, "--model", model]),
                           naming: model, problem: "no such file")
        expectCleanFailure(try runTool("mlp-train", ["--data", "synthetic", "-o", folder.appendingPathComponent("m.h5").path, "--resume", folder.path]),
                           naming: folder.path, problem: "is a folder")
        expectCleanFailure(try runTool("mlp-train", ["--data", "synthetic", "-o", "m.h5", "--reduce-lr-factor", "1.5"]),
                           naming: "--reduce-lr-factor", problem: "above 0 and below 1")
        let history = folder.appendingPathComponent("no/h.csv").path
        expectCleanFailure(try runTool("mlp-train", ["--data", "synthetic", "-o", folder.appendingPathComponent("m.h5").path, "--history", history]),
                           naming: history, problem: "does not exist")
    }
}
