import ArgumentParser
import Foundation
import MLPCommandLine
import MLPKit

@main
struct MLPTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlp-train",
        abstract: "Train an MLP classifier on CIFAR-100 and save it as a Keras .h5 model.",
        discussion: """
            With no options but -o, trains the notebook's baseline: Dense(128, relu) → Dense(100, softmax), \
            RMSprop (learning rate 0.001), categorical cross-entropy, batch 128, 5 epochs, on pixels scaled to [0, 1].

            Ctrl-C stops training after the current step and saves the model trained so far to the -o file; --resume goes on from it.
            """)

    static func main() { mainReportingOneLine() }

    @Option(name: .shortAndLong, help: "Where to save the trained model (.h5, Keras's HDF5 layout).")
    var output: String

    @OptionGroup var data: DataOptions

    @Option(help: "Passes over the training set (1 to 10000).")
    var epochs = 5

    @Option(help: "Samples per gradient step (1 to 65536).")
    var batchSize = 128

    @Option(help: "Optimizer, with Keras's defaults: \(OptimizerKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var optimizer = OptimizerKind.rmsprop

    @Option(help: "Learning rate (default: the optimizer's Keras default; 0.001 for rmsprop).")
    var learningRate: Float?

    @Option(help: "Hidden layers as UNITS:ACTIVATION, comma-separated; the output Dense(classes, softmax) is added.")
    var layers = "128:relu"

    @Option(help: "Dropout rate after each hidden layer (0 to <1).")
    var dropout: Float = 0

    @Option(help: "Architecture as a Keras model-config JSON file (e.g. Models/baseline.json), instead of --layers.")
    var model: String?

    @Option(help: "Go on training a saved model (.h5, this toolchain's or Keras's) with its optimizer and its state, as load_model then fit; --epochs more epochs.")
    var resume: String?

    @Option(help: "Fraction of the training set held out for validation: the LAST fraction, before shuffling, as Keras does (0 to <1).")
    var validationSplit: Double = 0

    @Option(help: "Seed for initial weights, dropout and shuffling (default: drawn at random and recorded in the model).")
    var seed: UInt64?

    @Option(help: "Also write the per-epoch history (Keras's History: loss, accuracy, val_*, and seconds) as JSON.")
    var history: String?

    @Option(help: "Cores for the numeric work (default: all).")
    var threads: Int?

    @Flag(help: "Run every unit's backward products, even for ReLU units that are off for a whole batch (same results, slower; for benchmarks).")
    var denseBackward = false

    func validate() throws {
        guard (1...10_000).contains(epochs) else { throw ValidationError("--epochs must be 1 to 10000, got \(epochs)") }
        guard (1...65_536).contains(batchSize) else { throw ValidationError("--batch-size must be 1 to 65536, got \(batchSize)") }
        if let learningRate, !(learningRate > 0 && learningRate <= 10) {
            throw ValidationError("--learning-rate must be above 0 and at most 10, got \(learningRate)")
        }
        guard dropout >= 0, dropout < 1 else { throw ValidationError("--dropout must be 0 to below 1, got \(dropout)") }
        guard validationSplit >= 0, validationSplit < 1 else {
            throw ValidationError("--validation-split must be 0 to below 1, got \(validationSplit)")
        }
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be 1 to 256, got \(threads)") }
    }

    func run() throws {
        try train()
    }

    func train() throws {
        if let threads { Compute.threads = threads }
        if denseBackward { Dense.skipsInactiveUnits = false }
        try AtomicFile.temporaryPath(for: output)
        if let history { try AtomicFile.temporaryPath(for: history) }
        let hidden = try HiddenLayerSpec.parseList(layers)
        let seed = self.seed ?? UInt64.random(in: 0...UInt64(UInt32.max))

        let pair = try data.load()
        print(pair.train.balanceReport(title: "train"))
        print(pair.test.balanceReport(title: "test"))
        var train = pair.train, validation: ImageDataset?
        if validationSplit > 0 {
            (train, validation) = pair.train.splitValidation(fraction: validationSplit)
            guard train.count > 0, validation!.count > 0 else { throw MLPError.usage("--validation-split \(validationSplit) leaves an empty split") }
            print("validation: last \(validation!.count) training images held out, training on \(train.count)")
        }

        let network: Sequential
        var resumed: SavedModel?
        if let resume {
            guard model == nil else { throw MLPError.usage("--resume and --model both give the architecture; use one") }
            resumed = try KerasH5.load(path: resume)
            network = resumed!.model
            network.initialize(dropoutSeed: seed)
            for warning in resumed!.warnings { print("note: \(resume): \(warning)") }
        } else if let model {
            let text: String
            do { text = try String(contentsOfFile: model, encoding: .utf8) } catch {
                throw MLPError.io(path: model, problem: "cannot read file")
            }
            network = try ModelConfig.model(fromJSON: text, source: model)
            network.initialize(seed: seed)
        } else {
            network = Sequential.mlp(inputShape: [train.featureCount], hidden: hidden, classes: train.classCount,
                                     dropout: dropout, seed: seed)
        }
        do {
            try network.checkFits(train)
        } catch MLPError.model(let problem) {
            // Only a model from a file can disagree with the data: name the file.
            throw MLPError.io(path: resume ?? model ?? "--layers", problem: problem)
        }
        let optimizer: Optimizer
        if let saved = resumed?.optimizer {
            optimizer = saved
            if let learningRate { optimizer.learningRate = learningRate }
            print("resuming \(resume!): \(saved.kerasClassName) after \(saved.iterations) iterations"
                  + (resumed!.optimizerStateRestored ? "" : " (no optimizer state in the file: starting it afresh)"))
        } else {
            optimizer = self.optimizer.make(learningRate: learningRate)
        }
        print("model: \(network.layers.map { "\($0.kerasClassName)(\($0.outputShape.map(String.init).joined(separator: "x")))" }.joined(separator: " → ")), "
              + "\(network.parameters.reduce(0) { $0 + $1.count }) parameters; optimizer \(optimizer.kerasClassName) "
              + "(learning rate \(optimizer.learningRate)); seed \(seed)")

        let printer = ProgressPrinter.shared
        var stoppedAt: String?
        StopSignal.install()
        let logs = try Trainer.fit(model: network, optimizer: optimizer, train: train, validation: validation,
                                   options: TrainingOptions(epochs: epochs, batchSize: batchSize, seed: seed),
                                   shouldStop: { StopSignal.isRequested }) { event in
            switch event {
            case .epochStarted(let epoch, let total):
                print("Epoch \(epoch)/\(total)")
            case .step(let step, let steps, let seconds, let loss, let accuracy):
                printer.update(kerasProgressLine(step: step, of: steps, seconds: seconds,
                                                 metrics: [("accuracy", accuracy), ("loss", loss)]), force: step == steps)
            case .epochEnded(let log):
                var metrics = [("accuracy", log.accuracy), ("loss", log.loss)]
                if let valAccuracy = log.validationAccuracy, let valLoss = log.validationLoss {
                    metrics += [("val_accuracy", valAccuracy), ("val_loss", valLoss)]
                }
                printer.update(kerasProgressLine(step: log.steps, of: log.steps, seconds: log.seconds, metrics: metrics), force: true)
                printer.finish()
            case .stopped(let epoch, let step, let steps):
                printer.finish()
                stoppedAt = "epoch \(epoch), step \(step) of \(steps)"
            }
        }
        if let history {
            var object: [String: Any] = ["epoch": logs.map(\.epoch), "loss": logs.map(\.loss), "accuracy": logs.map(\.accuracy),
                                         "seconds": logs.map(\.seconds)]
            if validation != nil {
                object["val_loss"] = logs.map { $0.validationLoss ?? .nan }
                object["val_accuracy"] = logs.map { $0.validationAccuracy ?? .nan }
            }
            try writeOutput(Data(jsonText(object).utf8), to: history)
        }

        if stoppedAt == nil {
            let test = Trainer.evaluate(model: network, data: pair.test, batchSize: batchSize)
            print(String(format: "holdout: accuracy %.4f, loss %.4f on %d images", test.accuracy, test.loss, pair.test.count))
        }

        var options: [String: Any] = [
            "epochs": epochs, "batch_size": batchSize, "optimizer": optimizer.kerasClassName.lowercased(),
            "learning_rate": optimizer.learningRate.decimalDouble, "label_mode": data.labelMode.rawValue,
            "dropout": dropout.decimalDouble, "validation_split": validationSplit,
        ]
        if let resume { options["resume"] = resume } else if let model { options["model"] = model } else { options["layers"] = layers }
        var provenance = [
            "version": mlpVersion, "dataset": pair.name, "dataset_file": pair.source, "dataset_sha256": pair.checksum,
            "options": jsonText(options), "seed": String(seed), "created": ISO8601DateFormatter().string(from: Date()),
            "command": CommandLine.arguments.joined(separator: " "),
        ]
        if let stoppedAt { provenance["interrupted"] = stoppedAt }
        try KerasH5.save(SavedModel(model: network, optimizer: optimizer, provenance: provenance), to: output)
        guard let stoppedAt else { return print("saved \(output)") }
        FileHandle.standardError.write(Data(
            "mlp-train: interrupted in \(stoppedAt); the model so far is saved in \(output) (go on with --resume \(output))\n".utf8))
        throw ExitCode(130)
    }
}
