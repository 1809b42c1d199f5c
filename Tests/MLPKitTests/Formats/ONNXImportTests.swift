import Foundation
import Testing
@testable import MLPKit

/// mlp-eval on ONNX files: an export computes on this engine what the model it came from
/// computes (the interchange check compares both with ONNX Runtime), and an operator outside the
/// set read is refused by name.
@Suite struct ONNXImportTests {
    /// A model of every layer kind and activation the exporter writes, exported with and
    /// without --raw-input: mlp-eval's probabilities on the .onnx equal those on the .h5.
    @Test func exportsEvaluateAsTheirModels() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let archive = fixture("cifar/cifar-100-python.tar.gz")
        let train = try runTool("mlp-train", ["--data", archive, "-o", "m.h5", "--epochs", "2", "--batch-norm", "--dropout", "0.2",
                                              "--layers", "40:gelu,32:swish,24:elu,16:selu,12:tanh,8:relu", "--seed", "3"], in: folder)
        #expect(train.status == 0, "\(train.stderr)")
        var predictions: [[Float]] = []
        for (file, extra) in [("m.onnx", [String]()), ("raw.onnx", ["--raw-input"])] {
            let export = try runTool("mlp-export", ["m.h5", "-o", file] + extra, in: folder)
            #expect(export.status == 0, "\(export.stderr)")
        }
        for file in ["m.h5", "m.onnx", "raw.onnx"] {
            let eval = try runTool("mlp-eval", [file, "--data", archive, "--predictions", file + ".npy", "--json"], in: folder)
            #expect(eval.status == 0, "\(eval.stderr)")
            let bytes = try Data(contentsOf: folder.appendingPathComponent(file + ".npy"))
            predictions.append(try #require(try NPY.decode(bytes, path: file).floats))
        }
        #expect(predictions[0].count == 100 * 100)
        for other in predictions.dropFirst() {
            #expect(other.count == predictions[0].count)
            #expect(maxDifference(other, predictions[0]) <= 1e-5)
        }
        let inspect = try runTool("mlp-eval", ["m.onnx", "--data", archive], in: folder)
        #expect(inspect.stdout.contains("m.onnx (mlp-export, mlp \(mlpVersion)) on"), "\(inspect.stdout)")
    }

    /// An operator mlp-eval does not compute is named in one line.
    @Test func unknownOperatorIsRefusedByName() throws {
        var graph = ONNXGraph(name: "odd")
        graph.inputs = [ONNXGraph.Value(name: "input", type: .float, shape: [nil, 4])]
        let product = graph.add("Gemm", ["input", graph.constant("w", [Float](repeating: 0.5, count: 12), shape: [4, 3]),
                                         graph.constant("b", [0, 0, 0], shape: [3])], stem: "gemm")
        let odd = graph.add("LpNormalization", [product], stem: "norm")
        graph.nodes[graph.nodes.count - 1].outputs = ["probabilities"]
        _ = odd
        graph.outputs = [ONNXGraph.Value(name: "probabilities", type: .float, shape: [nil, 3])]
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("odd.onnx").path
        try ONNXFile.serialize(graph, producerVersion: "test").write(to: URL(fileURLWithPath: path))
        let result = try runTool("mlp-eval", [path, "--data", "synthetic"])
        expectCleanFailure(result, naming: path, problem: "uses the ONNX operator LpNormalization")
    }
}
