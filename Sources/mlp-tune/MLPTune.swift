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
        abstract: "Search hyperparameters on a validation split of the CIFAR-100 training set; never reads the holdout set.",
        discussion: """
            Without space options, searches KerasTuner's usual MLP space: --learning-rate 1e-4:1e-2 (log scale), \
            --hidden-layers 1:3, --units 64,128,256,512, --dropout 0:0.5, --optimizer adam,rmsprop. Each option replaces its key: \
            LOW:HIGH is a range, A,B,C a choice, one value a fixed value. --space FILE gives the whole space as JSON instead.

            Running again on the same --output-dir goes on where it stopped; several mlp-tune processes on one folder \
            (on one machine or several sharing it) split the trials and never run one twice.

            Writes trials.csv, trials.svg, best.h5 (best.keras with --save-format keras), best.json and a folder per trial; \
            with --retrain, final.h5 (or final.keras) for mlp-eval.
            """)

    static func main() { mainReportingOneLine() }

    @Option(help: "The search's folder: its trials, its outputs, and what lets several workers share it.")
    var outputDir: String

    @OptionGroup var data: DataOptions

    @Option(help: ArgumentHelp("Search algorithm: " + (Samplers.all.map { "\($0.name) (\($0.summary))" } + ["hyperband (KerasTuner's bracket schedule over random draws)"]).joined(separator: ", ") + ".",
                               valueName: "name"))
    var algorithm = RandomSampler.name

    @Option(parsing: .unconditional, help: "Trials of a random, tpe or bayesian search (1 to 10000).")
    var trials = 10

    @Option(parsing: .unconditional, help: "Epochs per trial of a random, tpe or bayesian search (1 to 10000).")
    var epochs = 5

    @Option(parsing: .unconditional, help: "Hyperband's largest number of epochs for a trial (1 to 10000).")
    var maxEpochs = 6

    @Option(parsing: .unconditional, help: "Hyperband's reduction factor (2 to 100).")
    var factor = 3

    @Option(parsing: .unconditional, help: "Times Hyperband runs its whole schedule (1 to 100).")
    var hyperbandIterations = 1

    @Option(help: "What judges a trial, on the validation split: val_accuracy, val_auc or val_loss.")
    var objective = ObjectiveName.valAccuracy

    @Option(parsing: .unconditional, help: "The fraction of the training set, taken from its end before shuffling as Keras does, that judges the trials (above 0, below 1).")
    var validationSplit = 0.2

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

    @Option(help: ArgumentHelp("The format of best.* and final.*: \(ModelFormats.writable.map { "\($0.name) (\($0.title))" }.joined(separator: " or ")).", valueName: "format"))
    var saveFormat = KerasH5.name

    @Option(parsing: .unconditional, help: "Seconds after which a worker that stopped refreshing its trial is taken for dead and its trial run again (5 to 86400).")
    var claimTimeout: Double = 60

    func validate() throws {
        guard (1...10_000).contains(trials) else { throw ValidationError("--trials must be 1 to 10000, got \(trials)") }
        guard (1...10_000).contains(epochs) else { throw ValidationError("--epochs must be 1 to 10000, got \(epochs)") }
        guard (1...10_000).contains(maxEpochs) else { throw ValidationError("--max-epochs must be 1 to 10000, got \(maxEpochs)") }
        guard (2...100).contains(factor) else { throw ValidationError("--factor must be 2 to 100, got \(factor)") }
        guard (1...100).contains(hyperbandIterations) else {
            throw ValidationError("--hyperband-iterations must be 1 to 100, got \(hyperbandIterations)")
        }
        guard validationSplit > 0, validationSplit < 1 else {
            throw ValidationError("--validation-split must be above 0 and below 1, got \(validationSplit)")
        }
        guard (5...86_400).contains(claimTimeout) else { throw ValidationError("--claim-timeout must be 5 to 86400 seconds, got \(claimTimeout)") }
        _ = try saveFormatType()
        guard algorithm == "hyperband" || Samplers.named(algorithm) != nil else {
            throw ValidationError("--algorithm must be one of \((Samplers.all.map(\.name) + ["hyperband"]).joined(separator: ", ")), got '\(algorithm)'")
        }
        if hiddenLayers != nil, layersAlias != nil { throw ValidationError("--layers is the former name of --hidden-layers; give one") }
        if space != nil, !spaceFlags.isEmpty {
            throw ValidationError("--space gives the whole space; leave out --\(spaceFlags[0].key.replacingOccurrences(of: "_", with: "-"))")
        }
    }

    /// The format `--save-format` names.
    func saveFormatType() throws -> any RegisteredModelFormat.Type {
        guard let format = ModelFormats.writable.first(where: { $0.name == saveFormat }) else {
            throw ValidationError("--save-format must be \(ModelFormats.writable.map { $0.name }.joined(separator: " or ")), got '\(saveFormat)'")
        }
        return format
    }

    /// The space options given, by key.
    var spaceFlags: [(key: String, text: String)] {
        [("learning_rate", learningRate), ("layers", hiddenLayers ?? layersAlias), ("units", units), ("activation", activation), ("dropout", dropout),
         ("optimizer", optimizer),
         ("batch_size", batchSize), ("l2", l2), ("batch_norm", batchNorm), ("dtype_policy", dtypePolicy)].compactMap { key, text in text.map { (key, $0) } }
    }

    func searchSpace() throws -> SearchSpace {
        if let space {
            let text: String
            do { text = try String(contentsOfFile: space, encoding: .utf8) } catch { throw MLPError.io(path: space, problem: "cannot read file") }
            return try SearchSpace(json: text, source: space)
        }
        var result = SearchSpace.standard
        for (key, text) in spaceFlags {
            do {
                result = try result.replacing(key, with: try SearchSpace.distribution(key: key, flag: text))
            } catch MLPError.setting("layers", let problem) {
                // The space's key is "layers"; its flag is --hidden-layers.
                throw MLPError.setting("hidden_layers", problem: problem)
            }
        }
        return result
    }

    func run() throws {
        let searchSpace = try searchSpace()
        if searchSpace.mayBeMixedPrecision, let problem = (compute.engine ?? .preferred).bfloat16Problem {
            throw MLPError.setting("dtype_policy", problem: "mixed_bfloat16: \(problem)")
        }
        if layersAlias != nil {
            FileHandle.standardError.write(Data("mlp-tune: note: --layers is now --hidden-layers (a count of hidden layers); the old name still works\n".utf8))
        }
        let storage = try FolderStorage(folder: outputDir, timeout: claimTimeout)
        // A search goes on with the seed it began with.
        let seed = try storage.agreedSeed(self.seed)
        var base = TrainingRecipe()
        base.compute = compute.options()
        let schedule: TuningSettings.Schedule = algorithm == "hyperband"
            ? .hyperband(Hyperband(maxEpochs: maxEpochs, factor: factor, iterations: hyperbandIterations))
            : .trials(trials, epochs: epochs)
        var settings = TuningSettings(space: searchSpace, sampler: Samplers.named(algorithm) ?? Samplers.named(RandomSampler.name)!,
                                      schedule: schedule, objective: Monitor(objective.rawValue), seed: seed,
                                      validationSplit: validationSplit, base: base)
        settings.modelFormat = try saveFormatType()

        let pair = try data.load(splits: .trainingOnly)
        let held = pair.train.splitValidation(fraction: validationSplit).validation.count
        let tuner = try Tuner(settings: settings, storage: storage, data: pair)
        let done = try storage.records().filter { $0.status != .running }.count
        print("search: \(describe(settings)), objective \(objective.rawValue) on the last \(held) of \(pair.train.count) "
              + "training images (the holdout set is not read); seed \(seed); folder \(outputDir)"
              + (done > 0 ? " (\(counted(done, "trial")) already done)" : ""))
        print("space: " + searchSpace.entries.map { "\($0.key) \(describe($0.distribution))" }.joined(separator: ", "))

        StopSignal.install()
        tuner.callbacks = [Interrupt { StopSignal.isRequested }]
        tuner.report = { report in print(line(for: report, settings: settings)) }
        guard try tuner.run() else { throw interrupted() }
        guard let best = try tuner.best() else {
            let failed = try storage.records().last { $0.status == .failed }
            throw MLPError.model("no trial of the search in \(outputDir) completed"
                + (failed.flatMap { record in record.reason.map { "; trial \(record.number): \($0)" } } ?? " (see trials.csv for why)"))
        }
        print("best: trial \(best.number), \(objective.rawValue) \(String(format: "%.4f", best.score ?? .nan)) at epoch "
              + "\(best.bestEpoch ?? 0): \(best.hyperparameters.summary)")
        print("wrote \(outputDir)/trials.csv, trials.svg, best.\(saveFormat), best.json")
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
    default:
        text += " → failed: \(record.reason ?? "unknown")"
    }
    if let best = report.best { text += "; best " + String(format: "%.4f", best.score ?? .nan) + " (trial \(best.number))" }
    return text
}

