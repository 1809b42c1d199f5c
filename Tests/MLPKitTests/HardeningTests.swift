import Foundation
import Testing
import MLPKit

/// The failures the hardening issue listed, each reproduced: a model with NaN weights, a
/// config claiming an absurd width, libhdf5 looping and crashing on damaged metadata,
/// `layer_names` naming a layer without weights, a run that diverges; and the up-front checks.
@Suite struct HardeningTests {
    let archive = fixture("cifar/cifar-100-python.tar.gz")

    /// A trained fixture-sized model saved to `path`, with `edit` applied to its weights first.
    func savedModel(at path: String, edit: (Sequential) -> Void = { _ in }) throws {
        let model = Sequential.mlp(inputShape: [3072], hidden: [HiddenLayerSpec(units: 8, activation: .relu)], classes: 100, seed: 1)
        edit(model)
        try KerasH5.save(CompiledModel(model: model, optimizer: RMSprop()), to: path)
    }

    /// NaN weights, as a diverged Keras run leaves them: mlp-eval finishes at once and says
    /// so; mlp-inspect counts them; mlp-train refuses to go on from them.
    @Test func nanWeightsFinishPromptly() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("nan.h5").path
        try savedModel(at: path) { model in
            let kernel = model.parameters[0].value.pointer
            for i in 0..<100 { kernel[i] = .nan }
            kernel[100] = .infinity
        }
        let started = Date()
        let eval = try runTool("mlp-eval", [path, "--data", archive])
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stdout.contains("are NaN or infinite") && eval.stdout.contains("log loss        NaN"), "\(eval.stdout)")
        let inspect = try runTool("mlp-inspect", [path, "--weights", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        let kernel = try #require((object["weights"] as? [[String: Any]])?.first)
        #expect(kernel["nan"] as? Int == 100 && kernel["inf"] as? Int == 1)
        let resume = try runTool("mlp-train", ["--data", archive, "--resume", path, "-o", folder.appendingPathComponent("more.h5").path])
        expectCleanFailure(resume, naming: path, problem: "holds 101 weights and 0 optimizer values that are NaN or infinite")
    }

    /// A config claiming a layer of a trillion units is refused before anything is allocated,
    /// as JSON and inside a model file.
    @Test func absurdWidthIsRefused() throws {
        let config = #"{"class_name": "Sequential", "config": {"layers": [{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3072]}}, {"class_name": "Dense", "config": {"name": "huge", "units": 1000000000000}}]}}"#
        #expect(throws: MLPError.format(path: "c.json", problem: "Dense layer 'huge' has 'units' 1000000000000, not 1 to 16777216")) {
            _ = try ModelConfig.model(fromJSON: config, source: "c.json")
        }
        let wide = #"{"class_name": "Sequential", "config": {"layers": [{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3072]}}, {"class_name": "Dense", "config": {"name": "wide", "units": 600000}}, {"class_name": "Dense", "config": {"name": "wider", "units": 16777216}}]}}"#
        #expect {
            _ = try ModelConfig.model(fromJSON: wide, source: "c.json")
        } throws: { "\($0)".contains("describes more than 2147483648 weights (layer 'wider')") }
        // In a file, the bound is what the file can hold.
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("huge.h5").path
        try HDF5.locked {
            let root = try H5Group.create(path: path)
            try root.setAttribute("model_config", string: config.replacingOccurrences(of: "1000000000000", with: "1000000"))
            try root.createGroup("model_weights").setAttribute("layer_names", strings: ["huge"])
        }
        for tool in ["mlp-inspect", "mlp-eval"] {
            expectCleanFailure(try runTool(tool, [path, "--data", archive].prefix(tool == "mlp-inspect" ? 1 : 3).map { $0 }),
                               naming: path, problem: "more than the file holds")
        }
    }

    /// Bit flips in a Keras 3 file's global heap that make libhdf5 loop and crash (made by
    /// Fixtures/make_damaged.py): one line each, promptly.
    @Test(arguments: [("damaged/heap-loop.h5", "did not finish reading the file"), ("damaged/heap-crash.h5", "crashed reading the file")])
    func damagedMetadata(_ file: String, _ problem: String) throws {
        let path = fixture(file)
        for arguments in [[path], [path, "--data", archive]] {
            let started = Date()
            let result = try runTool(arguments.count == 1 ? "mlp-inspect" : "mlp-eval", arguments)
            expectCleanFailure(result, naming: path, problem: problem)
            #expect(Date().timeIntervalSince(started) < 20)
        }
    }

    /// A file whose layer_names lists a layer without a weights group is refused, as Keras
    /// refuses it.
    @Test func layerWithoutGroupIsRefused() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = Sequential.mlp(inputShape: [3072], hidden: [HiddenLayerSpec(units: 8, activation: .relu)], classes: 100, seed: 1)
        let ghost = folder.appendingPathComponent("ghost.h5").path
        try HDF5.locked {
            let root = try H5Group.create(path: ghost)
            try root.setAttribute("model_config", string: ModelConfig.json(for: model))
            let weights = try root.createGroup("model_weights")
            try weights.setAttribute("layer_names", strings: ["dense", "ghost", "dense_1"])
            for layer in model.layers {
                let group = try weights.createGroup(layer.name)
                let names = layer.parameters.map { "\(layer.name)/\($0.name):0" }
                try group.setAttribute("weight_names", strings: names)
                for (name, parameter) in zip(names, layer.parameters) {
                    try group.writeDataset(name, floats: parameter.value.pointer, shape: parameter.shape)
                }
            }
        }
        expectCleanFailure(try runTool("mlp-inspect", [ghost]), naming: ghost, problem: "layer_names lists 'ghost', which has no group")
    }

    /// A run that diverges stops at its step and leaves the previous -o file as it was.
    @Test func divergingRunKeepsThePreviousFile() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("m.h5").path
        try savedModel(at: path)
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
