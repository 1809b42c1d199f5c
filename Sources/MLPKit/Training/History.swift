/// Keras's `History`: every finished epoch's logs, in order; `Trainer.fit` adds it after the
/// other callbacks and returns it.
public final class History: Callback {
    /// The epochs run, counted from 0.
    public private(set) var epochs: [Int] = []
    /// Each finished epoch's logs, in order (Keras's `history.history`, by epoch).
    public private(set) var logs: [Logs] = []
    /// Seconds each epoch took, training and validation.
    public internal(set) var seconds: [Double] = []
    /// Where training stopped, when it was interrupted in the middle of an epoch.
    public internal(set) var interruption: Interruption?
    /// The epoch early stopping restored and the one it stopped at, counted from 0, when it ran
    /// and training was not interrupted.
    public internal(set) var earlyStopping: (bestEpoch: Int, stoppedEpoch: Int?)?

    public init() {}

    public func epochEnd(_ epoch: Int, logs: inout Logs, _ context: TrainingContext) throws {
        epochs.append(epoch)
        self.logs.append(logs)
    }

    /// Keras's `history.history`: each metric's values by epoch (nil where an epoch lacks it).
    public func values(_ name: String) -> [Double?] { logs.map { $0[name] } }

    /// The metric names of every epoch, in first-seen order.
    public var names: [String] {
        var names: [String] = []
        for entry in logs { for name in entry.names where !names.contains(name) { names.append(name) } }
        return names
    }
}
