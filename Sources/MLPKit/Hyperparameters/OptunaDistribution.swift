import Foundation

/// A search space's distributions and values as Optuna stores them (its journal's and its
/// tables' `distribution_json`, and a parameter's internal value).
extension Distribution {
    /// Optuna's distribution of a search space's key, as its journal spells it.
    struct OptunaDistribution: Encodable {
        let name: String
        let attributes: [String: JSONValue]
    }

    /// A value's internal representation and its distribution, as Optuna spells them: floats and
    /// ints as floats, a choice as the index of the chosen value.
    func optuna(_ value: HyperValue) -> (Double, String)? {
        let description: OptunaDistribution
        let stored: Double
        switch self {
        case .logUniform(let low, let high), .uniform(let low, let high):
            guard let number = value.number else { return nil }
            stored = number
            description = OptunaDistribution(name: "FloatDistribution", attributes: [
                "step": .null, "low": .double(low), "high": .double(high), "log": .bool(isLogarithmic)])
        case .int(let low, let high):
            guard let number = value.number else { return nil }
            stored = number
            description = OptunaDistribution(name: "IntDistribution", attributes: [
                "log": .bool(false), "step": .int(1), "low": .int(low), "high": .int(high)])
        case .choice(let choices):
            guard let index = choices.firstIndex(of: value) else { return nil }
            stored = Double(index)
            description = OptunaDistribution(name: "CategoricalDistribution", attributes: ["choices": .array(choices.map(\.jsonValue))])
        }
        guard let text = try? JSONRecords.text(description) else { return nil }
        return (stored, text)
    }
}

extension HyperValue {
    /// The value as a JSON value.
    var jsonValue: JSONValue {
        switch self {
        case .int(let v): return .int(v)
        case .double(let v): return .double(v)
        case .string(let v): return .string(v)
        case .bool(let v): return .bool(v)
        }
    }
}
