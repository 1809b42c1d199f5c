import Foundation

/// The files a search keeps up to date in its folder as trials finish: `trials.csv`, the Optuna
/// journal, `best.h5` (or `best.keras`), `best.json` and `trials.svg`. Each is replaced atomically.
struct TuningOutputs {
    let settings: TuningSettings
    let store: TrialStore

    /// The completed trial with the best score (the earliest on ties).
    static func best(_ records: [TrialRecord], objective: Monitor) -> TrialRecord? {
        objective.best(records.filter { $0.status == .completed }.sorted { $0.number < $1.number }) { $0.score }
    }

    /// Writes the files for `records`. `best.h5` and `best.json` are copied and read from the
    /// best trial's model only when the best trial changed (a 512-unit Adam model is 26 MB),
    /// or always with `refreshingBest`.
    func write(_ records: [TrialRecord], refreshingBest: Bool = false) throws {
        try AtomicFile.write(Data(Self.csv(records, space: settings.space).utf8), to: store.folder + "/trials.csv")
        try OptunaJournal(settings: settings, store: store).sync(records)
        let svg = TrialsChart.svg(records: records, settings: settings)
        try AtomicFile.write(Data(svg.utf8), to: store.folder + "/trials.svg")
        guard let best = Self.best(records, objective: settings.objective) else { return }
        let model = store.trialFolder(best.number) + "/model.h5"
        guard FileManager.default.fileExists(atPath: model) else { return }
        let bestModel = store.folder + "/best." + settings.modelFormat.name
        if !refreshingBest, FileManager.default.fileExists(atPath: bestModel),
           Self.recordedBestTrial(store.folder + "/best.json") == best.number {
            return
        }
        let saved: CompiledModel
        do { saved = try ModelFile.load(path: model) } catch let error as MLPError {
            // A completed trial's model cut short or damaged: the folder says how to mend it.
            throw error.withHint(trialFolder: store.trialFolder(best.number))
        }
        try settings.modelFormat.save(saved, to: bestModel)
        try AtomicFile.write(Data(Self.bestConfig(saved, best: best, settings: settings).utf8), to: store.folder + "/best.json")
    }

    /// The trial a `best.json` was written for; nil when there is none or it cannot be read.
    static func recordedBestTrial(_ path: String) -> Int? {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return (object["mlp_tune"] as? [String: Any])?["trial"] as? Int
    }

    /// One row per trial: its number, a column per hyperparameter (named as in the space),
    /// the score, the epoch of the score, the epochs run, seconds and status; Hyperband's
    /// bracket and round and the trial a promoted one went on from; the reason of a failure.
    static func csv(_ records: [TrialRecord], space: SearchSpace) -> String {
        let keys = space.entries.map(\.key)
        func field(_ text: String) -> String {
            text.contains(where: { ",\"\r\n".contains($0) }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        var lines = [(["trial"] + keys + ["score", "best_epoch", "epochs", "seconds", "status", "bracket", "round", "from_trial", "reason"])
            .joined(separator: ",")]
        for record in records {
            var row = [String(record.number)] + keys.map { record.hyperparameters[$0]?.description ?? "" }
            row.append(record.score.map(pythonFloat) ?? "")
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

    /// The best model's architecture as a Keras model config, usable with `mlp-train --model`,
    /// with its optimizer in Keras 3's `compile_config` and the search's record of it.
    static func bestConfig(_ saved: CompiledModel, best: TrialRecord, settings: TuningSettings) -> String {
        var object = ModelConfig.object(for: saved.model)
        if let optimizer = saved.optimizer {
            object["compile_config"] = ["optimizer": OptimizerConfig.object(for: optimizer), "loss": "categorical_crossentropy",
                                        "metrics": ["accuracy"]] as [String: Any]
        }
        var record: [String: Any] = ["trial": best.number, "objective": settings.objective.name, "hyperparameters": best.hyperparameters.json,
                                     "best_epoch": best.bestEpoch ?? 0, "batch_size": settings.base.batchSize]
        if let score = best.score { record["score"] = score }
        object["mlp_tune"] = record
        return jsonText(object)
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
