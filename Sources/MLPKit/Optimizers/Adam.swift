import Foundation

/// Keras 3's Adam (defaults: learning rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7), and
/// AdamW when `weightDecay` is set (Keras's AdamW default is 0.004):
///
///     variable -= variable · weight_decay · lr                  (AdamW, before the update)
///     alpha = lr · sqrt(1 - beta_2^t) / (1 - beta_1^t)
///     m += (g - m) · (1 - beta_1);  v += (g² - v) · (1 - beta_2)
///     variable -= alpha · m / (sqrt(v) + epsilon)
public final class Adam: RegisteredOptimizer {
    /// Adam, and AdamW (Adam with Keras's default decoupled weight decay, 0.004).
    public static let names = ["adam", "adamw"]
    public static func make(name: String) -> Optimizer { name == "adamw" ? Adam(weightDecay: 0.004) : Adam() }
    public static func make(className: String, config: [String: JSONValue]) -> (Optimizer?, String?)? {
        guard className == "adam" || className == "adamw" else { return nil }
        if config["amsgrad"]?.bool == true { return (nil, "optimizer \(className) with amsgrad is not supported") }
        let decay = config["weight_decay"]?.number.map { Float($0) }
        return (Adam(learningRate: config.number("learning_rate", 0.001), beta1: config.number("beta_1", 0.9),
                     beta2: config.number("beta_2", 0.999), epsilon: config.number("epsilon", 1e-7),
                     weightDecay: className == "adamw" ? (decay ?? 0.004) : decay.flatMap { $0 == 0 ? nil : $0 }), nil)
    }

    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    /// AdamW's decoupled weight decay (Keras's `weight_decay`), nil for Adam.
    public let weightDecay: Float?
    public var iterations = 0
    public var schedule: LearningRateSchedule?
    public var slots: [[String: FloatBuffer]] = []
    public var kerasClassName: String { weightDecay == nil ? "Adam" : "AdamW" }
    /// tf_keras knows AdamW only as "Custom>AdamW", the name it writes; Keras 3 reads that too.
    public var configClassName: String { weightDecay == nil ? "Adam" : "Custom>AdamW" }
    public var kerasName: String { weightDecay == nil ? "adam" : "adamw" }
    public var slotGroups: [[String]] { [["momentum", "velocity"]] }

    public init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7,
                weightDecay: Float? = nil) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    public func update(value: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>, count: Int, index: Int, step: Int,
                       threads: Int) {
        let m = slots[index]["momentum"]!.pointer, v = slots[index]["velocity"]!.pointer
        let lr = learningRate, b1 = beta1, b2 = beta2, eps = epsilon
        let t = Float(step)
        let alpha = lr * (1 - pow(b2, t)).squareRoot() / (1 - pow(b1, t))
        let decay = (weightDecay ?? 0) * lr
        // One vectorised pass (see CKernels), over the cores when large.
        parallelChunks(count, threads: threads) { range in
            let start = range.lowerBound
            Kernels.adamStep(value + start, m + start, v + start, g + start, count: range.count, alpha: alpha, beta1: b1, beta2: b2,
                             epsilon: eps, decay: decay)
        }
    }

    public func kerasConfig() -> [String: JSONValue] {
        var config = baseConfig()
        config["beta_1"] = JSONValue(beta1)
        config["beta_2"] = JSONValue(beta2)
        config["epsilon"] = JSONValue(epsilon)
        config["amsgrad"] = false
        if let weightDecay { config["weight_decay"] = JSONValue(weightDecay) }
        return config
    }
}
