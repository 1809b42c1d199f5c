import Foundation

/// Keras 3's `BatchNormalization` over the last axis.
///
/// In training it normalises with the batch's mean and (biased) variance and moves the
/// running statistics towards them: `moving = moving · momentum + batch · (1 - momentum)`.
/// In inference it uses the running statistics:
/// `y = gamma · (x - mean) / sqrt(variance + epsilon) + beta`.
///
/// Weights, in Keras's order: gamma (when `scale`), beta (when `center`), moving_mean,
/// moving_variance; the last two are not trainable.
///
/// x and y are (rows, features); a wider input is (rows · groups, features).
public final class BatchNormalization: RegisteredLayer {
    public var name: String
    public var dtypePolicy = DTypePolicy.float32
    public let epsilon: Float
    public let momentum: Float
    public let center: Bool
    public let scale: Bool
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public static let kerasClassName = "BatchNormalization"
    /// gamma and beta (trainable, when `scale` and `center`), then the moving mean and variance (not
    /// trainable), as Keras orders them.
    public let parameters: [Parameter]

    private let gamma: Parameter?
    private let beta: Parameter?
    private let movingMean: Parameter
    private let movingVariance: Parameter
    private var features: Int { inputShape.last ?? 1 }

    private let output = FloatBuffer(count: 0)
    private let inputGradient = FloatBuffer(count: 0)
    // The latest training batch: the normalised input, and per feature 1 / sqrt(var + eps).
    private let normalized = FloatBuffer(count: 0)
    private let inverseDeviation: FloatBuffer
    // Per-feature scratch: multiplier and offset of the affine map, and two column sums.
    private let multiplier: FloatBuffer
    private let offset: FloatBuffer
    private let sumA: UnsafeMutablePointer<Double>
    private let sumB: UnsafeMutablePointer<Double>

    public init(name: String, shape: [Int], epsilon: Float = 1e-3, momentum: Float = 0.99,
                center: Bool = true, scale: Bool = true) {
        self.name = name
        self.epsilon = epsilon
        self.momentum = momentum
        self.center = center
        self.scale = scale
        inputShape = shape
        let features = shape.last ?? 1
        gamma = scale ? Parameter(name: "gamma", shape: [features]) : nil
        beta = center ? Parameter(name: "beta", shape: [features]) : nil
        movingMean = Parameter(name: "moving_mean", shape: [features], trainable: false)
        movingVariance = Parameter(name: "moving_variance", shape: [features], trainable: false)
        parameters = [gamma, beta].compactMap { $0 } + [movingMean, movingVariance]
        gamma?.value.fill(1)
        movingVariance.value.fill(1)
        inverseDeviation = FloatBuffer(count: features)
        multiplier = FloatBuffer(count: features)
        offset = FloatBuffer(count: features)
        sumA = .allocate(capacity: features)
        sumB = .allocate(capacity: features)
    }

    deinit {
        sumA.deallocate()
        sumB.deallocate()
    }

    public static func plan(_ config: LayerConfig, input: [Int]) throws -> LayerPlan {
        LayerPlan(output: input, parameters: 4 * (input.last ?? 1))
    }

    public static func make(_ config: LayerConfig, input: [Int]) throws -> Layer {
        let axis = config.values["axis"]
        let axes = axis?.array.map { $0.compactMap(\.int) } ?? [axis?.int ?? -1]
        guard axes == [-1] || axes == [input.count] else { throw config.error("has axis \(axes): only the last axis is supported") }
        return BatchNormalization(name: config.name, shape: input, epsilon: try config.number("epsilon", default: 1e-3),
                                  momentum: try config.number("momentum", default: 0.99),
                                  center: config.bool("center", default: true), scale: config.bool("scale", default: true))
    }

    public func reserve(rows: Int, training: Bool) {
        output.reserve(rows * outputWidth)
        guard training else { return }
        inputGradient.reserve(rows * outputWidth)
        normalized.reserve(rows * outputWidth)
    }

    public func forward(_ input: UnsafePointer<Float>, rows: Int, training: Bool) -> UnsafePointer<Float> {
        let features = self.features, groups = rows * outputWidth / features
        let mean = movingMean.value.pointer, variance = movingVariance.value.pointer
        let m = multiplier.pointer, b = offset.pointer, y = output.pointer
        if training {
            // Batch mean and biased variance per feature, in double precision.
            sumA.update(repeating: 0, count: features)
            sumB.update(repeating: 0, count: features)
            for r in 0..<groups {
                let row = input + r * features
                for j in 0..<features { sumA[j] += Double(row[j]) }
            }
            for j in 0..<features { sumA[j] /= Double(groups) }
            for r in 0..<groups {
                let row = input + r * features
                for j in 0..<features {
                    let d = Double(row[j]) - sumA[j]
                    sumB[j] += d * d
                }
            }
            let inverse = inverseDeviation.pointer, xhat = normalized.pointer
            for j in 0..<features {
                let batchMean = Float(sumA[j]), batchVariance = Float(sumB[j] / Double(groups))
                inverse[j] = 1 / (batchVariance + epsilon).squareRoot()
                m[j] = (gamma?.value.pointer[j] ?? 1) * inverse[j]
                b[j] = (beta?.value.pointer[j] ?? 0) - batchMean * m[j]
                mean[j] = mean[j] * momentum + batchMean * (1 - momentum)
                variance[j] = variance[j] * momentum + batchVariance * (1 - momentum)
            }
            for r in 0..<groups {
                let row = input + r * features, out = y + r * features, normal = xhat + r * features
                for j in 0..<features {
                    normal[j] = (row[j] - Float(sumA[j])) * inverse[j]
                    out[j] = row[j] * m[j] + b[j]
                }
            }
        } else {
            // Fold the four vectors into one multiplier and one offset per feature.
            for j in 0..<features {
                m[j] = (gamma?.value.pointer[j] ?? 1) / (variance[j] + epsilon).squareRoot()
                b[j] = (beta?.value.pointer[j] ?? 0) - mean[j] * m[j]
            }
            for r in 0..<groups {
                let row = input + r * features, out = y + r * features
                for j in 0..<features { out[j] = row[j] * m[j] + b[j] }
            }
        }
        return UnsafePointer(y)
    }

    /// With xhat the normalised input and N the batch:
    /// dbeta = Σ dy, dgamma = Σ dy · xhat, dx = gamma / sqrt(var + eps) / N · (N · dy - dbeta - xhat · dgamma).
    public func backward(_ outputGradient: UnsafeMutablePointer<Float>, rows: Int, needInputGradient: Bool)
        -> UnsafeMutablePointer<Float>?
    {
        let features = self.features, groups = rows * outputWidth / features
        let dy = outputGradient, xhat = normalized.pointer
        sumA.update(repeating: 0, count: features)
        sumB.update(repeating: 0, count: features)
        for r in 0..<groups {
            let g = dy + r * features, normal = xhat + r * features
            for j in 0..<features {
                sumA[j] += Double(g[j])
                sumB[j] += Double(g[j] * normal[j])
            }
        }
        if let beta { for j in 0..<features { beta.gradient.pointer[j] = Float(sumA[j]) } }
        if let gamma { for j in 0..<features { gamma.gradient.pointer[j] = Float(sumB[j]) } }
        guard needInputGradient else { return nil }
        let dx = inputGradient.pointer, inverse = inverseDeviation.pointer, n = Float(groups)
        for r in 0..<groups {
            let g = dy + r * features, normal = xhat + r * features, out = dx + r * features
            for j in 0..<features {
                let scale = (gamma?.value.pointer[j] ?? 1) * inverse[j] / n
                out[j] = scale * (n * g[j] - Float(sumA[j]) - normal[j] * Float(sumB[j]))
            }
        }
        return dx
    }

    public func kerasConfig() -> [String: JSONValue] {
        var config = baseConfig()
        config["axis"] = -1
        config["momentum"] = JSONValue(momentum)
        config["epsilon"] = JSONValue(epsilon)
        config["center"] = .bool(center)
        config["scale"] = .bool(scale)
        config["beta_initializer"] = ["class_name": "Zeros", "config": [:]]
        config["gamma_initializer"] = ["class_name": "Ones", "config": [:]]
        config["moving_mean_initializer"] = ["class_name": "Zeros", "config": [:]]
        config["moving_variance_initializer"] = ["class_name": "Ones", "config": [:]]
        for key in ["beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"] { config[key] = .null }
        return config
    }

    /// Folded into one multiply and one add over the last axis, from the moving statistics:
    /// `x · gamma / sqrt(variance + epsilon) + (beta - mean · gamma / sqrt(variance + epsilon))`.
    public func export(to graph: inout ONNXGraph, input: String) throws -> String {
        let mean = movingMean.value.array, variance = movingVariance.value.array
        let gamma = self.gamma?.value.array ?? [Float](repeating: 1, count: mean.count)
        let beta = self.beta?.value.array ?? [Float](repeating: 0, count: mean.count)
        let multiplier = (0..<mean.count).map { gamma[$0] / (variance[$0] + epsilon).squareRoot() }
        let offset = (0..<mean.count).map { beta[$0] - mean[$0] * multiplier[$0] }
        let scaled = graph.add("Mul", [input, graph.constant("\(name)/multiplier", multiplier, shape: [mean.count])], stem: "\(name)/mul")
        return graph.add("Add", [scaled, graph.constant("\(name)/offset", offset, shape: [mean.count])], stem: "\(name)/add")
    }
}
