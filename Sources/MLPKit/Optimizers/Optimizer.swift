/// A Keras optimizer: one update per batch over every trainable parameter, with per-parameter
/// state ("slots") that a saved model carries so that training can go on.
public protocol Optimizer: AnyObject {
    /// Keras's class name ("RMSprop") and its default instance name ("rm_sprop"), which names
    /// the group of its state in a saved model.
    var kerasClassName: String { get }
    var kerasName: String { get }
    /// The class name written to `optimizer_config`, when it must differ from Keras's own.
    var configClassName: String { get }
    /// The rate of the latest step (the schedule's, when there is one).
    var learningRate: Float { get set }
    /// A schedule that sets the learning rate at each step, saved in the config in its place.
    var schedule: LearningRateSchedule? { get set }
    /// Batches applied so far (Keras's `iterations`).
    var iterations: Int { get set }
    /// The slots of each parameter, grouped as Keras creates them: all parameters' slots of the
    /// first group, then all of the second, and so on (e.g. [["velocity"], ["momentum"]]).
    var slotGroups: [[String]] { get }
    /// slots[i][name] is parameter i's slot.
    var slots: [[String: FloatBuffer]] { get set }
    /// Applies one update to `value` in place from `gradient`, for `count` values of parameter
    /// `index`; `step` is the 1-based iteration; large parameters are split over `threads` cores.
    func update(value: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>, count: Int, index: Int, step: Int,
                threads: Int)
    /// The settings Keras stores in `training_config.optimizer_config.config`.
    func kerasConfig() -> [String: JSONValue]
}

extension Optimizer {
    public var configClassName: String { kerasClassName }

    /// Allocates zeroed slots for `parameters` unless they already hold state of the same sizes.
    public func build(for parameters: [Parameter]) {
        let names = slotGroups.flatMap { $0 }
        if slots.count == parameters.count,
           zip(slots, parameters).allSatisfy({ pair in names.allSatisfy { pair.0[$0]?.count == pair.1.count } })
        { return }
        slots = parameters.map { p in Dictionary(uniqueKeysWithValues: names.map { ($0, FloatBuffer(count: p.count)) }) }
    }

    /// One training step over every trainable parameter, split over `threads` cores.
    public func apply(to parameters: [Parameter], threads: Int = 1) {
        beginStep()
        for (index, p) in parameters.enumerated() { update(p, index: index, threads: threads) }
    }

    /// Starts a training step: the schedule's rate for it, and the step counted. The step's
    /// `update`s follow, each parameter's once, in any order (each is its own).
    public func beginStep() {
        if let schedule { learningRate = schedule.rate(at: iterations) }
        iterations += 1
    }

    /// Updates `parameter`, the `index`-th of those the slots were built for, from its gradient,
    /// for the step `beginStep` started; split over `threads` cores.
    @inline(__always)
    public func update(_ parameter: Parameter, index: Int, threads: Int) {
        guard parameter.trainable else { return }
        update(value: parameter.value.pointer, gradient: parameter.gradient.pointer, count: parameter.count, index: index, step: iterations,
               threads: threads)
    }

    /// The optimizer's variables in Keras's order, with Keras 3's names: iteration and
    /// learning_rate (which a schedule replaces: Keras 3 then has no such variable), then each
    /// slot as `<variable path>_<slot>`.
    public func stateNames(variablePaths: [String]) -> [String] {
        var names = schedule == nil ? ["iteration", "learning_rate"] : ["iteration"]
        for group in slotGroups {
            for path in variablePaths {
                for slot in group { names.append(path.replacingSlashes() + "_" + slot) }
            }
        }
        return names
    }

    /// The slot buffers in the order of `stateNames` (after iteration and learning_rate).
    public var orderedSlots: [FloatBuffer] {
        var result: [FloatBuffer] = []
        for group in slotGroups {
            for parameterSlots in slots {
                for slot in group { if let buffer = parameterSlots[slot] { result.append(buffer) } }
            }
        }
        return result
    }

    /// Keras's base optimizer settings that both Keras 2 and Keras 3 accept.
    func baseConfig() -> [String: JSONValue] {
        ["name": .string(kerasName), "learning_rate": schedule?.kerasObject() ?? JSONValue(learningRate)]
    }
}

extension String {
    func replacingSlashes() -> String { String(map { $0 == "/" ? "_" : $0 }) }
}

/// An optimizer that Keras knows by name: `--optimizer` makes it with Keras's defaults, and a
/// saved model's `optimizer_config` rebuilds it. A new optimizer is one file with a type
/// conforming here; `Optimizers` finds it.
public protocol RegisteredOptimizer: Optimizer {
    /// The names `--optimizer` takes for it, as Keras's `compile(optimizer=...)` does: "adam",
    /// "adamw" (one class may serve variants with their own defaults).
    static var names: [String] { get }
    /// A fresh optimizer of variant `name`, with Keras's defaults.
    static func make(name: String) -> Optimizer
    /// The optimizer an `optimizer_config` of class `className` (lowercased, without a module
    /// prefix) describes; nil when the class is not this type's; a reason for a setting it
    /// does not run.
    static func make(className: String, config: [String: JSONValue]) -> (Optimizer?, String?)?
}

/// The optimizers, found at build time from the types conforming to `RegisteredOptimizer`.
public enum Optimizers {
    /// Every optimizer type, by its first name.
    public static var all: [any RegisteredOptimizer.Type] { registered.sorted { $0.names[0] < $1.names[0] } }

    /// The optimizer type `--optimizer NAME` makes.
    public static func named(_ name: String) -> (any RegisteredOptimizer.Type)? { all.first { $0.names.contains(name) } }

    /// Every name `--optimizer` takes, in alphabetical order.
    public static var names: [String] { all.flatMap { $0.names }.sorted() }

    /// A fresh optimizer called `name`, with Keras's defaults; nil for an unknown name.
    public static func make(_ name: String) -> Optimizer? { named(name)?.make(name: name) }

    /// The optimizer of a config's class, or why there is none.
    static func make(className: String, config: [String: JSONValue]) -> (Optimizer?, String?) {
        for type in all { if let made = type.make(className: className.lowercased(), config: config) { return made } }
        return (nil, "optimizer \(className) is not supported (supported: \(names.joined(separator: ", ")))")
    }
}

/// An optimizer's name as `--optimizer` and search spaces take it: one `Optimizers` knows.
public struct OptimizerKind: RawRepresentable, Hashable, Sendable {
    public let rawValue: String

    public init?(rawValue: String) {
        guard Optimizers.names.contains(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// Keras's notebook default.
    public static let rmsprop = OptimizerKind(rawValue: "rmsprop")!

    /// Every name, in alphabetical order.
    public static var allCases: [OptimizerKind] { Optimizers.names.compactMap(OptimizerKind.init(rawValue:)) }

    /// A fresh optimizer with Keras's defaults, and `learningRate` when given.
    public func make(learningRate: Float? = nil) -> Optimizer {
        let optimizer = Optimizers.make(rawValue)!
        if let learningRate { optimizer.learningRate = learningRate }
        return optimizer
    }
}
