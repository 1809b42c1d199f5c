import Foundation

/// A learning rate that follows the step count, as Keras's
/// `keras.optimizers.schedules.LearningRateSchedule`: the optimizer asks it for the rate of
/// each step, and saves it in its config in place of a number.
public protocol LearningRateSchedule: Sendable {
    /// The rate for the update after `step` updates (Keras passes `optimizer.iterations`).
    func rate(at step: Int) -> Float
    /// Keras's serialised form, `{"module": ..., "class_name": ..., "config": {...}}`.
    func kerasObject() -> JSONValue
}

/// Keras's `CosineDecay` without warm-up: from `initialLearningRate` down to
/// `alpha · initialLearningRate` along half a cosine over `decaySteps` steps, then flat,
///
///     rate = initial · ((1 - alpha) · 0.5 · (1 + cos(pi · min(step, decay_steps) / decay_steps)) + alpha)
///
/// computed in float32, as Keras computes it.
public struct CosineDecay: LearningRateSchedule, Equatable {
    /// The rate at step 0.
    public var initialLearningRate: Float
    /// Steps over which the rate falls along the half cosine; it stays at its floor after.
    public var decaySteps: Int
    /// The floor, as a fraction of the initial rate (Keras's `alpha`; 0 decays to 0).
    public var alpha: Float

    public init(initialLearningRate: Float, decaySteps: Int, alpha: Float = 0) {
        self.initialLearningRate = initialLearningRate
        self.decaySteps = max(decaySteps, 1)
        self.alpha = alpha
    }

    public func rate(at step: Int) -> Float {
        let steps = Float(decaySteps)
        let fraction = min(Float(step), steps) / steps
        let cosine = 0.5 * (1 + cos(Float.pi * fraction))
        return initialLearningRate * ((1 - alpha) * cosine + alpha)
    }

    public func kerasObject() -> JSONValue {
        ["module": "keras.optimizers.schedules", "class_name": "CosineDecay", "registered_name": .null,
         "config": ["initial_learning_rate": JSONValue(initialLearningRate), "decay_steps": .int(decaySteps),
                    "alpha": JSONValue(alpha), "name": "CosineDecay", "warmup_target": .null, "warmup_steps": 0]]
    }

    /// The schedule a Keras config describes; nil with the reason when it is not one this
    /// toolchain runs.
    public static func from(kerasObject object: JSONValue) -> (CosineDecay?, String?) {
        let name = object["class_name"]?.string ?? "?"
        let config = object["config"]?.object ?? [:]
        guard name == "CosineDecay" else {
            return (nil, "learning-rate schedule \(name) is not supported (supported: CosineDecay)")
        }
        guard let initial = config["initial_learning_rate"]?.number.map(Float.init),
              let steps = config["decay_steps"]?.number.map({ Int(exactly: $0.rounded(.towardZero)) ?? 0 }), steps > 0 else {
            return (nil, "CosineDecay needs a number initial_learning_rate and a positive decay_steps")
        }
        if config["warmup_target"]?.number != nil, (config["warmup_steps"]?.number ?? 0) > 0 {
            return (nil, "CosineDecay with warm-up is not supported")
        }
        return (CosineDecay(initialLearningRate: initial, decaySteps: steps,
                            alpha: config["alpha"]?.number.map(Float.init) ?? 0), nil)
    }
}
