import Foundation

/// What a registered callback is made with: the run it joins.
public struct CallbackSetup {
    /// What early stopping, checkpoints and ReduceLROnPlateau watch.
    public var monitor: Monitor
    /// What each saved model of the run records; a checkpoint adds its epoch.
    public var record: RunRecord
    /// Whether the run is a trial of a search: a trial's checkpoint is kept in memory and
    /// written once, at its end, since nothing reads it before.
    public var inTrial = false
    /// Where Keras's callback lines go.
    public var log: (String) -> Void

    public init(monitor: Monitor, record: RunRecord, inTrial: Bool = false, log: @escaping (String) -> Void) {
        (self.monitor, self.record, self.inTrial, self.log) = (monitor, record, inTrial, log)
    }
}

/// When a callback runs among the others, after each epoch and at the end.
public enum CallbackPhase: Int, Comparable, Sendable {
    /// Steers training or adds to the logs (early stopping, ReduceLROnPlateau's learning_rate).
    case steers
    /// Writes what happened (checkpoints, history, TensorBoard, charts), after every change.
    case records

    public static func < (a: CallbackPhase, b: CallbackPhase) -> Bool { a.rawValue < b.rawValue }
}

/// A callback that a training run takes by its own command-line options, as Keras's callbacks
/// are added to `fit`. A new callback is one file with a type conforming here, its options
/// included; `Callbacks` finds it.
public protocol RegisteredCallback: Callback {
    /// The options that ask for it, the first of which turns it on: `--early-stopping PATIENCE`.
    static var options: [ExtensionOption] { get }
    /// When it runs among the others.
    static var phase: CallbackPhase { get }
    /// Whether it runs inside a search's trials too; those it does not leave them alone.
    static var appliesInTrials: Bool { get }
    /// How messages name it when it watches the monitor ("early stopping"); nil when it does not.
    static var watching: String? { get }
    /// Whether its options' values are recorded in a saved model's options (an output's path is not).
    static var recordsOptions: Bool { get }
    /// Refuses option values that contradict the rest of the run; by default none do.
    static func check(_ values: ExtensionValues, recipe: TrainingRecipe) throws
    /// The callback the values ask for.
    static func make(_ values: ExtensionValues, setup: CallbackSetup) throws -> Callback
}

extension RegisteredCallback {
    public static var appliesInTrials: Bool { false }
    public static var watching: String? { nil }
    public static var recordsOptions: Bool { true }
    public static func check(_ values: ExtensionValues, recipe: TrainingRecipe) throws {}
    /// The option whose presence turns the callback on.
    static var switchName: String { options[0].name }
}

/// The callbacks that runs take by their options, found at build time from the types conforming
/// to `RegisteredCallback`.
public enum Callbacks {
    /// Every registered callback, in the order they run: by phase, then by name.
    public static var all: [any RegisteredCallback.Type] {
        registered.sorted { ($0.phase, "\($0)") < ($1.phase, "\($1)") }
    }

    /// The callback called `name` (its type's name).
    public static func named(_ name: String) -> (any RegisteredCallback.Type)? { all.first { "\($0)" == name } }

    /// Every callback's options, in `all`'s order.
    public static var options: [ExtensionOption] { all.flatMap { $0.options } }

    /// The callbacks `values` turn on, in the order they run.
    public static func active(in values: ExtensionValues) -> [any RegisteredCallback.Type] {
        all.filter { values[$0.switchName] != nil }
    }

    /// The values of the callbacks that run inside a search's trials.
    public static func forTrials(_ values: ExtensionValues) -> ExtensionValues {
        values.filtered(to: all.filter { $0.appliesInTrials }.flatMap { $0.options })
    }

    /// The callbacks `values` ask for, made for the run `setup` describes.
    public static func make(_ values: ExtensionValues, setup: CallbackSetup) throws -> [Callback] {
        try active(in: values).map { try $0.make(values.filtered(to: $0.options), setup: setup) }
    }

    /// The values a saved model's options record: each recorded option of the callbacks that
    /// run (with its default when left out), by its name in snake case ("early_stopping").
    public static func recordedValues(_ values: ExtensionValues) -> [String: JSONValue] {
        var recorded: [String: JSONValue] = [:]
        for type in active(in: values) where type.recordsOptions {
            for option in type.options {
                if let value = values[option.name] ?? option.defaultValue { recorded[option.name.replacingOccurrences(of: "-", with: "_")] = value }
            }
        }
        return recorded
    }
}
