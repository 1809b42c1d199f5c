import Foundation

/// Keras's `BatchNormalization` in inference mode, over the last axis:
/// `y = gamma · (x - moving_mean) / sqrt(moving_variance + epsilon) + beta`.
///
/// Weights, in Keras's order: gamma (when `scale`), beta (when `center`), moving_mean,
/// moving_variance. Training would need batch statistics, so this layer refuses to train.
public final class BatchNormalization: Layer {
    public var name: String
    public let epsilon: Float
    public let momentum: Float
    public let center: Bool
    public let scale: Bool
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var kerasClassName: String { "BatchNormalization" }
    public let parameters: [Parameter]
    public var supportsTraining: Bool { false }

    private let output = FloatBuffer(count: 0)

    public init(name: String, shape: [Int], epsilon: Float = 1e-3, momentum: Float = 0.99,
                center: Bool = true, scale: Bool = true) {
        self.name = name
        self.epsilon = epsilon
        self.momentum = momentum
        self.center = center
        self.scale = scale
        inputShape = shape
        let features = shape.last ?? 1
        var weights: [Parameter] = []
        if scale { weights.append(Parameter(name: "gamma", shape: [features])) }
        if center { weights.append(Parameter(name: "beta", shape: [features])) }
        weights.append(Parameter(name: "moving_mean", shape: [features], trainable: false))
        weights.append(Parameter(name: "moving_variance", shape: [features], trainable: false))
        parameters = weights
        weights.first { $0.name == "gamma" }?.value.fill(1)
        weights.first { $0.name == "moving_variance" }?.value.fill(1)
    }

    public func reserve(rows: Int) { output.reserve(rows * outputWidth) }

    public func forward(_ input: UnsafePointer<Float>, rows: Int, training: Bool) -> UnsafePointer<Float> {
        let features = inputShape.last ?? 1
        let gamma = parameters.first { $0.name == "gamma" }?.value.array ?? Array(repeating: 1, count: features)
        let beta = parameters.first { $0.name == "beta" }?.value.array ?? Array(repeating: 0, count: features)
        let mean = parameters[parameters.count - 2].value.pointer
        let variance = parameters[parameters.count - 1].value.pointer
        // Fold the four vectors into one multiplier and one offset per feature.
        var multiplier = [Float](repeating: 0, count: features), shift = multiplier
        for j in 0..<features {
            multiplier[j] = gamma[j] / (variance[j] + epsilon).squareRoot()
            shift[j] = beta[j] - mean[j] * multiplier[j]
        }
        let y = output.pointer
        for r in 0..<(rows * outputWidth / features) {
            for j in 0..<features { y[r * features + j] = input[r * features + j] * multiplier[j] + shift[j] }
        }
        return UnsafePointer(y)
    }

    public func backward(_ outputGradient: UnsafeMutablePointer<Float>, rows: Int, needInputGradient: Bool)
        -> UnsafeMutablePointer<Float>?
    {
        preconditionFailure("BatchNormalization is inference-only; Sequential refuses to train it")
    }

    public func kerasConfig() -> [String: Any] {
        var config = baseConfig()
        config["axis"] = -1
        config["momentum"] = momentum.decimalDouble
        config["epsilon"] = epsilon.decimalDouble
        config["center"] = center
        config["scale"] = scale
        return config
    }
}
