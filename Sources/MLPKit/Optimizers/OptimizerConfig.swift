import Foundation

/// Builds optimizers from Keras's `optimizer_config` ({"class_name": ..., "config": {...}}).
public enum OptimizerConfig {
    /// The optimizer a config describes; nil with a reason when it is not one this toolchain runs.
    public static func optimizer(from object: JSONValue) -> (Optimizer?, String?) {
        var className = object["class_name"]?.string ?? "?"
        // tf_keras writes its new optimizers as "Custom>Adam"; Keras 3 may prefix a module.
        if let range = className.range(of: ">", options: .backwards) { className = String(className[range.upperBound...]) }
        let config = object["config"]?.object ?? [:]
        var schedule: LearningRateSchedule?
        if let object = config["learning_rate"], object.object != nil {
            let (cosine, problem) = CosineDecay.from(kerasObject: object)
            guard let cosine else { return (nil, "optimizer \(className): \(problem ?? "unreadable learning-rate schedule")") }
            schedule = cosine
        }
        let (optimizer, problem) = Optimizers.make(className: className, config: config)
        optimizer?.schedule = schedule
        if let schedule { optimizer?.learningRate = schedule.rate(at: 0) }
        return (optimizer, problem)
    }

    /// The `optimizer_config` object for `optimizer`.
    public static func object(for optimizer: Optimizer) -> [String: JSONValue] {
        ["class_name": .string(optimizer.configClassName), "config": .object(optimizer.kerasConfig())]
    }
}

extension Dictionary where Key == String, Value == JSONValue {
    /// A number an optimizer's config gives, or `fallback`.
    func number(_ key: String, _ fallback: Float) -> Float { Float(self[key]?.number ?? Double(fallback)) }
}
