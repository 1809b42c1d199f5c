import Foundation

/// One hidden layer of an MLP as `--layers` spells it: "128:relu".
public struct HiddenLayerSpec: Equatable, Sendable {
    public var units: Int
    public var activation: Activation

    public init(units: Int, activation: Activation) {
        self.units = units
        self.activation = activation
    }

    /// Parses "128:relu,64:tanh" (an activation defaults to relu; "none" means no hidden layer).
    public static func parseList(_ text: String) throws -> [HiddenLayerSpec] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "none" { return [] }
        if trimmed.isEmpty {
            throw MLPError.setting("layers", problem: "is empty: give UNITS[:ACTIVATION] comma-separated, or 'none' for no hidden layer")
        }
        return try trimmed.split(separator: ",", omittingEmptySubsequences: false).map { item in
            let parts = item.split(separator: ":", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard (1...2).contains(parts.count), let units = Int(parts[0]), units > 0, units <= 65_536 else {
                throw MLPError.setting("layers", problem: "'\(item)' is not UNITS[:ACTIVATION] with 1 to 65536 units")
            }
            let name = parts.count == 2 ? parts[1] : "relu"
            guard let activation = Activation(kerasName: name) else {
                let known = Activation.allCases.map(\.rawValue).joined(separator: ", ")
                throw MLPError.setting("layers", problem: "unknown activation '\(name)' (known: \(known))")
            }
            return HiddenLayerSpec(units: units, activation: activation)
        }
    }
}

/// Keras's automatic layer names: "dense", "dense_1", "dense_2", ... per layer type.
struct LayerNamer {
    private var counts: [String: Int] = [:]

    mutating func next(_ base: String) -> String {
        let n = counts[base, default: 0]
        counts[base] = n + 1
        return n == 0 ? base : "\(base)_\(n)"
    }
}

extension Sequential {
    /// The notebook's family of models: hidden Dense layers, each followed by
    /// BatchNormalization when `batchNorm` and by Dropout when `dropout` > 0, then
    /// Dense(classes, softmax), initialised from `seed`.
    ///
    /// - Parameters:
    ///   - l2: Keras's `L2` kernel regularizer factor for every hidden Dense (0 for none).
    public static func mlp(inputShape: [Int], hidden: [HiddenLayerSpec], classes: Int, dropout: Float = 0,
                           l2: Float = 0, batchNorm: Bool = false, seed: UInt64) -> Sequential {
        var namer = LayerNamer()
        var layers: [Layer] = []
        var width = inputShape.reduce(1, *)
        if inputShape.count > 1 { layers.append(Flatten(name: namer.next("flatten"), inputShape: inputShape)) }
        for spec in hidden {
            layers.append(Dense(name: namer.next("dense"), inputs: width, units: spec.units, activation: spec.activation,
                                kernelRegularizer: l2 > 0 ? Regularizer(l2: l2) : nil))
            width = spec.units
            if batchNorm { layers.append(BatchNormalization(name: namer.next("batch_normalization"), shape: [width])) }
            if dropout > 0 { layers.append(Dropout(name: namer.next("dropout"), shape: [width], rate: dropout)) }
        }
        layers.append(Dense(name: namer.next("dense"), inputs: width, units: classes, activation: .softmax))
        let model = Sequential(inputShape: inputShape, layers: layers)
        model.initialize(seed: seed)
        return model
    }

    /// Seeds only the layers' random streams (Dropout's masks), each at training step `step`:
    /// for a model whose weights were loaded, going on from the step its optimizer reached. A
    /// fresh model's streams are these at step 0, so a resumed run draws the masks one run would have.
    public func seedStreams(_ seed: UInt64, step: Int = 0) {
        var generator = SeededGenerator(seed: seed ^ 0xD20_0D1E_5EED)
        for layer in layers { layer.seedStream(using: &generator, step: step) }
    }

    /// Draws every layer's initial weights (Dense's glorot-uniform kernels) and every random
    /// stream (Dropout's) from one seed, in layer order, so the same seed gives bit-identical weights.
    public func initialize(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        for layer in layers { layer.initialize(using: &generator) }
        seedStreams(seed)
    }
}
