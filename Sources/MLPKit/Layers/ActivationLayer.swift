import Foundation

/// Keras's `Activation` layer: an activation function on its own.
public final class ActivationLayer: RegisteredLayer, ActivatedLayer {
    public var name: String
    public var dtypePolicy = DTypePolicy.float32
    /// The function applied element-wise.
    public let activation: Activation
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public static let kerasClassName = "Activation"
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

    public static func make(_ config: LayerConfig, input: [Int]) throws -> Layer {
        ActivationLayer(name: config.name, shape: input, activation: try config.activation())
    }

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

    /// dL/dz is dL/d(input): the layer is its activation alone.
    public func backward(preActivationGradient dz: UnsafeMutablePointer<Float>, rows: Int, needInputGradient: Bool)
        -> UnsafeMutablePointer<Float>?
    {
        needInputGradient ? dz : nil
    }

    public func kerasConfig() -> [String: JSONValue] {
        var config = baseConfig()
        config["activation"] = .string(activation.rawValue)
        return config
    }

    public func export(to graph: inout ONNXGraph, input: String) throws -> String {
        activation.export(to: &graph, input: input, stem: "\(name)/\(activation.rawValue)")
    }
}
