/// `activation`: the activation of every hidden layer.
public enum HiddenActivation: RegisteredHyperparameter {
    public static let key = "activation"
    public static let position = 3
    public static let kind = HyperparameterKind.names
    public static let help = "Activations of every hidden layer to search, A,B,C (default relu)."

    public static func check(_ distribution: Distribution) throws { try checkChoice(distribution, of: Activation.allCases.map(\.rawValue)) }

    public static func apply(_ value: HyperValue, to recipe: inout TrainingRecipe) {
        guard case .string(let name) = value, let activation = Activation(kerasName: name) else { return }
        recipe.changeLayers { hidden, _, _, _ in hidden = hidden.map { HiddenLayerSpec(units: $0.units, activation: activation) } }
    }
}
