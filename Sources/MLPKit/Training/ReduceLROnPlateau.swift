/// Keras's `ReduceLROnPlateau(verbose=1)` (min_delta 1e-4, no cooldown, no minimum rate by
/// default): multiplies the learning rate by `factor` when the monitored metric has not
/// improved for `patience` epochs, printing Keras's line "Epoch N: ReduceLROnPlateau reducing
/// learning rate to X.", and logs `learning_rate` every epoch.
public final class ReduceLROnPlateau: Callback {
    public let monitor: Monitor
    /// The rate is multiplied by this when the monitor has not improved for `patience` epochs, then left alone
    /// for `cooldown` epochs, never going below `minimumRate` (Keras's `min_lr`).
    public let factor: Double
    public let patience: Int
    public let cooldown: Int
    public let minimumRate: Double
    private let log: (String) -> Void
    private var best: Double?
    private var wait = 0
    private var cooldownCounter = 0

    /// - Parameters:
    ///   - factor: below 1.
    ///   - log: where Keras's message goes.
    public init(monitor: Monitor = Monitor("val_loss", minDelta: 1e-4), factor: Double = 0.1, patience: Int = 10,
                cooldown: Int = 0, minimumRate: Double = 0, log: @escaping (String) -> Void = { print($0) }) {
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.cooldown = cooldown
        self.minimumRate = minimumRate
        self.log = log
    }

    public func trainBegin(_ context: TrainingContext) throws {
        best = nil
        wait = 0
        cooldownCounter = 0
    }

    public func epochEnd(_ epoch: Int, logs: inout Logs, _ context: TrainingContext) throws {
        logs["learning_rate"] = Double(context.learningRate)
        guard let current = logs[monitor.name] else { return }
        if cooldownCounter > 0 {
            cooldownCounter -= 1
            wait = 0
        }
        if monitor.isImprovement(current, over: best) {
            best = current
            wait = 0
        } else if cooldownCounter == 0 {
            wait += 1
            guard wait >= patience else { return }
            // As Keras: the float32 rate read as a double, times the factor.
            let old = Double(context.learningRate)
            guard old > Double(Float(minimumRate)) else { return }
            let new = max(old * factor, minimumRate)
            guard context.setLearningRate(Float(new)) else { return }
            log("Epoch \(epoch + 1): ReduceLROnPlateau reducing learning rate to \(pythonFloat(new)).")
            cooldownCounter = cooldown
            wait = 0
        }
    }
}
