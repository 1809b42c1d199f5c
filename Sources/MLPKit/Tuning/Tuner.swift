import Foundation

/// A hyperparameter search: what it searches, how, and what it judges trials by.
public struct TuningSettings {
    /// How trials are chosen and how long each trains.
    public enum Algorithm: Sendable, Equatable {
        /// `trials` trials of values drawn at random, each trained `epochs` epochs.
        case random(trials: Int, epochs: Int)
        /// `trials` trials of `epochs` epochs, their values from the tree-structured Parzen
        /// estimator (`TPESampler`, Optuna's default sampler) once 10 trials are done.
        case tpe(trials: Int, epochs: Int)
        /// `trials` trials of `epochs` epochs, their values from a Gaussian process
        /// (`BayesianSampler`, KerasTuner's `BayesianOptimization`) once 3 per dimension are done.
        case bayesian(trials: Int, epochs: Int)
        /// KerasTuner's Hyperband brackets: many short trials, the best promoted to longer ones.
        case hyperband(Hyperband)

        /// Whether the same search may go on to more trials than it began with.
        var extendsWithMoreTrials: Bool {
            if case .hyperband = self { return false }
            return true
        }
    }

    public var space: SearchSpace
    /// How trials are chosen: random, TPE, Bayesian optimization or Hyperband.
    public var algorithm: Algorithm
    /// `val_accuracy`, `val_auc` or `val_loss`, measured on the validation split only.
    public var objective: Monitor
    /// Seeds the trials' values (as KerasTuner's oracle with the same seed) and each trial's own seed.
    public var seed: UInt64
    /// The last fraction of the training set, before shuffling, that judges the trials.
    public var validationSplit: Double
    /// What every trial shares: batch size, compute options; the space's values go on top.
    public var base: TrainingRecipe
    /// The format of `best.*` and `final.*` (a worker's own choice, not part of the search).
    public var modelFormat: any RegisteredModelFormat.Type = KerasH5.self

    public init(space: SearchSpace, algorithm: Algorithm, objective: Monitor, seed: UInt64, validationSplit: Double,
                base: TrainingRecipe = TrainingRecipe()) {
        self.space = space
        self.algorithm = algorithm
        self.objective = objective
        self.seed = seed
        self.validationSplit = validationSplit
        self.base = base
    }

    /// The settings as `search.json` records them; two workers run one search only when these agree.
    public var json: [String: Any] {
        var object: [String: Any] = ["space": space.jsonObject, "objective": objective.name, "seed": String(seed),
                                     "validation_split": validationSplit, "batch_size": base.batchSize]
        switch algorithm {
        case .random(let trials, let epochs):
            object["algorithm"] = ["name": "random", "trials": trials, "epochs": epochs] as [String: Any]
        case .tpe(let trials, let epochs):
            object["algorithm"] = ["name": "tpe", "trials": trials, "epochs": epochs] as [String: Any]
        case .bayesian(let trials, let epochs):
            object["algorithm"] = ["name": "bayesian", "trials": trials, "epochs": epochs] as [String: Any]
        case .hyperband(let hyperband):
            object["algorithm"] = ["name": "hyperband", "max_epochs": hyperband.maxEpochs, "factor": hyperband.factor,
                                   "iterations": hyperband.iterations] as [String: Any]
        }
        return object
    }

    /// What proposes new trials' values: the TPE for `tpe`, else KerasTuner's random draws
    /// (Hyperband's new trials are random, as KerasTuner's).
    public var sampler: Sampler {
        switch algorithm {
        case .tpe: return TPESampler(space: space, seed: seed, objective: objective)
        case .bayesian: return BayesianSampler(space: space, seed: seed, objective: objective)
        case .random, .hyperband: return RandomSampler(space: space, seed: seed)
        }
    }
}

/// What the tuner tells its user as trials finish.
public struct TrialReport: Sendable {
    /// The trial that just ended.
    public var record: TrialRecord
    /// The best completed trial of the search so far (this one included).
    public var best: TrialRecord?
}

/// One worker of a search: takes the next trial from the shared store, trains it in-process
/// with the same recipe as `mlp-train`, records it, and refreshes the search's outputs (the
/// trials table, the best model and its config, the chart), until the search is done.
public final class Tuner {
    public let settings: TuningSettings
    public let store: TrialStore
    /// The data the trials train and validate on (the training split; its last `validationSplit` is held out
    /// for validation). The holdout split is never loaded.
    public let data: DatasetPair
    /// Extra callbacks for every trial (an interruption).
    public var callbacks: [Callback] = []
    /// Where notes go; trial lines go to `report`.
    public var log: (String) -> Void = { print($0) }
    /// Called after each trial this worker ends, with the search's best so far.
    public var report: (TrialReport) -> Void = { _ in }
    /// Seconds to sleep while other workers' trials decide what comes next.
    public var pollInterval: TimeInterval = 1

    public init(settings: TuningSettings, store: TrialStore, data: DatasetPair) throws {
        self.settings = settings
        self.store = store
        self.data = data
        try store.locked { try checkSettings() }
    }

    /// Writes the settings to a new folder, or checks that the folder's are these.
    func checkSettings() throws {
        let ours = jsonText(settings.json)
        if let data = FileManager.default.contents(atPath: store.settingsPath) {
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw MLPError.format(path: store.settingsPath, problem: "not a search's settings (JSON)")
            }
            var theirs = object, mine = settings.json
            // A random, TPE or Bayesian search may be extended with more trials: each proposal
            // depends on the trials so far, not on how many are to come. Hyperband's schedule
            // is its settings.
            if settings.algorithm.extendsWithMoreTrials {
                theirs["algorithm"] = (theirs["algorithm"] as? [String: Any])?.filter { $0.key != "trials" }
                mine["algorithm"] = (mine["algorithm"] as? [String: Any])?.filter { $0.key != "trials" }
            }
            let differences = Set(theirs.keys).union(mine.keys).sorted().filter { jsonText([theirs[$0] ?? NSNull()]) != jsonText([mine[$0] ?? NSNull()]) }
            guard differences.isEmpty else {
                let detail = differences.map { "\($0) \(jsonText([theirs[$0] ?? NSNull()]).dropFirst().dropLast()) there, "
                    + "\(jsonText([mine[$0] ?? NSNull()]).dropFirst().dropLast()) here" }
                throw MLPError.format(path: store.settingsPath, problem:
                    "this folder holds a search with other settings (\(detail.joined(separator: "; "))); use another folder")
            }
            return
        }
        try AtomicFile.write(Data(ours.utf8), to: store.settingsPath)
    }

    /// What to run next.
    enum Decision {
        case run(TrialRecord)
        case wait
        case done
    }

    /// Runs trials until the search is done; returns false when interrupted.
    public func run() throws -> Bool {
        while true {
            switch try store.locked({ try decide() }) {
            case .done:
                // Refresh the outputs once more (this toolchain may be newer than the trials).
                try store.locked { try TuningOutputs(settings: settings, store: store).write(try store.records(), refreshingBest: true) }
                return true
            case .wait: Thread.sleep(forTimeInterval: pollInterval)
            case .run(let record):
                guard try train(record) else { return false }
            }
        }
    }

    /// Under the lock: takes over a trial whose worker died, or the algorithm's next trial.
    func decide() throws -> Decision {
        let records = try store.records()
        if var orphan = records.first(where: { $0.status == .running && !store.isClaimed($0.number) }) {
            try store.claim(orphan.number)
            orphan.runs.append(TrialRecord.Run(worker: store.worker, started: Date()))
            try store.write(orphan)
            return .run(orphan)
        }
        let sampler = settings.sampler
        let drawn = records.filter { $0.pastTrial == nil }.count
        let number = (records.last?.number ?? -1) + 1
        let idle: Decision = records.contains { $0.status == .running } ? .wait : .done
        func draw() -> Hyperparameters? {
            let values = sampler.propose(number: number, index: drawn, records: records)
            if values == nil { log("note: the search space has no values left that no trial has had") }
            return values
        }
        var record: TrialRecord
        switch settings.algorithm {
        case .random(let trials, let epochs), .tpe(let trials, let epochs), .bayesian(let trials, let epochs):
            guard drawn < trials, let values = draw() else { return idle }
            record = TrialRecord(number: number, hyperparameters: values, epochs: epochs, initialEpoch: 0, seed: trialSeed(number))
        case .hyperband(let hyperband):
            let entries = records.compactMap { r in
                r.slot.map { Hyperband.Entry(number: r.number, slot: $0, pastTrial: r.pastTrial, score: r.score, finished: r.status != .running) }
            }
            switch hyperband.next(after: entries, objective: settings.objective) {
            case .done: return .done
            case .wait: return .wait
            case .new(let slot):
                guard let values = draw() else { return idle }
                record = TrialRecord(number: number, hyperparameters: values, epochs: hyperband.epochs(bracket: slot.bracket, round: 0),
                                     initialEpoch: 0, seed: trialSeed(number))
                record.slot = slot
            case .promote(let past, let slot):
                guard let pastRecord = records.first(where: { $0.number == past }) else { return .wait }
                record = TrialRecord(number: number, hyperparameters: pastRecord.hyperparameters,
                                     epochs: hyperband.epochs(bracket: slot.bracket, round: slot.round),
                                     initialEpoch: hyperband.epochs(bracket: slot.bracket, round: slot.round - 1), seed: trialSeed(number))
                record.slot = slot
                record.pastTrial = past
            }
        }
        record.runs = [TrialRecord.Run(worker: store.worker, started: Date())]
        try store.claim(record.number)
        try store.write(record)
        // The journal shows the trial running at once, for optuna-dashboard; from the records as
        // read back, so that its values are trials.csv's to the last digit.
        try OptunaJournal(settings: settings, store: store).sync(try store.records())
        return .run(record)
    }

    func trialSeed(_ number: Int) -> UInt64 { settings.seed &+ UInt64(number + 1) &* 0x9E37_79B9_7F4A_7C15 }

    /// The recipe of a trial: its values on the shared base, judged on the validation split,
    /// its best epoch saved as its model (Keras Tuner keeps each trial's best epoch too).
    func recipe(for record: TrialRecord) throws -> TrainingRecipe {
        var recipe = record.hyperparameters.apply(to: settings.base)
        let folder = store.trialFolder(record.number)
        if let past = record.pastTrial {
            // A promoted trial goes on from its past trial's model with the optimizer, rate and
            // state that model records (its values are the same trial's).
            let path = store.trialFolder(past) + "/model.h5"
            recipe.start = .continuing(try ModelFile.load(path: path), path: path)
            recipe.optimizer = nil
            recipe.learningRate = nil
        }
        recipe.epochs = record.epochs - record.initialEpoch
        recipe.seed = record.seed
        recipe.validationSplit = settings.validationSplit
        recipe.validationAUC = settings.objective.name == "val_auc"
        recipe.monitor = settings.objective
        recipe.checkpoint = folder + "/model.h5"
        // Nothing reads a trial's model before it ends, and a trial whose worker died runs again
        // from its start: the best epoch is written once, at the end.
        recipe.checkpointWrittenAtEnd = true
        recipe.history = folder + "/history.csv"
        recipe.earlyStoppingPatience = nil
        recipe.reduceLROnPlateau = nil
        recipe.plot = nil
        return recipe
    }

    /// Trains one trial and records it; false when interrupted (its claim released, so that
    /// the next run takes it again).
    func train(_ record: TrialRecord) throws -> Bool {
        var record = record
        let heartbeat = FileHeartbeat(path: store.trialFolder(record.number) + "/claim", interval: max(store.timeout / 4, 0.05))
        defer { heartbeat.stop() }
        let started = Date()
        do {
            let outcome = try recipe(for: record).run(data: { data }, callbacks: callbacks) { _ in }
            if outcome.interruption != nil {
                store.release(record.number)
                return false
            }
            let values = outcome.history.values(settings.objective.name)
            let scored = zip(outcome.history.epochs, values).compactMap { epoch, value in value.map { (epoch, $0) } }
                .filter { $0.1.isFinite }
            guard let best = settings.objective.best(scored, score: { $0.1 }) else {
                throw MLPError.model("no epoch gave a finite \(settings.objective.name)")
            }
            record.status = .completed
            record.score = best.1
            record.bestEpoch = best.0 + 1
        } catch let error as MLPError {
            record.status = .failed
            record.reason = "\(error)"
        }
        record.seconds = Date().timeIntervalSince(started)
        if !record.runs.isEmpty { record.runs[record.runs.count - 1].finished = Date() }
        let finished = record
        let best = try store.locked { () -> TrialRecord? in
            try store.write(finished)
            store.release(finished.number)
            let records = try store.records()
            try TuningOutputs(settings: settings, store: store).write(records)
            return TuningOutputs.best(records, objective: settings.objective)
        }
        report(TrialReport(record: finished, best: best))
        return true
    }
}

extension Tuner {
    /// The best trial so far.
    public func best() throws -> TrialRecord? {
        TuningOutputs.best(try store.records(), objective: settings.objective)
    }

    /// What `retrain` did.
    public enum Retraining: Equatable, Sendable {
        /// Saved `path`, trained for `epochs` epochs.
        case saved(path: String, epochs: Int)
        /// No trial of the search completed with a best epoch: nothing to retrain.
        case noCompletedTrial
        /// Another worker holds the retraining's claim; its `final.h5` (or `.keras`) will follow.
        case anotherWorker
        /// Interrupted (Ctrl-C) before the end: nothing saved.
        case interrupted
    }

    /// The notebook's last step: trains the best trial's values on the whole training set
    /// (validation included) for the epochs behind the best trial's model, and saves
    /// `final.h5` (or `final.keras`, as `settings.modelFormat` asks), unless another worker is
    /// already at it.
    public func retrain(callbacks: [Callback] = []) throws -> Retraining {
        let claim = store.folder + "/final.claim"
        var reason = Retraining.noCompletedTrial
        let chosen = try store.locked { () -> (best: TrialRecord, epochs: Int)? in
            if let age = store.age(of: claim), store.isFresh(age) {
                reason = .anotherWorker
                return nil
            }
            guard let best = TuningOutputs.best(try store.records(), objective: settings.objective),
                  let epochs = best.bestEpoch else { return nil }
            try AtomicFile.write(Data(store.worker.utf8), to: claim)
            return (best, epochs)
        }
        guard let (best, epochs) = chosen else { return reason }
        defer { unlink(claim) }
        let heartbeat = FileHeartbeat(path: claim, interval: max(store.timeout / 4, 0.05))
        defer { heartbeat.stop() }
        var recipe = best.hyperparameters.apply(to: settings.base)
        recipe.epochs = epochs
        recipe.seed = settings.seed
        recipe.validationSplit = 0
        recipe.checkpoint = nil
        recipe.history = store.folder + "/final-history.csv"
        let outcome = try recipe.run(data: { data }, callbacks: callbacks, log: log)
        guard outcome.interruption == nil else { return .interrupted }
        var result = outcome
        result.provenance["tuning"] = jsonText(["trial": best.number, "objective": settings.objective.name,
                                                "score": best.score ?? .nan, "folder": store.folder] as [String: Any])
        let path = store.folder + "/final." + settings.modelFormat.name
        try result.save(to: path)
        return .saved(path: path, epochs: epochs)
    }
}

/// Refreshes a file's modification time from its own thread until stopped.
final class FileHeartbeat: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopped = false

    init(path: String, interval: TimeInterval) {
        Thread { [self] in
            condition.lock()
            while !stopped {
                condition.unlock()
                utimes(path, nil)
                condition.lock()
                if !stopped { _ = condition.wait(until: Date().addingTimeInterval(interval)) }
            }
            condition.unlock()
        }.start()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }
}
