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
    /// `val_accuracy`, `val_auc` or `val_loss`, measured on the validation split only.
    public var objective: Monitor
    /// Seeds the trials' values (as KerasTuner's oracle with the same seed) and each trial's own seed.
    public var seed: UInt64
    /// The last fraction of the training set, before shuffling, that judges the trials.
    public var validationSplit: Double
    /// What every trial shares: batch size, compute options; the space's values go on top.
    public var base: TrainingRecipe
    /// The data the search runs on, recorded so that a worker on other data is refused.
    public var data: DataRecord?
    /// The pruner that stops hopeless trials early (`Pruners`' name; "none" by default).
    public var pruner = NopPruner.name
    /// The format of `best.*` and `final.*` (a worker's own choice, not part of the search).
    public var modelFormat: any RegisteredModelFormat.Type = KerasH5.self

    public init(space: SearchSpace, sampler: SamplerDescription = Samplers.named(RandomSampler.name)!, schedule: Schedule,
                objective: Monitor, seed: UInt64, validationSplit: Double, base: TrainingRecipe = TrainingRecipe()) {
        self.space = space
        self.sampler = sampler
        self.schedule = schedule
        self.objective = objective
        self.seed = seed
        self.validationSplit = validationSplit
        self.base = base
    }

    /// The name of the search's algorithm, as `search.json` and the command line spell it: the
    /// sampler's, or "hyperband".
    public var algorithmName: String {
        if case .hyperband = schedule { return "hyperband" }
        return sampler.name
    }

    /// The settings as `search.json` records them.
    public var record: SearchRecord {
        var algorithm = SearchRecord.Algorithm(name: algorithmName)
        switch schedule {
        case .trials(let count, let epochs): (algorithm.trials, algorithm.epochs) = (count, epochs)
        case .hyperband(let hyperband):
            (algorithm.maxEpochs, algorithm.factor, algorithm.iterations) = (hyperband.maxEpochs, hyperband.factor, hyperband.iterations)
        }
        // A search without pruning records none, as searches did before pruners.
        if pruner != NopPruner.name { algorithm.pruner = pruner }
        return SearchRecord(space: space.record, objective: objective.name, seed: String(seed), validationSplit: validationSplit,
                            batchSize: base.batchSize, algorithm: algorithm, data: data)
    }
}

extension SearchRecord {
    /// Checks that the record's algorithm and pruner are ones this toolchain has; one error
    /// naming `path` otherwise.
    public func checkParts(path: String) throws {
        let name = algorithm.name
        guard name == "hyperband" || Samplers.named(name) != nil else {
            throw MLPError.format(path: path, problem: "unknown algorithm '\(name)'")
        }
        if let pruner = algorithm.pruner, Pruners.make(pruner) == nil {
            throw MLPError.format(path: path, problem: "unknown pruner '\(pruner)'")
        }
    }
}
