import Foundation

/// Keras's `Rescaling`: `y = x · scale + offset`, with scalar scale and offset.
public final class Rescaling: Layer {
    public var name: String
    public var dtypePolicy = DTypePolicy.float32
    public let scale: Float
    public let offset: Float
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var kerasClassName: String { "Rescaling" }
    public var parameters: [Parameter] { [] }

    private let output = FloatBuffer(count: 0)

    public init(name: String, shape: [Int], scale: Float, offset: Float) {
        self.name = name
        self.scale = scale
        self.offset = offset
        inputShape = shape
    }

    public func reserve(rows: Int, training: Bool) { output.reserve(rows * outputWidth) }

    public func forward(_ input: UnsafePointer<Float>, rows: Int, training: Bool) -> UnsafePointer<Float> {
        let y = output.pointer
        for i in 0..<(rows * outputWidth) { y[i] = input[i] * scale + offset }
        return UnsafePointer(y)
    }

    public func backward(_ outputGradient: UnsafeMutablePointer<Float>, rows: Int, needInputGradient: Bool)
        -> UnsafeMutablePointer<Float>?
    {
        guard needInputGradient else { return nil }
        for i in 0..<(rows * outputWidth) { outputGradient[i] *= scale }
        return outputGradient
    }

    public func kerasConfig() -> [String: Any] {
        var config = baseConfig()
        config["scale"] = scale.decimalDouble
        config["offset"] = offset.decimalDouble
        return config
    }
}
