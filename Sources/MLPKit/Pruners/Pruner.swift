import Foundation

/// A trial as a pruner sees it, as Optuna's `FrozenTrial`: its number, state, the objective's
/// value at each step (epoch, from 0) so far, and the attributes pruners keep on it.
public struct PrunerTrial: Sendable, Equatable {
    /// Optuna's trial states.
    public enum State: String, Sendable {
        case running, complete, pruned, fail
    }

    public var number: Int
    public var state: State
    /// Step → value; NaN where the objective was NaN.
    public var intermediateValues: [Int: Double]
    /// What pruners recorded on the trial (successive halving's `completed_rung_N`).
    public var systemAttributes: [String: Double]

    public init(number: Int, state: State, intermediateValues: [Int: Double] = [:], systemAttributes: [String: Double] = [:]) {
        self.number = number
        self.state = state
        self.intermediateValues = intermediateValues
        self.systemAttributes = systemAttributes
    }

    /// The last step reported, as Optuna's `last_step`.
    public var lastStep: Int? { intermediateValues.keys.max() }
}

/// What a study tells a pruner: its name (Hyperband's brackets hash it), its direction, and
/// every trial (the one asking included).
public struct PrunerStudy: Sendable {
    public var name: String
    public var maximize: Bool
    public var trials: [PrunerTrial]

    public init(name: String, maximize: Bool, trials: [PrunerTrial]) {
        self.name = name
        self.maximize = maximize
        self.trials = trials
    }
}

/// A pruner's answer: whether to stop the trial now, and the attributes to record on it.
public struct PruneDecision: Sendable, Equatable {
    public var prune: Bool
    public var systemAttributes: [String: Double]

    public init(prune: Bool, systemAttributes: [String: Double] = [:]) {
        self.prune = prune
        self.systemAttributes = systemAttributes
    }
}

/// Decides after each reported step whether a trial is hopeless, as Optuna's `BasePruner.prune`
/// does. A pruner may keep what it estimated from the study (as Optuna's do, per process).
public protocol Pruner: AnyObject {
    func prune(study: PrunerStudy, trial: PrunerTrial) -> PruneDecision
}

/// A pruner that `mlp-tune --pruner NAME` chooses, with Optuna's defaults. A new pruner is one
/// file with a type conforming here; `Pruners` finds it.
public protocol RegisteredPruner: Pruner {
    /// The name `--pruner` takes: "median".
    static var name: String { get }
    /// What it is, for `--pruner`'s help: "Optuna's MedianPruner".
    static var summary: String { get }
    /// The pruner with Optuna's default settings.
    init()
}

/// A pruner as a search carries it: its name, what it is, and how to make one (each worker
/// makes its own, as Optuna's pruners keep their estimates per process).
public struct PrunerDescription: Sendable {
    public let name: String
    public let summary: String
    /// Whether it ever stops a trial (`none` does not).
    public let prunes: Bool
    public let make: @Sendable () -> Pruner

    init<P: RegisteredPruner>(_ type: P.Type) {
        name = P.name
        summary = P.summary
        prunes = P.self != NopPruner.self
        make = { P() }
    }
}

/// The pruners, found at build time from the types conforming to `RegisteredPruner`.
public enum Pruners {
    /// Every pruner, "none" first, then by name.
    public static var all: [PrunerDescription] {
        registered.map { describe($0) }.sorted { ($0.prunes ? 1 : 0, $0.name) < ($1.prunes ? 1 : 0, $1.name) }
    }

    /// The pruner called `name`.
    public static func named(_ name: String) -> PrunerDescription? { all.first { $0.name == name } }

    /// The pruner that never prunes.
    public static var none: PrunerDescription { PrunerDescription(NopPruner.self) }

    private static func describe(_ type: any RegisteredPruner.Type) -> PrunerDescription { PrunerDescription(type) }
}

/// numpy's `nanpercentile(values, percentile)` with its default linear method: NaNs dropped,
/// the sorted values interpolated at index (n − 1)·q as numpy interpolates (from the upper
/// neighbour when the fraction is at least a half); NaN when none is left.
func nanPercentile(_ values: [Double], _ percentile: Double) -> Double {
    let sorted = values.filter { !$0.isNaN }.sorted()
    guard !sorted.isEmpty else { return .nan }
    let q = percentile / 100
    let index = Double(sorted.count - 1) * q
    let lower = min(max(Int(index.rounded(.down)), 0), sorted.count - 1)
    let upper = min(lower + 1, sorted.count - 1)
    let t = index - index.rounded(.down)
    let a = sorted[lower], b = sorted[upper], difference = b - a
    return t >= 0.5 ? b - difference * (1 - t) : a + difference * t
}
