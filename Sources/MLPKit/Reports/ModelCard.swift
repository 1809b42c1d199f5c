import Foundation

/// A Hugging Face model card (`README.md` of a model repository) for a saved model: YAML front
/// matter the Hub reads (`library_name`, `pipeline_tag`, `tags`, `datasets`, `metrics` and, with
/// an evaluation, `model-index` results), then what the model is, how it was trained, how well
/// it does on its holdout set with its intervals and calibration, its worst classes, and how to
/// load it. Everything comes from the file's own record and `mlp-eval --json`'s output; nothing
/// is guessed.
public struct ModelCard {
    public let saved: CompiledModel
    /// The model file, as the user named it.
    public let path: String
    public let evaluation: EvaluationRecord?

    /// - Throws: when `evaluation` is of another file than `saved` was read from, or of a model
    ///   with other classes.
    public init(saved: CompiledModel, path: String, evaluation: EvaluationRecord?, evaluationPath: String = "") throws {
        let input = saved.record.input
        if let evaluation {
            if let own = saved.fileSHA256, evaluation.modelSHA256 != own {
                throw MLPError.format(path: evaluationPath, problem: "evaluates another model (\(evaluation.model), SHA-256 "
                    + "\(evaluation.modelSHA256.prefix(12))…) than \(path) (SHA-256 \(own.prefix(12))…); give what mlp-eval \(path) --json prints")
            }
            let classes = saved.model.outputWidth
            guard evaluation.perClass.count == classes else {
                throw MLPError.format(path: evaluationPath, problem: "evaluates a model of \(evaluation.perClass.count) classes; \(path) has \(classes)")
            }
            if let names = input?.classNames, names.count == classes,
               names != evaluation.perClass.map(\.name) {
                throw MLPError.format(path: evaluationPath, problem: "names other classes than \(path) records")
            }
        }
        self.saved = saved
        self.path = path
        self.evaluation = evaluation
        self.input = input
    }

    /// What the file records of its inputs.
    let input: InputRecord?

    var name: String { URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent }
    var isImageModel: Bool { input?.isImage ?? (saved.model.inputShape.count > 1) }
    var datasetName: String? { saved.record.datasetName ?? evaluation?.dataset }
    var hubDataset: String? { datasetName.flatMap { DatasetSources.source(ofRecordedName: $0)?.hubDataset } }

    /// The card's text: front matter, then Markdown.
    public var markdown: String { frontMatter + "\n" + body }

    /// One metric of `model-index`: Hugging Face's metric type, its value, and a readable name.
    struct Metric {
        var type: String
        var value: Double
        var name: String
    }

    var metrics: [Metric] {
        guard let e = evaluation else { return [] }
        var list = [Metric(type: "accuracy", value: e.accuracy, name: "Accuracy"),
                    Metric(type: "top_k_accuracy", value: e.top5Accuracy, name: "Top-5 accuracy")]
        if let auc = e.rocAUCMacro { list.append(Metric(type: "roc_auc", value: auc, name: "ROC AUC (one-vs-rest, macro)")) }
        list += [Metric(type: "f1", value: e.macroAverage.f1, name: "F1 (macro)"),
                 Metric(type: "precision", value: e.macroAverage.precision, name: "Precision (macro)"),
                 Metric(type: "recall", value: e.macroAverage.recall, name: "Recall (macro)"),
                 Metric(type: "log_loss", value: e.logLoss, name: "Log loss")]
        if let ece = e.expectedCalibrationError {
            list.append(Metric(type: "expected_calibration_error", value: ece, name: "Expected calibration error (15 bins)"))
        }
        if let brier = e.brierScore { list.append(Metric(type: "brier_score", value: brier, name: "Brier score")) }
        return list
    }

    var frontMatter: String {
        let task = isImageModel ? ("image-classification", "Image Classification") : ("tabular-classification", "Tabular Classification")
        var lines = ["---", "library_name: keras", "pipeline_tag: \(task.0)", "tags:", "- keras", "- \(task.0)", "- mlp"]
        if let hubDataset { lines += ["datasets:", "- \(yaml(hubDataset))"] }
        let metrics = metrics
        if !metrics.isEmpty {
            lines.append("metrics:")
            lines += metrics.map { "- \($0.type)" }
        }
        if let evaluation {
            lines += ["model-index:", "- name: \(yaml(name))", "  results:", "  - task:", "      type: \(task.0)", "      name: \(task.1)",
                      "    dataset:", "      name: \(yaml(evaluation.dataset))", "      type: \(yaml(hubDataset ?? evaluation.dataset))",
                      "      split: test", "    metrics:"]
            for metric in metrics {
                lines += ["    - type: \(metric.type)", "      value: \(pythonFloat(metric.value))", "      name: \(yaml(metric.name))"]
            }
        }
        return (lines + ["---"]).joined(separator: "\n") + "\n"
    }

    var body: String {
        let model = saved.model
        let parameters = model.parameters.reduce(0) { $0 + $1.count }
        let what = input.map { $0.isImage ? "\($0.shapeText) images" : "samples of \($0.shapeText) features" }
            ?? "inputs of shape \(ModelSummary.shapeText(model.inputShape))"
        var out = ["# \(name)", ""]
        let trainedBy = saved.record.version.map { "trained by mlp \($0)" } ?? "written by Keras \(saved.kerasVersion ?? "?")"
        out.append("A Keras `Sequential` classifier of \(what) into \(model.outputWidth) classes: \(model.layers.count) layers, "
                   + "\(ModelSummary.grouped(parameters)) parameters, \(trainedBy)"
                   + (datasetName.map { " on \($0)" } ?? "") + ".")
        out += ["", "## Model", "", "```", ModelSummary.table(model), "```", ""]
        out += training
        out += evaluationSection
        out += usage
        return out.joined(separator: "\n") + "\n"
    }

    var training: [String] {
        let record = saved.record
        guard !record.isEmpty else {
            return ["## Training", "", "The file records no training run (a model saved by Keras).", ""]
        }
        var rows: [(String, String)] = []
        if let dataset = record.datasetName {
            rows.append(("data", dataset + (record.datasetFile.map { ", `\(URL(fileURLWithPath: $0).lastPathComponent)`" } ?? "")))
        }
        if let digest = record.datasetSHA256 { rows.append(("data SHA-256", "`\(digest)`")) }
        if let input { rows.append(("input", input.description)) }
        if let loss = saved.loss { rows.append(("loss", loss)) }
        if let optimizer = saved.trainingConfig?["optimizer_config"], let kind = optimizer["class_name"]?.string {
            let rate = optimizer["config"]?["learning_rate"].map { " (learning rate \($0.displayText))" } ?? ""
            rows.append(("optimizer", kind + rate))
        }
        // The optimizer and its learning rate are in the row above, as the file's optimizer config has them.
        for (key, value) in record.options?.rows ?? [] where !["metrics", "optimizer", "learning_rate"].contains(key) {
            rows.append((key.replacingOccurrences(of: "_", with: " "), value))
        }
        let counts = [("epochs completed", record.epochsCompleted.map { String($0) }), ("best epoch", record.bestEpoch.map { String($0) }),
                      ("seed", record.seed.map { String($0) }), ("created", record.created)]
        rows += counts.compactMap { label, value in value.map { (label, $0) } }
        if let temperature = record.temperature {
            rows.append(("temperature", "\(pythonFloat(temperature)): the last Dense layer divided by it"
                         + (record.calibratedOn.map { ", fitted on \($0)" } ?? "")))
        }
        var out = ["## Training", "", "| | |", "|---|---|"]
        out += rows.map { "| \($0.0) | \(cell($0.1)) |" }
        if let command = record.command {
            // The program by its name, not where it lay on the machine that trained.
            let words = command.split(separator: " ", maxSplits: 1).map(String.init)
            let program = words.first.map { URL(fileURLWithPath: $0).lastPathComponent } ?? ""
            out += ["", "Command: `\(([program] + words.dropFirst()).joined(separator: " "))`"]
        }
        return out + [""]
    }

    var evaluationSection: [String] {
        guard let e = evaluation else { return [] }
        func f(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "n/a" }
        func interval(_ pair: [Double?]?) -> String {
            guard let pair, pair.count == 2 else { return "" }
            return "\(f(pair[0])) – \(f(pair[1]))"
        }
        let i = e.intervals
        let level = i.map { "\(Int(($0.level * 100).rounded()))% interval (\($0.resamples) bootstrap resamples)" } ?? "interval"
        var out = ["## Evaluation", "",
                   "On the holdout set of \(e.dataset), \(ModelSummary.grouped(e.samples)) samples (`mlp-eval`"
                   + (i == nil ? ")." : " with `--ci \(i!.resamples)`)."), "",
                   "| metric | value | \(level) |", "|---|---|---|",
                   "| accuracy | \(f(e.accuracy)) | \(interval(i?.accuracy)) |",
                   "| top-5 accuracy | \(f(e.top5Accuracy)) | |",
                   "| ROC AUC (one-vs-rest, macro) | \(f(e.rocAUCMacro)) | \(interval(i?.rocAUCMacro)) |",
                   "| ROC AUC (one-vs-rest, weighted) | \(f(e.rocAUCWeighted)) | |",
                   "| precision / recall / F1 (macro) | \(f(e.macroAverage.precision)) / \(f(e.macroAverage.recall)) / \(f(e.macroAverage.f1)) | |",
                   "| precision / recall / F1 (weighted) | \(f(e.weightedAverage.precision)) / \(f(e.weightedAverage.recall)) / \(f(e.weightedAverage.f1)) | |",
                   "| log loss | \(f(e.logLoss)) | |",
                   "| expected calibration error (15 bins) | \(f(e.expectedCalibrationError)) | \(interval(i?.expectedCalibrationError)) |",
                   "| Brier score | \(f(e.brierScore)) | \(interval(i?.brierScore)) |", ""]
        let worst = e.worstClasses(5)
        if !worst.isEmpty {
            out += ["### Worst classes", "", "| class | ROC AUC | precision | recall | F1 | support |", "|---|---|---|---|---|---|"]
            out += worst.map { "| \(cell($0.name)) | \(f($0.rocAUC)) | \(f($0.precision)) | \(f($0.recall)) | \(f($0.f1)) | \($0.support) |" }
            out.append("")
        }
        if !e.mostConfused.isEmpty {
            out += ["### Most confused", ""]
            out += e.mostConfused.prefix(5).map { "- \($0.actual) taken for \($0.predicted): \($0.count) times" }
            out.append("")
        }
        if let ece = e.expectedCalibrationError, ece > 0.05, saved.record.temperature == nil {
            let split = (saved.record.validationSplit ?? 0) > 0
            let command = "mlp-eval \(URL(fileURLWithPath: path).lastPathComponent) --temperature-scale" + (split ? "" : " --calibration-data DATA")
                + " -o calibrated.h5"
            out += ["The probabilities are off by \(f(ece)) on average (ECE): `\(command)` fits a temperature on validation data "
                    + "that lowers it without changing any prediction.", ""]
        }
        return out
    }

    var usage: [String] {
        let file = URL(fileURLWithPath: path).lastPathComponent
        let width = saved.model.inputShape.reduce(1, *)
        let reshape = saved.model.inputShape.count == 1 ? "x.reshape(len(x), \(width))" : "x.reshape((len(x),) + model.input_shape[1:])"
        let scale = (input?.preprocessing ?? .rescale255) == .rescale255 ? " / 255" : ""
        let shape = input.map { "[n, " + $0.shape.map(String.init).joined(separator: ", ") + "]" } ?? "[n, \(width)]"
        var out = ["## How to use", "", "```python", "import keras", "", "model = keras.models.load_model(\"\(file)\")",
                   "# x: \(shape) \(scale.isEmpty ? "values" : "uint8 pixels"), prepared as in training",
                   "probabilities = model.predict(\(reshape).astype(\"float32\")\(scale))", "```", ""]
        if isImageModel { out += ["Or, on image files: `mlp-predict \(file) photo.png`.", ""] }
        out += ["## Limitations", "",
                "The numbers above hold for data like the holdout set; intervals are bootstrap percentile intervals over its samples "
                + "and say nothing of data from elsewhere."]
        return out
    }

    /// A YAML double-quoted scalar, safe for any text: JSON's string literal is one.
    func yaml(_ text: String) -> String { JSONValue.quoted(text) }

    /// Text safe in a Markdown table cell.
    func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
