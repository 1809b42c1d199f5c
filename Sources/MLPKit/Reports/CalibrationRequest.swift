import Foundation

/// `mlp-eval MODEL --temperature-scale -o FILE`: one temperature fitted on validation data (the
/// split the model records, or other labelled data; never the holdout set), the calibrated
/// model written, and the holdout set reported before and after.
public struct CalibrationRequest {
    public var model: CompiledModel
    /// The model file, as named.
    public var path: String
    /// Where the calibrated model goes (`.h5` or `.keras`).
    public var output: String
    /// The holdout data asked for; the rest is what the model records.
    public var data = DataSelection()
    /// Labelled data to fit on (its training split), in place of the recorded validation split.
    public var calibrationData: String?
    public var resamples = 0
    public var seed: UInt64 = 0
    public var batchSize = 500
    /// Where the sample indices of the resamples of the holdout set before calibration go (`.npy`).
    public var resamplesFile: String?

    public init(model: CompiledModel, path: String, output: String) {
        self.model = model
        self.path = path
        self.output = output
    }

    /// Fits the temperature, writes the calibrated model, and evaluates both on the holdout set.
    public func run(log: (String) -> Void) throws -> CalibrationResult {
        try OutputName.check(output, flag: "output", formats: ModelFormats.writableExtensions)
        if let resamplesFile { try OutputName.check(resamplesFile, flag: "save-resamples", formats: OutputName.npy) }
        let record = model.record
        // With the recorded validation split, the training split comes with the holdout set, from one read of the data.
        let ownSplit = calibrationData == nil
        if ownSplit, record.validationSplit ?? 0 <= 0 {
            throw MLPError.usage("\(path) records no validation split to fit the temperature on: give --calibration-data, "
                + "or train with --validation-split")
        }
        let defaults = DataDefaults(record: record, model: path)
        let pair = try data.load(splits: ownSplit ? .both : .holdoutOnly, defaults: defaults, log: log)
        let (fitting, source) = try Self.calibrationSet(model: model, path: path, data: data, calibrationData: calibrationData,
                                                        pair: pair, defaults: defaults, log: log)
        let fit = try MLPError.naming(file: path) {
            let logits = try TemperatureScaling.logits(model: model.model, data: fitting, batchSize: batchSize)
            return try TemperatureScaling.fit(logits: logits, labels: fitting.labels.map(Int.init), classes: model.model.outputWidth)
        }
        var drawn: [Int32] = []
        let before = try MLPError.naming(file: path) {
            try Evaluation.evaluate(model: model.model, data: pair.test, batchSize: batchSize, bootstrap: resamples, seed: seed,
                                    drawn: resamplesFile == nil ? nil : { _, indices in drawn += indices.map { Int32($0) } })
        }
        if let resamplesFile { try AtomicFile.write(NPY.encode(int32s: drawn, shape: [resamples, before.samples]), to: resamplesFile) }
        try TemperatureScaling.apply(fit.temperature, to: model.model)
        var calibrated = record
        calibrated.temperature = fit.temperature
        calibrated.calibratedFrom = path
        calibrated.calibratedOn = source
        try ModelFile.save(CompiledModel(model: model.model, record: calibrated), to: output)
        let written = try fileBytes(atPath: output, what: "the calibrated model")
        let after = try Evaluation.evaluate(model: model.model, data: pair.test, batchSize: batchSize, bootstrap: resamples, seed: seed)
        return CalibrationResult(fit: fit, source: source, path: path, output: output, before: before, after: after,
                                 dataset: pair.name, dataSource: pair.source, outputSHA256: Digest.sha256(of: written))
    }

    /// The labelled data a calibration is fitted on, and how the result names it: the validation
    /// split `model` records (`pair` holding the training split), or the training split of
    /// `calibrationData`, which may be neither the model's training data nor `pair`'s holdout set.
    static func calibrationSet(model: CompiledModel, path: String, data: DataSelection, calibrationData: String?, pair: DatasetPair,
                               defaults: DataDefaults, log: (String) -> Void) throws -> (ImageDataset, String) {
        guard let calibrationData else {
            let split = model.record.validationSplit ?? 0
            let fitting = pair.train.splitValidation(fraction: split).validation
            return (fitting, "the last \(fitting.count) training images (the validation split of \(split) that \(path) records)")
        }
        var selection = data
        selection.data = calibrationData
        let calibration = try selection.load(splits: .trainingOnly, defaults: defaults, log: log)
        try TemperatureScaling.checkCalibrationData(calibration, path: calibrationData, record: model.record, model: path,
                                                    holdout: pair.test)
        return (calibration.train, "\(calibration.train.count) images of \(calibrationData)")
    }
}

/// A temperature fitted and applied, with the holdout set before and after.
public struct CalibrationResult {
    public var fit: TemperatureScaling.Fit
    /// The data it was fitted on, as the result names it.
    public var source: String
    /// The model file, and the calibrated one written.
    public var path: String
    public var output: String
    public var before: EvaluationReport
    public var after: EvaluationReport
    public var dataset: String
    public var dataSource: String
    /// The SHA-256 of the calibrated model file, which the JSON's evaluation is of.
    public var outputSHA256: String

    /// Predictions the temperature changed (ties only: it changes no argmax).
    public var changed: Int {
        let a = Classification.predictedClasses(before.probabilities, classes: before.classNames.count)
        let b = Classification.predictedClasses(after.probabilities, classes: after.classNames.count)
        return zip(a, b).filter { $0 != $1 }.count
    }

    public var text: String {
        func f(_ x: Double) -> String { String(format: "%.4f", x) }
        let changed = changed
        return ["temperature \(f(fit.temperature)), fitted on \(source): validation log loss \(f(fit.logLossBefore)) → \(f(fit.logLossAfter))",
                "holdout: log loss \(f(before.logLoss)) → \(f(after.logLoss)), ECE \(f(before.expectedCalibrationError)) → "
                + "\(f(after.expectedCalibrationError)), Brier \(f(before.brierScore)) → \(f(after.brierScore)); accuracy \(f(after.accuracy)), "
                + (changed == 0 ? "no prediction changed" : "\(changed) predictions changed (ties)"),
                "wrote \(output): \(path) with its last Dense kernel and bias divided by \(f(fit.temperature))"].joined(separator: "\n")
    }

    public var json: JSONValue {
        var object = after.jsonObject(extra: ["model": .string(output), "model_sha256": .string(outputSHA256), "dataset": .string(dataset),
                                              "data": .string(dataSource)])
        func pair(_ a: Double, _ b: Double) -> JSONValue { [.double(a), .double(b)] }
        object["temperature_scaling"] = [
            "temperature": .double(fit.temperature), "fitted_on": .string(source), "samples": .int(fit.samples), "from": .string(path),
            "validation_log_loss": pair(fit.logLossBefore, fit.logLossAfter),
            "holdout_log_loss": pair(before.logLoss, after.logLoss),
            "holdout_expected_calibration_error": pair(before.expectedCalibrationError, after.expectedCalibrationError),
            "holdout_accuracy": pair(before.accuracy, after.accuracy), "predictions_changed": .int(changed),
        ]
        return .object(object)
    }
}
