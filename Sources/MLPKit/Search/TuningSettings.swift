import Foundation

/// A hyperparameter search: what it searches, how, and what it judges trials by.
public struct TuningSettings {
    /// How many trials a search runs and how long each trains.
    public enum Schedule: Sendable, Equatable {
        /// `count` trials of `epochs` epochs each, their values from the sampler.
        case trials(Int, epochs: Int)
        /// KerasTuner's Hyperband brackets: many short trials, the best promoted to longer ones.
        case hyperband(Hyperband)

        /// Whether the same search may go on to more trials than it began with: each proposal
        /// depends on the trials so far, not on how many are to come. Hyperband's schedule is
        /// its settings.
        var extendsWithMoreTrials: Bool {
            if case .hyperband = self { return false }
            return true
        }
    }

    public var space: SearchSpace
    /// What proposes new trials' values (Hyperband's new trials are random, as KerasTuner's).
    public var sampler: SamplerDescription
    public var schedule: Schedule
    /// What judges the trials: one objective or several, with constraints; the metrics are
    /// measured on the validation split (or folds) only.
    public var objectives: SearchObjectives
    /// The metric whose best epoch is a trial's score and model (the objective, with one).
    public var objective: Monitor { objectives.epochMonitor }
    /// With `--folds K`: each trial trains K models, one per fold, and scores their mean.
    public var folds: Int?
    /// A reproducible search's window (see `SearchRecord.reproducibleWindow`).
    public var reproducibleWindow: Int?
    /// Seeds the trials' values (as KerasTuner's oracle with the same seed) and each trial's own seed.
    public var seed: UInt64
    /// The last fraction of the training set, before shuffling, that judges the trials.
    public var validationSplit: Double
    /// What every trial shares: batch size, compute options; the space's values go on top.
    public var base: TrainingRecipe
    /// The data the search runs on, recorded so that a worker on other data is refused.
    public var data: DataRecord?
    /// The pruner that stops hopeless trials early (none by default).
    public var pruner = Pruners.none
    /// The format of `best.*` and `final.*` (a worker's own choice, not part of the search).
    public var modelFormat: any RegisteredModelFormat.Type = KerasH5.self

    public init(space: SearchSpace, sampler: SamplerDescription = Samplers.named(RandomSampler.name)!, schedule: Schedule,
                objective: Monitor, seed: UInt64, validationSplit: Double, base: TrainingRecipe = TrainingRecipe()) {
        self.space = space
        self.sampler = sampler
        self.schedule = schedule
        objectives = SearchObjectives([objective])
        self.seed = seed
        self.validationSplit = validationSplit
        self.base = base
    }

    /// The search's algorithm: the sampler, or Hyperband's schedule.
    public var algorithm: SearchAlgorithm {
        if case .hyperband = schedule { return .hyperband }
        return .sampler(sampler)
    }

    /// The settings as `search.json` records them.
    public var record: SearchRecord {
        var algorithm = SearchRecord.Algorithm(name: self.algorithm.name)
        switch schedule {
        case .trials(let count, let epochs): (algorithm.trials, algorithm.epochs) = (count, epochs)
        case .hyperband(let hyperband):
            (algorithm.maxEpochs, algorithm.factor, algorithm.iterations) = (hyperband.maxEpochs, hyperband.factor, hyperband.iterations)
        }
        // A search without pruning records none, as searches did before pruners.
        if pruner.prunes { algorithm.pruner = pruner.name }
        var record = SearchRecord(space: space.record, objective: objectives.first.name, seed: String(seed), validationSplit: validationSplit,
                                  batchSize: base.batchSize, algorithm: algorithm, data: data)
        if objectives.isMultiObjective { record.objectives = objectives.objectives.map(\.name) }
        if !objectives.constraints.isEmpty { record.constraints = objectives.constraints.map(\.text) }
        (record.folds, record.reproducibleWindow) = (folds, reproducibleWindow)
        return record
    }
}

extension TuningSettings {
    /// "tpe, 20 trials of 4 epochs (the first 10 at random), pruner median", or Hyperband's
    /// brackets.
    public var summary: String {
        switch schedule {
        case .trials(let trials, let epochs):
            let start = sampler.randomStart(space)
            return "\(sampler.name), \(counted(trials, "trial")) of \(counted(epochs, "epoch"))"
                + (start > 0 ? " (the first \(start) at random)" : "")
                + (pruner.prunes ? ", pruner \(pruner.name)" : "")
        case .hyperband(let hyperband):
            let brackets = hyperband.schedule.map { rounds in rounds.map { "\($0.trials)×\($0.epochs)" }.joined(separator: "→") }
            return "\(Hyperband.name), max \(counted(hyperband.maxEpochs, "epoch")), factor \(hyperband.factor), "
                + "\(counted(hyperband.iterations, "iteration")): brackets " + brackets.joined(separator: ", ") + " (trials×epochs)"
        }
    }

    /// A note when the sampler's own proposals would never start: every trial asked for is one
    /// of its random start.
    public var randomStartNote: String? {
        guard case .trials(let count, _) = schedule else { return nil }
        let start = sampler.randomStart(space)
        guard start > 0, start >= count else { return nil }
        return "note: \(sampler.name) draws its first \(start) trials at random: with \(counted(count, "trial")) its own "
            + "proposals never start (give --trials \(start + 1) or more)"
    }
}

extension TrialReport {
    /// "trial 3: learning_rate=0.00312, layers=2, ... → val_accuracy 0.5123 at epoch 4 (12.3 s); best 0.5321 (trial 1)".
    public func line(objective: Monitor) -> String { line(objectives: SearchObjectives([objective])) }

    /// The same for several objectives ("→ val_accuracy 0.5123, params 205156 at epoch 4 …; front:
    /// trials 1, 3"), with a constraint's violation and the folds' scores where there are.
    public func line(objectives: SearchObjectives) -> String {
        var text = "trial \(record.number): \(record.hyperparameters.summary)"
        if let past = record.pastTrial { text += " (from trial \(past), epochs \(record.initialEpoch + 1)-\(record.epochs))" }
        switch record.status {
        case .completed:
            text += " → \(objectives.describe(record))"
            if let folds = record.foldScores { text += " (folds " + folds.map { String(format: "%.4f", $0) }.joined(separator: ", ") + ")" }
            text += " at epoch \(record.bestEpoch ?? 0) (" + String(format: "%.1f s)", record.seconds)
            let broken = zip(objectives.constraints, record.constraints ?? []).filter { $1 > 0 }
            if !broken.isEmpty {
                text += "; infeasible: " + broken.map { "\($0.text) by \(pythonFloatOrInteger(Double(String(format: "%.6g", $1)) ?? $1))" }
                    .joined(separator: ", ")
            }
        case .pruned:
            let steps = (record.intermediateValues.keys.max() ?? 0) + 1
            text += " → pruned after " + (record.foldScores != nil ? "fold" : "epoch") + " \(steps): \(objectives.epochMonitor.name) "
                + String(format: "%.4f", record.score ?? .nan) + " (" + String(format: "%.1f s)", record.seconds)
        default:
            text += " → failed: \(record.reason ?? "unknown")"
        }
        if let front, objectives.isMultiObjective {
            text += "; front: " + (front.isEmpty ? "none yet" : counted(front.count, "trial") + " (" + front.map(String.init).joined(separator: ", ") + ")")
        } else if let best {
            text += "; best " + String(format: "%.4f", best.score ?? .nan) + " (trial \(best.number))"
        }
        return text
    }
}
