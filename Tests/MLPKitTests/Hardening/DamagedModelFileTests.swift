import Foundation
import Testing
@testable import MLPKit

/// Model files that hold damage or absurd claims: NaN weights, a config claiming an absurd
/// width, metadata that makes libhdf5 loop or crash, `layer_names` naming a layer without
/// weights. Each gives one line, or an answer, never a crash or a hang.
@Suite struct DamagedModelFileTests {
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
        let eval = try runTool("mlp-eval", [path, "--data", archive])
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
    /// Fixtures/damaged/make.py): one line each, the loop cut short by the probe's own limit.
    @Test(arguments: [("damaged/heap-loop.h5", "did not finish reading the file"), ("damaged/heap-crash.h5", "crashed reading the file")])
    func damagedMetadata(_ file: String, _ problem: String) throws {
        let path = fixture(file)
        for arguments in [[path], [path, "--data", archive]] {
            let result = try runTool(arguments.count == 1 ? "mlp-inspect" : "mlp-eval", arguments)
            expectCleanFailure(result, naming: path, problem: problem)
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
}
