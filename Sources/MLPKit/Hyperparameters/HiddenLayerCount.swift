/// `layers`: how many hidden Dense layers, each of the trial's units and activation.
public enum HiddenLayerCount: RegisteredHyperparameter {
    public static let key = "layers"
    public static let position = 1
    public static let kind = HyperparameterKind.integer
    public static let flag = "hidden-layers"
    public static let formerFlags = ["layers"]
    public static let help = "How many hidden layers to search, LOW:HIGH or A,B,C (e.g. 1:3): --units and --activation give each layer's "
        + "width and activation."

    public static func check(_ distribution: Distribution) throws { try checkNumbers(distribution, in: 0...64, "0 to 64 hidden layers") }

    /// mlp-train's `--layers 512:relu,256:relu` given to a search, where it counts layers.
    public static func checkFlag(_ text: String) throws {
        let words = text.split(whereSeparator: { ":,".contains($0) }).map { $0.trimmingCharacters(in: .whitespaces) }
        if words.contains(where: { Double($0) == nil && $0.contains(where: \.isLetter) }) {
            throw MLPError.setting(key, problem: "'\(text)': this is how many hidden layers (LOW:HIGH or A,B,C, e.g. 1:3); "
                + "--units and --activation give their width and activation (mlp-train's --layers spells UNITS:ACTIVATION)")
        }
    }

    /// As many layers as the value, each as wide and activated as the first of the recipe's (128 relu when none).
    public static func apply(_ value: HyperValue, to recipe: inout TrainingRecipe) {
        guard let count = value.number.flatMap({ Int(exactly: $0) }) else { return }
        recipe.changeLayers { hidden, _, _, _ in
            hidden = Array(repeating: HiddenLayerSpec(units: hidden.first?.units ?? 128, activation: hidden.first?.activation ?? .relu), count: count)
        }
    }
}
