import Foundation

extension ModelConfig {
    /// The JSON object of a model config file (Keras's `model.to_json()`, or a `config.json`
    /// with its `compile_config`), or the config inside a saved model (`.keras` or `.h5`, whose
    /// weights are not read), refusing the files given by mistake in words that say what they
    /// are: a search space, something that is not JSON.
    public static func object(atPath path: String) throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: path) else { throw MLPError.io(path: path, problem: "cannot read file") }
        if data.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return try KerasNative.configObject(data: data, path: path) }
        if data.starts(with: [0x89, 0x48, 0x44, 0x46]) { return try KerasH5.configObject(path: path) }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw MLPError.format(path: path, problem: "model config is not a JSON object")
        }
        if root["class_name"] == nil, root.keys.contains(where: SearchSpace.keys.contains) {
            throw MLPError.format(path: path, problem: "is a search space (mlp-tune --space), not a model config")
        }
        return root
    }

    /// The model a config file describes, with zeroed weights.
    public static func model(atPath path: String) throws -> Sequential {
        try model(from: object(atPath: path), source: path)
    }

    /// The optimizer that a config file's `compile_config` names (as Keras 3's `config.json` and
    /// `mlp-tune`'s `best.json` record it), with its learning rate or schedule; nil when the file
    /// has no `compile_config`.
    public static func compiledOptimizer(atPath path: String) throws -> Optimizer? {
        // Keras writes an empty or null compile_config for a model that was never compiled.
        let compiled = try object(atPath: path)["compile_config"]
        guard let compiled = compiled as? [String: Any], let entry = compiled["optimizer"], !(entry is NSNull) else { return nil }
        guard let settings = entry as? [String: Any] else {
            throw MLPError.format(path: path, problem: "compile_config's optimizer is not an object")
        }
        let (optimizer, problem) = OptimizerConfig.optimizer(from: settings)
        guard let optimizer else { throw MLPError.format(path: path, problem: "compile_config: \(problem ?? "unreadable optimizer")") }
        return optimizer
    }
}
