import ArgumentParser
import Foundation
import MLPKit


/// Learning-rate schedules by their `--lr-schedule` names.
public enum ScheduleName: String, ExpressibleByArgument, CaseIterable, Sendable {
    case constant, cosine
}

/// Metrics `--metrics` can add to accuracy and loss.
public enum MetricName: String, ExpressibleByArgument, CaseIterable, Sendable {
    case accuracy, auc
}

/// What `mlp-train` takes to describe a training run: the architecture, the optimizer and
/// Keras's callbacks. `recipe()` turns it into the library's `TrainingRecipe`.
public struct TrainingOptionGroup: ParsableArguments {
    @Option(parsing: .unconditional, help: "Passes over the training set (1 to 10000; default 5, or the best epoch a --model best.json records); with --resume, further passes.")
    public var epochs: Int?

    @Option(parsing: .unconditional, help: "Samples per gradient step (1 to 65536; default 128, or the batch size a --model best.json records).")
    public var batchSize: Int?

    @Option(help: ArgumentHelp("Optimizer, with Keras's defaults: \(OptimizerKind.allCases.map(\.rawValue).joined(separator: ", ")).",
                               discussion: "Default: the one a --model file's compile_config names, else rmsprop; --resume goes on with the file's."))
    public var optimizer: OptimizerKind?

    @Option(parsing: .unconditional, help: "Learning rate (default: the --model or --resume file's, else the optimizer's Keras default; 0.001 for rmsprop).")
    public var learningRate: Float?

    @Option(help: "Learning-rate schedule: constant, or cosine (Keras's CosineDecay from the learning rate to 0 over the run's steps). Default: the model file's, else constant.")
    public var lrSchedule: ScheduleName?

    @Option(help: "Hidden layers as UNITS:ACTIVATION, comma-separated, or 'none' (default 128:relu); the output Dense(classes, softmax) is added.")
    public var layers: String?

    @Option(parsing: .unconditional, help: "Dropout rate after each hidden layer (0 to <1).")
    public var dropout: Float = 0

    @Option(parsing: .unconditional, help: "L2 kernel regularization factor for every hidden Dense (Keras's L2(l2=FACTOR); 0 to 1).")
    public var l2: Float = 0

    @Flag(help: "Put BatchNormalization after each hidden Dense.")
    public var batchNorm = false

    @Option(help: ArgumentHelp("Architecture (and optimizer) as a Keras model-config JSON file (e.g. Models/overfit.json, or mlp-tune's best.json with the search's batch size, best epoch, seed and data), or taken from a saved .keras or .h5 model, whose weights are not used; instead of --layers.", valueName: "file"))
    public var model: String?

    @Option(help: ArgumentHelp("Go on training a saved model (.keras or .h5, this toolchain's or Keras's) with its optimizer and its state, as load_model then fit; --epochs more epochs.", valueName: "file"))
    public var resume: String?

    @Option(parsing: .unconditional, help: "Fraction of the training set held out for validation: the LAST fraction, before shuffling, as Keras does (0 to <1).")
    public var validationSplit: Double = 0

    @Option(help: "Seed for initial weights, dropout and shuffling (default: the one a --resume file records, else drawn at random; recorded in the model).")
    public var seed: UInt64?

    @Option(parsing: .upToNextOption, help: "Metrics beyond loss: accuracy (always), auc (one-vs-rest ROC AUC on the validation data, exact: val_auc).")
    public var metrics: [MetricName] = [.accuracy]

    @Option(help: "What early stopping, --checkpoint and --reduce-lr-on-plateau watch: val_loss, val_accuracy, val_auc, loss or accuracy.")
    public var monitor = "val_loss"

    @Option(parsing: .unconditional, help: "The least change of --monitor that counts as an improvement (0 or more).")
    public var minDelta: Double = 0

    @Option(help: "Keras's dtype policy: float32, or mixed_bfloat16 (bfloat16 products, float32 weights; the output layer stays float32).")
    public var dtypePolicy: DTypePolicy?

    @OptionGroup public var compute: ComputeOptionGroup

    @Flag(help: "Run every unit's backward products, even for ReLU units that are off for a whole batch (same results, slower; for benchmarks).")
    public var denseBackward = false

    public init() {}

    public func validate() throws {
        if let epochs, !(1...10_000).contains(epochs) { throw ValidationError("--epochs must be 1 to 10000, got \(epochs)") }
        if let batchSize, !(1...65_536).contains(batchSize) { throw ValidationError("--batch-size must be 1 to 65536, got \(batchSize)") }
        if let learningRate, !(learningRate > 0 && learningRate <= 10) {
            throw ValidationError("--learning-rate must be above 0 and at most 10, got \(learningRate)")
        }
        guard dropout >= 0, dropout < 1 else { throw ValidationError("--dropout must be 0 to below 1, got \(dropout)") }
        guard l2 >= 0, l2 <= 1 else { throw ValidationError("--l2 must be 0 to 1, got \(l2)") }
        guard validationSplit >= 0, validationSplit < 1 else {
            throw ValidationError("--validation-split must be 0 to below 1, got \(validationSplit)")
        }
        guard minDelta >= 0, minDelta.isFinite else { throw ValidationError("--min-delta must be 0 or more, got \(minDelta)") }
        guard Monitor.known.contains(monitor) else {
            throw ValidationError("--monitor must be one of \(Monitor.known.joined(separator: ", ")), got '\(monitor)'")
        }
        if model != nil, resume != nil { throw ValidationError("--resume and --model both give the architecture; use one") }
        if model != nil || resume != nil, dtypePolicy != nil {
            throw ValidationError("--dtype-policy: the layers of the --\(model != nil ? "model" : "resume") file keep the policies it records")
        }
        if model != nil || resume != nil, dropout > 0 || l2 > 0 || batchNorm || layers != nil {
            throw ValidationError("--layers, --dropout, --l2 and --batch-norm describe the architecture that --\(model != nil ? "model" : "resume") gives; use one or the other")
        }
    }

    /// The run these options describe, with the files they name read (each once) and checked as
    /// far as they can be without the data: a model to go on from is read (probed first in a
    /// child process), a model config parsed, and the outputs' names and folders checked.
    /// The recipe checks its own settings when it runs, before it loads the data.
    ///
    /// - Parameter callbacks: the options of the registered callbacks given (`Callbacks`).
    public func recipe(callbacks: ExtensionValues = ExtensionValues()) throws -> TrainingRecipe {
        var recipe = TrainingRecipe()
        if let resume {
            try checkReadable(resume)
            recipe.start = .continuing(try ModelProbe.load(resume), path: resume)
        } else if let model {
            try checkReadable(model)
            recipe.start = .fresh(.config(try ModelConfigFile(path: model)))
        } else {
            recipe.start = .fresh(.layers(try HiddenLayerSpec.parseList(layers ?? "128:relu"), dropout: dropout, l2: l2, batchNorm: batchNorm))
        }
        recipe.optimizer = optimizer
        recipe.learningRate = learningRate
        recipe.cosineDecay = lrSchedule.map { $0 == .cosine }
        // A search's best.json carries what --retrain trains with: its batch size, the best
        // trial's best epoch and the search's seed.
        let tuned = tunedRecord(of: recipe)
        recipe.epochs = epochs ?? tuned.map { max($0.bestEpoch, 1) } ?? 5
        recipe.batchSize = batchSize ?? tuned?.batchSize ?? 128
        recipe.validationSplit = validationSplit
        recipe.seed = seed ?? tuned?.seed.flatMap { UInt64($0) }
        recipe.compute = compute.options(skipsInactiveUnits: !denseBackward)
        recipe.dtypePolicy = dtypePolicy ?? .float32
        recipe.validationAUC = metrics.contains(.auc)
        recipe.monitor = Monitor(monitor, minDelta: minDelta)
        recipe.callbackValues = callbacks
        return recipe
    }

    /// What a `--model` file that `mlp-tune` wrote (its `best.json`) records of the search; nil
    /// for any other file.
    public func tunedRecord(of recipe: TrainingRecipe) -> BestTrialRecord? {
        guard case .fresh(.config(let file)) = recipe.start else { return nil }
        return BestTrialRecord(configExtra: file.extra("mlp_tune"))
    }

    /// What the file the run starts from records of its data: a model's record, or a search's
    /// in its `best.json`.
    public func dataDefaults(of recipe: TrainingRecipe) -> DataDefaults? {
        if case .continuing(let model, let path) = recipe.start { return DataDefaults(record: model.record, model: path) }
        guard let data = tunedRecord(of: recipe)?.data, let model else { return nil }
        return data.defaults(source: model)
    }

    /// The settings a `best.json` gave that no option overrode, for the model line:
    /// "batch size 256, 3 epochs, seed 1 and the data from best.json"; nil when none.
    public func tunedOrigin(of recipe: TrainingRecipe, dataFromFile: Bool) -> String? {
        guard let tuned = tunedRecord(of: recipe), case .fresh(.config(let file)) = recipe.start else { return nil }
        var items: [String] = []
        if batchSize == nil { items.append("batch size \(recipe.batchSize)") }
        if epochs == nil { items.append("\(recipe.epochs) epoch\(recipe.epochs == 1 ? "" : "s") (trial \(tuned.trial)'s best)") }
        if seed == nil, tuned.seed != nil { items.append("seed \(tuned.seed!)") }
        if dataFromFile { items.append("the data") }
        guard !items.isEmpty else { return nil }
        let list = items.count == 1 ? items[0] : items.dropLast().joined(separator: ", ") + " and " + items.last!
        return "\(list) from \(URL(fileURLWithPath: file.path).lastPathComponent)"
    }

    /// Where the optimizer's settings come from when a file gives them, for the model line;
    /// nil when they all come from flags and defaults.
    public func optimizerOrigin(of recipe: TrainingRecipe) throws -> String? {
        var file: String?
        switch recipe.start {
        case .continuing(_, let path): file = path
        case .fresh(.config(let config)):
            if optimizer == nil, try config.compiledOptimizer() != nil { file = "\(config.path)'s compile_config" }
        case .fresh: break
        }
        guard let file else { return nil }
        return (["from \(file)"] + (learningRate == nil ? [] : ["the learning rate from --learning-rate"])
            + (lrSchedule == nil ? [] : ["the schedule from --lr-schedule"])).joined(separator: ", ")
    }

    private func checkReadable(_ path: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw MLPError.io(path: path, problem: "no such file") }
        guard !isFolder.boolValue else { throw MLPError.io(path: path, problem: "is a folder, not a file") }
        guard FileManager.default.isReadableFile(atPath: path) else { throw MLPError.io(path: path, problem: "cannot read file") }
    }
}

extension DTypePolicy: ExpressibleByArgument {
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}
