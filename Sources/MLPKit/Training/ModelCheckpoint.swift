/// Keras's `ModelCheckpoint(save_best_only=True, verbose=1)`: after each epoch whose monitored
/// metric improves on the best so far, saves the model (atomically, through `save`), printing
/// Keras's lines "Epoch N: val_loss improved from X to Y, saving model to FILE" and "Epoch N:
/// finished saving model to FILE", or "Epoch N: val_loss did not improve from X".
public final class ModelCheckpoint: RegisteredCallback {
    /// Where the best model so far is saved (`.h5` or `.keras`).
    public let path: String
    public let monitor: Monitor
    private let save: (_ context: TrainingContext, _ epoch: Int) throws -> Void
    private let log: (String) -> Void
    private var best: Double?
    /// The epochs saved, counted from 0.
    public private(set) var savedEpochs: [Int] = []

    /// - Parameters:
    ///   - save: writes the model to `path`; called with the epoch it holds.
    public init(path: String, monitor: Monitor, log: @escaping (String) -> Void = { print($0) },
                save: @escaping (_ context: TrainingContext, _ epoch: Int) throws -> Void) {
        self.path = path
        self.monitor = monitor
        self.log = log
        self.save = save
    }

    /// Keeps the best epoch in memory and writes it at the end (a search's trial).
    private var kept: KeptCheckpoint?

    public func trainBegin(_ context: TrainingContext) throws {
        best = nil
        savedEpochs = []
        try kept?.trainBegin(context)
    }

    public func trainEnd(logs: Logs, _ context: TrainingContext) throws { try kept?.trainEnd(logs: logs, context) }

    public func epochEnd(_ epoch: Int, logs: inout Logs, _ context: TrainingContext) throws {
        guard let current = logs[monitor.name] else { return }
        let bestText = best.map { format5($0) } ?? "None"
        guard monitor.isImprovement(current, over: best) else {
            log("Epoch \(epoch + 1): \(monitor.name) did not improve from \(bestText)")
            return
        }
        log("Epoch \(epoch + 1): \(monitor.name) improved from \(bestText) to \(format5(current)), saving model to \(path)")
        best = current
        try save(context, epoch)
        savedEpochs.append(epoch)
        log("Epoch \(epoch + 1): finished saving model to \(path)")
    }

    private func format5(_ x: Double) -> String {
        x.isFinite ? String(format: "%.5f", x) : pythonFloat(x)
    }
}

extension ModelCheckpoint {
    public static let flag = "checkpoint"
    public static let options = [
        ExtensionOption.output(flag, help: "Save the best model so far here (.keras or .h5) after each epoch that improves --monitor "
            + "(Keras's ModelCheckpoint(save_best_only=True)).", formats: ModelFormats.writableExtensions),
    ]
    public static let phase = CallbackPhase.records
    public static let watching: String? = "the checkpoint"
    public static let recordsOptions = false

    /// Saves the run's model with its record, its epoch added; in a search's trial, once, at the
    /// end, the best epoch having been kept in memory.
    public static func make(_ values: ExtensionValues, setup: CallbackSetup) throws -> Callback {
        let path = values[flag]?.string ?? ""
        let write = { (context: TrainingContext, epoch: Int) throws in
            var record = setup.record
            record.epochsCompleted = epoch + 1
            record.checkpointOfEpoch = epoch + 1
            try ModelFile.save(CompiledModel(model: context.model, optimizer: context.optimizer, record: record), to: path)
        }
        guard setup.inTrial else { return ModelCheckpoint(path: path, monitor: setup.monitor, log: setup.log, save: write) }
        let kept = KeptCheckpoint(write: write)
        let checkpoint = ModelCheckpoint(path: path, monitor: setup.monitor, log: setup.log) { context, epoch in kept.keep(context, epoch) }
        checkpoint.kept = kept
        return checkpoint
    }
}
