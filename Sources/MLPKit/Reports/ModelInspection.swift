import Foundation

/// `mlp-inspect`'s account of a saved model: Keras's `model.summary()` table, then what the file
/// records (its writer, policies, regularizers, optimizer and state, inputs, classes and run),
/// the engine that would run it here, and with `weights` each weight's statistics; as text or
/// as one JSON object.
public struct ModelInspection {
    public let saved: CompiledModel
    /// The model file, as named.
    public let path: String
    /// Adds each weight's statistics.
    public var weights = false

    public init(saved: CompiledModel, path: String, weights: Bool = false) {
        self.saved = saved
        self.path = path
        self.weights = weights
    }

    /// The layers' weight regularizers, in layer order.
    var regularizers: [(layer: String, regularizer: Regularizer)] {
        saved.model.layers.flatMap { layer in layer.regularizers.sorted { $0.key < $1.key }.map { (layer.name, $0.value) } }
    }

    /// The layers under each dtype policy, in model order.
    var policies: [(policy: DTypePolicy, layers: [String])] {
        DTypePolicy.allCases.compactMap { policy in
            let names = saved.model.layers.filter { $0.dtypePolicy == policy }.map(\.name)
            return names.isEmpty ? nil : (policy, names)
        }
    }

    /// The engine that would run the model here, and the oneDNN kernels it picks for the
    /// model's forward products (found by running one batch of zeros).
    func engine() -> (engine: String, kernels: [String]) {
        let network = saved.model
        network.compute = ComputeOptions(threads: 1)
        let zeros = FloatBuffer(count: 128 * network.inputWidth)
        withExtendedLifetime(zeros) { _ = network.forward(zeros.pointer, rows: 128, training: false) }
        let kernels = Set(network.layers.flatMap(\.productImplementations))
        return (network.compute.engine.description, kernels.sorted())
    }

    /// The optimizer's class and settings, as the file's training config names them.
    var optimizer: (name: String, settings: [String: JSONValue])? {
        guard let config = saved.trainingConfig?["optimizer_config"], config.object != nil else { return nil }
        return (config["class_name"]?.string ?? "?", config["config"]?.object ?? [:])
    }

    /// A config value as the text view shows it: 0.001, false, null; a schedule as its class
    /// and settings.
    static func format(_ value: JSONValue) -> String {
        if let name = value["class_name"]?.string {
            let config = (value["config"]?.object ?? [:]).filter { !$0.value.isNull && $0.key != "name" }
            return name + "(" + config.sorted { $0.key < $1.key }.map { "\($0.key)=\(format($0.value))" }.joined(separator: ", ") + ")"
        }
        if case .double(let number) = value {
            // A whole number as JSON's integers read, 0 rather than 0.0.
            return number != number.rounded() ? Float(number).description : (Int(exactly: number).map(String.init) ?? value.text)
        }
        return value.text
    }

    /// "label           value", as each line after the table reads; `width` widens the labels'
    /// column for a longer label among the lines shown together.
    static func field(_ label: String, _ value: String, width: Int = 16) -> String {
        label.padding(toLength: max(width, label.count + 1), withPad: " ", startingAt: 0) + value
    }

    /// The text view.
    public var text: String {
        var lines = [ModelSummary.table(saved.model), ""] + fields.map { Self.field($0.0, $0.1) }
        lines += saved.warnings.map { "note: \($0)" }
        if weights { lines += [""] + weightLines }
        return lines.joined(separator: "\n")
    }

    /// The labelled lines below the table.
    var fields: [(String, String)] {
        let network = saved.model
        var rows: [(String, String)] = [("file", path)]
        rows.append(("written by", saved.provenanceLine))
        rows.append(("input shape", ModelSummary.shapeText(network.inputShape)))
        rows.append(("dtype policy", policies.map { "\($0.policy.rawValue) (\($0.layers.joined(separator: ", ")))" }.joined(separator: "; ")))
        let (engine, kernels) = engine()
        let widened = network.layers.contains { $0.dtypePolicy == .mixedBFloat16 } && !MatrixEngine.supportsBFloat16
        rows.append(("engine", engine + (kernels.isEmpty ? "" : ": \(kernels.joined(separator: ", ")) for this model's products")
                     + (widened ? "; bfloat16 products widened to float32 here (no bfloat16 kernels on this CPU)" : "")))
        if !regularizers.isEmpty {
            rows.append(("regularizers", regularizers.map { "\($0.layer): \($0.regularizer.kerasClassName)("
                + ($0.regularizer.kerasObject()["config"]?.object ?? [:]).sorted { $0.key < $1.key }
                    .map { "\($0.key)=\(Self.format($0.value))" }.joined(separator: ", ") + ")" }.joined(separator: "; ")))
        }
        rows.append(("loss", saved.loss ?? "none (model not compiled)"))
        rows += optimizerFields
        if let input = saved.record.input {
            rows.append(("input", input.description))
            let names = input.classNames
            rows.append(("classes", "\(names.count): " + names.prefix(10).joined(separator: ", ") + (names.count > 10 ? ", ..." : "")))
        }
        let entries = saved.record.entries
        for key in ["dataset", "dataset_file", "dataset_file_relative", "shuffle_seed", "dataset_sha256", "holdout_sha256", "options", "seed",
                    "created", "command", "epochs_completed", "best_epoch", "checkpoint_of_epoch", "interrupted"] {
            if let value = entries[key] { rows.append((key, value)) }
        }
        if let temperature = saved.record.temperature {
            rows.append(("temperature", "\(pythonFloat(temperature)): the last Dense layer's kernel and bias divided by it"
                + (saved.record.calibratedFrom.map { ", from \($0)" } ?? "") + (saved.record.calibratedOn.map { ", fitted on \($0)" } ?? "")))
        }
        return rows
    }

    var optimizerFields: [(String, String)] {
        guard let (name, settings) = optimizer else { return [("optimizer", "none")] }
        let keys = ["learning_rate", "rho", "momentum", "epsilon", "centered", "beta_1", "beta_2", "weight_decay", "nesterov"]
        let text = keys.compactMap { key in settings[key].map { "\(key)=\(Self.format($0))" } }.joined(separator: ", ")
        let state = saved.optimizerStateRestored ? "present, \(saved.optimizer?.iterations ?? 0) iterations" : "absent"
        return [("optimizer", "\(name) (\(text))"), ("optimizer state", state)]
    }

    var weightLines: [String] {
        ["weight                                 shape            min         max        mean         std   NaN   inf"]
            + ModelSummary.weightStatistics(saved.model).map { s in
                let name = "\(s.layer)/\(s.name)".padding(toLength: 38, withPad: " ", startingAt: 0)
                let shape = "(" + s.shape.map(String.init).joined(separator: ", ") + ")"
                return name + " " + shape.padding(toLength: 12, withPad: " ", startingAt: 0)
                    + String(format: " %11.5f %11.5f %11.5f %11.5f %5d %5d", s.min, s.max, s.mean, s.standardDeviation, s.nanCount, s.infiniteCount)
            }
    }

    /// The JSON view: one object.
    public var json: JSONValue {
        let network = saved.model
        let total = network.parameterCount
        let trainable = network.trainableParameters.reduce(0) { $0 + $1.count }
        var object: [String: JSONValue] = [
            "file": .string(path), "name": .string(network.name), "layers": .array(network.layers.map(Self.layerJSON)),
            "input_shape": ModelConfig.batchShape(network.inputShape),
            "total_params": .int(total), "trainable_params": .int(trainable), "non_trainable_params": .int(total - trainable),
            "keras_version": JSONValue(saved.kerasVersion), "backend": JSONValue(saved.backend), "written_by": .string(saved.writer), "loss": JSONValue(saved.loss),
            "optimizer_state": .bool(saved.optimizerStateRestored), "provenance": saved.record.json, "notes": JSONValue(saved.warnings),
            "dtype_policies": .object(Dictionary(uniqueKeysWithValues: network.layers.map { ($0.name, .string($0.dtypePolicy.rawValue)) })),
            "regularizers": .array(regularizers.map { entry in
                var object = entry.regularizer.kerasObject().object ?? [:]
                object["layer"] = .string(entry.layer)
                return .object(object)
            }),
        ]
        if let (name, settings) = optimizer {
            object["optimizer"] = ["class_name": .string(name), "config": .object(settings)]
            object["optimizer_iterations"] = saved.optimizerStateRestored ? .int(saved.optimizer?.iterations ?? 0) : .null
        }
        let (engine, kernels) = engine()
        object["engine"] = ["name": .string(engine), "kernels": JSONValue(kernels)]
        if weights {
            object["weights"] = .array(ModelSummary.weightStatistics(network).map {
                ["layer": .string($0.layer), "name": .string($0.name), "shape": JSONValue($0.shape), "min": JSONValue(finite: $0.min),
                 "max": JSONValue(finite: $0.max), "mean": JSONValue(finite: $0.mean), "std": JSONValue(finite: $0.standardDeviation),
                 "nan": .int($0.nanCount), "inf": .int($0.infiniteCount)]
            })
        }
        return .object(object)
    }

    /// A layer's summary columns beside Keras's config of it (units, activation, rate, ...).
    static func layerJSON(_ layer: Layer) -> JSONValue {
        let config = layer.kerasConfig().filter { !$0.value.isNull && !["name", "trainable"].contains($0.key) }
        return ["name": .string(layer.name), "type": .string(layer.kerasClassName), "output_shape": ModelConfig.batchShape(layer.outputShape),
                "params": .int(layer.parameterCount), "config": .object(config)]
    }
}

/// `mlp-inspect`'s account of an ONNX file: its inputs, outputs, opsets, parameters and
/// metadata, as `onnx` reads them.
extension ONNXFile.Description {
    /// The text view, `path` naming the file.
    public func text(path: String) -> String {
        func value(_ value: ONNXGraph.Value) -> String {
            "\(value.name): \(value.type.name) [" + value.shape.map { $0.map(String.init) ?? "batch" }.joined(separator: ", ") + "]"
        }
        var rows = [("file", path),
                    ("format", "ONNX, IR version \(irVersion), opset "
                        + opsets.map { ($0.domain.isEmpty ? "" : $0.domain + " ") + String($0.version) }.joined(separator: ", ")),
                    ("written by", producer.isEmpty ? "?" : producer)]
        rows += inputs.map { ("input", value($0)) } + outputs.map { ("output", value($0)) }
        rows += [("parameters", "\(parameters) in \(initializers) initializers"), ("nodes", "\(nodeCount): \(operators.joined(separator: ", "))")]
        // A long value (the class names of 100 classes) is cut to a line; --json gives it whole.
        rows += metadata.sorted { $0.key < $1.key }.map { ($0.key, $0.value.count > 100 ? String($0.value.prefix(90)) + "… (\($0.value.count) characters)" : $0.value) }
        let width = max(16, (rows.map(\.0.count).max() ?? 0) + 1)
        return rows.map { ModelInspection.field($0.0, $0.1, width: width) }.joined(separator: "\n")
    }

    /// The JSON view.
    public func json(path: String) -> JSONValue {
        func values(_ list: [ONNXGraph.Value]) -> JSONValue {
            .array(list.map { ["name": .string($0.name), "type": .string($0.type.name),
                               "shape": .array($0.shape.map { $0.map(JSONValue.int) ?? "batch" })] })
        }
        return ["file": .string(path), "format": "onnx", "ir_version": .int(Int(irVersion)), "producer": .string(producer),
                "opsets": .array(opsets.map { ["domain": .string($0.domain), "version": .int(Int($0.version))] }),
                "inputs": values(inputs), "outputs": values(outputs), "total_params": .int(parameters), "initializers": .int(initializers),
                "operators": JSONValue(operators), "nodes": .int(nodeCount), "metadata": .object(metadata.mapValues(JSONValue.string))]
    }
}
