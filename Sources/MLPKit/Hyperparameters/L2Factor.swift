/// `l2`: Keras's L2 penalty on every hidden Dense's kernel.
public enum L2Factor: RegisteredHyperparameter {
    public static let key = "l2"
    public static let position = 7
    public static let kind = HyperparameterKind.real(.logAboveZero)
    public static let help = "L2 factors of every hidden Dense's kernel to search, LOW:HIGH (log scale when LOW > 0) or A,B,C."

    public static func check(_ distribution: Distribution) throws { try checkNumbers(distribution, in: 0...1, "[0, 1]") }

    public static func apply(_ value: HyperValue, to recipe: inout TrainingRecipe) {
        guard let factor = value.number else { return }
        recipe.changeLayers { _, _, l2, _ in l2 = Float(factor) }
    }
}
