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

            To watch a model overfit, hold out validation data and add Keras's callbacks: \
            mlp-train --model Models/overfit.json --validation-split 0.2 --epochs 20 --early-stopping 3 \
            --history h.csv --plot h.svg -o m.h5

            Ctrl-C stops training after the current step and saves the model trained so far to the -o file; --resume goes on from it.
            """)

    static func main() { mainReportingOneLine() }

    @Option(name: .shortAndLong, help: "Where to save the trained model (.h5, Keras's HDF5 layout).")
    var output: String

    @OptionGroup var data: DataOptions

    @OptionGroup var training: TrainingOptionGroup

    func validate() throws { try training.validate() }

    func run() throws {
        // Every file is checked before any data is loaded.
        for path in [output] + training.outputFiles { try AtomicFile.temporaryPath(for: path) }
        let recipe = try training.recipe()
        let pair = try data.load()
        print(pair.train.balanceReport(title: "train"))
        print(pair.test.balanceReport(title: "test"))

        StopSignal.install()
        let outcome = try recipe.run(data: pair, callbacks: [ModelLine(seed: recipe.seed), ProgressBar(),
                                                             Interrupt { StopSignal.isRequested }])
        var provenance = outcome.provenance
        provenance["command"] = CommandLine.arguments.joined(separator: " ")
        var final = outcome
        final.provenance = provenance
        if let interruption = outcome.interruption {
            try final.save(to: output)
            FileHandle.standardError.write(Data(
                "mlp-train: interrupted in \(interruption); the model so far is saved in \(output) (go on with --resume \(output))\n".utf8))
            throw ExitCode(130)
        }
        // The same evaluation as mlp-eval's, so the two report the same numbers.
        let holdout = try Evaluation.accuracyAndLogLoss(model: outcome.model, data: pair.test)
        print(String(format: "holdout: accuracy %.4f, loss %.4f on %d images", holdout.accuracy, holdout.logLoss, pair.test.count))
        try final.save(to: output)
        print("saved \(output)")
    }
}

/// Prints the model and optimizer about to be trained, once training begins.
final class ModelLine: Callback {
    let seed: UInt64

    init(seed: UInt64) { self.seed = seed }

    func trainBegin(_ context: TrainingContext) throws {
        let network = context.model, optimizer = context.optimizer
        let layers = network.layers.map { "\($0.kerasClassName)(\($0.outputShape.map(String.init).joined(separator: "x")))" }
        print("model: \(layers.joined(separator: " → ")), \(network.parameters.reduce(0) { $0 + $1.count }) parameters; "
              + "optimizer \(optimizer.kerasClassName) (learning rate \(optimizer.learningRate)"
              + (optimizer.schedule == nil ? "" : ", cosine decay to 0") + "); seed \(seed)")
    }
}
