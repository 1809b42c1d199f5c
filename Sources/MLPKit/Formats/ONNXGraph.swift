import Foundation

/// An ONNX graph as plain values, which each layer writes its inference into (`Layer.export`):
/// what `ONNXFile.serialize` turns into a `ModelProto`, and what `ONNXFile.describe` reads back.
public struct ONNXGraph {
    /// ONNX's element types that this toolchain writes.
    public enum ElementType: Int32, Sendable {
        case float = 1, uint8 = 2, int64 = 7

        public var name: String {
            switch self {
            case .float: "float32"
            case .uint8: "uint8"
            case .int64: "int64"
            }
        }
    }

    /// A graph input or output: a name, an element type and a shape whose nil dimensions are
    /// named "batch" (dynamic).
    public struct Value {
        public var name: String
        public var type: ElementType
        public var shape: [Int?]
    }

    /// A constant: float32 weights or int64 shapes.
    public struct Tensor {
        public var name: String
        public var shape: [Int]
        public var floats: [Float] = []
        public var int64s: [Int64] = []
    }

    /// One operator; attributes are ints or floats, which is all the operators here need.
    public struct Node {
        public var op: String
        public var inputs: [String]
        public var outputs: [String]
        public var ints: [String: Int] = [:]
        public var floats: [String: Float] = [:]
    }

    /// The graph's name (the model's).
    public var name: String
    public var inputs: [Value] = []
    public var outputs: [Value] = []
    /// The constants: weights, biases and shapes.
    public var initializers: [Tensor] = []
    /// Operators in the order they run.
    public var nodes: [Node] = []
    /// Free-form `metadata_props` of the model.
    public var metadata: [String: String] = [:]

    public init(name: String) { self.name = name }

    private var counter = 0

    /// A new value name from `stem`: "dense/gemm_3".
    public mutating func fresh(_ stem: String) -> String {
        counter += 1
        return "\(stem)_\(counter)"
    }

    /// Adds a node with one output, named from `stem`, and returns that output's name.
    public mutating func add(_ op: String, _ inputs: [String], stem: String, ints: [String: Int] = [:],
                             floats: [String: Float] = [:]) -> String {
        let output = fresh(stem)
        nodes.append(Node(op: op, inputs: inputs, outputs: [output], ints: ints, floats: floats))
        return output
    }

    /// Adds a float constant and returns its name.
    public mutating func constant(_ name: String, _ values: [Float], shape: [Int]) -> String {
        initializers.append(Tensor(name: name, shape: shape, floats: values))
        return name
    }
}

extension ONNXGraph {
    /// Adds an int64 constant and returns its name.
    mutating func int64Constant(_ name: String, _ values: [Int64]) -> String {
        initializers.append(Tensor(name: name, shape: [values.count], int64s: values))
        return name
    }
}
