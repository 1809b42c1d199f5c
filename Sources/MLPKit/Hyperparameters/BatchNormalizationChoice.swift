/// `batch_norm`: BatchNormalization after each hidden Dense, or not.
public enum BatchNormalizationChoice: RegisteredHyperparameter {
    public static let key = "batch_norm"
    public static let position = 8
    public static let kind = HyperparameterKind.booleans
    public static let help = "BatchNormalization after each hidden Dense: alone, as mlp-train's --batch-norm, in every trial; or true, "
        + "false, or true,false to search it."

    public static func check(_ distribution: Distribution) throws { try checkBooleans(distribution) }

    public static func apply(_ value: HyperValue, to recipe: inout TrainingRecipe) {
        guard case .bool(let on) = value else { return }
        recipe.changeLayers { _, _, _, batchNorm in batchNorm = on }
    }
}
