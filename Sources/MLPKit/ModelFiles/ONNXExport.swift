import Foundation

/// A whole model as an ONNX graph: a dynamic batch dimension, the input named `input` (or
/// `images` for raw images), the output `probabilities`, opset `ONNXFile.opset`.
public enum ONNXExport {
    /// The images `cifar100.load_data()` gives: uint8, [N, 32, 32, 3].
    public static let rawImageShape = [32, 32, 3]

    /// The shape of the raw uint8 images `--raw-input` takes for `model`: the one its file
    /// records, else its own input shape when that has image axes, else CIFAR's 32×32×3 for a
    /// model of 3,072 inputs.
    ///
    /// - Parameters:
    ///   - input: what the model's file records of its inputs, if anything.
    ///   - source: the model file, named in errors.
    public static func rawShape(for model: Sequential, input: InputRecord?, source: String) throws -> [Int] {
        if let input {
            guard input.isImage else {
                throw MLPError.format(path: source, problem: "was trained on \(input.description), not images: --raw-input takes images")
            }
            return input.shape
        }
        if model.inputShape.count > 1 { return model.inputShape }
        guard model.inputWidth == rawImageShape.reduce(1, *) else {
            throw MLPError.format(path: source, problem: "records no image shape and takes \(model.inputWidth) values, not 32×32×3 "
                + "images: --raw-input needs the image shape a model of this toolchain records")
        }
        return rawImageShape
    }

    /// The graph of `model`'s inference.
    ///
    /// - Parameters:
    ///   - rawImages: the shape of the uint8 images [N, ...] the graph takes, doing the
    ///     flattening and the division by 255 in the graph, as the training data was prepared
    ///     (`rawShape`); nil for float32 inputs in [0, 1].
    ///   - source: the model file, recorded in the metadata and named in errors.
    ///   - input: what the model file records of its inputs: its class names go into the
    ///     metadata as `class_names` (a JSON list), its preprocessing as `input_scale`.
    ///   - datasetSHA256: the recorded digest of the training data, as `dataset_sha256`.
    public static func graph(for model: Sequential, rawImages: [Int]?, source: String,
                             input: InputRecord? = nil, datasetSHA256: String? = nil) throws -> ONNXGraph {
        var graph = ONNXGraph(name: model.name)
        var value: String
        if let rawImages {
            let pixels = rawImages.reduce(1, *)
            guard model.inputWidth == pixels else {
                throw MLPError.model("\(source): --raw-input feeds \(InputRecord.shapeText(rawImages)) images, the model takes \(model.inputWidth) values")
            }
            graph.inputs = [ONNXGraph.Value(name: "images", type: .uint8, shape: [nil] + rawImages.map { $0 })]
            let floats = graph.add("Cast", ["images"], stem: "pixels", ints: ["to": Int(ONNXGraph.ElementType.float.rawValue)])
            let scaled = graph.add("Div", [floats, graph.constant("pixel_scale", [255], shape: [])], stem: "scaled")
            let shape = graph.int64Constant("input_shape", [-1] + model.inputShape.map(Int64.init))
            value = graph.add("Reshape", [scaled, shape], stem: "input")
            let dims = ([nil] + rawImages.map { $0 }).map { $0.map(String.init) ?? "N" }.joined(separator: ", ")
            graph.metadata["preprocessing"] = "uint8 images [\(dims)], channels last; scaled by 1/255 in the graph"
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
        graph.metadata["mlp_version"] = mlpVersion
        // What one unit of the graph's input is in pixel values: raw images go in as they are;
        // float inputs are pixels times 1/255 (or features, as they are).
        let rescaled = rawImages == nil && (input.map { $0.preprocessing == .rescale255 } ?? true)
        graph.metadata["input_scale"] = rescaled ? pythonFloat(1.0 / 255) : "1"
        if let names = input?.classNames, names.count == model.outputWidth { graph.metadata["class_names"] = JSONValue(names).text }
        if let digest = datasetSHA256 { graph.metadata["dataset_sha256"] = digest }
        return graph
    }

    /// The ONNX file's bytes for `model`.
    ///
    /// - Parameters:
    ///   - rawImages: see `graph(for:rawImages:source:)`.
    ///   - source: the model file, for the metadata and errors.
    ///   - input, datasetSHA256: see `graph(for:rawImages:source:input:datasetSHA256:)`.
    public static func data(for model: Sequential, rawImages: [Int]?, source: String,
                            input: InputRecord? = nil, datasetSHA256: String? = nil) throws -> Data {
        let graph = try graph(for: model, rawImages: rawImages, source: source, input: input, datasetSHA256: datasetSHA256)
        return ONNXFile.serialize(graph, producerVersion: mlpVersion)
    }
}
