import Foundation

/// `mlp-export MODEL --quantize int8 -o FILE.onnx`: the model's int8 QDQ graph
/// (`StaticQuantization`), calibrated on training images, judged against the float model on
/// the holdout set before it is written.
public struct QuantizationRequest {
    public var model: CompiledModel
    /// The model file, as named.
    public var path: String
    /// Where the ONNX file goes.
    public var output: String
    /// Training images to calibrate on, drawn as `numpy.random.RandomState(seed).shuffle`
    /// orders the training set's indices (the first `samples` of them).
    public var samples = 1000
    public var seed: UInt32 = 0
    /// The data asked for; the rest is what the model records.
    public var data = DataSelection()
    /// The largest holdout accuracy drop, in points, that may be written.
    public var maxAccuracyDrop: Double?
    public var batchSize = 500

    public init(model: CompiledModel, path: String, output: String) {
        self.model = model
        self.path = path
        self.output = output
    }

    /// Calibrates, quantizes, judges and (unless the drop is too large) writes the file.
    public func run(log: (String) -> Void) throws -> QuantizationResult {
        try OutputName.check(output, flag: "output", formats: OutputName.onnx)
        guard samples > 0 else { throw MLPError.setting("calibration-samples", problem: "must be at least 1, got \(samples)") }
        if let maxAccuracyDrop, !(maxAccuracyDrop >= 0) {
            throw MLPError.setting("max-accuracy-drop", problem: "must be 0 or more points, got \(maxAccuracyDrop)")
        }
        _ = try StaticQuantization.plan(model: model.model, source: path)
        let record = model.record
        let pair = try data.load(splits: .both, defaults: DataDefaults(record: record, model: path), log: log)
        guard pair.train.count > 0 else { throw MLPError.usage("\(pair.source): has no training images to calibrate on") }
        let count = min(samples, pair.train.count)
        if count < samples { log("note: \(pair.source) has \(pair.train.count) training images; calibrating on all of them") }
        var order = Array(0..<pair.train.count)
        var generator = PythonRandom(numpySeed: seed)
        generator.numpyShuffle(&order)
        let indices = order.prefix(count).sorted()
        let width = model.model.inputWidth
        var images = [Float](repeating: 0, count: count * width)
        var labels = [Int32](repeating: 0, count: count)
        try model.model.checkFits(pair.train)
        images.withUnsafeMutableBufferPointer { buffer in
            labels.withUnsafeMutableBufferPointer { pair.train.fill(indices, into: buffer.baseAddress!, labels: $0.baseAddress!) }
        }

        let float = try ONNXExport.graph(for: model.model, rawImages: nil, source: path, input: record.input,
                                         datasetSHA256: record.datasetSHA256)
        var graph = try StaticQuantization(model: model.model, graph: float, images: images, source: path).quantizedGraph()
        graph.metadata["quantization"] = "int8 QDQ: int8 weights per output channel (symmetric), uint8 activations (MinMax)"
        graph.metadata["calibration_indices"] = JSONValue(Array(indices)).text
        graph.metadata["calibration_seed"] = String(seed)
        graph.metadata["calibration_dataset_sha256"] = pair.checksum
        let bytes = ONNXFile.serialize(graph, producerVersion: mlpVersion)
        let floatSize = ONNXFile.serialize(float, producerVersion: mlpVersion).count

        let quantized = try ONNXImport.load(bytes, path: output)
        let (floatProbabilities, _) = try MLPError.naming(file: path) {
            try Evaluation.probabilities(model: model.model, data: pair.test, batchSize: batchSize)
        }
        let (int8Probabilities, _) = try Evaluation.probabilities(model: quantized.model, data: pair.test, batchSize: batchSize)
        let classes = model.model.outputWidth
        func argmax(_ p: [Float]) -> [Int] {
            (0..<pair.test.count).map { row in
                var best = 0
                for j in 1..<classes where p[row * classes + j] > p[row * classes + best] { best = j }
                return best
            }
        }
        let result = QuantizationResult(path: path, output: output, samples: count, seed: seed, floatSize: floatSize, int8Size: bytes.count,
                                        floatPredictions: argmax(floatProbabilities), int8Predictions: argmax(int8Probabilities),
                                        labels: pair.test.labels.map(Int.init), dataset: pair.name)
        if let maxAccuracyDrop, result.drop > maxAccuracyDrop {
            throw MLPError.usage("\(output): not written: --max-accuracy-drop \(maxAccuracyDrop): the int8 model's holdout accuracy "
                + String(format: "%.4f is %.2f points below the float model's %.4f", result.int8Accuracy, result.drop, result.floatAccuracy))
        }
        try AtomicFile.write(bytes, to: output)
        return result
    }
}

/// The int8 model against the float one on the holdout set.
public struct QuantizationResult {
    public var path: String
    public var output: String
    public var samples: Int
    public var seed: UInt32
    /// Bytes of the float32 ONNX file and of the int8 one.
    public var floatSize: Int
    public var int8Size: Int
    public var floatPredictions: [Int]
    public var int8Predictions: [Int]
    public var labels: [Int]
    public var dataset: String

    public var floatAccuracy: Double { accuracy(floatPredictions) }
    public var int8Accuracy: Double { accuracy(int8Predictions) }
    /// Points of accuracy lost (negative when int8 does better).
    public var drop: Double { (floatAccuracy - int8Accuracy) * 100 }
    /// The share of images both models put in the same class.
    public var agreement: Double {
        Double(zip(floatPredictions, int8Predictions).filter { $0 == $1 }.count) / Double(max(labels.count, 1))
    }
    public var mcnemar: Calibration.McNemar {
        Calibration.McNemar(predictedA: floatPredictions, predictedB: int8Predictions, labels: labels)
    }

    private func accuracy(_ predictions: [Int]) -> Double {
        Double(zip(predictions, labels).filter { $0 == $1 }.count) / Double(max(labels.count, 1))
    }

    public var text: String {
        let m = mcnemar
        let p = m.pValue < 1e-4 ? String(format: "%.2e", m.pValue) : String(format: "%.4f", m.pValue)
        return [
            "wrote \(output) (ONNX opset \(ONNXFile.opset), int8 QDQ), calibrated on \(samples) training images (seed \(seed))",
            "size            float32 \(floatSize) bytes, int8 \(int8Size) bytes (" + String(format: "%.1f%%", 100 * Double(int8Size) / Double(max(floatSize, 1))) + ")",
            "holdout         \(labels.count) images of \(dataset): accuracy float32 " + String(format: "%.4f", floatAccuracy)
                + ", int8 " + String(format: "%.4f", int8Accuracy) + " (" + String(format: "%+.2f", abs(drop) < 0.005 ? 0 : -drop) + " points)",
            "agreement       " + String(format: "%.2f%%", 100 * agreement) + " of images in the same class",
            "McNemar         \(m.aOnly) right by float32 alone, \(m.bOnly) by int8 alone: "
                + (m.exact ? "exact binomial, statistic \(Int(m.statistic))" : String(format: "chi-square %.4f", m.statistic)) + ", p = \(p)"
                + (m.pValue < 0.05 ? " (the models differ at the 5% level)" : " (no difference shown at the 5% level)"),
        ].joined(separator: "\n")
    }

    public var json: JSONValue {
        let m = mcnemar
        return .object([
            "output": .string(output), "calibration_samples": .int(samples), "calibration_seed": .int(Int(seed)),
            "float_bytes": .int(floatSize), "int8_bytes": .int(int8Size), "holdout_samples": .int(labels.count),
            "float_accuracy": .double(floatAccuracy), "int8_accuracy": .double(int8Accuracy), "accuracy_drop_points": .double(drop),
            "agreement": .double(agreement),
            "mcnemar": .object(["float_only": .int(m.aOnly), "int8_only": .int(m.bOnly), "statistic": .double(m.statistic), "p_value": .double(m.pValue)]),
        ])
    }
}
