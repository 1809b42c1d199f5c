import ArgumentParser
import Foundation
import MLPCommandLine
import MLPKit

@main
struct MLPInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlp-inspect",
        abstract: "Show a saved model's layers, output shapes and parameter counts, like Keras's model.summary(), and what the file records.")

    static func main() { mainReportingOneLine() }

    @Argument(help: "The model file (.keras or .h5), written by this toolchain or by Keras; or an ONNX file (.onnx).")
    var model: String

    @Flag(help: "Add per-weight statistics: shape, min, max, mean, standard deviation, NaN and infinite counts.")
    var weights = false

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Option(help: ArgumentHelp("Write a Hugging Face model card (README.md of a model repository): YAML front matter with library_name, datasets, metrics and model-index results, then the model, its training and, with --eval, its evaluation.", valueName: "file.md"))
    var modelCard: String?

    @Option(name: .customLong("eval"), help: ArgumentHelp("With --model-card: what mlp-eval MODEL --json [--ci N] printed for this model, for the card's results, intervals, calibration and worst classes.", valueName: "eval.json"))
    var evaluation: String?

    func validate() throws {
        if evaluation != nil, modelCard == nil { throw ValidationError("--eval goes with --model-card") }
        if modelCard != nil, json || weights { throw ValidationError("--model-card writes a card; leave out --json and --weights") }
    }

    func run() throws {
        if let modelCard { try OutputName.check(modelCard, flag: "model-card", formats: OutputName.markdown) }
        let record = try evaluation.map { try EvaluationRecord(json: try fileBytes(atPath: $0, what: "mlp-eval's JSON"), path: $0) }
        let bytes = try ModelFile.bytes(atPath: model)
        // An ONNX file (mlp-export's, or anyone's) is described, not loaded; one named .onnx that
        // does not parse is told so in ONNX's terms.
        let isONNX = ONNXFile.recognizes(bytes) || (model.lowercased().hasSuffix(".onnx") && ModelFormats.all.allSatisfy { !$0.recognizes(bytes) })
        if isONNX {
            if modelCard != nil {
                throw MLPError.format(path: model, problem: "is an ONNX file; a model card is written from the .keras or .h5 file it was exported from")
            }
            if weights {
                FileHandle.standardError.write(Data("mlp-inspect: note: --weights describes a .keras or .h5 model's weights; an ONNX file's are counted below\n".utf8))
            }
            return try inspectONNX(try ONNXFile.describe(bytes, path: model))
        }
        _ = try ModelFormats.identify(bytes, path: model)
        // libhdf5 reads a damaged file in a child process first; this process then reads the
        // bytes it already has.
        try ModelProbe.probe(model)
        let saved = try ModelFile.load(bytes, path: model)
        if let modelCard {
            let card = try ModelCard(saved: saved, path: model, evaluation: record, evaluationPath: evaluation ?? "")
            try AtomicFile.write(Data(card.markdown.utf8), to: modelCard)
            print("wrote \(modelCard): a model card of \(model)" + (evaluation.map { " with the evaluation in \($0)" } ?? ""))
            return
        }
        json ? try printJSON(saved) : printText(saved)
    }

    /// An ONNX file's inputs, outputs, opsets and parameter count, as `onnx` reads them.
    func inspectONNX(_ description: ONNXFile.Description) throws {
        func shape(_ value: ONNXGraph.Value) -> [Any] { value.shape.map { $0.map { $0 as Any } ?? "batch" } }
        func text(_ value: ONNXGraph.Value) -> String {
            "\(value.name): \(value.type.name) [" + value.shape.map { $0.map(String.init) ?? "batch" }.joined(separator: ", ") + "]"
        }
        if json {
            let values = { (list: [ONNXGraph.Value]) in list.map { ["name": $0.name, "type": $0.type.name, "shape": shape($0)] as [String: Any] } }
            print(jsonText([
                "file": model, "format": "onnx", "ir_version": description.irVersion, "producer": description.producer,
                "opsets": description.opsets.map { ["domain": $0.domain, "version": $0.version] as [String: Any] },
                "inputs": values(description.inputs), "outputs": values(description.outputs),
                "total_params": description.parameters, "initializers": description.initializers,
                "operators": description.operators, "nodes": description.nodeCount, "metadata": description.metadata,
            ] as [String: Any]))
            return
        }
        field("file", model)
        field("format", "ONNX, IR version \(description.irVersion), opset "
              + description.opsets.map { ($0.domain.isEmpty ? "" : $0.domain + " ") + String($0.version) }.joined(separator: ", "))
        field("written by", description.producer.isEmpty ? "?" : description.producer)
        for input in description.inputs { field("input", text(input)) }
        for output in description.outputs { field("output", text(output)) }
        field("parameters", "\(description.parameters) in \(description.initializers) initializers")
        field("nodes", "\(description.nodeCount): \(description.operators.joined(separator: ", "))")
        // A long value (the class names of 100 classes) is cut to a line; --json gives it whole.
        for (key, value) in description.metadata.sorted(by: { $0.key < $1.key }) {
            field(key, value.count > 100 ? String(value.prefix(90)) + "… (\(value.count) characters)" : value)
        }
    }

    /// The layers' weight regularizers, in layer order.
    func regularizers(_ network: Sequential) -> [(layer: String, regularizer: Regularizer)] {
        network.layers.flatMap { layer in layer.regularizers.sorted { $0.key < $1.key }.map { (layer.name, $0.value) } }
    }

    /// The layers under each dtype policy, in model order.
    func policies(_ network: Sequential) -> [(policy: DTypePolicy, layers: [String])] {
        DTypePolicy.allCases.compactMap { policy in
            let names = network.layers.filter { $0.dtypePolicy == policy }.map(\.name)
            return names.isEmpty ? nil : (policy, names)
        }
    }

    /// The engine that would run the model here, and the oneDNN kernels it picks for the
    /// model's forward products (found by running one batch of zeros).
    func engineDescription(_ network: Sequential) -> (engine: String, kernels: [String]) {
        network.compute = ComputeOptions(threads: 1)
        let zeros = FloatBuffer(count: 128 * network.inputWidth)
        withExtendedLifetime(zeros) { _ = network.forward(zeros.pointer, rows: 128, training: false) }
        let kernels = Set(network.layers.flatMap(\.productImplementations))
        return (network.compute.engine.description, kernels.sorted())
    }

    func optimizerDescription(_ saved: CompiledModel) -> (name: String, settings: [String: Any])? {
        guard let config = saved.trainingConfig?["optimizer_config"] as? [String: Any] else { return nil }
        return (config["class_name"] as? String ?? "?", config["config"] as? [String: Any] ?? [:])
    }

    func printText(_ saved: CompiledModel) {
        let network = saved.model
        print(ModelSummary.table(network))
        print("")
        field("file", model)
        field("written by", "Keras \(saved.kerasVersion ?? "?")" + (saved.backend.map { " (backend \($0))" } ?? "")
              + (saved.provenance["version"].map { ", mlp \($0)" } ?? ""))
        field("input shape", ModelSummary.shapeText(network.inputShape))
        field("dtype policy", policies(network).map { "\($0.policy.rawValue) (\($0.layers.joined(separator: ", ")))" }
            .joined(separator: "; "))
        let (engine, kernels) = engineDescription(network)
        let widened = network.layers.contains { $0.dtypePolicy == .mixedBFloat16 } && !MatrixEngine.supportsBFloat16
        field("engine", "\(engine)" + (kernels.isEmpty ? "" : ": \(kernels.joined(separator: ", ")) for this model's products")
              + (widened ? "; bfloat16 products widened to float32 here (no bfloat16 kernels on this CPU)" : ""))
        let regularized = regularizers(network)
        if !regularized.isEmpty {
            field("regularizers", regularized.map { "\($0.layer): \($0.regularizer.kerasClassName)("
                + ($0.regularizer.kerasObject()["config"] as? [String: Any] ?? [:]).sorted { $0.key < $1.key }
                    .map { "\($0.key)=\(format($0.value))" }.joined(separator: ", ") + ")" }.joined(separator: "; "))
        }
        field("loss", saved.loss ?? "none (model not compiled)")
        if let (name, settings) = optimizerDescription(saved) {
            let keys = ["learning_rate", "rho", "momentum", "epsilon", "centered", "beta_1", "beta_2", "weight_decay", "nesterov"]
            let text = keys.compactMap { key in settings[key].map { "\(key)=\(format($0))" } }.joined(separator: ", ")
            field("optimizer", "\(name) (\(text))")
            let state = saved.optimizerStateRestored ? "present, \(saved.optimizer?.iterations ?? 0) iterations" : "absent"
            field("optimizer state", state)
        } else {
            field("optimizer", "none")
        }
        let recorded = RecordedRun(provenance: saved.provenance)
        if let input = recorded.input {
            field("input", input.description)
            let names = input.classNames
            field("classes", "\(names.count): " + names.prefix(10).joined(separator: ", ") + (names.count > 10 ? ", ..." : ""))
        }
        for key in ["dataset", "dataset_file", "dataset_sha256", "holdout_sha256", "options", "seed", "created", "command", "epochs_completed",
                    "best_epoch", "checkpoint_of_epoch", "interrupted"] {
            if let value = saved.provenance[key] { field(key, value) }
        }
        for warning in saved.warnings { print("note: \(warning)") }
        if weights {
            print("")
            print("weight                                 shape            min         max        mean         std   NaN   inf")
            for s in ModelSummary.weightStatistics(network) {
                let name = "\(s.layer)/\(s.name)".padding(toLength: 38, withPad: " ", startingAt: 0)
                let shape = "(" + s.shape.map(String.init).joined(separator: ", ") + ")"
                print(name + " " + shape.padding(toLength: 12, withPad: " ", startingAt: 0)
                      + String(format: " %11.5f %11.5f %11.5f %11.5f %5d %5d", s.min, s.max, s.mean, s.standardDeviation, s.nanCount, s.infiniteCount))
            }
        }
    }

    /// A config value as JSON spells it: 0.001, false, null; a schedule as its class and settings.
    func format(_ value: Any) -> String {
        if let object = value as? [String: Any], let name = object["class_name"] as? String {
            let config = (object["config"] as? [String: Any] ?? [:]).filter { !($0.value is NSNull) && $0.key != "name" }
            return name + "(" + config.sorted { $0.key < $1.key }.map { "\($0.key)=\(format($0.value))" }.joined(separator: ", ") + ")"
        }
        if let n = value as? Double, n != n.rounded() { return Float(n).description }
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]) else { return "\(value)" }
        return String(decoding: data, as: UTF8.self)
    }

    func field(_ label: String, _ value: String) {
        print(label.padding(toLength: max(16, label.count + 1), withPad: " ", startingAt: 0) + value)
    }

    /// The provenance with numbers as numbers, and the options, shapes and class names as the JSON they are.
    func typed(_ provenance: [String: String]) -> [String: Any] {
        var object: [String: Any] = provenance
        for key in ["seed", "epochs_completed", "best_epoch", "checkpoint_of_epoch"] {
            if let text = provenance[key], let number = UInt64(text) { object[key] = number }
        }
        for key in ["options", "input_shape", "class_names", "image_size"] {
            if let text = provenance[key], let value = try? JSONSerialization.jsonObject(with: Data(text.utf8)) { object[key] = value }
        }
        return object
    }

    func printJSON(_ saved: CompiledModel) throws {
        let network = saved.model
        let total = network.parameters.reduce(0) { $0 + $1.count }
        let trainable = network.trainableParameters.reduce(0) { $0 + $1.count }
        var object: [String: Any] = [
            "file": model, "name": network.name,
            "layers": network.layers.map { layer -> [String: Any] in
                // Keras's layer config (units, activation, rate, ...) beside the summary's columns.
                let config = layer.kerasConfig().filter { !($0.value is NSNull) && !["name", "trainable"].contains($0.key) }
                return ["name": layer.name, "type": layer.kerasClassName, "output_shape": [NSNull()] + layer.outputShape.map { $0 as Any },
                        "params": layer.parameterCount, "config": config]
            },
            "input_shape": [NSNull()] + network.inputShape.map { $0 as Any },
            "total_params": total, "trainable_params": trainable, "non_trainable_params": total - trainable,
            "keras_version": saved.kerasVersion ?? NSNull(), "backend": saved.backend ?? NSNull(),
            "loss": saved.loss ?? NSNull(), "optimizer_state": saved.optimizerStateRestored,
            "provenance": typed(saved.provenance), "notes": saved.warnings,
            "dtype_policies": Dictionary(uniqueKeysWithValues: network.layers.map { ($0.name, $0.dtypePolicy.rawValue) }),
            "regularizers": regularizers(network).map { entry -> [String: Any] in
                var object = entry.regularizer.kerasObject()
                object["layer"] = entry.layer
                return object
            },
        ]
        if let (name, settings) = optimizerDescription(saved) {
            object["optimizer"] = ["class_name": name, "config": settings] as [String: Any]
            object["optimizer_iterations"] = saved.optimizerStateRestored ? saved.optimizer?.iterations ?? 0 : NSNull()
        }
        let (engine, kernels) = engineDescription(network)
        object["engine"] = ["name": engine, "kernels": kernels] as [String: Any]
        if weights {
            func number(_ x: Double) -> Any { x.isFinite ? x : NSNull() }
            object["weights"] = ModelSummary.weightStatistics(network).map {
                ["layer": $0.layer, "name": $0.name, "shape": $0.shape, "min": number($0.min), "max": number($0.max),
                 "mean": number($0.mean), "std": number($0.standardDeviation), "nan": $0.nanCount, "inf": $0.infiniteCount] as [String: Any]
            }
        }
        print(jsonText(object))
    }
}
