import Foundation

/// The values a hyperparameter takes, which say how its flag's text and a space file's numbers
/// are read.
public enum HyperparameterKind: Sendable, Equatable {
    /// Real numbers; a `LOW:HIGH` range is uniform, or on a log scale.
    case real(RangeScale)
    /// Whole numbers; `LOW:HIGH` is every integer between, both included.
    case integer
    /// Names, chosen among: `adam,rmsprop`.
    case names
    /// `true`, `false`, or both.
    case booleans

    /// How a `LOW:HIGH` range of real numbers is drawn.
    public enum RangeScale: Sendable, Equatable {
        case linear
        /// Uniform in the logarithm; the range must start above 0.
        case log
        /// On a log scale when LOW is above 0, else uniform (an L2 factor from 0).
        case logAboveZero
    }
}

/// A hyperparameter a search may draw: its key, how its values are read and checked, and what it
/// sets in a trial's training. A new searchable hyperparameter is one file with a type conforming
/// here; `Hyperparameters` finds it, `mlp-tune` takes its flag, and search spaces, records and
/// Optuna's tables take its key.
public protocol RegisteredHyperparameter {
    /// The key in space files, trial records, `trials.csv` and Optuna's `trial_params`: "learning_rate".
    static var key: String { get }
    /// Where the key comes among the others. KerasTuner draws a trial's i-th key from seed + i,
    /// so the order is part of every search's values: a new key comes after the others.
    static var position: Int { get }
    static var kind: HyperparameterKind { get }
    /// `mlp-tune`'s flag for it, without dashes (default: the key with dashes), its former
    /// names, and its help.
    static var flag: String { get }
    static var formerFlags: [String] { get }
    static var help: String { get }
    /// Refuses a distribution any of whose values the key does not take, naming the key.
    static func check(_ distribution: Distribution) throws
    /// Sets a trial's `value` (one `check` allowed) in the training it describes.
    static func apply(_ value: HyperValue, to recipe: inout TrainingRecipe)
    /// Refuses a flag's text that is a known mistake, with a hint; by default none is.
    static func checkFlag(_ text: String) throws
}

extension RegisteredHyperparameter {
    public static var flag: String { key.replacingOccurrences(of: "_", with: "-") }
    public static var formerFlags: [String] { [] }
    public static func checkFlag(_ text: String) throws {}

    /// `value` with the type the key's values take, so that values compare equal however they
    /// were written (JSON reads 9.0 as 9): reals are doubles, whole numbers integers.
    static func normalized(_ value: HyperValue) -> HyperValue {
        guard let number = value.number else { return value }
        switch kind {
        case .real: return .double(number)
        // Whole numbers in Int's range become integers; anything else stays as written, for the check to refuse.
        case .integer: return Int(exactly: number).map { .int($0) } ?? value
        case .names, .booleans: return value
        }
    }

    /// Refuses numbers outside `allowed`, or not whole where `kind` is `.integer`: "0 is
    /// outside 1 to 65536 units".
    static func checkNumbers(_ distribution: Distribution, in allowed: ClosedRange<Double>, _ what: String) throws {
        let integer = kind == .integer
        let numbers: [Double]
        switch distribution {
        case .logUniform(let a, let b), .uniform(let a, let b):
            guard !integer else { throw MLPError.setting(key, problem: "must be whole numbers: use int or choice") }
            numbers = [a, b]
        case .int(let a, let b): numbers = [Double(a), Double(b)]
        case .choice(let choices):
            numbers = try choices.map {
                guard let number = $0.number, !integer || number == number.rounded() else {
                    throw MLPError.setting(key, problem: "\($0) is not \(integer ? "a whole number" : "a number")")
                }
                return number
            }
        }
        for number in numbers where !allowed.contains(number) {
            let text = integer ? Int(exactly: number).map(String.init) ?? pythonFloat(number) : pythonFloat(number)
            throw MLPError.setting(key, problem: "\(text) is outside \(what)")
        }
    }

    /// Refuses a distribution that is not a choice of `names` (its description of them).
    static func checkChoice(_ distribution: Distribution, of names: [String]) throws {
        guard case .choice(let choices) = distribution,
              choices.allSatisfy({ if case .string(let name) = $0 { return names.contains(name) } else { return false } })
        else { throw MLPError.setting(key, problem: "must be a choice of \(names.joined(separator: ", "))") }
    }

    /// Refuses a distribution that is not a choice of true and false.
    static func checkBooleans(_ distribution: Distribution) throws {
        guard case .choice(let choices) = distribution, choices.allSatisfy({ if case .bool = $0 { return true } else { return false } }) else {
            throw MLPError.setting(key, problem: "must be a choice of true and false")
        }
    }
}

/// The hyperparameters a search may draw, found at build time from the types conforming to
/// `RegisteredHyperparameter`.
public enum Hyperparameters {
    /// Every hyperparameter, in position order.
    public static var all: [any RegisteredHyperparameter.Type] { registered.sorted { $0.position < $1.position } }

    /// The hyperparameter of `key`.
    public static func named(_ key: String) -> (any RegisteredHyperparameter.Type)? { all.first { $0.key == key } }

    /// Every key, in position order.
    public static var keys: [String] { all.map { $0.key } }
}
