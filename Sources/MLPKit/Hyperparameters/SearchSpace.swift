import Foundation

/// One hyperparameter's value in a trial.
public enum HyperValue: Sendable, Hashable, CustomStringConvertible, Codable {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)

    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .double(let v): return pythonFloat(v)
        case .string(let v): return v
        case .bool(let v): return v ? "true" : "false"
        }
    }

    /// A JSON number, string or boolean as a value; nil for anything else.
    public init?(json: JSONValue) {
        switch json {
        case .bool(let v): self = .bool(v)
        case .int(let v): self = .int(v)
        case .double(let v): self = .double(v)
        case .string(let v): self = .string(v)
        default: return nil
        }
    }

    public init(from decoder: Decoder) throws {
        guard let value = HyperValue(json: try JSONValue(from: decoder)) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a number, string or boolean"))
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let v): try container.encode(v)
        case .double(let v): try container.encode(v)
        case .string(let v): try container.encode(v)
        case .bool(let v): try container.encode(v)
        }
    }

    /// The value with the type `key`'s values take, so that values compare equal however they
    /// were written (JSON reads 9.0 as 9): rates are doubles, counts are integers.
    func normalized(for key: String) -> HyperValue {
        guard let number else { return self }
        switch key {
        case "learning_rate", "dropout", "l2": return .double(number)
        case "layers", "units", "batch_size":
            // Whole numbers in Int's range become integers; anything else stays as written, for the space to refuse.
            return Int(exactly: number).map { .int($0) } ?? self
        default: return self
        }
    }

    public var number: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let v): return v
        default: return nil
        }
    }
}

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
            self = try SearchSpace.distribution(from: try JSONValue(from: decoder))
        } catch MLPError.usage(let problem) {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: problem))
        }
    }

    /// Whether the values are numbers spread on a logarithmic scale.
    public var isLogarithmic: Bool { if case .logUniform = self { return true } else { return false } }
}

/// The hyperparameters a search draws, by key: `learning_rate`, `layers`, `units` (every hidden
/// layer's, as in KerasTuner's usual MLP search), `activation` (every hidden layer's),
/// `dropout`, `optimizer`, `batch_size`, `l2`, `batch_norm` and `dtype_policy` (Keras's global
/// policy for the trial's model). Keys not in the space keep `mlp-train`'s defaults.
public struct SearchSpace: Sendable, Equatable {
    /// Every key a space may hold, in the order trials list them.
    public static let keys = ["learning_rate", "layers", "units", "activation", "dropout", "optimizer", "batch_size", "l2", "batch_norm",
                              "dtype_policy"]

    /// The keys of the space, in `keys` order, with their distributions.
    public private(set) var entries: [(key: String, distribution: Distribution)]

    public static func == (a: SearchSpace, b: SearchSpace) -> Bool {
        a.entries.map(\.key) == b.entries.map(\.key) && a.entries.map(\.distribution) == b.entries.map(\.distribution)
    }

    /// KerasTuner's usual MLP search: learning rate 1e-4 to 1e-2 on a
    /// log scale, 1 to 3 layers of 64, 128, 256 or 512 units, dropout 0 to 0.5, Adam or RMSprop.
    public static let standard = try! SearchSpace(entries: [
        ("learning_rate", .logUniform(1e-4, 1e-2)), ("layers", .int(1, 3)), ("units", .choice([.int(64), .int(128), .int(256), .int(512)])),
        ("dropout", .uniform(0, 0.5)), ("optimizer", .choice([.string("adam"), .string("rmsprop")])),
    ])

    /// A space of the given entries, each checked against what the key allows.
    public init(entries: [(key: String, distribution: Distribution)]) throws {
        var seen = Set<String>()
        for (key, distribution) in entries {
            guard Self.keys.contains(key) else {
                throw MLPError.setting(key, problem: "unknown hyperparameter (known: \(Self.keys.joined(separator: ", ")))")
            }
            guard seen.insert(key).inserted else { throw MLPError.setting(key, problem: "given twice") }
            try Self.check(key, distribution)
        }
        let normalized = entries.map { key, distribution -> (key: String, distribution: Distribution) in
            guard case .choice(let values) = distribution else { return (key, distribution) }
            return (key, .choice(values.map { $0.normalized(for: key) }))
        }
        self.entries = normalized.sorted { Self.keys.firstIndex(of: $0.key)! < Self.keys.firstIndex(of: $1.key)! }
    }

    /// Reads the space JSON: `{"learning_rate": {"log_uniform": [0.0001, 0.01]}, "layers": {"int": [1, 3]}, ...}`.
    /// A key may also hold a bare value, which every trial then uses.
    public init(json text: String, source: String) throws {
        guard case .object(let object)? = try? JSONRecords.decoder().decode(JSONValue.self, from: Data(text.utf8)) else {
            throw MLPError.format(path: source, problem: "the search space is not a JSON object")
        }
        if object["class_name"] != nil, object["config"] != nil {
            throw MLPError.format(path: source, problem: "is a Keras model config (it goes to mlp-train --model), not a search space")
        }
        var entries: [(String, Distribution)] = []
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            do {
                entries.append((key, try Self.distribution(from: value)))
            } catch MLPError.usage(let problem) {
                throw MLPError.format(path: source, problem: "'\(key)': \(problem)")
            }
        }
        do {
            try self.init(entries: entries)
        } catch MLPError.setting(let key, let problem) {
            throw MLPError.format(path: source, problem: "'\(key)': \(problem)")
        }
    }

    static func distribution(from value: JSONValue) throws -> Distribution {
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

    /// Checks that every value `distribution` can draw is one `key` allows.
    /// Refuses a distribution whose values `key` does not allow, naming the key and the range.
    static func check(_ key: String, _ distribution: Distribution) throws {
        func numbers(_ allowed: ClosedRange<Double>, integer: Bool, _ what: String) throws {
            let values: [Double]
            switch distribution {
            case .logUniform(let a, let b), .uniform(let a, let b):
                guard !integer else { throw MLPError.setting(key, problem: "must be whole numbers: use int or choice") }
                values = [a, b]
            case .int(let a, let b): values = [Double(a), Double(b)]
            case .choice(let choices):
                values = try choices.map {
                    guard let number = $0.number, !integer || number == number.rounded() else {
                        throw MLPError.setting(key, problem: "\($0) is not \(integer ? "a whole number" : "a number")")
                    }
                    return number
                }
            }
            for value in values where !allowed.contains(value) {
                throw MLPError.setting(key, problem: "\(pythonFloat(value)) is outside \(what)")
            }
        }
        switch key {
        case "learning_rate":
            try numbers(1e-12...10, integer: false, "(0, 10]")
            if case .int = distribution { throw MLPError.setting(key, problem: "a learning rate is not a whole number") }
        case "layers": try numbers(0...64, integer: true, "0 to 64 hidden layers")
        case "units": try numbers(1...65_536, integer: true, "1 to 65536 units")
        case "dropout": try numbers(0...0.95, integer: false, "[0, 0.95]")
        case "batch_size": try numbers(1...65_536, integer: true, "1 to 65536")
        case "l2": try numbers(0...1, integer: false, "[0, 1]")
        case "optimizer":
            guard case .choice(let values) = distribution,
                  values.allSatisfy({ if case .string(let name) = $0 { return OptimizerKind(rawValue: name) != nil } else { return false } })
            else { throw MLPError.setting(key, problem: "must be a choice of \(OptimizerKind.allCases.map(\.rawValue).joined(separator: ", "))") }
        case "activation":
            guard case .choice(let values) = distribution,
                  values.allSatisfy({ if case .string(let name) = $0 { return Activation(kerasName: name) != nil } else { return false } })
            else { throw MLPError.setting(key, problem: "must be a choice of \(Activation.allCases.map(\.rawValue).joined(separator: ", "))") }
        case "batch_norm":
            guard case .choice(let values) = distribution, values.allSatisfy({ if case .bool = $0 { return true } else { return false } }) else {
                throw MLPError.setting(key, problem: "must be a choice of true and false")
            }
        case "dtype_policy":
            guard case .choice(let values) = distribution,
                  values.allSatisfy({ if case .string(let name) = $0 { return DTypePolicy(rawValue: name) != nil } else { return false } })
            else { throw MLPError.setting(key, problem: "must be a choice of \(DTypePolicy.allCases.map(\.rawValue).joined(separator: ", "))") }
        default: break
        }
    }

    /// One trial's values as KerasTuner's `_random_values` draws them: the i-th key (in `keys`
    /// order) from `random.Random(seed + offset + i).random()`. It uses `entries.count` seeds.
    public func sample(seed: UInt64, offset: UInt64) -> Hyperparameters {
        var values: [String: HyperValue] = [:]
        for (i, (key, distribution)) in entries.enumerated() {
            var random = PythonRandom(seed: seed, offset: offset + UInt64(i))
            values[key] = distribution.value(atProbability: random.random())
        }
        return Hyperparameters(values: values)
    }

    /// The space as its JSON file spells it: each key's distribution.
    public var record: [String: Distribution] {
        Dictionary(uniqueKeysWithValues: entries.map { ($0.key, $0.distribution) })
    }

    /// The distribution of `key`, nil when the space does not vary it.
    public func distribution(of key: String) -> Distribution? { entries.first { $0.key == key }?.distribution }

    /// Whether a trial may draw `mixed_bfloat16`.
    public var mayBeMixedPrecision: Bool {
        guard case .choice(let values)? = distribution(of: "dtype_policy") else { return false }
        return values.contains(.string(DTypePolicy.mixedBFloat16.rawValue))
    }
}

/// A trial's hyperparameters, by key; in JSON, an object of the values.
public struct Hyperparameters: Sendable, Hashable, Codable {
    public private(set) var values: [String: HyperValue]

    /// Numbers take their key's type (see `HyperValue.normalized(for:)`).
    public init(values: [String: HyperValue]) {
        self.values = Dictionary(uniqueKeysWithValues: values.map { ($0, $1.normalized(for: $0)) })
    }

    public init(from decoder: Decoder) throws {
        self.init(values: try [String: HyperValue](from: decoder))
    }

    public func encode(to encoder: Encoder) throws { try values.encode(to: encoder) }

    /// The value of `key`, nil when the trial has none.
    public subscript(key: String) -> HyperValue? { values[key] }

    /// The training these values describe, on top of `base` (validation, seed, callbacks):
    /// `layers` hidden Dense layers of `units` ReLU units, each followed by BatchNormalization
    /// and Dropout when asked, and the optimizer, its learning rate and the batch size.
    public func apply(to base: TrainingRecipe) -> TrainingRecipe {
        var recipe = base
        var hidden: [HiddenLayerSpec] = [], dropout: Float = 0, l2: Float = 0, batchNorm = false
        if case .fresh(.layers(let baseHidden, let baseDropout, let baseL2, let baseBatchNorm)) = base.start {
            (hidden, dropout, l2, batchNorm) = (baseHidden, baseDropout, baseL2, baseBatchNorm)
        }
        // Values come from a checked space or a checked trial record: whole numbers in range.
        func whole(_ key: String) -> Int? { values[key]?.number.flatMap { Int(exactly: $0) } }
        let units = whole("units") ?? hidden.first?.units ?? 128
        var activation = hidden.first?.activation ?? .relu
        if case .string(let name)? = values["activation"], let chosen = Activation(kerasName: name) { activation = chosen }
        if let layers = whole("layers") {
            hidden = Array(repeating: HiddenLayerSpec(units: units, activation: activation), count: layers)
        } else {
            hidden = hidden.map { HiddenLayerSpec(units: values["units"] == nil ? $0.units : units,
                                                  activation: values["activation"] == nil ? $0.activation : activation) }
        }
        if let value = values["dropout"]?.number { dropout = Float(value) }
        if let value = values["l2"]?.number { l2 = Float(value) }
        if case .bool(let value)? = values["batch_norm"] { batchNorm = value }
        recipe.start = .fresh(.layers(hidden, dropout: dropout, l2: l2, batchNorm: batchNorm))
        if case .string(let name)? = values["optimizer"], let kind = OptimizerKind(rawValue: name) { recipe.optimizer = kind }
        if let value = values["learning_rate"]?.number { recipe.learningRate = Float(value) }
        if let value = whole("batch_size") { recipe.batchSize = value }
        if case .string(let name)? = values["dtype_policy"], let policy = DTypePolicy(rawValue: name) { recipe.dtypePolicy = policy }
        return recipe
    }

    /// "learning_rate=0.0031, layers=2, units=256, ..." in `SearchSpace.keys` order.
    public var summary: String {
        SearchSpace.keys.compactMap { key in values[key].map { "\(key)=\(format($0))" } }.joined(separator: ", ")
    }

    private func format(_ value: HyperValue) -> String {
        if case .double(let v) = value { return String(format: abs(v) < 0.01 && v != 0 ? "%.3g" : "%.4g", v) }
        return value.description
    }
}

extension SearchSpace {
    /// One key's distribution as a command-line flag spells it: "LOW:HIGH" for a range (on a
    /// log scale for the learning rate, and for l2 when LOW is above 0; whole numbers for
    /// layers, units and batch_size), "A,B,C" for a choice, or one value.
    public static func distribution(key: String, flag text: String) throws -> Distribution {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let integerKeys: Set<String> = ["layers", "units", "batch_size"]
        let words = text.split(whereSeparator: { ":,".contains($0) }).map { $0.trimmingCharacters(in: .whitespaces) }
        if key == "layers", words.contains(where: { Double($0) == nil && $0.contains(where: \.isLetter) }) {
            throw MLPError.setting(key, problem: "'\(text)': this is how many hidden layers (LOW:HIGH or A,B,C, e.g. 1:3); "
                + "--units and --activation give their width and activation (mlp-train's --layers spells UNITS:ACTIVATION)")
        }
        if parts.count == 2 {
            guard let low = Double(parts[0]), let high = Double(parts[1]), low.isFinite, high.isFinite, low <= high else {
                throw MLPError.setting(key, problem: "'\(text)' is not LOW:HIGH with LOW at most HIGH")
            }
            if integerKeys.contains(key) {
                guard let low = Int(exactly: low), let high = Int(exactly: high), abs(low) <= 1 << 31, abs(high) <= 1 << 31 else {
                    throw MLPError.setting(key, problem: "'\(text)' is not a range of whole numbers from -2^31 to 2^31")
                }
                return .int(low, high)
            }
            if key == "learning_rate" || (key == "l2" && low > 0) {
                guard low > 0 else { throw MLPError.setting(key, problem: "'\(text)': a log-scale range starts above 0") }
                return .logUniform(low, high)
            }
            return .uniform(low, high)
        }
        guard parts.count == 1 else { throw MLPError.setting(key, problem: "'\(text)' is neither LOW:HIGH nor A,B,C") }
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !items.isEmpty, items.allSatisfy({ !$0.isEmpty }) else { throw MLPError.setting(key, problem: "'\(text)' has an empty value") }
        let values: [HyperValue] = items.map { item in
            if let int = Int(item), integerKeys.contains(key) || key == "layers" { return .int(int) }
            if let number = Double(item), key != "optimizer", key != "dtype_policy" {
                if integerKeys.contains(key), let whole = Int(exactly: number), abs(whole) <= 1 << 31 { return .int(whole) }
                return .double(number)
            }
            if item == "true" || item == "false" { return .bool(item == "true") }
            return .string(item)
        }
        guard Set(values).count == values.count else { throw MLPError.setting(key, problem: "'\(text)' repeats a value") }
        return .choice(values)
    }

    /// This space with `key` drawn from `distribution` instead.
    public func replacing(_ key: String, with distribution: Distribution) throws -> SearchSpace {
        try SearchSpace(entries: entries.filter { $0.key != key } + [(key, distribution)])
    }
}
