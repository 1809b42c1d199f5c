import Foundation
@testable import MLPKit
import Testing

/// Keras 3's native `.keras` format, against files Keras 3 and tf_keras wrote
/// (Fixtures/keras/native/make.py) and hostile zips (Fixtures/damaged/make.py).
@Suite struct KerasNativeTests {
    static func models() throws -> [String] {
        let names = try jsonFixture("keras/native/native.json").keys.filter { $0.hasSuffix(".keras") }.sorted()
        let files = try FileManager.default.contentsOfDirectory(atPath: fixture("keras/native")).filter { $0.hasSuffix(".keras") }.sorted()
        // Every file has its expectations, and there are files: a missing fixture fails here.
        guard !names.isEmpty, names == files else {
            throw MLPError.format(path: fixture("keras/native/native.json"), problem: "lists \(names), the folder holds \(files)")
        }
        return names
    }

    /// Every model Keras 3 and tf_keras wrote, stored or deflated, predicts here what it
    /// predicted there, with its optimizer and step count.
    @Test(arguments: try models())
    func predictsAsKeras(_ file: String) throws {
        let info = try #require(try jsonFixture("keras/native/native.json")[file] as? [String: Any])
        let saved = try ModelFile.load(path: fixture("keras/native/" + file))
        let inputs = try floats(info["inputs"])
        let predictions = saved.model.predict(inputs, batchSize: 2)
        let expected = try floats(info["predictions"])
        #expect(predictions.count == expected.count && !expected.isEmpty)
        let difference = maxDifference(predictions, expected)
        #expect(difference < 1e-5, "\(file): largest difference \(difference)")
        #expect(saved.model.parameters.reduce(0) { $0 + $1.count } == info["count_params"] as? Int)
        #expect(saved.optimizer?.kerasClassName == info["optimizer"] as? String)
        #expect((saved.optimizer?.iterations ?? 0) == info["iterations"] as? Int)
        #expect(saved.optimizerStateRestored == (info["slots"] as? Bool))
        #expect(saved.warnings.isEmpty, "\(saved.warnings)")
    }

    @Test func recordsTheKerasVersionAndSchedule() throws {
        let keras3 = try ModelFile.load(path: fixture("keras/native/k3_names_sgd_cosine.keras"))
        #expect(keras3.kerasVersion == "3.15.1")
        #expect(keras3.model.layers.map(\.name) == ["dense_2", "zz", "first", "dense_1"])
        let sgd = try #require(keras3.optimizer as? SGD)
        #expect(sgd.momentum == 0.9 && sgd.schedule != nil)
        #expect(try ModelFile.load(path: fixture("keras/native/k2_names_sgd_cosine.keras")).kerasVersion == "2.21.0")
    }

    /// Keras's keys for a Sequential's layers: class names in snake case, numbered per class in
    /// model order, whatever the layers are called (as the groups of Keras 3's own files show:
    /// `k3_names_sgd_cosine.keras` holds layers/activation, dense, dense_1, dense_2).
    @Test func layerKeysFollowKeras() throws {
        let model = Sequential(inputShape: [4], layers: [
            Dense(name: "b", inputs: 4, units: 3), BatchNormalization(name: "x", shape: [3]), Dense(name: "a", inputs: 3, units: 2),
            Dense(name: "dense", inputs: 2, units: 2),
        ])
        #expect(KerasNative.layerKeys(model) == ["dense", "batch_normalization", "dense_1", "dense_2"])
        let keras = try ModelFile.load(path: fixture("keras/native/k3_names_sgd_cosine.keras")).model
        #expect(KerasNative.layerKeys(keras) == ["dense", "activation", "dense_1", "dense_2"])
    }

    /// Save, load, and get the same weights, predictions, optimizer state and provenance back,
    /// whatever the file is named: the bytes say what it is.
    @Test func roundTrip() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = Sequential.mlp(inputShape: [12], hidden: [HiddenLayerSpec(units: 7, activation: .gelu)], classes: 4,
                                   dropout: 0.2, batchNorm: true, seed: 3)
        let optimizer = RMSprop(learningRate: 0.003, momentum: 0.5, centered: true)
        optimizer.build(for: model.trainableParameters)
        var g = SeededGenerator(seed: 1)
        let x = (0..<(8 * 12)).map { _ in g.nextUnitFloat() }
        _ = model.computeGradients(x, labels: [0, 1, 2, 3, 0, 1, 2, 3], rows: 8)
        optimizer.apply(to: model.trainableParameters)
        let path = folder.appendingPathComponent("m.keras").path
        try ModelFile.save(CompiledModel(model: model, optimizer: optimizer, record: RunRecord(entries: ["seed": "3"])), to: path)
        #expect(try ModelFile.format(ofFileAt: path).name == "keras")
        let renamed = folder.appendingPathComponent("really-a-keras-file.h5").path
        try FileManager.default.copyItem(atPath: path, toPath: renamed)
        for file in [path, renamed] {
            let loaded = try ModelFile.load(path: file)
            #expect(loaded.model.predict(x) == model.predict(x))
            #expect(loaded.record.entries["seed"] == "3")
            let restored = try #require(loaded.optimizer as? RMSprop)
            #expect(restored.iterations == 1 && restored.learningRate == 0.003 && restored.centered)
            #expect(restored.orderedSlots.count == optimizer.orderedSlots.count && !optimizer.orderedSlots.isEmpty)
            #expect(zip(restored.orderedSlots, optimizer.orderedSlots).allSatisfy { $0.array == $1.array })
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["m.keras", "really-a-keras-file.h5"])
    }

    /// Hostile zips are refused in one line that names the file and says what is wrong.
    @Test(arguments: try jsonFixture("damaged/keras-cases.json").sorted { $0.key < $1.key }.map { ($0.key, $0.value as? String ?? "?") })
    func hostileArchives(_ file: String, _ words: String) throws {
        let path = fixture("damaged/" + file)
        #expect(FileManager.default.fileExists(atPath: path))
        #expect {
            _ = try ModelFile.load(path: path)
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix(path + ": ") && text.contains(words) && !text.contains("\n")
        }
    }

    @Test func hostileCasesAreAllThere() throws {
        #expect(try jsonFixture("damaged/keras-cases.json").count == 11)
    }
}
