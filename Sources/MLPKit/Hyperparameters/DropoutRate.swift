/// `dropout`: the rate of a Dropout after each hidden layer.
public enum DropoutRate: RegisteredHyperparameter {
    public static let key = "dropout"
    public static let position = 4
    public static let kind = HyperparameterKind.real(.linear)
    public static let help = "Dropout rates after each hidden layer to search, LOW:HIGH or A,B,C."

    public static func check(_ distribution: Distribution) throws { try checkNumbers(distribution, in: 0...0.95, "[0, 0.95]") }

    public static func apply(_ value: HyperValue, to recipe: inout TrainingRecipe) {
        guard let rate = value.number else { return }
        recipe.changeLayers { _, dropout, _, _ in dropout = Float(rate) }
    }
}
