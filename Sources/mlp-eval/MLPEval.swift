import ArgumentParser
import Foundation
import MLPCommandLine
import MLPKit

@main
struct MLPEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlp-eval",
        abstract: "Evaluate a saved model (.keras or .h5, this toolchain's or Keras's) on its dataset's holdout set.",
        discussion: """
            Reports accuracy, top-5 accuracy, one-vs-rest ROC AUC (macro, weighted, micro; exact, as scikit-learn's \
            roc_auc_score), log loss, calibration (expected calibration error over 15 bins, Brier score), \
            classification_report's macro and weighted averages, the best and worst classes by AUC, and the most-confused pairs.

            With --compare A.h5 B.h5, evaluates both on the same holdout set and reports the differences B - A in \
            accuracy and macro ROC AUC, each with a paired bootstrap 95% interval (the same resamples for both models), \
            and whether the interval excludes zero.
            """)

    static func main() { mainReportingOneLine() }

    @Argument(help: "The model file (.keras or .h5, this toolchain's or Keras's), or an ONNX file of the operators mlp-export writes.")
    var model: String?

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Compare two models on the same holdout set, with paired bootstrap intervals of their differences.", valueName: "a.keras b.h5"))
    var compare: [String] = []

    @Option(help: ArgumentHelp("With --ci or --compare: write the sample indices each resample drew as a NumPy int32 array (resamples × samples), to check the intervals elsewhere.", valueName: "file"))
    var saveResamples: String?

    @OptionGroup var data: DataOptions

    @OptionGroup var output: JSONOption

    @OptionGroup var compute: ComputeOptionGroup

    @Option(name: .customLong("ci"), parsing: .unconditional, help: "Add 95% bootstrap intervals for accuracy, macro AUC, expected calibration error and Brier score from N resamples (0 to 100000).")
    var resamples = 0

    @Option(help: "Seed for the bootstrap resamples of --ci and --compare (default 0).")
    var bootstrapSeed: UInt64?

    @Option(name: .customLong("seed"), help: .private)
    var formerSeed: UInt64?

    @Option(help: ArgumentHelp("Write the ROC curves (micro, macro, best and worst class) as an SVG chart (.svg).", valueName: "file"))
    var rocPlot: String?

    @Option(name: .customLong("plot"), help: .private)
    var formerPlot: String?

    /// The seed and the chart, under their names or their former ones (mlp-train's --seed and
    /// --plot mean the training's seed and its learning curves).
    var seed: UInt64 { bootstrapSeed ?? formerSeed ?? 0 }
    var plot: String? { rocPlot ?? formerPlot }

    @Option(help: ArgumentHelp("Write the confusion matrix as CSV (.csv; rows: true class, columns: predicted) or as an SVG heat map (.svg).", valueName: "file"))
    var confusion: String?

    @Option(help: ArgumentHelp("Draw a reliability diagram (accuracy against confidence in 15 bins, and the samples per bin) as an SVG chart.", valueName: "file"))
    var reliability: String?

    @Option(help: ArgumentHelp("Write the predicted probabilities as a NumPy .npy array (float32, samples × classes).", valueName: "file"))
    var predictions: String?

    @Flag(help: "Fit one temperature that divides the logits, minimizing the log loss on validation data (the validation split the model records, or --calibration-data; never the holdout set), and write the calibrated model to -o.")
    var temperatureScale = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Split conformal prediction sets that hold the true class with probability at least 1 − ALPHA (above 0, below 1), as MAPIE's SplitConformalClassifier makes them: the threshold fitted on validation data (the validation split the model records, or --calibration-data; never the holdout set), then coverage and set sizes on the holdout set. With -o, the threshold is recorded in a copy of the model, for mlp-predict --sets.", valueName: "alpha"))
    var conformal: Double?

    @Option(help: "With --conformal: the conformity score, lac (1 − the class's probability) or aps (adaptive: the probability mass ranked above the class). Default lac.")
    var score: String?

    @Option(help: "With --conformal --score aps: the seed of the uniform draws of APS's randomized score (MAPIE's random_state; default 0).")
    var conformalSeed: UInt32?

    @Option(help: ArgumentHelp("With --temperature-scale or --conformal: labelled data to calibrate on, in any form --data takes (its training split), in place of the model's recorded validation split.", valueName: "path"))
    var calibrationData: String?

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("With --temperature-scale: where to write the calibrated model (.h5 or .keras), its last Dense kernel and bias divided by the temperature; with --conformal: where to write the model with its threshold recorded.", valueName: "file"))
    var calibrated: String?

    @Option(parsing: .unconditional, help: "Samples per prediction batch (1 to 65536).")
    var batchSize = 500

    func validate() throws {
        guard (0...100_000).contains(resamples) else { throw ValidationError("--ci must be 0 to 100000, got \(resamples)") }
        if compare.isEmpty {
            guard model != nil else { throw ValidationError("give a model file, or --compare A.h5 B.h5") }
            guard saveResamples == nil || resamples > 0 else { throw ValidationError("--save-resamples goes with --ci N or --compare") }
        } else {
            guard compare.count == 2 else { throw ValidationError("--compare takes two model files, got \(compare.count)") }
            guard model == nil else { throw ValidationError("give the model files after --compare, not before") }
            guard plot == nil, confusion == nil, predictions == nil, reliability == nil else {
                throw ValidationError("--roc-plot, --confusion, --reliability and --predictions describe one model; leave them out with --compare")
            }
        }
        if temperatureScale {
            guard compare.isEmpty else { throw ValidationError("--temperature-scale calibrates one model; leave out --compare") }
            guard calibrated != nil else { throw ValidationError("--temperature-scale needs -o FILE for the calibrated model") }
            guard conformal == nil else { throw ValidationError("--temperature-scale and --conformal are two calibrations; run one, then the other") }
        } else if let conformal {
            guard compare.isEmpty else { throw ValidationError("--conformal calibrates one model; leave out --compare") }
            guard conformal > 0, conformal < 1 else { throw ValidationError("--conformal must be above 0 and below 1, got \(conformal)") }
        } else {
            guard calibrated == nil, calibrationData == nil else {
                throw ValidationError("-o and --calibration-data go with --temperature-scale or --conformal")
            }
        }
        if score != nil || conformalSeed != nil {
            guard conformal != nil else { throw ValidationError("--score and --conformal-seed go with --conformal") }
        }
        if let score, ConformalPredictor.Score(rawValue: score) == nil {
            throw ValidationError("--score must be \(ConformalPredictor.Score.allCases.map(\.rawValue).joined(separator: " or ")), got '\(score)'")
        }
        for (former, name, both) in [("seed", "bootstrap-seed", formerSeed != nil && bootstrapSeed != nil),
                                     ("plot", "roc-plot", formerPlot != nil && rocPlot != nil)] where both {
            throw ValidationError("--\(former) is the former name of --\(name); give one")
        }
        guard (1...65_536).contains(batchSize) else { throw ValidationError("--batch-size must be 1 to 65536, got \(batchSize)") }
    }

    /// Lines about the data: on standard error with --json, so that standard output stays one JSON object.
    func log(_ line: String) {
        if output.json { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { print(line) }
    }

    func run() throws {
        for (former, name, given) in [("seed", "bootstrap-seed", formerSeed != nil), ("plot", "roc-plot", formerPlot != nil)] where given {
            FileHandle.standardError.write(Data("mlp-eval: note: --\(former) is now --\(name); the old name still works\n".utf8))
        }
        if compare.count == 2 {
            var request = ComparisonRequest(a: (try load(compare[0]), compare[0]), b: (try load(compare[1]), compare[1]))
            (request.data, request.resamples, request.seed) = (try data.selection(), resamples, seed)
            (request.batchSize, request.resamplesFile) = (batchSize, saveResamples)
            let result = try request.run(log: log)
            print(output.json ? result.json.text : result.text)
            return wrote([saveResamples])
        }
        guard let model else { return }
        if let conformal { return try runConformal(model, alpha: conformal) }
        if temperatureScale, let calibrated {
            var request = CalibrationRequest(model: try load(model), path: model, output: calibrated)
            (request.data, request.calibrationData, request.resamples, request.seed) = (try data.selection(), calibrationData, resamples, seed)
            (request.batchSize, request.resamplesFile) = (batchSize, saveResamples)
            let result = try request.run(log: log)
            print(output.json ? result.json.text : result.text)
            return wrote([saveResamples])
        }
        var request = EvaluationRequest(model: try load(model), path: model)
        (request.data, request.resamples, request.seed, request.batchSize) = (try data.selection(), resamples, seed, batchSize)
        request.outputs.rocPlot = plot
        (request.outputs.confusion, request.outputs.reliability) = (confusion, reliability)
        (request.outputs.predictions, request.outputs.resamples) = (predictions, saveResamples)
        let result = try request.run(log: log)
        print(output.json ? result.json.text : result.text)
        wrote([plot, confusion, reliability, predictions, saveResamples])
    }

    /// Prediction sets: fitted, judged on the holdout set, and recorded with -o.
    func runConformal(_ model: String, alpha: Double) throws {
        var request = ConformalRequest(model: try load(model), path: model, alpha: alpha)
        request.score = score.flatMap(ConformalPredictor.Score.init(rawValue:)) ?? .lac
        (request.seed, request.data, request.calibrationData) = (conformalSeed ?? 0, try data.selection(), calibrationData)
        (request.output, request.batchSize) = (calibrated, batchSize)
        let result = try request.run(log: log)
        print(output.json ? result.json.text : result.text)
    }

    /// Names the files written, after the report.
    func wrote(_ files: [String?]) {
        let written = files.compactMap { $0 }
        guard !written.isEmpty else { return }
        log("wrote " + written.joined(separator: ", "))
    }

    /// The model at `path`, read (probed first in a child process) to run as the compute options say.
    func load(_ path: String) throws -> CompiledModel {
        let bytes = try ModelFile.bytes(atPath: path)
        let saved = try ONNXFile.isONNX(bytes, path: path) ? ONNXImport.load(bytes, path: path) : ModelProbe.load(path)
        saved.model.compute = compute.options()
        return saved
    }
}
