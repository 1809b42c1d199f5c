import CONNX
import Foundation

/// Writes and reads ONNX files through protobuf-c. An ONNX file is told apart from the model
/// files this toolchain trains, and described (`mlp-inspect`), but not read back as a model.
public enum ONNXFile: RegisteredModelFormat {
    public static let name = "onnx"
    public static let title = "ONNX (mlp-export's output)"
    /// Written by `mlp-export`, never as a trained model's file.
    public static let extensions: [String] = []

    public static func recognizes(_ bytes: Data) -> Bool { looksLikeONNX(bytes) }

    public static func load(_ bytes: Data, path: String) throws -> CompiledModel { throw notAModel(path) }

    public static func configObject(_ bytes: Data, path: String) throws -> [String: JSONValue] { throw notAModel(path) }

    public static func save(_ model: CompiledModel, to path: String) throws {
        throw MLPError.format(path: path, problem: "ONNX files are written by mlp-export, not as a trained model's file")
    }

    static func notAModel(_ path: String) -> MLPError {
        .format(path: path, problem: "is an ONNX model (mlp-export's output, for ONNX Runtime); this reads .keras and .h5 models")
    }

    /// The opset written: 17 (ONNX 1.12), which every ONNX Runtime since 1.12 runs.
    public static let opset = 17
    /// The IR version that goes with opset 17.
    public static let irVersion = 8

    /// The `ModelProto` bytes of `graph`.
    ///
    /// - Parameters:
    ///   - producerVersion: the toolchain's version, recorded as `producer_version`.
    public static func serialize(_ graph: ONNXGraph, producerVersion: String) -> Data {
        let arena = ProtobufArena()
        let model = arena.message(Onnx__ModelProto.self, onnx__model_proto__init)
        model.pointee.has_ir_version = 1
        model.pointee.ir_version = Int64(irVersion)
        model.pointee.producer_name = arena.string("mlp")
        model.pointee.producer_version = arena.string(producerVersion)
        let opset = arena.message(Onnx__OperatorSetIdProto.self, onnx__operator_set_id_proto__init)
        opset.pointee.domain = arena.string("")
        opset.pointee.has_version = 1
        opset.pointee.version = Int64(Self.opset)
        model.pointee.n_opset_import = 1
        model.pointee.opset_import = arena.array([opset])
        let properties = graph.metadata.sorted { $0.key < $1.key }.map { key, value in
            let entry = arena.message(Onnx__StringStringEntryProto.self, onnx__string_string_entry_proto__init)
            entry.pointee.key = arena.string(key)
            entry.pointee.value = arena.string(value)
            return entry
        }
        model.pointee.n_metadata_props = properties.count
        model.pointee.metadata_props = arena.array(properties)

        let g = arena.message(Onnx__GraphProto.self, onnx__graph_proto__init)
        g.pointee.name = arena.string(graph.name)
        let inputs = graph.inputs.map { valueInfo($0, arena) }, outputs = graph.outputs.map { valueInfo($0, arena) }
        g.pointee.n_input = inputs.count
        g.pointee.input = arena.array(inputs)
        g.pointee.n_output = outputs.count
        g.pointee.output = arena.array(outputs)
        let tensors = graph.initializers.map { tensor($0, arena) }
        g.pointee.n_initializer = tensors.count
        g.pointee.initializer = arena.array(tensors)
        let nodes = graph.nodes.enumerated().map { node($1, index: $0, arena) }
        g.pointee.n_node = nodes.count
        g.pointee.node = arena.array(nodes)
        model.pointee.graph = g

        return protobufBytes(model)
    }

    private static func valueInfo(_ value: ONNXGraph.Value, _ arena: ProtobufArena) -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
        let info = arena.message(Onnx__ValueInfoProto.self, onnx__value_info_proto__init)
        info.pointee.name = arena.string(value.name)
        let shape = arena.message(Onnx__TensorShapeProto.self, onnx__tensor_shape_proto__init)
        let dims = value.shape.map { size in
            let dim = arena.message(Onnx__TensorShapeProto__Dimension.self, onnx__tensor_shape_proto__dimension__init)
            if let size {
                dim.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                dim.pointee.dim_value = Int64(size)
            } else {
                dim.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                dim.pointee.dim_param = arena.string("batch")
            }
            return dim
        }
        shape.pointee.n_dim = dims.count
        shape.pointee.dim = arena.array(dims)
        let tensorType = arena.message(Onnx__TypeProto__Tensor.self, onnx__type_proto__tensor__init)
        tensorType.pointee.has_elem_type = 1
        tensorType.pointee.elem_type = value.type.rawValue
        tensorType.pointee.shape = shape
        let type = arena.message(Onnx__TypeProto.self, onnx__type_proto__init)
        type.pointee.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
        type.pointee.tensor_type = tensorType
        info.pointee.type = type
        return info
    }

    private static func tensor(_ tensor: ONNXGraph.Tensor, _ arena: ProtobufArena) -> UnsafeMutablePointer<Onnx__TensorProto> {
        let proto = arena.message(Onnx__TensorProto.self, onnx__tensor_proto__init)
        proto.pointee.name = arena.string(tensor.name)
        proto.pointee.n_dims = tensor.shape.count
        proto.pointee.dims = arena.array(tensor.shape.map(Int64.init))
        proto.pointee.has_data_type = 1
        proto.pointee.data_type = tensor.type.rawValue
        // Integers of an int8 model as raw little-endian bytes, as ONNX Runtime's quantizer writes them.
        func raw<T>(_ values: [T]) {
            let bytes = values.withUnsafeBytes { arena.array(Array($0)) }
            proto.pointee.has_raw_data = 1
            proto.pointee.raw_data = ProtobufCBinaryData(len: values.count * MemoryLayout<T>.stride, data: bytes)
        }
        switch tensor.type {
        case .float:
            proto.pointee.n_float_data = tensor.floats.count
            proto.pointee.float_data = arena.array(tensor.floats)
        case .int64:
            proto.pointee.n_int64_data = tensor.int64s.count
            proto.pointee.int64_data = arena.array(tensor.int64s)
        case .int8: raw(tensor.int8s)
        case .uint8: raw(tensor.uint8s)
        case .int32: raw(tensor.int32s)
        }
        return proto
    }

    private static func node(_ node: ONNXGraph.Node, index: Int, _ arena: ProtobufArena) -> UnsafeMutablePointer<Onnx__NodeProto> {
        let proto = arena.message(Onnx__NodeProto.self, onnx__node_proto__init)
        proto.pointee.op_type = arena.string(node.op)
        proto.pointee.name = arena.string("\(node.op)_\(index)")
        proto.pointee.n_input = node.inputs.count
        proto.pointee.input = arena.array(node.inputs.map { arena.string($0) })
        proto.pointee.n_output = node.outputs.count
        proto.pointee.output = arena.array(node.outputs.map { arena.string($0) })
        // One attribute message per int and per float, by name; the caller sets its value.
        func attribute(_ name: String, _ type: Onnx__AttributeProto__AttributeType) -> UnsafeMutablePointer<Onnx__AttributeProto> {
            let attribute = arena.message(Onnx__AttributeProto.self, onnx__attribute_proto__init)
            attribute.pointee.name = arena.string(name)
            attribute.pointee.has_type = 1
            attribute.pointee.type = type
            return attribute
        }
        let ints = node.ints.sorted { $0.key < $1.key }.map { name, value in
            let proto = attribute(name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)
            proto.pointee.has_i = 1
            proto.pointee.i = Int64(value)
            return proto
        }
        let floats = node.floats.sorted { $0.key < $1.key }.map { name, value in
            let proto = attribute(name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT)
            proto.pointee.has_f = 1
            proto.pointee.f = value
            return proto
        }
        let attributes = ints + floats
        proto.pointee.n_attribute = attributes.count
        proto.pointee.attribute = arena.array(attributes)
        return proto
    }

    // MARK: Reading

    /// What `mlp-inspect` shows of an ONNX file.
    public struct Description {
        /// The file's `ir_version`.
        public var irVersion: Int
        /// Every operator set imported; the default domain is "".
        public var opsets: [(domain: String, version: Int)]
        /// `producer_name` and `producer_version`, joined by a space.
        public var producer: String
        public var inputs: [ONNXGraph.Value]
        public var outputs: [ONNXGraph.Value]
        /// Every initializer's element count, summed: the weights, and any constants.
        public var parameters: Int
        public var initializers: Int
        /// The operators in graph order, each once, and how many nodes there are.
        public var operators: [String]
        /// Operators in the main graph.
        public var nodeCount: Int
        public var metadata: [String: String]
    }

    /// Whether a file's `bytes` are to be read as ONNX: they parse as ONNX, or the file is named
    /// `.onnx` and no model format has them (told so in ONNX's terms).
    public static func isONNX(_ bytes: Data, path: String) -> Bool {
        recognizes(bytes) || (path.lowercased().hasSuffix(".onnx") && ModelFormats.all.allSatisfy { !$0.recognizes(bytes) })
    }

    /// Whether `data` parses as an ONNX `ModelProto` with a graph.
    public static func looksLikeONNX(_ data: Data) -> Bool {
        // A ModelProto starts with ir_version (field 1, varint: 0x08); a .keras or .h5 never does.
        data.first == 0x08 && (try? describe(data, path: "")) != nil
    }

    /// Reads an ONNX file's inputs, outputs, opsets and parameter count; any file that does
    /// not parse as a `ModelProto` with a graph is refused in one line.
    public static func describe(_ data: Data, path: String) throws -> Description {
        let parsed = data.withUnsafeBytes { bytes in
            onnx__model_proto__unpack(nil, bytes.count, bytes.bindMemory(to: UInt8.self).baseAddress)
        }
        guard let model = parsed else {
            throw MLPError.format(path: path, problem: "not an ONNX model (its protobuf does not parse as a ModelProto)")
        }
        defer { onnx__model_proto__free_unpacked(model, nil) }
        guard let graph = model.pointee.graph else { throw MLPError.format(path: path, problem: "ONNX model without a graph") }
        func text(_ pointer: UnsafeMutablePointer<CChar>?) -> String { pointer.map { String(cString: $0) } ?? "" }
        func values(_ list: UnsafeMutablePointer<UnsafeMutablePointer<Onnx__ValueInfoProto>?>?, _ count: Int) -> [ONNXGraph.Value] {
            (0..<count).compactMap { index in
                guard let info = list?[index]?.pointee else { return nil }
                var type = ONNXGraph.ElementType.float
                var shape: [Int?] = []
                if let typeProto = info.type?.pointee, typeProto.value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE,
                   let tensor = typeProto.tensor_type?.pointee {
                    type = ONNXGraph.ElementType(rawValue: tensor.elem_type) ?? .float
                    if let dims = tensor.shape?.pointee {
                        shape = (0..<dims.n_dim).map { d in
                            guard let dim = dims.dim[d]?.pointee, dim.value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                            else { return nil }
                            return Int(dim.dim_value)
                        }
                    }
                }
                return ONNXGraph.Value(name: text(info.name), type: type, shape: shape)
            }
        }
        var parameters = 0
        for index in 0..<graph.pointee.n_initializer {
            guard let tensor = graph.pointee.initializer[index]?.pointee else { continue }
            let dims = (0..<tensor.n_dims).map { Int(tensor.dims[$0]) }
            guard dims.allSatisfy({ $0 >= 0 && $0 < 1 << 40 }) else {
                throw MLPError.format(path: path, problem: "initializer \(text(tensor.name)) has shape \(dims)")
            }
            parameters += dims.reduce(1, *)
        }
        var operators: [String] = []
        for index in 0..<graph.pointee.n_node {
            let op = text(graph.pointee.node[index]?.pointee.op_type)
            if !operators.contains(op) { operators.append(op) }
        }
        var metadata: [String: String] = [:]
        for index in 0..<model.pointee.n_metadata_props {
            if let entry = model.pointee.metadata_props[index]?.pointee { metadata[text(entry.key)] = text(entry.value) }
        }
        let opsets = (0..<model.pointee.n_opset_import).compactMap { index in
            model.pointee.opset_import[index].map { (text($0.pointee.domain), Int($0.pointee.version)) }
        }
        let producer = [text(model.pointee.producer_name), text(model.pointee.producer_version)].filter { !$0.isEmpty }
        return Description(irVersion: Int(model.pointee.ir_version), opsets: opsets, producer: producer.joined(separator: " "),
                           inputs: values(graph.pointee.input, graph.pointee.n_input),
                           outputs: values(graph.pointee.output, graph.pointee.n_output),
                           parameters: parameters, initializers: graph.pointee.n_initializer, operators: operators,
                           nodeCount: graph.pointee.n_node, metadata: metadata)
    }

    // MARK: Reading the graph

    /// One node as read: its operator, inputs, outputs, and int and float attributes.
    struct ReadNode {
        var op: String
        var inputs: [String]
        var outputs: [String]
        var ints: [String: Int] = [:]
        var floats: [String: Float] = [:]
    }

    /// The nodes, the constants by name (as floats, and the integer ones also exactly, with
    /// their ONNX element type), and the graph's one input.
    static func read(_ data: Data, path: String) throws
        -> ([ReadNode], [String: (shape: [Int], values: [Float])], [String: (type: Int32, values: [Int32])], (name: String, shape: [Int]))
    {
        let parsed = data.withUnsafeBytes { onnx__model_proto__unpack(nil, $0.count, $0.bindMemory(to: UInt8.self).baseAddress) }
        guard let model = parsed, let graph = model.pointee.graph?.pointee else {
            throw MLPError.format(path: path, problem: "not an ONNX model (its protobuf does not parse as a ModelProto with a graph)")
        }
        defer { onnx__model_proto__free_unpacked(model, nil) }
        func text(_ pointer: UnsafeMutablePointer<CChar>?) -> String { pointer.map { String(cString: $0) } ?? "" }
        var constants: [String: (shape: [Int], values: [Float])] = [:]
        var integerConstants: [String: (type: Int32, values: [Int32])] = [:]
        for index in 0..<graph.n_initializer {
            guard let tensor = graph.initializer[index]?.pointee else { continue }
            constants[text(tensor.name)] = try values(of: tensor, path: path)
            if let exact = try integers(of: tensor, path: path) { integerConstants[text(tensor.name)] = (tensor.data_type, exact) }
        }
        var nodes: [ReadNode] = []
        for index in 0..<graph.n_node {
            guard let node = graph.node[index]?.pointee else { continue }
            var read = ReadNode(op: text(node.op_type), inputs: (0..<node.n_input).map { text(node.input[$0]) },
                                outputs: (0..<node.n_output).map { text(node.output[$0]) })
            for a in 0..<node.n_attribute {
                guard let attribute = node.attribute[a]?.pointee else { continue }
                if attribute.has_i != 0 { read.ints[text(attribute.name)] = Int(attribute.i) }
                if attribute.has_f != 0 { read.floats[text(attribute.name)] = attribute.f }
                if attribute.type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR, let t = attribute.t?.pointee,
                   t.data_type == 1, t.n_float_data > 0 {
                    constants[read.outputs.first ?? ""] = ((0..<t.n_dims).map { Int(t.dims[$0]) },
                                                           Array(UnsafeBufferPointer(start: t.float_data, count: t.n_float_data)))
                }
            }
            nodes.append(read)
        }
        let inputs = (0..<graph.n_input).compactMap { graph.input[$0]?.pointee }.filter { constants[text($0.name)] == nil }
        guard inputs.count == 1, let info = inputs.first else {
            throw MLPError.format(path: path, problem: "has \(inputs.count) graph inputs; a classifier of one input is read")
        }
        var shape: [Int] = []
        if let tensor = info.type?.pointee.tensor_type?.pointee, let dims = tensor.shape?.pointee {
            shape = (1..<max(dims.n_dim, 1)).map { d in dims.dim[d].map { Int($0.pointee.dim_value) } ?? 0 }
        }
        return (nodes, constants, integerConstants, (text(info.name), shape))
    }

    /// A float32 or int64 initializer's shape and values (as floats).
    static func values(of tensor: Onnx__TensorProto, path: String) throws -> (shape: [Int], values: [Float]) {
        let name = tensor.name.map { String(cString: $0) } ?? ""
        let shape = (0..<tensor.n_dims).map { Int(tensor.dims[$0]) }
        let count = shape.reduce(1, *)
        guard shape.allSatisfy({ $0 >= 0 }), count < 1 << 32 else {
            throw MLPError.format(path: path, problem: "initializer \(name) has shape \(shape)")
        }
        let raw = tensor.has_raw_data != 0
        if tensor.data_type == 1, raw ? tensor.raw_data.len == count * 4 : tensor.n_float_data == count {
            guard raw else { return (shape, Array(UnsafeBufferPointer(start: tensor.float_data, count: count))) }
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(start: tensor.raw_data.data, count: count * 4)) }
            return (shape, values)
        }
        if tensor.data_type == 7, raw ? tensor.raw_data.len == count * 8 : tensor.n_int64_data == count {
            var integers = [Int64](repeating: 0, count: count)
            if raw {
                integers.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(start: tensor.raw_data.data, count: count * 8)) }
            } else {
                integers = Array(UnsafeBufferPointer(start: tensor.int64_data, count: count))
            }
            return (shape, integers.map(Float.init))
        }
        if let size = [2: 1, 3: 1, 6: 4][tensor.data_type], raw ? tensor.raw_data.len == count * size : tensor.n_int32_data == count {
            return (shape, (try integers(of: tensor, path: path) ?? []).map { Float($0) })
        }
        throw MLPError.format(path: path, problem: "initializer \(name) is of ONNX type \(tensor.data_type), or holds other than "
            + "\(count) values; float32, int64, int32, int8 and uint8 constants are read")
    }

    /// An int8, uint8 or int32 initializer's values, exactly; nil for other types.
    static func integers(of tensor: Onnx__TensorProto, path: String) throws -> [Int32]? {
        let count = (0..<tensor.n_dims).map { Int(tensor.dims[$0]) }.reduce(1, *)
        guard let size = [2: 1, 3: 1, 6: 4][tensor.data_type] else { return nil }
        guard tensor.has_raw_data != 0 else {
            guard tensor.n_int32_data == count else { return nil }
            return Array(UnsafeBufferPointer(start: tensor.int32_data, count: count))
        }
        guard tensor.raw_data.len == count * size else { return nil }
        let bytes = UnsafeRawBufferPointer(start: tensor.raw_data.data, count: count * size)
        switch tensor.data_type {
        case 2: return bytes.map { Int32($0) }
        case 3: return bytes.map { Int32(Int8(bitPattern: $0)) }
        default: return (0..<count).map { Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
        }
    }
}
