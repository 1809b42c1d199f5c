import Foundation

/// Keras's model config JSON (`model.to_json()`, the `model_config` attribute of an `.h5` file)
/// for Sequential models of the layers this toolchain runs.
///
/// It reads the Keras 3 and Keras 2 spellings alike and writes the Keras 2 spelling
/// (`batch_input_shape`, `"dtype": "float32"`), which both Keras 3 and tf_keras load.
public enum ModelConfig {
    /// The most weights a config may describe unless told otherwise: 2^31 (8 GB of floats).
    public static let parameterLimit = 1 << 31

    /// Builds a model with zeroed weights from a config; `source` names the file in errors.
    ///
    /// - Parameters:
    ///   - maximumParameters: the most weights to allocate; a config that describes more is
    ///     refused before anything is allocated.
    public static func model(fromJSON text: String, source: String, maximumParameters: Int = parameterLimit) throws -> Sequential {
        guard let root = JSONValue(parsing: text)?.object else {
            throw MLPError.format(path: source, problem: "model config is not a JSON object")
        }
        return try model(from: root, source: source, maximumParameters: maximumParameters)
    }

    /// Builds a model with zeroed weights from a parsed config object (see
    /// `model(fromJSON:source:maximumParameters:)`).
    public static func model(from root: [String: JSONValue], source: String, maximumParameters: Int = parameterLimit) throws -> Sequential {
        let className = root["class_name"]?.string ?? "?"
        guard className == "Sequential" else {
            throw MLPError.format(path: source, problem: "model class '\(className)' is not supported (only Sequential)")
        }
        guard let config = root["config"]?.object else {
            throw MLPError.format(path: source, problem: "model config has no 'config' object")
        }
        // Keras 2.0–2.2 stored the layer list directly as the config.
        let layerList = config["layers"]?.array ?? root["config"]?.array
        guard let layerList else { throw MLPError.format(path: source, problem: "model config has no 'layers' list") }
        // Every layer is sized before any is built, so that a config describing too many
        // weights is refused before anything is allocated.
        let (inputShape, plans) = try plan(layerList, buildInputShape: shape(config["build_input_shape"]), source: source,
                                           maximumParameters: maximumParameters)
        let layers = try plans.map { plan in
            let layer = try plan.type.make(plan.config, input: plan.input)
            layer.dtypePolicy = try DTypePolicy(kerasValue: plan.config.values["dtype"], layer: plan.config.name, source: source)
            return layer
        }
        return Sequential(name: config["name"]?.string ?? "sequential", inputShape: inputShape, layers: layers)
    }

    /// One layer of a config, read and sized, its weights not yet allocated.
    private struct PlannedLayer {
        let type: any RegisteredLayer.Type
        let config: LayerConfig
        let input: [Int]
    }

    /// Walks a config's layer list: the model's input shape (an InputLayer's, or the first
    /// layer's declared one) and each layer's input, output and weight count, the total checked
    /// against `maximumParameters` without overflow.
    private static func plan(_ layerList: [JSONValue], buildInputShape: [Int]?, source: String, maximumParameters: Int)
        throws -> (inputShape: [Int], layers: [PlannedLayer])
    {
        var inputShape = buildInputShape, current = buildInputShape
        var plans: [PlannedLayer] = []
        var parameters = 0
        for (index, entry) in layerList.enumerated() {
            let type = entry["class_name"]?.string ?? "?"
            let config = entry["config"]?.object ?? [:]
            let name = config["name"]?.string ?? "layer_\(index)"
            let declared = shape(config["batch_shape"]) ?? shape(config["batch_input_shape"]) ?? shape(entry["build_config"]?["input_shape"])
            if type == "InputLayer" {
                guard let declared else { throw MLPError.format(path: source, problem: "InputLayer '\(name)' has no batch_shape") }
                (inputShape, current) = (declared, declared)
                continue
            }
            if plans.isEmpty, current == nil, let declared { (inputShape, current) = (declared, declared) }
            guard let input = current else {
                throw MLPError.format(path: source, problem: "model config gives no input shape before layer '\(name)'")
            }
            guard let layerType = Layers.named(type) else {
                throw MLPError.format(path: source, problem:
                    "layer '\(name)' has type \(type), which is not supported (supported: \(Layers.classNames.joined(separator: ", ")))")
            }
            try checkWidth(input, layer: name, source: source)
            let layerConfig = LayerConfig(className: type, name: name, values: config, source: source)
            let size = try layerType.plan(layerConfig, input: input)
            let (sum, overflow) = parameters.addingReportingOverflow(size.parameters)
            guard !overflow, sum <= maximumParameters else {
                throw MLPError.format(path: source, problem: "the model config describes more than \(maximumParameters) weights "
                    + "(layer '\(name)'), more than \(maximumParameters == parameterLimit ? "this toolchain allows" : "the file holds")")
            }
            parameters = sum
            plans.append(PlannedLayer(type: layerType, config: layerConfig, input: input))
            current = size.output
        }
        guard let inputShape else { throw MLPError.format(path: source, problem: "model config gives no input shape") }
        return (inputShape, plans)
    }

    /// Refuses an input whose values would overflow a count.
    private static func checkWidth(_ input: [Int], layer name: String, source: String) throws {
        var width = 1
        for dim in input {
            let (product, overflow) = width.multipliedReportingOverflow(by: dim)
            guard !overflow, product <= 1 << 31 else {
                throw MLPError.format(path: source, problem: "layer '\(name)' gets an input of \(input) values, too large")
            }
            width = product
        }
    }

    /// [null, 32, 32, 3] → [32, 32, 3]; nil unless a list whose first entry is the batch.
    private static func shape(_ value: JSONValue?) -> [Int]? {
        guard let list = value?.array, list.count >= 2 else { return nil }
        let dims = list.dropFirst().compactMap { $0.number.map { Int(exactly: $0.rounded(.towardZero)) ?? 0 } }
        return dims.count == list.count - 1 && dims.allSatisfy({ $0 > 0 }) ? Array(dims) : nil
    }

    /// The config as a JSON object in the Keras 2 spelling.
    public static func object(for model: Sequential) -> [String: JSONValue] {
        let input: JSONValue = [
            "module": "keras.layers", "class_name": "InputLayer", "registered_name": .null,
            "config": ["batch_input_shape": batchShape(model.inputShape), "dtype": "float32", "sparse": false, "ragged": false,
                       "name": "input_1"],
        ]
        // "module" lets Keras 3's model_from_json find the classes; tf_keras ignores it.
        let layers = [input] + model.layers.map { layer -> JSONValue in
            ["module": "keras.layers", "class_name": .string(layer.kerasClassName), "config": .object(layer.kerasConfig()),
             "registered_name": .null]
        }
        return ["module": "keras", "class_name": "Sequential", "registered_name": .null,
                "config": ["name": .string(model.name), "layers": .array(layers)]]
    }

    /// [null, 32, 32, 3] for one sample's shape [32, 32, 3]: the batch axis unknown.
    static func batchShape(_ shape: [Int]) -> JSONValue { .array([.null] + shape.map(JSONValue.int)) }

    /// Keras 3's `compile_config` for a model compiled with `optimizer` on categorical
    /// cross-entropy and accuracy, in the shape Keras's own `to_json()` writes, so that
    /// `model.compile_from_config` rebuilds the optimizer.
    public static func compileConfig(for optimizer: Optimizer) -> JSONValue {
        var optimizerObject = OptimizerConfig.object(for: optimizer)
        optimizerObject["module"] = "keras.optimizers"
        optimizerObject["registered_name"] = .null
        return ["optimizer": .object(optimizerObject), "loss": "categorical_crossentropy", "loss_weights": .null, "metrics": ["accuracy"],
                "weighted_metrics": .null, "run_eagerly": false, "steps_per_execution": 1, "jit_compile": false]
    }

    /// The config as JSON text (`model.to_json()`'s).
    public static func json(for model: Sequential) -> String { JSONValue.object(object(for: model)).text }

    /// The config as JSON text with the optimizer, when given, in Keras 3's `compile_config`
    /// (categorical cross-entropy, accuracy), and each of `extras` (a record of this toolchain's,
    /// which Keras ignores) under its key.
    public static func json(for model: Sequential, compiledWith optimizer: Optimizer?, extras: [String: any Encodable] = [:]) throws -> String {
        var root = object(for: model)
        if let optimizer { root["compile_config"] = compileConfig(for: optimizer) }
        for (key, value) in extras { root[key] = try JSONRecords.value(value) }
        return JSONValue.object(root).text
    }
}
