import Foundation

/// A layer that writes its inference computation into an ONNX graph. A new layer exports by
/// conforming here; `ONNXExport` walks the model.
public protocol ONNXExportable {
    /// Appends the layer's nodes, which read the value named `input`, and returns the name of
    /// the value they produce.
    func export(to graph: inout ONNXGraph, input: String) throws -> String
}

/// A whole model as an ONNX graph: a dynamic batch dimension, the input named `input` (or
/// `images` for raw images), the output `probabilities`, opset `ONNXFile.opset`.
public enum ONNXExport {
    /// The images `cifar100.load_data()` gives: uint8, [N, 32, 32, 3].
    public static let rawImageShape = [32, 32, 3]

    /// The graph of `model`'s inference.
    ///
    /// - Parameters:
    ///   - rawInput: take uint8 images [N, 32, 32, 3] and do the flattening and the division by
    ///     255 in the graph, as the training data was prepared.
    ///   - source: the model file, recorded in the metadata and named in errors.
    public static func graph(for model: Sequential, rawInput: Bool, source: String) throws -> ONNXGraph {
        var graph = ONNXGraph(name: model.name)
        var value: String
        if rawInput {
            let pixels = rawImageShape.reduce(1, *)
            guard model.inputWidth == pixels else {
                throw MLPError.model("\(source): --raw-input feeds 32×32×3 images (\(pixels) values), the model takes \(model.inputWidth)")
            }
            graph.inputs = [ONNXGraph.Value(name: "images", type: .uint8, shape: [nil] + rawImageShape.map { $0 })]
            let floats = graph.add("Cast", ["images"], stem: "pixels", ints: ["to": Int(ONNXGraph.ElementType.float.rawValue)])
            let scaled = graph.add("Div", [floats, graph.constant("pixel_scale", [255], shape: [])], stem: "scaled")
            let shape = graph.int64Constant("input_shape", [-1] + model.inputShape.map(Int64.init))
            value = graph.add("Reshape", [scaled, shape], stem: "input")
            graph.metadata["preprocessing"] = "uint8 images [N, 32, 32, 3], as cifar100.load_data() gives; scaled by 1/255 in the graph"
        } else {
            graph.inputs = [ONNXGraph.Value(name: "input", type: .float, shape: [nil] + model.inputShape.map { $0 })]
            value = "input"
            graph.metadata["preprocessing"] = "float32 pixels in [0, 1], each image flattened in height, width, channel order"
        }
        for layer in model.layers {
            guard let exportable = layer as? ONNXExportable else {
                throw MLPError.model("\(source): layer \(layer.name) (\(layer.kerasClassName)) has no ONNX export")
            }
            value = try exportable.export(to: &graph, input: value)
        }
        let output = model.endsInSoftmax ? "probabilities" : "outputs"
        if let last = graph.nodes.indices.last, graph.nodes[last].outputs == [value] {
            graph.nodes[last].outputs = [output]
        } else {
            graph.nodes.append(ONNXGraph.Node(op: "Identity", inputs: [value], outputs: [output]))
        }
        graph.outputs = [ONNXGraph.Value(name: output, type: .float, shape: [nil, model.outputWidth])]
        graph.metadata["source"] = URL(fileURLWithPath: source).lastPathComponent
        graph.metadata["classes"] = String(model.outputWidth)
        return graph
    }

    /// The ONNX file's bytes for `model`.
    ///
    /// - Parameters:
    ///   - rawInput: see `graph(for:rawInput:source:)`.
    ///   - source: the model file, for the metadata and errors.
    public static func data(for model: Sequential, rawInput: Bool, source: String) throws -> Data {
        ONNXFile.serialize(try graph(for: model, rawInput: rawInput, source: source), producerVersion: mlpVersion)
    }
}

extension ONNXGraph {
    /// Adds an int64 constant and returns its name.
    mutating func int64Constant(_ name: String, _ values: [Int64]) -> String {
        initializers.append(Tensor(name: name, shape: [values.count], int64s: values))
        return name
    }
}

extension Activation {
    /// Appends this activation applied to `input`; returns the output's name (`input` itself
    /// for linear).
    func export(to graph: inout ONNXGraph, input: String, stem: String) -> String {
        switch self {
        case .linear: return input
        case .relu: return graph.add("Relu", [input], stem: stem)
        case .sigmoid: return graph.add("Sigmoid", [input], stem: stem)
        case .tanh: return graph.add("Tanh", [input], stem: stem)
        case .softmax: return graph.add("Softmax", [input], stem: stem, ints: ["axis": -1])
        case .elu: return graph.add("Elu", [input], stem: stem, floats: ["alpha": 1])
        case .selu: return graph.add("Selu", [input], stem: stem, floats: ["alpha": Self.seluAlpha, "gamma": Self.seluScale])
        case .swish:
            let gate = graph.add("Sigmoid", [input], stem: stem + "/sigmoid")
            return graph.add("Mul", [input, gate], stem: stem)
        case .gelu:
            // 0.5 · x · (1 + erf(x · √½)), Keras's exact gelu, as it is computed here.
            let root = graph.constant(graph.fresh(stem + "/sqrt_half"), [Float(0.5.squareRoot())], shape: [])
            let one = graph.constant(graph.fresh(stem + "/one"), [1], shape: [])
            let half = graph.constant(graph.fresh(stem + "/half"), [0.5], shape: [])
            let erf = graph.add("Erf", [graph.add("Mul", [input, root], stem: stem + "/scaled")], stem: stem + "/erf")
            let gate = graph.add("Add", [erf, one], stem: stem + "/gate")
            return graph.add("Mul", [graph.add("Mul", [input, half], stem: stem + "/half_x"), gate], stem: stem)
        }
    }
}

extension Dense: ONNXExportable {
    /// Gemm (MatMul and Add for inputs of more than one axis), then the activation.
    public func export(to graph: inout ONNXGraph, input: String) throws -> String {
        let weights = graph.constant("\(name)/kernel", kernel.value.array, shape: kernel.shape)
        var output: String
        if inputShape.count == 1 {
            var inputs = [input, weights]
            if let bias { inputs.append(graph.constant("\(name)/bias", bias.value.array, shape: bias.shape)) }
            output = graph.add("Gemm", inputs, stem: "\(name)/gemm")
        } else {
            output = graph.add("MatMul", [input, weights], stem: "\(name)/matmul")
            if let bias { output = graph.add("Add", [output, graph.constant("\(name)/bias", bias.value.array, shape: bias.shape)], stem: "\(name)/add") }
        }
        return activation.export(to: &graph, input: output, stem: "\(name)/\(activation.rawValue)")
    }
}

extension BatchNormalization: ONNXExportable {
    /// Folded into one multiply and one add over the last axis, from the moving statistics:
    /// `x · gamma / sqrt(variance + epsilon) + (beta - mean · gamma / sqrt(variance + epsilon))`.
    public func export(to graph: inout ONNXGraph, input: String) throws -> String {
        func values(_ parameter: String) -> [Float]? { parameters.first { $0.name == parameter }?.value.array }
        let mean = values("moving_mean") ?? [], variance = values("moving_variance") ?? []
        let gamma = values("gamma") ?? [Float](repeating: 1, count: mean.count)
        let beta = values("beta") ?? [Float](repeating: 0, count: mean.count)
        let multiplier = (0..<mean.count).map { gamma[$0] / (variance[$0] + epsilon).squareRoot() }
        let offset = (0..<mean.count).map { beta[$0] - mean[$0] * multiplier[$0] }
        let scaled = graph.add("Mul", [input, graph.constant("\(name)/multiplier", multiplier, shape: [mean.count])], stem: "\(name)/mul")
        return graph.add("Add", [scaled, graph.constant("\(name)/offset", offset, shape: [mean.count])], stem: "\(name)/add")
    }
}

extension Dropout: ONNXExportable {
    /// Nothing: dropout is the identity at inference.
    public func export(to graph: inout ONNXGraph, input: String) throws -> String { input }
}

extension Flatten: ONNXExportable {
    public func export(to graph: inout ONNXGraph, input: String) throws -> String {
        graph.add("Flatten", [input], stem: "\(name)/flatten", ints: ["axis": 1])
    }
}

extension Rescaling: ONNXExportable {
    /// `x · scale + offset`.
    public func export(to graph: inout ONNXGraph, input: String) throws -> String {
        var output = graph.add("Mul", [input, graph.constant("\(name)/scale", [scale], shape: [])], stem: "\(name)/mul")
        if offset != 0 { output = graph.add("Add", [output, graph.constant("\(name)/offset", [offset], shape: [])], stem: "\(name)/add") }
        return output
    }
}

extension ActivationLayer: ONNXExportable {
    public func export(to graph: inout ONNXGraph, input: String) throws -> String {
        activation.export(to: &graph, input: input, stem: "\(name)/\(activation.rawValue)")
    }
}
