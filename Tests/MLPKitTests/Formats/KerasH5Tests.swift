import Foundation
import Testing
@testable import MLPKit

@Suite struct KerasH5Tests {
    /// The fixture models; a missing or empty fixture fails the tests built from it.
    static func models() throws -> [String] {
        let names = try jsonFixture("keras/models.json").keys.sorted()
        guard !names.isEmpty else { throw MLPError.format(path: fixture("keras/models.json"), problem: "no models") }
        return names
    }

    /// Every model Keras 3 and tf_keras wrote predicts here what it predicted there.
    @Test(arguments: try models())
    func predictsAsKeras(_ file: String) throws {
        let info = try #require(try jsonFixture("keras/models.json")[file] as? [String: Any])
        let saved = try ModelFile.load(path: fixture("keras/" + file))
        let predictions = saved.model.predict(try floats(info["inputs"]), batchSize: 2)
        let difference = maxDifference(predictions, try floats(info["predictions"]))
        #expect(difference < 1e-5, "\(file): largest difference \(difference)")
    }

    /// Parameter counts and output shapes as `model.summary()` gives them.
    @Test(arguments: try models())
    func summaryAgreesWithKeras(_ file: String) throws {
        let info = try #require(try jsonFixture("keras/models.json")[file] as? [String: Any])
        let saved = try ModelFile.load(path: fixture("keras/" + file))
        let layers = try #require(info["layers"] as? [[String: Any]])
        #expect(saved.model.layers.count == layers.count)
        for (layer, expected) in zip(saved.model.layers, layers) {
            #expect(layer.name == expected["name"] as? String)
            #expect(layer.kerasClassName == expected["type"] as? String)
            #expect(layer.outputShape == expected["output_shape"] as? [Int])
            #expect(layer.parameterCount == expected["params"] as? Int)
        }
        #expect(saved.model.parameters.reduce(0) { $0 + $1.count } == info["count_params"] as? Int)
    }

    @Test func readsTrainingConfigAndOptimizerState() throws {
        let keras3 = try ModelFile.load(path: fixture("keras/k3_mlp_adam.h5"))
        #expect(keras3.kerasVersion == "3.15.1")
        #expect(keras3.loss == "categorical_crossentropy")
        #expect(keras3.optimizer?.kerasClassName == "Adam")
        #expect(keras3.optimizerStateRestored && keras3.optimizer?.iterations == 8)
        let keras2 = try ModelFile.load(path: fixture("keras/k2_activations_sgd.h5"))
        #expect(keras2.kerasVersion == "2.21.0")
        #expect((keras2.optimizer as? SGD)?.momentum == 0.9)
        #expect(keras2.optimizerStateRestored && keras2.optimizer?.iterations == 8)
        let uncompiled = try ModelFile.load(path: fixture("keras/k3_uncompiled.h5"))
        #expect(uncompiled.optimizer == nil && uncompiled.trainingConfig == nil)
    }

    /// Save, load, and get the same weights, predictions, optimizer state and provenance back.
    @Test func roundTrip() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = Sequential.mlp(inputShape: [12], hidden: [HiddenLayerSpec(units: 7, activation: .gelu)], classes: 4,
                                   dropout: 0.2, seed: 3)
        let optimizer = Adam(learningRate: 0.003)
        optimizer.build(for: model.trainableParameters)
        var g = SeededGenerator(seed: 1)
        let x = (0..<(8 * 12)).map { _ in g.nextUnitFloat() }
        _ = model.computeGradients(x, labels: [0, 1, 2, 3, 0, 1, 2, 3], rows: 8)
        optimizer.apply(to: model.trainableParameters)
        let path = folder.appendingPathComponent("m.h5").path
        try KerasH5.save(CompiledModel(model: model, optimizer: optimizer, record: RunRecord(entries: ["seed": "3"])), to: path)
        let loaded = try ModelFile.load(path: path)
        #expect(loaded.model.predict(x) == model.predict(x))
        #expect(loaded.model.layers.map(\.name) == ["dense", "dropout", "dense_1"])
        #expect(loaded.record.entries["seed"] == "3")
        let restored = try #require(loaded.optimizer as? Adam)
        #expect(restored.iterations == 1 && restored.learningRate == 0.003)
        #expect(zip(restored.orderedSlots, optimizer.orderedSlots).allSatisfy { $0.array == $1.array })
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["m.h5"])
    }

    /// A failed save leaves the earlier file as it was, and no temporary file behind.
    @Test func failedSaveKeepsTheOldFile() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("m.h5").path
        let model = Sequential.mlp(inputShape: [4], hidden: [], classes: 2, seed: 1)
        try KerasH5.save(CompiledModel(model: model), to: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        // Two layers of one name cannot both become groups: the writer fails midway.
        let clash = Sequential(inputShape: [4], layers: [Dense(name: "same", inputs: 4, units: 3), Dense(name: "same", inputs: 3, units: 2)])
        #expect(throws: MLPError.self) { try KerasH5.save(CompiledModel(model: clash), to: path) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["m.h5"])
    }

    @Test func weightCountMismatchInKerasWords() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("m.h5").path
        let model = Sequential.mlp(inputShape: [4], hidden: [HiddenLayerSpec(units: 3, activation: .relu)], classes: 2, seed: 1)
        try KerasH5.save(CompiledModel(model: model), to: path)
        let other = Sequential(inputShape: [4], layers: [Dense(name: "dense", inputs: 4, units: 3),
                                                          Dense(name: "dense_1", inputs: 3, units: 2, useBias: false)])
        try HDF5.locked {
            let weights = try H5Group.open(path: path).group("model_weights")
            #expect {
                try KerasH5.loadWeights(into: other, from: weights)
            } throws: { error in
                "\(error)".contains("Weight count mismatch for layer #1 (named dense_1): expected 1, found 2")
            }
        }
    }

    @Test func refusesUnsupportedLayersByName() throws {
        let config = #"{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 8, 3]}}, {"class_name": "Conv1D", "config": {"name": "conv1d"}}]}}"#
        #expect {
            _ = try ModelConfig.model(fromJSON: config, source: "x.h5")
        } throws: { error in
            let text = "\(error)"
            return text.contains("conv1d") && text.contains("Conv1D")
                && text.contains("(supported: Activation, BatchNormalization, Dense, Dropout, Flatten, InputLayer, Rescaling)")
        }
    }

    @Test func notAnHDF5File() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("m.h5").path
        try Data("not hdf5".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: MLPError.format(path: path, problem: "not an HDF5 file")) { _ = try KerasH5.load(Data("not hdf5".utf8), path: path) }
    }

    /// Models/baseline.json is the notebook's network.
    @Test func baselineConfig() throws {
        let text = try String(contentsOfFile: packageRoot.appendingPathComponent("Models/baseline.json").path, encoding: .utf8)
        let model = try ModelConfig.model(fromJSON: text, source: "baseline.json")
        #expect(model.inputShape == [3072])
        #expect(model.layers.compactMap { $0 as? Dense }.map { "\($0.units):\($0.activation)" } == ["128:relu", "100:softmax"])
        #expect(model.parameters.reduce(0) { $0 + $1.count } == 406_244)
    }
}
