import Foundation

/// How a worker trains one trial: on the validation split, or once per fold of a
/// cross-validated search; then its objectives' values, its constraints' values and its state.
extension Tuner {
    /// The recipe of a trial: its values on the shared base, judged on the validation split (or
    /// the fold `fold`, placed last), its best epoch saved as its model (Keras Tuner keeps each
    /// trial's best epoch too). Only the first fold writes the trial's model, history and run.
    func recipe(for record: TrialRecord, fold: Int? = nil) throws -> TrainingRecipe {
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
        if let fold, let folds { recipe.validationCount = folds.validationIndices[fold].count }
        recipe.validationAUC = settings.objectives.measures.contains("val_auc")
        recipe.monitor = settings.objective
        recipe.callbackValues = Callbacks.forTrials(settings.base.callbackValues)
        recipe.isTrial = true
        guard (fold ?? 0) == 0 else { return recipe }
        // The trial's own callbacks: its best epoch as its model (written once, at the end:
        // nothing reads it before, and a trial whose worker died runs again from its start), its
        // history and its TensorBoard run.
        recipe.callbackValues[ModelCheckpoint.flag] = .string(folder.model(record.number))
        recipe.callbackValues[HistoryFile.flag] = .string(folder.history(record.number))
        if let directory = tensorBoard?.trialDirectory(record.number) { recipe.callbackValues[TensorBoardLogger.flag] = .string(directory) }
        return recipe
    }

    /// The data of fold `fold`: its training part, then its validation part last; made once
    /// per fold and kept for the worker's later trials.
    func foldData(_ fold: Int?) -> DatasetPair {
        guard let fold, let folds else { return data }
        if let made = foldPairs[fold] { return made }
        var pair = data
        pair.train = data.train.reordered(folds.trainingIndices(fold, count: data.train.count) + folds.validationIndices[fold])
        foldPairs[fold] = pair
        return pair
    }

    /// One run's result: its best epoch (from 0) by the epoch monitor, and each measure there.
    struct FoldResult {
        var outcome: TrainingOutcome
        var bestEpoch: Int?
        var measures: [String: Double] = [:]
    }

    func fit(_ record: TrialRecord, fold: Int?, pruning: TrialPruning?) throws -> FoldResult {
        let recipe = try recipe(for: record, fold: fold)
        let perEpoch = pruning.flatMap { $0.judgesFolds ? nil : $0 }
        let outcome = try recipe.run(data: { foldData(fold) }, callbacks: callbacks + (perEpoch.map { [$0] } ?? [])) { _ in }
        let monitor = settings.objective
        let scored = zip(outcome.history.epochs.indices, outcome.history.values(monitor.name)).compactMap { index, value in
            value.flatMap { $0.isFinite ? (index, $0) : nil }
        }
        var result = FoldResult(outcome: outcome, bestEpoch: monitor.best(scored, score: { $0.1 })?.0)
        if let best = result.bestEpoch {
            for name in settings.objectives.measures {
                result.measures[name] = SearchObjectives.measure(name, history: outcome.history, epoch: best,
                                                                 parameterCount: outcome.model.parameterCount)
            }
        }
        return result
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
                                                studyName: URL(fileURLWithPath: storage.folder.path).lastPathComponent, record: record,
                                                judgesFolds: folds != nil) }
        let session = try tensorBoard.map { try $0.sessionStart(record) }
        do {
            var results: [FoldResult] = []
            let runs: [Int?] = folds.map { Array(0..<$0.splits) } ?? [nil]
            for fold in runs {
                let result = try fit(record, fold: fold, pruning: pruning)
                if result.outcome.interruption != nil {
                    storage.release(.trial(record.number))
                    return false
                }
                results.append(result)
                if (fold ?? 0) == 0 { trained = result.outcome }
                if pruning?.abandoned == true || pruning?.prunedAfter != nil { break }
                if let fold, let pruning, try pruning.report(fold, mean(results.map { $0.measures[settings.objective.name] ?? .nan })) { break }
            }
            if let pruning {
                record.intermediateValues = pruning.record.intermediateValues
                record.prunerAttributes = pruning.record.prunerAttributes
            }
            try score(&record, results, prunedAfter: pruning?.prunedAfter)
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

    /// Fills in a trained trial's state, score, values and constraints from its runs (one per
    /// fold): each measure is the mean over the folds at each fold's best epoch.
    func score(_ record: inout TrialRecord, _ results: [FoldResult], prunedAfter: Int?) throws {
        let objectives = settings.objectives, monitor = settings.objective
        if folds != nil {
            record.foldScores = results.map { $0.measures[monitor.name] ?? .nan }
        } else if prunedAfter == nil, let history = results.first?.outcome.history {
            // Every epoch's objective, as Optuna's intermediate values (a pruner records them as they come).
            for (epoch, value) in zip(history.epochs, history.values(monitor.name)) where record.intermediateValues[epoch] == nil {
                record.intermediateValues[epoch] = value ?? .nan
            }
        }
        let bestEpochs = results.compactMap { result in result.bestEpoch.map { result.outcome.history.epochs[$0] } }
        record.bestEpoch = bestEpochs.isEmpty ? nil : Int((Double(bestEpochs.reduce(0, +)) / Double(bestEpochs.count)).rounded()) + 1
        if let last = prunedAfter {
            // Optuna's pruned trial keeps its last value, when finite.
            record.status = .pruned
            record.score = record.intermediateValues[last].flatMap { $0.isFinite ? $0 : nil }
            return
        }
        let complete = results.filter { $0.bestEpoch != nil }
        guard !complete.isEmpty, complete.count == results.count else { throw MLPError.model("no epoch gave a finite \(monitor.name)") }
        let measure = { (name: String) in self.mean(complete.map { $0.measures[name] ?? .nan }) }
        record.parameterCount = complete[0].outcome.model.parameterCount
        let values = objectives.objectives.map { measure($0.name) }
        record.status = .completed
        record.score = values[0]
        record.values = objectives.isMultiObjective ? values : nil
        record.constraints = objectives.constraints.isEmpty ? nil : objectives.constraints.map { $0.value(measure($0.name)) }
    }

    func mean(_ values: [Double]) -> Double { values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count) }
}
