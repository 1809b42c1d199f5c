import Foundation

/// What the tuner tells its user as trials finish.
public struct TrialReport: Sendable {
    /// The trial that just ended.
    public var record: TrialRecord
    /// The best completed trial of the search so far (this one included).
    public var best: TrialRecord?
}

/// One worker of a search: takes the next trial from the shared storage, trains it in-process
/// with the same recipe as `mlp-train`, records it, and refreshes the search's outputs (the
/// trials table, the best model and its config, the chart, the Optuna journal), until the
/// search is done.
public final class Tuner {
    public let settings: TuningSettings
    public let storage: TrialStorage
    /// The data the trials train and validate on (the training split; its last `validationSplit` is held out
    /// for validation). The holdout split is never loaded.
    public let data: DatasetPair
    /// Extra callbacks for every trial (an interruption).
    public var callbacks: [Callback] = []
    /// Where notes go; trial lines go to `report`.
    public var log: (String) -> Void = { print($0) }
    /// Called after each trial this worker ends, with the search's best so far.
    public var report: (TrialReport) -> Void = { _ in }
    /// Where each trial's TensorBoard run and hparams session go, if anywhere.
    public var tensorBoard: TensorBoardSearchLog?
    /// Seconds to sleep while other workers' trials decide what comes next.
    public var pollInterval: TimeInterval = 1

    private let outputs: TuningOutputs
    private let sampler: Sampler
    /// This worker's pruner (Optuna's pruners keep their estimates per process); nil for none.
    private let pruner: Pruner?

    /// A worker of the search `settings` describe, in `storage`. A new search records them; a
    /// search under way must have been made with the same. `rejoin`, where given, decides the
    /// settings again over a record that appeared after this worker read the storage (a worker
    /// started at the same moment made the search first): the options left out take the
    /// record's values instead of conflicting with them.
    public init(settings: TuningSettings, storage: TrialStorage, data: DatasetPair,
                rejoin: ((SearchRecord) throws -> TuningSettings)? = nil) throws {
        try storage.prepare()
        let settings = try storage.locked { try Self.joining(settings, storage: storage, rejoin: rejoin) }
        self.settings = settings
        self.storage = storage
        self.data = data
        outputs = TuningOutputs(settings: settings, folder: storage.folder, worker: storage.worker)
        sampler = settings.sampler.make(settings.space, settings.seed, settings.objective)
        pruner = settings.pruner.prunes ? settings.pruner.make() : nil
    }

    /// Records the settings of a new search, or checks that the search's are these; the
    /// settings the worker runs.
    static func joining(_ settings: TuningSettings, storage: TrialStorage, rejoin: ((SearchRecord) throws -> TuningSettings)?) throws
        -> TuningSettings
    {
        var settings = settings
        guard let theirs = try storage.settings() else {
            try storage.saveSettings(settings.record)
            return settings
        }
        if let recorded = theirs.data, let given = settings.record.data,
           recorded.trainingSHA256 != given.trainingSHA256 || recorded.labelMode != given.labelMode {
            throw MLPError.format(path: storage.settingsLocation, problem: "this search runs on \(recorded.description), "
                + "\(recorded.labelMode) labels; this is \(given.description), \(given.labelMode) labels: \(storage.remedy)")
        }
        let extending = settings.schedule.extendsWithMoreTrials
        var differences = try theirs.differences(from: settings.record, ignoringTrials: extending)
        if !differences.isEmpty, let rejoin {
            let again = try rejoin(theirs)
            if try theirs.differences(from: again.record, ignoringTrials: extending).isEmpty { (settings, differences) = (again, []) }
        }
        guard differences.isEmpty else {
            throw MLPError.format(path: storage.settingsLocation, problem:
                "\(storage.searchNoun) holds a search with other settings (\(differences.joined(separator: "; "))); \(storage.remedy)")
        }
        // A search extended with more trials records its new count, and keeps its data.
        if let more = settings.record.algorithm.trials, let before = theirs.algorithm.trials, more > before {
            var extended = theirs
            extended.algorithm.trials = more
            try storage.saveSettings(extended)
        }
        return settings
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
            switch try storage.deciding({ try decide() }) {
            case .done:
                // Refresh the outputs once more (this toolchain may be newer than the trials).
                try withOutputs(try storage.records) { try outputs.write($0, refreshingBest: true) }
                return true
            case .wait: Thread.sleep(forTimeInterval: pollInterval)
            case .run(let record):
                guard try train(record) else { return false }
            }
        }
    }

    /// Runs `body` on the records `read` returns: under the storage's lock where the outputs
    /// are shared by every worker; where each worker's are its own, without it (the storage
    /// keeps each read and write whole on its own).
    func withOutputs(_ read: () throws -> [TrialRecord], _ body: ([TrialRecord]) throws -> Void) throws {
        if storage.sharesOutputs {
            try storage.locked { try body(try read()) }
        } else {
            try body(try read())
        }
    }

    /// As one decision (`TrialStorage.deciding`): takes over a trial whose worker died, or an
    /// enqueued trial, or the schedule's next trial.
    func decide() throws -> Decision {
        let records = try storage.records()
        if var orphan = records.first(where: { $0.status == .running && !storage.isClaimed(.trial($0.number)) }) {
            try storage.claim(.trial(orphan.number))
            orphan.runs.append(TrialRecord.Run(worker: storage.worker, started: Date()))
            try storage.write(orphan)
            return .run(orphan)
        }
        if let waiting = records.first(where: { $0.status == .waiting }), var record = enqueued(waiting, records: records) {
            record.runs = [TrialRecord.Run(worker: storage.worker, started: Date())]
            try storage.claim(.trial(record.number))
            try storage.write(record)
            return .run(record)
        }
        guard var record = try next(after: records) else {
            return records.contains { $0.status == .running || $0.status == .waiting } ? .wait : .done
        }
        record.runs = [TrialRecord.Run(worker: storage.worker, started: Date())]
        try storage.claim(.trial(record.number))
        try storage.write(record)
        // The journal shows the trial running at once, for optuna-dashboard.
        if storage.sharesOutputs { try outputs.journal.sync(records + [record]) }
        return .run(record)
    }

    /// A trial asked for (Optuna's `enqueue_trial`): its values, and drawn ones for the keys it
    /// leaves out; nil where the schedule does not take such trials (Hyperband's).
    func enqueued(_ waiting: TrialRecord, records: [TrialRecord]) -> TrialRecord? {
        guard case .trials(_, let epochs) = settings.schedule else { return nil }
        let drawn = records.filter { $0.pastTrial == nil }.count
        let proposal = sampler.propose(number: waiting.number, index: drawn, records: records.filter { $0.number != waiting.number })
        var values = proposal?.values ?? [:]
        values.merge(waiting.hyperparameters.values) { $1 }
        return TrialRecord(number: waiting.number, hyperparameters: HyperparameterValues(values: values), epochs: epochs, initialEpoch: 0,
                           seed: trialSeed(waiting.number))
    }

    /// The schedule's next new trial after `records`; nil when there is none to start now (the
    /// search waits for running trials, or is done).
    func next(after records: [TrialRecord]) throws -> TrialRecord? {
        let drawn = records.filter { $0.pastTrial == nil }.count
        let number = (records.last?.number ?? -1) + 1
        func draw() -> HyperparameterValues? {
            let values = sampler.propose(number: number, index: drawn, records: records)
            if values == nil { log("note: the search space has no values left that no trial has had") }
            return values
        }
        switch settings.schedule {
        case .trials(let trials, let epochs):
            guard drawn < trials, let values = draw() else { return nil }
            return TrialRecord(number: number, hyperparameters: values, epochs: epochs, initialEpoch: 0, seed: trialSeed(number))
        case .hyperband(let hyperband):
            return hyperbandTrial(hyperband, number: number, records: records, draw: draw)
        }
    }

    /// Hyperband's next trial: a new one in the bracket's first round, or the best of a round
    /// promoted to the next.
    func hyperbandTrial(_ hyperband: Hyperband, number: Int, records: [TrialRecord], draw: () -> HyperparameterValues?) -> TrialRecord? {
        let entries = records.compactMap { r in
            r.slot.map { Hyperband.Entry(number: r.number, slot: $0, pastTrial: r.pastTrial, score: r.score, finished: r.status != .running) }
        }
        var record: TrialRecord
        switch hyperband.next(after: entries, objective: settings.objective) {
        case .done, .wait: return nil
        case .new(let slot):
            guard let values = draw() else { return nil }
            record = TrialRecord(number: number, hyperparameters: values, epochs: hyperband.epochs(bracket: slot.bracket, round: 0),
                                 initialEpoch: 0, seed: trialSeed(number))
            record.slot = slot
        case .promote(let past, let slot):
            guard let pastRecord = records.first(where: { $0.number == past }) else { return nil }
            record = TrialRecord(number: number, hyperparameters: pastRecord.hyperparameters,
                                 epochs: hyperband.epochs(bracket: slot.bracket, round: slot.round),
                                 initialEpoch: hyperband.epochs(bracket: slot.bracket, round: slot.round - 1), seed: trialSeed(number))
            record.slot = slot
            record.pastTrial = past
        }
        return record
    }

    func trialSeed(_ number: Int) -> UInt64 { settings.seed &+ UInt64(number + 1) &* 0x9E37_79B9_7F4A_7C15 }

    /// The recipe of a trial: its values on the shared base, judged on the validation split,
    /// its best epoch saved as its model (Keras Tuner keeps each trial's best epoch too).
    func recipe(for record: TrialRecord) throws -> TrainingRecipe {
        var recipe = record.hyperparameters.apply(to: settings.base)
        let folder = storage.folder
        if let past = record.pastTrial {
            // A promoted trial goes on from its past trial's model with the optimizer, rate and
            // state that model records (its values are the same trial's).
            let path = folder.model(past)
            recipe.start = .continuing(try ModelFile.load(path: path), path: path)
            recipe.optimizer = nil
            recipe.learningRate = nil
        }
        recipe.epochs = record.epochs - record.initialEpoch
        recipe.seed = record.seed
        recipe.validationSplit = settings.validationSplit
        recipe.validationAUC = settings.objective.name == "val_auc"
        recipe.monitor = settings.objective
        // The user's callbacks that apply inside trials, then the trial's own: its best epoch as its
        // model (written once, at the end: nothing reads it before, and a trial whose worker died
        // runs again from its start), its history and its TensorBoard run.
        recipe.callbackValues = Callbacks.forTrials(settings.base.callbackValues)
        recipe.isTrial = true
        recipe.callbackValues[ModelCheckpoint.flag] = .string(folder.model(record.number))
        recipe.callbackValues[HistoryFile.flag] = .string(folder.history(record.number))
        if let directory = tensorBoard?.trialDirectory(record.number) { recipe.callbackValues[TensorBoardLogger.flag] = .string(directory) }
        return recipe
    }

    /// Trains one trial and records it; false when interrupted (its claim released, so that
    /// the next run takes it again).
    func train(_ record: TrialRecord) throws -> Bool {
        var record = record
        let heartbeat = storage.heartbeat(.trial(record.number))
        defer { heartbeat.stop() }
        let started = Date()
        var trained: TrainingOutcome?
        // The study's name is the folder's, as the Optuna journal names it.
        let pruning = pruner.map { TrialPruning(pruner: $0, storage: storage, objective: settings.objective,
                                                studyName: URL(fileURLWithPath: storage.folder.path).lastPathComponent, record: record) }
        let session = try tensorBoard.map { try $0.sessionStart(record) }
        do {
            let recipe = try recipe(for: record)
            let outcome = try recipe.run(data: { data }, callbacks: callbacks + (pruning.map { [$0] } ?? [])) { _ in }
            if let pruning {
                record.intermediateValues = pruning.record.intermediateValues
                record.prunerAttributes = pruning.record.prunerAttributes
            }
            if outcome.interruption != nil {
                storage.release(.trial(record.number))
                return false
            }
            let values = outcome.history.values(settings.objective.name)
            if pruning == nil {
                // Every epoch's objective, as Optuna's intermediate values (a pruner records them as they come).
                for (epoch, value) in zip(outcome.history.epochs, values) { record.intermediateValues[epoch] = value ?? .nan }
            }
            let scored = zip(outcome.history.epochs, values).compactMap { epoch, value in value.map { (epoch, $0) } }
                .filter { $0.1.isFinite }
            let best = settings.objective.best(scored, score: { $0.1 })
            if let last = pruning?.prunedAfter {
                // Optuna's pruned trial keeps its last value, when finite.
                record.status = .pruned
                record.score = record.intermediateValues[last].flatMap { $0.isFinite ? $0 : nil }
            } else {
                guard let best else { throw MLPError.model("no epoch gave a finite \(settings.objective.name)") }
                record.status = .completed
                record.score = best.1
            }
            record.bestEpoch = best.map { $0.0 + 1 }
            trained = outcome
        } catch let error as MLPError {
            record.status = .failed
            record.reason = "\(error)"
        }
        record.seconds = Date().timeIntervalSince(started)
        if !record.runs.isEmpty { record.runs[record.runs.count - 1].finished = Date() }
        if let tensorBoard, let session { try tensorBoard.sessionEnd(session, status: record.status) }
        try recordFinished(record, trained: trained, abandoned: pruning?.abandoned == true)
        return true
    }

    /// Records a trial this worker ended, refreshes the outputs and reports it; unless another
    /// worker failed it while this one could not reach the storage (`abandoned`, or found so
    /// when writing), which leaves it failed and says so.
    func recordFinished(_ finished: TrialRecord, trained: TrainingOutcome?, abandoned: Bool) throws {
        var best: TrialRecord?
        var kept = !abandoned
        try withOutputs({
            if kept { kept = try storage.write(finished) }
            storage.release(.trial(finished.number))
            return try storage.records()
        }) { records in
            try outputs.write(records, finished: kept ? trained.map { (finished.number, $0) } : nil)
            best = TuningOutputs.best(records, objective: settings.objective)
        }
        guard kept else {
            return log("note: trial \(finished.number) was failed by another worker while this one could not reach "
                       + "\(storage.settingsLocation) (no heartbeat for over \(Int(storage.timeout.rounded())) s); it stays failed, "
                       + "and this worker goes on")
        }
        report(TrialReport(record: finished, best: best))
    }
}

extension Tuner {
    /// The best trial so far.
    public func best() throws -> TrialRecord? {
        TuningOutputs.best(try storage.records(), objective: settings.objective)
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
        var reason = Retraining.noCompletedTrial
        let chosen = try storage.locked { () -> (best: TrialRecord, epochs: Int)? in
            if storage.isClaimed(.retraining) {
                reason = .anotherWorker
                return nil
            }
            guard let best = TuningOutputs.best(try storage.records(), objective: settings.objective),
                  let epochs = best.bestEpoch else { return nil }
            try storage.claim(.retraining)
            return (best, epochs)
        }
        guard let (best, epochs) = chosen else { return reason }
        defer { storage.release(.retraining) }
        let heartbeat = storage.heartbeat(.retraining)
        defer { heartbeat.stop() }
        var recipe = best.hyperparameters.apply(to: settings.base)
        recipe.epochs = epochs
        recipe.seed = settings.seed
        recipe.validationSplit = 0
        recipe.callbackValues = Callbacks.forTrials(settings.base.callbackValues)
        recipe.callbackValues[HistoryFile.flag] = .string(storage.folder.finalHistory)
        let outcome = try recipe.run(data: { data }, callbacks: callbacks, log: log)
        guard outcome.interruption == nil else { return .interrupted }
        var result = outcome
        result.record.tuning = TuningProvenance(trial: best.number, objective: settings.objective.name, score: best.score,
                                                folder: storage.folder.path)
        let path = storage.folder.final(settings.modelFormat)
        try settings.modelFormat.save(CompiledModel(model: result.model, optimizer: result.optimizer, record: result.record), to: path)
        return .saved(path: path, epochs: epochs)
    }
}
