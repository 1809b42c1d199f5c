/// Keras 3's SGD (defaults: learning rate 0.01, momentum 0, no Nesterov):
///
///     m = momentum · m - lr · g
///     variable += m, or with Nesterov variable += momentum · m - lr · g
public final class SGD: RegisteredOptimizer {
    public static let names = ["sgd"]
    public static func make(name: String) -> Optimizer { SGD() }
    public static func make(className: String, config: [String: JSONValue]) -> (Optimizer?, String?)? {
        guard className == "sgd" else { return nil }
        return (SGD(learningRate: config.number("learning_rate", 0.01), momentum: config.number("momentum", 0),
                    nesterov: config["nesterov"]?.bool ?? false), nil)
    }

    public var learningRate: Float
    public let momentum: Float
    public let nesterov: Bool
    public var iterations = 0
    public var schedule: LearningRateSchedule?
    public var slots: [[String: FloatBuffer]] = []
    public var kerasClassName: String { "SGD" }
    public var kerasName: String { "SGD" }

    public init(learningRate: Float = 0.01, momentum: Float = 0, nesterov: Bool = false) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
    }

    public var slotGroups: [[String]] { momentum != 0 ? [["momentum"]] : [] }

    public func update(value: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>, count: Int, index: Int, step: Int,
                       threads: Int) {
        let lr = learningRate, mu = momentum
        guard let m = slots[index]["momentum"]?.pointer else {
            for i in 0..<count { value[i] -= lr * g[i] }
            return
        }
        for i in 0..<count {
            m[i] = mu * m[i] - lr * g[i]
            value[i] += nesterov ? mu * m[i] - lr * g[i] : m[i]
        }
    }

    public func kerasConfig() -> [String: JSONValue] {
        var config = baseConfig()
        // The default is left out, as files written before leave it out.
        if momentum != 0 { config["momentum"] = JSONValue(momentum) }
        config["nesterov"] = .bool(nesterov)
        return config
    }
}
