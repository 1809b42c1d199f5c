import Foundation

/// Keras's `Flatten`: (h, w, c) to (h·w·c). Row-major storage makes it the identity on memory.
public final class Flatten: RegisteredLayer {
    public var name: String
    public var dtypePolicy = DTypePolicy.float32
    public let inputShape: [Int]
    public var outputShape: [Int] { [inputShape.reduce(1, *)] }
    public static let kerasClassName = "Flatten"
    public var parameters: [Parameter] { [] }

    public init(name: String, inputShape: [Int]) {
        self.name = name
        self.inputShape = inputShape
    }

    public static func plan(_ config: LayerConfig, input: [Int]) throws -> LayerPlan {
        LayerPlan(output: [input.reduce(1, *)], parameters: 0)
    }

    public static func make(_ config: LayerConfig, input: [Int]) throws -> Layer { Flatten(name: config.name, inputShape: input) }

    public func reserve(rows: Int, training: Bool) {}

    public func forward(_ input: UnsafePointer<Float>, rows: Int, training: Bool) -> UnsafePointer<Float> { input }

    public func backward(_ outputGradient: UnsafeMutablePointer<Float>, rows: Int, needInputGradient: Bool)
        -> UnsafeMutablePointer<Float>?
    {
        needInputGradient ? outputGradient : nil
    }

    public func kerasConfig() -> [String: JSONValue] {
        var config = baseConfig()
        config["data_format"] = "channels_last"
        return config
    }

    public func export(to graph: inout ONNXGraph, input: String) throws -> String {
        graph.add("Flatten", [input], stem: "\(name)/flatten", ints: ["axis": 1])
    }
}
