import Foundation

/// A layer that Keras knows by its class name: it reads itself from a model config, sizes itself
/// before any weight is allocated, and is found by `Layers` (Keras's `from_config` and
/// object registration). A new layer is one file with a type conforming here.
public protocol RegisteredLayer: Layer {
    /// The class name Keras uses in a model config: "Dense".
    static var kerasClassName: String { get }
    /// What the layer its config describes makes of `input` (one sample's shape): its output
    /// shape and how many weights it has, computed without allocating them.
    static func plan(_ config: LayerConfig, input: [Int]) throws -> LayerPlan
    /// The layer its config describes, for inputs of shape `input`, its weights zeroed.
    static func make(_ config: LayerConfig, input: [Int]) throws -> Layer
}

extension RegisteredLayer {
    public var kerasClassName: String { Self.kerasClassName }
    /// By default a layer keeps its input's shape and has no weights.
    public static func plan(_ config: LayerConfig, input: [Int]) throws -> LayerPlan { LayerPlan(output: input, parameters: 0) }
}

/// A layer's output shape and weight count, as a config describes it.
public struct LayerPlan: Sendable, Equatable {
    public var output: [Int]
    public var parameters: Int

    public init(output: [Int], parameters: Int) {
        self.output = output
        self.parameters = parameters
    }
}

/// The layers model configs may hold, found by Keras class name. The list is made at build
/// time from the types that conform to `RegisteredLayer`.
public enum Layers {
    /// Every layer type, by Keras class name.
    public static var all: [any RegisteredLayer.Type] { registered.sorted { $0.kerasClassName < $1.kerasClassName } }

    /// The layer type Keras calls `className`, if this toolchain has it.
    public static func named(_ className: String) -> (any RegisteredLayer.Type)? { all.first { $0.kerasClassName == className } }

    /// Every Keras class name a config may use, `InputLayer` included, in alphabetical order.
    public static var classNames: [String] { (["InputLayer"] + registered.map { $0.kerasClassName }).sorted() }
}

/// One layer's entry of a Keras model config (Keras's configs are open, so its values stay
/// dynamic), read with errors that name the file and the layer.
public struct LayerConfig {
    public let className: String
    public let name: String
    /// The entry's `config` object.
    public let values: [String: JSONValue]
    /// The file the config came from, named in errors.
    public let source: String

    public init(className: String, name: String, values: [String: JSONValue], source: String) {
        self.className = className
        self.name = name
        self.values = values
        self.source = source
    }

    /// An error about this layer: "Dense layer 'dense' <problem>".
    public func error(_ problem: String) -> MLPError {
        .format(path: source, problem: "\(className) layer '\(name)' \(problem)")
    }

    /// A number the config may give (`fallback` when absent or null).
    public func number(_ key: String, default fallback: Double) throws -> Float {
        guard let raw = values[key], !raw.isNull else { return Float(fallback) }
        guard let number = raw.number, number.isFinite else { throw error("has a '\(key)' that is not a number") }
        return Float(number)
    }

    /// A boolean the config may give.
    public func bool(_ key: String, default fallback: Bool) -> Bool { values[key]?.bool ?? fallback }

    /// The activation the config names (linear when absent), one this toolchain has.
    public func activation() throws -> Activation {
        let value = values["activation"] ?? "linear"
        guard let text = value.string, let activation = Activation(kerasName: text) else {
            throw MLPError.format(path: source, problem:
                "layer '\(name)' (\(className)) has activation \(value.text), which is not supported "
                + "(supported: \(Activation.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return activation
    }

    /// The weight regularizer under `key`, if any.
    public func regularizer(_ key: String) throws -> Regularizer? {
        try Regularizer.from(kerasObject: values[key], layer: name, source: source)
    }

    /// Refuses settings this toolchain does not run: each of `keys` must be absent or null.
    public func refuse(_ keys: [String]) throws {
        for key in keys where values[key] != nil && values[key] != .null {
            throw error("has a \(key), which is not supported")
        }
    }
}
