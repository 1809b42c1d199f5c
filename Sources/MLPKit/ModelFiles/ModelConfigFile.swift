import Foundation

/// A model config file as `--model` takes it, read once: Keras's `model.to_json()`, a
/// `config.json` with its `compile_config`, `mlp-tune`'s `best.json`, or a saved model
/// (`.keras` or `.h5`) whose weights are not used. Files given by mistake are refused in words
/// that say what they are: a search space, an ONNX model, something that is not JSON.
public struct ModelConfigFile {
    /// The file, as given.
    public let path: String
    /// The config object; Keras's schema is open, so it stays dynamic.
    public let object: [String: JSONValue]

    public init(path: String) throws {
        self.path = path
        object = try Self.read(path)
    }

    private static func configObject<Format: RegisteredModelFormat>(_ format: Format.Type, _ data: Data, _ path: String) throws
        -> [String: JSONValue]
    {
        try Format.configObject(data, path: path)
    }

    private static func read(_ path: String) throws -> [String: JSONValue] {
        let data = try ModelFile.bytes(atPath: path)
        if let format = ModelFormats.all.first(where: { $0.recognizes(data) }) { return try configObject(format, data, path) }
        guard let root = JSONValue(parsing: data)?.object else {
            throw MLPError.format(path: path, problem: data.isEmpty ? "empty file, not a model config"
                : "is not a model config: not a JSON object, nor a saved model (\(ModelFormats.all.map { $0.title }.joined(separator: ", ")))")
        }
        if root["class_name"] == nil {
            // mlp-tune's space files map each key to a distribution: {"units": {"choice": [64, 128]}}.
            let distributions = ["log_uniform", "uniform", "int", "choice"]
            let isSpace = !root.isEmpty && root.values.allSatisfy { $0.object.map { Set($0.keys).isSubset(of: distributions) } ?? false }
            throw MLPError.format(path: path, problem: isSpace ? "is a search space (mlp-tune --space), not a model config"
                : "has no class_name: not a Keras model config")
        }
        return root
    }

    /// An entry of the config that Keras ignores (`mlp_tune` in a `best.json`), as a JSON value.
    public func extra(_ key: String) -> JSONValue? { object[key] }

    /// The model the config describes, with zeroed weights.
    public func model() throws -> Sequential { try ModelConfig.model(from: object, source: path) }

    /// The optimizer that the `compile_config` names (as Keras 3's `config.json` and
    /// `mlp-tune`'s `best.json` record it), with its learning rate or schedule; nil when the file
    /// has no `compile_config`.
    public func compiledOptimizer() throws -> Optimizer? {
        // Keras writes an empty or null compile_config for a model that was never compiled.
        guard let entry = object["compile_config"]?["optimizer"], !entry.isNull else { return nil }
        guard entry.object != nil else {
            throw MLPError.format(path: path, problem: "compile_config's optimizer is not an object")
        }
        let (optimizer, problem) = OptimizerConfig.optimizer(from: entry)
        guard let optimizer else { throw MLPError.format(path: path, problem: "compile_config: \(problem ?? "unreadable optimizer")") }
        return optimizer
    }
}
