import Foundation

/// What to train and how: the architecture, the optimizer, the run's options and the
/// callbacks Keras users add, as one value. `mlp-train` fills it from its command line, with
/// the files it names already read; `mlp-tune` builds one per trial and runs it in-process.
public struct TrainingRecipe {
    /// The architecture of a model built afresh.
    public enum Architecture {
        /// Hidden Dense layers (each followed by BatchNormalization and Dropout when asked),
        /// then Dense(classes, softmax).
        case layers([HiddenLayerSpec], dropout: Float = 0, l2: Float = 0, batchNorm: Bool = false)
        /// A Keras model config read from a file (`--model`), built and initialised afresh;
        /// the optimizer its `compile_config` names is the run's unless the recipe names one.
        case config(ModelConfigFile)
    }

    /// Where a run's model comes from.
    public enum Start {
        /// A new model of this architecture, initialised from the seed.
        case fresh(Architecture)
        /// A saved model (this toolchain's or Keras's), already read from `path`, to go on
        /// training with its optimizer and that optimizer's state.
        case continuing(CompiledModel, path: String)

        /// The file the model comes from, if it comes from one.
        public var source: String? {
            switch self {
            case .fresh(.layers): return nil
            case .fresh(.config(let file)): return file.path
            case .continuing(_, let path): return path
            }
        }
    }

    public var start = Start.fresh(.layers([HiddenLayerSpec(units: 128, activation: .relu)]))
    /// nil for the optimizer a model config's `compile_config` names, else RMSprop; a resumed
    /// run goes on with the saved optimizer and refuses another.
    public var optimizer: OptimizerKind?
    /// nil for the rate of the optimizer in use: the file's, else the optimizer's Keras default.
    public var learningRate: Float?
    /// true for Keras's `CosineDecay` from the learning rate down to 0 over the run's steps,
    /// false for a constant rate, nil for the schedule the model file records (if any).
    public var cosineDecay: Bool?
    /// Epochs to run (more epochs, when resuming).
    public var epochs = 5
    public var batchSize = 128
    /// The last fraction of the training set, before shuffling, held out for validation.
    public var validationSplit = 0.0
    /// The last `validationCount` samples held out instead, exactly (a fold placed at the end).
    public var validationCount: Int?
    /// Seeds the initial weights, dropout and the shuffle. nil for the seed a resumed file
    /// records, else one drawn at random (and recorded).
    public var seed: UInt64?
    /// Threads, the matrix engine and the backward pass's shortcuts.
    public var compute = ComputeOptions()
    /// Keras's global dtype policy for an architecture built from `layers` (the output layer
    /// stays float32, as Keras's mixed-precision guide keeps it); a model file's layers keep
    /// the policies the file records.
    public var dtypePolicy = DTypePolicy.float32
    /// Also log `val_auc`, exact macro one-vs-rest ROC AUC on the validation data.
    public var validationAUC = false
    /// What early stopping, the checkpoint and ReduceLROnPlateau watch.
    public var monitor = Monitor("val_loss")
    /// The options of the registered callbacks the run takes (`Callbacks`): `--early-stopping 3`,
    /// `--checkpoint best.h5`, `--history h.csv`, ...
    public var callbackValues = ExtensionValues()
    /// Whether the run is a search's trial: its checkpoint is kept in memory and written once,
    /// when training ends (not when interrupted), since nothing reads it before.
    public var isTrial = false
    /// The command line that asked for the run, recorded in every file it saves (checkpoints
    /// included).
    public var command: String?

    public init() {}

    /// Checks what can be checked without the data: settings that contradict each other, and a
    /// precision the engine cannot run.
    public func check() throws {
        let callbacks = Callbacks.active(in: callbackValues)
        for callback in callbacks { try callback.check(callbackValues, recipe: self) }
        let users = callbacks.compactMap { $0.watching }
        if validationSplit <= 0, validationCount == nil, !users.isEmpty, monitor.name.hasPrefix("val_") {
            throw MLPError.setting("monitor", problem: "\(users.joined(separator: ", ")) watches \(monitor.name), which needs validation "
                + "data: hold out a validation split, or monitor loss")
        }
        if monitor.name == "val_auc", !validationAUC {
            throw MLPError.setting("monitor", problem: "val_auc is measured only when auc is among the metrics")
        }
        if case .continuing = start, let optimizer {
            throw MLPError.setting("optimizer", problem: "\(optimizer.rawValue): a resumed run goes on with the optimizer and the state "
                + "its file records")
        }
        if case .fresh(.layers) = start, dtypePolicy == .mixedBFloat16, let problem = compute.engine.bfloat16Problem {
            throw MLPError.setting("dtype_policy", problem: "mixed_bfloat16: \(problem)")
        }
    }
}

/// What a recipe's run made: the model and optimizer as training left them (the best epoch's
/// weights when early stopping restored them), the history, and what to record in the file.
public struct TrainingOutcome {
    public var model: Sequential
    public var optimizer: Optimizer
    public var history: History
    /// What the saved file records about how the model was made.
    public var record: RunRecord
    /// The epoch early stopping stopped at and the best epoch it restored, counted from 0.
    public var stoppedEpoch: Int?
    public var bestEpoch: Int?

    /// Where Ctrl-C stopped the run, if it did.
    public var interruption: Interruption? { history.interruption }

    /// Saves the model with its optimizer, its state and its record, atomically.
    public func save(to path: String) throws {
        try ModelFile.save(CompiledModel(model: model, optimizer: optimizer, record: record), to: path)
    }
}

extension TrainingRecipe {
    /// Checks the recipe, loads the data, builds the model and the optimizer, holds out the
    /// validation split, and trains with the recipe's callbacks followed by `callbacks` (a
    /// progress bar, an interruption). Messages (notes, Keras's callback lines) go to `log`.
    ///
    /// - Parameters:
    ///   - data: loads the data, once the recipe is checked (so that a contradiction in the
    ///     settings is reported before the data is read).
    public func run(data load: () throws -> DatasetPair, callbacks: [Callback] = [], log: @escaping (String) -> Void = { print($0) })
        throws -> TrainingOutcome
    {
        try check()
        let data = try load()
        let (train, validation) = try split(data, log: log)
        let (network, saved, seed) = try buildModel(for: train)
        if let note = Self.bfloat16Note(network, compute: compute) { log(note) }
        let steps = (train.count + min(batchSize, train.count) - 1) / min(batchSize, train.count)
        let optimizer = try buildOptimizer(saved: saved, steps: steps, log: log)
        // A resumed run goes on from the epochs the file records (or its optimizer's steps).
        let done = saved.map { $0.record.epochsCompleted ?? $0.optimizer.map { $0.iterations / steps } ?? 0 } ?? 0
        let options = TrainingOptions(endEpoch: done + epochs, initialEpoch: done, batchSize: batchSize, seed: seed,
                                      validationAUC: validationAUC, compute: compute)
        var record = runRecord(data: data, optimizer: optimizer, seed: seed)
        let own = try Callbacks.make(callbackValues, setup: CallbackSetup(monitor: monitor, record: record, inTrial: isTrial, log: log))
        let result: History
        do {
            result = try Trainer.fit(model: network, optimizer: optimizer, train: train, validation: validation,
                                     options: options, callbacks: own + callbacks)
        } catch MLPError.diverged(let problem) {
            // Going on from a file, the file is the first suspect: name it.
            guard case .continuing(_, let path) = start else { throw MLPError.diverged(problem) }
            throw MLPError.format(path: path, problem: "going on from this model, \(problem)")
        }
        let completed = result.interruption?.epoch ?? (result.epochs.last.map { $0 + 1 } ?? done)
        record.epochsCompleted = completed
        record.interrupted = result.interruption?.description
        var outcome = TrainingOutcome(model: network, optimizer: optimizer, history: result, record: record)
        if let early = result.earlyStopping {
            (outcome.bestEpoch, outcome.stoppedEpoch) = (early.bestEpoch, early.stoppedEpoch)
            outcome.record.bestEpoch = early.bestEpoch + 1
        }
        return outcome
    }

    /// The training set and, with a validation split, its last fraction held out; a split
    /// whose validation part holds classes the training part lacks is refused.
    func split(_ data: DatasetPair, log: (String) -> Void) throws -> (train: ImageDataset, validation: ImageDataset?) {
        if let held = validationCount, held > 0, held < data.train.count {
            return (data.train.slice(0..<(data.train.count - held)), data.train.slice((data.train.count - held)..<data.train.count))
        }
        guard validationSplit > 0 else { return (data.train, nil) }
        let split = data.train.splitValidation(fraction: validationSplit)
        guard split.train.count > 0, split.validation.count > 0 else {
            throw MLPError.setting("validation_split", problem: "\(validationSplit) leaves an empty split of \(data.train.count) images")
        }
        try data.checkValidationSplit(validationSplit)
        log("validation: last \(split.validation.count) training images held out, training on \(split.train.count)")
        // Keras's validation_split takes the last samples as they are: data in class order
        // leaves the validation part far fewer classes than its size would draw.
        let held = Set(split.validation.labels).count
        if held * 2 < min(Set(data.train.labels).count, split.validation.count) {
            log("note: the validation split holds \(held) of the \(data.train.classCount) classes (\(data.source) looks stored in "
                + "class order); its accuracy speaks for those classes only; --shuffle-seed N shuffles the training images first")
        }
        return (split.train, split.validation)
    }

    /// The network the recipe names, fitted to the data's shapes, with the saved model it
    /// continues (if any) and the seed of the run.
    func buildModel(for train: ImageDataset) throws -> (Sequential, CompiledModel?, UInt64) {
        let network: Sequential
        var saved: CompiledModel?
        var seed = self.seed ?? UInt64.random(in: 0...UInt64(UInt32.max))
        switch start {
        case .continuing(let model, let path):
            saved = model
            network = model.model
            if self.seed == nil, let recorded = model.record.seed { seed = recorded }
            // A diverged run's file cannot be trained further: say so now, not as a NaN loss.
            let weights = network.parameters.reduce(0) { $0 + $1.value.nonFiniteCount }
            let state = model.optimizer?.orderedSlots.reduce(0) { $0 + $1.nonFiniteCount } ?? 0
            if weights + state > 0 {
                throw MLPError.format(path: path, problem: "holds \(weights) weights and \(state) optimizer values that are NaN or "
                    + "infinite (a run that diverged); it cannot be trained further")
            }
            network.seedStreams(seed, step: model.optimizer?.iterations ?? 0)
        case .fresh(.config(let file)):
            network = try file.model()
            network.initialize(seed: seed)
        case .fresh(.layers(let hidden, let dropout, let l2, let batchNorm)):
            network = Sequential.mlp(inputShape: [train.featureCount], hidden: hidden, classes: train.classCount,
                                     dropout: dropout, l2: l2, batchNorm: batchNorm, seed: seed)
            network.setGlobalPolicy(dtypePolicy)
        }
        if let source = start.source { try Self.checkPrecision(of: network, compute: compute, source: source) }
        if case .continuing(let model, let path) = start, let input = model.record.input {
            try input.checkFits(train, model: path)
        }
        do {
            try network.checkFits(train)
        } catch MLPError.model(let problem) {
            // Only a model from a file can disagree with the data: name the file.
            if let source = start.source { throw MLPError.io(path: source, problem: problem) }
            throw MLPError.model(problem)
        }
        return (network, saved, seed)
    }

    /// A note that a mixed_bfloat16 model will train slower than in float32 on this CPU, which
    /// has no bfloat16 in hardware, with the speed of its products measured here; nil when the
    /// model is float32 or the CPU multiplies bfloat16 itself.
    static func bfloat16Note(_ network: Sequential, compute: ComputeOptions) -> String? {
        guard network.layers.contains(where: { $0.dtypePolicy == .mixedBFloat16 }), compute.engine == .oneDNN,
              MatrixEngine.supportsBFloat16, !MatrixEngine.hasNativeBFloat16 else { return nil }
        let widths = [network.inputWidth] + network.layers.compactMap { ($0 as? Dense)?.units }
        guard let ratio = MatrixEngine.bfloat16SpeedRatio(widths: widths, threads: compute.threads), ratio < 1 else { return nil }
        return "note: this CPU has no bfloat16 in hardware (oneDNN's kernels here: \(MatrixEngine.instructionSet)): mixed_bfloat16's "
            + String(format: "products run emulated, at %.2f× the speed of float32's (measured here on this model's shapes); ", ratio)
            + "the policy is kept, as asked"
    }

    /// Refuses to train a mixed-precision model where the engine has no bfloat16 products.
    ///
    /// - Parameters:
    ///   - source: the model file the policies come from, if any, to name in the error.
    public static func checkPrecision(of network: Sequential, compute: ComputeOptions, source: String? = nil) throws {
        guard network.layers.contains(where: { $0.dtypePolicy == .mixedBFloat16 }), let problem = compute.engine.bfloat16Problem
        else { return }
        if let source { throw MLPError.format(path: source, problem: "its layers are mixed_bfloat16: \(problem)") }
        throw MLPError.setting("dtype_policy", problem: "mixed_bfloat16: \(problem)")
    }

    func buildOptimizer(saved: CompiledModel?, steps: Int, log: (String) -> Void) throws -> Optimizer {
        let optimizer: Optimizer
        if let saved, case .continuing(_, let path) = start {
            for warning in saved.warnings { log("note: \(path): \(warning)") }
        }
        if let saved, case .continuing(_, let path) = start, let restored = saved.optimizer {
            optimizer = restored
            if let learningRate {
                optimizer.learningRate = learningRate
                optimizer.schedule = nil
            }
            log("resuming \(path): \(restored.kerasClassName) after \(restored.iterations) iterations"
                + (saved.optimizerStateRestored ? "" : " (no optimizer state in the file: starting it afresh)"))
        } else if self.optimizer == nil, case .fresh(.config(let file)) = start, let compiled = try file.compiledOptimizer() {
            optimizer = compiled
            if let learningRate {
                optimizer.learningRate = learningRate
                optimizer.schedule = nil
            }
        } else {
            optimizer = (self.optimizer ?? .rmsprop).make(learningRate: learningRate)
        }
        switch cosineDecay {
        case true?:
            optimizer.schedule = CosineDecay(initialLearningRate: optimizer.learningRate, decaySteps: optimizer.iterations + epochs * steps)
        case false?:
            if let schedule = optimizer.schedule { optimizer.learningRate = schedule.rate(at: optimizer.iterations) }
            optimizer.schedule = nil
        case nil: break
        }
        return optimizer
    }

    /// What every saved model of this run records: the data, the options, the seed, the date.
    ///
    /// - Parameters:
    ///   - optimizer: the optimizer as the run starts, whose kind and rate are recorded.
    ///   - seed: the run's seed, given or resolved.
    func runRecord(data: DatasetPair, optimizer: Optimizer, seed: UInt64) -> RunRecord {
        var record = RunRecord()
        (record.version, record.datasetName, record.datasetFile, record.datasetSHA256) = (mlpVersion, data.name,
                                                                                 DatasetSources.recordedPath(data.source), data.checksum)
        record.options = optionsRecord(optimizer: optimizer)
        record.seed = seed
        record.created = ISO8601DateFormatter().string(from: Date())
        if data.test.count > 0 { record.holdoutSHA256 = data.test.contentDigest }
        record.command = command
        record.input = InputRecord(data: data)
        record.shuffleSeed = data.shuffleSeed
        return record
    }

    /// The options as the run uses them, with the optimizer and rate it starts with.
    func optionsRecord(optimizer: Optimizer) -> TrainingOptionsRecord {
        var options = TrainingOptionsRecord()
        (options.epochs, options.batchSize, options.optimizer) = (epochs, batchSize, optimizer.kerasClassName.lowercased())
        (options.learningRate, options.validationSplit) = (optimizer.learningRate.decimalDouble, validationSplit)
        options.metrics = validationAUC ? ["accuracy", "auc"] : ["accuracy"]
        if dtypePolicy != .float32 { options.dtypePolicy = dtypePolicy.rawValue }
        if optimizer.schedule is CosineDecay { options.lrSchedule = "cosine" }
        switch start {
        case .fresh(.layers(let hidden, let dropout, let l2, let batchNorm)):
            options.layers = hidden.map { "\($0.units):\($0.activation.rawValue)" }.joined(separator: ",")
            options.dropout = dropout.decimalDouble
            if l2 > 0 { options.l2 = l2.decimalDouble }
            if batchNorm { options.batchNorm = true }
        case .fresh(.config(let file)): options.model = file.path
        case .continuing(_, let path): options.resume = path
        }
        options.extra.merge(Callbacks.recordedValues(callbackValues)) { $1 }
        if Callbacks.active(in: callbackValues).contains(where: { $0.watching != nil }) {
            options.monitor = monitor.name
            if monitor.minDelta > 0 { options.minDelta = monitor.minDelta }
        }
        return options
    }
}
