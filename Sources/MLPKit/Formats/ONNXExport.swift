import Foundation

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
        for layer in model.layers { value = try layer.export(to: &graph, input: value) }
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
