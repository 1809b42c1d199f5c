import Foundation

/// How `Trainer.fit` runs, as Keras's `fit` arguments.
public struct TrainingOptions: Sendable {
    public var epochs: Int
    public var batchSize: Int
    /// Seeds the per-epoch shuffle (the model's initial weights have their own seed).
    public var seed: UInt64

    public init(epochs: Int = 5, batchSize: Int = 128, seed: UInt64 = 0) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
    }
}

/// Keras's per-epoch log: the means over the epoch's samples, and validation when given.
public struct EpochLog: Sendable {
    public var epoch: Int
    public var loss: Double
    public var accuracy: Double
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    public var seconds: Double
    public var steps: Int
}

/// What `fit` reports while it runs.
public enum TrainingEvent {
    case epochStarted(epoch: Int, of: Int)
    case step(step: Int, of: Int, seconds: Double, loss: Double, accuracy: Double)
    case epochEnded(EpochLog)
    /// `shouldStop` asked to stop: training ended after `step` of `of` in `epoch`, and that
    /// epoch is not in the returned logs.
    case stopped(epoch: Int, step: Int, of: Int)
}

public enum Trainer {
    /// Trains `model` with `optimizer` on categorical cross-entropy, shuffling the samples each
    /// epoch, as Keras's `fit(shuffle=True)`; evaluates `validation` after each epoch.
    ///
    /// `shouldStop` is asked after every step; when it says yes, training ends there, leaving
    /// the model and the optimizer as that step left them, and the logs of the whole epochs.
    public static func fit(
        model: Sequential, optimizer: Optimizer, train: ImageDataset, validation: ImageDataset? = nil,
        options: TrainingOptions, shouldStop: () -> Bool = { false }, report: (TrainingEvent) -> Void = { _ in }
    ) throws -> [EpochLog] {
        if let layer = model.layers.first(where: { !$0.supportsTraining }) {
            throw MLPError.model("layer '\(layer.name)' (\(layer.kerasClassName)) runs in inference mode only and cannot be trained")
        }
        guard train.count > 0 else { throw MLPError.usage("no training samples") }
        flushDenormalsToZero()
        let batch = min(options.batchSize, train.count)
        let features = train.featureCount
        let x = FloatBuffer(count: batch * features)
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: batch)
        defer { labels.deallocate() }
        model.reserve(rows: batch)
        let parameters = model.trainableParameters
        optimizer.build(for: parameters)
        var shuffler = SeededGenerator(seed: options.seed ^ 0x5348_5546_464C_4521)
        var order = Array(0..<train.count)
        let steps = (train.count + batch - 1) / batch
        var logs: [EpochLog] = []

        for epoch in stride(from: 1, through: options.epochs, by: 1) {
            report(.epochStarted(epoch: epoch, of: options.epochs))
            let started = Date()
            order.seededShuffle(using: &shuffler)
            var lossSum = 0.0, correct = 0, seen = 0
            for step in 0..<steps {
                let range = (step * batch)..<min((step + 1) * batch, train.count)
                train.fill(order[range], into: x.pointer, labels: labels)
                let result = model.computeGradients(x.pointer, labels: labels, rows: range.count)
                optimizer.apply(to: parameters)
                lossSum += result.loss
                correct += result.correct
                seen += range.count
                report(.step(step: step + 1, of: steps, seconds: Date().timeIntervalSince(started),
                             loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen)))
                if shouldStop() {
                    report(.stopped(epoch: epoch, step: step + 1, of: steps))
                    return logs
                }
            }
            guard lossSum.isFinite else {
                throw MLPError.model("training diverged in epoch \(epoch): the loss is \(lossSum); lower --learning-rate")
            }
            var log = EpochLog(epoch: epoch, loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen),
                               seconds: Date().timeIntervalSince(started), steps: steps)
            if let validation, validation.count > 0 {
                let result = evaluate(model: model, data: validation, batchSize: batch)
                log.validationLoss = result.loss
                log.validationAccuracy = result.accuracy
            }
            logs.append(log)
            report(.epochEnded(log))
        }
        return logs
    }

    /// Mean categorical cross-entropy and accuracy over `data`, in inference mode.
    public static func evaluate(model: Sequential, data: ImageDataset, batchSize: Int = 128) -> (loss: Double, accuracy: Double) {
        var lossSum = 0.0, correct = 0
        let labels = Array(data.labels)
        let probabilities = predict(model: model, data: data, batchSize: batchSize)
        probabilities.withUnsafeBufferPointer { p in
            labels.withUnsafeBufferPointer { y in
                let result = CategoricalCrossentropy.loss(probabilities: p.baseAddress!, labels: y.baseAddress!,
                                                          rows: data.count, classes: model.outputWidth)
                lossSum = result.loss
                correct = result.correct
            }
        }
        return (lossSum / Double(max(data.count, 1)), Double(correct) / Double(max(data.count, 1)))
    }

    /// The model's outputs for every sample of `data`, (count, outputWidth) row-major.
    public static func predict(model: Sequential, data: ImageDataset, batchSize: Int = 128) -> [Float] {
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: batchSize)
        defer { labels.deallocate() }
        return model.predict(count: data.count, batchSize: batchSize) { start, rows, buffer in
            data.fill(start..<(start + rows), into: buffer, labels: labels)
        }
    }
}

/// Keras's progress line: "391/391 ━━━━━━━━━━━━━━━━━━━━ 2s 5ms/step - accuracy: 0.1841 - loss: 3.5912".
public func kerasProgressLine(step: Int, of steps: Int, seconds: Double, metrics: [(String, Double)]) -> String {
    let width = String(steps).count
    let counter = String(repeating: " ", count: max(width - String(step).count, 0)) + "\(step)/\(steps)"
    let perStep = seconds / Double(max(step, 1))
    let pace = perStep >= 1 ? "\(Int(perStep.rounded()))s/step"
        : perStep >= 1e-3 ? "\(Int((perStep * 1e3).rounded()))ms/step" : "\(Int((perStep * 1e6).rounded()))us/step"
    let values = metrics.map { " - \($0.0): " + String(format: "%.4f", $0.1) }.joined()
    return "\(counter) \(progressBar(Double(step) / Double(max(steps, 1)))) \(Int(seconds.rounded()))s \(pace)\(values)"
}
