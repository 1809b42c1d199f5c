import Foundation

/// Static int8 quantization in ONNX's QDQ format, as ONNX Runtime's `quantize_static(...,
/// quant_format=QuantFormat.QDQ, per_channel=True, weight_type=QuantType.QInt8,
/// activation_type=QuantType.QUInt8, calibrate_method=CalibrationMethod.MinMax)` makes it from
/// this toolchain's float32 export of the same model:
/// - every activation a quantized operator reads or writes gets a QuantizeLinear and
///   DequantizeLinear pair, uint8, its scale and zero point from the calibrated range
///   (`UInt8Quantization(min:max:)`); a softmax's output is given the range [0, 1];
/// - a ReLU after a Gemm is dropped: the Gemm's output takes the ReLU's range (zero point 0),
///   whose clipping is the ReLU;
/// - kernels are int8 per output channel, symmetric (scale `max|w| / 127`, zero point 0), the
///   scale raised where the bias would not fit int32; biases are int32 at scale
///   `inputScale · weightScale`, zero point 0;
/// - operators ONNX Runtime leaves in float (Tanh, Elu, Selu) read the dequantized values.
///
/// Models of Dense layers (with any activation written as one ONNX operator) and Dropout are
/// quantized; any other layer is refused by name.
public struct StaticQuantization {
    /// Each float-graph tensor's calibrated range, by name.
    public var ranges: [String: (min: Float, max: Float)] = [:]
    /// The float32 graph (`ONNXExport.graph`) the ranges are named in.
    public var graph: ONNXGraph

    /// Calibrates `model` on `images` (rows × inputWidth floats, as the model takes them).
    ///
    /// - Parameters:
    ///   - graph: the model's float32 graph, as `ONNXExport.graph(for:rawImages: nil, ...)` wrote it.
    ///   - source: the model file, named in errors.
    public init(model: Sequential, graph: ONNXGraph, images: [Float], source: String, batchSize: Int = 500) throws {
        self.graph = graph
        let (steps, value) = try Self.plan(model: model, source: source)
        let outputName = graph.outputs.first?.name ?? value
        let rows = images.count / max(model.inputWidth, 1)
        var ranges: [String: (min: Float, max: Float)] = [:]
        func record(_ name: String, _ values: UnsafePointer<Float>, count: Int) {
            let key = name == value ? outputName : name
            var (low, high) = ranges[key] ?? (.infinity, -.infinity)
            for i in 0..<count where !values[i].isNaN { (low, high) = (Swift.min(low, values[i]), Swift.max(high, values[i])) }
            ranges[key] = (low, high)
        }
        images.withUnsafeBufferPointer { all in
            var start = 0
            while start < rows {
                let count = Swift.min(batchSize, rows - start)
                var buffers: [UnsafeMutableBufferPointer<Float>] = []
                defer { buffers.forEach { $0.deallocate() } }
                var x = all.baseAddress! + start * model.inputWidth
                record("input", x, count: count * model.inputWidth)
                for step in steps {
                    let dense = step.layer
                    // The pre-activation as ONNX Runtime's float Gemm sums it, so that the
                    // ranges (and so the scales) are the ones quantize_static calibrates.
                    let z = preActivation(dense, x, rows: count)
                    let a = dense.activation == .linear ? z : activated(dense.activation, z, rows: count, width: dense.units)
                    if let name = step.preActivation { record(name, z.baseAddress!, count: count * dense.units) }
                    record(step.output, a.baseAddress!, count: count * dense.units)
                    buffers.append(z)
                    if dense.activation != .linear { buffers.append(a) }
                    x = UnsafePointer(a.baseAddress!)
                }
                start += count
            }
        }
        self.ranges = ranges
    }

    /// The Dense layers to quantize, each with its pre-activation's and output's names in the
    /// float graph (named as the export names them: the same names from a fresh graph), and the
    /// last layer's output name; any other layer is refused by name.
    public static func plan(model: Sequential, source: String) throws
        -> (steps: [(layer: Dense, preActivation: String?, output: String)], output: String)
    {
        var names = ONNXGraph(name: model.name)
        var value = "input"
        var steps: [(layer: Dense, preActivation: String?, output: String)] = []
        for layer in model.layers {
            let before = names.nodes.count
            value = try layer.export(to: &names, input: value)
            let added = Array(names.nodes[before...])
            switch layer {
            case is Dropout where added.isEmpty:
                continue
            case let dense as Dense where added.first?.op == "Gemm":
                if added.count > 2 || (added.count == 2 && !Self.singleOperatorActivations.contains(added[1].op)) {
                    throw MLPError.format(path: source, problem: "layer \(dense.name) ends in \(dense.activation.rawValue), which the ONNX "
                        + "graph writes as several operators; --quantize int8 takes Dense layers whose activation is one operator "
                        + "(relu, sigmoid, tanh, softmax, elu, selu, linear)")
                }
                steps.append((dense, added.count == 2 ? added[0].outputs[0] : nil, value))
            default:
                throw MLPError.format(path: source, problem: "has a \(layer.kerasClassName) layer (\(layer.name)); --quantize int8 takes "
                    + "models of Dense and Dropout layers")
            }
        }
        return (steps, value)
    }

    /// x · kernel + bias for `rows` rows, in a new buffer, summed as ONNX Runtime's CPU Gemm
    /// (MLAS) sums: blocks of inputs whose size follows MLAS's SGEMM strides (256 inputs by 128
    /// outputs, traded against each other for narrow products), each summed by fused
    /// multiply-adds in order and added to the bias-initialised output.
    func preActivation(_ dense: Dense, _ x: UnsafePointer<Float>, rows: Int) -> UnsafeMutableBufferPointer<Float> {
        let (k, n) = (dense.inputWidth, dense.units)
        var (strideN, strideK) = (128, 256)
        if n >= k {
            while strideK / 2 >= k { (strideN, strideK) = (strideN * 2, strideK / 2) }
        } else {
            while strideN > 16, strideN / 2 >= n { (strideN, strideK) = (strideN / 2, strideK * 2) }
        }
        let z = UnsafeMutableBufferPointer<Float>.allocate(capacity: rows * n)
        Kernels.gemmBlockedFMA(x, rows: rows, k: k, dense.kernel.value.pointer, n: n, bias: dense.bias.map { UnsafePointer($0.value.pointer) },
                               strideK: strideK, z.baseAddress!)
        return z
    }

    /// The activation of `z` in a new buffer: ReLU exactly as ONNX Runtime's, the others as
    /// this toolchain computes them.
    func activated(_ activation: Activation, _ z: UnsafeMutableBufferPointer<Float>, rows: Int, width: Int)
        -> UnsafeMutableBufferPointer<Float>
    {
        let a = UnsafeMutableBufferPointer<Float>.allocate(capacity: rows * width)
        if activation == .relu {
            for i in 0..<(rows * width) { a[i] = z[i] > 0 ? z[i] : 0 }
        } else {
            activation.forward(z.baseAddress!, a.baseAddress!, rows: rows, width: width)
        }
        return a
    }

    /// Activations the export writes as one operator, which the QDQ graph can surround.
    static let singleOperatorActivations: Set<String> = ["Relu", "Sigmoid", "Tanh", "Softmax", "Elu", "Selu"]
    /// Operators ONNX Runtime's QDQ quantizer quantizes (of those the export writes); the
    /// others stay float, reading dequantized values.
    static let quantizedOperators: Set<String> = ["Gemm", "Relu", "Sigmoid", "Softmax"]

    /// The QDQ graph.
    public func quantizedGraph() throws -> ONNXGraph {
        var out = ONNXGraph(name: graph.name)
        (out.inputs, out.outputs, out.metadata) = (graph.inputs, graph.outputs, graph.metadata)
        let initializers = Dictionary(graph.initializers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let graphOutputs = Set(graph.outputs.map(\.name))
        // The dequantized name of each quantized tensor, and its quantization.
        var dequantized: [String: String] = [:]
        var quantization: [String: UInt8Quantization] = [:]

        func pair(_ tensor: String, source: String, _ q: UInt8Quantization) {
            dequantized[tensor] = Self.appendPair(tensor, source: source, q, output: graphOutputs.contains(tensor), to: &out)
            quantization[tensor] = q
        }
        /// The name to read `tensor` by, quantizing it first (as an operator's input).
        func quantizedInput(_ tensor: String) throws -> String {
            if let name = dequantized[tensor] { return name }
            pair(tensor, source: tensor, try parameters(tensor))
            return dequantized[tensor]!
        }
        /// Where an operator writes `tensor` that is then quantized: itself, or for a graph
        /// output a name of its own, the output being the DequantizeLinear's.
        func producing(_ tensor: String) -> String { graphOutputs.contains(tensor) ? tensor + "_QuantizeLinear_Input" : tensor }

        var index = 0
        let nodes = graph.nodes
        while index < nodes.count {
            let node = nodes[index]
            index += 1
            switch node.op {
            case "Gemm":
                let input = try quantizedInput(node.inputs[0])
                guard let q = quantization[node.inputs[0]], let kernel = initializers[node.inputs[1]], kernel.shape.count == 2,
                      node.ints["transB", default: 0] == 0 else { throw MLPError.model("\(graph.name): its Gemm is not x · W + b") }
                let bias = node.inputs.count > 2 ? initializers[node.inputs[2]] : nil
                let weights = Int8Weights(kernel: kernel.floats, inputs: kernel.shape[0], units: kernel.shape[1],
                                          inputScale: q.scale, bias: bias?.floats)
                let inputs = [input] + Self.appendWeights(weights, kernel: kernel, bias: bias, to: &out)
                // A ReLU that alone reads the Gemm's output is dropped: the output takes its name and range.
                var result = node.outputs[0]
                if index < nodes.count, nodes[index].op == "Relu", nodes[index].inputs == [result],
                   nodes[(index + 1)...].allSatisfy({ !$0.inputs.contains(result) }), !graphOutputs.contains(result) {
                    result = nodes[index].outputs[0]
                    index += 1
                }
                out.nodes.append(ONNXGraph.Node(op: "Gemm", inputs: inputs, outputs: [producing(result)], ints: node.ints, floats: node.floats))
                pair(result, source: producing(result), try parameters(result))
            case "Softmax", "Sigmoid", "Relu":
                let input = try quantizedInput(node.inputs[0])
                let result = node.outputs[0]
                out.nodes.append(ONNXGraph.Node(op: node.op, inputs: [input], outputs: [producing(result)], ints: node.ints, floats: node.floats))
                pair(result, source: producing(result), try parameters(result, range: node.op == "Softmax" ? (0, 1) : nil))
            default:
                var float = node
                float.inputs = node.inputs.map { dequantized[$0] ?? $0 }
                out.nodes.append(float)
                out.initializers += node.inputs.compactMap { initializers[$0] }.filter { c in !out.initializers.contains { $0.name == c.name } }
            }
        }
        return out
    }
}

extension StaticQuantization {
    /// The quantization of a tensor calibrated to `range` (its recorded range by default).
    func parameters(_ tensor: String, range: (min: Float, max: Float)? = nil) throws -> UInt8Quantization {
        guard let range = range ?? ranges[tensor] else { throw MLPError.model("\(graph.name): no calibrated range for \(tensor)") }
        return UInt8Quantization(min: range.min, max: range.max)
    }

    /// Adds a tensor's QuantizeLinear and DequantizeLinear pair, reading `source`; returns the
    /// dequantized name (the tensor's own for a graph output).
    static func appendPair(_ tensor: String, source: String, _ q: UInt8Quantization, output: Bool, to out: inout ONNXGraph) -> String {
        let scale = out.constant(tensor + "_scale", [q.scale], shape: [])
        out.initializers.append(ONNXGraph.Tensor(name: tensor + "_zero_point", shape: [], uint8s: [q.zeroPoint]))
        let target = output ? tensor : tensor + "_DequantizeLinear_Output"
        out.nodes.append(ONNXGraph.Node(op: "QuantizeLinear", inputs: [source, scale, tensor + "_zero_point"],
                                        outputs: [tensor + "_QuantizeLinear_Output"]))
        out.nodes.append(ONNXGraph.Node(op: "DequantizeLinear", inputs: [tensor + "_QuantizeLinear_Output", scale, tensor + "_zero_point"],
                                        outputs: [target]))
        return target
    }

    /// Adds a Gemm's int8 kernel and int32 bias with their DequantizeLinear nodes (per output
    /// channel); returns the names the Gemm reads them by.
    static func appendWeights(_ weights: Int8Weights, kernel: ONNXGraph.Tensor, bias: ONNXGraph.Tensor?, to out: inout ONNXGraph) -> [String] {
        let name = kernel.name, units = weights.scales.count
        out.initializers.append(ONNXGraph.Tensor(name: name + "_quantized", shape: kernel.shape, int8s: weights.values))
        _ = out.constant(name + "_scale", weights.scales, shape: [units])
        out.initializers.append(ONNXGraph.Tensor(name: name + "_zero_point", shape: [units], int8s: [Int8](repeating: 0, count: units)))
        out.nodes.append(ONNXGraph.Node(op: "DequantizeLinear", inputs: [name + "_quantized", name + "_scale", name + "_zero_point"],
                                        outputs: [name + "_DequantizeLinear_Output"], ints: ["axis": 1]))
        guard let bias, let integers = weights.bias else { return [name + "_DequantizeLinear_Output"] }
        let quantized = bias.name + "_quantized"
        out.initializers.append(ONNXGraph.Tensor(name: quantized, shape: bias.shape, int32s: integers))
        _ = out.constant(quantized + "_scale", weights.biasScales, shape: [units])
        out.initializers.append(ONNXGraph.Tensor(name: quantized + "_zero_point", shape: [units], int32s: [Int32](repeating: 0, count: units)))
        out.nodes.append(ONNXGraph.Node(op: "DequantizeLinear", inputs: [quantized, quantized + "_scale", quantized + "_zero_point"],
                                        outputs: [bias.name], ints: ["axis": 0]))
        return [name + "_DequantizeLinear_Output", bias.name]
    }
}

/// A Gemm's kernel quantized per output channel and its bias to int32, as ONNX Runtime's QDQ
/// quantizer does it (see `StaticQuantization`).
struct Int8Weights {
    /// (inputs, units), row-major.
    var values: [Int8]
    /// One per unit.
    var scales: [Float]
    var bias: [Int32]?
    /// `inputScale · scale`, in float32, per unit.
    var biasScales: [Float]

    init(kernel: [Float], inputs: Int, units: Int, inputScale: Float, bias: [Float]?) {
        scales = (0..<units).map { unit in
            var (low, high) = (Float.infinity, -Float.infinity)
            for row in 0..<inputs { (low, high) = (min(low, kernel[row * units + unit]), max(high, kernel[row * units + unit])) }
            let absMax = max(abs(min(low, 0)), abs(max(high, 0)))
            let scale = (Double(absMax) - Double(-absMax)) / 254
            return scale < Double(Float.leastNormalMagnitude) ? 1 : Float(scale)
        }
        if let bias {
            // Raises a scale whose bias scale would put the bias outside int32 (ONNX Runtime's
            // `_adjust_weight_scale_for_int32_bias`, with its factor 1.0001).
            let range = Double(Int32.max) - Double(Int32.min + 1)
            for unit in 0..<units {
                let smallest = Double(Float(1.0001) * (2 * abs(bias[unit]))) / range
                let candidate = Double(inputScale) * Double(scales[unit])
                if candidate < smallest, candidate > 0 { scales[unit] = Float(Double(scales[unit]) * (smallest / candidate)) }
            }
        }
        var values = [Int8](repeating: 0, count: inputs * units)
        for row in 0..<inputs {
            for unit in 0..<units {
                let q = (kernel[row * units + unit] / scales[unit]).rounded(.toNearestOrEven)
                values[row * units + unit] = Int8(min(max(q, -128), 127))
            }
        }
        self.values = values
        biasScales = scales.map { inputScale * $0 }
        self.bias = bias.map { bias in
            zip(bias, biasScales).map { value, scale in
                let q = (Double(value) / Double(scale)).rounded(.toNearestOrEven)
                return Int32(min(max(q, Double(Int32.min)), Double(Int32.max)))
            }
        }
    }
}
