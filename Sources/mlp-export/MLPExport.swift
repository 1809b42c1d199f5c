import ArgumentParser
import Foundation
import MLPCommandLine
import MLPKit

@main
struct MLPExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlp-export",
        abstract: "Export a saved model (.keras or .h5, this toolchain's or Keras's) to ONNX, for ONNX Runtime and the runtimes that serve models.",
        discussion: """
            The graph has a dynamic batch dimension, the input "input" (float32 pixels in [0, 1], as mlp-train \
            prepares them) or, with --raw-input, "images" (uint8 [N, height, width, channels] of the shape the \
            model file records, [N, 32, 32, 3] for CIFAR as cifar100.load_data() gives them), and the output "probabilities". Dense layers become Gemm, BatchNormalization a folded multiply \
            and add, Dropout nothing; opset \(ONNXFile.opset). The metadata_props name the classes (class_names, a JSON \
            list), the input's scale in pixel values (input_scale), the training data's SHA-256 (dataset_sha256) and \
            this toolchain's version (mlp_version).
            """)

    static func main() { mainReportingOneLine() }

    @Argument(help: "The model file (.keras or .h5).")
    var model: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the ONNX file (.onnx).", valueName: "file"))
    var output: String

    @Flag(help: "Take raw uint8 images [N, height, width, channels] (the shape the model file records) and do the flatten and the division by 255 in the graph.")
    var rawInput = false

    func run() throws {
        try OutputName.check(output, flag: "output", formats: OutputName.onnx)
        let saved = try ModelProbe.load(model)
        let recorded = saved.record
        let rawImages = rawInput ? try ONNXExport.rawShape(for: saved.model, input: recorded.input, source: model) : nil
        let data = try ONNXExport.data(for: saved.model, rawImages: rawImages, source: model,
                                       input: recorded.input, datasetSHA256: recorded.datasetSHA256)
        try AtomicFile.write(data, to: output)
        let description = try ONNXFile.describe(data, path: output)
        func text(_ value: ONNXGraph.Value) -> String {
            "\"\(value.name)\" \(value.type.name) [" + value.shape.map { $0.map(String.init) ?? "batch" }.joined(separator: ", ") + "]"
        }
        print("wrote \(output) (ONNX opset \(ONNXFile.opset)): \(description.inputs.map(text).joined(separator: ", ")) → "
              + "\(description.outputs.map(text).joined(separator: ", ")); \(description.parameters) parameters in "
              + "\(description.initializers) initializers, \(description.nodeCount) nodes")
    }
}
