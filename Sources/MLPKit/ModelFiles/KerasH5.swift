import Foundation

/// Keras's legacy HDF5 model format, as matched pairs: `save` / `load` for whole models and
/// `saveWeights` / `loadWeights` for the `model_weights` group.
public enum KerasH5: RegisteredModelFormat {
    public static let name = "h5"
    public static let title = "Keras's HDF5 (.h5)"
    public static let extensions = [".h5", ".hdf5"]

    /// HDF5's signature at the start, or after a user block (at 512, 1024, 2048, ... bytes).
    public static func recognizes(_ bytes: Data) -> Bool { HDF5.signatureOffset(in: bytes) != nil }

    /// The Keras version written to files; the config is in the spelling both Keras 2 and 3 load.
    public static let kerasVersion = "3.15.1"
    static let provenancePrefix = "mlp_"

    // MARK: Saving

    /// Writes the model, its optimizer's state and its provenance, atomically: the file is
    /// built in memory and written by `AtomicFile`, so a full or read-only disk is one error
    /// and the previous file stays as it was.
    public static func save(_ saved: CompiledModel, to path: String) throws {
        try AtomicFile.temporaryPath(for: path)
        let image = try HDF5.locked { () throws -> Data in
            do {
                let root = try H5Group.createInMemory(displayPath: path)
                try root.setAttribute("keras_version", string: kerasVersion)
                try root.setAttribute("backend", string: "tensorflow")
                try root.setAttribute("model_config", string: ModelConfig.json(for: saved.model))
                for (key, value) in saved.record.saved(at: path).entries.sorted(by: { $0.key < $1.key }) {
                    try root.setAttribute(provenancePrefix + key, string: value)
                }
                try saveWeights(saved.model, to: try root.createGroup("model_weights"))
                if let optimizer = saved.optimizer {
                    let training: JSONValue = [
                        "loss": "categorical_crossentropy", "metrics": ["accuracy"], "loss_weights": .null,
                        "weighted_metrics": .null, "optimizer_config": .object(OptimizerConfig.object(for: optimizer)),
                    ]
                    try root.setAttribute("training_config", string: training.text)
                    try saveOptimizer(optimizer, model: saved.model, to: try root.createGroup("optimizer_weights"))
                }
                return try root.fileImage()
            }
        }
        try AtomicFile.write(image, to: path)
    }

    /// `model_weights`: `layer_names` in model order, one group per layer whose `weight_names`
    /// list the datasets beneath it (Keras 2 names: "dense/kernel:0").
    static func saveWeights(_ model: Sequential, to group: H5Group) throws {
        try group.setAttribute("layer_names", strings: model.layers.map(\.name))
        try group.setAttribute("backend", string: "tensorflow")
        try group.setAttribute("keras_version", string: kerasVersion)
        for layer in model.layers {
            let layerGroup = try group.createGroup(layer.name)
            let names = layer.parameters.map { "\(layer.name)/\($0.name):0" }
            try layerGroup.setAttribute("weight_names", strings: names)
            for (name, parameter) in zip(names, layer.parameters) {
                try layerGroup.writeDataset(name, floats: parameter.value.pointer, shape: parameter.shape)
            }
        }
    }

    /// `optimizer_weights` in Keras 3's layout: `weight_names` lists "<optimizer>/iteration",
    /// "<optimizer>/learning_rate", then each slot, in the optimizer's variable order.
    static func saveOptimizer(_ optimizer: Optimizer, model: Sequential, to group: H5Group) throws {
        let trainable = model.trainableParameters
        optimizer.build(for: trainable)
        let paths = variablePaths(model).filter { $0.parameter.trainable }.map(\.path)
        let names = optimizer.stateNames(variablePaths: paths).map { optimizer.kerasName + "/" + $0 }
        try group.setAttribute("weight_names", strings: names)
        try group.writeDataset(names[0], int64: Int64(optimizer.iterations))
        var slotNames = names.dropFirst()
        if optimizer.schedule == nil {
            var rate = optimizer.learningRate
            try group.writeDataset(names[1], floats: &rate, shape: [])
            slotNames = names.dropFirst(2)
        }
        let shapes = trainable.map(\.shape)
        let slotShapes = optimizer.slotGroups.flatMap { group in shapes.flatMap { shape in group.map { _ in shape } } }
        for (name, (buffer, shape)) in zip(slotNames, zip(optimizer.orderedSlots, slotShapes)) {
            try group.writeDataset(name, floats: buffer.pointer, shape: shape)
        }
    }

    /// Keras 3's variable paths, "sequential/dense/kernel", which name optimizer slots.
    static func variablePaths(_ model: Sequential) -> [(path: String, parameter: Parameter)] {
        model.layers.flatMap { layer in layer.parameters.map { ("\(model.name)/\(layer.name)/\($0.name)", $0) } }
    }

    // MARK: Loading

    /// Reads a model written by Keras 3, Keras 2 or this toolchain from the file's bytes.
    public static func load(_ bytes: Data, path: String) throws -> CompiledModel {
        try HDF5.locked {
            let root = try H5Group.open(image: bytes, displayPath: path)
            guard root.hasAttribute("model_config") || root.hasAttribute("model_config0") else {
                throw MLPError.format(path: path, problem: "no model_config attribute: this file holds weights only, not a Keras model")
            }
            let model = try ModelConfig.model(fromJSON: try root.string("model_config"), source: path,
                                              maximumParameters: min(root.valueLimit, ModelConfig.parameterLimit))
            let weights = root.contains("model_weights") ? try root.group("model_weights") : root
            try loadWeights(into: model, from: weights)

            var saved = CompiledModel(model: model)
            saved.kerasVersion = try? root.string("keras_version")
            saved.backend = try? root.string("backend")
            if root.hasAttribute("training_config") || root.hasAttribute("training_config0"),
               let text = try? root.string("training_config"),
               let object = JSONValue(parsing: text)?.object
            {
                saved.trainingConfig = object
                if let optimizerObject = object["optimizer_config"], optimizerObject.object != nil {
                    let (optimizer, problem) = OptimizerConfig.optimizer(from: optimizerObject)
                    saved.optimizer = optimizer
                    if let problem { saved.warnings.append(problem) }
                }
            }
            if let optimizer = saved.optimizer, root.contains("optimizer_weights") {
                do {
                    try loadOptimizer(optimizer, model: model, from: try root.group("optimizer_weights"))
                    saved.optimizerStateRestored = true
                } catch let error as MLPError {
                    optimizer.iterations = 0
                    optimizer.slots = []
                    saved.warnings.append("optimizer state not restored, training would start afresh: \(error)")
                }
            }
            var entries: [String: String] = [:]
            for name in try root.attributeNames() where name.hasPrefix(provenancePrefix) {
                entries[String(name.dropFirst(provenancePrefix.count))] = try? root.string(name)
            }
            saved.record = RunRecord(entries: entries)
            return saved
        }
    }

    /// The file's `model_config`, with its `training_config`'s optimizer and loss as a
    /// `compile_config` (the shape of a `.keras` file's `config.json`); weights are not read.
    public static func configObject(_ bytes: Data, path: String) throws -> [String: JSONValue] {
        try HDF5.locked {
            let root = try H5Group.open(image: bytes, displayPath: path)
            guard root.hasAttribute("model_config") || root.hasAttribute("model_config0") else {
                throw MLPError.format(path: path, problem: "no model_config attribute: this file holds weights only, not a Keras model")
            }
            guard var config = JSONValue(parsing: try root.string("model_config"))?.object else {
                throw MLPError.format(path: path, problem: "model_config is not a JSON object")
            }
            if root.hasAttribute("training_config") || root.hasAttribute("training_config0"),
               let text = try? root.string("training_config"),
               let training = JSONValue(parsing: text)
            {
                config["compile_config"] = ["optimizer": training["optimizer_config"] ?? .null, "loss": training["loss"] ?? .null]
            }
            return config
        }
    }

    /// Loads weights by position, as Keras does: the layers of the file that hold weights, in
    /// `layer_names` order, against the model's layers that hold weights; then each layer's
    /// weights in `weight_names` order. Counts and shapes must agree.
    static func loadWeights(into model: Sequential, from group: H5Group) throws {
        let path = group.path
        let layerNames = try group.strings("layer_names")
        // As Keras: every layer listed must have its group.
        if let missing = layerNames.first(where: { !group.contains($0) }) {
            throw MLPError.format(path: path, problem: "layer_names lists '\(missing)', which has no group in \(group.objectPath)")
        }
        let fileLayers = try layerNames.filter { !(try group.group($0).strings("weight_names")).isEmpty }
        let modelLayers = model.layers.filter { !$0.parameters.isEmpty }
        guard fileLayers.count == modelLayers.count else {
            throw MLPError.format(path: path, problem:
                "Layer count mismatch when loading weights from file. Model expected \(modelLayers.count) layers, "
                + "found \(fileLayers.count) saved layers.")
        }
        for (index, (fileName, layer)) in zip(fileLayers, modelLayers).enumerated() {
            let layerGroup = try group.group(fileName)
            let names = try layerGroup.strings("weight_names")
            guard names.count == layer.parameters.count else {
                throw MLPError.format(path: path, problem:
                    "Weight count mismatch for layer #\(index) (named \(layer.name)): expected \(layer.parameters.count), found \(names.count)")
            }
            for (name, parameter) in zip(names, layer.parameters) {
                let (values, shape) = try layerGroup.readFloats(name)
                guard shape == parameter.shape else {
                    throw MLPError.format(path: path, problem:
                        "Shape mismatch in layer #\(index) (named \(layer.name)) for weight \(name): "
                        + "weight expects shape \(parameter.shape). Received saved weight with shape \(shape)")
                }
                parameter.value.assign(values)
            }
        }
    }

    /// Reads `optimizer_weights` in Keras 3's layout (iteration, learning_rate, slots) or Keras 2's
    /// (iteration, slots), both in the optimizer's variable order.
    static func loadOptimizer(_ optimizer: Optimizer, model: Sequential, from group: H5Group) throws {
        let names = try group.strings("weight_names")
        let trainable = model.trainableParameters
        optimizer.slots = []
        optimizer.build(for: trainable)
        let slots = optimizer.orderedSlots
        let hasRate = names.count == slots.count + 2
        guard names.count == slots.count + (hasRate ? 2 : 1) else {
            throw MLPError.format(path: group.path, problem:
                "optimizer_weights holds \(names.count) variables, \(optimizer.kerasClassName) expects \(slots.count + 2)")
        }
        for (name, buffer) in zip(names.dropFirst(hasRate ? 2 : 1), slots) {
            let (values, _) = try group.readFloats(name)
            guard values.count == buffer.count else {
                throw MLPError.format(path: group.path, problem:
                    "optimizer variable \(name) holds \(values.count) values, expected \(buffer.count)")
            }
            buffer.assign(values)
        }
        optimizer.iterations = Int(try group.readInt64(names[0]))
        if hasRate, optimizer.schedule == nil {
            optimizer.learningRate = try group.readFloats(names[1]).values.first ?? optimizer.learningRate
        }
        if let schedule = optimizer.schedule { optimizer.learningRate = schedule.rate(at: optimizer.iterations) }
    }
}
