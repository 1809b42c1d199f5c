/// `learning_rate`: the optimizer's learning rate, searched on a log scale.
public enum LearningRate: RegisteredHyperparameter {
    public static let key = "learning_rate"
    public static let position = 0
    public static let kind = HyperparameterKind.real(.log)
    public static let help = "Learning rates to search: LOW:HIGH on a log scale, A,B,C, or one value."

    public static func check(_ distribution: Distribution) throws {
        try checkNumbers(distribution, in: 1e-12...10, "(0, 10]")
        if case .int = distribution { throw MLPError.setting(key, problem: "a learning rate is not a whole number") }
    }

    public static func apply(_ value: HyperValue, to recipe: inout TrainingRecipe) {
        if let rate = value.number { recipe.learningRate = Float(rate) }
    }
}
