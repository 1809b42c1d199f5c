/// `units`: the width of every hidden layer, as KerasTuner's usual MLP search draws one.
public enum HiddenUnits: RegisteredHyperparameter {
    public static let key = "units"
    public static let position = 2
    public static let kind = HyperparameterKind.integer
    public static let help = "Units of every hidden layer to search, A,B,C or LOW:HIGH."

    public static func check(_ distribution: Distribution) throws { try checkNumbers(distribution, in: 1...65_536, "1 to 65536 units") }

    public static func apply(_ value: HyperValue, to recipe: inout TrainingRecipe) {
        guard let units = value.number.flatMap({ Int(exactly: $0) }) else { return }
        recipe.changeLayers { hidden, _, _, _ in hidden = hidden.map { HiddenLayerSpec(units: units, activation: $0.activation) } }
    }
}
