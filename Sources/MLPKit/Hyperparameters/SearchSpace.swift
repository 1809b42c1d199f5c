import Foundation

/// The hyperparameters a search draws, by key (`Hyperparameters`: `learning_rate`, `layers`,
/// `units`, ...), each with its distribution. Keys not in the space keep `mlp-train`'s defaults.
public struct SearchSpace: Sendable, Equatable {
    /// Every key a space may hold, in the order trials list them: `Hyperparameters`' positions.
    public static var keys: [String] { Hyperparameters.keys }

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
        var typed: [(type: any RegisteredHyperparameter.Type, distribution: Distribution)] = []
        for (key, distribution) in entries {
            guard let type = Hyperparameters.named(key) else {
                throw MLPError.setting(key, problem: "unknown hyperparameter (known: \(Self.keys.joined(separator: ", ")))")
            }
            guard seen.insert(key).inserted else { throw MLPError.setting(key, problem: "given twice") }
            let normalized: Distribution
            if case .choice(let values) = distribution { normalized = .choice(values.map { type.normalized($0) }) } else { normalized = distribution }
            try type.check(normalized)
            typed.append((type, normalized))
        }
        self.entries = typed.sorted { $0.type.position < $1.type.position }.map { ($0.type.key, $0.distribution) }
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
                entries.append((key, try Distribution.read(json: value)))
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

    /// One trial's values as KerasTuner's `_random_values` draws them: the i-th key (in `keys`
    /// order) from `random.Random(seed + offset + i).random()`. It uses `entries.count` seeds.
    public func sample(seed: UInt64, offset: UInt64) -> HyperparameterValues {
        var values: [String: HyperValue] = [:]
        for (i, (key, distribution)) in entries.enumerated() {
            var random = PythonRandom(seed: seed, offset: offset + UInt64(i))
            values[key] = distribution.value(atProbability: random.random())
        }
        return HyperparameterValues(values: values)
    }

    /// The space as its JSON file spells it: each key's distribution.
    public var record: [String: Distribution] {
        Dictionary(uniqueKeysWithValues: entries.map { ($0.key, $0.distribution) })
    }

    /// The distribution of `key`, nil when the space does not vary it.
    public func distribution(of key: String) -> Distribution? { entries.first { $0.key == key }?.distribution }

    /// Whether a trial may draw `mixed_bfloat16`.
    public var mayBeMixedPrecision: Bool {
        guard case .choice(let values)? = distribution(of: DTypePolicyChoice.key) else { return false }
        return values.contains(.string(DTypePolicy.mixedBFloat16.rawValue))
    }
}

extension SearchSpace {
    /// This space with `key` drawn from `distribution` instead.
    public func replacing(_ key: String, with distribution: Distribution) throws -> SearchSpace {
        try SearchSpace(entries: entries.filter { $0.key != key } + [(key, distribution)])
    }
}

extension SearchSpace {
    /// `key`'s distribution as its flag spells it (see `Distribution.read(flag:for:)`).
    public static func distribution(key: String, flag text: String) throws -> Distribution {
        guard let type = Hyperparameters.named(key) else {
            throw MLPError.setting(key, problem: "unknown hyperparameter (known: \(keys.joined(separator: ", ")))")
        }
        return try Distribution.read(flag: text, for: type)
    }
}
