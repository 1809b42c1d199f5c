/// `batch_size`: samples per gradient step.
public enum BatchSize: RegisteredHyperparameter {
    public static let key = "batch_size"
    public static let position = 6
    public static let kind = HyperparameterKind.integer
    public static let help = "Batch sizes to search, A,B,C or LOW:HIGH, or one (default 128)."

    public static func check(_ distribution: Distribution) throws { try checkNumbers(distribution, in: 1...65_536, "1 to 65536") }

    public static func apply(_ value: HyperValue, to recipe: inout TrainingRecipe) {
        if let size = value.number.flatMap({ Int(exactly: $0) }) { recipe.batchSize = size }
    }
}
