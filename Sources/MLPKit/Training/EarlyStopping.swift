/// Keras's `EarlyStopping(restore_best_weights=True, verbose=1)`: stops training when the
/// monitored metric has not improved for `patience` epochs, and at the end of training puts
/// back the weights of the best epoch (every weight, batch-normalization statistics included;
/// the optimizer keeps its latest state, as Keras's does).
///
/// Prints Keras's lines, "Epoch N: early stopping" and "Restoring model weights from the end
/// of the best epoch: N.", epochs counted from 1.
public final class EarlyStopping: RegisteredCallback {
    public let monitor: Monitor
    /// Epochs without improvement after which training stops.
    public let patience: Int
    private let log: (String) -> Void
    private var wait = 0
    private var best: Double?
    private var bestWeights: [[Float]]?
    /// The best epoch so far and the epoch training stopped at (counted from 0; 0 is none).
    public private(set) var bestEpoch = 0
    /// The epoch training stopped after, from 0; 0 when it did not stop early (as Keras).
    public private(set) var stoppedEpoch = 0

    /// - Parameters:
    ///   - log: where Keras's messages go.
    public init(monitor: Monitor, patience: Int, log: @escaping (String) -> Void = { print($0) }) {
        self.monitor = monitor
        self.patience = patience
        self.log = log
    }

    public func trainBegin(_ context: TrainingContext) throws {
        wait = 0
        stoppedEpoch = 0
        best = nil
        bestWeights = nil
        bestEpoch = 0
    }

    public func epochEnd(_ epoch: Int, logs: inout Logs, _ context: TrainingContext) throws {
        guard let current = logs[monitor.name] else { return }
        if bestWeights == nil {
            bestWeights = Self.weights(of: context.model)
            bestEpoch = epoch
        }
        wait += 1
        if monitor.isImprovement(current, over: best) {
            best = current
            bestEpoch = epoch
            bestWeights = Self.weights(of: context.model)
            wait = 0
            return
        }
        if wait >= patience && epoch > 0 {
            stoppedEpoch = epoch
            context.stopTraining = true
        }
    }

    public func trainEnd(logs: Logs, _ context: TrainingContext) throws {
        if stoppedEpoch > 0 { log("Epoch \(stoppedEpoch + 1): early stopping") }
        if context.interruption == nil { context.earlyStopping = (bestEpoch, stoppedEpoch > 0 ? stoppedEpoch : nil) }
        guard let bestWeights, context.interruption == nil else { return }
        log("Restoring model weights from the end of the best epoch: \(bestEpoch + 1).")
        for (parameter, values) in zip(context.model.parameters, bestWeights) { parameter.value.assign(values) }
    }

    static func weights(of model: Sequential) -> [[Float]] { model.parameters.map(\.value.array) }
}

extension EarlyStopping {
    public static let options = [
        ExtensionOption.integer("early-stopping", valueName: "patience", help: "Stop when --monitor has not improved for PATIENCE epochs, and keep "
            + "the best epoch's weights (Keras's EarlyStopping(restore_best_weights=True)).", range: 0...10_000, unit: "epochs"),
    ]
    public static let phase = CallbackPhase.steers
    public static let watching: String? = "early stopping"

    public static func make(_ values: ExtensionValues, setup: CallbackSetup) throws -> Callback {
        EarlyStopping(monitor: setup.monitor, patience: values["early-stopping"]?.int ?? 0, log: setup.log)
    }
}
