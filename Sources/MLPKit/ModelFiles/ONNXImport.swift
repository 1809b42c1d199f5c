import Foundation

/// Reads an ONNX classifier back into layers that run on this toolchain's engine, for
/// `mlp-eval MODEL.onnx`: this toolchain's float32 exports, and graphs of the same operators
/// (Gemm, MatMul and Add, Relu, Sigmoid, Tanh, Softmax, Elu, Selu, swish and Keras's exact gelu
/// as `mlp-export` writes them, BatchNormalization or its Mul and Add, Flatten, Reshape,
/// Identity, Dropout, and the uint8 prelude Cast, Div by 255, Reshape), and int8 QDQ graphs of
/// them (QuantizeLinear and DequantizeLinear, as `mlp-export --quantize int8` and ONNX Runtime's
/// `quantize_static` write them), computed as ONNX Runtime computes them (`QuantizedDense`,
/// `QuantizedSoftmax`). The graph must be one chain from its input to its output; an operator
/// outside that set is refused by name.
public enum ONNXImport {
    typealias Node = ONNXFile.ReadNode

    /// The model in `data`, its record made from the file's metadata (`class_names`,
    /// `input_scale`, `dataset_sha256`) and, when the file it was exported from is beside it,
    /// from that file's record (its data).
    public static func load(_ data: Data, path: String) throws -> CompiledModel {
        let (nodes, constants, integers, input) = try ONNXFile.read(data, path: path)
        var chain = Chain(nodes: nodes, constants: constants, path: path)
        chain.integers = integers.mapValues(\.values)
        chain.signedConstants = Set(integers.filter { $0.value.type == ONNXGraph.ElementType.int8.rawValue }.keys)
        chain.bytes = Set(integers.filter { $0.value.type == ONNXGraph.ElementType.uint8.rawValue }.keys)
        try chain.takeQuantizedConstants()
        let model = try chain.sequential(input: input.name, shape: input.shape)
        var saved = CompiledModel(model: model)
        let description = try ONNXFile.describe(data, path: path)
        let metadata = description.metadata
        saved.record = record(metadata: metadata, path: path, model: model)
        if metadata["mlp_version"] == nil {
            saved.producer = description.producer.isEmpty ? "an ONNX file's unnamed producer" : description.producer
        }
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
        var nodes: [Node]
        var constants: [String: (shape: [Int], values: [Float])]
        let path: String
        /// The integer constants, exactly.
        var integers: [String: [Int32]] = [:]
        /// Constants an int8 model dequantizes (its weights and biases), by the dequantized name.
        var quantized: [String: QuantizedConstant] = [:]
        /// The quantization the current value is on: from a QuantizeLinear and DequantizeLinear
        /// pair, or an int8 layer's output.
        var grid: UInt8Quantization?
        /// Whether `grid` comes from a pair not yet applied (a float value rounded there).
        var gridPending = false
        /// An int8 Gemm read, waiting for its output's quantization.
        var int8Product: (input: UInt8Quantization, weights: [Int8], inputs: Int, units: Int, scales: [Float], bias: [Int32])?
        /// A softmax of quantized values read, waiting for its output's quantization.
        var int8Softmax: UInt8Quantization?
        /// An Add of a uint8 constant to quantized values, waiting for its output's quantization.
        var int8Add: (input: UInt8Quantization, constant: [UInt8], quantization: UInt8Quantization)?
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

        /// A weight or bias of an int8 model: its integers, and per-channel (or one) scales and zero points.
        struct QuantizedConstant {
            var shape: [Int]
            var values: [Int32]
            var scales: [Float]
            var zeroPoints: [Int32]
            /// The axis the scales run along.
            var axis: Int
            /// Whether its integers are uint8 (else int8, or int32 for a bias).
            var isByte = false
        }

        /// Takes the DequantizeLinear nodes of constants out of the chain: each becomes a
        /// quantized constant, and its float values a constant.
        mutating func takeQuantizedConstants() throws {
            var kept: [Node] = []
            for node in nodes {
                guard node.op == "DequantizeLinear", let source = node.inputs.first, let values = integers[source],
                      let shape = constants[source]?.shape else {
                    kept.append(node)
                    continue
                }
                guard node.inputs.count >= 2, let scales = constants[node.inputs[1]]?.values, !scales.isEmpty else {
                    throw fail("its DequantizeLinear of \(source) has no scale")
                }
                let zeroPoints = node.inputs.count > 2 ? integers[node.inputs[2]] ?? [] : [Int32](repeating: 0, count: scales.count)
                let axis = node.ints["axis", default: 1]
                let along = axis < 0 ? axis + shape.count : axis
                let channels = scales.count == 1 ? 1 : (shape.indices.contains(along) ? shape[along] : -1)
                guard zeroPoints.count == scales.count, channels == scales.count else {
                    throw fail("its DequantizeLinear of \(source) has \(scales.count) scales and \(zeroPoints.count) zero points for shape \(shape)")
                }
                let stride = scales.count == 1 ? 1 : shape[(along + 1)...].reduce(1, *)
                var constant = QuantizedConstant(shape: shape, values: values, scales: scales, zeroPoints: zeroPoints, axis: along)
                constant.isByte = bytes.contains(source)
                let output = node.outputs.first ?? ""
                quantized[output] = constant
                constants[output] = (shape, values.indices.map { index in
                    let c = scales.count == 1 ? 0 : (index / stride) % scales.count
                    return Float(values[index] - zeroPoints[c]) * scales[c]
                })
            }
            nodes = kept
        }

        /// The uint8 quantization a QuantizeLinear node applies, per tensor.
        func activationQuantization(_ node: Node) throws -> UInt8Quantization {
            guard node.inputs.count > 1, let scale = constants[node.inputs[1]]?.values, scale.count == 1, scale[0] > 0, scale[0].isFinite else {
                throw fail("its \(node.op) of \(node.inputs.first ?? "") is not per tensor with a positive, finite scale")
            }
            let zero = node.inputs.count > 2 ? node.inputs[2] : ""
            guard zero.isEmpty || (integers[zero]?.count == 1 && constants[zero] != nil) else {
                throw fail("its \(node.op) of \(node.inputs.first ?? "") has no zero point of one value")
            }
            let point = integers[zero]?.first ?? 0
            guard (0...255).contains(point), zero.isEmpty || !isSigned(zero) else {
                throw fail("its \(node.op) of \(node.inputs.first ?? "") quantizes to int8; activations in uint8 are read")
            }
            return UInt8Quantization(scale: scale[0], zeroPoint: UInt8(point))
        }

        func isSigned(_ name: String) -> Bool { signedConstants.contains(name) }

        /// Names of the int8 constants, and of the uint8 ones.
        var signedConstants: Set<String> = []
        var bytes: Set<String> = []

        /// A QuantizeLinear and the DequantizeLinear after it: the output of a pending int8
        /// layer, or a float value rounded.
        mutating func quantizePair(_ node: Node, _ next: Node?) throws {
            guard let next, next.op == "DequantizeLinear", next.inputs.first == node.outputs.first,
                  Array(next.inputs.dropFirst()) == Array(node.inputs.dropFirst()) else {
                throw fail("its QuantizeLinear of \(node.inputs.first ?? "") is not followed by its DequantizeLinear")
            }
            let q = try activationQuantization(node)
            if let product = int8Product {
                layers.append(QuantizedDense(name: name("quantized_dense"), input: product.input, weights: product.weights,
                                             inputs: product.inputs, units: product.units, weightScales: product.scales,
                                             bias: product.bias, output: q))
                (int8Product, grid, gridPending) = (nil, q, false)
            } else if let input = int8Softmax {
                layers.append(QuantizedSoftmax(name: name("quantized_softmax"), width: width, input: input, output: q))
                (int8Softmax, grid, gridPending) = (nil, q, false)
            } else if let add = int8Add {
                layers.append(QuantizedAdd(name: name("quantized_add"), input: add.input, constant: add.constant,
                                           constantQuantization: add.quantization, output: q))
                (int8Add, grid, gridPending) = (nil, q, false)
            } else {
                try flush()
                (grid, gridPending) = (q, true)
            }
        }

        /// Applies a pending rounding before a float operator reads the value.
        mutating func applyGrid() {
            if let grid, gridPending { layers.append(QuantizeDequantize(name: name("quantize_dequantize"), shape: [width], quantization: grid)) }
            (grid, gridPending) = (nil, false)
        }

        /// A Gemm of int8 weights: x · W + b in integers, its output quantized by the pair after it.
        mutating func int8Gemm(_ node: Node, weights: QuantizedConstant) throws {
            try flush()
            guard let input = grid else { throw fail("its \(node.op) of int8 weights reads values that are not quantized") }
            guard weights.shape.count == 2, node.ints["transA", default: 0] == 0, node.floats["alpha", default: 1] == 1,
                  node.floats["beta", default: 1] == 1, weights.values.allSatisfy({ (-128...127).contains($0) }),
                  weights.zeroPoints.allSatisfy({ $0 == 0 }) else {
                throw fail("its int8 \(node.op) is not x · W + b with symmetric int8 weights")
            }
            let transposed = node.ints["transB", default: 0] == 1
            let (inputs, units) = transposed ? (weights.shape[1], weights.shape[0]) : (weights.shape[0], weights.shape[1])
            // Per output channel: the axis of the units.
            guard weights.scales.count == 1 || weights.axis == (transposed ? 0 : 1) else {
                throw fail("its int8 Gemm's weights are quantized along the inputs, not per output channel")
            }
            var values = weights.values.map { Int8($0) }
            if transposed { values = (0..<(inputs * units)).map { values[($0 % units) * inputs + $0 / units] } }
            let scales = weights.scales.count == 1 ? [Float](repeating: weights.scales[0], count: units) : weights.scales
            var bias = [Int32](repeating: 0, count: units)
            if node.inputs.count > 2, !node.inputs[2].isEmpty {
                // ONNX Runtime sums an int32 bias at scale inputScale · weightScale into the products.
                guard let b = quantized[node.inputs[2]], b.values.count == units, b.zeroPoints.allSatisfy({ $0 == 0 }),
                      zip(b.scales.count == 1 ? [Float](repeating: b.scales[0], count: units) : b.scales, scales)
                        .allSatisfy({ abs($0 - input.scale * $1) <= 1e-6 * abs($0) }) else {
                    throw fail("its int8 Gemm's bias is not int32 at the input's scale times the weights' scale")
                }
                bias = b.values
            }
            if width == 0 { width = inputs }
            guard inputs == width else { throw fail("its \(node.op) node takes \(inputs) values where \(width) come") }
            int8Product = (input, values, inputs, units, scales, bias)
            (width, gridPending) = (units, false)
        }

        /// An Add of a uint8 constant (per tensor, one value per column) to quantized values,
        /// its output quantized by the pair after it: ONNX Runtime's QLinearAdd.
        mutating func int8AddOf(_ constant: QuantizedConstant) throws {
            guard let input = grid, constant.isByte, constant.values.count == width, constant.scales.count == 1,
                  constant.values.allSatisfy({ (0...255).contains($0) }),
                  (0...255).contains(constant.zeroPoints[0]), constant.scales[0] > 0 else {
                throw fail("its Add of a quantized constant is not of \(width) uint8 values with one scale to quantized values")
            }
            int8Add = (input, constant.values.map { UInt8($0) }, UInt8Quantization(scale: constant.scales[0], zeroPoint: UInt8(constant.zeroPoints[0])))
            gridPending = false
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
            guard int8Product == nil, int8Softmax == nil, int8Add == nil else { throw fail("its int8 output is not dequantized") }
            try flush()
            applyGrid()
            guard let first = layers.first else { throw fail("holds no layer") }
            return Sequential(name: "sequential", inputShape: first.inputShape, layers: layers)
        }

        /// Reads the node when it is a QDQ graph's (a QuantizeLinear pair, an int8 Gemm, a
        /// softmax of quantized values); returns how many nodes it read, or nil for the others
        /// (applying a pending rounding before a float operator).
        mutating func readQuantized(_ node: Node, next: Node?) throws -> Int? {
            if int8Product != nil || int8Softmax != nil || int8Add != nil, node.op != "QuantizeLinear" {
                throw fail("its int8 \(int8Product != nil ? "product" : int8Add != nil ? "Add" : "Softmax") is followed by \(node.op), "
                    + "not by the QuantizeLinear of its output")
            }
            switch node.op {
            case "QuantizeLinear":
                try quantizePair(node, next)
                return 2
            case "DequantizeLinear":
                throw fail("its DequantizeLinear of \(node.inputs.first ?? "") follows no QuantizeLinear")
            case "Gemm" where quantized[node.inputs.count > 1 ? node.inputs[1] : ""] != nil,
                 "MatMul" where quantized[node.inputs.count > 1 ? node.inputs[1] : ""] != nil:
                try int8Gemm(node, weights: quantized[node.inputs[1]]!)
                return 1
            case "Add" where grid != nil && next?.op == "QuantizeLinear" && node.inputs.contains(where: { quantized[$0] != nil }):
                try flush()
                try int8AddOf(quantized[node.inputs.first { quantized[$0] != nil }!]!)
                return 1
            case "Sigmoid" where grid != nil && next?.op == "QuantizeLinear":
                // Between a QDQ pair, as ONNX Runtime computes it: the next rounding follows its last bits.
                applyGrid()
                layers.append(RuntimeSigmoid(name: name("sigmoid"), width: width))
                return 1
            case "Softmax" where grid != nil && next?.op == "QuantizeLinear":
                try flush()
                _ = try activation(node)
                (int8Softmax, gridPending) = (grid, false)
                return 1
            case "Cast", "Identity", "Dropout", "Reshape", "Flatten":
                return nil
            default:
                applyGrid()
                return nil
            }
        }

        /// Reads the node at `index` (and the ones after it that make one activation with it);
        /// returns how many nodes it read.
        mutating func read(_ node: Node, at index: Int, current: String) throws -> Int {
            let next = index + 1 < nodes.count ? nodes[index + 1] : nil
            if let used = try readQuantized(node, next: next) { return used }
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
                    + "Relu, Sigmoid, Tanh, Softmax, Elu, Selu, Erf as gelu, BatchNormalization, Flatten, Reshape, Cast, Div, Identity, Dropout, "
                    + "QuantizeLinear, DequantizeLinear)")
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
