import Foundation
import Testing
@testable import MLPKit

/// Training against Keras 3 itself (Fixtures/training/make.py): each callback on fixed
/// sequences of logs, BatchNormalization and L2 steps, the cosine schedule, the CSV log, the
/// regularized models Keras wrote; and what fit promises about epochs and resuming.
@Suite struct TrainingTests {
    static func golden() throws -> [String: Any] { try jsonFixture("training/golden.json") }

    /// The callback cases, by name; a missing or empty fixture fails the test built from it.
    static func callbackCases() throws -> [String] {
        let cases = try #require(try golden()["callbacks"] as? [[String: Any]])
        guard !cases.isEmpty else { throw MLPError.format(path: fixture("training/golden.json"), problem: "no callback cases") }
        return cases.compactMap { $0["name"] as? String }
    }

    /// Replays a case's logs through our callback as fit would call it, with a one-weight
    /// model whose weight is set to the epoch before each epoch ends (so the restored weight
    /// names the epoch restored), exactly as Fixtures/training/make.py replays them through Keras's.
    @Test(arguments: try callbackCases())
    func callbackMatchesKeras(_ name: String) throws {
        let cases = try #require(try Self.golden()["callbacks"] as? [[String: Any]])
        let item = try #require(cases.first { $0["name"] as? String == name })
        let settings = try #require(item["settings"] as? [String: Any])
        let monitorName = try #require(item["monitor"] as? String)
        let values = try #require(item["values"] as? [Any]).map { $0 is NSNull ? nil : try number($0) }
        let patience = (settings["patience"] as? Int) ?? 0
        let monitor = Monitor(monitorName, minDelta: try settings["min_delta"].map { try number($0) } ?? 0)

        var messages: [String] = []
        let log: (String) -> Void = { messages.append($0) }
        let callback: Callback
        var saved: [Int] = []
        switch item["kind"] as? String {
        case "early_stopping": callback = EarlyStopping(monitor: monitor, patience: patience, log: log)
        case "reduce_lr":
            let plateau = Monitor(monitorName, minDelta: try settings["min_delta"].map { try number($0) } ?? 1e-4)
            callback = ReduceLROnPlateau(monitor: plateau, factor: try settings["factor"].map { try number($0) } ?? 0.1,
                                         patience: patience, log: log)
        default: callback = ModelCheckpoint(path: "best.h5", monitor: monitor, log: log) { _, epoch in saved.append(epoch) }
        }

        let weight = Dense(name: "dense", inputs: 1, units: 1, useBias: false)
        let model = Sequential(inputShape: [1], layers: [weight])
        let optimizer = RMSprop(learningRate: 0.001)
        let context = TrainingContext(model: model, optimizer: optimizer, options: TrainingOptions(endEpoch: values.count),
                                      stepsPerEpoch: 1)
        var stoppedAfter: Int?, rates: [Double] = []
        try callback.trainBegin(context)
        for (epoch, value) in values.enumerated() {
            weight.kernel.value.pointer[0] = Float(epoch)
            try callback.epochBegin(epoch, context)
            var logs = Logs()
            if let value { logs[monitorName] = value }
            try callback.epochEnd(epoch, logs: &logs, context)
            rates.append(Double(optimizer.learningRate))
            if context.stopTraining {
                stoppedAfter = epoch
                break
            }
        }
        try callback.trainEnd(logs: Logs(), context)

        #expect(stoppedAfter == item["stopped_after"] as? Int, "stopped after")
        #expect(messages == item["messages"] as? [String])
        #expect(Double(weight.kernel.value.pointer[0]) == (try number(item["final_weight"])), "restored weights")
        if item["kind"] as? String == "reduce_lr" {
            let expected = try doubles(item["learning_rates"])
            #expect(rates == expected, "\(rates) against Keras's \(expected)")
        }
        if item["kind"] as? String == "checkpoint" { #expect(saved == (try ints(item["saved_epochs"]))) }
    }

    /// The history file as Keras's CSVLogger writes the same logs, byte for byte.
    @Test(arguments: [("csv_logs", "csvlogger.csv"), ("csv_logs_no_validation", "csvlogger_no_validation.csv")])
    func csvMatchesKerasCSVLogger(_ key: String, _ file: String) throws {
        let rows = try #require(try Self.golden()[key] as? [[String: Any]])
        let logs = try rows.map { row in
            var logs = Logs()
            for (name, value) in row { logs[name] = try number(value) }
            return logs
        }
        let expected = try Data(contentsOf: URL(fileURLWithPath: fixture("training/" + file)))
        let text = HistoryFile.csv(epochs: Array(logs.indices), logs: logs)
        #expect(Data(text.utf8) == expected, "\(text) against Keras's \(String(decoding: expected, as: UTF8.self))")
    }

    @Test func pythonFloatsMatchRepr() throws {
        let cases = try #require(try Self.golden()["python_floats"] as? [[String: Any]])
        #expect(cases.count > 10)
        for item in cases {
            let value = try number(item["value"])
            #expect(pythonFloat(value) == item["repr"] as? String, "\(value)")
        }
    }

    @Test func cosineDecayMatchesKeras() throws {
        let cosine = try #require(try Self.golden()["cosine"] as? [String: Any])
        let schedule = CosineDecay(initialLearningRate: Float(try number(cosine["initial_learning_rate"])),
                                   decaySteps: try #require(cosine["decay_steps"] as? Int), alpha: Float(try number(cosine["alpha"])))
        for (step, rate) in checkedZip(try ints(cosine["steps"]), try doubles(cosine["rates"])) {
            #expect(abs(Double(schedule.rate(at: step)) - rate) <= 2e-9, "step \(step)")
        }
        // Saved in the optimizer's config, and read back from it.
        let optimizer = Adam(learningRate: 0.01)
        optimizer.schedule = schedule
        let object = OptimizerConfig.object(for: optimizer)
        #expect(object["config"]?["learning_rate"]?["class_name"] == "CosineDecay")
        let (restored, problem) = OptimizerConfig.optimizer(from: .object(object))
        #expect(problem == nil)
        #expect((restored?.schedule as? CosineDecay) == schedule)
    }

    /// Builds Dense(6→5, relu[, L2]) [→ BatchNormalization] → Dense(3, softmax) with Keras's
    /// weights from a golden step.
    func goldenModel(_ step: [String: Any], l2: Float = 0, batchNorm: Bool) throws -> Sequential {
        let model = Sequential.mlp(inputShape: [6], hidden: [HiddenLayerSpec(units: 5, activation: .relu)], classes: 3,
                                   l2: l2, batchNorm: batchNorm, seed: 0)
        let before = try #require(step["before"] as? [Any])
        #expect(before.count == model.parameters.count)
        for (parameter, values) in checkedZip(model.parameters, before) { try fill(parameter.value, from: values) }
        return model
    }

    /// One SGD step against Keras's `train_on_batch`: the loss it reports and every weight
    /// afterwards; and `evaluate`'s loss, in inference mode, before the step.
    func checkStep(_ key: String, l2: Float = 0, batchNorm: Bool) throws {
        let step = try #require(try Self.golden()[key] as? [String: Any])
        let model = try goldenModel(step, l2: l2, batchNorm: batchNorm)
        let x = try floats(step["x"]), labels = try ints(step["labels"]).map(Int32.init)
        let output = model.forward(x, rows: labels.count, training: false)
        let inference = CategoricalCrossentropy.loss(probabilities: output, labels: labels, rows: labels.count, classes: 3)
        let evaluated = inference.loss / Double(labels.count) + model.regularizationPenalty
        #expect(abs(evaluated - (try number(step["evaluate_before"]))) < 2e-6, "evaluate: \(evaluated)")

        let optimizer = SGD(learningRate: 0.1)
        optimizer.build(for: model.trainableParameters)
        let result = model.computeGradients(x, labels: labels, rows: labels.count)
        optimizer.apply(to: model.trainableParameters)
        #expect(abs(result.loss / Double(labels.count) - (try number(step["loss"]))) < 2e-6, "loss")
        let after = try #require(step["after"] as? [Any]), names = try #require(step["names"] as? [String])
        #expect(names.count == after.count)
        for ((parameter, values), name) in zip(checkedZip(model.parameters, after), names) {
            let difference = maxDifference(parameter.value.array, try floats(values))
            #expect(difference < 2e-6, "\(name): \(difference)")
        }
    }

    @Test func batchNormalizationStepMatchesKeras() throws { try checkStep("batch_norm_step", batchNorm: true) }

    @Test func l2StepMatchesKeras() throws { try checkStep("l2_step", l2: 0.05, batchNorm: false) }

    /// Dense(relu, L2) → BatchNormalization → Dropout → Dense(softmax), one Adam step against
    /// Keras 3 with Keras's own dropout mask replayed: each layer's output in inference and in
    /// training mode, dL/d(each layer's output), every gradient, the moving statistics, and
    /// every weight after the step, each within 1e-6 (relative above 1).
    @Test func batchNormalizationThenDropoutStepMatchesKeras() throws {
        let step = try #require(try Self.golden()["bn_dropout_step"] as? [String: Any])
        let x = try floats(step["x"]), labels = try ints(step["labels"]).map(Int32.init)
        let rows = labels.count, mask = try floats(step["mask"])
        func close(_ ours: [Float], _ key: String, _ index: Int, _ what: String) throws {
            let list = try #require(step[key] as? [Any])
            try #require(list.indices.contains(index), "\(what): Keras's \(key) has no entry \(index)")
            let theirs = try floats(list[index])
            #expect(ours.count == theirs.count, "\(what): \(ours.count) values against Keras's \(theirs.count)")
            let worst = zip(ours, theirs).map { abs(Double($0) - Double($1)) / max(1, abs(Double($1))) }.max() ?? 0
            #expect(worst <= 1e-6, "\(what): differs from Keras by \(worst)")
        }
        func model() throws -> Sequential {
            let model = Sequential.mlp(inputShape: [6], hidden: [HiddenLayerSpec(units: 5, activation: .relu)], classes: 3,
                                       dropout: Float(try number(step["rate"])), l2: Float(try number(step["l2"])),
                                       batchNorm: true, seed: 0)
            #expect(model.layers.map(\.kerasClassName) == ["Dense", "BatchNormalization", "Dropout", "Dense"])
            let before = try #require(step["before"] as? [Any])
            for (parameter, values) in checkedZip(model.parameters, before) { try fill(parameter.value, from: values) }
            try #require(model.layers[2] as? Dropout).replayedMasks = [mask]
            return model
        }

        // Layer by layer, each reading the one before's buffer as Sequential.forward does:
        // inference, then training with its backward pass.
        let layered = try model()
        layered.reserve(rows: rows, training: true)
        let width = layered.layers.map(\.outputWidth)
        let input = FloatBuffer(count: x.count)
        input.assign(x)
        var h: [Float] = []
        for training in [false, true] {
            var activations = UnsafePointer(input.pointer)
            for (index, layer) in layered.layers.enumerated() {
                activations = layer.forward(activations, rows: rows, training: training)
                h = Array(UnsafeBufferPointer(start: activations, count: rows * width[index]))
                try close(h, training ? "training_outputs" : "inference_outputs", index,
                          "\(training ? "training" : "inference") output of \(layer.name)")
            }
        }
        let batchNorm = layered.layers[1]
        try close(batchNorm.parameters[2].value.array, "moving_after_forward", 0, "moving_mean")
        try close(batchNorm.parameters[3].value.array, "moving_after_forward", 1, "moving_variance")
        var dz = h
        CategoricalCrossentropy.softmaxGradient(probabilities: &dz, labels: labels, rows: rows, classes: 3)
        let output = try #require(layered.layers[3] as? Dense)
        var gradient = try #require(output.backward(preActivationGradient: &dz, rows: rows, needInputGradient: true))
        for index in stride(from: 2, through: 0, by: -1) {
            try close(Array(UnsafeBufferPointer(start: gradient, count: rows * width[index])), "output_gradients", index,
                      "dL/d(output of \(layered.layers[index].name))")
            if index > 0 {
                gradient = try #require(layered.layers[index].backward(gradient, rows: rows, needInputGradient: true))
            }
        }
        _ = layered.layers[0].backward(gradient, rows: rows, needInputGradient: false)
        let trainableNames = try #require(step["trainable_names"] as? [String])
        for (index, (parameter, name)) in checkedZip(layered.trainableParameters, trainableNames).enumerated() {
            try close(parameter.gradient.array, "gradients", index, "gradient of \(name)")
        }

        // The whole step as fit takes it: the loss Keras reports and every weight after Adam.
        let trained = try model()
        let optimizer = Adam(learningRate: Float(try number(step["learning_rate"])))
        optimizer.build(for: trained.trainableParameters)
        let result = trained.computeGradients(x, labels: labels, rows: rows)
        optimizer.apply(to: trained.trainableParameters)
        #expect(abs(result.loss / Double(rows) - (try number(step["loss"]))) < 1e-6, "loss \(result.loss / Double(rows))")
        let names = try #require(step["names"] as? [String])
        for (index, (parameter, name)) in checkedZip(trained.parameters, names).enumerated() {
            try close(parameter.value.array, "after", index, "\(name) after the step")
        }
    }

    /// BatchNormalization's training-mode backward and the L2 term against finite differences
    /// of the batch's loss (penalty included).
    @Test func gradientsMatchFiniteDifferences() throws {
        var generator = SeededGenerator(seed: 5)
        let x = (0..<(7 * 6)).map { _ in generator.nextUnitFloat() * 2 - 1 }
        let labels: [Int32] = [0, 2, 1, 2, 0, 1, 1]
        for (l2, batchNorm) in [(Float(0.05), false), (0, true), (0.02, true)] {
            let model = Sequential.mlp(inputShape: [6], hidden: [HiddenLayerSpec(units: 5, activation: .tanh),
                                                                 HiddenLayerSpec(units: 4, activation: .relu)],
                                       classes: 3, l2: l2, batchNorm: batchNorm, seed: 3)
            func loss() -> Double {
                let p = model.forward(x, rows: labels.count, training: true)
                return CategoricalCrossentropy.loss(probabilities: p, labels: labels, rows: labels.count, classes: 3).loss
                    / Double(labels.count) + model.regularizationPenalty
            }
            _ = model.computeGradients(x, labels: labels, rows: labels.count)
            for parameter in model.trainableParameters {
                let analytic = parameter.gradient.array
                for i in 0..<parameter.count {
                    let original = parameter.value.pointer[i]
                    parameter.value.pointer[i] = original + 1e-3
                    let plus = loss()
                    parameter.value.pointer[i] = original - 1e-3
                    let minus = loss()
                    parameter.value.pointer[i] = original
                    let numeric = (plus - minus) / 2e-3
                    #expect(abs(numeric - Double(analytic[i])) < 2e-3,
                            "l2 \(l2), batch norm \(batchNorm): \(parameter.name)[\(i)] finite difference \(numeric), backward \(analytic[i])")
                }
            }
        }
    }

    /// Keras's files with L2, BatchNormalization, Dropout and (Keras 3) Adam on CosineDecay:
    /// they predict as in Keras, keep their regularizer and schedule, and evaluate to Keras's loss.
    @Test(arguments: ["k3_regularized.h5", "k2_regularized.h5"])
    func regularizedKerasModels(_ file: String) throws {
        let models = try #require(try Self.golden()["models"] as? [String: Any])
        let info = try #require(models[file] as? [String: Any])
        let saved = try ModelFile.load(path: fixture("training/" + file))
        let x = try floats(info["x"])
        let predictions = saved.model.predict(x, batchSize: 4)
        #expect(maxDifference(predictions, try floats(info["predictions"])) < 1e-5)
        let dense = try #require(saved.model.layers.first as? Dense)
        #expect(dense.kernelRegularizer == Regularizer(l2: 0.01))
        #expect(saved.model.layers.map(\.kerasClassName) == ["Dense", "BatchNormalization", "Dropout", "Dense"])
        #expect(saved.optimizer?.iterations == info["iterations"] as? Int && saved.optimizerStateRestored)
        if file.hasPrefix("k3") {
            #expect((saved.optimizer?.schedule as? CosineDecay) == CosineDecay(initialLearningRate: 0.01, decaySteps: 40))
        }
        let labels = try ints(info["labels"]).map(Int32.init)
        let loss = predictions.withUnsafeBufferPointer {
            CategoricalCrossentropy.loss(probabilities: $0.baseAddress!, labels: labels, rows: labels.count, classes: 5).loss
        } / Double(labels.count) + saved.model.regularizationPenalty
        #expect(abs(loss - (try number(info["loss_on_probe"]))) < 1e-5)

        // Written again, the file keeps them.
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("again.h5").path
        try KerasH5.save(CompiledModel(model: saved.model, optimizer: saved.optimizer), to: path)
        let again = try ModelFile.load(path: path)
        #expect((again.model.layers.first as? Dense)?.kernelRegularizer == Regularizer(l2: 0.01))
        #expect(again.optimizer?.schedule as? CosineDecay == saved.optimizer?.schedule as? CosineDecay)
        #expect(again.optimizer?.iterations == saved.optimizer?.iterations && again.optimizerStateRestored)
    }

    /// A small labelled set of random bytes, 60 images of 8 values in 3 classes.
    func tinyData(seed: UInt64) -> ImageDataset {
        var generator = SeededGenerator(seed: seed)
        let images = (0..<(60 * 8)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let labels = (0..<60).map { Int32($0 % 3) }
        return ImageDataset(images: images, labels: labels, shape: [8], classNames: ["a", "b", "c"])
    }

    /// Epoch N's shuffle depends only on the seed and N: training epochs 0 and 1, or epoch 0
    /// and then, resumed, epoch 1, gives the same weights, bit for bit.
    @Test func resumingEqualsTrainingOnce() throws {
        let data = tinyData(seed: 1)
        func model() -> Sequential {
            Sequential.mlp(inputShape: [8], hidden: [HiddenLayerSpec(units: 6, activation: .relu)], classes: 3, dropout: 0, seed: 7)
        }
        let once = model(), onceOptimizer = Adam()
        let history = try Trainer.fit(model: once, optimizer: onceOptimizer, train: data,
                                      options: TrainingOptions(endEpoch: 2, batchSize: 16, seed: 3))
        #expect(history.epochs == [0, 1])
        let twice = model(), optimizer = Adam()
        _ = try Trainer.fit(model: twice, optimizer: optimizer, train: data, options: TrainingOptions(endEpoch: 1, batchSize: 16, seed: 3))
        let resumed = try Trainer.fit(model: twice, optimizer: optimizer, train: data,
                                      options: TrainingOptions(endEpoch: 2, initialEpoch: 1, batchSize: 16, seed: 3))
        #expect(resumed.epochs == [1])
        #expect(checkedZip(once.parameters, twice.parameters).allSatisfy { $0.value.array == $1.value.array })
        // Another seed shuffles differently.
        let other = model()
        _ = try Trainer.fit(model: other, optimizer: Adam(), train: data, options: TrainingOptions(endEpoch: 2, batchSize: 16, seed: 4))
        #expect(!checkedZip(once.parameters, other.parameters).allSatisfy { $0.value.array == $1.value.array })
    }

    /// A step whose loss is not finite stops training there, naming the epoch and the step.
    @Test func divergenceStopsAtTheStep() throws {
        let data = tinyData(seed: 2)
        let model = Sequential.mlp(inputShape: [8], hidden: [HiddenLayerSpec(units: 6, activation: .linear)], classes: 3, seed: 1)
        do {
            _ = try Trainer.fit(model: model, optimizer: SGD(learningRate: 1e6), train: data,
                                options: TrainingOptions(endEpoch: 5, batchSize: 8, seed: 1))
            Issue.record("a learning rate of a million did not diverge")
        } catch let error as MLPError {
            #expect("\(error)".contains("training diverged in epoch 1, step "), "\(error)")
            #expect("\(error)".contains("the learning rate was 1000000.0"), "\(error)")
        }
    }

    /// Early stopping inside fit: training ends where the callback says and the model holds
    /// the best epoch's weights.
    @Test func earlyStoppingRestoresTheBestEpoch() throws {
        let data = tinyData(seed: 3)
        let split = data.splitValidation(fraction: 0.5)
        let model = Sequential.mlp(inputShape: [8], hidden: [HiddenLayerSpec(units: 32, activation: .relu)], classes: 3, seed: 2)
        final class Snapshots: Callback {
            var weights: [[[Float]]] = []
            func epochEnd(_ epoch: Int, logs: inout Logs, _ context: TrainingContext) throws {
                weights.append(context.model.parameters.map(\.value.array))
            }
        }
        let snapshots = Snapshots()
        var messages: [String] = []
        let early = EarlyStopping(monitor: Monitor("val_loss"), patience: 2) { messages.append($0) }
        let history = try Trainer.fit(model: model, optimizer: Adam(learningRate: 0.05), train: split.train, validation: split.validation,
                                      options: TrainingOptions(endEpoch: 60, batchSize: 10, seed: 1), callbacks: [early, snapshots])
        let losses = history.values("val_loss").map { $0! }
        let best = losses.indices.min { losses[$0] < losses[$1] }!
        #expect(history.epochs.count < 60, "random labels overfit at once; training should stop early")
        #expect(early.bestEpoch == best && early.stoppedEpoch == history.epochs.last)
        #expect(messages == ["Epoch \(history.epochs.last! + 1): early stopping",
                             "Restoring model weights from the end of the best epoch: \(best + 1)."])
        #expect(model.parameters.map(\.value.array) == snapshots.weights[best])
    }

    /// A checkpoint kept in memory and written at the end holds what one written after every
    /// improvement holds (weights, optimizer state, epochs, byte for byte but the provenance's
    /// command), and the run's own model is still its last epoch's. The monitor is made to find
    /// its best early (the lowest validation accuracy), so the kept epoch is not the last.
    @Test func checkpointWrittenAtEndEqualsOneWrittenAlong() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = SyntheticCIFAR.make(trainCount: 400, testCount: 16)
        func run(atEnd: Bool) throws -> (file: CompiledModel, outcome: TrainingOutcome) {
            var recipe = TrainingRecipe()
            recipe.start = .fresh(.layers([HiddenLayerSpec(units: 16, activation: .relu)]))
            recipe.optimizer = OptimizerKind(rawValue: "adam")
            recipe.epochs = 4
            recipe.batchSize = 32
            recipe.seed = 3
            recipe.validationSplit = 0.25
            recipe.compute = ComputeOptions(threads: 1)
            recipe.monitor = Monitor("val_accuracy", mode: .min)
            let checkpoint = folder.appendingPathComponent(atEnd ? "end.h5" : "along.h5").path
            recipe.callbackValues[ModelCheckpoint.flag] = .string(checkpoint)
            recipe.isTrial = atEnd
            let outcome = try recipe.run(data: { data }, log: { _ in })
            return (try ModelFile.load(path: checkpoint), outcome)
        }
        let along = try run(atEnd: false), end = try run(atEnd: true)
        let keptText = try #require(along.file.record.entries["checkpoint_of_epoch"])
        let keptEpoch = try #require(Int(keptText))
        #expect(keptEpoch < 4, "the lowest accuracy came last; the test needs it earlier")
        #expect(end.file.record.entries["checkpoint_of_epoch"] == String(keptEpoch))
        #expect(end.file.record.entries["epochs_completed"] == String(keptEpoch))
        #expect(end.file.model.parameters.map(\.value.array) == along.file.model.parameters.map(\.value.array))
        let (a, b) = (try #require(along.file.optimizer), try #require(end.file.optimizer))
        #expect(a.iterations == b.iterations && a.iterations == keptEpoch * 10)
        #expect(a.orderedSlots.map(\.array) == b.orderedSlots.map(\.array))
        // The outcome is the last epoch's model and optimizer, in both runs.
        #expect(end.outcome.model.parameters.map(\.value.array) == along.outcome.model.parameters.map(\.value.array))
        #expect(end.outcome.optimizer.iterations == 40)
        #expect(end.outcome.model.parameters.map(\.value.array) != end.file.model.parameters.map(\.value.array))
    }
}
