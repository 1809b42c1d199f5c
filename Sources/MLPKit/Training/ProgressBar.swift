import Foundation

/// Keras's progress bar: "Epoch 3/20", then a line per epoch, updated in place on a terminal,
/// "391/391 ━━━━━━━━━━━━━━━━━━━━ 2s 5ms/step - accuracy: 0.1841 - loss: 3.5912", ending with
/// the epoch's logs (validation and learning rate included) in the order they were added.
public final class ProgressBar: Callback {
    private let printer: ProgressPrinter
    private var started = Date()

    public init(printer: ProgressPrinter = .shared) { self.printer = printer }

    public func epochBegin(_ epoch: Int, _ context: TrainingContext) throws {
        print("Epoch \(epoch + 1)/\(context.options.endEpoch)")
        started = Date()
    }

    public func batchEnd(_ batch: Int, logs: BatchLogs, _ context: TrainingContext) throws {
        let steps = context.stepsPerEpoch
        // The line is built only when it is drawn: no allocation on most steps.
        printer.update(progressLine(step: batch + 1, of: steps, seconds: logs.seconds,
                                    metrics: [("accuracy", logs.accuracy), ("loss", logs.loss)]),
                       force: batch + 1 == steps)
    }

    public func epochEnd(_ epoch: Int, logs: inout Logs, _ context: TrainingContext) throws {
        let step = context.stepsPerEpoch
        printer.update(progressLine(step: step, of: step, seconds: Date().timeIntervalSince(started), metrics: Array(logs)),
                       force: true)
        printer.finish()
    }

    public func trainEnd(logs: Logs, _ context: TrainingContext) throws {
        // An interrupted epoch's bar is left as it was drawn.
        printer.finish()
    }
}

/// Keras's progress line: "391/391 ━━━━━━━━━━━━━━━━━━━━ 2s 5ms/step - accuracy: 0.1841 - loss: 3.5912".
/// Values above 1e-3 show with four decimals, smaller ones in scientific notation, as Keras shows them.
public func progressLine(step: Int, of steps: Int, seconds: Double, metrics: [(String, Double)]) -> String {
    let width = String(steps).count
    let counter = String(repeating: " ", count: max(width - String(step).count, 0)) + "\(step)/\(steps)"
    let perStep = seconds / Double(max(step, 1))
    let pace = perStep >= 1 ? "\(Int(perStep.rounded()))s/step"
        : perStep >= 1e-3 ? "\(Int((perStep * 1e3).rounded()))ms/step" : "\(Int((perStep * 1e6).rounded()))us/step"
    let values = metrics.map { " - \($0.0): " + String(format: abs($0.1) > 1e-3 ? "%.4f" : "%.4e", $0.1) }.joined()
    return "\(counter) \(progressBar(Double(step) / Double(max(steps, 1)))) \(Int(seconds.rounded()))s \(pace)\(values)"
}
