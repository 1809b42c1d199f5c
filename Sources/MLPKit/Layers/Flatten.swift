import Foundation

/// Keras's `Flatten`: (h, w, c) to (h·w·c). Row-major storage makes it the identity on memory.
public final class Flatten: Layer {
    public var name: String
    public var dtypePolicy = DTypePolicy.float32
    public let inputShape: [Int]
    public var outputShape: [Int] { [inputShape.reduce(1, *)] }
    public var kerasClassName: String { "Flatten" }
    public var parameters: [Parameter] { [] }

    public init(name: String, inputShape: [Int]) {
        self.name = name
        self.inputShape = inputShape
    }

    public func reserve(rows: Int, training: Bool) {}

    public func forward(_ input: UnsafePointer<Float>, rows: Int, training: Bool) -> UnsafePointer<Float> { input }

    public func backward(_ outputGradient: UnsafeMutablePointer<Float>, rows: Int, needInputGradient: Bool)
        -> UnsafeMutablePointer<Float>?
    {
        needInputGradient ? outputGradient : nil
    }

    public func kerasConfig() -> [String: Any] {
        var config = baseConfig()
        config["data_format"] = "channels_last"
        return config
    }
}

/// Keras's `Activation` layer: an activation function on its own.
public final class ActivationLayer: Layer {
    public var name: String
    public var dtypePolicy = DTypePolicy.float32
    /// The function applied element-wise.
    public let activation: Activation
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var kerasClassName: String { "Activation" }
    public var parameters: [Parameter] { [] }

    // The input belongs to the previous layer, so z is a copy kept for backward.
    private let z = FloatBuffer(count: 0)
    private let a = FloatBuffer(count: 0)

    public init(name: String, shape: [Int], activation: Activation) {
        self.name = name
        self.activation = activation
        inputShape = shape
    }

    private var threads = 1

    public func configure(compute: ComputeOptions) { threads = compute.threads }

    public func reserve(rows: Int, training: Bool) {
        z.reserve(rows * outputWidth)
        a.reserve(rows * outputWidth)
    }

    public func forward(_ input: UnsafePointer<Float>, rows: Int, training: Bool) -> UnsafePointer<Float> {
        z.pointer.update(from: input, count: rows * outputWidth)
        let width = inputShape.last ?? 1
        activation.forward(z.pointer, a.pointer, rows: rows * outputWidth / width, width: width, threads: threads)
        return UnsafePointer(a.pointer)
    }

    public func backward(_ outputGradient: UnsafeMutablePointer<Float>, rows: Int, needInputGradient: Bool)
        -> UnsafeMutablePointer<Float>?
    {
        guard needInputGradient else { return nil }
        let width = inputShape.last ?? 1
        activation.backward(outputGradient, z: z.pointer, a: a.pointer, rows: rows * outputWidth / width, width: width)
        return outputGradient
    }

    public func kerasConfig() -> [String: Any] {
        var config = baseConfig()
        config["activation"] = activation.rawValue
        return config
    }
}
