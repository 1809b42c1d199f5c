import Foundation

/// Writes the history to a file after every epoch, so a long run's log survives it, a failed
/// run's included (nothing waits to be written when an epoch ends): as Keras's `CSVLogger`
/// writes it when the name ends in `.csv`, and as this toolchain's JSON otherwise. Each write
/// replaces the whole file atomically, so the file is never half-written.
public final class HistoryFile: RegisteredCallback {
    public let path: String
    private var epochs: [Int] = []
    private var logs: [Logs] = []
    private var seconds: [Double] = []
    private var started = Date()

    public init(path: String) { self.path = path }

    /// Whether the path ends in `.csv` (Keras CSVLogger's format); JSON otherwise.
    public var isCSV: Bool { path.lowercased().hasSuffix(".csv") }

    public func epochBegin(_ epoch: Int, _ context: TrainingContext) throws { started = Date() }

    public func epochEnd(_ epoch: Int, logs: inout Logs, _ context: TrainingContext) throws {
        epochs.append(epoch)
        self.logs.append(logs)
        seconds.append(Date().timeIntervalSince(started))
        let text = isCSV ? Self.csv(epochs: epochs, logs: self.logs) : Self.json(epochs: epochs, logs: self.logs, seconds: seconds)
        try AtomicFile.write(Data(text.utf8), to: path)
    }

    /// Keras CSVLogger's file: a header of `epoch` and the first epoch's metric names sorted
    /// (with a `val_` twin of each when there is no validation metric), then a row per epoch,
    /// the epoch counted from 0, floats as Python prints them, "NA" where a metric is missing,
    /// each line ended by "\r\n" (Python's csv "excel" dialect).
    public static func csv(epochs: [Int], logs: [Logs]) -> String {
        guard let first = logs.first else { return "" }
        var keys = first.names.sorted()
        if !keys.contains(where: { $0.hasPrefix("val_") }), !keys.isEmpty { keys += keys.map { "val_" + $0 } }
        func field(_ text: String) -> String {
            text.contains(where: { ",\"\r\n".contains($0) }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        var lines = [(["epoch"] + keys).map(field).joined(separator: ",")]
        for (epoch, entry) in zip(epochs, logs) {
            lines.append(([String(epoch)] + keys.map { entry[$0].map(pythonFloat) ?? "NA" }).joined(separator: ","))
        }
        return lines.map { $0 + "\r\n" }.joined()
    }

    /// This toolchain's JSON history: each metric's values by epoch, the epochs counted from 0
    /// as Keras's `History.epoch` and CSVLogger count them, with the seconds each took.
    public static func json(epochs: [Int], logs: [Logs], seconds: [Double]) -> String {
        var object: [String: JSONValue] = ["epoch": JSONValue(epochs), "seconds": .array(seconds.map(JSONValue.double))]
        var names: [String] = []
        for entry in logs { for name in entry.names where !names.contains(name) { names.append(name) } }
        for name in names { object[name] = .array(logs.map { $0[name].map { JSONValue(finite: $0) } ?? .null }) }
        return JSONValue.object(object).text
    }
}

extension HistoryFile {
    public static let flag = "history"
    public static let options = [
        ExtensionOption.output(flag, help: "Write the per-epoch history after every epoch: Keras's CSVLogger format for a .csv name, JSON "
            + "for a .json name.", formats: OutputName.history),
    ]
    public static let phase = CallbackPhase.records
    public static let recordsOptions = false

    public static func make(_ values: ExtensionValues, setup: CallbackSetup) throws -> Callback {
        HistoryFile(path: values[flag]?.string ?? "")
    }
}
