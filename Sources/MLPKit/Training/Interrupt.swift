/// Stops training after the current step when asked from outside (Ctrl-C or SIGTERM in
/// `mlp-train`), leaving the model and optimizer as that step left them, so that what was
/// trained so far can be saved and training resumed from it.
public final class Interrupt: Callback {
    private let isRequested: () -> Bool

    /// - Parameters:
    ///   - isRequested: asked after every step; must be cheap and must not allocate.
    public init(isRequested: @escaping () -> Bool) { self.isRequested = isRequested }

    public func batchEnd(_ batch: Int, logs: BatchLogs, _ context: TrainingContext) throws {
        if isRequested() { context.interrupt() }
    }
}
