import Foundation
@testable import MLPKit
import Testing

/// ONNX export read back through protobuf-c. That ONNX Runtime runs the files and predicts as
/// this toolchain does is checked against onnx and onnxruntime in Tests/Harness/interchange_check.py.
@Suite struct ONNXTests {
    /// Dense(3 → 2, relu) → Dropout → Dense(2 → 2, softmax): 3·2 + 2 + 2·2 + 2 = 14 weights.
    func smallModel() -> Sequential {
        Sequential(inputShape: [3], layers: [
            Dense(name: "dense", inputs: 3, units: 2, activation: .relu), Dropout(name: "dropout", shape: [2], rate: 0.5),
            Dense(name: "dense_1", inputs: 2, units: 2, activation: .softmax),
        ])
    }

    @Test func exportReadsBack() throws {
        let data = try ONNXExport.data(for: smallModel(), rawImages: nil, source: "m.keras")
        let description = try ONNXFile.describe(data, path: "m.onnx")
        #expect(description.inputs.map(\.name) == ["input"] && description.inputs.first?.type == .float)
        #expect(description.inputs.first?.shape == [nil, 3])
        #expect(description.outputs.map(\.name) == ["probabilities"] && description.outputs.first?.shape == [nil, 2])
        #expect(description.parameters == 14 && description.initializers == 4)
        // Dropout exports nothing; the softmax comes last.
        #expect(description.operators == ["Gemm", "Relu", "Softmax"] && description.nodeCount == 4)
        #expect(description.opsets.count == 1 && description.opsets.first?.version == 17 && description.irVersion == 8)
        #expect(description.producer == "mlp \(mlpVersion)" && description.metadata["source"] == "m.keras")
        #expect(ONNXFile.looksLikeONNX(data))
    }

    /// With raw input the graph takes uint8 [N, 32, 32, 3] and adds its two constants: the
    /// pixel scale (one value) and the target shape [-1, 3072] (two).
    @Test func rawInputTakesImages() throws {
        let model = Sequential(inputShape: [3072], layers: [Dense(name: "dense", inputs: 3072, units: 4, activation: .softmax)])
        let shape = try ONNXExport.rawShape(for: model, input: nil, source: "m.h5")
        #expect(shape == [32, 32, 3])
        let description = try ONNXFile.describe(try ONNXExport.data(for: model, rawImages: shape, source: "m.h5"), path: "m.onnx")
        #expect(description.inputs.map(\.name) == ["images"] && description.inputs.first?.type == .uint8)
        #expect(description.inputs.first?.shape == [nil, 32, 32, 3])
        #expect(description.parameters == 3072 * 4 + 4 + 1 + 2)
        #expect(description.operators == ["Cast", "Div", "Reshape", "Gemm", "Softmax"])
        #expect {
            _ = try ONNXExport.data(for: smallModel(), rawImages: [32, 32, 3], source: "m.h5")
        } throws: { error in "\(error)".contains("the model takes 3") }
        #expect(throws: MLPError.self) { try ONNXExport.rawShape(for: smallModel(), input: nil, source: "m.h5") }
    }

    /// A model trained on grey 28×28 images takes them as its file records them; one trained
    /// on features takes no raw images.
    @Test func rawInputTakesTheRecordedShape() throws {
        let model = Sequential(inputShape: [784], layers: [Dense(name: "dense", inputs: 784, units: 10, activation: .softmax)])
        let mnist = InputRecord(shape: [28, 28], preprocessing: .rescale255, classNames: (0..<10).map(String.init))
        let shape = try ONNXExport.rawShape(for: model, input: InputRecord(entries: mnist.entries), source: "m.h5")
        #expect(shape == [28, 28])
        let description = try ONNXFile.describe(try ONNXExport.data(for: model, rawImages: shape, source: "m.h5"), path: "m.onnx")
        #expect(description.inputs.first?.shape == [nil, 28, 28])
        let features = InputRecord(shape: [784], preprocessing: .none, classNames: [])
        #expect { try ONNXExport.rawShape(for: model, input: features, source: "m.h5") } throws: { "\($0)".contains("not images") }
    }

    /// Files that are not ONNX, or are cut short, are refused in one line; an ONNX file given
    /// where a trainable model is wanted says what it is.
    @Test func badFilesAreRefused() throws {
        let data = try ONNXExport.data(for: smallModel(), rawImages: nil, source: "m.keras")
        for broken in [Data("not a model".utf8), data.prefix(data.count / 2), Data([0x08])] {
            #expect(throws: MLPError.self) { _ = try ONNXFile.describe(broken, path: "x.onnx") }
        }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("m.onnx").path
        try data.write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try ModelFile.load(path: path)
        } throws: { error in "\(error)" == "\(path): is an ONNX model (mlp-export's output, for ONNX Runtime); this reads .keras and .h5 models" }
    }
}
