import Foundation

/// The files a search keeps up to date in its folder as trials finish: `trials.csv`, the Optuna
/// journal, `best.h5` (or `best.keras`), `best.json` and `trials.svg`. Each is replaced atomically.
final class TuningOutputs {
    let settings: TuningSettings
    let folder: SearchFolder
    let journal: OptunaJournal
    // The trial `best.json` was last seen to name, with the identity of its file then.
    private var knownBest: (file: FileIdentity, best: Recorded?)?
    /// What `best.json` names: its trial, and with several objectives the front.
    private struct Recorded: Equatable {
        var trial: Int
        var front: [Int]?
    }

    init(settings: TuningSettings, folder: SearchFolder, worker: String) {
        self.settings = settings
        self.folder = folder
        journal = OptunaJournal(settings: settings, folder: folder, worker: worker)
    }

    /// Writes the files for `records`. The best model's files are written only when the best
    /// trial changed, or always with `refreshingBest`; `finished` is the trial this worker has
    /// just trained, whose model and optimizer are in memory: when it is the best, its
    /// `best.json` comes from them, and `best.h5` is its `model.h5`'s bytes.
    func write(_ records: [TrialRecord], refreshingBest: Bool = false, finished: (number: Int, outcome: TrainingOutcome)? = nil) throws {
        try AtomicFile.write(Data(Self.csv(records, settings: settings).utf8), to: folder.table)
        try journal.sync(records)
        let svg = TrialsChart.svg(records: records, settings: settings)
        try AtomicFile.write(Data(svg.utf8), to: folder.chart)
        guard let best = settings.objectives.best(records) else { return }
        let model = folder.model(best.number)
        guard FileManager.default.fileExists(atPath: model) else { return }
        let bestModel = folder.best(settings.modelFormat)
        // With several objectives, best.json also lists the front, which changes on its own.
        let front = settings.objectives.isMultiObjective ? settings.objectives.front(records).map(\.number) : nil
        let current = Recorded(trial: best.number, front: front)
        if !refreshingBest, FileManager.default.fileExists(atPath: bestModel), recordedBest() == current { return }
        var record = BestTrialRecord(trial: best.number, objective: settings.objective.name, score: best.score,
                                     hyperparameters: best.hyperparameters, bestEpoch: best.bestEpoch ?? 0,
                                     batchSize: best.hyperparameters["batch_size"]?.number.map { Int($0) } ?? settings.base.batchSize,
                                     seed: String(settings.seed), data: settings.data, folder: folder.path)
        record.folds = settings.folds
        if settings.objectives.isMultiObjective {
            (record.objectives, record.values, record.bestTrials) = (settings.objectives.objectives.map(\.name), best.values, front)
        }
        let config: String
        do {
            if let finished, finished.number == best.number, settings.modelFormat == KerasH5.self {
                guard let bytes = FileManager.default.contents(atPath: model) else {
                    throw MLPError.io(path: model, problem: "cannot read the trial's model")
                }
                try AtomicFile.write(bytes, to: bestModel)
                config = try ModelConfig.json(for: finished.outcome.model, compiledWith: finished.outcome.optimizer, extras: ["mlp_tune": record])
            } else {
                let saved = try ModelFile.load(path: model)
                try settings.modelFormat.save(saved, to: bestModel)
                config = try ModelConfig.json(for: saved.model, compiledWith: saved.optimizer, extras: ["mlp_tune": record])
            }
        } catch let error as MLPError {
            // A completed trial's model cut short or damaged: the folder says how to mend it.
            throw error.withHint(trialFolder: folder.trial(best.number))
        }
        try AtomicFile.write(Data(config.utf8), to: folder.bestConfig)
        if let identity = FileIdentity(path: folder.bestConfig) { knownBest = (identity, current) }
    }

    /// What `best.json` names; nil when there is none or it cannot be read. Read again only
    /// when the file changed since this worker last saw it.
    private func recordedBest() -> Recorded? {
        guard let identity = FileIdentity(path: folder.bestConfig) else { return nil }
        if let knownBest, knownBest.file == identity { return knownBest.best }
        let record = FileManager.default.contents(atPath: folder.bestConfig).flatMap { BestTrialRecord.read(bestConfig: $0) }
        let recorded = record.map { Recorded(trial: $0.trial, front: $0.bestTrials) }
        knownBest = (identity, recorded)
        return recorded
    }

    /// One row per trial: its number, a column per hyperparameter (named as in the space),
    /// the score (with several objectives, a column per objective instead), each constraint's
    /// value, each fold's score, the epoch of the score, the epochs run, seconds and status;
    /// Hyperband's bracket and round and the trial a promoted one went on from; the reason of a
    /// failure.
    static func csv(_ records: [TrialRecord], settings: TuningSettings) -> String {
        let keys = settings.space.entries.map(\.key), objectives = settings.objectives
        let valueColumns = objectives.isMultiObjective ? objectives.objectives.map(\.name) : ["score"]
        let constraintColumns = objectives.constraints.map { "constraint " + $0.text }
        let foldColumns = (0..<(settings.folds ?? 0)).map { "fold_\($0 + 1)" }
        func field(_ text: String) -> String {
            text.contains(where: { ",\"\r\n".contains($0) }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        let header = ["trial"] + keys + valueColumns + constraintColumns + foldColumns
            + ["best_epoch", "epochs", "seconds", "status", "bracket", "round", "from_trial", "reason"]
        var lines = [header.map(field).joined(separator: ",")]
        for record in records {
            var row = [String(record.number)] + keys.map { record.hyperparameters[$0]?.description ?? "" }
            let values = objectives.isMultiObjective ? record.values : record.score.map { [$0] }
            row += valueColumns.indices.map { i in values.flatMap { $0.indices.contains(i) ? pythonFloat($0[i]) : nil } ?? "" }
            row += constraintColumns.indices.map { i in record.constraints.flatMap { $0.indices.contains(i) ? pythonFloat($0[i]) : nil } ?? "" }
            row += foldColumns.indices.map { i in record.foldScores.flatMap { $0.indices.contains(i) ? pythonFloat($0[i]) : nil } ?? "" }
            row.append(record.bestEpoch.map(String.init) ?? "")
            row.append(String(record.epochs))
            row.append(String(format: "%.2f", record.seconds))
            row.append(record.status.rawValue)
            row.append(record.slot.map { String($0.bracket) } ?? "")
            row.append(record.slot.map { String($0.round) } ?? "")
            row.append(record.pastTrial.map(String.init) ?? "")
            row.append(record.reason ?? "")
            lines.append(row.map(field).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension MLPError {
    /// The same error, saying how to mend a search whose completed trial's model is damaged.
    func withHint(trialFolder: String) -> MLPError {
        let hint = "; remove \(trialFolder) and run again: the search draws another trial in its place"
        switch self {
        case .io(let path, let problem): return .io(path: path, problem: problem + hint)
        case .format(let path, let problem): return .format(path: path, problem: problem + hint)
        default: return self
        }
    }
}
