import Foundation

/// Keras's `Rescaling`: `y = x · scale + offset`, with scalar scale and offset.
public final class Rescaling: RegisteredLayer {
    public var name: String
    public var dtypePolicy = DTypePolicy.float32
    public let scale: Float
    public let offset: Float
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public static let kerasClassName = "Rescaling"
    public var parameters: [Parameter] { [] }

    private let output = FloatBuffer(count: 0)

    public init(name: String, shape: [Int], scale: Float, offset: Float) {
        self.name = name
        self.scale = scale
        self.offset = offset
        inputShape = shape
    }

    public static func make(_ config: LayerConfig, input: [Int]) throws -> Layer {
        for key in ["scale", "offset"] where !(config.values[key] == nil || config.values[key]?.number != nil) {
            throw config.error("has a '\(key)' that is not one number: only scalar scale and offset are supported")
        }
        return Rescaling(name: config.name, shape: input, scale: try config.number("scale", default: 1),
                         offset: try config.number("offset", default: 0))
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

    public func kerasConfig() -> [String: JSONValue] {
        var config = baseConfig()
        config["scale"] = JSONValue(scale)
        config["offset"] = JSONValue(offset)
        return config
    }

    /// `x · scale + offset`.
    public func export(to graph: inout ONNXGraph, input: String) throws -> String {
        var output = graph.add("Mul", [input, graph.constant("\(name)/scale", [scale], shape: [])], stem: "\(name)/mul")
        if offset != 0 { output = graph.add("Add", [output, graph.constant("\(name)/offset", [offset], shape: [])], stem: "\(name)/add") }
        return output
    }
}
