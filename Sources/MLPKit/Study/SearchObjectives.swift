import Foundation

/// A bound on one of a trial's measures: `params<=200000`, `val_accuracy>=0.3`. Stored as Optuna 5
/// stores `trial.set_constraint(text, value)`: the value is ≤ 0 when the trial satisfies it.
public struct ObjectiveConstraint: Sendable, Equatable {
    /// The measure bounded: a name `--objective` takes.
    public var name: String
    /// Whether the measure must stay at or below (`<=`) the bound, or at or above it.
    public var isUpperBound: Bool
    public var bound: Double

    /// "params<=200000" or "val_loss <= 1.5"; nil when the text is not such a bound.
    public init?(_ text: String) {
        let compact = text.filter { !$0.isWhitespace }
        for (symbol, upper) in [("<=", true), (">=", false)] {
            let parts = compact.components(separatedBy: symbol)
            guard parts.count == 2, !parts[0].isEmpty, let bound = Double(parts[1]), bound.isFinite else { continue }
            (name, isUpperBound, self.bound) = (parts[0], upper, bound)
            return
        }
        return nil
    }

    /// The text it is stored under: "params<=200000".
    public var text: String { name + (isUpperBound ? "<=" : ">=") + pythonFloatOrInteger(bound) }

    /// How far `measure` is beyond the bound (≤ 0 when within it), as Optuna's constraint values.
    public func value(_ measure: Double) -> Double { isUpperBound ? measure - bound : bound - measure }
}

/// What a search judges its trials by: one objective or several (a Pareto front), with
/// constraints on the measures. `params`, the model's parameter count, is minimized; the
/// validation metrics go the way `Monitor` says.
public struct SearchObjectives: Sendable, Equatable {
    /// The objectives in the order given: Optuna's `study.directions` and `trial.values`.
    public var objectives: [Monitor]
    public var constraints: [ObjectiveConstraint] = []

    /// The measures a search may judge or bound: the validation metrics and the parameter count.
    public static let names = ["val_accuracy", "val_auc", "val_loss", "params"]
    /// The parameter count's name.
    public static let parameterCount = "params"

    public init(_ objectives: [Monitor], constraints: [ObjectiveConstraint] = []) {
        self.objectives = objectives
        self.constraints = constraints
    }

    /// The first objective: what a single-objective search ranks by, and the value shown first.
    public var first: Monitor { objectives[0] }
    public var isMultiObjective: Bool { objectives.count > 1 }

    /// The metric whose best epoch is a trial's score and model: the first objective that is
    /// measured per epoch (the parameter count does not change from epoch to epoch).
    public var epochMonitor: Monitor { objectives.first { $0.name != Self.parameterCount } ?? Monitor("val_loss") }

    /// Every measure the objectives and constraints name.
    public var measures: [String] { Array(Set(objectives.map(\.name) + constraints.map(\.name))).sorted() }

    /// The value of measure `name` for a trial whose best epoch (from 0) is `epoch`.
    static func measure(_ name: String, history: History, epoch: Int, parameterCount: Int) -> Double? {
        if name == Self.parameterCount { return Double(parameterCount) }
        let values = history.values(name)
        return values.indices.contains(epoch) ? values[epoch] : nil
    }

    /// Each objective's value of `record` (the score alone, with one objective); nil when it
    /// has none.
    public func values(of record: TrialRecord) -> [Double]? {
        if isMultiObjective { return record.values?.count == objectives.count ? record.values : nil }
        return record.score.map { [$0] }
    }

    /// The values as losses: lower is better in each (a maximized objective negated).
    func losses(_ values: [Double]) -> [Double] { zip(values, objectives).map { $1.mode == .max ? -$0 : $0 } }

    /// The sum of a trial's positive constraint values (0 when it satisfies them all, or has none).
    public static func penalty(_ record: TrialRecord) -> Double { (record.constraints ?? []).filter { $0 > 0 }.reduce(0, +) }

    /// Whether the trial satisfies every constraint, as Optuna's `_get_feasible_trials` judges.
    public static func isFeasible(_ record: TrialRecord) -> Bool { (record.constraints ?? []).allSatisfy { $0 <= 0 } }

    /// The completed trials with every objective's value that satisfy the constraints, in trial order.
    func candidates(_ records: [TrialRecord]) -> [TrialRecord] {
        records.filter { $0.status == .completed && values(of: $0) != nil && Self.isFeasible($0) }.sorted { $0.number < $1.number }
    }

    /// Optuna's `study.best_trials`: the feasible completed trials no other dominates, in trial order.
    public func front(_ records: [TrialRecord]) -> [TrialRecord] {
        let chosen = candidates(records)
        guard !chosen.isEmpty else { return [] }
        let ranks = ParetoRanking.nonDominationRanks(chosen.map { losses(values(of: $0)!) })
        return zip(chosen, ranks).filter { $1 == 0 }.map(\.0)
    }

    /// The trial a search's `best.*` holds: with one objective, the feasible completed trial with
    /// the best score (Optuna's `study.best_trial`, the earliest on ties); with several, the
    /// front's best on the first objective.
    public func best(_ records: [TrialRecord]) -> TrialRecord? {
        let pool = isMultiObjective ? front(records) : candidates(records)
        return first.best(pool) { values(of: $0)?.first }
    }

    /// "val_accuracy 0.4123, params 205156": a trial's objective values.
    public func describe(_ record: TrialRecord) -> String {
        let values = values(of: record) ?? record.score.map { [$0] } ?? []
        return zip(objectives, values).map { objective, value in
            objective.name + " " + (objective.name == Self.parameterCount ? String(Int(value)) : String(format: "%.4f", value))
        }.joined(separator: ", ")
    }

    /// Why `records` have no best trial though some completed: none satisfied the constraints.
    public func infeasibleNote(_ records: [TrialRecord]) -> String? {
        let completed = records.filter { $0.status == .completed }
        guard !constraints.isEmpty, !completed.isEmpty, candidates(records).isEmpty else { return nil }
        return "no trial satisfied " + constraints.map(\.text).joined(separator: " and ")
            + " (\(counted(completed.count, "completed trial"))); no best model is written"
    }
}

/// 200000 as "200000", 0.3 as "0.3": a bound as the user would type it.
func pythonFloatOrInteger(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : pythonFloat(value)
}
