/// `optimizer`: the optimizer, by the names `--optimizer` takes, with Keras's defaults.
public enum OptimizerChoice: RegisteredHyperparameter {
    public static let key = "optimizer"
    public static let position = 5
    public static let kind = HyperparameterKind.names
    public static var help: String { "Optimizers to search, A,B,C of \(OptimizerKind.allCases.map(\.rawValue).joined(separator: ", "))." }

    public static func check(_ distribution: Distribution) throws { try checkChoice(distribution, of: OptimizerKind.allCases.map(\.rawValue)) }

    public static func apply(_ value: HyperValue, to recipe: inout TrainingRecipe) {
        if case .string(let name) = value, let kind = OptimizerKind(rawValue: name) { recipe.optimizer = kind }
    }
}
