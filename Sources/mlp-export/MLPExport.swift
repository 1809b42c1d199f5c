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

            --quantize int8 writes a static int8 QDQ graph instead, as ONNX Runtime's quantize_static(..., \
            quant_format=QDQ, per_channel=True, weight_type=QInt8, activation_type=QUInt8, calibrate_method=MinMax) \
            makes it from the float32 export: activations calibrated on --calibration-samples training images (the \
            holdout set is never used), weights int8 per output channel. Before writing it prints both files' sizes, \
            the float and int8 models' holdout accuracy, their top-1 agreement and McNemar's test between them; \
            --max-accuracy-drop refuses to write a file that loses more. The metadata_props record the calibration \
            (calibration_indices, calibration_seed, calibration_dataset_sha256).
            """)

    static func main() { mainReportingOneLine() }

    @Argument(help: "The model file (.keras or .h5).")
    var model: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the ONNX file (.onnx).", valueName: "file"))
    var output: String

    @Option(help: ArgumentHelp("Write a static int8 QDQ graph (the only kind: int8).", valueName: "int8"))
    var quantize: String?

    @Option(help: ArgumentHelp("With --quantize: training images to calibrate the activations on (default 1000), drawn with --calibration-seed.", valueName: "n"))
    var calibrationSamples: Int?

    @Option(help: ArgumentHelp("With --quantize: the seed of the calibration images' draw, as numpy.random.RandomState(seed).shuffle orders the training set's indices (default 0).", valueName: "n"))
    var calibrationSeed: UInt32?

    @Option(help: ArgumentHelp("With --quantize: refuse to write (exit 1) when the int8 model's holdout accuracy is more than this many points below the float model's.", valueName: "points"))
    var maxAccuracyDrop: Double?

    @OptionGroup(title: "Data (with --quantize: calibration and holdout images)") var data: DataOptions

    @OptionGroup var compute: ComputeOptionGroup

    @Flag(help: "Take raw uint8 images [N, height, width, channels] (the shape the model file records) and do the flatten and the division by 255 in the graph.")
    var rawInput = false

    func run() throws {
        try OutputName.check(output, flag: "output", formats: OutputName.onnx)
        if let quantize { return try runQuantized(kind: quantize) }
        for (flag, given) in [("calibration-samples", calibrationSamples != nil), ("calibration-seed", calibrationSeed != nil),
                              ("max-accuracy-drop", maxAccuracyDrop != nil), ("data", data.data != nil)] where given {
            throw ValidationError("--\(flag) goes with --quantize int8")
        }
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

    /// `--quantize int8`: the QDQ graph, judged on the holdout set before it is written.
    func runQuantized(kind: String) throws {
        guard kind == "int8" else { throw ValidationError("--quantize: \(kind) is not a kind written here; int8 is") }
        guard !rawInput else { throw ValidationError("--quantize int8 takes float32 pixels; leave out --raw-input") }
        let saved = try ModelProbe.load(model)
        saved.model.compute = compute.options()
        var request = QuantizationRequest(model: saved, path: model, output: output)
        request.samples = calibrationSamples ?? request.samples
        request.seed = calibrationSeed ?? request.seed
        (request.maxAccuracyDrop, request.data) = (maxAccuracyDrop, try data.selection())
        let result = try request.run(log: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
        print(result.text)
    }
}
