import Foundation

/// A trial's hyperparameters, by key; in JSON, an object of the values.
public struct HyperparameterValues: Sendable, Hashable, Codable {
    public private(set) var values: [String: HyperValue]

    /// Numbers take their key's type (see `RegisteredHyperparameter.normalized`).
    public init(values: [String: HyperValue]) {
        self.values = Dictionary(uniqueKeysWithValues: values.map { key, value in (key, Hyperparameters.named(key)?.normalized(value) ?? value) })
    }

    public init(from decoder: Decoder) throws {
        self.init(values: try [String: HyperValue](from: decoder))
    }

    public func encode(to encoder: Encoder) throws { try values.encode(to: encoder) }

    /// The value of `key`, nil when the trial has none.
    public subscript(key: String) -> HyperValue? { values[key] }

    /// The training these values describe, on top of `base` (validation, seed, callbacks): each
    /// hyperparameter sets its value, in position order (the number of hidden layers before
    /// their width and activation).
    public func apply(to base: TrainingRecipe) -> TrainingRecipe {
        var recipe = base
        if case .fresh(.layers) = recipe.start {} else { recipe.start = .fresh(.layers([])) }
        for type in Hyperparameters.all {
            if let value = values[type.key] { type.apply(value, to: &recipe) }
        }
        return recipe
    }

    /// "learning_rate=0.0031, layers=2, units=256, ..." in position order.
    public var summary: String {
        Hyperparameters.keys.compactMap { key in values[key].map { "\(key)=\(format($0))" } }.joined(separator: ", ")
    }

    private func format(_ value: HyperValue) -> String {
        if case .double(let v) = value { return String(format: abs(v) < 0.01 && v != 0 ? "%.3g" : "%.4g", v) }
        return value.description
    }
}

extension TrainingRecipe {
    /// Changes the hidden layers, dropout, L2 factor and batch normalization of a recipe built
    /// from layers; one built from a model file is left as it is.
    public mutating func changeLayers(_ change: (inout [HiddenLayerSpec], inout Float, inout Float, inout Bool) -> Void) {
        guard case .fresh(.layers(var hidden, var dropout, var l2, var batchNorm)) = start else { return }
        change(&hidden, &dropout, &l2, &batchNorm)
        start = .fresh(.layers(hidden, dropout: dropout, l2: l2, batchNorm: batchNorm))
    }
}
