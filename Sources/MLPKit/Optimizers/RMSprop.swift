
/// Keras 3's RMSprop (defaults: learning rate 0.001, rho 0.9, momentum 0, epsilon 1e-7):
///
///     velocity = rho · velocity + (1 - rho) · g²
///     increment = lr · g / sqrt(velocity + epsilon)            (epsilon inside the root)
///     variable -= increment, or with momentum m = momentum · m + increment; variable -= m
///
/// centered subtracts the square of a running mean of g inside the root.
public final class RMSprop: RegisteredOptimizer {
    public static let names = ["rmsprop"]
    public static func make(name: String) -> Optimizer { RMSprop() }
    public static func make(className: String, config: [String: JSONValue]) -> (Optimizer?, String?)? {
        guard className == "rmsprop" else { return nil }
        return (RMSprop(learningRate: config.number("learning_rate", 0.001), rho: config.number("rho", 0.9),
                        momentum: config.number("momentum", 0), epsilon: config.number("epsilon", 1e-7),
                        centered: config["centered"]?.bool ?? false), nil)
    }

    public var learningRate: Float
    public let rho: Float
    public let momentum: Float
    public let epsilon: Float
    /// Keras's `centered`: divide by the gradient's estimated variance rather than its mean square.
    public let centered: Bool
    public var iterations = 0
    public var schedule: LearningRateSchedule?
    public var slots: [[String: FloatBuffer]] = []
    public var kerasClassName: String { "RMSprop" }
    public var kerasName: String { "rm_sprop" }

    public init(learningRate: Float = 0.001, rho: Float = 0.9, momentum: Float = 0, epsilon: Float = 1e-7,
                centered: Bool = false) {
        self.learningRate = learningRate
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered
    }

    public var slotGroups: [[String]] {
        [["velocity"]] + (momentum > 0 ? [["momentum"]] : []) + (centered ? [["average_gradient"]] : [])
    }

    public func update(value: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>, count: Int, index: Int, step: Int,
                       threads: Int) {
        let v = slots[index]["velocity"]!.pointer
        let lr = learningRate, rho = rho, oneMinusRho = 1 - rho, eps = epsilon, mu = momentum
        switch (slots[index]["momentum"]?.pointer, slots[index]["average_gradient"]?.pointer) {
        case (nil, nil):
            // The default and the hot path: one vectorised pass (see CKernels), over the cores
            // when large. Where the gradient is zero (a ReLU unit off for the whole batch) the
            // step is exactly velocity = rho · velocity with the variable unchanged, and the
            // root and the division are skipped.
            parallelChunks(count, threads: threads) { range in
                Kernels.rmspropStep(value + range.lowerBound, v + range.lowerBound, g + range.lowerBound, count: range.count,
                                    learningRate: lr, rho: rho, epsilon: eps)
            }
        case (let m, let mean):
            for i in 0..<count {
                v[i] = rho * v[i] + oneMinusRho * g[i] * g[i]
                var denominator = v[i] + eps
                if let mean {
                    mean[i] = rho * mean[i] + oneMinusRho * g[i]
                    denominator = v[i] - mean[i] * mean[i] + eps
                }
                let increment = lr * g[i] / denominator.squareRoot()
                if let m {
                    m[i] = mu * m[i] + increment
                    value[i] -= m[i]
                } else {
                    value[i] -= increment
                }
            }
        }
    }

    public func kerasConfig() -> [String: JSONValue] {
        var config = baseConfig()
        config["rho"] = JSONValue(rho)
        config["momentum"] = JSONValue(momentum)
        config["epsilon"] = JSONValue(epsilon)
        config["centered"] = .bool(centered)
        return config
    }
}
