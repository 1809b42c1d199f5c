import ArgumentParser
import Foundation
import MLPCommandLine
import MLPKit

@main
struct MLPTrain: ExtensionOptionsCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlp-train",
        abstract: "Train an MLP classifier on CIFAR-100 and save it as a Keras model (.keras or .h5).",
        discussion: """
            With no options but -o, trains the notebook's baseline: Dense(128, relu) → Dense(100, softmax), \
            RMSprop (learning rate 0.001), categorical cross-entropy, batch 128, 5 epochs, on pixels scaled to [0, 1].

            To watch a model overfit, hold out validation data and add Keras's callbacks: \
            mlp-train --model Models/overfit.json --validation-split 0.2 --epochs 20 --early-stopping 3 \
            --history h.csv --plot h.svg -o m.h5

            Ctrl-C stops training after the current step and saves the model trained so far to the -o file; --resume goes on from it.
            """)

    static func main() { mainReportingOneLine() }

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to save the trained model: .keras (Keras 3's native zip) or .h5 (Keras's HDF5 layout), by its name.", valueName: "file"))
    var output: String

    @OptionGroup var data: DataOptions

    @OptionGroup var training: TrainingOptionGroup

    @Argument(parsing: .allUnrecognized, help: .private)
    var extensions: [String] = []

    /// Keras's callbacks, each with its options.
    static var extensionOptions: [ExtensionOption] { Callbacks.options }

    func validate() throws {
        try training.validate()
        _ = try ExtensionArguments.parse(extensions, options: Self.extensionOptions, command: Self.self)
    }

    func run() throws {
        // Every file is read and checked before any data is loaded.
        try OutputName.check(output, flag: "output", formats: ModelFormats.writableExtensions)
        let callbacks = try ExtensionArguments.parse(extensions, options: Self.extensionOptions, command: Self.self)
        var recipe = try training.recipe(callbacks: callbacks.values)
        recipe.command = CommandLine.arguments.joined(separator: " ")
        let origin = try training.optimizerOrigin(of: recipe)
        // Going on from a file, or training a search's best.json: its label mode and (without
        // --data) its data, unless told otherwise.
        let defaults = training.dataDefaults(of: recipe)
        let dataFromFile = data.data == nil && defaults?.availableFile != nil
        let fileSettings = training.tunedOrigin(of: recipe, dataFromFile: dataFromFile)
        var loaded: DatasetPair?
        let outcome = try recipe.run(data: {
            let pair = try data.load(defaults: defaults)
            print(pair.train.balanceReport(title: "train"))
            print(pair.test.balanceReport(title: "holdout"))
            StopSignal.install()
            loaded = pair
            return pair
        }, callbacks: [ModelLine(optimizerOrigin: origin, fileSettings: fileSettings), ProgressBar(), Interrupt { StopSignal.isRequested }])
        if let interruption = outcome.interruption {
            try outcome.save(to: output)
            FileHandle.standardError.write(Data(
                "mlp-train: interrupted in \(interruption); the model so far is saved in \(output) (go on with --resume \(output))\n".utf8))
            throw ExitCode(130)
        }
        guard let pair = loaded else { return }
        // The same evaluation as mlp-eval's, so the two report the same numbers.
        let holdout = try Evaluation.accuracyAndLogLoss(model: outcome.model, data: pair.test)
        // scikit-learn's log_loss, as mlp-eval reports it: no regularization penalty, unlike the epochs' loss.
        print(String(format: "holdout: accuracy %.4f, log loss %.4f on %d images", holdout.accuracy, holdout.logLoss, pair.test.count))
        try outcome.save(to: output)
        let written = ExtensionOption.written(by: Self.extensionOptions, in: callbacks.values)
        print("saved \(output)" + (written.isEmpty ? "" : "; wrote " + written.joined(separator: ", ")))
    }
}

/// Prints the model and optimizer about to be trained, once training begins.
final class ModelLine: Callback {
    /// Where the optimizer's settings came from, when a file gave them.
    let optimizerOrigin: String?
    /// The run's settings a search's best.json gave, when it did.
    let fileSettings: String?

    init(optimizerOrigin: String?, fileSettings: String?) {
        self.optimizerOrigin = optimizerOrigin
        self.fileSettings = fileSettings
    }

    func trainBegin(_ context: TrainingContext) throws {
        let network = context.model, optimizer = context.optimizer
        let layers = network.layers.map { "\($0.kerasClassName)(\($0.summarySetting))" }
        print("model: \(layers.joined(separator: " → ")), \(network.parameters.reduce(0) { $0 + $1.count }) parameters; "
              + "optimizer \(optimizer.kerasClassName) (learning rate \(optimizer.learningRate)"
              + (optimizer.schedule == nil ? "" : ", cosine decay to 0") + ")"
              + (optimizerOrigin.map { " \($0)" } ?? "") + "; seed \(context.options.seed)"
              + (fileSettings.map { "; \($0)" } ?? ""))
        let (done, end) = (context.options.initialEpoch, context.options.endEpoch)
        // Keras's fit(epochs=) names the last epoch; --epochs with --resume counts the epochs added.
        if done > 0 {
            print("going on from epoch \(done): \(counted(end - done, "more epoch")) (--epochs counts those added), to epoch \(end)")
        }
    }
}
