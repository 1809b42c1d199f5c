/// `dtype_policy`: Keras's global dtype policy of the trial's model (its output layer stays float32).
public enum DTypePolicyChoice: RegisteredHyperparameter {
    public static let key = "dtype_policy"
    public static let position = 9
    public static let kind = HyperparameterKind.names
    public static let help = "Keras's dtype policy of each trial's model: float32, mixed_bfloat16, or float32,mixed_bfloat16 to search it "
        + "(the output layer stays float32)."

    public static func check(_ distribution: Distribution) throws { try checkChoice(distribution, of: DTypePolicy.allCases.map(\.rawValue)) }

    public static func apply(_ value: HyperValue, to recipe: inout TrainingRecipe) {
        if case .string(let name) = value, let policy = DTypePolicy(rawValue: name) { recipe.dtypePolicy = policy }
    }
}
