import Foundation

/// An ONNX graph as plain values, which each layer writes its inference into (`Layer.export`):
/// what `ONNXFile.serialize` turns into a `ModelProto`, and what `ONNXFile.describe` reads back.
public struct ONNXGraph {
    /// ONNX's element types that this toolchain writes.
    public enum ElementType: Int32, Sendable {
        case float = 1, uint8 = 2, int8 = 3, int32 = 6, int64 = 7

        public var name: String {
            switch self {
            case .float: "float32"
            case .uint8: "uint8"
            case .int8: "int8"
            case .int32: "int32"
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

    /// A constant: float32 weights, int64 shapes, or an int8 model's integers (int8 weights,
    /// uint8 zero points, int32 biases). Exactly one of the arrays holds the values.
    public struct Tensor {
        public var name: String
        public var shape: [Int]
        public var floats: [Float] = []
        public var int64s: [Int64] = []
        public var int8s: [Int8] = []
        public var uint8s: [UInt8] = []
        public var int32s: [Int32] = []

        /// The element type of the array that holds the values.
        public var type: ElementType {
            if !int64s.isEmpty { return .int64 }
            if !int8s.isEmpty { return .int8 }
            if !uint8s.isEmpty { return .uint8 }
            if !int32s.isEmpty { return .int32 }
            return .float
        }
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
