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

    @Argument(help: "The model file (.keras or .h5, this toolchain's or Keras's).")
    var model: String?

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Compare two models on the same holdout set, with paired bootstrap intervals of their differences.", valueName: "a.keras b.h5"))
    var compare: [String] = []

    @Option(help: ArgumentHelp("With --ci or --compare: write the sample indices each resample drew as a NumPy int32 array (resamples × samples), to check the intervals elsewhere.", valueName: "file"))
    var saveResamples: String?

    @OptionGroup var data: DataOptions

    @Flag(help: "Print one JSON object instead of the report.")
    var json = false

    @Option(name: .customLong("ci"), parsing: .unconditional, help: "Add 95% bootstrap intervals for accuracy, macro AUC, expected calibration error and Brier score from N resamples (0 to 100000).")
    var resamples = 0

    @Option(help: "Seed for the bootstrap resamples.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Write the ROC curves (micro, macro, best and worst class) as an SVG chart (.svg).", valueName: "file"))
    var plot: String?

    @Option(help: ArgumentHelp("Write the confusion matrix as CSV (.csv; rows: true class, columns: predicted) or as an SVG heat map (.svg).", valueName: "file"))
    var confusion: String?

    @Option(help: ArgumentHelp("Draw a reliability diagram (accuracy against confidence in 15 bins, and the samples per bin) as an SVG chart.", valueName: "file"))
    var reliability: String?

    @Option(help: ArgumentHelp("Write the predicted probabilities as a NumPy .npy array (float32, samples × classes).", valueName: "file"))
    var predictions: String?

    @Flag(help: "Fit one temperature that divides the logits, minimizing the log loss on validation data (the validation split the model records, or --calibration-data; never the holdout set), and write the calibrated model to -o.")
    var temperatureScale = false

    @Option(help: ArgumentHelp("With --temperature-scale: labelled data to fit the temperature on, in any form --data takes (its training split), in place of the model's recorded validation split.", valueName: "path"))
    var calibrationData: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("With --temperature-scale: where to write the calibrated model (.h5 or .keras), its last Dense kernel and bias divided by the temperature.", valueName: "file"))
    var output: String?

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
                throw ValidationError("--plot, --confusion, --reliability and --predictions describe one model; leave them out with --compare")
            }
        }
        if temperatureScale {
            guard compare.isEmpty else { throw ValidationError("--temperature-scale calibrates one model; leave out --compare") }
            guard output != nil else { throw ValidationError("--temperature-scale needs -o FILE for the calibrated model") }
        } else {
            guard output == nil, calibrationData == nil else { throw ValidationError("-o and --calibration-data go with --temperature-scale") }
        }
        guard (1...65_536).contains(batchSize) else { throw ValidationError("--batch-size must be 1 to 65536, got \(batchSize)") }
    }

    /// Lines about the data: on standard error with --json, so that standard output stays one JSON object.
    func log(_ line: String) {
        if json { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { print(line) }
    }

    func run() throws {
        for (path, flag, formats) in [(plot, "plot", OutputName.chart), (confusion, "confusion", OutputName.csv + OutputName.chart),
                                      (reliability, "reliability", OutputName.chart),
                                      (predictions, "predictions", OutputName.npy), (saveResamples, "save-resamples", OutputName.npy)] {
            if let path { try OutputName.check(path, flag: flag, formats: formats) }
        }
        guard let model else { return try runComparison() }
        if let output { try OutputName.check(output, flag: "output", formats: OutputName.model) }
        let saved = try ModelProbe.load(model)
        let recorded = RecordedRun(provenance: saved.provenance)
        // With the recorded validation split, the training split comes with the holdout set, from one read of the data.
        let splitOfModel = temperatureScale && calibrationData == nil
        if splitOfModel, recorded.validationSplit ?? 0 <= 0 {
            throw MLPError.usage("\(model) records no validation split to fit the temperature on: give --calibration-data, "
                + "or train with --validation-split")
        }
        let pair = try data.load(splits: splitOfModel ? .both : .holdoutOnly, recorded: recorded, model: model, log: log)
        var calibration: TemperatureScaling.Fit?
        var calibrationSource = ""
        if temperatureScale {
            let fitting: ImageDataset
            if let calibrationData {
                var options = data
                options.data = calibrationData
                let calibrationPair = try options.load(splits: .trainingOnly, recorded: recorded, model: model, log: log)
                if let trained = recorded.datasetSHA256, calibrationPair.checksum == trained {
                    throw MLPError.format(path: calibrationData, problem: "is the data \(model) was trained on; fit the temperature on data "
                        + "it did not train on (without --calibration-data, on the validation split it records)")
                }
                fitting = calibrationPair.train
                if fitting.count > 0, fitting.contentDigest == pair.test.contentDigest || fitting.contentDigest == recorded.holdoutSHA256 {
                    throw MLPError.format(path: calibrationData, problem: "holds the holdout set itself; fit the temperature on validation data")
                }
                calibrationSource = "\(fitting.count) images of \(calibrationData)"
            } else {
                let split = recorded.validationSplit ?? 0
                fitting = pair.train.splitValidation(fraction: split).validation
                calibrationSource = "the last \(fitting.count) training images (the validation split of \(split) that \(model) records)"
            }
            do {
                let logits = try TemperatureScaling.logits(model: saved.model, data: fitting, batchSize: batchSize)
                calibration = try TemperatureScaling.fit(logits: logits, labels: fitting.labels.map(Int.init), classes: saved.model.outputWidth)
            } catch MLPError.model(let problem) {
                throw MLPError.format(path: model, problem: problem)
            }
        }
        let report: EvaluationReport
        var drawn: [Int32] = []
        do {
            report = try Evaluation.evaluate(model: saved.model, data: pair.test, batchSize: batchSize, bootstrap: resamples, seed: seed,
                                             drawn: saveResamples == nil ? nil : { _, indices in drawn += indices.map { Int32($0) } })
        } catch MLPError.model(let problem) {
            throw MLPError.format(path: model, problem: problem)
        }
        if let saveResamples { try writeOutput(NPY.encode(int32s: drawn, shape: [resamples, report.samples]), to: saveResamples) }
        if let calibration, let output {
            return try writeCalibrated(saved: saved, path: model, fit: calibration, source: calibrationSource, before: report,
                                       pair: pair, output: output)
        }
        if json {
            let extra: [String: Any] = ["model": model, "dataset": pair.name, "data": pair.source]
            let object = report.jsonObject(extra: extra)
            print(jsonText(object))
        } else {
            let version = saved.kerasVersion.map { "Keras \($0)" } ?? "unknown writer"
            print(report.text(title: "\(model) (\(version)) on the \(pair.name) holdout set"))
        }
        if let plot {
            let svg = ROCPlot.svg(curves: ROCPlot.curves(for: report), title: "ROC, one vs rest: \(URL(fileURLWithPath: model).lastPathComponent)")
            try writeOutput(Data(svg.utf8), to: plot)
        }
        let name = URL(fileURLWithPath: model).lastPathComponent
        if let confusion {
            let text = confusion.lowercased().hasSuffix(".svg")
                ? ConfusionHeatmap.svg(confusion: report.confusion, classNames: report.classNames, title: "Confusion matrix: \(name) on \(pair.name)")
                : report.confusionCSV()
            try writeOutput(Data(text.utf8), to: confusion)
        }
        if let reliability {
            try writeOutput(Data(ReliabilityDiagram.svg(for: report, title: "\(name) on the \(pair.name) holdout set").utf8), to: reliability)
        }
        if let predictions {
            try writeOutput(NPY.encode(report.probabilities, shape: [report.samples, report.classNames.count]), to: predictions)
        }
    }

    /// `--temperature-scale`: divides the model's last Dense layer by the fitted temperature,
    /// saves it without an optimizer (a plain model for inference), and reports the holdout set
    /// before and after.
    func writeCalibrated(saved: CompiledModel, path: String, fit: TemperatureScaling.Fit, source: String, before: EvaluationReport,
                         pair: DatasetPair, output: String) throws {
        try TemperatureScaling.apply(fit.temperature, to: saved.model)
        var provenance = saved.provenance
        provenance["temperature"] = pythonFloat(fit.temperature)
        provenance["calibrated_from"] = path
        provenance["calibrated_on"] = source
        try ModelFile.save(CompiledModel(model: saved.model, provenance: provenance), to: output)
        let after = try Evaluation.evaluate(model: saved.model, data: pair.test, batchSize: batchSize, bootstrap: resamples, seed: seed)
        let predictedBefore = Classification.predictedClasses(before.probabilities, classes: before.classNames.count)
        let predictedAfter = Classification.predictedClasses(after.probabilities, classes: after.classNames.count)
        let changed = zip(predictedBefore, predictedAfter).filter { $0 != $1 }.count
        if json {
            var object = after.jsonObject(extra: ["model": output, "dataset": pair.name, "data": pair.source])
            object["temperature_scaling"] = [
                "temperature": fit.temperature, "fitted_on": source, "samples": fit.samples, "from": path,
                "validation_log_loss": [fit.logLossBefore, fit.logLossAfter],
                "holdout_log_loss": [before.logLoss, after.logLoss],
                "holdout_expected_calibration_error": [before.expectedCalibrationError, after.expectedCalibrationError],
                "holdout_accuracy": [before.accuracy, after.accuracy], "predictions_changed": changed,
            ] as [String: Any]
            print(jsonText(object))
            return
        }
        func f(_ x: Double) -> String { String(format: "%.4f", x) }
        print("temperature \(String(format: "%.4f", fit.temperature)), fitted on \(source): validation log loss \(f(fit.logLossBefore)) → \(f(fit.logLossAfter))")
        print("holdout: log loss \(f(before.logLoss)) → \(f(after.logLoss)), ECE \(f(before.expectedCalibrationError)) → "
              + "\(f(after.expectedCalibrationError)), Brier \(f(before.brierScore)) → \(f(after.brierScore)); accuracy \(f(after.accuracy)), "
              + (changed == 0 ? "no prediction changed" : "\(changed) predictions changed (ties)"))
        print("wrote \(output): \(path) with its last Dense kernel and bias divided by \(String(format: "%.4f", fit.temperature))")
    }

    /// `--compare A B`: both models on the same holdout set, with paired bootstrap intervals.
    func runComparison() throws {
        let (pathA, pathB) = (compare[0], compare[1])
        let savedA = try ModelProbe.load(pathA), savedB = try ModelProbe.load(pathB)
        let recordedA = RecordedRun(provenance: savedA.provenance), recordedB = RecordedRun(provenance: savedB.provenance)
        if data.labelMode == nil, let a = recordedA.labelMode, let b = recordedB.labelMode, a != b {
            throw MLPError.usage("\(pathA) records \(a.rawValue) labels and \(pathB) \(b.rawValue): compare models of one label mode")
        }
        // The data A records (B's when A records none); a note for a model trained on other data.
        let (first, second) = recordedA.datasetName != nil ? ((recordedA, pathA), (recordedB, pathB)) : ((recordedB, pathB), (recordedA, pathA))
        let pair = try data.load(splits: .holdoutOnly, recorded: first.0, model: first.1, log: log)
        if let note = second.0.dataNote(path: second.1, data: pair) { log(note) }
        func report(_ saved: CompiledModel, _ path: String) throws -> EvaluationReport {
            do {
                return try Evaluation.evaluate(model: saved.model, data: pair.test, batchSize: batchSize)
            } catch MLPError.model(let problem) {
                throw MLPError.format(path: path, problem: problem)
            }
        }
        let a = try report(savedA, pathA), b = try report(savedB, pathB)
        let count = resamples > 0 ? resamples : 1000
        var drawn: [Int32] = []
        if saveResamples != nil { drawn.reserveCapacity(count * a.samples) }
        let comparison = Bootstrap.compare(
            a: a.auc, predictedA: Classification.predictedClasses(a.probabilities, classes: a.classNames.count),
            b: b.auc, predictedB: Classification.predictedClasses(b.probabilities, classes: b.classNames.count),
            resamples: count, seed: seed, drawn: saveResamples == nil ? nil : { _, indices in drawn += indices.map { Int32($0) } })
        if let saveResamples { try writeOutput(NPY.encode(int32s: drawn, shape: [count, a.samples]), to: saveResamples) }
        let labels = pair.test.labels.map(Int.init)
        let mcnemar = Calibration.McNemar(predictedA: Classification.predictedClasses(a.probabilities, classes: a.classNames.count),
                                          predictedB: Classification.predictedClasses(b.probabilities, classes: b.classNames.count),
                                          labels: labels)
        if json {
            func metric(_ m: Bootstrap.Comparison.Metric) -> [String: Any] {
                ["a": m.a, "b": m.b, "b_minus_a": m.difference, "ci": [m.interval.low, m.interval.high], "excludes_zero": m.excludesZero]
            }
            print(jsonText(["a": pathA, "b": pathB, "dataset": pair.name, "data": pair.source, "samples": a.samples,
                            "resamples": count, "seed": seed, "level": 0.95, "accuracy": metric(comparison.accuracy),
                            "roc_auc_ovr_macro": metric(comparison.macroAUC),
                            "mcnemar": ["statistic": mcnemar.statistic, "p_value": mcnemar.pValue, "discordant": mcnemar.discordant,
                                        "a_only": mcnemar.aOnly, "b_only": mcnemar.bOnly, "exact": mcnemar.exact] as [String: Any],
                           ] as [String: Any]))
            return
        }
        func f(_ x: Double) -> String { String(format: "%.4f", x) }
        func signed(_ x: Double) -> String { (x >= 0 ? "+" : "") + f(x) }
        func row(_ name: String, _ m: Bootstrap.Comparison.Metric) -> String {
            let verdict = m.excludesZero ? "excludes 0: \(m.difference > 0 ? "B" : "A") is better"
                : "includes 0: no difference shown"
            return name.padding(toLength: 17, withPad: " ", startingAt: 0) + f(m.a) + "    " + f(m.b) + "    " + signed(m.difference)
                + "    " + signed(m.interval.low) + " to " + signed(m.interval.high) + "   " + verdict
        }
        print("A \(pathA)\nB \(pathB)")
        print("on the \(pair.name) holdout set: \(a.samples) images; \(count) paired bootstrap resamples (seed \(seed))")
        print("                 A         B         B − A      95% CI of B − A")
        print(row("accuracy", comparison.accuracy))
        print(row("ROC AUC (macro)", comparison.macroAUC))
        print("McNemar          \(mcnemar.aOnly) right by A alone, \(mcnemar.bOnly) by B alone: "
              + (mcnemar.exact ? "exact binomial, statistic \(Int(mcnemar.statistic))" : "chi-square \(f(mcnemar.statistic))")
              + ", p = " + (mcnemar.pValue < 1e-4 ? String(format: "%.2e", mcnemar.pValue) : f(mcnemar.pValue))
              + (mcnemar.pValue < 0.05 ? " (the models differ at the 5% level)" : " (no difference shown at the 5% level)"))
    }
}
