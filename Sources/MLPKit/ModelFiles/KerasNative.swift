import Foundation

/// Keras 3's native `.keras` format: a zip of `metadata.json`, `config.json` (the model's
/// config with its `compile_config`) and `model.weights.h5` (`layers/<key>/vars/<i>` and
/// `optimizer/vars/<i>`), as Keras 3 and tf_keras write it.
public enum KerasNative: RegisteredModelFormat {
    public static let name = "keras"
    public static let title = "Keras 3's .keras zip"
    public static let extensions = [".keras"]

    /// A zip archive: its first local header, or the end record of an empty one.
    public static func recognizes(_ bytes: Data) -> Bool {
        bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) || bytes.starts(with: [0x50, 0x4B, 0x05, 0x06])
    }

    static let metadataName = "metadata.json", configName = "config.json", weightsName = "model.weights.h5"
    /// Where this toolchain's provenance goes in `metadata.json` (Keras reads only its version).
    static let provenanceKey = "mlp_provenance"
    /// The most bytes `config.json` or `metadata.json` may hold.
    static let jsonLimit = 64 << 20

    // MARK: Saving

    /// Writes the model, its optimizer's state and its provenance as a `.keras` zip, atomically:
    /// a full or read-only disk is one error and the previous file stays as it was.
    public static func save(_ saved: CompiledModel, to path: String) throws {
        try AtomicFile.temporaryPath(for: path)
        let weights = try HDF5.locked { () throws -> Data in
            let root = try H5Group.createInMemory(displayPath: path)
            try saveWeights(saved, to: root)
            return try root.fileImage()
        }
        var metadata: [String: JSONValue] = ["keras_version": .string(KerasH5.kerasVersion), "date_saved": .string(dateSaved())]
        let entries = saved.record.saved(at: path).entries
        if !entries.isEmpty { metadata[provenanceKey] = .object(entries.mapValues(JSONValue.string)) }
        var config = ModelConfig.object(for: saved.model)
        config["build_config"] = ["input_shape": ModelConfig.batchShape(saved.model.inputShape)]
        if let optimizer = saved.optimizer { config["compile_config"] = ModelConfig.compileConfig(for: optimizer) }
        let archive = try ZipArchive.archive([
            (metadataName, Data(JSONValue.object(metadata).text.utf8)), (configName, Data(JSONValue.object(config).text.utf8)),
            (weightsName, weights),
        ], path: path)
        try AtomicFile.write(archive, to: path)
    }

    /// "2026-11-29@03:20:01", as Keras stamps `date_saved`.
    static func dateSaved() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd@HH:mm:ss"
        return formatter.string(from: Date())
    }

    /// Keras's key for each layer of a Sequential model: its class in snake case, numbered from
    /// the second of a class on ("dense", "dense_1", "batch_normalization"), whatever the
    /// layers' own names.
    public static func layerKeys(_ model: Sequential) -> [String] {
        var used: [String: Int] = [:]
        return model.layers.map { layer in
            let base = snakeCase(layer.kerasClassName)
            defer { used[base, default: -1] += 1 }
            return used[base].map { "\(base)_\($0 + 1)" } ?? base
        }
    }

    /// "BatchNormalization" → "batch_normalization", as Keras's `to_snake_case`.
    static func snakeCase(_ name: String) -> String {
        var result = ""
        let characters = Array(name)
        for (index, character) in characters.enumerated() {
            if character.isUppercase, index > 0,
               characters[index - 1].isLowercase || (index + 1 < characters.count && characters[index + 1].isLowercase) {
                result += "_"
            }
            result += character.lowercased()
        }
        return result
    }

    static func saveWeights(_ saved: CompiledModel, to root: H5Group) throws {
        let model = saved.model
        for (key, layer) in zip(layerKeys(model), model.layers) {
            let vars = try root.createGroup("layers/\(key)/vars")
            try vars.setAttribute("name", string: layer.name)
            for (index, parameter) in layer.parameters.enumerated() {
                try vars.writeDataset(String(index), floats: parameter.value.pointer, shape: parameter.shape)
            }
        }
        if let optimizer = saved.optimizer {
            let vars = try root.createGroup("optimizer/vars")
            try vars.setAttribute("name", string: optimizer.kerasConfig()["name"] as? String ?? optimizer.kerasName)
            let trainable = model.trainableParameters
            optimizer.build(for: trainable)
            try vars.writeDataset("0", int64: Int64(optimizer.iterations))
            var next = 1
            if optimizer.schedule == nil {
                var rate = optimizer.learningRate
                try vars.writeDataset("1", floats: &rate, shape: [])
                next = 2
            }
            let shapes = trainable.map(\.shape)
            let slotShapes = optimizer.slotGroups.flatMap { group in shapes.flatMap { shape in group.map { _ in shape } } }
            for (buffer, shape) in zip(optimizer.orderedSlots, slotShapes) {
                try vars.writeDataset(String(next), floats: buffer.pointer, shape: shape)
                next += 1
            }
        }
        try root.createGroup("vars").setAttribute("name", string: model.name)
    }

    // MARK: Loading

    /// Reads a `.keras` file written by Keras 3, tf_keras or this toolchain; `data` is its bytes.
    public static func load(_ data: Data, path: String) throws -> CompiledModel {
        let archive = try ZipArchive.Reader(data: data, path: path)
        for name in [configName, weightsName] where archive.entry(name) == nil {
            throw MLPError.format(path: path, problem: "the .keras archive has no \(name)")
        }
        let config = try jsonObject(try archive.read(configName, limit: jsonLimit), member: configName, path: path)
        let metadata = try archive.entry(metadataName).map { _ in
            try jsonObject(try archive.read(metadataName, limit: jsonLimit), member: metadataName, path: path)
        } ?? [:]
        // A config that describes more weights than the weights member claims to hold is refused
        // before anything is allocated; then the member may hold the weights and up to three
        // optimizer slots each, and HDF5's bookkeeping, no more.
        let claimed = archive.entry(weightsName)!.size
        let model = try ModelConfig.model(from: config, source: "\(path) (\(configName))",
                                          maximumParameters: min(claimed / 4 + 1, ModelConfig.parameterLimit))
        let parameters = model.parameters.reduce(0) { $0 + $1.count }
        let weights = try archive.read(weightsName, limit: 16 * parameters + (4 << 20))
        var saved = CompiledModel(model: model)
        saved.kerasVersion = metadata["keras_version"]?.string
        saved.backend = nil
        if let provenance = metadata[provenanceKey]?.object {
            saved.record = RunRecord(entries: provenance.compactMapValues(\.string))
        }
        if let compiled = config["compile_config"]?.object {
            var training: [String: JSONValue] = ["loss": compiled["loss"] ?? .null, "metrics": compiled["metrics"] ?? .null]
            if let entry = compiled["optimizer"], !entry.isNull {
                let object: JSONValue? = entry.object != nil ? entry : entry.string.map { ["class_name": .string($0), "config": [:]] }
                if let object {
                    let (optimizer, problem) = OptimizerConfig.optimizer(from: object)
                    saved.optimizer = optimizer
                    if let problem { saved.warnings.append(problem) }
                    training["optimizer_config"] = optimizer.map { .object(OptimizerConfig.object(for: $0)) } ?? object
                } else {
                    saved.warnings.append("compile_config's optimizer is neither a name nor an object: not restored")
                }
            }
            saved.trainingConfig = training
        }
        try HDF5.locked {
            let root = try H5Group.open(image: weights, displayPath: "\(path) (\(weightsName))")
            try loadWeights(into: model, from: root)
            if let optimizer = saved.optimizer, root.contains("optimizer/vars") {
                do {
                    saved.optimizerStateRestored = try loadOptimizer(optimizer, model: model, from: try root.group("optimizer/vars"))
                } catch let error as MLPError {
                    optimizer.iterations = 0
                    optimizer.slots = []
                    saved.warnings.append("optimizer state not restored, training would start afresh: \(error)")
                }
            }
        }
        return saved
    }

    /// `config.json` of the `.keras` file whose bytes are `data`: the model's config with its
    /// `compile_config`, as a model config file gives them.
    public static func configObject(_ data: Data, path: String) throws -> [String: JSONValue] {
        let archive = try ZipArchive.Reader(data: data, path: path)
        return try jsonObject(try archive.read(configName, limit: jsonLimit), member: configName, path: path)
    }

    static func jsonObject(_ data: Data, member: String, path: String) throws -> [String: JSONValue] {
        guard let object = JSONValue(parsing: data)?.object else {
            throw MLPError.format(path: path, problem: "\(member) in the .keras archive is not a JSON object")
        }
        return object
    }

    /// The datasets "0", "1", ... of a `vars` group, in number order; any other name is refused.
    static func variableCount(_ vars: H5Group) throws -> Int {
        let names = try vars.memberNames()
        let numbers = names.compactMap { Int($0) }.sorted()
        guard numbers.count == names.count, numbers == Array(0..<numbers.count) else {
            throw MLPError.format(path: vars.path, problem: "\(vars.objectPath) holds \(names.sorted()), not variables numbered from 0")
        }
        return numbers.count
    }

    /// Each layer's variables from `layers/<key>/vars`, matched by Keras's key, in the layer's
    /// order; counts and shapes must agree, as Keras requires.
    static func loadWeights(into model: Sequential, from root: H5Group) throws {
        for (key, layer) in zip(layerKeys(model), model.layers) {
            guard root.contains("layers/\(key)/vars") else {
                if layer.parameters.isEmpty { continue }
                throw MLPError.format(path: root.path, problem:
                    "Layer '\(layer.name)' expected \(layer.parameters.count) variables, but the file has no layers/\(key)")
            }
            let vars = try root.group("layers/\(key)/vars")
            let count = try variableCount(vars)
            guard count == layer.parameters.count else {
                throw MLPError.format(path: root.path, problem:
                    "Layer '\(layer.name)' expected \(layer.parameters.count) variables, but received \(count) variables during loading. "
                    + "Expected: \(layer.parameters.map(\.name))")
            }
            for (index, parameter) in layer.parameters.enumerated() {
                let (values, shape) = try vars.readFloats(String(index))
                guard shape == parameter.shape else {
                    throw MLPError.format(path: root.path, problem:
                        "Shape mismatch in layer '\(layer.name)' for variable \(parameter.name): expected \(parameter.shape), "
                        + "received \(shape)")
                }
                parameter.value.assign(values)
            }
        }
    }

    /// `optimizer/vars`: iterations, then Keras 3's learning rate (absent with a schedule, and in
    /// tf_keras's files), then the slots in the optimizer's variable order. An optimizer that
    /// was never built saved its iterations alone: its slots start at zero. Returns whether
    /// slots were restored.
    static func loadOptimizer(_ optimizer: Optimizer, model: Sequential, from vars: H5Group) throws -> Bool {
        let count = try variableCount(vars)
        guard count >= 1 else { throw MLPError.format(path: vars.path, problem: "optimizer/vars holds no iterations") }
        optimizer.slots = []
        optimizer.build(for: model.trainableParameters)
        let slots = optimizer.orderedSlots
        let iterations = try vars.readInt64("0")
        guard iterations >= 0, iterations < Int64(Int32.max) else {
            throw MLPError.format(path: vars.path, problem: "optimizer iterations \(iterations) is out of range [0, \(Int32.max))")
        }
        let hasRate: Bool
        switch count {
        case 1: hasRate = false
        case 2 where slots.count != 1: hasRate = true  // Keras 3's unbuilt optimizer: iterations, learning rate
        case slots.count + 2: hasRate = true
        case slots.count + 1: hasRate = false
        default:
            throw MLPError.format(path: vars.path, problem:
                "optimizer/vars holds \(count) variables, \(optimizer.kerasClassName) expects \(slots.count + 2)")
        }
        let restored = slots.isEmpty || count > (hasRate ? 2 : 1)
        if restored {
            for (offset, buffer) in slots.enumerated() {
                let name = String(offset + (hasRate ? 2 : 1))
                let (values, _) = try vars.readFloats(name)
                guard values.count == buffer.count else {
                    throw MLPError.format(path: vars.path, problem:
                        "optimizer variable \(name) holds \(values.count) values, expected \(buffer.count)")
                }
                buffer.assign(values)
            }
        }
        optimizer.iterations = Int(iterations)
        if hasRate, optimizer.schedule == nil, let rate = try vars.readFloats("1").values.first, rate.isFinite, rate > 0 {
            optimizer.learningRate = rate
        }
        if let schedule = optimizer.schedule { optimizer.learningRate = schedule.rate(at: optimizer.iterations) }
        return restored
    }
}
