/// Keras's `ReduceLROnPlateau(verbose=1)` (min_delta 1e-4, no cooldown, no minimum rate by
/// default): multiplies the learning rate by `factor` when the monitored metric has not
/// improved for `patience` epochs, printing Keras's line "Epoch N: ReduceLROnPlateau reducing
/// learning rate to X.", and logs `learning_rate` every epoch.
public final class ReduceLROnPlateau: RegisteredCallback {
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

extension ReduceLROnPlateau {
    public static let options = [
        ExtensionOption.integer("reduce-lr-on-plateau", valueName: "patience", help: "Multiply the learning rate by --reduce-lr-factor when "
            + "--monitor has not improved for PATIENCE epochs (Keras's ReduceLROnPlateau).", range: 0...10_000, unit: "epochs"),
        ExtensionOption.fraction("reduce-lr-factor", valueName: "reduce-lr-factor", help: "The factor of --reduce-lr-on-plateau (above 0, below 1).",
                                 above: 0, below: 1, defaultValue: 0.1),
    ]
    public static let phase = CallbackPhase.steers
    public static let watching: String? = "ReduceLROnPlateau"

    /// A schedule and the plateau would both set the rate.
    public static func check(_ values: ExtensionValues, recipe: TrainingRecipe) throws {
        if recipe.cosineDecay == true {
            throw MLPError.usage("--reduce-lr-on-plateau and --lr-schedule cosine both set the learning rate; use one")
        }
    }

    /// Keras's `ReduceLROnPlateau(monitor, factor, patience)`, its min_delta 1e-4.
    public static func make(_ values: ExtensionValues, setup: CallbackSetup) throws -> Callback {
        ReduceLROnPlateau(monitor: Monitor(setup.monitor.name, mode: setup.monitor.mode, minDelta: 1e-4),
                          factor: values["reduce-lr-factor"]?.number ?? 0.1, patience: values["reduce-lr-on-plateau"]?.int ?? 0, log: setup.log)
    }
}
