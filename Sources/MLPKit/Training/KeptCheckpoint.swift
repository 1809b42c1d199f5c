/// A model's weights and its optimizer's state, copied between steps.
struct TrainingState {
    var weights: [[Float]]
    var slots: [[String: [Float]]]
    var iterations: Int
    var learningRate: Float

    init(model: Sequential, optimizer: Optimizer) {
        weights = model.parameters.map(\.value.array)
        slots = optimizer.slots.map { $0.mapValues(\.array) }
        iterations = optimizer.iterations
        learningRate = optimizer.learningRate
    }

    /// Puts the copied state back into the model and optimizer it was taken from.
    func restore(model: Sequential, optimizer: Optimizer) {
        for (parameter, values) in zip(model.parameters, weights) { parameter.value.assign(values) }
        for (parameterSlots, values) in zip(optimizer.slots, slots) {
            for (name, buffer) in parameterSlots { if let kept = values[name] { buffer.assign(kept) } }
        }
        optimizer.iterations = iterations
        optimizer.learningRate = learningRate
    }
}

/// What a `ModelCheckpoint` saves, kept in memory instead and written once, when training ends
/// (not when it is interrupted): the best epoch's model at the cost of one write instead of one
/// per improvement. For a tuning trial, whose model nothing reads before the trial ends and
/// which runs again from its start when its worker dies, and whose model with Adam's slots can
/// be tens of megabytes.
final class KeptCheckpoint: Callback {
    private var kept: (state: TrainingState, epoch: Int)?
    private let write: (_ context: TrainingContext, _ epoch: Int) throws -> Void

    /// - Parameters:
    ///   - write: writes the model and optimizer as they stand, holding the state of `epoch`.
    init(write: @escaping (_ context: TrainingContext, _ epoch: Int) throws -> Void) {
        self.write = write
    }

    /// The `save` of a `ModelCheckpoint`: keeps the state of `epoch`.
    func keep(_ context: TrainingContext, _ epoch: Int) {
        kept = (TrainingState(model: context.model, optimizer: context.optimizer), epoch)
    }

    func trainBegin(_ context: TrainingContext) throws { kept = nil }

    /// Writes the kept epoch's state, then puts the latest state back: the run's outcome is
    /// its last epoch, as with a checkpoint written along the way.
    func trainEnd(logs: Logs, _ context: TrainingContext) throws {
        guard let kept, context.interruption == nil else { return }
        let latest = TrainingState(model: context.model, optimizer: context.optimizer)
        kept.state.restore(model: context.model, optimizer: context.optimizer)
        defer { latest.restore(model: context.model, optimizer: context.optimizer) }
        try write(context, kept.epoch)
    }
}
