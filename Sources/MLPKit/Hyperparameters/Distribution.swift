import Foundation

/// How one hyperparameter is drawn, as the space JSON spells it.
public enum Distribution: Sendable, Equatable, Codable {
    /// `{"log_uniform": [low, high]}`: uniform in the logarithm.
    case logUniform(Double, Double)
    /// `{"uniform": [low, high]}`.
    case uniform(Double, Double)
    /// `{"int": [low, high]}`: an integer from low to high, both included.
    case int(Int, Int)
    /// `{"choice": [a, b, ...]}`: one of the values, equally likely.
    case choice([HyperValue])

    /// The value at cumulative probability `p` in [0, 1), as KerasTuner's `prob_to_value`
    /// maps it: `hp.Float` (with `sampling="log"` for log_uniform), `hp.Int` and `hp.Choice`.
    public func value(atProbability p: Double) -> HyperValue {
        switch self {
        case .logUniform(let low, let high):
            return .double(low * pow(high / low, p))
        case .uniform(let low, let high):
            return .double(p * (high - low) + low)
        case .int(let low, let high):
            // Python's int() of the float: toward zero, and max + 1 so that max may be drawn.
            return .int(Int((p * Double(high + 1 - low) + Double(low)).rounded(.towardZero)))
        case .choice(let values):
            return values[min(Int((p / (1 / Double(values.count))).rounded(.down)), values.count - 1)]
        }
    }

    private enum CodingKeys: String, CodingKey {
        case logUniform = "log_uniform", uniform, int, choice
    }

    /// The space JSON's spelling: `{"log_uniform": [low, high]}`, `{"choice": [...]}`.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .logUniform(let a, let b): try container.encode([a, b], forKey: .logUniform)
        case .uniform(let a, let b): try container.encode([a, b], forKey: .uniform)
        case .int(let a, let b): try container.encode([a, b], forKey: .int)
        case .choice(let values): try container.encode(values, forKey: .choice)
        }
    }

    public init(from decoder: Decoder) throws {
        do {
            self = try Distribution.read(json: try JSONValue(from: decoder))
        } catch MLPError.usage(let problem) {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: problem))
        }
    }

    /// Whether the values are numbers spread on a logarithmic scale.
    public var isLogarithmic: Bool { if case .logUniform = self { return true } else { return false } }

    /// A distribution as a space file spells it: `{"log_uniform": [low, high]}`, `{"int": [1, 3]}`,
    /// `{"choice": [...]}`, or a bare value, which every trial then uses. A problem is
    /// `MLPError.usage`, for the caller to name the file and the key.
    static func read(json value: JSONValue) throws -> Distribution {
        guard case .object(let object) = value else {
            guard let single = HyperValue(json: value) else { throw MLPError.usage("not a range, a choice or a value") }
            return .choice([single])
        }
        guard object.count == 1, let (kind, raw) = object.first else {
            throw MLPError.usage("a range is one of {\"log_uniform\": [a, b]}, {\"uniform\": [a, b]}, {\"int\": [a, b]}, {\"choice\": [...]}")
        }
        var list: [JSONValue] = []
        if case .array(let items) = raw { list = items }
        switch kind {
        case "log_uniform", "uniform":
            let bounds = list.compactMap(\.number)
            guard bounds.count == 2, list.count == 2, bounds.allSatisfy(\.isFinite), bounds[0] <= bounds[1] else {
                throw MLPError.usage("\(kind) needs [low, high] with low at most high")
            }
            if kind == "log_uniform" {
                guard bounds[0] > 0 else { throw MLPError.usage("log_uniform needs a low above 0") }
                return .logUniform(bounds[0], bounds[1])
            }
            return .uniform(bounds[0], bounds[1])
        case "int":
            let bounds = list.compactMap(\.number)
            guard bounds.count == 2, list.count == 2, bounds.allSatisfy({ $0 == $0.rounded() && abs($0) < 1e9 }), bounds[0] <= bounds[1] else {
                throw MLPError.usage("int needs [low, high], whole numbers with low at most high")
            }
            return .int(Int(bounds[0]), Int(bounds[1]))
        case "choice":
            let values = list.compactMap(HyperValue.init(json:))
            guard !values.isEmpty, values.count == list.count, Set(values).count == values.count else {
                throw MLPError.usage("choice needs a list of distinct numbers, strings or booleans")
            }
            return .choice(values)
        default:
            throw MLPError.usage("unknown range '\(kind)' (log_uniform, uniform, int, choice)")
        }
    }
}

extension Distribution {
    /// A distribution as `mlp-tune`'s flag of `hyperparameter` spells it: "LOW:HIGH" for a range
    /// (on a log scale where the hyperparameter's kind says so; whole numbers for integers),
    /// "A,B,C" for a choice, or one value.
    public static func read(flag text: String, for hyperparameter: any RegisteredHyperparameter.Type) throws -> Distribution {
        let key = hyperparameter.key, kind = hyperparameter.kind
        try hyperparameter.checkFlag(text)
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.count == 2 {
            guard let low = Double(parts[0]), let high = Double(parts[1]), low.isFinite, high.isFinite, low <= high else {
                throw MLPError.setting(key, problem: "'\(text)' is not LOW:HIGH with LOW at most HIGH")
            }
            switch kind {
            case .integer:
                guard let low = Int(exactly: low), let high = Int(exactly: high), abs(low) <= 1 << 31, abs(high) <= 1 << 31 else {
                    throw MLPError.setting(key, problem: "'\(text)' is not a range of whole numbers from -2^31 to 2^31")
                }
                return .int(low, high)
            case .real(.log), .real(.logAboveZero) where low > 0 || kind == .real(.log):
                guard low > 0 else { throw MLPError.setting(key, problem: "'\(text)': a log-scale range starts above 0") }
                return .logUniform(low, high)
            default:
                return .uniform(low, high)
            }
        }
        guard parts.count == 1 else { throw MLPError.setting(key, problem: "'\(text)' is neither LOW:HIGH nor A,B,C") }
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !items.isEmpty, items.allSatisfy({ !$0.isEmpty }) else { throw MLPError.setting(key, problem: "'\(text)' has an empty value") }
        let values: [HyperValue] = items.map { item in
            if item == "true" || item == "false", kind == .booleans { return .bool(item == "true") }
            guard kind != .names, kind != .booleans, let number = Double(item) else {
                if item == "true" || item == "false" { return .bool(item == "true") }
                return .string(item)
            }
            if kind == .integer, let whole = Int(exactly: number), abs(whole) <= 1 << 31 { return .int(whole) }
            return .double(number)
        }
        guard Set(values).count == values.count else { throw MLPError.setting(key, problem: "'\(text)' repeats a value") }
        return .choice(values)
    }
}
