import Foundation

/// Every path of a search's folder, in one place: the settings, the trials, and the outputs a
/// search keeps up to date.
public struct SearchFolder: Sendable, Equatable {
    /// The folder, as given.
    public let path: String

    public init(_ path: String) { self.path = path }

    private func file(_ name: String) -> String { path + "/" + name }

    /// The file a search folder holds from its start, so that a folder of other files is never
    /// taken for one.
    public var marker: String { file(".mlp-search") }
    /// `search.json`: the settings the search began with, which every later worker must share.
    public var settings: String { file("search.json") }
    /// The seed a new search drew, kept until its settings are written.
    public var seed: String { file("seed") }
    /// Held while a worker reads the records and decides.
    public var lock: String { file("lock") }
    /// The folder of the trials' folders.
    public var trials: String { file("trials") }
    /// Trial `number`'s folder: its record, claim, model and history.
    public func trial(_ number: Int) -> String { trials + "/" + String(format: "%04d", number) }
    /// The trial number a name in `trials` stands for ("0003" → 3), nil for other names.
    public static func trialNumber(_ name: String) -> Int? { name.allSatisfy(\.isNumber) ? Int(name) : nil }
    public func record(_ number: Int) -> String { trial(number) + "/trial.json" }
    public func claim(_ number: Int) -> String { trial(number) + "/claim" }
    /// The trial's best epoch, with its optimizer state.
    public func model(_ number: Int) -> String { trial(number) + "/model.h5" }
    /// The trial's per-epoch history, in Keras CSVLogger's format.
    public func history(_ number: Int) -> String { trial(number) + "/history.csv" }
    /// A row per trial.
    public var table: String { file("trials.csv") }
    /// The search's chart.
    public var chart: String { file("trials.svg") }
    /// The search as an Optuna journal.
    public var journal: String { file("optuna-journal.log") }
    /// The best trial's model, in `format`.
    public func best(_ format: any RegisteredModelFormat.Type) -> String { file("best." + format.name) }
    /// The best trial's architecture and optimizer as a Keras model config, with the search's record.
    public var bestConfig: String { file("best.json") }
    /// The folds of a cross-validated search (`StratifiedFolds`).
    public var folds: String { file("folds.json") }
    /// The best values retrained on the whole training set, in `format`.
    public func final(_ format: any RegisteredModelFormat.Type) -> String { file("final." + format.name) }
    /// The retraining's per-epoch history.
    public var finalHistory: String { file("final-history.csv") }
    /// Held by the worker that retrains.
    public var finalClaim: String { file("final.claim") }
}
