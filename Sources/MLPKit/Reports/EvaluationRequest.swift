import Foundation

/// `mlp-eval MODEL`: one model on its holdout set, with the report's charts and files.
public struct EvaluationRequest {
    public var model: CompiledModel
    /// The model file, as the user named it.
    public var path: String
    /// The data asked for; the rest is what the model records.
    public var data = DataSelection()
    /// Bootstrap resamples for the intervals (0 for none), and their seed.
    public var resamples = 0
    public var seed: UInt64 = 0
    public var batchSize = 500
    public var outputs = EvaluationOutputs()

    public init(model: CompiledModel, path: String) {
        self.model = model
        self.path = path
    }

    /// Loads the holdout set, evaluates, and writes the outputs asked for.
    ///
    /// - Parameter log: where the lines about the data go.
    public func run(log: (String) -> Void) throws -> EvaluationResult {
        try outputs.check()
        let pair = try data.load(splits: .holdoutOnly, defaults: DataDefaults(record: model.record, model: path), log: log)
        var drawn: [Int32] = []
        let report = try MLPError.naming(file: path) {
            try Evaluation.evaluate(model: model.model, data: pair.test, batchSize: batchSize, bootstrap: resamples, seed: seed,
                                    drawn: outputs.resamples == nil ? nil : { _, indices in drawn += indices.map { Int32($0) } })
        }
        if let file = outputs.resamples { try AtomicFile.write(NPY.encode(int32s: drawn, shape: [resamples, report.samples]), to: file) }
        var result = EvaluationResult(report: report, path: path, writer: model.writer, dataset: pair.name, source: pair.source)
        result.modelSHA256 = model.fileSHA256
        try outputs.write(result)
        return result
    }
}

/// The files `mlp-eval` writes beside its report; each nil when not asked for.
public struct EvaluationOutputs: Sendable {
    /// The ROC curves (SVG).
    public var rocPlot: String?
    /// The confusion matrix: CSV, or an SVG heat map.
    public var confusion: String?
    /// The reliability diagram (SVG).
    public var reliability: String?
    /// The predicted probabilities (`.npy`, float32, samples × classes).
    public var predictions: String?
    /// The sample indices each bootstrap resample drew (`.npy`, int32, resamples × samples).
    public var resamples: String?

    public init() {}

    /// Refuses, before any work, a name whose format is not written here.
    public func check() throws {
        for (path, flag, formats) in [(rocPlot, "plot", OutputName.chart), (confusion, "confusion", OutputName.csv + OutputName.chart),
                                      (reliability, "reliability", OutputName.chart), (predictions, "predictions", OutputName.npy),
                                      (resamples, "save-resamples", OutputName.npy)] {
            if let path { try OutputName.check(path, flag: flag, formats: formats) }
        }
    }

    func write(_ result: EvaluationResult) throws {
        let report = result.report
        let name = URL(fileURLWithPath: result.path).lastPathComponent
        if let rocPlot {
            let svg = ROCPlot.svg(curves: ROCPlot.curves(for: report), title: "ROC, one vs rest: \(name)")
            try AtomicFile.write(Data(svg.utf8), to: rocPlot)
        }
        if let confusion {
            let text = confusion.lowercased().hasSuffix(".svg")
                ? ConfusionHeatmap.svg(confusion: report.confusion, classNames: report.classNames,
                                       title: "Confusion matrix: \(name) on \(result.dataset)")
                : report.confusionCSV()
            try AtomicFile.write(Data(text.utf8), to: confusion)
        }
        if let reliability {
            try AtomicFile.write(Data(ReliabilityDiagram.svg(for: report, title: "\(name) on the \(result.dataset) holdout set").utf8),
                                 to: reliability)
        }
        if let predictions {
            try AtomicFile.write(NPY.encode(report.probabilities, shape: [report.samples, report.classNames.count]), to: predictions)
        }
    }
}

/// One model's evaluation, as `mlp-eval` prints it.
public struct EvaluationResult {
    public var report: EvaluationReport
    /// The model file, as named.
    public var path: String
    /// The tool that wrote the model file (`CompiledModel.writer`).
    public var writer: String
    /// The data's name and where it was read from.
    public var dataset: String
    public var source: String
    /// The SHA-256 of the model file, which a model card checks against the model it describes.
    public var modelSHA256: String?

    /// The report, headed by the model and the data.
    public var text: String {
        return report.text(title: "\(path) (\(writer)) on the \(dataset) holdout set")
    }

    /// One JSON object with every number of the report.
    public var json: JSONValue {
        var extra: [String: JSONValue] = ["model": .string(path), "dataset": .string(dataset), "data": .string(source)]
        if let modelSHA256 { extra["model_sha256"] = .string(modelSHA256) }
        return .object(report.jsonObject(extra: extra))
    }
}
