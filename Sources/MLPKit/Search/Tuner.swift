import Foundation

/// What the tuner tells its user as trials finish.
public struct TrialReport: Sendable {
    /// The trial that just ended.
    public var record: TrialRecord
    /// The best completed trial of the search so far (this one included).
    public var best: TrialRecord?
    /// With several objectives, the front so far: its trials' numbers.
    public var front: [Int]?
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
    let pruner: Pruner?
    /// A cross-validated search's folds of the training set.
    let folds: StratifiedFolds?
    /// Each fold's data (`foldData`), by fold, once made.
    var foldPairs: [Int: DatasetPair] = [:]

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
        sampler = settings.sampler.make(settings.space, settings.seed, settings.objectives)
        pruner = settings.pruner.prunes ? settings.pruner.make() : nil
        folds = try settings.folds.map { try StratifiedFolds(labels: data.train.labels, splits: $0, randomState: Self.foldSeed(settings.seed)) }
        if let folds { try AtomicFile.write(Data(try JSONRecords.text(folds).utf8), to: storage.folder.folds) }
    }

    /// The folds' `random_state`: the search's seed, within numpy's 32-bit seeds.
    public static func foldSeed(_ seed: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: seed) }

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
        var (seen, index) = (records, drawn)
        if let window = settings.reproducibleWindow {
            // A reproducible search proposes trial n from the trials below n − window alone,
            // once they have all ended: the same trials whichever worker runs it, and when.
            seen = records.filter { $0.number < number - window }
            guard !seen.contains(where: { $0.status == .running || $0.status == .waiting }) else { return nil }
            index = number
        }
        func draw() -> HyperparameterValues? {
            let values = sampler.propose(number: number, index: index, records: seen)
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

    /// Records a trial this worker ended, refreshes the outputs and reports it; unless another
    /// worker failed it while this one could not reach the storage (`abandoned`, or found so
    /// when writing), which leaves it failed and says so.
    func recordFinished(_ finished: TrialRecord, trained: TrainingOutcome?, abandoned: Bool) throws {
        var best: TrialRecord?
        var front: [Int]?
        var kept = !abandoned
        try withOutputs({
            if kept { kept = try storage.write(finished) }
            storage.release(.trial(finished.number))
            return try storage.records()
        }) { records in
            try outputs.write(records, finished: kept ? trained.map { (finished.number, $0) } : nil)
            best = settings.objectives.best(records)
            if settings.objectives.isMultiObjective { front = settings.objectives.front(records).map(\.number) }
        }
        guard kept else {
            return log("note: trial \(finished.number) was failed by another worker while this one could not reach "
                       + "\(storage.settingsLocation) (no heartbeat for over \(Int(storage.timeout.rounded())) s); it stays failed, "
                       + "and this worker goes on")
        }
        report(TrialReport(record: finished, best: best, front: front))
    }
}

extension Tuner {
    /// The best trial so far.
    public func best() throws -> TrialRecord? {
        settings.objectives.best(try storage.records())
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
    /// already at it. `trial` picks another trial: a member of the front with several
    /// objectives, any completed trial with one.
    public func retrain(trial: Int? = nil, callbacks: [Callback] = []) throws -> Retraining {
        var reason = Retraining.noCompletedTrial
        let chosen = try storage.locked { () -> (best: TrialRecord, epochs: Int)? in
            if storage.isClaimed(.retraining) {
                reason = .anotherWorker
                return nil
            }
            let records = try storage.records()
            guard let best = try trial.map({ try chosenTrial($0, records) }) ?? settings.objectives.best(records),
                  let epochs = best.bestEpoch else { return nil }
            try storage.claim(.retraining)
            return (best, epochs)
        }
        guard let (best, epochs) = chosen else { return reason }
        log(trial != nil ? "retraining trial \(best.number)'s values on all \(data.train.count) training images"
            : "retraining the best values on all \(data.train.count) training images")
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

    /// Trial `number`, where `--trial` may pick it; else one error naming the trials it may pick.
    func chosenTrial(_ number: Int, _ records: [TrialRecord]) throws -> TrialRecord {
        let objectives = settings.objectives
        let pool = objectives.isMultiObjective ? objectives.front(records) : objectives.candidates(records)
        if let chosen = pool.first(where: { $0.number == number }) { return chosen }
        let listed = pool.map { String($0.number) }.joined(separator: ", ")
        throw MLPError.setting("trial", problem: "\(number) is not " + (objectives.isMultiObjective
            ? "on the front of \(storage.searchName) (its trials: \(listed.isEmpty ? "none" : listed))"
            : "a completed\(objectives.constraints.isEmpty ? "" : ", feasible") trial of \(storage.searchName)"))
    }
}
