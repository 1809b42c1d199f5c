import Foundation

/// A search as `mlp-tune` was asked for it: every option as given, each optional. `resolve`
/// decides the search from them, over what its storage records, over the defaults.
public struct SearchRequest {
    /// The search's folder: its trials' models and the outputs (with a database, this worker's).
    public var folder: String
    /// A database URL (`postgresql://`, `sqlite:///`) and the study's name in it.
    public var storage: String?
    public var studyName: String?
    public var algorithm: String?
    public var trials: Int?
    public var epochs: Int?
    public var maxEpochs: Int?
    public var factor: Int?
    public var hyperbandIterations: Int?
    public var pruner: String?
    /// `--objective`, repeated for several (a Pareto front); empty for the record's or the default.
    public var objectives: [String] = []
    /// `--constraint NAME<=X` or `NAME>=X`, repeatable.
    public var constraints: [String] = []
    /// `--folds K`: cross-validated trials instead of a validation split.
    public var folds: Int?
    /// `--reproducible` (`reproducibleWindow` 2 unless `--reproducible-window W` is given): the
    /// same trials, number by number, however many workers share the search.
    public var reproducible = false
    public var reproducibleWindow: Int?

    /// The window `--reproducible` alone records.
    public static let defaultWindow = 2
    public var validationSplit: Double?
    public var seed: UInt64?
    /// `--space FILE`: the whole space as JSON.
    public var spaceFile: String?
    /// The hyperparameters' flags given, by key, with the flag's name as typed and its text.
    public var spaceFlags: [(key: String, flag: String, text: String)] = []
    public var compute = ComputeOptions()
    /// The format of `best.*` and `final.*`: a worker's own choice, not part of the search.
    public var saveFormat = KerasH5.name
    public var claimTimeout: TimeInterval = 60
    public var heartbeatInterval: TimeInterval = 60
    /// Seconds a lost database is waited for before the worker stops.
    public var storageTimeout: TimeInterval = 60
    /// Whether to refuse to start a search: only one already recorded is gone on with.
    public var resumeOnly = false
    public var data = DataSelection()

    /// The objectives a search may judge trials by: validation metrics, and the parameter count.
    public static let objectiveNames = SearchObjectives.names

    public init(folder: String) { self.folder = folder }

    /// Opens the storage the request names: the database study, or the folder itself.
    public func openStorage(note: @escaping @Sendable (String) -> Void = { print($0) }) throws -> TrialStorage {
        var options = TrialStorageOptions(folder: folder)
        (options.studyName, options.timeout, options.heartbeatInterval) = (studyName, claimTimeout, heartbeatInterval)
        (options.storageTimeout, options.note, options.createsStudy) = (storageTimeout, note, !resumeOnly)
        return try Storages.open(url: storage ?? folder, options: options)
    }

    /// Refuses options that contradict each other before anything is opened.
    public func check() throws {
        if let storage {
            guard Storages.schemes.contains(Storages.scheme(of: storage)), storage.contains("://") else {
                throw MLPError.setting("storage", problem: "must be a postgresql:// or sqlite:/// URL, got '\(maskedURL(storage))'")
            }
            guard let studyName, !studyName.isEmpty else { throw MLPError.setting("storage", problem: "needs --study-name NAME") }
        } else if studyName != nil {
            throw MLPError.setting("study_name", problem: "names a study in a --storage database; give --storage URL too")
        }
        guard ModelFormats.writable.contains(where: { $0.name == saveFormat }) else {
            throw MLPError.setting("save_format", problem: "must be \(ModelFormats.writable.map { $0.name }.joined(separator: " or ")), got '\(saveFormat)'")
        }
        if let pruner, Pruners.named(pruner) == nil {
            throw MLPError.setting("pruner", problem: "must be one of \(Pruners.all.map(\.name).joined(separator: ", ")), got '\(pruner)'")
        }
        if let algorithm, SearchAlgorithm.named(algorithm) == nil {
            throw MLPError.setting("algorithm", problem: "must be one of \(SearchAlgorithm.all.map(\.name).joined(separator: ", ")), got '\(algorithm)'")
        }
        for objective in objectives where !Self.objectiveNames.contains(objective) {
            throw MLPError.setting("objective", problem: "must be one of \(Self.objectiveNames.joined(separator: ", ")), got '\(objective)'")
        }
        if Set(objectives).count < objectives.count { throw MLPError.setting("objective", problem: "names one objective twice") }
        if !objectives.isEmpty, objectives.allSatisfy({ $0 == SearchObjectives.parameterCount }) {
            throw MLPError.setting("objective", problem: "params needs a validation metric beside it (--objective val_accuracy --objective params)")
        }
        _ = try parsedConstraints()
        if let folds {
            guard folds >= 2 else { throw MLPError.setting("folds", problem: "\(folds): cross-validation needs 2 folds or more") }
            if validationSplit != nil {
                throw MLPError.setting("folds", problem: "and --validation-split exclude each other: the folds are the validation data")
            }
            if data.shuffleSeed != nil {
                throw MLPError.setting("folds", problem: "shuffles the training set by itself (StratifiedKFold's shuffle); leave out --shuffle-seed")
            }
        }
        if spaceFile != nil, let first = spaceFlags.first { throw MLPError.setting("space", problem: "gives the whole space; leave out --\(first.flag)") }
    }

    /// The constraints given, each checked: one error naming the text that is not a bound.
    func parsedConstraints() throws -> [ObjectiveConstraint] {
        try constraints.map { text in
            guard let constraint = ObjectiveConstraint(text) else {
                throw MLPError.setting("constraint", problem: "'\(text)' is not NAME<=X or NAME>=X (a number X), as params<=200000")
            }
            guard Self.objectiveNames.contains(constraint.name) else {
                throw MLPError.setting("constraint", problem: "'\(text)': \(constraint.name) is not one of \(Self.objectiveNames.joined(separator: ", "))")
            }
            return constraint
        }
    }

    /// The format `saveFormat` names.
    var modelFormat: any RegisteredModelFormat.Type { ModelFormats.writable.first { $0.name == saveFormat } ?? KerasH5.self }
}

extension SearchRequest {
    /// Each searchable hyperparameter's flag (`--units 64,128`): a range, a choice or one value.
    /// A booleans' flag alone (`--batch-norm`) means true, as `mlp-train`'s switch does.
    public static var spaceOptions: [ExtensionOption] {
        Hyperparameters.all.map { (type: any RegisteredHyperparameter.Type) -> ExtensionOption in
            guard type.kind == .booleans else {
                return ExtensionOption.text(type.flag, valueName: "values", help: type.help, formerNames: type.formerFlags)
            }
            // Any word that is not an option is the switch's value, read (and refused by the
            // flag's name) as its booleans.
            let isValue: @Sendable (String) -> Bool = { text in !text.hasPrefix("-") }
            return ExtensionOption.text(type.flag, valueName: "true,false", help: type.help, formerNames: type.formerFlags, takesValue: isValue)
        }
    }

    /// The hyperparameters' flags among `values`, by key, each with its text (`true` for a switch).
    public static func spaceFlags(_ values: ExtensionValues) -> [(key: String, flag: String, text: String)] {
        Hyperparameters.all.compactMap { (type: any RegisteredHyperparameter.Type) -> (key: String, flag: String, text: String)? in
            guard let value = values[type.flag] else { return nil }
            return (type.key, type.flag, value.string ?? value.text)
        }
    }

    /// The search's settings: each option given, over what the storage records (`recorded`), over
    /// the defaults. An option that differs from the record is refused, naming it; so is one
    /// that does not apply to the algorithm.
    public func resolve(over recorded: SearchRecord?, storage: TrialStorage) throws -> TuningSettings {
        try check()
        let refuse = Refusal(recorded: recorded, storage: storage)
        let algorithm = try resolveAlgorithm(recorded, refuse)
        let pruner = try resolvePruner(recorded, refuse, algorithm: algorithm, storage: storage)
        let schedule = try resolveSchedule(recorded, refuse, algorithm: algorithm)
        let objectives = try resolveObjectives(recorded, refuse, algorithm: algorithm, pruner: pruner)
        let folds = folds ?? recorded?.folds
        if let given = self.folds, let there = recorded.map({ $0.folds.map { "\($0) folds" } ?? "a validation split" }), given != recorded?.folds {
            throw refuse("folds", String(given), there)
        }
        if folds != nil, case .hyperband = algorithm {
            throw MLPError.setting("folds", problem: "with --algorithm hyperband: a promoted trial goes on from one model, not one per fold; "
                + "use random, tpe, nsga2 or bayesian (with --pruner hyperband, if wanted)")
        }
        let split = folds != nil ? 0 : validationSplit ?? recorded?.validationSplit ?? 0.2
        if let given = validationSplit, let there = recorded?.validationSplit, given != there {
            throw refuse("validation_split", pythonFloat(given), there == 0 ? "\(recorded?.folds ?? 0) folds" : pythonFloat(there))
        }
        if let seed, let text = recorded?.seed, let there = UInt64(text), seed != there {
            throw storage.seedRefusal(given: seed, recorded: there)
        }
        let space = try resolveSpace(recorded, refuse)
        if space.mayBeMixedPrecision, let problem = compute.engine.bfloat16Problem {
            throw MLPError.setting("dtype_policy", problem: "mixed_bfloat16: \(problem)")
        }
        var base = TrainingRecipe()
        base.compute = compute
        let window = try resolveWindow(recorded, refuse, algorithm: algorithm, pruner: pruner)
        var settings = TuningSettings(space: space, sampler: algorithm.sampler, schedule: schedule, objective: objectives.first,
                                      seed: seed ?? recorded.flatMap { UInt64($0.seed) } ?? 0, validationSplit: split, base: base)
        (settings.objectives, settings.folds, settings.reproducibleWindow) = (objectives, folds, window)
        settings.modelFormat = modelFormat
        settings.pruner = pruner
        return settings
    }

    /// Refuses an option that differs from the search's record, naming the option, the record
    /// and what to do instead.
    struct Refusal {
        let recorded: SearchRecord?
        let storage: TrialStorage

        func callAsFunction(_ flag: String, _ given: String, _ there: String) -> MLPError {
            .setting(flag, problem: "\(given): \(storage.recorded(there)); leave the option out, or \(storage.remedy)")
        }

        /// The record's part called `name` does not exist here: the record is damaged or newer.
        func unknown(_ what: String, _ name: String) -> MLPError {
            .format(path: storage.settingsLocation, problem: "unknown \(what) '\(name)'")
        }
    }

    /// The objectives and constraints given, over the record's; several objectives only with a
    /// sampler that judges them, and without a pruner, as Optuna refuses pruning them.
    func resolveObjectives(_ recorded: SearchRecord?, _ refuse: Refusal, algorithm: SearchAlgorithm, pruner: PrunerDescription) throws
        -> SearchObjectives
    {
        let there = recorded?.objectiveNames
        if !objectives.isEmpty, let there, objectives != there {
            throw refuse("objective", objectives.joined(separator: ", "), there.joined(separator: ", "))
        }
        let names = objectives.isEmpty ? there ?? [Self.objectiveNames[0]] : objectives
        var constraints = try parsedConstraints()
        let recordedConstraints = recorded.map { $0.constraints ?? [] }
        if !constraints.isEmpty, let recordedConstraints, constraints.map(\.text) != recordedConstraints {
            throw refuse("constraint", constraints.map(\.text).joined(separator: ", "),
                         recordedConstraints.isEmpty ? "no constraint" : recordedConstraints.joined(separator: ", "))
        }
        if constraints.isEmpty, let recordedConstraints {
            constraints = try recordedConstraints.map { text in
                guard let constraint = ObjectiveConstraint(text) else { throw refuse.unknown("constraint", text) }
                return constraint
            }
        }
        let objectives = SearchObjectives(names.map { Monitor($0) }, constraints: constraints)
        guard objectives.isMultiObjective else { return objectives }
        if case .sampler(let sampler) = algorithm, !sampler.judgesSeveralObjectives {
            throw MLPError.setting("algorithm", problem: "\(sampler.name) judges one objective; with several, use "
                + Samplers.all.filter(\.judgesSeveralObjectives).map(\.name).joined(separator: ", "))
        }
        if case .hyperband = algorithm {
            throw MLPError.setting("algorithm", problem: "hyperband promotes the best trials by one objective; with several, use "
                + Samplers.all.filter(\.judgesSeveralObjectives).map(\.name).joined(separator: ", "))
        }
        if pruner.prunes {
            throw MLPError.setting("pruner", problem: "\(pruner.name) judges one objective, as Optuna's pruners do: a search of "
                + "\(names.count) objectives takes none")
        }
        return objectives
    }

    /// The reproducible mode's window: the one given, or the record's (a worker that leaves
    /// the option out follows the search); a search made without it refuses it.
    func resolveWindow(_ recorded: SearchRecord?, _ refuse: Refusal, algorithm: SearchAlgorithm, pruner: PrunerDescription) throws -> Int? {
        let given = reproducibleWindow ?? (reproducible ? Self.defaultWindow : nil)
        if let given, let recorded, recorded.reproducibleWindow != given {
            throw refuse(reproducibleWindow != nil ? "reproducible_window" : "reproducible", reproducibleWindow.map(String.init) ?? "on",
                         recorded.reproducibleWindow.map { "a reproducible search of window \($0)" } ?? "a search made without --reproducible")
        }
        guard let window = given ?? recorded?.reproducibleWindow else { return nil }
        if case .hyperband = algorithm {
            throw MLPError.setting("reproducible", problem: "hyperband's promotions depend on which trials end first; use random, tpe, nsga2 or bayesian")
        }
        if pruner.prunes {
            throw MLPError.setting("reproducible", problem: "\(pruner.name)'s decisions depend on which trials have reported first; leave out --pruner")
        }
        return window
    }

    func resolveAlgorithm(_ recorded: SearchRecord?, _ refuse: Refusal) throws -> SearchAlgorithm {
        if let there = recorded?.algorithm.name, SearchAlgorithm.named(there) == nil { throw refuse.unknown("algorithm", there) }
        if let algorithm, let there = recorded?.algorithm.name, algorithm != there { throw refuse("algorithm", algorithm, there) }
        return SearchAlgorithm.named(algorithm ?? recorded?.algorithm.name ?? RandomSampler.name)!
    }

    func resolvePruner(_ recorded: SearchRecord?, _ refuse: Refusal, algorithm: SearchAlgorithm, storage: TrialStorage) throws
        -> PrunerDescription
    {
        if let there = recorded?.algorithm.pruner, Pruners.named(there) == nil { throw refuse.unknown("pruner", there) }
        let recordedPruner = recorded.map { $0.algorithm.pruner ?? Pruners.none.name }
        if let pruner, let there = recordedPruner, pruner != there {
            throw refuse("pruner", pruner, recorded?.algorithm.pruner ?? "no pruner")
        }
        let chosen = Pruners.named(pruner ?? recordedPruner ?? Pruners.none.name)!
        if algorithm.resumesPastTrials, !storage.resumesPastTrials {
            throw MLPError.setting("algorithm", problem: "\(algorithm.name) resumes a past trial's model from one disk; with --storage, use "
                + "--pruner hyperband over a random, tpe or bayesian search")
        }
        if case .hyperband = algorithm, chosen.prunes {
            throw MLPError.setting("pruner", problem: "\(chosen.name) with --algorithm hyperband: KerasTuner's schedule already stops "
                + "trials early; use one or the other (--pruner hyperband is Optuna's Hyperband over a random, tpe or bayesian search)")
        }
        return chosen
    }

    func resolveSchedule(_ recorded: SearchRecord?, _ refuse: Refusal, algorithm: SearchAlgorithm) throws -> TuningSettings.Schedule {
        let there = recorded?.algorithm
        guard case .hyperband = algorithm else {
            if let flag = [("max_epochs", maxEpochs), ("factor", factor), ("hyperband_iterations", hyperbandIterations)].first(where: { $0.1 != nil })?.0 {
                throw MLPError.setting(flag, problem: "sets Hyperband's schedule; a \(algorithm.name) search takes --trials and --epochs")
            }
            if let epochs, let recorded = there?.epochs, epochs != recorded { throw refuse("epochs", String(epochs), "\(recorded) epochs a trial") }
            if let trials, let recorded = there?.trials, trials < recorded {
                throw refuse("trials", String(trials), "\(recorded) trials (a larger number goes on with more)")
            }
            return .trials(trials ?? there?.trials ?? 10, epochs: epochs ?? there?.epochs ?? 5)
        }
        if let flag = [("trials", trials), ("epochs", epochs)].first(where: { $0.1 != nil })?.0 {
            throw MLPError.setting(flag, problem: "sets a random, tpe or bayesian search; Hyperband's schedule is --max-epochs, --factor and --hyperband-iterations")
        }
        func value(_ given: Int?, _ recorded: Int?, _ fallback: Int, _ flag: String) throws -> Int {
            if let given, let recorded, given != recorded { throw refuse(flag, String(given), String(recorded)) }
            return given ?? recorded ?? fallback
        }
        return .hyperband(Hyperband(maxEpochs: try value(maxEpochs, there?.maxEpochs, 6, "max_epochs"), factor: try value(factor, there?.factor, 3, "factor"),
                                    iterations: try value(hyperbandIterations, there?.iterations, 1, "hyperband_iterations")))
    }

    func resolveSpace(_ recorded: SearchRecord?, _ refuse: Refusal) throws -> SearchSpace {
        guard let recorded else { return try givenSpace(base: .standard) }
        let space = try SearchSpace(entries: recorded.space.map { ($0.key, $0.value) })
        let given = try givenSpace(base: space)
        if let file = spaceFile, given != space { throw refuse("space", file, "another space") }
        for (key, flag, text) in spaceFlags where given.distribution(of: key) != space.distribution(of: key) {
            throw refuse(flag.replacingOccurrences(of: "-", with: "_"), text, "\(key) \(space.distribution(of: key).map { $0.description } ?? "not searched")")
        }
        return space
    }

    /// The space the options give, on top of `base`: the space file, or each flag replacing its key.
    func givenSpace(base: SearchSpace) throws -> SearchSpace {
        if let file = spaceFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw MLPError.io(path: file, problem: "cannot read file") }
            return try SearchSpace(json: text, source: file)
        }
        var result = base
        for (key, flag, text) in spaceFlags {
            do {
                result = try result.replacing(key, with: try SearchSpace.distribution(key: key, flag: text))
            } catch MLPError.setting(_, let problem) {
                throw MLPError.setting(flag.replacingOccurrences(of: "-", with: "_"), problem: problem)
            }
        }
        return result
    }
}

extension Distribution: CustomStringConvertible {
    /// "0.0001 to 0.01 (log)", "1 to 3", "adam|rmsprop".
    public var description: String {
        switch self {
        case .logUniform(let a, let b): return "\(pythonFloat(a)) to \(pythonFloat(b)) (log)"
        case .uniform(let a, let b): return "\(pythonFloat(a)) to \(pythonFloat(b))"
        case .int(let a, let b): return "\(a) to \(b)"
        case .choice(let values): return values.map(\.description).joined(separator: "|")
        }
    }
}

/// A search ready to run on this worker: its settings, its storage, its data and its tuner,
/// with the lines that announce it.
public struct SearchSession {
    public let settings: TuningSettings
    public let storage: TrialStorage
    public let data: DatasetPair
    public let tuner: Tuner
    /// "search: …" and "space: …".
    public let header: [String]
    let folder: String
}

extension SearchRequest {
    /// Opens the storage, decides the settings against its record, agrees on the seed, loads
    /// the training data (never the holdout set) and makes this worker's tuner.
    ///
    /// - Parameters:
    ///   - tensorBoard: where each trial's TensorBoard run and hparams session go, if anywhere.
    ///   - log: where notes and the data's lines go.
    public func start(tensorBoard: String? = nil, log: @escaping @Sendable (String) -> Void) throws -> SearchSession {
        let storage = try openStorage(note: log)
        let recorded = try storage.settings()
        if recorded == nil, resumeOnly {
            throw MLPError.usage("--resume-only: no search is recorded at \(storage.settingsLocation); leave out --resume-only to start one")
        }
        var settings = try resolve(over: recorded, storage: storage)
        if recorded == nil { log(storage.newSearchLine) }
        // The data is read and checked before the search's folder or study is written to.
        let pair = try data.load(splits: .trainingOnly, defaults: recorded?.data?.defaults(source: storage.settingsLocation), log: log)
        if let folds = settings.folds {
            _ = try StratifiedFolds(labels: pair.train.labels, splits: folds, randomState: 0)
        } else {
            try pair.checkValidationSplit(settings.validationSplit, flag: "validation split")
        }
        try storage.prepare()
        // A new search's seed is drawn once and kept, so that workers started together agree on it.
        settings.seed = try storage.agreedSeed(seed ?? recorded.flatMap { UInt64($0.seed) })
        if let note = settings.randomStartNote { log(note) }
        settings.data = DataRecord(pair, labelMode: data.labelMode ?? recorded?.data.flatMap { LabelMode(rawValue: $0.labelMode) } ?? .fine)
        let agreed = settings
        // A search another worker made while this one loaded its data: decided again over its record.
        let tuner = try Tuner(settings: settings, storage: storage, data: pair) { record in
            var again = try resolve(over: record, storage: storage)
            (again.seed, again.data) = (agreed.seed, agreed.data)
            return again
        }
        settings = tuner.settings
        if let tensorBoard {
            tuner.tensorBoard = try TensorBoardSearchLog(directory: tensorBoard, space: settings.space, objective: settings.objective)
        }
        let held = pair.train.splitValidation(fraction: settings.validationSplit).validation.count
        let done = try storage.records().filter { $0.status != .running && $0.status != .waiting }.count
        let objectives = settings.objectives
        let judged = (objectives.isMultiObjective ? "objectives " : "objective ") + objectives.objectives.map(\.name).joined(separator: ", ")
            + (objectives.constraints.isEmpty ? "" : " subject to " + objectives.constraints.map(\.text).joined(separator: ", "))
            + (settings.folds.map { ", by \($0)-fold cross-validation of the \(pair.train.count) training images" }
                ?? " on the last \(held) of \(pair.train.count) training images")
        let header = ["search: \(settings.summary), \(judged) (the holdout set is not read); seed \(settings.seed); folder \(folder)"
                      + (self.storage != nil ? "; \(storage.settingsLocation)" : "") + (done > 0 ? " (\(counted(done, "trial")) already done)" : ""),
                      "space: " + settings.space.entries.map { "\($0.key) \($0.distribution)" }.joined(separator: ", ")]
        return SearchSession(settings: settings, storage: storage, data: pair, tuner: tuner, header: header, folder: folder)
    }
}

extension SearchSession {
    /// What the search reached, once it is done: the storage's cost for the trials this worker
    /// ran, the best trial, and the files written; an error when no trial completed.
    public func summary(trialsRunHere: Int) throws -> [String] {
        var lines = storage.costLine(trials: trialsRunHere).map { [$0] } ?? []
        let records = try storage.records()
        if let note = settings.objectives.infeasibleNote(records) { throw MLPError.model(note) }
        guard let best = settings.objectives.best(records) else {
            let failed = records.last { $0.status == .failed }
            throw MLPError.model("no trial of \(storage.searchName) completed"
                + (failed.flatMap { record in record.reason.map { "; trial \(record.number): \($0)" } } ?? " (see trials.csv for why)"))
        }
        let objectives = settings.objectives
        if objectives.isMultiObjective {
            let front = objectives.front(records)
            lines.append("front: \(counted(front.count, "trial")): " + front.map { "\($0.number) (\(objectives.describe($0)))" }.joined(separator: ", "))
        }
        lines.append("best: trial \(best.number)" + (objectives.isMultiObjective ? ", the front's best \(objectives.first.name)" : "")
                     + ", \(objectives.describe(best)) at epoch \(best.bestEpoch ?? 0): \(best.hyperparameters.summary)")
        lines.append("wrote \(folder)/trials.csv, trials.svg, optuna-journal.log, best.\(settings.modelFormat.name), best.json"
                     + (settings.folds != nil ? ", folds.json" : ""))
        return lines
    }

    /// The line after `--retrain`; nil when it was interrupted.
    public func retrainLine(_ result: Tuner.Retraining) throws -> String? {
        switch result {
        case .saved(let path, let epochs): return "saved \(path) (\(counted(epochs, "epoch"))); compare it with mlp-eval --compare"
        case .anotherWorker: return "another worker is retraining; its final.\(settings.modelFormat.name) will be in \(folder)"
        case .noCompletedTrial: throw MLPError.model("no trial of \(storage.searchName) has a best epoch to retrain")
        case .interrupted: return nil
        }
    }
}
