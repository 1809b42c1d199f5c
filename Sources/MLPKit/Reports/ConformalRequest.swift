import Foundation

/// `mlp-eval MODEL --conformal ALPHA`: split conformal prediction sets, their threshold fitted
/// on validation data (the split the model records, or other labelled data; never the holdout
/// set), judged on the holdout set, and with `-o` recorded in a copy of the model for
/// `mlp-predict --sets`.
public struct ConformalRequest {
    public var model: CompiledModel
    /// The model file, as named.
    public var path: String
    public var alpha: Double
    public var score: ConformalPredictor.Score = .lac
    /// The seed of APS's uniform draws.
    public var seed: UInt32 = 0
    /// The holdout data asked for; the rest is what the model records.
    public var data = DataSelection()
    /// Labelled data to calibrate on (its training split), in place of the recorded validation split.
    public var calibrationData: String?
    /// Where the model with its threshold recorded goes (`.h5` or `.keras`), if anywhere.
    public var output: String?
    public var batchSize = 500

    public init(model: CompiledModel, path: String, alpha: Double) {
        self.model = model
        self.path = path
        self.alpha = alpha
    }

    /// Fits the threshold, reports the sets on the holdout set, and writes the model if asked.
    public func run(log: (String) -> Void) throws -> ConformalResult {
        if let output { try OutputName.check(output, flag: "output", formats: ModelFormats.writableExtensions) }
        guard alpha > 0, alpha < 1 else { throw MLPError.setting("conformal", problem: "must be above 0 and below 1, got \(alpha)") }
        let ownSplit = calibrationData == nil
        if ownSplit, model.record.validationSplit ?? 0 <= 0 {
            throw MLPError.usage("\(path) records no validation split to calibrate the prediction sets on: give --calibration-data, "
                + "or train with --validation-split")
        }
        let defaults = DataDefaults(record: model.record, model: path)
        let pair = try data.load(splits: ownSplit ? .both : .holdoutOnly, defaults: defaults, log: log)
        let (calibration, source) = try CalibrationRequest.calibrationSet(model: model, path: path, data: data, calibrationData: calibrationData,
                                                                         pair: pair, defaults: defaults, log: log)
        let predictor = try MLPError.naming(file: path) { () throws -> ConformalPredictor in
            let (probabilities, _) = try Evaluation.probabilities(model: model.model, data: calibration, batchSize: batchSize)
            return try ConformalPredictor.fit(probabilities: probabilities, labels: calibration.labels.map(Int.init),
                                              classes: model.model.outputWidth, alpha: alpha, score: score, seed: seed)
        }
        let (probabilities, _) = try MLPError.naming(file: path) {
            try Evaluation.probabilities(model: model.model, data: pair.test, batchSize: batchSize)
        }
        let classes = model.model.outputWidth
        let sets = (0..<pair.test.count).map { predictor.set(probabilities[($0 * classes)..<(($0 + 1) * classes)]) }
        if let output {
            var record = model.record
            record.conformal = predictor.record
            try ModelFile.save(CompiledModel(model: model.model, optimizer: model.optimizer, record: record), to: output)
        }
        return ConformalResult(predictor: predictor, source: source, path: path, output: output, sets: sets,
                               labels: pair.test.labels.map(Int.init), classNames: pair.test.classNames, dataset: pair.name)
    }
}

/// Prediction sets judged on the holdout set.
public struct ConformalResult {
    public var predictor: ConformalPredictor
    /// The calibration data, as the result names it.
    public var source: String
    public var path: String
    public var output: String?
    /// Each holdout sample's set (class indices) and true class.
    public var sets: [[Int]]
    public var labels: [Int]
    public var classNames: [String]
    public var dataset: String

    /// The share of samples whose set holds their class.
    public var coverage: Double { Double(zip(sets, labels).filter { $0.contains($1) }.count) / Double(max(labels.count, 1)) }
    public var meanSetSize: Double { Double(sets.reduce(0) { $0 + $1.count }) / Double(max(sets.count, 1)) }
    /// Samples by set size, from 0 to the largest.
    public var sizeHistogram: [Int] {
        var counts = [Int](repeating: 0, count: (sets.map(\.count).max() ?? 0) + 1)
        for set in sets { counts[set.count] += 1 }
        return counts
    }

    /// Each class's coverage over its holdout samples (nil for a class without any).
    public var classCoverage: [Double?] {
        var held = [Int](repeating: 0, count: classNames.count), covered = held
        for (set, label) in zip(sets, labels) where label < held.count {
            held[label] += 1
            if set.contains(label) { covered[label] += 1 }
        }
        return zip(held, covered).map { $0 > 0 ? Double($1) / Double($0) : nil }
    }

    /// The classes least often covered: (name, coverage), worst first, ties by class index.
    public func worstClasses(_ count: Int) -> [(name: String, coverage: Double)] {
        var covered: [(index: Int, coverage: Double)] = []
        for (index, value) in classCoverage.enumerated() {
            if let value { covered.append((index, value)) }
        }
        covered.sort { $0.coverage != $1.coverage ? $0.coverage < $1.coverage : $0.index < $1.index }
        return covered.prefix(count).map { (name: classNames[$0.index], coverage: $0.coverage) }
    }

    public var text: String {
        func f(_ x: Double) -> String { String(format: "%.4f", x) }
        let p = predictor
        let asked = "coverage asked ≥ \(f(1 - p.alpha))"
        let head = "prediction sets: \(p.score.rawValue.uppercased()) at alpha \(pythonFloat(p.alpha)) (\(asked)), "
            + "threshold \(f(p.quantile)) fitted on \(source)"
        let holdout = "holdout (\(dataset)): coverage \(f(coverage)) on \(labels.count) images, mean set size \(f(meanSetSize))"
        // Their range and median; the whole histogram is in --json.
        let sorted = sets.map(\.count).sorted()
        let sizeText = "\(sorted.first ?? 0) to \(sorted.last ?? 0), median \(sorted.isEmpty ? 0 : sorted[sorted.count / 2]) (the histogram: --json)"
        let worst: [String] = worstClasses(5).map { "\($0.name) \(f($0.coverage))" }
        var lines = [head, holdout, "set sizes       " + sizeText, "worst covered   " + worst.joined(separator: ", ")]
        if let output { lines.append("wrote \(output): \(path) with the threshold recorded, for mlp-predict --sets") }
        return lines.joined(separator: "\n")
    }

    public var json: JSONValue {
        let p = predictor
        let worst: [JSONValue] = worstClasses(5).map { ["name": .string($0.name), "coverage": .double($0.coverage)] }
        let histogram: [JSONValue] = sizeHistogram.map { .int($0) }
        let perClass: [JSONValue] = classCoverage.map { $0.map(JSONValue.double) ?? .null }
        var conformal: [String: JSONValue] = ["alpha": .double(p.alpha), "score": .string(p.score.rawValue), "quantile": .double(p.quantile)]
        conformal["seed"] = .int(Int(p.seed))
        conformal["calibration_samples"] = .int(p.samples)
        conformal["fitted_on"] = .string(source)
        conformal["coverage"] = .double(coverage)
        conformal["mean_set_size"] = .double(meanSetSize)
        conformal["set_size_histogram"] = .array(histogram)
        conformal["class_coverage"] = .array(perClass)
        conformal["worst_classes"] = .array(worst)
        var object: [String: JSONValue] = ["model": .string(path), "dataset": .string(dataset), "samples": .int(labels.count)]
        object["conformal"] = .object(conformal)
        return .object(object)
    }
}
