import ArgumentParser
import Foundation
import MLPCommandLine
import MLPKit

@main
struct MLPEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlp-eval",
        abstract: "Evaluate a saved model (this toolchain's or Keras's .h5) on the CIFAR-100 holdout set.",
        discussion: """
            Reports accuracy, top-5 accuracy, one-vs-rest ROC AUC (macro, weighted, micro; exact, as scikit-learn's \
            roc_auc_score), log loss, and the best and worst classes by AUC.
            """)

    static func main() { mainReportingOneLine() }

    @Argument(help: "The model file (.h5).")
    var model: String

    @OptionGroup var data: DataOptions

    @Flag(help: "Print one JSON object instead of the report.")
    var json = false

    @Option(name: .customLong("ci"), help: "Add 95% bootstrap intervals for accuracy and macro AUC from N resamples (0 to 100000).")
    var resamples = 0

    @Option(help: "Seed for the bootstrap resamples.")
    var seed: UInt64 = 0

    @Option(help: "Write the ROC curves (micro, macro, best and worst class) as an SVG chart.")
    var plot: String?

    @Option(help: "Write the confusion matrix as CSV (rows: true class, columns: predicted).")
    var confusion: String?

    @Option(help: "Write the predicted probabilities as a NumPy .npy array (float32, samples × classes).")
    var predictions: String?

    @Option(help: "Samples per prediction batch (1 to 65536).")
    var batchSize = 500

    func validate() throws {
        guard (0...100_000).contains(resamples) else { throw ValidationError("--ci must be 0 to 100000, got \(resamples)") }
        guard (1...65_536).contains(batchSize) else { throw ValidationError("--batch-size must be 1 to 65536, got \(batchSize)") }
    }

    func run() throws {
        for path in [plot, confusion, predictions].compactMap({ $0 }) { try AtomicFile.temporaryPath(for: path) }
        let saved = try KerasH5.load(path: model)
        let pair = try data.load(splits: .holdoutOnly)
        let report: EvaluationReport
        do {
            report = try Evaluation.evaluate(model: saved.model, data: pair.test, batchSize: batchSize,
                                             bootstrap: resamples, seed: seed)
        } catch MLPError.model(let problem) {
            throw MLPError.format(path: model, problem: problem)
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
        if let confusion { try writeOutput(Data(report.confusionCSV().utf8), to: confusion) }
        if let predictions {
            try writeOutput(NPY.encode(report.probabilities, shape: [report.samples, report.classNames.count]), to: predictions)
        }
    }
}
