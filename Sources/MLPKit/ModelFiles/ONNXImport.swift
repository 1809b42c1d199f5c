import CONNX
import Foundation

/// Reads an ONNX classifier back into layers that run on this toolchain's engine, for
/// `mlp-eval MODEL.onnx`: this toolchain's float32 exports, and graphs of the same operators
/// (Gemm, MatMul and Add, Relu, Sigmoid, Tanh, Softmax, Elu, Selu, swish and Keras's exact gelu
/// as `mlp-export` writes them, BatchNormalization or its Mul and Add, Flatten, Reshape,
/// Identity, Dropout, and the uint8 prelude Cast, Div by 255, Reshape). The graph must be one
/// chain from its input to its output; an operator outside that set is refused by name.
public enum ONNXImport {
    /// One node as read: its operator, inputs, outputs, and int and float attributes.
    struct Node {
        var op: String
        var inputs: [String]
        var outputs: [String]
        var ints: [String: Int] = [:]
        var floats: [String: Float] = [:]
    }

    /// The model in `data`, its record made from the file's metadata (`class_names`,
    /// `input_scale`, `dataset_sha256`) and, when the file it was exported from is beside it,
    /// from that file's record (its data).
    public static func load(_ data: Data, path: String) throws -> CompiledModel {
        let (nodes, constants, input) = try parse(data, path: path)
        var chain = Chain(nodes: nodes, constants: constants, path: path)
        let model = try chain.sequential(input: input.name, shape: input.shape)
        var saved = CompiledModel(model: model)
        let metadata = try ONNXFile.describe(data, path: path).metadata
        saved.record = record(metadata: metadata, path: path, model: model)
        saved.fileSHA256 = Digest.sha256(of: data)
        return saved
    }

    /// The record the metadata gives, over the record of the model file it names as its source.
    static func record(metadata: [String: String], path: String, model: Sequential) -> RunRecord {
        let folder = FilePaths.absolute(path, folderOnly: true)
        var record = metadata["source"].map { FilePaths.resolve($0, in: folder) }
            .flatMap { try? ModelFile.load(path: $0).record } ?? RunRecord()
        if record.datasetSHA256 == nil { record.datasetSHA256 = metadata["dataset_sha256"] }
        let names = metadata["class_names"].flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
        if record.input == nil, let names, names.count == model.outputWidth {
            let preprocessing: Preprocessing = metadata["input_scale"] == "1" ? .none : .rescale255
            record.input = InputRecord(shape: model.inputShape, preprocessing: preprocessing, classNames: names)
        }
        record.version = metadata["mlp_version"] ?? record.version
        record.command = "mlp-export"
        return record
    }

    /// The nodes, the float constants by name, and the graph's one input.
    static func parse(_ data: Data, path: String) throws -> ([Node], [String: (shape: [Int], values: [Float])], (name: String, shape: [Int])) {
        let parsed = data.withUnsafeBytes { onnx__model_proto__unpack(nil, $0.count, $0.bindMemory(to: UInt8.self).baseAddress) }
        guard let model = parsed, let graph = model.pointee.graph?.pointee else {
            throw MLPError.format(path: path, problem: "not an ONNX model (its protobuf does not parse as a ModelProto with a graph)")
        }
        defer { onnx__model_proto__free_unpacked(model, nil) }
        func text(_ pointer: UnsafeMutablePointer<CChar>?) -> String { pointer.map { String(cString: $0) } ?? "" }
        var constants: [String: (shape: [Int], values: [Float])] = [:]
        for index in 0..<graph.n_initializer {
            guard let tensor = graph.initializer[index]?.pointee else { continue }
            let shape = (0..<tensor.n_dims).map { Int(tensor.dims[$0]) }
            let count = shape.reduce(1, *)
            guard shape.allSatisfy({ $0 >= 0 }), count < 1 << 32 else {
                throw MLPError.format(path: path, problem: "initializer \(text(tensor.name)) has shape \(shape)")
            }
            var values: [Float] = []
            if tensor.data_type == 1, tensor.n_float_data == count {
                values = Array(UnsafeBufferPointer(start: tensor.float_data, count: count))
            } else if tensor.data_type == 1, tensor.has_raw_data != 0, tensor.raw_data.len == count * 4 {
                values = [Float](repeating: 0, count: count)
                values.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(start: tensor.raw_data.data, count: count * 4)) }
            } else if tensor.data_type == 7 {
                let raw = tensor.has_raw_data != 0 ? tensor.raw_data.len / 8 : tensor.n_int64_data
                guard raw == count else { throw MLPError.format(path: path, problem: "initializer \(text(tensor.name)) holds \(raw) of \(count) values") }
                values = (0..<count).map { index in
                    tensor.has_raw_data != 0 ? Float(tensor.raw_data.data.withMemoryRebound(to: Int64.self, capacity: count) { $0[index] })
                        : Float(tensor.int64_data[index])
                }
            } else {
                throw MLPError.format(path: path, problem: "initializer \(text(tensor.name)) is of ONNX type \(tensor.data_type), "
                    + "or holds other than \(count) values; float32 and int64 constants are read")
            }
            constants[text(tensor.name)] = (shape, values)
        }
        var nodes: [Node] = []
        for index in 0..<graph.n_node {
            guard let node = graph.node[index]?.pointee else { continue }
            var read = Node(op: text(node.op_type), inputs: (0..<node.n_input).map { text(node.input[$0]) },
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
        return (nodes, constants, (text(info.name), shape))
    }
}

extension ONNXImport {
    /// The nodes read in order as one chain of layers.
    struct Chain {
        let nodes: [Node]
        let constants: [String: (shape: [Int], values: [Float])]
        let path: String
        var layers: [Layer] = []
        /// A product read and not yet made a layer: its bias and activation may follow.
        var dense: (kernel: [Float], inputs: Int, units: Int, bias: [Float]?)?
        /// A per-feature scale read (Mul), its offset (Add) may follow.
        var affine: (scale: [Float], offset: [Float]?)?
        var width = 0

        init(nodes: [Node], constants: [String: (shape: [Int], values: [Float])], path: String) {
            (self.nodes, self.constants, self.path) = (nodes, constants, path)
        }

        func fail(_ problem: String) -> MLPError { .format(path: path, problem: problem) }

        /// The constant among a node's inputs other than `current`.
        func constant(_ node: Node, besides current: String) throws -> (shape: [Int], values: [Float]) {
            guard node.inputs.contains(current), let other = node.inputs.first(where: { $0 != current }), let value = constants[other] else {
                throw fail("its \(node.op) node does not take the previous node's output and a constant (the graph is not one chain)")
            }
            return value
        }

        func name(_ stem: String) -> String {
            let count = layers.filter { $0.name == stem || $0.name.hasPrefix(stem + "_") }.count
            return count == 0 ? stem : "\(stem)_\(count)"
        }

        /// Makes the pending product or scale a layer, with `activation` for a product.
        mutating func flush(_ activation: Activation = .linear) throws {
            if let pending = dense {
                let layer = Dense(name: name("dense"), inputs: pending.inputs, units: pending.units, activation: activation)
                layer.kernel.value.assign(pending.kernel)
                layer.bias?.value.assign(pending.bias ?? [Float](repeating: 0, count: pending.units))
                layers.append(layer)
                dense = nil
                return
            }
            if let pending = affine {
                // y = scale · x + offset: a BatchNormalization of mean 0, variance 1, epsilon 0.
                let layer = BatchNormalization(name: name("batch_normalization"), shape: [width], epsilon: 0)
                let features = width
                let full = { (values: [Float]) in values.count == 1 ? [Float](repeating: values[0], count: features) : values }
                layer.parameters[0].value.assign(full(pending.scale))
                layer.parameters[1].value.assign(full(pending.offset ?? [0]))
                layers.append(layer)
                affine = nil
            }
            if activation != .linear { layers.append(ActivationLayer(name: name("activation"), shape: [width], activation: activation)) }
        }

        /// Reads every node into layers.
        mutating func sequential(input: String, shape: [Int]) throws -> Sequential {
            var current = input
            width = shape.reduce(1, *)
            var index = 0
            while index < nodes.count {
                let node = nodes[index]
                guard node.inputs.contains(current) else {
                    throw fail("its \(node.op) node does not take the previous node's output (the graph is not one chain)")
                }
                let used = try read(node, at: index, current: current)
                current = nodes[index + used - 1].outputs.first ?? current
                index += used
            }
            try flush()
            guard let first = layers.first else { throw fail("holds no layer") }
            return Sequential(name: "sequential", inputShape: first.inputShape, layers: layers)
        }

        /// Reads the node at `index` (and the ones after it that make one activation with it);
        /// returns how many nodes it read.
        mutating func read(_ node: Node, at index: Int, current: String) throws -> Int {
            let next = index + 1 < nodes.count ? nodes[index + 1] : nil
            switch node.op {
            case "Cast", "Identity", "Dropout":
                return 1
            case "Div":
                guard layers.isEmpty, dense == nil, try constant(node, besides: current).values == [255] else {
                    throw fail("its Div node is not the division by 255 of raw pixels")
                }
            case "Reshape", "Flatten":
                guard layers.isEmpty, dense == nil, affine == nil else { throw fail("its \(node.op) node comes after a layer") }
            case "Gemm", "MatMul":
                try product(node, current: current)
            case "Add":
                try add(node, current: current)
            case "Mul" where next?.op == "Erf":
                // 0.5 · x · (1 + erf(x · √½)): Mul, Erf, Add, Mul, Mul.
                guard index + 4 < nodes.count, ["Add", "Mul", "Mul"] == nodes[(index + 2)...(index + 4)].map(\.op) else {
                    throw fail("its Erf node is not Keras's exact gelu")
                }
                try flush(.gelu)
                return 5
            case "Mul":
                try flush()
                let c = try constant(node, besides: current)
                guard [1, width].contains(c.values.count) else { throw fail("its Mul node scales \(width) values by \(c.values.count)") }
                affine = (c.values, nil)
            case "Sigmoid" where next?.op == "Mul" && Set(next!.inputs) == [current, node.outputs.first ?? ""]:
                try flush(.swish)
                return 2
            case "Relu", "Sigmoid", "Tanh", "Softmax", "Elu", "Selu":
                try flush(try activation(node))
            case "BatchNormalization":
                try batchNormalization(node)
            default:
                throw fail("uses the ONNX operator \(node.op), which mlp-eval does not compute (it reads Gemm, MatMul, Add, Mul, "
                    + "Relu, Sigmoid, Tanh, Softmax, Elu, Selu, Erf as gelu, BatchNormalization, Flatten, Reshape, Cast, Div, Identity, Dropout)")
            }
            return 1
        }

        /// Gemm (x · W + b, W transposed or not) or MatMul (x · W, its bias in an Add after it).
        mutating func product(_ node: Node, current: String) throws {
            try flush()
            let b = try constant(Node(op: node.op, inputs: Array(node.inputs.prefix(2)), outputs: []), besides: current)
            guard b.shape.count == 2, node.ints["transA", default: 0] == 0, node.floats["alpha", default: 1] == 1,
                  node.floats["beta", default: 1] == 1 else { throw fail("its \(node.op) node is not x · W + b") }
            let transposed = node.ints["transB", default: 0] == 1
            let (inputs, units) = transposed ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
            var kernel = b.values
            if transposed { kernel = (0..<(inputs * units)).map { b.values[($0 % units) * inputs + $0 / units] } }
            let bias = node.op == "Gemm" && node.inputs.count > 2 ? constants[node.inputs[2]]?.values : nil
            guard bias == nil || bias!.count == units else { throw fail("its Gemm bias has \(bias!.count) values for \(units) units") }
            if width == 0 { width = inputs }
            guard inputs == width else { throw fail("its \(node.op) node takes \(inputs) values where \(width) come") }
            dense = (kernel, inputs, units, bias)
            width = units
        }

        /// A product's bias, or a scale's offset.
        mutating func add(_ node: Node, current: String) throws {
            let c = try constant(node, besides: current)
            if let pending = dense, pending.bias == nil, c.values.count == pending.units {
                dense?.bias = c.values
            } else if affine != nil, affine?.offset == nil, [1, width].contains(c.values.count) {
                affine?.offset = c.values
            } else {
                throw fail("its Add node follows neither a product nor a scale")
            }
        }

        mutating func batchNormalization(_ node: Node) throws {
            try flush()
            let parts = try node.inputs.dropFirst().map { name in
                guard let values = constants[name]?.values else { throw fail("its BatchNormalization input \(name) is not a constant") }
                return values
            }
            guard parts.count == 4, parts.allSatisfy({ $0.count == width }) else { throw fail("its BatchNormalization is not of \(width) features") }
            let layer = BatchNormalization(name: name("batch_normalization"), shape: [width], epsilon: node.floats["epsilon", default: 1e-5])
            for (parameter, values) in zip(layer.parameters, parts) { parameter.value.assign(values) }
            layers.append(layer)
        }

        /// The activation an activation node computes, with Keras's constants.
        func activation(_ node: Node) throws -> Activation {
            switch node.op {
            case "Relu": return .relu
            case "Sigmoid": return .sigmoid
            case "Tanh": return .tanh
            case "Softmax":
                guard [-1, 1].contains(node.ints["axis", default: -1]) else { throw fail("its Softmax is not over the classes") }
                return .softmax
            case "Elu":
                guard node.floats["alpha", default: 1] == 1 else { throw fail("its Elu has alpha \(node.floats["alpha"]!); Keras's is 1") }
                return .elu
            default:
                guard node.floats["alpha"].map({ abs($0 - Activation.seluAlpha) < 1e-6 }) ?? true,
                      node.floats["gamma"].map({ abs($0 - Activation.seluScale) < 1e-6 }) ?? true
                else { throw fail("its Selu has other constants than Keras's") }
                return .selu
            }
        }
    }
}
