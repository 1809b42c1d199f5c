import ArgumentParser
import Foundation
import MLPCommandLine
import MLPKit

/// Objectives by their `--objective` names: validation metrics only.
enum ObjectiveName: String, ExpressibleByArgument, CaseIterable {
    case valAccuracy = "val_accuracy", valAUC = "val_auc", valLoss = "val_loss"
}

@main
struct MLPTune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlp-tune",
        abstract: "Search hyperparameters on a validation split of the training set; never reads the holdout set.",
        discussion: """
            Without space options, searches KerasTuner's usual MLP space: --learning-rate 1e-4:1e-2 (log scale), \
            --hidden-layers 1:3, --units 64,128,256,512, --dropout 0:0.5, --optimizer adam,rmsprop. Each option replaces its key: \
            LOW:HIGH is a range, A,B,C a choice, one value a fixed value. --space FILE gives the whole space as JSON instead.

            Run again on the same --output-dir, it goes on with everything the folder's search.json records (the space, \
            the algorithm, the data, the seed): give no other option, or a larger --trials for more trials; an option that \
            differs from the record is refused. Several mlp-tune processes on one folder (on one machine or several sharing \
            it) split the trials and never run one twice.

            Writes trials.csv, trials.svg, optuna-journal.log, best.h5 (best.keras with --save-format keras), best.json \
            and a folder per trial; with --retrain, final.h5 (or final.keras) and final-history.csv.
            """)

    static func main() { mainReportingOneLine() }

    @Option(help: ArgumentHelp("The search's folder: its trials, its outputs, and what lets several workers share it.", valueName: "folder"))
    var outputDir: String

    @OptionGroup var data: DataOptions

    @Option(help: ArgumentHelp("Search algorithm: " + (Samplers.all.map { "\($0.name) (\($0.summary))" } + ["hyperband (KerasTuner's bracket schedule over random draws)"]).joined(separator: ", ") + ". Default: the folder's, else random.",
                               valueName: "name"))
    var algorithm: String?

    @Option(parsing: .unconditional, help: "Trials of a random, tpe or bayesian search (1 to 10000; default: the folder's, else 10). A larger number goes on with more.")
    var trials: Int?

    @Option(parsing: .unconditional, help: "Epochs per trial of a random, tpe or bayesian search (1 to 10000; default: the folder's, else 5).")
    var epochs: Int?

    @Option(parsing: .unconditional, help: "Hyperband's largest number of epochs for a trial (1 to 10000; default: the folder's, else 6).")
    var maxEpochs: Int?

    @Option(parsing: .unconditional, help: "Hyperband's reduction factor (2 to 100; default: the folder's, else 3).")
    var factor: Int?

    @Option(parsing: .unconditional, help: "Times Hyperband runs its whole schedule (1 to 100; default: the folder's, else 1).")
    var hyperbandIterations: Int?

    @Option(help: ArgumentHelp("Stop hopeless trials early, judged after each epoch against the other trials, as Optuna's pruners do: "
                               + Pruners.summaries.joined(separator: ", ") + ". Default: the folder's, else none.", valueName: "name"))
    var pruner: String?

    @Option(help: "What judges a trial, on the validation split: val_accuracy, val_auc or val_loss (default: the folder's, else val_accuracy).")
    var objective: ObjectiveName?

    @Option(parsing: .unconditional, help: "The fraction of the training set, taken from its end before shuffling as Keras does, that judges the trials (above 0, below 1; default: the folder's, else 0.2).")
    var validationSplit: Double?

    @Option(help: "Seed of the trials' values, weights and shuffles (default: the folder's, or drawn at random). The values are KerasTuner's with the same seed.")
    var seed: UInt64?

    @Option(help: ArgumentHelp("The search space as JSON: {\"learning_rate\": {\"log_uniform\": [0.0001, 0.01]}, \"layers\": {\"int\": [1, 3]}, ...}.", valueName: "file"))
    var space: String?

    @Option(parsing: .unconditional, help: "Learning rates, LOW:HIGH on a log scale, or A,B,C.")
    var learningRate: String?

    @Option(parsing: .unconditional, help: "How many hidden layers, LOW:HIGH or A,B,C (e.g. 1:3): --units and --activation give each layer's width and activation.")
    var hiddenLayers: String?

    @Option(name: .customLong("layers"), parsing: .unconditional, help: ArgumentHelp("The former name of --hidden-layers.", visibility: .hidden))
    var layersAlias: String?

    @Option(parsing: .unconditional, help: "Units of every hidden layer, A,B,C or LOW:HIGH.")
    var units: String?

    @Option(help: "Activations of every hidden layer, A,B,C (default relu).")
    var activation: String?

    @Option(parsing: .unconditional, help: "Dropout rates after each hidden layer, LOW:HIGH or A,B,C.")
    var dropout: String?

    @Option(help: "Optimizers, A,B,C of \(OptimizerKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var optimizer: String?

    @Option(parsing: .unconditional, help: "Batch sizes, A,B,C or LOW:HIGH (default 128).")
    var batchSize: String?

    @Option(parsing: .unconditional, help: "L2 factors of every hidden Dense's kernel, LOW:HIGH (log scale when LOW > 0) or A,B,C.")
    var l2: String?

    @Option(help: "BatchNormalization after each hidden Dense: true, false, or true,false.")
    var batchNorm: String?

    @Option(help: "Keras's dtype policy of each trial's model: float32, mixed_bfloat16, or float32,mixed_bfloat16 to search it (the output layer stays float32).")
    var dtypePolicy: String?

    @OptionGroup var compute: ComputeOptionGroup

    @Flag(help: "When the search is done, train the best values on the whole training set for the best trial's epochs, and save final.h5.")
    var retrain = false

    @Option(help: ArgumentHelp("The format of best.* and final.*: \(ModelFormats.writable.map { "\($0.name) (\($0.title))" }.joined(separator: " or ")); a worker's own choice, not part of the search.", valueName: "format"))
    var saveFormat = KerasH5.name

    @Option(parsing: .unconditional, help: "Seconds after which a worker that stopped refreshing its trial is taken for dead and its trial run again (5 to 86400).")
    var claimTimeout: Double = 60

    @Option(help: ArgumentHelp("Keep the search in Optuna's own tables in a database that workers on any machine share, Python Optuna workers "
                               + "included: postgresql://user[:password]@host[:port]/db or sqlite:///path.db. Each worker keeps its "
                               + "trials' models in its own --output-dir. The password may also come from PGPASSWORD or ~/.pgpass.",
                               valueName: "url"))
    var storage: String?

    @Option(help: ArgumentHelp("The study's name in the --storage database (Optuna's study_name); created when absent.", valueName: "name"))
    var studyName: String?

    @Option(parsing: .unconditional, help: "Seconds between a running trial's heartbeats in a --storage database; a trial silent for twice this is failed by the next worker that looks (1 to 86400; default 60).")
    var heartbeatInterval: Double = 60

    @Option(name: .customLong("tensorboard"), help: ArgumentHelp("Log the search for TensorBoard: each trial's epoch scalars in DIR/<trial>/train and "
                               + "DIR/<trial>/validation, and the hparams plugin's experiment and sessions, for its HPARAMS tab.", valueName: "dir"))
    var tensorBoard: String?

    func validate() throws {
        func range<T: Comparable>(_ value: T?, _ bounds: ClosedRange<T>, _ flag: String) throws {
            if let value, !bounds.contains(value) { throw ValidationError("--\(flag) must be \(bounds.lowerBound) to \(bounds.upperBound), got \(value)") }
        }
        try range(trials, 1...10_000, "trials")
        try range(epochs, 1...10_000, "epochs")
        try range(maxEpochs, 1...10_000, "max-epochs")
        try range(factor, 2...100, "factor")
        try range(hyperbandIterations, 1...100, "hyperband-iterations")
        if let validationSplit, !(validationSplit > 0 && validationSplit < 1) {
            throw ValidationError("--validation-split must be above 0 and below 1, got \(validationSplit)")
        }
        guard (5...86_400).contains(claimTimeout) else { throw ValidationError("--claim-timeout must be 5 to 86400 seconds, got \(claimTimeout)") }
        guard (1...86_400).contains(heartbeatInterval) else {
            throw ValidationError("--heartbeat-interval must be 1 to 86400 seconds, got \(heartbeatInterval)")
        }
        if let storage {
            guard TrialStorages.schemes.contains(TrialStorages.scheme(of: storage)), storage.contains("://") else {
                throw ValidationError("--storage must be a postgresql:// or sqlite:/// URL, got '\(maskedURL(storage))'")
            }
            guard let studyName, !studyName.isEmpty else { throw ValidationError("--storage needs --study-name NAME") }
            if algorithm == "hyperband" {
                throw ValidationError("--algorithm hyperband resumes a past trial's model from one disk; with --storage, use --pruner hyperband "
                    + "over a random, tpe or bayesian search")
            }
        } else if studyName != nil {
            throw ValidationError("--study-name names a study in a --storage database; give --storage URL too")
        }
        _ = try saveFormatType()
        if let pruner, !Pruners.names.contains(pruner) {
            throw ValidationError("--pruner must be one of \(Pruners.names.joined(separator: ", ")), got '\(pruner)'")
        }
        if let algorithm, algorithm != "hyperband", Samplers.named(algorithm) == nil {
            throw ValidationError("--algorithm must be one of \((Samplers.all.map(\.name) + ["hyperband"]).joined(separator: ", ")), got '\(algorithm)'")
        }
        if hiddenLayers != nil, layersAlias != nil { throw ValidationError("--layers is the former name of --hidden-layers; give one") }
        if space != nil, !spaceFlags.isEmpty {
            throw ValidationError("--space gives the whole space; leave out --\(spaceFlags[0].flag)")
        }
    }

    /// The format `--save-format` names.
    func saveFormatType() throws -> any RegisteredModelFormat.Type {
        guard let format = ModelFormats.writable.first(where: { $0.name == saveFormat }) else {
            throw ValidationError("--save-format must be \(ModelFormats.writable.map { $0.name }.joined(separator: " or ")), got '\(saveFormat)'")
        }
        return format
    }

    /// The space options given: the space's key, the flag and its text.
    var spaceFlags: [(key: String, flag: String, text: String)] {
        [("learning_rate", "learning-rate", learningRate), ("layers", layersAlias == nil ? "hidden-layers" : "layers", hiddenLayers ?? layersAlias),
         ("units", "units", units), ("activation", "activation", activation), ("dropout", "dropout", dropout),
         ("optimizer", "optimizer", optimizer), ("batch_size", "batch-size", batchSize), ("l2", "l2", l2),
         ("batch_norm", "batch-norm", batchNorm), ("dtype_policy", "dtype-policy", dtypePolicy)]
            .compactMap { key, flag, text in text.map { (key, flag, $0) } }
    }

    /// The space the options give, on top of `base`: `--space FILE`, or each space option
    /// replacing its key.
    func searchSpace(base: SearchSpace) throws -> SearchSpace {
        if let space {
            let text: String
            do { text = try String(contentsOfFile: space, encoding: .utf8) } catch { throw MLPError.io(path: space, problem: "cannot read file") }
            return try SearchSpace(json: text, source: space)
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

    /// The search's settings: the options given, over what the folder's `search.json` records
    /// (`recorded`), over the defaults. An option that differs from the record is refused,
    /// naming it; so is one that does not apply to the algorithm.
    func settings(recorded: SearchRecord?, location: String? = nil) throws -> TuningSettings {
        func refuse(_ flag: String, _ given: String, _ there: String) -> MLPError {
            if let location {
                return .setting(flag, problem: "\(given): \(location) has \(there); leave the option out, or use another --study-name")
            }
            return .setting(flag, problem: "\(given): the search in \(outputDir) has \(there) (its search.json); leave the option out, or use another folder")
        }
        let name = algorithm ?? recorded?.algorithm.name ?? RandomSampler.name
        if let algorithm, let there = recorded?.algorithm.name, algorithm != there { throw refuse("algorithm", algorithm, there) }
        let schedule: TuningSettings.Schedule
        let prunerName = pruner ?? recorded?.algorithm.pruner ?? NopPruner.name
        if let pruner, pruner != (recorded.map { $0.algorithm.pruner ?? NopPruner.name } ?? pruner) {
            throw refuse("pruner", pruner, recorded?.algorithm.pruner ?? "no pruner")
        }
        if name == "hyperband" {
            if location != nil {
                throw MLPError.setting("algorithm", problem: "hyperband resumes a past trial's model from one disk; with --storage, use "
                    + "--pruner hyperband over a random, tpe or bayesian search")
            }
            if prunerName != NopPruner.name {
                throw MLPError.setting("pruner", problem: "\(prunerName) with --algorithm hyperband: KerasTuner's schedule already stops "
                    + "trials early; use one or the other (--pruner hyperband is Optuna's Hyperband over a random, tpe or bayesian search)")
            }
            if let flag = [("trials", trials), ("epochs", epochs)].first(where: { $0.1 != nil })?.0 {
                throw MLPError.setting(flag, problem: "sets a random, tpe or bayesian search; Hyperband's schedule is --max-epochs, --factor and --hyperband-iterations")
            }
            let recordedAlgorithm = recorded?.algorithm
            func value(_ given: Int?, _ there: Int?, _ fallback: Int, _ flag: String) throws -> Int {
                if let given, let there, given != there { throw refuse(flag, String(given), String(there)) }
                return given ?? there ?? fallback
            }
            schedule = .hyperband(Hyperband(maxEpochs: try value(maxEpochs, recordedAlgorithm?.maxEpochs, 6, "max_epochs"),
                                            factor: try value(factor, recordedAlgorithm?.factor, 3, "factor"),
                                            iterations: try value(hyperbandIterations, recordedAlgorithm?.iterations, 1, "hyperband_iterations")))
        } else {
            if let flag = [("max_epochs", maxEpochs), ("factor", factor), ("hyperband_iterations", hyperbandIterations)]
                .first(where: { $0.1 != nil })?.0 {
                throw MLPError.setting(flag, problem: "sets Hyperband's schedule; a \(name) search takes --trials and --epochs")
            }
            if let epochs, let there = recorded?.algorithm.epochs, epochs != there { throw refuse("epochs", String(epochs), "\(there) epochs a trial") }
            if let trials, let there = recorded?.algorithm.trials, trials < there {
                throw refuse("trials", String(trials), "\(there) trials (a larger number goes on with more)")
            }
            schedule = .trials(trials ?? recorded?.algorithm.trials ?? 10, epochs: epochs ?? recorded?.algorithm.epochs ?? 5)
        }
        let objectiveName = objective?.rawValue ?? recorded?.objective ?? ObjectiveName.valAccuracy.rawValue
        if let objective, let there = recorded?.objective, objective.rawValue != there { throw refuse("objective", objective.rawValue, there) }
        let split = validationSplit ?? recorded?.validationSplit ?? 0.2
        if let validationSplit, let there = recorded?.validationSplit, validationSplit != there {
            throw refuse("validation_split", pythonFloat(validationSplit), pythonFloat(there))
        }
        if let seed, let there = recorded?.seed, String(seed) != there { throw refuse("seed", String(seed), "seed \(there)") }
        var searchSpace: SearchSpace
        if let recorded {
            searchSpace = try SearchSpace(entries: recorded.space.map { ($0.key, $0.value) })
            let given = try self.searchSpace(base: searchSpace)
            if space != nil, given != searchSpace { throw refuse("space", space!, "another space") }
            for (key, flag, text) in spaceFlags where given.distribution(of: key) != searchSpace.distribution(of: key) {
                throw refuse(flag.replacingOccurrences(of: "-", with: "_"), text, "\(key) \(searchSpace.distribution(of: key).map(describe) ?? "not searched")")
            }
        } else {
            searchSpace = try self.searchSpace(base: SearchSpace.standard)
        }
        if searchSpace.mayBeMixedPrecision, let problem = (compute.engine ?? .preferred).bfloat16Problem {
            throw MLPError.setting("dtype_policy", problem: "mixed_bfloat16: \(problem)")
        }
        var base = TrainingRecipe()
        base.compute = compute.options()
        let sampler = Samplers.named(name) ?? Samplers.named(RandomSampler.name)!
        var settings = TuningSettings(space: searchSpace, sampler: sampler, schedule: schedule, objective: Monitor(objectiveName),
                                      seed: seed ?? recorded.flatMap { UInt64($0.seed) } ?? 0, validationSplit: split, base: base)
        settings.modelFormat = try saveFormatType()
        settings.pruner = prunerName
        return settings
    }

    func run() throws {
        if layersAlias != nil {
            FileHandle.standardError.write(Data("mlp-tune: note: --layers is now --hidden-layers (a count of hidden layers); the old name still works\n".utf8))
        }
        let storage: TrialStorage
        let recorded: SearchRecord?
        var settings: TuningSettings
        if let url = self.storage {
            var options = TrialStorageOptions(folder: outputDir)
            options.studyName = studyName
            options.heartbeatInterval = heartbeatInterval
            storage = try TrialStorages.open(url: url, options: options)
            recorded = try storage.settings()
            try recorded?.checkParts(path: storage.settingsLocation)
            settings = try self.settings(recorded: recorded, location: storage.settingsLocation)
        } else {
            // Every option is checked against the folder's record before the folder is opened for work.
            recorded = try FolderStorage.recordedSettings(folder: outputDir)
            try recorded?.checkParts(path: SearchFolder(outputDir).settings)
            settings = try self.settings(recorded: recorded)
            storage = try FolderStorage(folder: outputDir, timeout: claimTimeout)
        }
        // A new search's seed is drawn once and kept, so that workers started together agree on it.
        settings.seed = try storage.agreedSeed(seed ?? recorded.flatMap { UInt64($0.seed) })
        if case .trials(let count, _) = settings.schedule, settings.sampler.randomStart(settings.space) >= count,
           settings.sampler.randomStart(settings.space) > 0 {
            let start = settings.sampler.randomStart(settings.space)
            print("note: \(settings.sampler.name) draws its first \(start) trials at random: with \(counted(count, "trial")) its own "
                  + "proposals never start (give --trials \(start + 1) or more)")
        }
        // Going on with a search: its data and label mode, unless told otherwise.
        var options = data
        if options.data == nil, let file = recorded?.data?.file, file == "synthetic" || FileManager.default.fileExists(atPath: file) {
            print("data: \(file), which \(storage.settingsLocation) records")
            options.data = file
        }
        if options.labelMode == nil, let mode = recorded?.data.flatMap({ LabelMode(rawValue: $0.labelMode) }) { options.labelMode = mode }
        if options.imageSize == nil, let size = recorded?.data?.imageSize, size.count == 2 { options.imageSize = "\(size[0]),\(size[1])" }
        if options.colorMode == nil, let mode = recorded?.data?.colorMode.flatMap(ColorMode.init(rawValue:)) { options.colorMode = mode }
        if options.shuffleSeed == nil, let seed = recorded?.data?.shuffleSeed { options.shuffleSeed = seed }
        let pair = try options.load(splits: .trainingOnly)
        settings.data = DataRecord(pair, labelMode: options.labelMode ?? .fine)
        let held = pair.train.splitValidation(fraction: settings.validationSplit).validation.count
        let tuner = try Tuner(settings: settings, storage: storage, data: pair)
        let done = try storage.records().filter { $0.status != .running && $0.status != .waiting }.count
        print("search: \(describe(settings)), objective \(settings.objective.name) on the last \(held) of \(pair.train.count) "
              + "training images (the holdout set is not read); seed \(settings.seed); folder \(outputDir)"
              + (self.storage != nil ? "; \(storage.settingsLocation)" : "")
              + (done > 0 ? " (\(counted(done, "trial")) already done)" : ""))
        print("space: " + settings.space.entries.map { "\($0.key) \(describe($0.distribution))" }.joined(separator: ", "))

        StopSignal.install()
        tuner.callbacks = [Interrupt { StopSignal.isRequested }]
        if let tensorBoard {
            tuner.tensorBoard = try TensorBoardSearchLog(directory: tensorBoard, space: settings.space, objective: settings.objective)
        }
        var ranHere = 0
        tuner.report = { report in
            ranHere += 1
            print(line(for: report, settings: settings))
        }
        guard try tuner.run() else { throw interrupted() }
        if let database = storage as? RDBStorage, ranHere > 0 {
            print("database: \(counted(ranHere, "trial")) run by this worker, " + String(format: "%.1f", database.databaseSeconds * 1000 / Double(ranHere))
                  + " ms of database time a trial (waiting for the study's lock included)")
        }
        guard let best = try tuner.best() else {
            let failed = try storage.records().last { $0.status == .failed }
            throw MLPError.model("no trial of the search in \(outputDir) completed"
                + (failed.flatMap { record in record.reason.map { "; trial \(record.number): \($0)" } } ?? " (see trials.csv for why)"))
        }
        print("best: trial \(best.number), \(settings.objective.name) \(String(format: "%.4f", best.score ?? .nan)) at epoch "
              + "\(best.bestEpoch ?? 0): \(best.hyperparameters.summary)")
        print("wrote \(outputDir)/trials.csv, trials.svg, optuna-journal.log, best.\(saveFormat), best.json")
        guard retrain else { return }
        print("retraining the best values on all \(pair.train.count) training images")
        switch try tuner.retrain(callbacks: [ProgressBar(), Interrupt { StopSignal.isRequested }]) {
        case .saved(let path, let epochs): print("saved \(path) (\(counted(epochs, "epoch"))); compare it with mlp-eval --compare")
        case .anotherWorker: print("another worker is retraining; its final.\(saveFormat) will be in \(outputDir)")
        case .noCompletedTrial: throw MLPError.model("no trial of the search in \(outputDir) has a best epoch to retrain")
        case .interrupted: throw interrupted()
        }
    }

    func interrupted() -> Error {
        FileHandle.standardError.write(Data("mlp-tune: interrupted; the finished trials are kept in \(outputDir): run the same command again to go on\n".utf8))
        return ExitCode(130)
    }

    func describe(_ settings: TuningSettings) -> String {
        switch settings.schedule {
        case .trials(let trials, let epochs):
            let start = settings.sampler.randomStart(settings.space)
            return "\(settings.sampler.name), \(counted(trials, "trial")) of \(counted(epochs, "epoch"))"
                + (start > 0 ? " (the first \(start) at random)" : "")
                + (settings.pruner != NopPruner.name ? ", pruner \(settings.pruner)" : "")
        case .hyperband(let hyperband):
            let brackets = hyperband.schedule.map { rounds in rounds.map { "\($0.trials)×\($0.epochs)" }.joined(separator: "→") }
            return "hyperband, max \(counted(hyperband.maxEpochs, "epoch")), factor \(hyperband.factor), \(counted(hyperband.iterations, "iteration")): brackets "
                + brackets.joined(separator: ", ") + " (trials×epochs)"
        }
    }

    func describe(_ distribution: Distribution) -> String {
        switch distribution {
        case .logUniform(let a, let b): return "\(pythonFloat(a)) to \(pythonFloat(b)) (log)"
        case .uniform(let a, let b): return "\(pythonFloat(a)) to \(pythonFloat(b))"
        case .int(let a, let b): return "\(a) to \(b)"
        case .choice(let values): return values.map(\.description).joined(separator: "|")
        }
    }
}

/// "trial 3: learning_rate=0.00312, layers=2, ... → val_accuracy 0.5123 (epoch 4 of 5, 12.3 s); best 0.5321 (trial 1)".
func line(for report: TrialReport, settings: TuningSettings) -> String {
    let record = report.record
    var text = "trial \(record.number): \(record.hyperparameters.summary)"
    if let past = record.pastTrial { text += " (from trial \(past), epochs \(record.initialEpoch + 1)-\(record.epochs))" }
    switch record.status {
    case .completed:
        text += " → \(settings.objective.name) " + String(format: "%.4f", record.score ?? .nan)
            + " at epoch \(record.bestEpoch ?? 0) (" + String(format: "%.1f s)", record.seconds)
    case .pruned:
        let epochs = (record.intermediateValues.keys.max() ?? 0) + 1
        text += " → pruned after epoch \(epochs): \(settings.objective.name) " + String(format: "%.4f", record.score ?? .nan)
            + " (" + String(format: "%.1f s)", record.seconds)
    default:
        text += " → failed: \(record.reason ?? "unknown")"
    }
    if let best = report.best { text += "; best " + String(format: "%.4f", best.score ?? .nan) + " (trial \(best.number))" }
    return text
}

