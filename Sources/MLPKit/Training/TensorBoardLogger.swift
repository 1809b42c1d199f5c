import Foundation

/// Keras's `TensorBoard` callback, for the epoch scalars: after each epoch, its logs as
/// `epoch_<name>` at step = epoch (from 0), the training metrics and `epoch_learning_rate` in
/// `DIR/train`, the `val_` ones (without the prefix) in `DIR/validation`, each folder holding one
/// event file of this run.
public final class TensorBoardLogger: RegisteredCallback {
    public let directory: String
    private var train: TensorBoardEventFile?
    private var validation: TensorBoardEventFile?

    public init(directory: String) { self.directory = directory }

    /// The run folders Keras's callback writes into.
    public var trainDirectory: String { (directory as NSString).appendingPathComponent("train") }
    public var validationDirectory: String { (directory as NSString).appendingPathComponent("validation") }

    public func trainBegin(_ context: TrainingContext) throws {
        train = try TensorBoardEventFile(directory: trainDirectory)
    }

    public func epochEnd(_ epoch: Int, logs: inout Logs, _ context: TrainingContext) throws {
        let now = Date().timeIntervalSince1970
        var trainScalars: [(String, Double)] = [], validationScalars: [(String, Double)] = []
        for (name, value) in logs {
            if name.hasPrefix("val_") { validationScalars.append(("epoch_" + name.dropFirst(4), value)) } else { trainScalars.append(("epoch_" + name, value)) }
        }
        if logs["learning_rate"] == nil { trainScalars.append(("epoch_learning_rate", Double(context.learningRate))) }
        if train == nil { train = try TensorBoardEventFile(directory: trainDirectory) }
        for (tag, value) in trainScalars {
            try train?.write(TensorBoardEvent.scalar(tag: tag, value: Float(value), step: epoch, wallTime: now))
        }
        guard !validationScalars.isEmpty else { return }
        if validation == nil { validation = try TensorBoardEventFile(directory: validationDirectory) }
        for (tag, value) in validationScalars {
            try validation?.write(TensorBoardEvent.scalar(tag: tag, value: Float(value), step: epoch, wallTime: now))
        }
    }
}

extension TensorBoardLogger {
    public static let flag = "tensorboard"
    public static let options = [
        ExtensionOption.text(flag, valueName: "dir", help: "Log the epoch scalars for TensorBoard, as Keras's TensorBoard callback does: "
            + "event files in DIR/train and DIR/validation.", writes: true),
    ]
    public static let phase = CallbackPhase.records
    public static let recordsOptions = false

    public static func make(_ values: ExtensionValues, setup: CallbackSetup) throws -> Callback {
        TensorBoardLogger(directory: values[flag]?.string ?? "")
    }
}
