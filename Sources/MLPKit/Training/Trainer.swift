import Foundation

/// How `Trainer.fit` runs, as Keras's `fit` arguments.
public struct TrainingOptions: Sendable {
    /// The epoch to end before, counted from 0 (what Keras's `fit` calls `epochs`): training
    /// runs epochs `initialEpoch ..< endEpoch`.
    public var endEpoch: Int
    /// The epoch to start at, as Keras's `initial_epoch` (a resumed run goes on from there).
    public var initialEpoch: Int
    public var batchSize: Int
    /// Seeds the per-epoch shuffle: epoch N's order depends only on the seed and N (the
    /// model's initial weights have their own seed).
    public var seed: UInt64
    /// Shuffle the samples before each epoch, as Keras's `fit(shuffle=True)`; false takes them
    /// in the dataset's order every epoch.
    public var shuffle: Bool
    /// Also measure one-vs-rest ROC AUC (macro, exact) on the validation data: `val_auc`.
    public var validationAUC: Bool
    public var compute: ComputeOptions

    public init(endEpoch: Int = 5, initialEpoch: Int = 0, batchSize: Int = 128, seed: UInt64 = 0,
                shuffle: Bool = true, validationAUC: Bool = false, compute: ComputeOptions = ComputeOptions()) {
        self.endEpoch = endEpoch
        self.initialEpoch = initialEpoch
        self.batchSize = batchSize
        self.seed = seed
        self.shuffle = shuffle
        self.validationAUC = validationAUC
        self.compute = compute
    }
}

/// Keras's `model.fit` for a Sequential model: the epoch loop, the batches and the callbacks.
public enum Trainer {
    /// Trains `model` with `optimizer` on categorical cross-entropy, shuffling the samples each
    /// epoch, as Keras's `fit(shuffle=True)`; evaluates `validation` after each epoch; calls
    /// `callbacks`, then the returned `History`, at each of Keras's hooks.
    ///
    /// A step whose loss is not finite stops training at once with an error that names the
    /// epoch and the step, leaving the model as that step found it.
    ///
    /// The model runs with `options.compute` from then on (its `compute` is set to them). The
    /// calling thread computes with denormals flushed to zero, as TensorFlow's kernels do, and
    /// gets its floating-point control back as it was when `fit` returns.
    public static func fit(
        model: Sequential, optimizer: Optimizer, train: ImageDataset, validation: ImageDataset? = nil,
        options: TrainingOptions, callbacks: [Callback] = []
    ) throws -> History {
        if let layer = model.layers.first(where: { !$0.supportsTraining }) {
            throw MLPError.model("layer '\(layer.name)' (\(layer.kerasClassName)) runs in inference mode only and cannot be trained")
        }
        guard train.count > 0 else { throw MLPError.usage("no training samples") }
        let floatControl = flushDenormalsKeepingControl()
        defer { restoreFloatControl(floatControl) }
        model.compute = options.compute
        let batch = min(options.batchSize, train.count)
        let steps = (train.count + batch - 1) / batch
        let history = History()
        let context = TrainingContext(model: model, optimizer: optimizer, options: options, stepsPerEpoch: steps)
        let all = callbacks + [history]
        let epochs = EpochSteps(model: model, optimizer: optimizer, train: train, batch: batch, context: context, callbacks: all)
        var order = Array(0..<train.count)
        var logs = Logs()

        for callback in all { try callback.trainBegin(context) }
        for epoch in options.initialEpoch..<max(options.endEpoch, options.initialEpoch) {
            context.epoch = epoch
            context.step = 0
            for callback in all { try callback.epochBegin(epoch, context) }
            let started = Date()
            if options.shuffle { shuffle(&order, seed: options.seed, epoch: epoch) }
            logs = try epochs.run(epoch: epoch, order: order, started: started)
            if context.interruption != nil { break }
            if let validation, validation.count > 0 {
                let result = validate(model: model, data: validation, batchSize: batch, auc: options.validationAUC)
                logs["val_accuracy"] = result.accuracy
                if let auc = result.auc { logs["val_auc"] = auc }
                logs["val_loss"] = result.loss
            }
            history.seconds.append(Date().timeIntervalSince(started))
            for callback in all { try callback.epochEnd(epoch, logs: &logs, context) }
            if context.stopTraining { break }
        }
        history.interruption = context.interruption
        for callback in all { try callback.trainEnd(logs: logs, context) }
        history.earlyStopping = context.earlyStopping
        return history
    }

    /// One epoch's gradient steps over a shuffled order, with what every epoch shares: the
    /// batch buffers (allocated once for the run), the trainable parameters and the callbacks.
    final class EpochSteps {
        let model: Sequential, optimizer: Optimizer, train: ImageDataset
        let batch: Int, steps: Int, threads: Int
        let context: TrainingContext, callbacks: [Callback]
        let parameters: [Parameter]
        /// Each layer's trainable parameters with their indices among `parameters` (the
        /// optimizer's slots), by the layer's identity.
        let layerParameters: [ObjectIdentifier: [(Parameter, Int)]]
        let x: FloatBuffer
        let labels: UnsafeMutablePointer<Int32>

        init(model: Sequential, optimizer: Optimizer, train: ImageDataset, batch: Int, context: TrainingContext, callbacks: [Callback]) {
            (self.model, self.optimizer, self.train, self.batch) = (model, optimizer, train, batch)
            (self.context, self.callbacks) = (context, callbacks)
            steps = context.stepsPerEpoch
            threads = context.options.compute.threads
            x = FloatBuffer(count: batch * train.featureCount)
            labels = UnsafeMutablePointer<Int32>.allocate(capacity: batch)
            model.reserve(rows: batch)
            parameters = model.trainableParameters
            let indices = Dictionary(uniqueKeysWithValues: parameters.enumerated().map { (ObjectIdentifier($0.element), $0.offset) })
            layerParameters = Dictionary(uniqueKeysWithValues: model.layers.map { layer in
                (ObjectIdentifier(layer), layer.parameters.compactMap { p in indices[ObjectIdentifier(p)].map { (p, $0) } })
            })
            optimizer.build(for: parameters)
        }

        deinit { labels.deallocate() }

        /// Runs the epoch's steps (fewer when a callback stops training or interrupts it) and
        /// returns its mean loss and accuracy over the samples seen, as Keras logs them.
        func run(epoch: Int, order: [Int], started: Date) throws -> Logs {
            var lossSum = 0.0, correct = 0, seen = 0
            let profile = model.compute.profile
            for step in 0..<steps {
                let stepStart = StepProfile.now()
                let range = (step * batch)..<min((step + 1) * batch, train.count)
                let mark = profile?.start()
                train.fill(order[range], into: x.pointer, labels: labels, threads: threads)
                profile?.add(.gather, since: mark)
                // Each layer's parameters are updated as soon as its backward pass is done, while
                // their gradients are still in the cache: the same updates, of the same step.
                var updated = 0
                let result = model.computeGradients(x.pointer, labels: labels, rows: range.count) { [self] layer in
                    let mark = profile?.start()
                    if updated == 0 { optimizer.beginStep() }
                    updated += 1
                    for (parameter, index) in layerParameters[ObjectIdentifier(layer)] ?? [] {
                        optimizer.update(parameter, index: index, threads: threads)
                    }
                    profile?.add(.optimizer, since: mark)
                }
                guard result.loss.isFinite else {
                    let loss = result.loss.isNaN ? "NaN" : "\(result.loss / Double(range.count))"
                    throw MLPError.diverged("training diverged in epoch \(epoch + 1), step \(step + 1) of \(steps): the loss is "
                        + "\(loss); the learning rate was \(optimizer.learningRate), try a lower one")
                }
                if updated < model.layers.count {
                    // Layers the backward pass stopped before (no layer does) take the step too, as Keras's apply does.
                    if updated == 0 { optimizer.beginStep() }
                    for layer in model.layers.dropLast(updated) {
                        for (parameter, index) in layerParameters[ObjectIdentifier(layer)] ?? [] {
                            optimizer.update(parameter, index: index, threads: threads)
                        }
                    }
                }
                lossSum += result.loss
                correct += result.correct
                seen += range.count
                context.step = step + 1
                let batchLogs = BatchLogs(loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen),
                                          seconds: Date().timeIntervalSince(started))
                for callback in callbacks { try callback.batchEnd(step, logs: batchLogs, context) }
                profile?.countStep(StepProfile.now() &- stepStart)
                if context.stopTraining || context.interruption != nil { break }
            }
            return Logs(["accuracy": Double(correct) / Double(max(seen, 1)), "loss": lossSum / Double(max(seen, 1))])
        }
    }

    /// Epoch `epoch`'s order of `order.count` samples: the identity, shuffled by a generator
    /// seeded from `seed` and `epoch` alone, so a resumed run does not replay epoch 0's order.
    static func shuffle(_ order: inout [Int], seed: UInt64, epoch: Int) {
        for i in order.indices { order[i] = i }
        var generator = SeededGenerator(seed: (seed ^ 0x5348_5546_464C_4521) &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        order.seededShuffle(using: &generator)
    }

    /// What Keras's `fit` logs for validation data (its `evaluate`): mean categorical
    /// cross-entropy (clipped as Keras clips it, with the regularization penalty as Keras adds
    /// it, unlike scikit-learn's log loss that `Evaluation` reports) and accuracy over `data` in
    /// inference mode; with `auc`, also the exact macro one-vs-rest ROC AUC.
    public static func validate(model: Sequential, data: ImageDataset, batchSize: Int = 128, auc: Bool = false)
        -> (loss: Double, accuracy: Double, auc: Double?)
    {
        let labels = Array(data.labels)
        let probabilities = model.predict(data, batchSize: batchSize)
        let result = probabilities.withUnsafeBufferPointer { p in
            labels.withUnsafeBufferPointer { y in
                CategoricalCrossentropy.loss(probabilities: p.baseAddress!, labels: y.baseAddress!, rows: data.count,
                                             classes: model.outputWidth)
            }
        }
        let count = Double(max(data.count, 1))
        var macro: Double?
        if auc {
            let roc = ROCAUC(scores: probabilities, labels: labels.map(Int.init), classes: model.outputWidth,
                             threads: model.compute.threads)
            macro = ROCAUC.macro(roc.perClass())
        }
        return (result.loss / count + model.regularizationPenalty, Double(result.correct) / count, macro)
    }
}
