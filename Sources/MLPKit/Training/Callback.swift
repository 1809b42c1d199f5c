import Foundation

/// Metric values by Keras's names (`loss`, `accuracy`, `val_loss`, `val_accuracy`, `val_auc`,
/// `learning_rate`), in the order they were added, which is the order Keras's progress bar
/// shows them in.
public struct Logs: Sendable, Equatable, Sequence {
    /// Metric names and their values, in the order added.
    public private(set) var names: [String] = []
    public private(set) var values: [Double] = []

    public init() {}

    public init(_ pairs: KeyValuePairs<String, Double>) {
        for (name, value) in pairs { self[name] = value }
    }

    /// The value of `name`; setting a present name replaces its value in place, setting nil removes it.
    public subscript(name: String) -> Double? {
        get { names.firstIndex(of: name).map { values[$0] } }
        set {
            if let index = names.firstIndex(of: name) {
                if let newValue { values[index] = newValue } else {
                    names.remove(at: index)
                    values.remove(at: index)
                }
            } else if let newValue {
                names.append(name)
                values.append(newValue)
            }
        }
    }

    public func makeIterator() -> Zip2Sequence<[String], [Double]>.Iterator { zip(names, values).makeIterator() }
}

/// What a batch end reports: the running means of the epoch so far, as Keras's batch logs.
public struct BatchLogs: Sendable {
    public var loss: Double
    public var accuracy: Double
    /// Seconds since the epoch began.
    public var seconds: Double
}

/// Where training stopped when it was interrupted in the middle of an epoch.
public struct Interruption: Sendable, Equatable, CustomStringConvertible {
    /// The epoch, counted from 0.
    public var epoch: Int
    /// Steps of that epoch done.
    public var step: Int
    /// Steps in that epoch.
    public var steps: Int

    /// "epoch 3, step 12 of 19", the epoch counted from 1 as Keras prints it.
    public var description: String { "epoch \(epoch + 1), step \(step) of \(steps)" }
}

/// A hook into `Trainer.fit`, as Keras's `keras.callbacks.Callback`. Epochs count from 0 and
/// batches from 0, as Keras counts them. Every hook has a default that does nothing.
public protocol Callback: AnyObject {
    func trainBegin(_ context: TrainingContext) throws
    func epochBegin(_ epoch: Int, _ context: TrainingContext) throws
    /// After each step; called in the batch loop, so it must not allocate on every call.
    func batchEnd(_ batch: Int, logs: BatchLogs, _ context: TrainingContext) throws
    /// After each epoch, with its logs, which a callback may add to (as ReduceLROnPlateau adds
    /// `learning_rate`); the callbacks after it see the additions.
    func epochEnd(_ epoch: Int, logs: inout Logs, _ context: TrainingContext) throws
    /// Once, when training ends for any reason but an error; `logs` are the last epoch's.
    func trainEnd(logs: Logs, _ context: TrainingContext) throws
}

extension Callback {
    public func trainBegin(_ context: TrainingContext) throws {}
    public func epochBegin(_ epoch: Int, _ context: TrainingContext) throws {}
    public func batchEnd(_ batch: Int, logs: BatchLogs, _ context: TrainingContext) throws {}
    public func epochEnd(_ epoch: Int, logs: inout Logs, _ context: TrainingContext) throws {}
    public func trainEnd(logs: Logs, _ context: TrainingContext) throws {}
}

/// What callbacks see of a running `fit`, and how they steer it: Keras's `self.model` with its
/// `stop_training` and its optimizer's learning rate.
public final class TrainingContext {
    public let model: Sequential
    public let optimizer: Optimizer
    /// The batch size and compute options `fit` runs with.
    public let options: TrainingOptions
    /// Gradient steps in an epoch: the training samples over the batch size, rounded up.
    public let stepsPerEpoch: Int
    /// The epoch running, counted from 0.
    public internal(set) var epoch: Int
    /// Keras's `model.stop_training`: once set, training ends after the current batch and the
    /// end of its epoch.
    public var stopTraining = false
    /// Set by `interrupt()`: training ends after the current batch, and that unfinished epoch
    /// is not logged.
    public private(set) var interruption: Interruption?
    /// Steps of the current epoch done.
    var step = 0
    /// What early stopping settled on at the end of an uninterrupted run: the epoch whose
    /// weights it restored and the one it stopped at, counted from 0.
    public internal(set) var earlyStopping: (bestEpoch: Int, stoppedEpoch: Int?)?

    /// A context for `fit`, or for driving callbacks by hand.
    public init(model: Sequential, optimizer: Optimizer, options: TrainingOptions, stepsPerEpoch: Int) {
        self.model = model
        self.optimizer = optimizer
        self.options = options
        self.stepsPerEpoch = stepsPerEpoch
        epoch = options.initialEpoch
    }

    /// The optimizer's learning rate; setting it is refused while a schedule drives it.
    public var learningRate: Float { optimizer.learningRate }

    /// Sets the learning rate (ReduceLROnPlateau); false when a schedule drives it.
    @discardableResult
    public func setLearningRate(_ rate: Float) -> Bool {
        guard optimizer.schedule == nil else { return false }
        optimizer.learningRate = rate
        return true
    }

    /// Stops training after the current batch, leaving the model and optimizer as it left
    /// them (Ctrl-C).
    public func interrupt() {
        interruption = Interruption(epoch: epoch, step: step, steps: stepsPerEpoch)
        stopTraining = true
    }
}
