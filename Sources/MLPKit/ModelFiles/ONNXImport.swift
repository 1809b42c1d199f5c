import Foundation

/// Reads an ONNX classifier back into layers that run on this toolchain's engine, for
/// `mlp-eval MODEL.onnx`: this toolchain's float32 exports, and graphs of the same operators
/// (Gemm, MatMul and Add, Relu, Sigmoid, Tanh, Softmax, Elu, Selu, swish and Keras's exact gelu
/// as `mlp-export` writes them, BatchNormalization or its Mul and Add, Flatten, Reshape,
/// Identity, Dropout, and the uint8 prelude Cast, Div by 255, Reshape). The graph must be one
/// chain from its input to its output; an operator outside that set is refused by name.
public enum ONNXImport {
    typealias Node = ONNXFile.ReadNode

    /// The model in `data`, its record made from the file's metadata (`class_names`,
    /// `input_scale`, `dataset_sha256`) and, when the file it was exported from is beside it,
    /// from that file's record (its data).
    public static func load(_ data: Data, path: String) throws -> CompiledModel {
        let (nodes, constants, input) = try ONNXFile.read(data, path: path)
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
