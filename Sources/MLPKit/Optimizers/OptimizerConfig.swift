import Foundation

/// Builds optimizers from Keras's `optimizer_config` ({"class_name": ..., "config": {...}}).
public enum OptimizerConfig {
    /// The optimizer a config describes; nil with a reason when it is not one this toolchain runs.
    public static func optimizer(from object: [String: Any]) -> (Optimizer?, String?) {
        var className = object["class_name"] as? String ?? "?"
        // tf_keras writes its new optimizers as "Custom>Adam"; Keras 3 may prefix a module.
        if let range = className.range(of: ">", options: .backwards) { className = String(className[range.upperBound...]) }
        let config = object["config"] as? [String: Any] ?? [:]
        func value(_ key: String, _ fallback: Float) -> Float {
            Float((config[key] as? NSNumber)?.doubleValue ?? Double(fallback))
        }
        var schedule: LearningRateSchedule?
        if let object = config["learning_rate"] as? [String: Any] {
            let (cosine, problem) = CosineDecay.from(kerasObject: object)
            guard let cosine else { return (nil, "optimizer \(className): \(problem ?? "unreadable learning-rate schedule")") }
            schedule = cosine
        }
        let (optimizer, problem) = make(className: className, config: config, value: value)
        optimizer?.schedule = schedule
        if let schedule { optimizer?.learningRate = schedule.rate(at: 0) }
        return (optimizer, problem)
    }

    private static func make(className: String, config: [String: Any], value: (String, Float) -> Float) -> (Optimizer?, String?) {
        switch className.lowercased() {
        case "rmsprop":
            return (RMSprop(learningRate: value("learning_rate", 0.001), rho: value("rho", 0.9), momentum: value("momentum", 0),
                            epsilon: value("epsilon", 1e-7), centered: config["centered"] as? Bool ?? false), nil)
        case "sgd":
            return (SGD(learningRate: value("learning_rate", 0.01), momentum: value("momentum", 0),
                        nesterov: config["nesterov"] as? Bool ?? false), nil)
        case "adam", "adamw":
            let isW = className.lowercased() == "adamw"
            if config["amsgrad"] as? Bool == true { return (nil, "optimizer \(className) with amsgrad is not supported") }
            let decay = (config["weight_decay"] as? NSNumber).map { Float($0.doubleValue) }
            return (Adam(learningRate: value("learning_rate", 0.001), beta1: value("beta_1", 0.9), beta2: value("beta_2", 0.999),
                         epsilon: value("epsilon", 1e-7), weightDecay: isW ? (decay ?? 0.004) : decay.flatMap { $0 == 0 ? nil : $0 }),
                    nil)
        default:
            return (nil, "optimizer \(className) is not supported (supported: RMSprop, SGD, Adam, AdamW)")
        }
    }

    /// The `optimizer_config` object for `optimizer`.
    public static func object(for optimizer: Optimizer) -> [String: Any] {
        ["class_name": optimizer.configClassName, "config": optimizer.kerasConfig()]
    }
}
